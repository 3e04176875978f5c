"""Secrets planted everywhere a notebook run leaves text never reach the store or ``.mlops/``.

One tracked notebook, run as a new user would (``papermill --engine mlops`` on the command line,
then ``jupyter-mlops sync``), plants a secret in each place the redactor must cover: an earlier
untracked cell's ``os.environ`` assignment, a tracked cell's ``GITHUB_TOKEN`` and
``postgresql://user:PASSWORD@`` URL (printed too), a papermill parameter, the git diff of the
project and an error message. Then every file of the store is searched for each secret: the
database (SQLite file, or PostgreSQL's tables read as text) and the artifacts, and all of
``.mlops/`` (journals, locks, logs, staged copies). The runs are still complete, and reproduce
puts the secrets back from the environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from jupyter_mlops.cli import main
from jupyter_mlops.commands.texts import reproduction_text
from jupyter_mlops.errors import InvalidInput
from jupyter_mlops.redact import forget_all
from jupyter_mlops.reproduce.rerun import reproduce
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.tags import (
    ERROR_TAG,
    REDACTED_DIFF_TAG,
    REDACTED_TAG,
    SECRET_NAMES_TAG,
    SOURCE_TAG,
    error_tag,
)

REPO = Path(__file__).resolve().parents[1]
PAPERMILL_CLI = (
    "import sys\nfrom jupyter_mlops.pipeline.engine import register_engine\nregister_engine()\n"
    "from papermill.cli import papermill\nsys.exit(papermill())"
)
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GITHUB_TOKEN = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"
DB_PASSWORD = "Tr0ub4dor-and-3"
DB_URL = f"postgresql://analyst:{DB_PASSWORD}@db.example.org:5432/sales"
WAREHOUSE_PASSWORD = "Wh-Pass-9f8e7d6c5b4a"
SLACK_TOKEN = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SECRETS = {
    "os.environ assignment": AWS_SECRET,
    "GITHUB_TOKEN": GITHUB_TOKEN,
    "URL password": DB_PASSWORD,
    "papermill parameter": WAREHOUSE_PASSWORD,
    "git diff": SLACK_TOKEN,
}


def _notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell('warehouse_password = "placeholder"')
    params.metadata["tags"] = ["parameters"]
    failing = nbformat.v4.new_code_cell(
        "%%mlops track --name failing\n"
        'raise ValueError(f"cannot log in to {DB_URL} with {GITHUB_TOKEN}")'
    )
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            f"import os\nos.environ['AWS_SECRET_ACCESS_KEY'] = '{AWS_SECRET}'"
        ),
        nbformat.v4.new_code_cell("%load_ext jupyter_mlops"),
        nbformat.v4.new_code_cell(
            "%%mlops track --name planted-cell --metrics rows\n"
            f"GITHUB_TOKEN = '{GITHUB_TOKEN}'\n"
            f'DB_URL = "{DB_URL}"\n'
            "rows = len(warehouse_password) + 3\n"
            'print("connecting to", DB_URL)'
        ),
        failing,
    ]
    nbformat.write(nb, path)


def _git_project(root: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
            cwd=root,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    (root / "settings.py").write_text("DEBUG = True\n")
    git("add", "settings.py")
    git("commit", "-q", "-m", "settings")
    (root / "settings.py").write_text(f'DEBUG = True\nSLACK_BOT_TOKEN = "{SLACK_TOKEN}"\n')


def _leaks(ws, store: str, request: pytest.FixtureRequest) -> list[str]:
    """Each planted secret found in ``.mlops/`` and, on the team store, in the server's artifacts
    and database. Files are searched by ``grep`` in its own process: a read of the SQLite file
    from this process (which has it open through MLflow) would drop SQLite's locks on close."""
    folders = [str(ws.state_dir)]
    database = ""
    if store == "team":
        server = request.getfixturevalue("team_tracking")
        folders.append(str(server.artifacts_dir))
        with request.getfixturevalue("pg_cluster").connect(server.database) as con:
            tables = con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchall()
            database = "\n".join(
                row[0]
                for (table,) in tables
                for row in con.execute(f'SELECT t::text FROM "{table}" t').fetchall()
            )
    leaks = []
    for what, secret in SECRETS.items():
        found = subprocess.run(
            ["grep", "-rlaF", "--", secret, *folders], capture_output=True, text=True, check=False
        )
        leaks += [f"{what} in {path}" for path in found.stdout.splitlines()]
        if secret in database:
            leaks.append(f"{what} in the tracking database")
    return leaks


def _runs_by_name(ws) -> dict:
    client = client_for(ws)
    exps = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(exps)
    named = {r.info.run_name: r for r in runs}
    named["step"] = next(r for r in runs if r.data.tags.get(SOURCE_TAG) == "papermill")
    return named


@pytest.mark.slow
def test_planted_secrets_never_reach_the_store(workspace, store, request, tmp_path, monkeypatch):
    ws = workspace
    forget_all()
    _git_project(ws.root)
    _notebook(ws.root / "planted.ipynb")
    out = tmp_path / "planted.out.ipynb"  # the user's own output file, outside the store
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("AWS_SECRET_ACCESS_KEY", None)
    proc = subprocess.run(
        [sys.executable, "-c", PAPERMILL_CLI, "--engine", "mlops", "--no-progress-bar"]
        + ["planted.ipynb", str(out), "-p", "warehouse_password", WAREHOUSE_PASSWORD],
        cwd=ws.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]  # the last cell raises, as planted
    assert "replaced by *** in what this run records" in proc.stderr
    executed = out.read_text()
    assert GITHUB_TOKEN in executed and DB_PASSWORD in executed  # planted where a user sees it
    assert main(["-C", str(ws.root), "sync"]) == 0

    assert _leaks(ws, store, request) == []

    runs = _runs_by_name(ws)
    planted, failing = runs["planted-cell"], runs["failing"]
    assert (
        planted.info.status == "FINISHED"
        and planted.data.metrics["rows"] == len(WAREHOUSE_PASSWORD) + 3
    )
    assert int(planted.data.tags[REDACTED_TAG]) >= 3
    needed = set(planted.data.tags[SECRET_NAMES_TAG].split(","))
    assert {"GITHUB_TOKEN", "DB_URL", "AWS_SECRET_ACCESS_KEY", "warehouse_password"} <= needed
    client = client_for(ws)
    cell = client.download_artifacts(planted.info.run_id, "mlops/cell.py", str(tmp_path))
    assert "GITHUB_TOKEN = '***'" in Path(cell).read_text()
    assert 'DB_URL = "postgresql://analyst:***@db.example.org:5432/sales"' in Path(cell).read_text()
    history = client.download_artifacts(planted.info.run_id, "mlops/history.json", str(tmp_path))
    assert len(json.loads(Path(history).read_text())) >= 3
    assert planted.data.tags.get(REDACTED_DIFF_TAG) == "1"
    diff = client.download_artifacts(planted.info.run_id, "mlops/git.diff", str(tmp_path))
    assert 'SLACK_BOT_TOKEN = "***"' in Path(diff).read_text()
    assert failing.info.status == "FAILED"
    assert "postgresql://analyst:***@" in failing.data.tags[ERROR_TAG]
    step = runs["step"]
    assert step.info.status == "FAILED" and int(step.data.tags[REDACTED_TAG]) >= 4
    assert "postgresql://analyst:***@" in step.data.tags[error_tag("evalue")]

    # reproduce names what it needs, then takes it from the environment
    with pytest.raises(InvalidInput, match="GITHUB_TOKEN") as refused:
        reproduce(gateway_for(ws), planted.info.run_id)
    assert "warehouse_password" in refused.value.message
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("DB_URL", DB_URL)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("WAREHOUSE_PASSWORD", WAREHOUSE_PASSWORD)
    result = reproduce(gateway_for(ws), planted.info.run_id)
    assert result.verdict == "reproduced", reproduction_text(result)
    assert main(["-C", str(ws.root), "sync"]) == 0
    assert _leaks(ws, store, request) == []  # nor does the reproduction leave them
