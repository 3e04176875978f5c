"""A small loop project for the loop tests: one notebook step that trains on every CSV of
``data/``, cheap gates, a protected champion, and a drift alert; plus drifted data and
processes (the router, the loop) started the way a person would start them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from notebook_support import make_notebook
from release_support import FEATURES
from team_server_support import stop_gracefully
from waiting import wait_until

from jupyter_mlops.store.gateway import gateway_for

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

PROJECT = """\
project: loop-test
steps:
  train:
    notebook: train.ipynb
    inputs: [data/]
release:
  model: churn
  evaluation: {{path: eval.csv, target: label}}
  gates: {{metrics: {{accuracy: {{min: {min_accuracy}}}}}, signature: true}}
  approvals: {{champion: {{approvers: [alice], not_self: true}}}}
monitor:
  drift: {{psi: 0.2, ks: 0.2, min_rows: 30}}
  canary: {{window: 5m, min_requests: 15, max_prediction_psi: 50,
           min_latency_p95_increase_ms: 10000, interval: 1s}}
loop:
  poll: 1s
  triggers:
    drift: {{alert: input_drift, window: 1m}}
  cycle: {{canary_weight: 50, watch: 2s}}
"""

TRAIN = textwrap.dedent(
    """\
    %load_ext jupyter_mlops
    import glob
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    frame = pd.concat([pd.read_csv(p) for p in sorted(glob.glob("data/*.csv"))])
    """
)
TRACKED = textwrap.dedent(
    """\
    %%mlops track --name train --metrics accuracy
    X, y = frame[FEATURES], frame["label"]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C)).fit(X, y)
    accuracy = float(model.score(X, y))
    """
).replace("FEATURES", repr(FEATURES))


def labelled(n: int, seed: int, age_shift: float = 0.0) -> pd.DataFrame:
    """Rows of release_support's problem; ``age_shift`` moves ages (the label follows)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "age": rng.normal(40 + age_shift, 10, n),
            "income": rng.normal(50, 15, n),
            "tenure": rng.integers(0, 20, n).astype("float64"),
            "group": rng.integers(0, 2, n).astype("int64"),
        }
    )
    logit = 0.08 * (df["age"] - 40 - age_shift) + 0.06 * (df["income"] - 50)
    logit += 0.1 * (df["tenure"] - 10)
    df["label"] = (logit + rng.normal(0, 0.5, n) > 0).astype("int64")
    return df


def write_project(root: Path, *, min_accuracy: float = 0.7) -> None:
    (root / "mlops.yaml").write_text(PROJECT.format(min_accuracy=min_accuracy))
    (root / "data").mkdir(exist_ok=True)
    labelled(300, seed=0).to_csv(root / "data" / "base.csv", index=False)
    labelled(200, seed=3).to_csv(root / "eval.csv", index=False)
    make_notebook(root / "train.ipynb", "C = 1.0", TRAIN, TRACKED)


def drifted_rows(n: int = 150, seed: int = 7) -> list[dict]:
    """Live requests whose ages moved by 25 years: what the drift alert must notice."""
    return labelled(n, seed, age_shift=25.0)[FEATURES].to_dict(orient="records")


def process_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@contextmanager
def process(args: list[str], cwd: Path, log: Path, **env: str):
    """A ``jupyter-mlops`` process of this environment, its output in ``log``; stopped (SIGTERM,
    then SIGKILL) at the end."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "jupyter-mlops"), *args],
            cwd=cwd,
            env=process_env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield proc
    finally:
        stop_gracefully(proc, timeout=20)


def first_champion(ws, approver: str = "alice") -> str:
    """The champion the loop starts from: a model of the base data (its training data logged,
    so drift is measured against it), gated, approved and promoted as a person would."""
    from release_support import fit_model, log_model_run

    from jupyter_mlops.datasets.api import log_dataset
    from jupyter_mlops.release.approvals import decide
    from jupyter_mlops.release.registration import register
    from jupyter_mlops.release.rollout import promote
    from jupyter_mlops.release.validation import validate

    df = pd.read_csv(ws.root / "data" / "base.csv")
    run_id, _ = log_model_run(ws, fit_model(df), df, name="first")
    log_dataset(df[FEATURES], "base", context="training", run=run_id, workspace=ws)
    mv = register(gateway_for(ws), run_id, "churn")
    assert validate(gateway_for(ws), "churn", mv.version, write_card=False).passed
    decide(gateway_for(ws), "churn", mv.version, "approve", actor=approver, comment="first release")
    promote(gateway_for(ws), "churn", mv.version, "champion", reason="first release")
    return str(mv.version)


def wait_serving(url: str, timeout: float = 60.0) -> None:
    import httpx

    def up() -> bool:
        try:
            return httpx.get(f"{url}/ping", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, timeout=timeout, interval=0.3, message=f"the router at {url} never answered")
