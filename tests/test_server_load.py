"""Loading the server extension stays cheap: no MLflow (1.4 s of imports) until a request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
import jupyter_server.serverapp, tornado.web

class App:
    root_dir = sys.argv[1]
    web_app = tornado.web.Application(base_url="/")

import jupyter_mlops
jupyter_mlops._load_jupyter_server_extension(type("S", (), {
    "root_dir": App.root_dir, "web_app": App.web_app,
    "log": __import__("logging").getLogger("probe")})())
heavy = sorted(m for m in ("mlflow", "pandas", "sklearn", "papermill") if m in sys.modules)
rules = [
    rule.matcher.regex.pattern
    for host in App.web_app.default_router.rules
    for rule in getattr(host.target, "rules", [])
]
print(json.dumps({"heavy": heavy, "rules": rules}))
"""


def test_loading_the_extension_imports_nothing_heavy(tmp_path: Path):
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert any("jupyter-mlops/api/runs" in rule for rule in report["rules"])
    assert not (tmp_path / ".mlops").exists()
