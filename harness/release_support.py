"""Test helpers for the release and serving tests: runs carrying real MLflow logged models.

Built with the explicit MlflowClient (never the fluent API), the way the tracker logs models:
``mlflow.sklearn.save_model`` with pinned requirements, then a logged model linked to its run as a
model output.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FEATURES = ["age", "income", "tenure", "group"]


def make_data(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A small binary problem with a sensitive column ``group`` (0/1)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.normal(50, 15, n),
            "tenure": rng.integers(0, 20, n).astype("float64"),
            "group": rng.integers(0, 2, n).astype("int64"),
        }
    )
    logit = 0.08 * (df["age"] - 40) + 0.06 * (df["income"] - 50) + 0.1 * (df["tenure"] - 10)
    df["label"] = (logit + rng.normal(0, 0.5, n) > 0).astype("int64")
    return df


def fit_model(df: pd.DataFrame, kind: str = "good") -> Any:
    """``good``: a fair, accurate model; ``bad``: a near-constant one; ``unfair``: uses ``group``."""
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = df[FEATURES], df["label"]
    if kind == "good":
        return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    if kind == "bad":
        return DummyClassifier(strategy="constant", constant=0).fit(X, y)
    if kind == "unfair":
        # taught that group 1 never churns: it always says 0 there
        y_biased = np.where(df["group"] == 1, 0, y)
        return make_pipeline(StandardScaler(), LogisticRegression(C=100)).fit(X, y_biased)
    raise ValueError(kind)


def log_model_run(ws: Any, model: Any, df: pd.DataFrame, *, name: str = "train") -> tuple[str, str]:
    """A finished run with ``model`` logged as an MLflow logged model: (run_id, model_id)."""
    import mlflow.sklearn
    from mlflow.entities import LoggedModelOutput
    from mlflow.models import infer_signature

    from jupyter_mlops.store.client import client_for, experiment_id

    client = client_for(ws)
    exp = experiment_id(ws)
    run = client.create_run(exp, run_name=name, tags={"mlops.kind": "cell"})
    run_id = run.info.run_id
    X = df[FEATURES]
    client.log_param(run_id, "kind", type(model).__name__)
    lm = client.create_logged_model(exp, name="model", source_run_id=run_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model"
        mlflow.sklearn.save_model(
            model,
            str(path),
            serialization_format="cloudpickle",
            signature=infer_signature(X.head(20), model.predict(X.head(20))),
            input_example=X.head(3),
            pip_requirements=["scikit-learn", "cloudpickle", "pandas", "numpy"],
        )
        client.log_model_artifacts(lm.model_id, str(path))
    client.finalize_logged_model(lm.model_id, "READY")
    client.log_outputs(run_id, [LoggedModelOutput(model_id=lm.model_id, step=0)])
    client.set_terminated(run_id, "FINISHED")
    return run_id, lm.model_id


def registered(
    ws: Any, name: str = "churn", kinds: tuple[str, ...] = ("good", "good")
) -> pd.DataFrame:
    """Register one version per ``kinds`` entry (gates marked passed); returns the data used."""
    from jupyter_mlops.release.registration import register
    from jupyter_mlops.store.client import client_for
    from jupyter_mlops.store.gateway import gateway_for

    df = make_data()
    for kind in kinds:
        run_id, _ = log_model_run(ws, fit_model(df, kind), df, name=f"train-{kind}")
        mv = register(gateway_for(ws), run_id, name)
        client_for(ws).set_model_version_tag(name, mv.version, "mlops.gates", "passed")
    return df
