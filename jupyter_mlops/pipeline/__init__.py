"""Notebooks as cached, swept, parallel build steps (mlops.yaml, papermill, MLflow runs).

``jupyter_mlops.build(...)`` runs the pipeline; ``log_step_metrics(...)`` is what a step notebook
calls to report a metric to its step or sweep trial.
"""

from __future__ import annotations

from .step_metrics import log_step_metrics

__all__ = ["log_step_metrics"]
