"""The corpus: notebooks adapted from public examples (tests/corpus/README.md), each run through
``papermill --engine mlops`` as a data scientist would, with only ``%load_ext`` and
``%%mlops track`` added.

Every notebook must log its models so that each loads through pyfunc, predicts, on data sent as a
JSON request would deliver it, what the notebook's own model predicts in memory, and carries a
signature naming the inputs the model saw; its run records the model's hyperparameters and the
values the tracked cell read from earlier cells, with where they came from.

The in-memory predictions are the notebook's: a last, untracked cell (added here, not in the
corpus file) predicts a few rows with the notebook's own model and pickles both.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
import papermill
import pytest
from nbformat.v4 import new_code_cell

from jupyter_mlops.pipeline.engine import register_engine

CORPUS = Path(__file__).parent / "corpus"
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Model:
    var: str  # the notebook's variable, also the logged model's name
    data: str  # rows to predict, an expression in the notebook's namespace
    predict: str = "{var}.predict(_rows)"  # the in-memory prediction of those rows
    params: dict[str, str] = field(default_factory=dict)  # run params that must be recorded
    columns: list[str] | None = None  # the signature's input names (None: from the rows)
    any_columns: tuple[str, ...] = ()  # category columns: declared Any
    tensor: int | None = None  # a tensor signature with this many features
    text: bool = False  # a signature of one string input (documents)


@dataclass
class Notebook:
    run: str  # the tracked cell's run name
    models: list[Model]
    sources: dict[str, str] = field(default_factory=dict)  # param -> where it came from


CASES: dict[str, list[Notebook]] = {
    "sklearn_iris_logistic.ipynb": [
        Notebook(
            "iris-logistic",
            [
                Model(
                    "logreg",
                    "X_test",
                    params={"C": "100000.0", "logreg.logisticregression__C": "100000.0"},
                    tensor=4,
                )
            ],
            sources={"C": "cell In[2]"},
        )
    ],
    "xgboost_basic_walkthrough.ipynb": [
        Notebook(
            "xgb-train",
            [
                Model(
                    "booster",
                    "X_test",
                    predict="booster.predict(xgb.DMatrix(_rows))",
                    params={
                        "booster.max_depth": "3",
                        "booster.eta": "0.3",
                        "booster.num_boost_round": "20",
                    },
                )
            ],
        )
    ],
    "xgboost_housing_categories.ipynb": [
        Notebook(
            "xgb-housing",
            [
                Model(
                    "reg",
                    "X_test",
                    params={"reg.n_estimators": "40", "reg.enable_categorical": "True"},
                    any_columns=("ocean_proximity", "roof"),
                )
            ],
        )
    ],
    "lightgbm_simple_example.ipynb": [
        Notebook(
            "lgb-train",
            [
                Model(
                    "gbm",
                    "X_test",
                    params={
                        "num_leaves": "15",
                        "gbm.num_leaves": "15",
                        "gbm.num_boost_round": "30",
                    },
                )
            ],
            sources={"num_leaves": "cell In[2]"},
        )
    ],
    "lightgbm_header_none.ipynb": [
        Notebook(
            "lgb-header-none",
            [
                Model(
                    "clf",
                    "X_train",
                    params={"clf.n_estimators": "25"},
                    columns=["1", "2", "3", "4", "5", "6"],
                )
            ],
        )
    ],
    "text_classification.ipynb": [
        Notebook(
            "text-pipeline",
            [
                Model(
                    "text_clf",
                    "docs[100:]",
                    params={"text_clf.logisticregression__max_iter": "200"},
                    text=True,
                )
            ],
        ),
        Notebook(
            "sparse-ridge",
            [
                Model(
                    "ridge",
                    "vectorizer.transform(docs[100:]).toarray()",
                    params={"ridge.solver": "sparse_cg"},
                    tensor=15,
                )
            ],
        ),
    ],
    "partial_fit_in_function.ipynb": [
        Notebook(
            "sgd-online",
            [
                Model(
                    "sgd",
                    "np.random.default_rng(1).normal(size=(5, 4))",
                    params={"sgd.alpha": "0.0001"},
                    tensor=4,
                )
            ],
        )
    ],
    "statsmodels_ols.ipynb": [
        Notebook(
            "ols",
            [Model("ols", "exog", params={"ols.model": "OLS"})],
            sources={"nsample": "cell In[2]"},
        )
    ],
    "catboost_categories.ipynb": [
        Notebook(
            "catboost-churn",
            [Model("churn", "X_train", params={"iterations": "60", "churn.depth": "4"})],
            sources={"iterations": "cell In[2]"},
        )
    ],
    "sklearn_hist_gradient_boosting_categories.ipynb": [
        Notebook(
            "hgb-categories",
            [
                Model(
                    "hgb",
                    "X",
                    params={"max_iter": "50", "hgb.categorical_features": "from_dtype"},
                    any_columns=("Neighborhood", "Garage_Type"),
                )
            ],
        )
    ],
}

_EPILOGUE = """
import cloudpickle as _cloudpickle
_checks = {{}}
{body}
with open({out!r}, "wb") as _fh:
    _cloudpickle.dump(_checks, _fh)
"""
_ONE = """
_rows = {data}
_rows = _rows.iloc[:5] if hasattr(_rows, "iloc") else _rows[:5]
_checks[{var!r}] = {{"rows": _rows, "expected": {predict}}}
"""


def _with_epilogue(name: str, out: Path, folder: Path) -> Path:
    """The corpus notebook plus a last cell pickling each model's in-memory predictions."""
    nb = nbformat.read(CORPUS / name, as_version=4)
    body = "".join(
        _ONE.format(data=m.data, var=m.var, predict=m.predict.format(var=m.var))
        for case in CASES[name]
        for m in case.models
    )
    nb.cells.append(new_code_cell(_EPILOGUE.format(body=body, out=str(out))))
    path = folder / name
    nbformat.write(nb, path)
    return path


def _selected(request: pytest.FixtureRequest) -> list[str]:
    """The notebooks of the tests this session runs (``-k`` picks a few while iterating)."""
    names = {
        item.callspec.params["name"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    }
    return [name for name in CASES if name in names]


@pytest.fixture(scope="module")
def corpus_run(request, tmp_path_factory, cached_db):
    """Every selected corpus notebook run once through the mlops engine into one workspace."""
    from jupyter_mlops.journal.sync import sync_workspace
    from jupyter_mlops.workspace import Workspace

    register_engine()
    root = tmp_path_factory.mktemp("corpus") / "project"
    (root / ".mlops").mkdir(parents=True)
    shutil.copy(cached_db, root / ".mlops" / "mlflow.db")
    with sqlite3.connect(root / ".mlops" / "mlflow.db") as con:
        con.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
            ((root / ".mlops" / "artifacts" / "Default").as_uri(),),
        )
    work = root / "corpus"
    work.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLOPS_WORKSPACE"):
            mp.delenv(var, raising=False)
        mp.setenv("PYTHONPATH", str(REPO))
        mp.chdir(root)
        errors = {}
        for name in _selected(request):
            out = work / f"{name}.checks.pkl"
            try:
                papermill.execute_notebook(
                    str(_with_epilogue(name, out, work)),
                    str(work / f"out-{name}"),
                    engine_name="mlops",
                    progress_bar=False,
                    cwd=str(root),
                    kernel_name="python3",
                )
            except Exception as exc:  # reported by the notebook's own test
                errors[name] = f"{type(exc).__name__}: {exc}"[:3000]
        ws = Workspace.find(root)
        report = sync_workspace(ws, timeout=240)
        mp.setenv("MLFLOW_TRACKING_URI", ws.tracking_uri)
        yield ws, work, errors, report


def _runs_by_name(ws) -> dict:
    from jupyter_mlops.store.client import client_for

    client = client_for(ws)
    exps = [e.experiment_id for e in client.search_experiments()]
    return {r.info.run_name: r for r in client.search_runs(exps)}


def _plain(rows):
    """``rows`` as a JSON request delivers them: categories as values, labels as text."""
    import pandas as pd

    if isinstance(rows, pd.DataFrame):  # as MLflow's dataframe_records: keys are text
        return pd.DataFrame.from_records(json.loads(rows.to_json(orient="records")))
    if isinstance(rows, np.ndarray):
        return np.asarray(json.loads(json.dumps(rows.tolist())), dtype=rows.dtype)
    return json.loads(json.dumps(list(rows)))


def _flat(values) -> np.ndarray:
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
    return arr.reshape(-1)


def _check_signature(model: Model, signature, rows) -> None:
    assert signature is not None, f"{model.var}: no signature"
    inputs = signature.inputs
    if model.tensor is not None:
        assert inputs.is_tensor_spec()
        assert inputs.inputs[0].shape[-1] == model.tensor
        return
    if model.text:
        assert [c.type.name for c in inputs.inputs] == ["string"]
        return
    names = model.columns or [str(c) for c in rows.columns]
    assert inputs.input_names() == names
    for col in inputs.inputs:
        kind = getattr(col.type, "name", type(col.type).__name__)
        if col.name in model.any_columns:
            assert type(col.type).__name__ == "AnyType", (col.name, kind)
        else:
            assert kind in ("double", "long", "integer", "float", "string"), (col.name, kind)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_notebook_logs_models_that_predict_through_pyfunc(corpus_run, name):
    import cloudpickle
    import mlflow.pyfunc

    from jupyter_mlops.store.client import client_for

    ws, work, errors, report = corpus_run
    assert name not in errors, errors.get(name)
    assert not report.failures, report.failures
    with open(work / f"{name}.checks.pkl", "rb") as fh:
        checks = cloudpickle.load(fh)
    runs = _runs_by_name(ws)
    for case in CASES[name]:
        run = runs[case.run]
        assert run.info.status == "FINISHED"
        tags, params = run.data.tags, run.data.params
        assert "mlops.warnings" not in tags, tags["mlops.warnings"]
        for model in case.models:
            uri = tags[f"mlops.model.{model.var}"]
            loaded = mlflow.pyfunc.load_model(uri)
            # the agent's own check: the logged example predicted through pyfunc as in memory
            logged = mlflow.models.get_model_info(uri)
            assert f"mlops.pyfunc_check.{model.var}" not in tags
            own = client_for(ws).get_logged_model(uri.removeprefix("models:/"))
            assert own.tags["mlops.pyfunc_check"] == "matches"
            rows, expected = checks[model.var]["rows"], checks[model.var]["expected"]
            got = loaded.predict(_plain(rows))
            got, expected = _flat(got), _flat(expected)
            if expected.dtype.kind in "biuf":
                np.testing.assert_allclose(got.astype(float), expected, rtol=1e-5, atol=1e-8)
            else:
                assert got.astype(str).tolist() == expected.astype(str).tolist()
            _check_signature(model, logged.signature, rows)
            for key, value in model.params.items():
                assert params.get(key) == value, (key, params.get(key))
        sources = json.loads(tags["mlops.param_sources"])
        for key, where in case.sources.items():
            assert sources[key] == where
