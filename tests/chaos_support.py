"""The small pipeline the kill -9 trials build, and finding and ending the processes they start."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import psutil
from notebook_support import make_notebook

OUTPUT_END = "|end"  # every output file the steps write ends so: a shorter one is half-written
# the package is not installed in development: register the entry point's engine by hand
PAPERMILL_CLI = (
    "import sys\nfrom jupyter_mlops.pipeline.engine import register_engine\nregister_engine()\n"
    "from papermill.cli import papermill\nsys.exit(papermill())"
)

MAKE_A = f"""\
%%mlops track --name make-a
import time
from pathlib import Path
import jupyter_mlops
time.sleep(0.5)
seed = Path('seed_a.txt').read_text()
Path('out').mkdir(exist_ok=True)
Path('out/a.txt').write_text(f'{{seed}} n={{n}} ' + 'a' * 200_000 + '{OUTPUT_END}')
jupyter_mlops.log_metrics(n=float(n), size=float(len(seed)))
"""
MAKE_B = f"""\
%%mlops track --name make-b
import time
from pathlib import Path
import jupyter_mlops
time.sleep(0.5)
a = Path('out/a.txt').read_text()
seed = Path('seed_b.txt').read_text()
Path('out/b').mkdir(parents=True, exist_ok=True)
for part in ('one', 'two'):
    Path(f'out/b/{{part}}.txt').write_text(f'{{seed}} {{part}} {{len(a)}}' + 'b' * 100_000 + '{OUTPUT_END}')
jupyter_mlops.log_metrics(a_size=float(len(a)))
"""
YAML = """\
project: chaos
experiment: chaos
steps:
  a:
    notebook: a.ipynb
    parameters: {n: 3}
    inputs: [seed_a.txt]
    outputs: [out/a.txt]
  b:
    notebook: b.ipynb
    needs: [a]
    inputs: [out/a.txt, seed_b.txt]
    outputs: [out/b]
"""


def write_project(root: Path) -> None:
    """Two steps of about a second each: ``a`` writes out/a.txt, ``b`` the folder out/b; both
    log a metric from a tracked cell (so their kernels journal records of their own)."""
    make_notebook(root / "a.ipynb", "n = 0", "%load_ext jupyter_mlops", MAKE_A)
    make_notebook(root / "b.ipynb", None, "%load_ext jupyter_mlops", MAKE_B)
    (root / "mlops.yaml").write_text(YAML)
    (root / "runs").mkdir()
    for step in "ab":
        (root / f"seed_{step}.txt").write_text("first")


def kernels_of(pid: int) -> list[psutil.Process]:
    """The running kernels started (at any depth) by process ``pid``."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if any("ipykernel" in part for part in child.cmdline()):
                found.append(child)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def kill_tree(proc: subprocess.Popen) -> None:
    """End ``proc`` and whatever is left of its process group (it was started in a new session);
    the kernels of a killed build that did not notice their parent died are ended here."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.communicate(timeout=10)
    except (subprocess.TimeoutExpired, ValueError):
        pass
