"""The release walk in a real JupyterLab, in Debian's Chromium: open the panel, see the project's
runs, register the best, validate it, promote it to canary, roll back. Screenshots of each step
go to test-output/browser/."""

from __future__ import annotations

import pytest
from browser_support import chromium_page, chromium_path, running_lab, screenshot
from server_support import release_project

pytestmark = pytest.mark.browser


def seed_release(ws) -> tuple[str, str]:
    """Two trained runs (accuracy logged), the weaker one already champion: (weaker, best)."""
    from jupyter_mlops.release.registry import register
    from jupyter_mlops.release.rollout import promote
    from jupyter_mlops.store.client import client_for

    weaker, best = release_project(ws)
    client = client_for(ws)
    client.log_metric(weaker, "accuracy", 0.81)
    client.log_metric(best, "accuracy", 0.86)
    mv = register(ws, weaker, "churn")
    client.set_model_version_tag("churn", mv.version, "mlops.gates", "passed")
    promote(ws, "churn", mv.version, "champion", reason="initial release")
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
            walk(page, lab, best)
        except Exception:
            screenshot(page, "release-failure")
            print("browser console errors:", *errors, sep="\n")
            print(lab.log_tail(60))
            raise
    check_history(workspace)


def open_panel(page, lab):
    page.goto(f"{lab.url}/lab?token={lab.token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    page.locator("#jp-main-dock-panel .lm-TabBar").first.click()
    page.keyboard.press("Control+Shift+C")
    page.locator("#command-palette input").fill("Open MLOps Panel")
    page.locator("#command-palette .lm-CommandPalette-item", has_text="Open MLOps Panel").click()
    panel = page.locator("#jp-mlops-sidebar")
    panel.wait_for(state="visible")
    # widen the sidebar (drag the split handle), as a user releasing a model would
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    if box:
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(620, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
    return panel


def walk(page, lab, best: str) -> None:
    panel = open_panel(page, lab)

    # the project's runs, sorted by accuracy: the best first
    runs = panel.locator("#jp-mlops-tab-runs")
    runs.locator(".jp-mlops-run-name").first.wait_for(timeout=30_000)
    runs.locator(".jp-mlops-sort").select_option("metrics.`accuracy` DESC")
    top = runs.locator("tr.jp-mlops-run").first
    page.wait_for_function(
        "id => document.querySelector('#jp-mlops-tab-runs tr.jp-mlops-run')?.dataset.runId === id",
        arg=best,
        timeout=10_000,
    )
    screenshot(page, "release-1-runs")

    # register the best run's model
    top.locator(".jp-mlops-run-name").click()
    runs.locator(".jp-mlops-register").click()
    confirm(page, "best accuracy so far", name="churn")
    models = panel.locator("#jp-mlops-tab-models")
    models.locator("tr.jp-mlops-version[data-version='2']").wait_for(timeout=15_000)
    models.locator("tr.jp-mlops-version[data-version='2']").click()
    detail = models.locator(".jp-mlops-version-detail[data-version='2']")
    detail.wait_for()
    screenshot(page, "release-2-registered")

    # validate: the gates run on the server as a job
    detail.locator(".jp-mlops-validate").click()
    confirm(page, "before the canary")
    models.locator(".jp-mlops-message", has_text="gates passed").wait_for(timeout=60_000)
    detail.locator(".jp-mlops-gate-results .jp-mlops-verdict").first.wait_for()
    assert "pass" in detail.locator(".jp-mlops-gate-results").inner_text()
    assert "churn" in detail.locator(".jp-mlops-card").inner_text()
    screenshot(page, "release-3-validated")

    # promote to canary with a weight
    detail.locator(".jp-mlops-promote-canary").click()
    confirm(page, "try it on a fifth of the traffic", weight="20")
    models.locator(".jp-mlops-canary-weight", has_text="20% of traffic").wait_for(timeout=15_000)
    screenshot(page, "release-4-canary")

    # roll back
    models.locator(".jp-mlops-rollback").click()
    confirm(page, "error rate up on the canary")
    models.locator(".jp-mlops-message", has_text="rolled back").wait_for(timeout=15_000)
    assert models.locator(".jp-mlops-canary-weight").count() == 0
    screenshot(page, "release-5-rolled-back")


def check_history(workspace) -> None:
    from jupyter_mlops.release.history import events
    from jupyter_mlops.release.rollout import state

    st = state(workspace, "churn")
    assert st.aliases.get("champion") == "1" and "canary" not in st.aliases
    trail = [(e.action, e.version, e.reason) for e in events(workspace, "churn")]
    assert trail[-4:] == [
        ("register", "2", "best accuracy so far"),
        ("gate", "2", "before the canary"),
        ("promote", "2", "try it on a fifth of the traffic"),
        ("rollback", "2", "error rate up on the canary"),
    ]
