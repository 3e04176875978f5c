"""Handing the project to the engines production runs on, as pure functions of mlops.yaml and
the registry: Kubernetes and KServe manifests (``deploy``), Argo, Airflow and Kubeflow pipelines
(``export``), pull-request reports (``ci``) and batch scoring (``score``). Every cluster step runs
this project's own CLI, so caching, tracking and gates behave there as on a laptop.
"""
