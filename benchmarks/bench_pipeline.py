"""Pipeline benchmarks: no-op rebuild, per-step overhead, sweep parallel efficiency.

    .venv/bin/python benchmarks/bench_pipeline.py [--quick]

Baselines measured in the same run: `dvc repro` of an equivalent unchanged pipeline (when dvc is
installed), a bare `papermill.execute_notebook` of the same notebook, and the sweep run with one job.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402
from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402


def notebook(path: Path, params: str, body: str) -> None:
    cell = new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[cell, new_code_cell(body)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


def three_steps(root: Path) -> None:
    for i, name in enumerate("abc"):
        src = f"Path('{'abc'[i - 1]}.txt').read_text()" if i else "'0'"
        notebook(
            root / f"{name}.ipynb",
            "k = 1",
            f"from pathlib import Path\nPath('{name}.txt').write_text({src} + str(k))",
        )
    steps = []
    for i, name in enumerate("abc"):
        needs = f"\n    needs: [{'abc'[i - 1]}]\n    inputs: [{'abc'[i - 1]}.txt]" if i else ""
        steps.append(f"  {name}:\n    notebook: {name}.ipynb\n    outputs: [{name}.txt]{needs}")
    (root / "mlops.yaml").write_text("project: bench\nsteps:\n" + "\n".join(steps) + "\n")


def timed(cmd: list[str], cwd: Path, env: dict, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_rebuild(tmp: Path, env: dict, reps: int) -> list[tuple[str, str, str]]:
    root = tmp / "rebuild"
    root.mkdir()
    three_steps(root)
    cli = [sys.executable, "-m", "jupyter_mlops.cli", "build", "-q"]
    subprocess.run(cli, cwd=root, env=env, check=True, capture_output=True)
    ours = timed(cli, root, env, reps)
    rows = [("unchanged 3-step rebuild (CLI)", f"{ours:.3f} s", "budget 0.25 s")]
    dvc = shutil.which("dvc") or (
        str(Path(sys.executable).parent / "dvc")
        if (Path(sys.executable).parent / "dvc").exists()
        else None
    )
    if dvc is None:
        rows.append(("dvc repro (same pipeline)", "skipped", "dvc not installed"))
        return rows
    droot = tmp / "dvc"
    droot.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=droot, check=True)
    subprocess.run([dvc, "init", "-q"], cwd=droot, check=True)
    stages = []
    for i, name in enumerate("abc"):
        dep = f"\n    deps: [{'abc'[i - 1]}.txt]" if i else ""
        src = f"open('{'abc'[i - 1]}.txt').read()" if i else "'0'"
        stages.append(
            f"  {name}:\n    cmd: python -c \"open('{name}.txt','w').write({src}+'1')\""
            f"{dep}\n    outs: [{name}.txt]"
        )
    (droot / "dvc.yaml").write_text("stages:\n" + "\n".join(stages) + "\n")
    subprocess.run([dvc, "repro", "-q"], cwd=droot, check=True, capture_output=True)
    theirs = timed([dvc, "repro", "-q"], droot, env, reps)
    rows.append(
        ("dvc repro (same pipeline)", f"{theirs:.3f} s", f"ours {theirs / ours:.1f}x faster")
    )
    return rows


def bench_overhead(tmp: Path, reps: int) -> list[tuple[str, str, str]]:
    import papermill

    from jupyter_mlops.pipeline.build import build
    from jupyter_mlops.workspace import Workspace

    root = tmp / "overhead"
    root.mkdir()
    notebook(root / "s.ipynb", "k = 1", "x = sum(range(10**6))")
    (root / "mlops.yaml").write_text("steps:\n  s:\n    notebook: s.ipynb\n")
    ws = Workspace.find(root)
    build(workspace=ws, progress=False)  # store created, imports warm
    bare, ours = [], []
    for _ in range(reps):
        t = time.perf_counter()
        papermill.execute_notebook(
            str(root / "s.ipynb"), str(tmp / "bare.ipynb"), progress_bar=False, cwd=str(root)
        )
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        build(workspace=ws, force=True, progress=False)
        ours.append(time.perf_counter() - t)
    b, o = statistics.median(bare), statistics.median(ours)
    return [
        ("bare papermill.execute_notebook", f"{b:.3f} s", "baseline"),
        (
            "one tracked build step (--force)",
            f"{o:.3f} s",
            f"overhead {100 * (o - b) / b:+.0f}% (budget 10%)",
        ),
    ]


def bench_sweep(tmp: Path, trials: int, work: float) -> list[tuple[str, str, str]]:
    from jupyter_mlops.pipeline.build import build
    from jupyter_mlops.workspace import Workspace

    times = {}
    for jobs in (1, 2):
        root = tmp / f"sweep{jobs}"
        root.mkdir()
        notebook(
            root / "t.ipynb",
            "x = 0",
            "import time\nfrom jupyter_mlops.pipeline import log_step_metrics\n"
            f"t = time.process_time()\nwhile time.process_time() - t < {work}:\n    sum(range(1000))\n"
            "log_step_metrics(m=x)",
        )
        values = ", ".join(str(i) for i in range(trials))
        (root / "mlops.yaml").write_text(
            f"steps:\n  t:\n    notebook: t.ipynb\n    sweep:\n      parameters: {{x: [{values}]}}\n"
            "      metric: m\n"
        )
        t = time.perf_counter()
        report = build(workspace=Workspace.find(root), jobs=jobs, progress=False)
        times[jobs] = time.perf_counter() - t
        assert report.ok, report.table()
    eff = times[1] / (2 * times[2])
    return [
        (f"{trials}-trial sweep, 1 job", f"{times[1]:.2f} s", "baseline"),
        (
            f"{trials}-trial sweep, 2 jobs",
            f"{times[2]:.2f} s",
            f"parallel efficiency {100 * eff:.0f}% (target 90%)",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    os.environ["PYTHONPATH"] = str(REPO)  # kernels import the package
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        rows += bench_rebuild(tmp, env, 3 if args.quick else 7)
        rows += bench_overhead(tmp, 1 if args.quick else 3)
        if not args.quick:
            rows += bench_sweep(tmp, 8, 2.0)
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'time':>9}  note")
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:>9}  {note}")


if __name__ == "__main__":
    main()
