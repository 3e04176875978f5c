"""A real ``jupyter lab`` process and Debian's Chromium for browser tests.

The server is started from this interpreter's environment, on a free port of 127.0.0.1, with a
token, private settings and workspaces folders (the news toast silenced so screenshots are clean),
and the PID kept is the server's own, so stopping it leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ci_support import missing
from ports import free_port
from team_server_support import stop_gracefully
from waiting import wait_until

REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUT_DIR = REPO_ROOT / "test-output" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def chromium_path() -> str:
    """Debian's Chromium; Playwright's own browser download is never used."""
    path = os.environ.get("MLOPS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        missing("Debian's chromium is not installed: apt-get install -y chromium")
    return path


@dataclass
class LabServer:
    url: str
    token: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def get_json(self, path: str) -> dict:
        req = urllib.request.Request(
            f"{self.url}/{path}", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read().decode())

    def page_config(self) -> dict:
        """The JSON JupyterLab embeds in its page: which federated extensions it will load."""
        req = urllib.request.Request(
            f"{self.url}/lab", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            html = resp.read().decode()
        start = html.index('id="jupyter-config-data"')
        start = html.index(">", start) + 1
        return json.loads(html[start : html.index("</script>", start)])


def _write_settings(folder: Path) -> None:
    for name, values in LAB_SETTINGS.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextmanager
def running_lab(root: Path, scratch: Path, *, timeout: float = 60.0):
    """``jupyter lab`` serving ``root`` with the jupyter_mlops server extension enabled."""
    lab = Path(sys.executable).parent / "jupyter-lab"
    if not lab.is_file():
        missing(f"jupyter-lab not found next to {sys.executable}")
    scratch.mkdir(parents=True, exist_ok=True)
    settings = scratch / "settings"
    _write_settings(settings)
    config = scratch / "jupyter_server_config.json"
    config.write_text(json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_mlops": True}}}))
    token = "mlops-browser-test-token"
    port = free_port()  # from below the ephemeral range: no kernel takes it while the lab starts
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_"))}
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    log_path = scratch / "jupyter-lab.log"
    args = [
        str(lab),
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--config={config}",
        "--LabApp.news_url=",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            args, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, process, log_path)
    try:
        _wait_ready(server, timeout)
        yield server
    finally:
        stop_gracefully(process, timeout=10)


def _wait_ready(server: LabServer, timeout: float) -> None:
    def answers() -> bool:
        if server.process.poll() is not None:
            raise AssertionError(f"jupyter lab exited early:\n{server.log_tail()}")
        server.get_json("api/status")
        return True

    wait_until(
        answers,
        timeout,
        interval=0.2,
        message=lambda: f"jupyter lab not ready:\n{server.log_tail()}",
        ignoring=(urllib.error.URLError, ConnectionError, TimeoutError),
    )


@contextmanager
def chromium_page(width: int = 1280, height: int = 800):
    """A headless Debian Chromium page driven by Python Playwright."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Python playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            yield context.new_page()
        finally:
            browser.close()


def screenshot(page, name: str) -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# Every element of the panel must fit: no horizontal overflow (text cut with an ellipsis on
# purpose is fine), nothing past the panel's right edge, and no word stacked one letter a line.
LAYOUT_PROBLEMS_JS = """
(selector) => {
  const root = document.querySelector(selector);
  if (!root) { return ['no element ' + selector]; }
  const edge = root.getBoundingClientRect().right;
  const problems = [];
  const name = el => el.tagName.toLowerCase() + '.' + [...el.classList].join('.') +
    ' "' + (el.textContent || '').trim().slice(0, 30) + '"';
  for (const el of root.querySelectorAll('*')) {
    if (el.closest('svg') || ['SELECT', 'OPTION', 'INPUT'].includes(el.tagName)) { continue; }
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.display === 'none' || style.visibility === 'hidden' || box.width === 0) { continue; }
    if (style.position === 'absolute' && style.clipPath !== 'none') { continue; }
    const clipped = style.textOverflow === 'ellipsis';
    if (!clipped && el.scrollWidth > el.clientWidth + 2 && el.clientWidth > 0) {
      problems.push('overflows (' + el.scrollWidth + ' > ' + el.clientWidth + '): ' + name(el));
    }
    if (box.right > edge + 1 && !el.parentElement.closest('[style*="ellipsis"]')) {
      problems.push('past the right edge (' + Math.round(box.right - edge) + ' px): ' + name(el));
    }
    const nodes = [...el.childNodes].filter(n => n.nodeType === 3);
    const text = nodes.map(n => n.textContent).join('').trim();
    const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.3;
    if (text.length >= 4 && !text.includes(' ') && box.height > 2.5 * line) {
      // the text's own height: a table cell is as tall as its row, its one word need not be
      const range = document.createRange();
      range.setStartBefore(nodes[0]);
      range.setEndAfter(nodes[nodes.length - 1]);
      const height = range.getBoundingClientRect().height;
      if (height > 2.5 * line) {
        problems.push('word stacked over ' + Math.round(height / line) + ' lines: ' + name(el));
      }
    }
  }
  return problems;
}
"""


def layout_problems(page, selector: str) -> list[str]:
    """What does not fit in ``selector`` (see LAYOUT_PROBLEMS_JS); empty when all fits."""
    return page.evaluate(LAYOUT_PROBLEMS_JS, selector)


def one_line_heights(page, selector: str) -> list[float]:
    """Heights of the elements matching ``selector`` over their own line height."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].map(el => {
            const style = getComputedStyle(el);
            const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.3;
            return el.getBoundingClientRect().height / line;
        })""",
        selector,
    )


def open_lab(page, lab) -> None:
    page.goto(f"{lab.url}/lab?token={lab.token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)


def run_palette_command(page, label: str) -> None:
    """Run a command by its label through the command palette, as a user does."""
    page.locator("#jp-main-dock-panel .lm-TabBar").first.click()  # focus the app, harmlessly
    page.keyboard.press("Control+Shift+C")
    palette = page.locator("#command-palette input")
    palette.wait_for()
    palette.fill(label)
    page.locator("#command-palette .lm-CommandPalette-item", has_text=label).first.click()


def open_panel(page) -> object:
    """The MLOps panel, opened from the palette, at JupyterLab's default sidebar width."""
    run_palette_command(page, "Open MLOps Panel")
    panel = page.locator("#jp-mlops-sidebar")
    panel.wait_for(state="visible")
    return panel


def use_theme(page, theme: str) -> None:
    """Switch JupyterLab's theme ("JupyterLab Light" or "JupyterLab Dark") and wait for it."""
    run_palette_command(page, f"Use Theme: {theme}")
    light = "true" if "Light" in theme else "false"
    page.wait_for_function(
        f"document.body.dataset.jpThemeLight === '{light}'"
        f" && document.body.dataset.jpThemeName === '{theme}'",
        timeout=15_000,
    )
    page.wait_for_timeout(300)
