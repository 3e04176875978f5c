"""A notebook cell in a real JupyterLab: "Track This Cell" from the cell's context menu puts
``%%mlops track`` on top, the cell runs in a real kernel, and "Open Run of This Cell" opens the
run it recorded in the main area."""

from __future__ import annotations

import re

import pytest
from browser_support import chromium_page, chromium_path, open_lab, running_lab, screenshot
from notebook_support import make_notebook

pytestmark = pytest.mark.browser


def context_menu(page, cell, label: str) -> None:
    cell.locator(".jp-InputArea-editor").click()
    cell.locator(".jp-InputArea-editor").click(button="right")
    item = page.locator(".lm-Menu-item", has_text=label).first
    item.wait_for()
    assert "lm-mod-disabled" not in (item.get_attribute("class") or ""), label
    item.click()


def test_track_a_cell_then_open_its_run(workspace, tmp_path):
    chromium_path()
    make_notebook(workspace.root / "tracked.ipynb", None, "%load_ext jupyter_mlops", "score = 0.75")
    with running_lab(workspace.root, tmp_path / "lab") as lab, chromium_page() as page:
        open_lab(page, lab)
        page.goto(f"{lab.url}/lab/tree/tracked.ipynb?token={lab.token}")
        page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
        cells = page.locator(".jp-Notebook .jp-CodeCell")
        cells.nth(1).wait_for(timeout=30_000)
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=60_000)

        context_menu(page, cells.nth(1), "Track This Cell")
        source = cells.nth(1).locator(".jp-InputArea-editor").inner_text()
        assert source.splitlines()[:2] == ["%%mlops track", "score = 0.75"], source
        context_menu(page, cells.nth(1), "Track This Cell")  # once only
        assert cells.nth(1).locator(".jp-InputArea-editor").inner_text().count("%%mlops") == 1

        cells.nth(0).locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Shift+Enter")
        cells.nth(1).locator(".jp-InputPrompt", has_text="[2]").wait_for(timeout=60_000)

        run_tab = page.locator(".jp-mlops-run-panel")
        for _ in range(20):  # the run reaches the store a moment after the cell
            context_menu(page, cells.nth(1), "Open Run of This Cell")
            page.wait_for_timeout(1_000)
            if run_tab.count() > 0:
                break
        run_tab.locator(".jp-mlops-main-header h2").wait_for(timeout=10_000)
        page.wait_for_timeout(1500)
        screenshot(page, "cell-open-run")
        run_tab.locator(".jp-mlops-kv", has_text="score").first.wait_for(timeout=10_000)
        assert "0.75" in run_tab.inner_text()
        title = run_tab.locator(".jp-mlops-main-header h2").inner_text()
    assert re.search(r"cell-3-[0-9a-f]{4}$", title), title  # default names carry the kernel's id
