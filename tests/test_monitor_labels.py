"""Late labels and quality: labels that arrive after the predictions, joined to the prediction
log by request id, give the figures scikit-learn gives on the same joined frame.

The prediction logs are hand-written ``.jsonl`` files (a format the reader accepts beside its
Arrow segments); the expected figures are computed here from the records and labels this test
made, with pandas and scikit-learn, never from the package's own join.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    recall_score,
    roc_auc_score,
)

from jupyter_mlops.cli import main
from jupyter_mlops.monitor.guard import judge
from jupyter_mlops.monitor.predlog import predictions_dir
from jupyter_mlops.monitor.quality import current_quality
from jupyter_mlops.monitor.report import build_report
from jupyter_mlops.monitor.thresholds import CanaryThresholds
from jupyter_mlops.store.gateway import gateway_for


def classifier_log(ws, model: str, *, t0: float, n: int = 240, seed: int = 0) -> pd.DataFrame:
    """Requests to two versions (every 6th a batch of 3 rows) logged with a predicted class and
    its probability; returns one row per predicted row with the truth the labels will carry."""
    rng = np.random.default_rng(seed)
    records, rows = [], []
    for i in range(n):
        version, alias = ("1", "champion") if i % 4 else ("2", "canary")
        batch = 3 if i % 6 == 0 else 1
        proba = rng.uniform(0, 1, batch)
        skill = 0.9 if version == "1" else 0.7  # v2 is worse
        truth = np.where(rng.uniform(0, 1, batch) < skill, proba > 0.5, proba <= 0.5).astype(int)
        rid = f"{model}-{i}"
        records.append(
            {
                "ts": t0 + i,
                "model": model,
                "version": version,
                "alias": alias,
                "request_id": rid,
                "latency_ms": 2.0,
                "status": 200,
                "inputs": {"x": proba.tolist()},
                "outputs": {"label": (proba > 0.5).astype(int).tolist(), "proba": proba.tolist()},
            }
        )
        for r in range(batch):
            rows.append((rid, r, batch, version, int(proba[r] > 0.5), proba[r], truth[r]))
    folder = predictions_dir(ws, model, create=True)
    (folder / "hand.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    return pd.DataFrame(
        rows, columns=["request_id", "row", "n_rows", "version", "pred", "proba", "truth"]
    )


def label_frame(preds: pd.DataFrame, keep: float, seed: int) -> pd.DataFrame:
    """Labels for a share ``keep`` of the predicted rows (late labels never all come), with the
    row given for batch requests only, plus labels for requests that were never logged."""
    rng = np.random.default_rng(seed)
    chosen = preds[rng.uniform(0, 1, len(preds)) < keep]
    labels = pd.DataFrame(
        {
            "request_id": chosen["request_id"],
            "row": chosen["row"].where(chosen["n_rows"] > 1),
            "label": chosen["truth"],
        }
    )
    strays = pd.DataFrame(
        {"request_id": ["nope-1", "nope-2"], "row": [None, None], "label": [1, 0]}
    )
    return pd.concat([labels, strays], ignore_index=True)


def sklearn_figures(joined: pd.DataFrame) -> dict[str, float]:
    y = joined["label"].astype(int)
    return {
        "accuracy": accuracy_score(y, joined["pred"]),
        "precision": precision_score(y, joined["pred"]),
        "recall": recall_score(y, joined["pred"]),
        "auc": roc_auc_score(y, joined["proba"]),
    }


def expected(preds: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """The joined frame by hand: a label with a row meets that row, one without meets a
    one-row request."""
    with_row = labels.dropna(subset=["row"]).astype({"row": int})
    exact = preds.merge(with_row, on=["request_id", "row"])
    single = preds[preds["n_rows"] == 1].merge(
        labels[labels["row"].isna()].drop(columns="row"), on="request_id"
    )
    return pd.concat([exact, single], ignore_index=True)


QUALITY = "monitor:\n  quality: {prediction: out.label, score: out.proba, min_labels: 10}\n"


def test_late_labels_give_sklearns_figures_per_version(workspace, capsys):
    (workspace.root / "mlops.yaml").write_text(QUALITY)
    preds = classifier_log(workspace, "churn", t0=time.time() - 1800)
    early = label_frame(preds, keep=0.4, seed=1)
    early.to_csv(workspace.root / "monday.csv", index=False)
    # later, more labels (Parquet), one of which corrects a label given on monday
    later = label_frame(preds, keep=0.5, seed=2)
    fixed = early.iloc[0].copy()
    fixed["label"] = 1 - fixed["label"]
    later = pd.concat([later, fixed.to_frame().T], ignore_index=True)
    later["row"] = later["row"].astype("float64")
    later["label"] = later["label"].astype("int64")
    later.to_parquet(workspace.root / "tuesday.parquet", index=False)

    root = str(workspace.root)
    assert main(["-C", root, "monitor", "labels", "churn", "monday.csv"]) == 0
    out = capsys.readouterr().out
    assert f"{len(early)} labels for churn from monday.csv: {len(early) - 2} matched" in out
    assert main(["-C", root, "monitor", "labels", "churn", "tuesday.parquet", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["rows"] == len(later) and answer["unmatched"] == 2
    assert main(["-C", root, "monitor", "labels", "churn", "monday.csv"]) == 0  # again: no-op
    assert "already imported" in capsys.readouterr().out

    # the labels as they stand now: tuesday's override monday's
    final = pd.concat([early, later]).drop_duplicates(["request_id", "row"], keep="last")
    joined = expected(preds, final)
    report = build_report(gateway_for(workspace), "churn", window="1h", record=False)
    assert report.quality is not None and report.quality.task == "classification"
    q = report.quality.by_version
    for version in ("1", "2"):
        mine = joined[joined["version"] == version]
        assert q[version]["labeled"] == len(mine)
        assert q[version]["metrics"] == pytest.approx(sklearn_figures(mine), abs=1e-12)
    assert q["all"]["metrics"] == pytest.approx(sklearn_figures(joined), abs=1e-12)
    assert report.quality.labeled == len(joined) and report.quality.predictions == len(preds)
    assert "Quality (classification" in report.to_text()
    assert sum(b["labeled"] for b in report.quality.over_time) == len(joined)
    served = current_quality(gateway_for(workspace), "churn", 3600)
    assert served == pytest.approx(sklearn_figures(joined), abs=1e-12)


def test_regressor_quality_over_a_window_and_an_empty_answer_without_labels(workspace):
    rng = np.random.default_rng(5)
    now = time.time()
    folder = predictions_dir(workspace, "price", create=True)
    records, truth = [], {}
    for i in range(200):
        pred = float(rng.normal(100, 20))
        records.append(
            {
                "ts": now - 7200 + i * 30 if i < 100 else now - 1500 + (i - 100) * 14,
                "model": "price",
                "version": "3",
                "alias": "champion",
                "request_id": f"p{i}",
                "status": 200,
                "inputs": {"x": [1.0]},
                "outputs": [pred],
            }
        )
        truth[f"p{i}"] = (pred, pred + float(rng.normal(0, 5)))
    (folder / "hand.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    assert current_quality(gateway_for(workspace), "price", 3600) == {}  # no labels yet

    labels = pd.DataFrame({"rid": list(truth), "price": [t for _, t in truth.values()]})
    labels.to_csv(workspace.root / "prices.csv", index=False)
    assert (
        main(
            [
                "-C",
                str(workspace.root),
                "monitor",
                "labels",
                "price",
                "prices.csv",
                "--id-column",
                "rid",
                "--label-column",
                "price",
            ]
        )
        == 0
    )
    recent = range(100, 200)  # the window's edge falls in the gap between the two halves
    y = [truth[f"p{i}"][1] for i in recent]
    p = [truth[f"p{i}"][0] for i in recent]
    got = current_quality(gateway_for(workspace), "price", 1800)
    assert got == pytest.approx(
        {"mae": mean_absolute_error(y, p), "rmse": mean_squared_error(y, p) ** 0.5}, abs=1e-9
    )


def test_a_labels_file_missing_its_column_is_one_line_naming_it(workspace, capsys):
    classifier_log(workspace, "churn", t0=time.time() - 60, n=10)
    pd.DataFrame({"id": ["churn-1"], "label": [1]}).to_csv(workspace.root / "bad.csv", index=False)
    root = str(workspace.root)
    assert main(["-C", root, "monitor", "labels", "churn", "bad.csv"]) == 2
    err = capsys.readouterr().err
    assert "bad.csv: no column 'request_id' (its columns: id, label)" in err
    assert "hint: name the column with --id-column" in err
    assert main(["-C", root, "monitor", "labels", "churn", "bad.txt"]) == 2
    assert "not a CSV or Parquet file" in capsys.readouterr().err
    assert main(["-C", root, "monitor", "labels", "nosuch", "bad.csv"]) == 3
    assert "no registered model 'nosuch'" in capsys.readouterr().err


def test_mistakes_in_the_quality_section_name_the_key():
    from jupyter_mlops.errors import ConfigError
    from jupyter_mlops.monitor.thresholds import parse_monitor_section

    with pytest.raises(
        ConfigError,
        match=r"monitor.quality.min.acuracy: unknown quality metric "
        r"\(did you mean 'accuracy'\?\)",
    ):
        parse_monitor_section({"quality": {"min": {"acuracy": 0.8}}})
    with pytest.raises(
        ConfigError, match=r"monitor.quality.tsk: unknown key \(did you mean 'task'.*known: max, "
    ):
        parse_monitor_section({"quality": {"tsk": "auto"}})


def test_the_guard_rolls_back_a_canary_whose_labeled_quality_dropped():
    import pyarrow as pa

    th = CanaryThresholds(min_requests=0, max_quality_drop=0.05)
    table = pa.table(
        {
            "ts": [1.0, 2.0],
            "version": ["1", "2"],
            "alias": ["champion", "canary"],
            "status": [200, 200],
            "latency_ms": [1.0, 1.0],
            "error": [None, None],
            "n_rows": [1, 1],
            "row": [0, 0],
        }
    )
    quality = {
        "1": {"labeled": 40, "metrics": {"accuracy": 0.9}},
        "2": {"labeled": 40, "metrics": {"accuracy": 0.8}},
    }
    verdict = judge("churn", table, "2", "1", th, quality, min_labels=30)
    assert verdict.decision == "rollback"
    assert verdict.reasons == [
        "accuracy 0.8 vs 0.9 for the champion on labeled predictions (40 and 40; allowed 0.05)"
    ]
    assert judge("churn", table, "2", "1", th, quality, min_labels=50).decision == "keep"


def test_labels_given_in_one_folder_are_read_by_a_teammate_on_the_team_server(
    team_tracking, tmp_path, monkeypatch
):
    from team_server_support import project

    from jupyter_mlops.store.client import forget_cached_clients
    from jupyter_mlops.workspace import Workspace

    for var in ("MLFLOW_TRACKING_URI", "MLOPS_WORKSPACE"):
        monkeypatch.delenv(var, raising=False)
    forget_cached_clients()
    alice = Workspace.find(project(tmp_path / "alice", team_tracking.url, extra=QUALITY))
    bob = Workspace.find(project(tmp_path / "bob", team_tracking.url, extra=QUALITY))
    preds = classifier_log(alice, "churn", t0=time.time() - 1800, n=120)
    log = predictions_dir(alice, "churn") / "hand.jsonl"
    (predictions_dir(bob, "churn", create=True) / "hand.jsonl").write_bytes(log.read_bytes())
    labels = label_frame(preds, keep=0.6, seed=4)
    labels.to_csv(alice.root / "labels.csv", index=False)

    csv = str(alice.root / "labels.csv")
    assert main(["-C", str(alice.root), "monitor", "labels", "churn", csv]) == 0
    assert not (bob.state_dir / "labels").exists()
    seen_by_bob = current_quality(gateway_for(bob), "churn", 3600)
    assert seen_by_bob == pytest.approx(sklearn_figures(expected(preds, labels)), abs=1e-12)
    assert seen_by_bob == current_quality(gateway_for(alice), "churn", 3600)


def test_the_guard_rolls_back_a_canary_whose_late_labels_show_it_worse(workspace):
    from monitor_support import stream
    from release_support import registered

    from jupyter_mlops.monitor.guard import guard_canary
    from jupyter_mlops.monitor.label_import import import_labels, labels_from_records
    from jupyter_mlops.monitor.predlog import PredictionLog
    from jupyter_mlops.release import history, rollout

    registered(workspace, "churn", ("good", "good"))
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    rollout.promote(gateway_for(workspace), "churn", 2, "canary", weight=50)
    now = time.time()
    champion = stream(80, t0=now - 60, seed=1, version="1")
    canary = stream(80, t0=now - 60, seed=2, version="2", alias="canary")
    with PredictionLog(gateway_for(workspace), "churn") as log:
        for record in champion + canary:
            log.append(record)
    truth = [  # the champion was always right; the canary wrong on every other request
        {
            "request_id": r["request_id"],
            "row": k,
            "label": out if r in champion or i % 2 else 1 - out,
        }
        for i, r in enumerate(champion + canary)
        for k, out in enumerate(r["outputs"])
    ]
    import_labels(gateway_for(workspace), "churn", labels_from_records(truth))
    verdict = guard_canary(gateway_for(workspace), "churn")
    assert verdict.decision == "rollback" and verdict.acted, verdict.reasons
    [reason] = verdict.reasons
    assert reason.startswith(
        "accuracy 0.5 vs 1 for the champion on labeled predictions (400 and 400"
    )
    assert history.events(gateway_for(workspace), "churn")[-1].action == "rollback"


def test_a_label_without_a_row_fits_every_row_of_its_request_and_one_with_a_row_its_row():
    import pyarrow as pa

    from jupyter_mlops.monitor.quality import joined_frame

    table = pa.table(
        {
            "ts": [1.0, 1.0, 1.0, 2.0],
            "version": ["1"] * 4,
            "alias": ["champion"] * 4,
            "request_id": ["batch", "batch", "batch", "one"],
            "row": [0, 1, 2, 0],
            "n_rows": [3, 3, 3, 1],
            "status": [200] * 4,
            "out": [1, 0, 1, 0],
        }
    )
    labels = pd.DataFrame(
        {
            "request_id": ["batch", "batch", "one"],
            "row": pd.array([None, 1, None], dtype="Int64"),
            "label": [1, 1, 0],
            "labeled_at": [1.0, 2.0, 3.0],
        }
    )
    frame = joined_frame(table, labels).sort_values(["request_id", "row"])
    assert frame[["request_id", "row", "label"]].values.tolist() == [
        ["batch", 0, 1],
        ["batch", 1, 1],
        ["batch", 2, 1],
        ["one", 0, 0],
    ]
    assert frame["label_row"].isna().tolist() == [True, False, True, True]  # row 1: its own
