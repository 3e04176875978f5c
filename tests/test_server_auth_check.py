"""scripts/check_auth.py: passes on the real server package and catches each kind of gap."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_auth.py"


@pytest.fixture(scope="module")
def check_auth():
    spec = importlib.util.spec_from_file_location("check_auth", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_route_of_the_package_is_protected(check_auth, capsys):
    assert check_auth.main([]) == 0, capsys.readouterr().out


def test_every_registered_route_is_a_checked_handler(check_auth):
    from jupyter_mlops.server import ROUTES

    for _, handler in ROUTES:
        assert handler.auth_resource.startswith("jupyter_mlops:"), handler
        source = Path(__import__(handler.__module__, fromlist=["_"]).__file__).read_text()
        assert check_auth.check_source(source, handler.__module__) == []


GOOD = """
class RunsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:runs"

    @tornado.web.authenticated
    @authorized
    async def get(self):
        pass
"""


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (GOOD, []),
        (
            GOOD.replace("    @tornado.web.authenticated\n", ""),
            ["lacks @tornado.web.authenticated"],
        ),
        (GOOD.replace("    @authorized\n", ""), ["lacks @authorized"]),
        (GOOD.replace('auth_resource = "jupyter_mlops:runs"', "x = 1"), ["auth_resource"]),
        (
            GOOD.replace(
                "@tornado.web.authenticated\n    @authorized", "@authorized\n    @web.authenticated"
            ),
            ["must come before"],
        ),
        (GOOD + "\n    def delete(self):\n        pass\n", ["delete lacks", "delete lacks"]),
    ],
)
def test_catches_missing_decorators(check_auth, source, expected):
    problems = check_auth.check_source(textwrap.dedent(source), "sample.py")
    assert len(problems) == len(expected)
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem


def test_route_table_entries_must_be_checked_handlers(check_auth, tmp_path):
    pkg = tmp_path / "server"
    pkg.mkdir()
    (pkg / "runs.py").write_text(textwrap.dedent(GOOD))
    (pkg / "__init__.py").write_text(
        "ROUTES = [\n    (r'runs', RunsHandler),\n    (r'raw', RawHandler),\n]\n"
    )
    (pkg / "raw.py").write_text(
        "class RawHandler(APIHandler):\n    def get(self):\n        pass\n"
        "def setup(app):\n    app.add_handlers('.*', [])\n"
    )
    problems = check_auth.check_folder(pkg)
    text = "\n".join(problems)
    assert "RawHandler is not an authenticated handler" in text
    assert "routes registered outside setup_handlers" in text
    assert "RunsHandler" not in text
