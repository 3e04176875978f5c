"""The panel at JupyterLab's default sidebar width (never resized), in the light and dark themes:
every tab fits (no horizontal overflow, no word stacked a letter a line, one line per run), and
each tab's screenshot is kept under test-output/browser/ to look at."""

from __future__ import annotations

import pytest
from browser_support import (
    chromium_page,
    chromium_path,
    layout_problems,
    one_line_heights,
    open_lab,
    open_panel,
    running_lab,
    screenshot,
    use_theme,
)
from server_support import RELEASE_YAML, release_project

pytestmark = pytest.mark.browser

PIPELINE_STEPS = """\
steps:
  prepare_the_customer_features:
    notebook: prepare_the_customer_features_for_training.ipynb
  train_gradient_boosting:
    notebook: train_gradient_boosting_classifier.ipynb
    needs: [prepare_the_customer_features]
"""
LONG_NAME = "a-rather-long-run-name-that-cannot-fit-the-sidebar-width"
TABS = ["runs", "models", "pipeline", "lineage", "monitor", "loop"]


def seed(ws) -> None:
    from notebook_support import make_notebook

    from jupyter_mlops.release.registration import register
    from jupyter_mlops.release.rollout import promote
    from jupyter_mlops.store.client import client_for
    from jupyter_mlops.store.gateway import gateway_for

    weaker, best = release_project(ws)
    (ws.root / "mlops.yaml").write_text(RELEASE_YAML + PIPELINE_STEPS)
    for name in (
        "prepare_the_customer_features_for_training",
        "train_gradient_boosting_classifier",
    ):
        make_notebook(ws.root / f"{name}.ipynb", None, "x = 1")
    client = client_for(ws)
    for step, value in enumerate((0.71, 0.78, 0.8123)):
        client.log_metric(best, "accuracy", value, step=step)
    client.log_metric(weaker, "accuracy", 0.81)
    client.set_tag(best, "mlflow.runName", LONG_NAME)
    mv = register(gateway_for(ws), weaker, "churn")
    client.set_model_version_tag("churn", mv.version, "mlops.gates", "passed")
    promote(gateway_for(ws), "churn", mv.version, "champion", reason="initial release")


def check_tab(page, panel, tab: str, theme: str) -> None:
    panel.locator(f".lm-TabBar-tab[title='{tab.capitalize()}']").click()
    view = page.locator(f"#jp-mlops-tab-{tab}")
    view.wait_for(state="visible")
    page.wait_for_timeout(200)
    screenshot(page, f"layout-{theme}-{tab}")
    problems = layout_problems(page, "#jp-mlops-sidebar")
    assert problems == [], f"{tab} tab ({theme}) does not fit:\n" + "\n".join(problems)


def test_every_tab_fits_the_default_width_in_light_and_dark(workspace, tmp_path):
    chromium_path()
    seed(workspace)
    with running_lab(workspace.root, tmp_path / "lab") as lab, chromium_page() as page:
        open_lab(page, lab)
        panel = open_panel(page)
        width = panel.bounding_box()["width"]
        assert 200 <= width <= 300, f"the sidebar is {width} px wide: not JupyterLab's default"

        runs = panel.locator("#jp-mlops-tab-runs")
        runs.locator(".jp-mlops-run").nth(1).wait_for(timeout=30_000)
        # one line a run: status, name (cut with an ellipsis), key metric
        assert max(one_line_heights(page, "#jp-mlops-tab-runs .jp-mlops-run-name")) < 1.5
        assert runs.locator(".jp-mlops-metric-value").first.inner_text() == "0.8123"
        assert runs.locator(".jp-mlops-status-mark").first.get_attribute("aria-label") == (
            "finished"
        )
        # icon tabs, each with its tooltip and an accessible name
        tabs = panel.locator(".lm-TabBar-tab")
        assert [tabs.nth(i).get_attribute("title") for i in range(len(TABS))] == [
            t.capitalize() for t in TABS
        ]
        assert max(one_line_heights(page, "#jp-mlops-sidebar .lm-TabBar-tab")) < 2.5
        panel.locator(".lm-TabBar-tab[title='Pipeline']").click()
        panel.locator(".jp-mlops-step").first.wait_for(timeout=30_000)
        panel.locator(".lm-TabBar-tab[title='Monitor']").click()
        panel.locator(".jp-mlops-monitor-model").first.wait_for(timeout=30_000)
        panel.locator(".lm-TabBar-tab[title='Lineage']").click()
        panel.locator(".jp-mlops-lineage-starts li").first.wait_for(timeout=30_000)

        for theme in ("JupyterLab Light", "JupyterLab Dark"):
            use_theme(page, theme)
            short = theme.split()[-1].lower()
            for tab in TABS:
                check_tab(page, panel, tab, short)
            check_main_tabs(page, panel, short)


def check_main_tabs(page, panel, theme: str) -> None:
    """A run, a comparison and a version in the main area: drawn, and nothing spills out."""
    panel.locator(".lm-TabBar-tab[title='Runs']").click()
    runs = panel.locator("#jp-mlops-tab-runs .jp-mlops-run")
    runs.first.locator(".jp-mlops-run-name").click()
    page.locator(".jp-mlops-run-panel .jp-mlops-line-chart").first.wait_for(timeout=15_000)
    screenshot(page, f"main-{theme}-run")
    problems = layout_problems(page, ".jp-mlops-run-panel")
    assert problems == [], f"run tab ({theme}):\n" + "\n".join(problems)

    for i in range(2):
        box = runs.nth(i).locator("input")
        if not box.is_checked():
            box.check()
    panel.locator(".jp-mlops-compare").click()
    page.locator(".jp-mlops-comparison-panel .jp-mlops-bar").nth(1).wait_for(timeout=15_000)
    screenshot(page, f"main-{theme}-comparison")
    problems = layout_problems(page, ".jp-mlops-comparison-panel")
    assert problems == [], f"comparison tab ({theme}):\n" + "\n".join(problems)

    panel.locator(".lm-TabBar-tab[title='Models']").click()
    panel.locator(".jp-mlops-version[data-version='1']").click()
    page.locator(".jp-mlops-version-detail[data-version='1']").wait_for(timeout=15_000)
    screenshot(page, f"main-{theme}-version")
    problems = layout_problems(page, ".jp-mlops-version-panel")
    assert problems == [], f"version tab ({theme}):\n" + "\n".join(problems)
