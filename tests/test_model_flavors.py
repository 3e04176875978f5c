"""Model flavors: category columns round-trip through pyfunc, the router and MLflow's scoring
server; a flavor a package adds is used; an object no flavor knows is named, never dropped;
params stay within MLflow's limits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from jupyter_mlops.capture import model_params, tracker
from jupyter_mlops.flavors.registry import ModelFlavors, model_flavors


def _housing(n: int = 200):
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "income": rng.gamma(2.0, 2.0, n),
            "ocean": pd.Categorical(rng.choice(["INLAND", "NEAR BAY", "<1H OCEAN"], n)),
            "rooms": rng.integers(1, 9, n),
        }
    )
    bonus = X["ocean"].map({"INLAND": -40.0, "NEAR BAY": 60.0, "<1H OCEAN": 20.0}).astype(float)
    return X, 30 * X["income"] + bonus


def _logged(workspace, monkeypatch, **models):
    """Log ``models`` (name -> (model, X)) on one run; name -> its local MLflow model folder."""
    import mlflow.artifacts

    with tracker.track(name="flavors", workspace=workspace) as run:
        for name, (model, X) in models.items():
            run.log_model(model, name=name, X=X)
    run.wait_synced()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", workspace.tracking_uri)
    from jupyter_mlops.store.gateway import gateway_for
    from jupyter_mlops.store.runs import get_run

    tags = get_run(gateway_for(workspace), run.run_id).data.tags
    from jupyter_mlops.journal.sync import failed_records

    assert not failed_records(workspace), [f.get("error") or f for f in failed_records(workspace)]
    assert not any(k.startswith("mlops.pyfunc_check.") for k in tags), tags
    out = {}
    for name in models:
        folder = workspace.root / "downloaded" / name
        folder.mkdir(parents=True)
        out[name] = Path(
            mlflow.artifacts.download_artifacts(tags[f"mlops.model.{name}"], dst_path=str(folder))
        )
    return out


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_category_columns_round_trip_through_pyfunc_router_and_scoring_server(
    workspace, monkeypatch
):
    """Trained on pandas categories, predicted on plain JSON strings: the same answers."""
    import mlflow.pyfunc
    import pandas as pd
    import xgboost as xgb
    from starlette.testclient import TestClient

    from jupyter_mlops.serving.payload import parse_body, to_frame
    from jupyter_mlops.serving.router import load_path

    X, y = _housing()
    reg = xgb.XGBRegressor(n_estimators=20, enable_categorical=True, n_jobs=1).fit(X, y)
    booster = xgb.train(
        {"max_depth": 3, "nthread": 1},
        xgb.DMatrix(X, label=y, enable_categorical=True),
        num_boost_round=15,
    )
    folders = _logged(workspace, monkeypatch, reg=(reg, X), booster=(booster, X))
    rows = X.iloc[10:16]
    records = json.loads(rows.to_json(orient="records"))  # categories as plain strings
    body = json.dumps({"dataframe_records": records}).encode()
    expected = {
        "reg": reg.predict(rows),
        "booster": booster.predict(xgb.DMatrix(rows, enable_categorical=True)),
    }
    for name, folder in folders.items():
        model = mlflow.pyfunc.load_model(str(folder))
        inputs = {c.name: type(c.type).__name__ for c in model.metadata.get_input_schema().inputs}
        assert inputs["ocean"] == "AnyType" and set(inputs) == {"income", "ocean", "rooms"}
        assert model.metadata.metadata["mlops_inputs"]["columns"][1]["categories"] == [
            "<1H OCEAN",
            "INLAND",
            "NEAR BAY",
        ]
        plain = pd.DataFrame.from_records(records)
        np.testing.assert_allclose(model.predict(plain), expected[name], rtol=1e-6)
        np.testing.assert_allclose(model.predict(rows), expected[name], rtol=1e-6)  # categories
        # the router: its own payload parsing, then the version's predict
        version = load_path(str(folder), "1")
        frame = to_frame(parse_body(body, version.columns), version.columns)
        np.testing.assert_allclose(version.predict(frame), expected[name], rtol=1e-6)
        # mlflow models serve: MLflow's scoring server app on the same JSON
        from mlflow.pyfunc import scoring_server

        client = TestClient(scoring_server.init(model))
        answer = client.post(
            "/invocations", content=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 200, answer.text
        np.testing.assert_allclose(answer.json()["predictions"], expected[name], rtol=1e-6)


def test_integer_labels_and_documents_round_trip(workspace, monkeypatch):
    """header=None frames keep their integer labels in memory and string names in the
    signature; a text pipeline gets its documents as a list through pyfunc."""
    import mlflow.pyfunc
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(40, 3)))  # labels 0, 1, 2
    lin = LinearRegression().fit(X, X[0] * 2 + X[2])
    docs = ["red apple", "green apple", "blue sky", "grey sky"] * 5
    text = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(docs, [0, 0, 1, 1] * 5)
    folders = _logged(workspace, monkeypatch, lin=(lin, X), text=(text, docs))
    model = mlflow.pyfunc.load_model(str(folders["lin"]))
    assert model.metadata.get_input_schema().input_names() == ["0", "1", "2"]
    request = X.iloc[:4].rename(columns=str)
    np.testing.assert_allclose(model.predict(request), lin.predict(X.iloc[:4]))
    model = mlflow.pyfunc.load_model(str(folders["text"]))
    assert [c.type.name for c in model.metadata.get_input_schema().inputs] == ["string"]
    assert list(model.predict(["blue sky", "red apple"])) == [1, 0]


DOUBLER = '''
import numpy as np
from jupyter_mlops.flavors.protocol import FeatureHint
from jupyter_mlops.store.gateway import gateway_for


class Doubler:
    """A model from no library a built-in flavor knows."""

    def __init__(self) -> None:
        self.k_: float | None = None

    def fit(self, X, y):
        self.k_ = float(np.mean(np.asarray(y) / np.asarray(X)[:, 0]))
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0] * self.k_


class DoublerFlavor:
    """A flavor a package could declare under ``jupyter_mlops.flavors``."""

    name = "doubler"
    library = "numpy"
    requirements = ("numpy", "cloudpickle")

    def recognises(self, obj):
        return isinstance(obj, Doubler)

    def fitted(self, obj):
        return obj.k_

    def params(self, obj):
        return {"k": obj.k_}

    def features(self, obj):
        return FeatureHint(n_features=1)

    def predict(self, obj, data):
        return obj.predict(data)

    def save(self, obj, path, *, signature, input_example, requirements):
        import mlflow.sklearn

        mlflow.sklearn.save_model(
            obj,
            str(path),
            serialization_format="cloudpickle",
            signature=signature,
            input_example=input_example,
            pip_requirements=requirements,
        )
'''


def test_an_object_no_flavor_knows_is_named_and_a_registered_flavor_logs_it(
    workspace, mlops_shell, monkeypatch
):
    from jupyter_mlops.capture import estimators
    from jupyter_mlops.store.client import client_for
    from jupyter_mlops.store.gateway import gateway_for
    from jupyter_mlops.store.runs import recent_runs

    # defined in the notebook: pickled by value, so the sync agent can load model and flavor
    assert mlops_shell.run_cell(DOUBLER).error_in_exec is None
    cell = (
        "%%mlops track --name {name}\n"
        "X_train = np.arange(1.0, 9.0).reshape(-1, 1)\n"
        "doubler = Doubler().fit(X_train, 2 * X_train[:, 0])\n"
    )
    result = mlops_shell.run_cell(cell.format(name="unknown"))
    assert result.error_in_exec is None
    monkeypatch.setattr(estimators, "_flavor_of_type", {})
    model_flavors.register(mlops_shell.user_ns["DoublerFlavor"]())
    try:
        result = mlops_shell.run_cell(cell.format(name="known"))
    finally:
        model_flavors._added.pop("doubler")
        estimators._flavor_of_type.clear()
    assert result.error_in_exec is None
    from jupyter_mlops.journal.sync import sync_workspace

    tracker.shutdown_recorders()
    assert not sync_workspace(workspace, timeout=120).failures
    runs = {r["name"]: r for r in recent_runs(gateway_for(workspace))}
    not_logged = runs["unknown"]["tags"]["mlops.not_logged"]
    assert not_logged.startswith("doubler (") and "Doubler): no model flavor knows it" in not_logged
    assert "model not logged: doubler" in runs["unknown"]["tags"]["mlops.warnings"]
    known = runs["known"]["tags"]
    assert "mlops.not_logged" not in known and "mlops.warnings" not in known
    model = client_for(workspace).get_logged_model(known["mlops.model.doubler"].split("/")[-1])
    assert model.tags["mlops.flavor"] == "doubler" and model.tags["mlops.pyfunc_check"] == "matches"
    assert model.params == {"k": "2.0"}
    assert runs["known"]["params"]["doubler.k"] == "2.0"


def test_a_broken_flavor_entry_point_is_named_not_fatal(monkeypatch):
    from jupyter_mlops import plugins

    class BrokenEntryPoint:
        name, value = "broken", "nowhere:Flavor"

        def load(self):
            raise ImportError("no module named nowhere")

    monkeypatch.setattr(plugins, "entry_points", lambda group: [BrokenEntryPoint()])
    flavors = ModelFlavors([])
    assert flavors.flavor_for(3.0) is None
    assert flavors.load_errors == ["broken: ImportError: no module named nowhere"]
    with pytest.raises(Exception, match="is not a model flavor"):
        flavors.register(object())  # type: ignore[arg-type]


def test_params_are_cut_to_mlflows_limits_with_a_note():
    own = model_params.for_logged_model(
        {"long": "x" * 7000, "bad key!": 1, **{f"p{i}": i for i in range(120)}}
    )
    assert len(own["long"]) == 6000 and own["long"].endswith("...")
    assert "bad key!" not in own
    fresh, notes = model_params.as_run_params("m", own, room=100, logged={"m.p0": "0"})
    assert len(fresh) == 100 and "m.p0" not in fresh
    assert notes["m.*"].startswith("20 more params of model m are on the logged model only")
    assert notes["m.long"] == "model m, cut to 6000 characters"


def test_pytorch_module_is_logged_with_a_traced_signature(workspace, monkeypatch):
    torch = pytest.importorskip("torch")
    import mlflow.pyfunc

    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    X = torch.randn(16, 3)
    for _ in range(3):
        opt.zero_grad()
        net(X).pow(2).mean().backward()
        opt.step()
    folders = _logged(workspace, monkeypatch, net=(net, X.numpy()))
    model = mlflow.pyfunc.load_model(str(folders["net"]))
    assert model.metadata.get_input_schema().inputs[0].shape[-1] == 3
    with torch.no_grad():
        expected = net(X[:4]).numpy()
    np.testing.assert_allclose(
        np.asarray(model.predict(X[:4].numpy())).reshape(-1), expected.reshape(-1), rtol=1e-5
    )


NOISY = """
import numpy as np
from sklearn.base import BaseEstimator


class Noisy(BaseEstimator):
    def fit(self, X, y):
        self.coef_ = np.ones(np.asarray(X).shape[1])  # no n_features_in_: the fit call tells
        return self

    def predict(self, X):
        return np.random.default_rng().random(len(X))
"""


def test_a_model_predicting_otherwise_through_pyfunc_is_said_under_a_cell_and_tagged(
    workspace, mlops_shell, capsys
):
    from jupyter_mlops.journal.sync import sync_workspace
    from jupyter_mlops.store.client import client_for
    from jupyter_mlops.store.gateway import gateway_for
    from jupyter_mlops.store.runs import recent_runs

    assert mlops_shell.run_cell(NOISY).error_in_exec is None
    cell = "%%mlops track --name noisy\nX_train = np.ones((6, 2))\nnoisy = Noisy().fit(X_train, [0] * 6)"
    assert mlops_shell.run_cell(cell).error_in_exec is None
    assert not sync_workspace(workspace, timeout=120).failures
    capsys.readouterr()
    assert mlops_shell.run_cell("%%mlops track --name next\nx = 1").error_in_exec is None
    err = capsys.readouterr().err
    assert "mlops: warning: model 'noisy' (run noisy) does not predict through pyfunc" in err
    assert "differs: " in err
    tracker.shutdown_recorders()
    tags = {r["name"]: r["tags"] for r in recent_runs(gateway_for(workspace))}["noisy"]
    assert tags["mlops.pyfunc_check.noisy"].startswith("differs: ")
    model = client_for(workspace).get_logged_model(tags["mlops.model.noisy"].split("/")[-1])
    assert model.tags["mlops.pyfunc_check"].startswith("differs: ")
    assert model.tags["mlops.example_source"] == "X_train"


def test_keras_model_is_logged_with_a_traced_signature(workspace, monkeypatch):
    keras = pytest.importorskip("keras")
    import mlflow.pyfunc

    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 3)).astype("float32")
    y = X @ np.array([1.0, -2.0, 0.5], dtype="float32")
    net = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
    net.fit(X, y, epochs=2, verbose=0)
    folders = _logged(workspace, monkeypatch, net=(net, X))
    model = mlflow.pyfunc.load_model(str(folders["net"]))
    assert model.metadata.get_input_schema().inputs[0].shape[-1] == 3
    expected = net.predict(X[:4], verbose=0).reshape(-1)
    np.testing.assert_allclose(
        np.asarray(model.predict(X[:4])).reshape(-1), expected, rtol=1e-5, atol=1e-6
    )
