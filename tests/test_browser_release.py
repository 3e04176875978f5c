"""The release walk in a real JupyterLab, in Debian's Chromium, at the sidebar's default width:
open the best run in the main area (its metric curve), compare two runs (bars), register the
best, validate it (the model card rendered as Markdown), promote it to canary, roll back, and
read the served model's monitoring report (its charts). Screenshots of each step go to
test-output/browser/."""

from __future__ import annotations

import time

import pytest
from browser_support import (
    chromium_page,
    chromium_path,
    layout_problems,
    open_lab,
    open_panel,
    running_lab,
    screenshot,
)
from monitor_support import stream
from server_support import release_project

pytestmark = pytest.mark.browser


def seed_release(ws) -> tuple[str, str]:
    """Two trained runs (accuracy logged over steps), the weaker one champion and serving."""
    from jupyter_mlops.monitor.label_import import import_labels, labels_from_records
    from jupyter_mlops.monitor.predlog import PredictionLog
    from jupyter_mlops.release.registration import register
    from jupyter_mlops.release.rollout import promote
    from jupyter_mlops.store.client import client_for
    from jupyter_mlops.store.gateway import gateway_for

    weaker, best = release_project(ws)
    client = client_for(ws)
    client.log_metric(weaker, "accuracy", 0.81)
    for step, value in enumerate((0.70, 0.79, 0.86)):
        client.log_metric(best, "accuracy", value, step=step)
    mv = register(gateway_for(ws), weaker, "churn")
    client.set_model_version_tag("churn", mv.version, "mlops.gates", "passed")
    promote(gateway_for(ws), "churn", mv.version, "champion", reason="initial release")
    records = stream(300, t0=time.time() - 1800, dt=6.0, version=mv.version)
    with PredictionLog(gateway_for(ws), "churn") as log:
        for record in records:
            log.append(record)
    # late labels for a third of the requests, one prediction in eight wrong
    labels = [
        {"request_id": r["request_id"], "row": k, "label": out if (i + k) % 8 else 1 - out}
        for i, r in enumerate(records[::3])
        for k, out in enumerate(r["outputs"])
    ]
    import_labels(gateway_for(ws), "churn", labels_from_records(labels))
    return weaker, best


def confirm(page, reason: str, *, name: str | None = None, weight: str | None = None) -> None:
    """Fill JupyterLab's dialog (our confirmation body) and accept it."""
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for()
    if name is not None:
        dialog.locator(".jp-mlops-confirm-field input").first.fill(name)
    if weight is not None:
        dialog.locator("input[type=number]").fill(weight)
    dialog.locator(".jp-mlops-confirm-reason").fill(reason)
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    dialog.wait_for(state="detached")


def test_release_walk_in_the_panel(workspace, tmp_path):
    chromium_path()
    weaker, best = seed_release(workspace)

    with running_lab(workspace.root, tmp_path / "lab") as lab, chromium_page() as page:
        errors = []
        page.on(
            "console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            walk(page, lab, weaker, best)
        except Exception:
            screenshot(page, "release-failure")
            print("browser console errors:", *errors, sep="\n")
            print(lab.log_tail(60))
            raise
    check_history(workspace)


def fits(page) -> None:
    problems = layout_problems(page, "#jp-mlops-sidebar")
    assert problems == [], "the sidebar does not fit:\n" + "\n".join(problems)


def walk(page, lab, weaker: str, best: str) -> None:
    open_lab(page, lab)
    panel = open_panel(page)  # never resized: JupyterLab's default width

    # the project's runs, sorted by accuracy: the best first
    runs = panel.locator("#jp-mlops-tab-runs")
    runs.locator(".jp-mlops-run-name").first.wait_for(timeout=30_000)
    runs.locator(".jp-mlops-sort select").select_option("metrics.`accuracy` DESC")
    page.wait_for_function(
        "id => document.querySelector('#jp-mlops-tab-runs .jp-mlops-run')?.dataset.runId === id",
        arg=best,
        timeout=10_000,
    )
    fits(page)
    screenshot(page, "release-1-runs")

    # the best run opens in the main area, with its accuracy curve over three steps
    runs.locator(f".jp-mlops-run[data-run-id='{best}'] .jp-mlops-run-name").click()
    run_tab = page.locator(".jp-mlops-run-panel")
    run_tab.locator(".jp-mlops-line-chart").first.wait_for(timeout=15_000)
    points = run_tab.locator(".jp-mlops-series polyline").first.get_attribute("points")
    assert len(points.split()) == 3, points
    screenshot(page, "release-2-run")

    # two runs compared: one bar each for accuracy
    for run_id in (best, weaker):
        runs.locator(f".jp-mlops-run[data-run-id='{run_id}'] input").check()
    runs.locator(".jp-mlops-compare").click()
    comparison = page.locator(".jp-mlops-comparison-panel")
    comparison.locator(".jp-mlops-bar").nth(1).wait_for(timeout=15_000)
    accuracy = comparison.locator(".jp-mlops-chart", has_text="accuracy").first
    values = sorted(
        float(v)
        for v in accuracy.locator(".jp-mlops-bar").evaluate_all(
            "bars => bars.map(b => b.dataset.value)"
        )
    )
    assert values == [0.81, 0.86], values
    screenshot(page, "release-3-comparison")

    # register the best run's model from its tab: the new version opens beside it
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Run ").first.click()
    run_tab.locator(".jp-mlops-register").click()
    confirm(page, "best accuracy so far", name="churn")
    detail = page.locator(".jp-mlops-version-detail[data-version='2']")
    detail.wait_for(timeout=15_000)
    models = panel.locator("#jp-mlops-tab-models")
    models.locator(".jp-mlops-version[data-version='2']").wait_for(timeout=15_000)
    fits(page)
    screenshot(page, "release-4-registered")

    # validate: the gates run on the server as a job; the card is rendered Markdown
    detail.locator(".jp-mlops-validate").click()
    confirm(page, "before the canary")
    detail.locator(".jp-mlops-message", has_text="gates passed").wait_for(timeout=60_000)
    detail.locator(".jp-mlops-gate-results .jp-mlops-verdict").first.wait_for()
    assert "pass" in detail.locator(".jp-mlops-gate-results").inner_text()
    card = detail.locator(".jp-mlops-card .jp-RenderedMarkdown")
    card.wait_for(timeout=15_000)
    assert card.locator("h1, h2").count() >= 1 and "churn" in card.inner_text()
    assert detail.locator("pre.jp-mlops-card").count() == 0
    screenshot(page, "release-5-validated")

    # promote to canary with a weight
    detail.locator(".jp-mlops-promote-canary").click()
    confirm(page, "try it on a fifth of the traffic", weight="20")
    models.locator(".jp-mlops-canary-weight", has_text="20% of traffic").wait_for(timeout=15_000)
    fits(page)
    screenshot(page, "release-6-canary")

    # roll back
    detail.locator(".jp-mlops-rollback").click()
    confirm(page, "error rate up on the canary")
    detail.locator(".jp-mlops-message", has_text="rolled back").wait_for(timeout=15_000)
    assert models.locator(".jp-mlops-canary-weight").count() == 0
    screenshot(page, "release-7-rolled-back")

    # the version's lineage as a picture: click the run to centre on it, again to open it
    detail.get_by_role("button", name="Lineage").click()
    graph = page.locator(".jp-mlops-lineage-graph")
    graph.wait_for(timeout=30_000)
    run_node = graph.locator(f"[data-node='run:{best}']")
    run_node.click()
    page.wait_for_function(
        "id => document.querySelector('.jp-mlops-lineage-graph .jp-mod-focus')?.dataset.node"
        " === id",
        arg=f"run:{best}",
        timeout=15_000,
    )
    assert panel.locator(".jp-mlops-lineage-nodes .jp-mod-focus").get_attribute("data-node") == (
        f"run:{best}"
    )
    fits(page)
    screenshot(page, "release-8-lineage")
    graph.locator(f"[data-node='run:{best}']").click()
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text="Run ").wait_for()

    # the served model's monitoring, picked from the list: charts over the last hour
    panel.locator(".lm-TabBar-tab[title='Monitor']").click()
    panel.locator(".jp-mlops-monitor-model[data-model='churn']").click()
    report = page.locator(".jp-mlops-monitor-report")
    report.locator(".jp-mlops-line-chart").first.wait_for(timeout=60_000)
    requests = report.locator(".jp-mlops-chart", has_text="requests per bucket")
    assert requests.locator("polyline").count() >= 1
    accuracy = report.locator(".jp-mlops-chart", has_text="accuracy (late labels)")
    assert accuracy.locator("polyline").count() >= 1
    assert "v1" in report.locator(".jp-mlops-quality-table").inner_text()
    fits(page)
    screenshot(page, "release-9-monitor")


def check_history(workspace) -> None:
    from jupyter_mlops.release.history import events
    from jupyter_mlops.release.rollout import state
    from jupyter_mlops.store.gateway import gateway_for

    st = state(gateway_for(workspace), "churn")
    assert st.aliases.get("champion") == "1" and "canary" not in st.aliases
    trail = [(e.action, e.version, e.reason) for e in events(gateway_for(workspace), "churn")]
    assert trail[-4:] == [
        ("register", "2", "best accuracy so far"),
        ("gate", "2", "before the canary"),
        ("promote", "2", "try it on a fifth of the traffic"),
        ("rollback", "2", "error rate up on the canary"),
    ]
