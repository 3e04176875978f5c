"""Only models that can be loaded back and served are logged; their signature accepts the data
they were fitted on."""

from __future__ import annotations

import pytest

from jupyter_mlops.capture import tracker
from jupyter_mlops.errors import InvalidInput
from jupyter_mlops.store.gateway import gateway_for


class TorchLike:
    """Shaped like a torch module: callable, with parameters, but no predict."""

    def parameters(self):
        return iter(())

    def forward(self, x):
        return x

    __call__ = forward


def _plain_function(x):
    return x


@pytest.mark.parametrize(
    "model, message",
    [
        (_plain_function, "has no predict method"),
        (TorchLike(), "TorchLike, which has no predict method"),
        ("logistic", "has no predict method"),
    ],
)
def test_log_model_refuses_what_cannot_be_served(workspace, model, message):
    with (
        tracker.track(name="refused", workspace=workspace) as run,
        pytest.raises(InvalidInput, match=message),
    ):
        run.log_model(model, name="m")


def test_log_model_refuses_an_unfitted_estimator_and_a_class(workspace):
    from sklearn.linear_model import LogisticRegression

    with tracker.track(name="refused", workspace=workspace) as run:
        with pytest.raises(InvalidInput, match="LogisticRegression.*is not fitted"):
            run.log_model(LogisticRegression(), name="m")
        with pytest.raises(InvalidInput, match="is the class LogisticRegression"):
            run.log_model(LogisticRegression, name="m")


def test_a_pipeline_over_string_and_category_columns_predicts_on_its_training_frame(
    workspace, monkeypatch
):
    import mlflow.pyfunc
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    X = pd.DataFrame(
        {
            "city": ["a", "b", "a", "c"] * 5,
            "kind": pd.Categorical(["x", "y", "y", "x"] * 5),
            "n": range(20),
        }
    )
    y = [0, 1] * 10
    encode = ColumnTransformer(
        [("oh", OneHotEncoder(handle_unknown="ignore"), ["city", "kind"])], remainder="passthrough"
    )
    pipe = Pipeline([("ct", encode), ("lr", LogisticRegression())]).fit(X, y)
    with tracker.track(name="pipe", workspace=workspace) as run:
        run.log_model(pipe, name="pipe", X=X)
    run.wait_synced()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", workspace.tracking_uri)
    from jupyter_mlops.store.runs import get_run

    uri = get_run(gateway_for(workspace), run.run_id).data.tags["mlops.model.pipe"]
    loaded = mlflow.pyfunc.load_model(uri)
    names = [c.name for c in loaded.metadata.get_input_schema().inputs]
    assert names == ["city", "kind", "n"]
    assert list(loaded.predict(X)) == list(pipe.predict(X))


def test_a_fitted_transformer_is_not_logged_as_a_model_but_its_predictor_is(workspace, mlops_shell):
    result = mlops_shell.run_cell(
        "%%mlops track --name two-fits\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "scaler = StandardScaler().fit([[0.0], [1.0], [2.0], [3.0]])\n"
        "clf = LogisticRegression().fit(scaler.transform([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])\n"
    )
    assert result.error_in_exec is None
    tracker.shutdown_recorders()
    from jupyter_mlops.store.runs import recent_runs

    [run] = [r for r in recent_runs(gateway_for(workspace)) if r["name"] == "two-fits"]
    assert "mlops.model.clf" in run["tags"] and "mlops.model.scaler" not in run["tags"]
    assert "mlops.warnings" not in run["tags"]
