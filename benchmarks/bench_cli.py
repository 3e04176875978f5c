"""``jupyter-mlops`` start-up: help, mistakes and plain reads, against ``import mlflow``.

    .venv/bin/python benchmarks/bench_cli.py [--quick]

Each case is a fresh ``python -m jupyter_mlops.cli ...`` process, timed end to end (the median
of several). Targets: ``--help``, an argument error and a config error within 200 ms, without
importing MLflow; ``runs`` and ``show`` on the embedded store within 500 ms. The baseline,
measured in the same run, is a process doing only ``import mlflow`` (what every command cost
before: it was imported on every call, reads included).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = [
    # (label, arguments, target in ms, must stay free of mlflow)
    ("--help", ["--help"], 200, True),
    ("argument error", ["runs", "--sortt", "acc"], 200, True),
    ("config error", ["build"], 200, True),
    ("runs", ["runs"], 500, True),
    ("show NAME", ["show", "fit-3"], 500, True),
]


def _project(folder: Path) -> Path:
    """A project with 20 tracked runs (params, metrics, a curve) in its embedded store."""
    env = {**os.environ, "MLOPS_WORKSPACE": str(folder)}
    env.pop("MLFLOW_TRACKING_URI", None)
    code = (
        "import jupyter_mlops\n"
        "for i in range(20):\n"
        "    with jupyter_mlops.track(name=f'fit-{i}') as run:\n"
        "        run.log_params({'C': i, 'solver': 'lbfgs'})\n"
        "        for step in range(5): run.log_metrics({'acc': i / 20 + step / 100})\n"
        "    run.wait_synced()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    return folder


def _time(args: list[str], cwd: Path, repeat: int) -> tuple[float, str]:
    env = {**os.environ}
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("MLOPS_WORKSPACE", None)
    times = []
    out = ""
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
        times.append((time.perf_counter() - started) * 1000)
        out = proc.stdout + proc.stderr
    return statistics.median(times), out


def _imports_mlflow(cli_args: list[str], cwd: Path) -> bool:
    code = (
        "import sys\nfrom jupyter_mlops import cli\n"
        f"try:\n    cli.main({cli_args!r})\nexcept SystemExit:\n    pass\n"
        "print('MLFLOW' if 'mlflow' in sys.modules else 'NO-MLFLOW', file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)
    return "NO-MLFLOW" not in proc.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    repeat = 3 if parser.parse_args().quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        project = _project(Path(tmp) / "project")
        broken = Path(tmp) / "broken"
        broken.mkdir()
        (broken / "mlops.yaml").write_text("steps: [\n")
        baseline, _ = _time([sys.executable, "-c", "import mlflow"], project, repeat)
        floor, _ = _time([sys.executable, "-c", "pass"], project, repeat)
        print(f"baseline: python -c 'import mlflow'  {baseline:7.0f} ms")
        print(f"floor:    python -c 'pass'           {floor:7.0f} ms (the interpreter alone)\n")
        print(f"{'case':16} {'ms':>7} {'target':>7} {'vs import mlflow':>17}  mlflow imported")
        failed = 0
        for label, cli_args, target, lean in CASES:
            cwd = broken if label == "config error" else project
            ms, out = _time([sys.executable, "-m", "jupyter_mlops.cli", *cli_args], cwd, repeat)
            heavy = _imports_mlflow(cli_args, cwd)
            ok = ms <= target and not (lean and heavy)
            failed += not ok
            print(
                f"{label:16} {ms:7.0f} {target:7.0f} {ms / baseline:16.2f}x  "
                f"{'yes' if heavy else 'no'}{'' if ok else '   <- MISSED'}"
            )
        return 1 if failed else 0


if __name__ == "__main__":
    from figures import quiet

    quiet()
    sys.exit(main())
