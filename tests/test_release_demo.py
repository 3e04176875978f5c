"""The release demo (part of `make demo`) on a small project: canary, champion, rollback."""

from __future__ import annotations

from release_support import fit_model, log_model_run, make_data

from jupyter_mlops.demo import release as demo
from jupyter_mlops.release import history
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for


def test_release_demo_goes_to_champion_and_back(workspace):
    (workspace.root / "mlops.yaml").write_text(
        "project: demo-test\nrelease:\n  model: churn\n"
        "  evaluation: {path: eval.csv, target: label}\n"
        "  gates: {metrics: {accuracy: {min: 0.7}}, signature: true}\n"
        "  rollout: {canary_weight: 30}\n"
    )
    make_data(200, seed=3).to_csv(workspace.root / "eval.csv", index=False)
    df = make_data(400)
    client = client_for(workspace)
    for score in (0.8, 0.9):
        run_id, _ = log_model_run(workspace, fit_model(df), df)
        client.log_metric(run_id, "cv_accuracy", score)
    lines = []
    demo.run(gateway_for(workspace), say=lines.append, seconds=0.6)
    text = "\n".join(lines)
    assert "canary v2 at 30%" in text and "rolled back to v1" in text
    actions = [(e.action, e.version) for e in history.events(gateway_for(workspace), "churn")]
    assert ("promote", "2") in actions and actions[-1] == ("rollback", "1")
    assert client.get_registered_model("churn").aliases["champion"] in (1, "1")
