"""The sidebar in a real JupyterLab, in Debian's Chromium: it lists the workspace's runs."""

from __future__ import annotations

import pytest
from browser_support import chromium_page, chromium_path, running_lab, screenshot

pytestmark = pytest.mark.browser

HOSTILE_NAME = '<img src=x onerror="window.__mlopsXss=1">'


def make_run(ws, name: str, accuracy: float) -> str:
    from jupyter_mlops.store.client import client_for, experiment_id

    client = client_for(ws)
    run = client.create_run(experiment_id(ws), run_name=name)
    client.log_metric(run.info.run_id, "accuracy", accuracy)
    client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.run_id


def test_settings_choose_the_metric_beside_each_run(workspace, tmp_path):
    """The settings schema is installed, and its runColumns picks the metric shown."""
    import json
    import urllib.request

    chromium_path()
    from jupyter_mlops.store.client import client_for

    run_id = make_run(workspace, "with-loss", 0.9)
    client_for(workspace).log_metric(run_id, "loss", 0.25)
    with running_lab(workspace.root, tmp_path / "lab") as lab:
        schema = lab.get_json("lab/api/settings/jupyter-mlops:plugin")["schema"]
        assert {"pollInterval", "defaultExperiment", "runColumns"} <= set(schema["properties"])
        put = urllib.request.Request(
            f"{lab.url}/lab/api/settings/jupyter-mlops:plugin",
            data=json.dumps({"raw": json.dumps({"runColumns": ["loss"]})}).encode(),
            method="PUT",
            headers={"Authorization": f"token {lab.token}"},
        )
        urllib.request.urlopen(put, timeout=10).close()
        with chromium_page() as page:
            page.goto(f"{lab.url}/lab?token={lab.token}")
            page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
            open_from_palette(page)
            heading = page.locator("#jp-mlops-tab-runs .jp-mlops-metric-heading")
            heading.filter(has_text="loss").wait_for(timeout=30_000)
            value = page.locator("#jp-mlops-tab-runs .jp-mlops-run .jp-mlops-metric-value")
            assert value.first.inner_text() == "0.2500"


def test_panel_lists_the_workspace_runs(workspace, tmp_path):
    chromium_path()  # skip (or fail in CI) before starting anything
    make_run(workspace, HOSTILE_NAME, 0.5)
    make_run(workspace, "browser-visible-run", 0.9321)

    with running_lab(workspace.root, tmp_path / "lab") as lab:
        federated = {ext["name"] for ext in lab.page_config().get("federated_extensions", [])}
        assert "jupyter-mlops" in federated, (
            "the jupyter-mlops labextension is not installed in this environment "
            "(run `make install`, or `jupyter labextension develop --overwrite .`)"
        )
        with chromium_page() as page:
            calls = []
            page.on(
                "request",
                lambda r: calls.append(r.url) if "/jupyter-mlops/api/runs" in r.url else None,
            )
            page.goto(f"{lab.url}/lab?token={lab.token}")
            page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
            page.wait_for_timeout(500)
            assert calls == [], "the runs model must not poll while the panel is closed"
            open_from_palette(page)
            panel = page.locator("#jp-mlops-sidebar")
            names = panel.locator(".jp-mlops-run-name")
            names.filter(has_text="browser-visible-run").wait_for(timeout=30_000)
            shot = screenshot(page, "runs-panel")

            assert names.all_inner_texts()[:2] == ["browser-visible-run", HOSTILE_NAME]
            first = panel.locator(".jp-mlops-run").first
            assert first.locator(".jp-mlops-status-mark").get_attribute("aria-label") == "finished"
            assert first.locator(".jp-mlops-metric-value").inner_text() == "0.9321"
            # a run name is data, shown as text, never markup
            assert panel.locator("img[src='x']").count() == 0
            assert page.evaluate("window.__mlopsXss") is None
            # the toolbar's refresh fetches at once, without waiting for the next poll
            make_run(workspace, "run-after-refresh", 0.1)
            panel.locator(".jp-Toolbar button").first.click()
            names.filter(has_text="run-after-refresh").wait_for(timeout=5_000)

            # a run opened in the main area, with the hostile name as text there too
            names.filter(has_text=HOSTILE_NAME).click()
            run_tab = page.locator(".jp-mlops-run-panel .jp-mlops-main-header h2")
            run_tab.filter(has_text=HOSTILE_NAME).wait_for(timeout=15_000)
            assert page.locator("img[src='x']").count() == 0

            # the layout restorer brings the panel and the run's tab back after a reload
            page.wait_for_timeout(1500)  # the workspace layout is saved shortly after a change
            page.reload()
            page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
            run_tab.filter(has_text=HOSTILE_NAME).wait_for(timeout=30_000)
            page.locator("#jp-mlops-sidebar .jp-mlops-run-name").first.wait_for(timeout=30_000)
        assert shot.stat().st_size > 10_000


def open_from_palette(page) -> None:
    """Run the `jupyter-mlops:open-panel` command the way a user does: through the palette."""
    assert not page.locator("#jp-mlops-sidebar").is_visible()
    page.locator("#jp-main-dock-panel .lm-TabBar").first.click()  # focus the app, harmlessly
    page.keyboard.press("Control+Shift+C")
    palette = page.locator("#command-palette input")
    palette.wait_for()
    palette.fill("Open MLOps Panel")
    page.locator("#command-palette .lm-CommandPalette-item", has_text="Open MLOps Panel").click()
    page.locator("#jp-mlops-sidebar").wait_for(state="visible")
