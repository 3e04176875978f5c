"""``make demo``: the example project end to end on a fresh embedded store.

Every stage is what a person would type (papermill, ``jupyter-mlops ...``), run as a subprocess,
so the demo exercises the real front ends. ``--keep`` keeps earlier demo runs; ``--project DIR``
runs it in a copy of the example project (tests do, to leave the checkout alone).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "example_notebooks"
BIN = Path(sys.executable).parent


def _say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def _run(*argv: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    print("$ " + " ".join(argv), flush=True)
    exe = BIN / argv[0] if (BIN / argv[0]).exists() else argv[0]
    return subprocess.run([str(exe), *argv[1:]], cwd=cwd, check=check)


def _notebook(project: Path, name: str, *extra: str) -> None:
    out = project / "output" / name
    out.parent.mkdir(exist_ok=True)
    _run(
        "papermill", "--engine", "mlops", name, str(out.relative_to(project)), "--cwd", ".",
        *extra, cwd=project,
    )  # fmt: skip


def track_stage(project: Path) -> None:
    _say("1. Tracking experiments in a notebook (01_track_experiments.ipynb through papermill)")
    _notebook(project, "01_track_experiments.ipynb")


def datasets_stage(project: Path) -> None:
    if (project / "02_datasets_lineage.ipynb").exists():
        _say("2. Dataset versions, lineage and a verified reproduction (02_datasets_lineage.ipynb)")
        _notebook(project, "02_datasets_lineage.ipynb")


def build_stage(project: Path) -> None:
    _say("3. The build pipeline of mlops.yaml: prepare -> train (a sweep) -> evaluate")
    _run("jupyter-mlops", "build", cwd=project)
    _say("   ... and again: nothing changed, so every step is a cache hit")
    start = time.perf_counter()
    _run("jupyter-mlops", "build", cwd=project)
    print(f"(rebuild took {time.perf_counter() - start:.2f} s, including process start)")


def release_stage(project: Path) -> None:
    _say("4. Release: register, gates, model card, canary with traffic, champion, rollback")
    _run("python", "-m", "jupyter_mlops.demo.release", cwd=project)


def monitor_stage(project: Path) -> None:
    _say(
        "5. Monitoring: live traffic with a drifted segment, drift detected, a bad canary rolled back"
    )
    _run("python", "-m", "jupyter_mlops.demo.monitor", cwd=project)


def loop_stage(project: Path) -> None:
    _say(
        "6. The loop: drifted data arrives, the alert fires, a retrain, gates, a canary, "
        "an approval, a new champion"
    )
    _run("python", "-m", "jupyter_mlops.demo.loop", cwd=project)


STAGES = [track_stage, datasets_stage, build_stage, release_stage, monitor_stage, loop_stage]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyter_mlops.demo", description=__doc__)
    parser.add_argument("--keep", action="store_true", help="keep the runs of earlier demos")
    parser.add_argument(
        "--project", metavar="DIR", type=Path, help="copy the example project here and run it there"
    )
    args = parser.parse_args(argv)
    os.environ.pop("MLFLOW_TRACKING_URI", None)  # the demo is about the embedded store
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    project = EXAMPLE
    if args.project is not None:
        project = args.project.resolve()
        ignore = shutil.ignore_patterns(".mlops", "output", "*.out.ipynb", "incoming")
        shutil.copytree(EXAMPLE, project, ignore=ignore, dirs_exist_ok=True)
    if not args.keep:
        shutil.rmtree(project / ".mlops", ignore_errors=True)
        shutil.rmtree(project / "output", ignore_errors=True)
        shutil.rmtree(project / "data" / "incoming", ignore_errors=True)  # the loop stage's
    for stage in STAGES:
        try:
            stage(project)
        except subprocess.CalledProcessError as exc:  # the stage said why, above
            print(f"\nthe demo stopped: {' '.join(map(str, exc.cmd[-2:]))} failed", file=sys.stderr)
            return 1
    _say("What was recorded")
    _run("jupyter-mlops", "runs", "--limit", "15", cwd=project)
    db = project / ".mlops" / "mlflow.db"
    print(
        "\nLook at it:\n"
        f"  jupyter lab {project}            (the jupyter-mlops sidebar lists the runs)\n"
        f"  mlflow ui --backend-store-uri sqlite:///{db}\n"
        f"  executed notebooks: {project / 'output'}"
    )
    return 0
