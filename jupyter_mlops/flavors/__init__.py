"""Model flavors: how each library's models are recognised, described and saved as MLflow models.

A flavor knows one library: which objects are its fitted models, their own hyperparameters,
how many features (and which names) they expect, how they predict in memory, and how MLflow's
own flavor for that library saves them (``mlflow.xgboost.save_model``...). The tracked cell asks
the registry (``flavors.registry``) which flavor an object has; the sync agent asks it again to
build the MLmodel folder. Add one from another package under the ``jupyter_mlops.flavors``
entry-point group (see ``flavors.protocol``).
"""
