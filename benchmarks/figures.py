"""What every benchmark shares: it prints its figures and nothing else.

Each ``benchmarks/bench_*.py`` calls ``quiet()`` before it runs: MLflow's table creation and
migration lines go to the debug log as they do in the product (``jupyter_mlops.quiet``), and
MLflow's other INFO and WARNING lines (the scikit-learn pickle notice, say) and library warnings
stay out of the output, in the benchmark's process and in the processes it starts.
"""

from __future__ import annotations

import logging
import os
import warnings

from jupyter_mlops.quiet import quiet_mlflow


def quiet() -> None:
    quiet_mlflow()
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")  # read by MLflow in every process
    os.environ.setdefault("PYTHONWARNINGS", "ignore")  # for the processes a benchmark starts
    warnings.simplefilter("ignore")
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
