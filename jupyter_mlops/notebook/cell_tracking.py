"""``%%mlops track`` (a cell as a run) and ``%mlops track on|off`` (every cell a step of one run).

The cell is parsed and executed as IPython would; tracking that cannot start never stops the
user's code from running.
"""

from __future__ import annotations

import ast
import sys
from typing import Any

from ..capture import record_checks
from ..capture.cell import CellCapture
from ..capture.session import SessionRecorder
from ..capture.tracker import redaction_notice
from ..errors import InvalidInput, MlopsError
from .cell_hooks import hooks_for


def _parse_cell(shell: Any, cell: str) -> tuple[Any, str]:
    """The cell's syntax tree, parsed as IPython would; a SyntaxError is shown as IPython shows
    one typed in a plain cell (no frames of this package), and no run is started for it."""
    __tracebackhide__ = True
    # IPython's transforms (magics, shell escapes, help) cost about a millisecond: skip them
    # for plain Python, which cannot contain what they look for
    source = shell.transform_cell(cell) if any(c in cell for c in "%!?") else cell
    filename = shell.compile.cache(source, shell.execution_count)
    try:
        tree = shell.compile.ast_parse(source, filename=filename)
    except SyntaxError as exc:
        _show_next_syntax_error_plainly(shell)
        raise exc.with_traceback(None) from None
    return shell.transform_ast(tree), filename


def _show_next_syntax_error_plainly(shell: Any) -> None:
    """Show the SyntaxError about to leave this magic like one in the cell itself: IPython would
    otherwise list every frame it passed through. A one-shot handler, removed once it ran."""
    if shell.custom_exceptions:  # someone else's handler: leave it alone
        return

    def handler(
        shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
    ) -> None:
        shell.set_custom_exc((), None)
        shell._showtraceback(etype, value, shell.SyntaxTB.structured_traceback(etype, value, []))

    shell.set_custom_exc((SyntaxError,), handler)


def _run_cell_body(shell: Any, tree: Any, filename: str) -> Any:
    """Execute a parsed cell in the user namespace like IPython would; returns its last expression."""
    __tracebackhide__ = True  # the user's traceback starts at their own cell
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    ns = shell.user_ns
    exec(shell.compile(tree, filename, "exec"), ns)
    if last is not None:
        return eval(shell.compile(last, filename, "eval"), ns)
    return None


def _history(shell: Any) -> list[tuple[int, str]]:
    raw = shell.history_manager.input_hist_raw
    return [(i, src) for i, src in enumerate(raw) if i > 0 and src.strip()]


def track(ctx: Any, args: Any, result: None) -> Any:
    __tracebackhide__ = True
    cell = ctx.cell

    tags = record_checks.parse_tag_options(args.tags)
    params = record_checks.split_names(args.params)
    metrics = record_checks.split_names(args.metrics)
    if cell is None:
        return _session(ctx, args, tags)
    if args.mode:
        raise InvalidInput(
            "%%mlops track takes no on/off", hint="use %mlops track on (one %) for session mode"
        )

    shell = ctx.shell
    tree, filename = _parse_cell(shell, cell)
    capture = CellCapture(
        ctx.workspace,
        cell,
        shell.user_ns,
        execution_count=shell.execution_count,
        history=_history(shell),
        name=args.name,
        experiment=args.experiment,
        param_names=params,
        metric_names=metrics,
        tags=tags,
    )
    try:
        capture.begin()
    except Exception as exc:  # tracking cannot start: the user's code runs all the same
        print(f"mlops: tracking is off for this cell: {tracking_problem(exc)}", file=sys.stderr)
        return _run_cell_body(shell, tree, filename)
    try:
        value = _run_cell_body(shell, tree, filename)
    except BaseException as exc:
        _finish_quietly(capture, exc)
        raise
    _finish_quietly(capture, None)
    return value


def tracking_problem(exc: BaseException) -> str:
    """One line saying why tracking could not work (a folder it cannot write, ...)."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f" {exc.filename!s}" if exc.filename else ""
        return f"cannot write{where}: {exc.strerror}"
    return exc.message if isinstance(exc, MlopsError) else f"{type(exc).__name__}: {exc}"


def _finish_quietly(capture: Any, error: BaseException | None) -> None:
    """Close the run; a failure of tracking itself is one warning line, never the cell's error."""
    try:
        capture.finish(error)
    except Exception as exc:
        capture.warnings.append(f"the run could not be closed: {tracking_problem(exc)}")
    for warning in capture.warnings:
        print(f"mlops: warning: {warning}", file=sys.stderr)
    for notice in capture.notices:
        print(f"mlops: warning: {notice}", file=sys.stderr)
    notice = capture.redaction_notice()
    if notice:
        print(f"mlops: {notice}", file=sys.stderr)


def _session(ctx: Any, args: Any, tags: dict[str, str]) -> None:
    hooks = hooks_for(ctx.shell)
    if args.mode == "on":
        if hooks.session is not None:
            raise InvalidInput("session tracking is already on", hint="%mlops track off first")

        hooks.session = SessionRecorder(ctx.workspace, experiment=args.experiment, name=args.name)
        if tags:
            hooks.session.run.set_tags(tags)
        print(
            f"mlops: session tracking on (run key {hooks.session.run.key[:8]}); `%mlops track off` ends it"
        )
    elif args.mode == "off":
        if hooks.session is None:
            raise InvalidInput("session tracking is not on", hint="%mlops track on starts it")
        session, hooks.session = hooks.session, None
        session.stop()
        print(f"mlops: session tracking off; {len(session.steps)} cells recorded")
        notice = redaction_notice(session.run.redaction)
        if notice:
            print(f"mlops: {notice}", file=sys.stderr)
    else:
        raise InvalidInput("%mlops track needs on or off", hint="or use %%mlops track on a cell")
