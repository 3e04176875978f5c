"""The release artifacts: an sdist, a wheel built from it, and the wheel installed (not editable)
into a venv of its own, where JupyterLab, Jupyter Server, the CLI and papermill must find it.

The venv gets no copy of the dependencies: a cache-free CI would download a gigabyte again. A
path file shows it the test environment's installed distributions (without this project's own
editable install), and pip installs with ``--no-index``: the wheel's declared requirements must
resolve against them, nothing is downloaded, and only the wheel's files provide jupyter_mlops.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
from ci_support import missing
from notebook_support import make_notebook

from jupyter_mlops import __version__

REPO = Path(__file__).resolve().parents[1]
LABEXT = "share/jupyter/labextensions/jupyter-mlops"
pytestmark = pytest.mark.slow


def _run(*argv: str | Path, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done


def _build(dist: Path) -> tuple[Path, Path]:
    """sdist from the checkout, then the wheel from the sdist (what `python -m build` does)."""
    if not (REPO / "jupyter_mlops" / "labextension" / "package.json").is_file():
        missing("the labextension is not built (`make install` builds it)")
    _run(sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", dist, cwd=REPO)
    (sdist,) = dist.glob("jupyter_mlops-*.tar.gz")
    _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "--disable-pip-version-check", "-w", dist, sdist,
    )  # fmt: skip
    (wheel,) = dist.glob("jupyter_mlops-*.whl")
    return sdist, wheel


def _dependencies_view(folder: Path) -> Path:
    """The test environment's site-packages minus this project, as a folder of symlinks."""
    site = Path(sysconfig.get_path("purelib"))
    folder.mkdir()
    for entry in site.iterdir():
        name = entry.name.lower()
        if name.startswith(("jupyter_mlops", "_editable_impl_jupyter_mlops", "__editable__")):
            continue
        if entry.suffix == ".pth":
            continue
        (folder / entry.name).symlink_to(entry)
    return folder


def _clean_venv(root: Path, deps: Path) -> Path:
    _run(sys.executable, "-m", "venv", "--without-pip", root / "venv")
    python = root / "venv" / "bin" / "python"
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    Path(purelib.stdout.strip(), "test_dependencies.pth").write_text(f"{deps}\n")
    return python


def test_one_version_number() -> None:
    """The wheel's version comes from jupyter_mlops/_version.py; the sidebar's must agree."""
    package = json.loads((REPO / "labextension" / "package.json").read_text())
    assert package["version"] == __version__
    assert 'dynamic = ["version"]' in (REPO / "pyproject.toml").read_text()


def test_wheel_installs_and_works_without_the_checkout(tmp_path: Path) -> None:
    sdist, wheel = _build(tmp_path / "dist")
    with tarfile.open(sdist) as tar:
        in_sdist = tar.getnames()
    top = f"jupyter_mlops-{__version__}"
    assert f"{top}/jupyter_mlops/labextension/package.json" in in_sdist
    assert f"{top}/labextension/src/index.ts" in in_sdist
    assert not any("node_modules" in n for n in in_sdist)

    names = zipfile.ZipFile(wheel).namelist()
    data = f"jupyter_mlops-{__version__}.data/data"
    assert f"{data}/{LABEXT}/package.json" in names
    assert f"{data}/{LABEXT}/install.json" in names
    assert any(n.startswith(f"{data}/{LABEXT}/static/remoteEntry.") for n in names)
    assert f"{data}/etc/jupyter/jupyter_server_config.d/jupyter_mlops.json" in names
    entry_points = zipfile.ZipFile(wheel).read(f"{top}.dist-info/entry_points.txt").decode()
    assert "mlops = jupyter_mlops.pipeline.engine:MlopsEngine" in entry_points
    assert "jupyter-mlops = jupyter_mlops.cli:run" in entry_points
    built = json.loads(zipfile.ZipFile(wheel).read(f"{data}/{LABEXT}/package.json"))
    assert built["version"] == __version__

    python = _clean_venv(tmp_path, _dependencies_view(tmp_path / "deps"))
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-index",
        "--disable-pip-version-check", wheel,
    )  # fmt: skip
    home = tmp_path / "home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MLOPS_"))},
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "PYTHONPATH": "",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    outside = {"env": env, "cwd": home}  # not the checkout: `python -c` imports from its cwd
    home.mkdir()
    where = _run(python, "-c", "import jupyter_mlops; print(jupyter_mlops.__file__)", **outside)
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "venv"), where.stdout

    labext = _run(python, "-m", "jupyterlab.labextensions", "list", **outside)
    assert any(
        line.split()[:1] == ["jupyter-mlops"] and "enabled" in line and "OK" in line
        for line in (labext.stdout + labext.stderr).splitlines()
    ), labext.stdout + labext.stderr
    server = _run(python, "-m", "jupyter_server.extension.serverextension", "list", **outside)
    assert any(
        line.split()[:1] == ["jupyter_mlops"] and "enabled" in line
        for line in (server.stdout + server.stderr).splitlines()
    ), server.stdout + server.stderr
    version = _run(tmp_path / "venv" / "bin" / "jupyter-mlops", "--version", **outside)
    assert version.stdout.strip() == f"jupyter-mlops {__version__}"

    project = tmp_path / "project"
    project.mkdir()
    make_notebook(
        project / "train.ipynb",
        "C = 1.0",
        "%load_ext jupyter_mlops",
        "%%mlops track --name wheel --metrics accuracy\n"
        "from sklearn.datasets import load_iris\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "X, y = load_iris(return_X_y=True)\n"
        "accuracy = LogisticRegression(C=C, max_iter=500).fit(X, y).score(X, y)",
    )
    _run(
        python, "-m", "papermill", "--engine", "mlops", "--no-progress-bar",
        "train.ipynb", "out.ipynb", "-p", "C", "0.5", cwd=project, env=env,
    )  # fmt: skip
    runs = _run(tmp_path / "venv" / "bin" / "jupyter-mlops", "runs", cwd=project, env=env).stdout
    rows = {tuple(line.split()[1:4]) for line in runs.splitlines()[2:]}
    # the tracked cell, and the papermill run the mlops engine recorded around it
    assert {("wheel", "cell", "FINISHED"), ("train", "step", "FINISHED")} <= rows, runs
