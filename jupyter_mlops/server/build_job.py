"""A pipeline build started from the panel: ``pipeline.build`` in a child process, watched live.

Why a child process: a build runs kernels for minutes and is cancelled the way a terminal user
does it, with Ctrl-C (SIGINT), which the build turns into KILLED runs and a clean stop; a thread in
the Jupyter server could not be interrupted like that. The child prints the build's event lines
(``> step: running``, ``+ step: ran``...) on stderr, which become each step's log, and its report
as one JSON line on stdout.

Run as ``python -m jupyter_mlops.server.build_job ROOT [--force] [STEP ...]``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import MlopsError
from ..pipeline.build import build
from ..settings import Settings
from ..workspace import Workspace
from . import contract
from .jobs import Job

REPORT_MARK = "MLOPS-BUILD-REPORT "
ERROR_MARK = "MLOPS-BUILD-ERROR "
CANCEL_GRACE_S = 20.0
# "> train: running (...)", "+ train: ran in 2.1s", "= prep: cached", "~ train[3]: pruned"
_EVENT = re.compile(r"^(?P<sign>[>=+!~-]) (?P<step>[A-Za-z_][\w-]*)(?:\[[^\]]*\])?: (?P<text>.*)$")
_BAR = re.compile(r"(?P<done>\d+)/(?P<total>\d+) \[")
_STATES = {">": "running", "=": "cached", "+": "ran", "!": "failed", "-": "skipped"}


def build_in_child(
    job: Job, root: str, steps: list[str], force: bool
) -> contract.BuildReport | contract.BuildStopped:
    """Run the build of the project at ``root`` in a child process, feeding ``job`` as it goes."""
    for name in steps:
        job.set_step(name, "pending")
    args = [sys.executable, "-m", "jupyter_mlops.server.build_job", root]
    if force:
        args.append("--force")
    args += ["--", *steps]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop(Settings.workspace.env, None)  # the child finds the project from its folder
    proc = subprocess.Popen(
        args,
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # our SIGINT reaches the build and its kernels only
    )

    def cancel() -> None:
        job.add_line("cancel requested: interrupting the build")
        _interrupt(proc)

    job.on_cancel = cancel
    out: list[str] = []
    stdout = proc.stdout
    assert stdout is not None  # started with stdout=PIPE
    reader = threading.Thread(target=lambda: out.extend(stdout.read().decode().splitlines()))
    reader.start()
    _follow(job, proc.stderr)
    reader.join()
    code = proc.wait()
    job.on_cancel = None
    report: contract.BuildReport | None = next(
        (json.loads(x[len(REPORT_MARK) :]) for x in out if x.startswith(REPORT_MARK)), None
    )
    error = next((json.loads(x[len(ERROR_MARK) :]) for x in out if x.startswith(ERROR_MARK)), None)
    if report is not None:
        for step in report["steps"]:
            job.set_step(
                step["name"],
                step["status"],
                reason=step.get("reason") or None,
                run_id=step.get("run_id"),
                duration=step.get("duration"),
                error=step.get("error"),
            )
    if error is not None:
        raise MlopsError(error["error"], hint=error.get("hint"))
    if report is None:
        if job.status == "cancelling" or code in (130, -signal.SIGINT):
            return {"cancelled": True, "exit_code": code}

        raise MlopsError(f"the build stopped with exit code {code}", hint="see the job's log")
    report["exit_code"] = code
    if job.status == "cancelling":
        report["cancelled"] = True
    return report


def _interrupt(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except (ProcessLookupError, PermissionError):
        return

    def escalate() -> None:
        try:
            proc.wait(timeout=CANCEL_GRACE_S)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    threading.Thread(target=escalate, daemon=True).start()


def _follow(job: Job, stream: Any) -> None:
    """Split the child's stderr on newlines and carriage returns (tqdm redraws with ``\\r``)."""
    buffer = b""
    while True:
        chunk = stream.read1(4096) if hasattr(stream, "read1") else stream.read(4096)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = re.split(rb"[\r\n]", buffer)
        for raw in lines:
            _line(job, raw.decode(errors="replace").strip())
    if buffer:
        _line(job, buffer.decode(errors="replace").strip())


def _line(job: Job, line: str) -> None:
    if not line:
        return
    bar = _BAR.search(line)
    if line.startswith("build") and bar:
        job.set_progress(int(bar["done"]), int(bar["total"]))
        return
    event = _EVENT.match(line)
    if event is None:
        job.add_line(line)
        return
    step = event["step"]
    job.add_line(line, step)
    state = _STATES.get(event["sign"])
    if state and "[" not in line.split(":", 1)[0]:
        job.set_step(step, state)


def _main(argv: list[str]) -> int:
    """The child: build, then print the report (or the error) as one marked JSON line."""
    root, rest = argv[0], argv[1:]
    force = "--force" in rest
    steps = rest[rest.index("--") + 1 :] if "--" in rest else []

    ws = Workspace.find(Path(root))
    try:
        report = build(steps or None, workspace=ws, force=force, progress=True, wait=True)
    except MlopsError as exc:
        print(ERROR_MARK + json.dumps({"error": exc.message, "hint": exc.hint}), flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print("build interrupted", file=sys.stderr, flush=True)
        return 130
    body = {
        "steps": [asdict(s) for s in report.steps],
        "pipeline_run_id": report.pipeline_run_id,
        "duration": report.duration,
        "ok": report.ok,
        "table": report.table(),
    }
    print(REPORT_MARK + json.dumps(body, default=str), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
