"""The ``MLOPS_*`` settings: declared once, read from the environment, then mlops.yaml, then the
default, and listed by ``jupyter-mlops config`` / ``%mlops config`` with where each came from."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import jupyter_mlops
from jupyter_mlops.cli import main
from jupyter_mlops.config import config_schema
from jupyter_mlops.errors import ConfigError, InvalidInput
from jupyter_mlops.settings import SECTION, Settings, child_environment, declared
from jupyter_mlops.workspace import Workspace

PACKAGE = Path(jupyter_mlops.__file__).parent


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            found.add(id(first.value))
    return found


def test_no_module_but_settings_names_an_mlops_variable():
    """Code reads and hands on MLOPS_* variables only through the declared settings."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "settings.py" and path.parent == PACKAGE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and re.search(r"\bMLOPS_[A-Z]", node.value)
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value[:60]!r}")
    assert offenders == []


def test_each_setting_is_declared_once_with_its_variable():
    envs = [s.env for s in declared()]
    assert len(envs) == len(set(envs)) == 25
    assert all(re.fullmatch(r"MLOPS_[A-Z_]+", e) for e in envs)


def test_the_schema_documents_every_setting_mlops_yaml_may_hold():
    section = config_schema()["properties"][SECTION]
    yaml_settable = {s.name for s in declared() if s.yaml_key == f"{SECTION}.{s.name}"}
    assert set(section["properties"]) == yaml_settable
    assert section["additionalProperties"] is False


def _project(tmp_path: Path, text: str) -> Workspace:
    (tmp_path / "mlops.yaml").write_text(text)
    return Workspace.find(tmp_path)


def test_environment_then_mlops_yaml_then_default(tmp_path, monkeypatch):
    for s in declared():
        monkeypatch.delenv(s.env, raising=False)
    ws = _project(
        tmp_path,
        "project: p\nexperiment: from-yaml\nsettings:\n  lease_ttl: 12\n  engine_tracking: false\n",
    )
    settings = ws.settings
    assert settings.lease_ttl == 12.0
    assert settings.resolve(Settings.lease_ttl).origin == "mlops.yaml (settings.lease_ttl)"
    assert settings.engine_tracking is False
    assert settings.lease_settle == 1.0
    assert settings.resolve(Settings.lease_settle).origin == "default"
    assert ws.default_experiment == "from-yaml"
    monkeypatch.setenv("MLOPS_LEASE_TTL", "7.5")
    monkeypatch.setenv("MLOPS_EXPERIMENT", "from-env")
    assert settings.lease_ttl == 7.5
    assert settings.resolve(Settings.lease_ttl).origin == "environment (MLOPS_LEASE_TTL)"
    assert ws.default_experiment == "from-env"
    assert settings.line_of(Settings.engine_tracking) == 5


@pytest.mark.parametrize(
    ("env", "raw", "message"),
    [
        ("MLOPS_LEASE_TTL", "soon", "MLOPS_LEASE_TTL must be a number of seconds, got 'soon'"),
        ("MLOPS_LEASE_SETTLE", "-1", "MLOPS_LEASE_SETTLE must be between 0 and 3600 seconds"),
        ("MLOPS_ENGINE_TRACKING", "maybe", "MLOPS_ENGINE_TRACKING must be true or false"),
        ("MLOPS_SYNC", "agnet", "did you mean 'agent'?"),
    ],
)
def test_a_bad_variable_is_one_line_naming_it(monkeypatch, env, raw, message):
    monkeypatch.setenv(env, raw)
    name = next(s.name for s in declared() if s.env == env)
    with pytest.raises(InvalidInput, match=re.escape(message)):
        getattr(Settings(), name)


def test_a_bad_settings_section_names_file_key_and_line(tmp_path, monkeypatch):
    for s in declared():
        monkeypatch.delenv(s.env, raising=False)
    with pytest.raises(ConfigError, match=r"mlops.yaml:3: settings.lease_tll: unknown setting "):
        _ = _project(tmp_path, "project: p\nsettings:\n  lease_tll: 1\n").settings
    ws = _project(tmp_path, "project: p\nsettings:\n  agent_idle: 5\n  lease_ttl: later\n")
    with pytest.raises(ConfigError, match=r"mlops.yaml:4: settings.lease_ttl: must be a number"):
        _ = ws.settings.lease_ttl
    assert ws.settings.agent_idle == 5.0  # one bad value stops only what reads it


def test_settings_handed_to_a_child_process_read_back():
    env = child_environment(parent_run_id="abc123", notebook_path=None, step_metrics_file="/m")
    assert env == {"MLOPS_PARENT_RUN_ID": "abc123", "MLOPS_STEP_METRICS_FILE": "/m"}
    child = Settings(environ=env)
    assert child.parent_run_id == "abc123" and child.notebook_path is None
    with pytest.raises(TypeError, match="no setting named 'parent'"):
        child_environment(parent="x")


def test_config_lists_every_setting_with_where_it_came_from(tmp_path, monkeypatch, capsys):
    for s in declared():
        monkeypatch.delenv(s.env, raising=False)
    monkeypatch.setenv("MLOPS_ACTOR", "ci-bot")
    _project(
        tmp_path,
        "project: shop\nsettings:\n  tracking_db_uri: postgresql://reader:hunter2@db/mlflow\n",
    )
    assert main(["-C", str(tmp_path), "config", "--json"]) == 0
    rows = {r["setting"]: r for r in json.loads(capsys.readouterr().out)}
    assert list(rows) == [s.env for s in declared()]
    assert rows["MLOPS_ACTOR"]["origin"] == "environment (MLOPS_ACTOR)"
    db = rows["MLOPS_TRACKING_DB_URI"]
    assert db["origin"] == "mlops.yaml (settings.tracking_db_uri, line 3)"
    assert db["value"] == "postgresql://reader:***@db/mlflow"  # a password is never printed
    assert rows["MLOPS_EXPERIMENT"]["value"] == "shop"
    assert rows["MLOPS_WORKSPACE"]["value"] == str(tmp_path.resolve())
    assert rows["MLOPS_LEASE_TTL"] == {
        **rows["MLOPS_LEASE_TTL"],
        "value": "30",
        "origin": "default",
    }
    assert main(["-C", str(tmp_path), "config"]) == 0
    text = capsys.readouterr().out
    assert "MLOPS_ACTOR" in text and "ci-bot" in text and "hunter2" not in text
    assert (
        text.index("MLOPS_GUARD")
        < text.index("# set by jupyter-mlops")
        < text.index("MLOPS_PARENT_RUN_ID")
    )


def test_percent_mlops_config_shows_the_same_table(mlops_shell, workspace, capsys):
    mlops_shell.run_line_magic("mlops", "config")
    out = capsys.readouterr().out
    assert all(s.env in out for s in declared())
    assert str(workspace.root) in out
