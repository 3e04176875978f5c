"""Static check: every HTTP method of every server handler is authenticated and authorized.

A route that forgets ``@tornado.web.authenticated`` answers anyone who can reach the port; one
that forgets ``@authorized`` bypasses Jupyter Server's authorizer. Both are easy to miss in
review, so this script reads the handler modules (without importing them) and fails on any gap.

Usage: python scripts/check_auth.py [FOLDER ...]   (default: jupyter_mlops/server)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

HTTP_METHODS = {"get", "head", "post", "put", "patch", "delete", "options"}
AUTHENTICATED = {"authenticated", "web.authenticated", "tornado.web.authenticated"}
AUTHORIZED = {"authorized"}
RESOURCE_PREFIX = "jupyter_mlops:"
DEFAULT_FOLDER = Path(__file__).resolve().parents[1] / "jupyter_mlops" / "server"


def _name(node: ast.expr) -> str:
    """Dotted name of a decorator, with any call stripped (``@authorized("read")``)."""
    if isinstance(node, ast.Call):
        node = node.func
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _is_handler(cls: ast.ClassDef) -> bool:
    return any(_name(base).endswith("Handler") for base in cls.bases)


def _auth_resource(cls: ast.ClassDef) -> str | None:
    for stmt in cls.body:
        targets = []
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        for target in targets:
            if (
                isinstance(target, ast.Name)
                and target.id == "auth_resource"
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                return value.value
    return None


def check_source(source: str, filename: str) -> list[str]:
    """Problems found in one module, as ``file:line: message`` lines."""
    problems = []
    tree = ast.parse(source, filename=filename)
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef) or not _is_handler(cls):
            continue
        methods = [
            node
            for node in cls.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name in HTTP_METHODS
        ]
        if not methods:
            continue
        resource = _auth_resource(cls)
        if resource is None or not resource.startswith(RESOURCE_PREFIX):
            problems.append(
                f"{filename}:{cls.lineno}: {cls.name} serves requests but sets no "
                f"auth_resource = '{RESOURCE_PREFIX}<resource>'"
            )
        for method in methods:
            names = [_name(d) for d in method.decorator_list]
            where = f"{filename}:{method.lineno}: {cls.name}.{method.name}"
            if not AUTHENTICATED & set(names):
                problems.append(f"{where} lacks @tornado.web.authenticated")
            if not AUTHORIZED & set(names):
                problems.append(f"{where} lacks @authorized")
            elif AUTHENTICATED & set(names) and names.index(
                next(n for n in names if n in AUTHENTICATED)
            ) > names.index(next(n for n in names if n in AUTHORIZED)):
                problems.append(f"{where}: @authenticated must come before @authorized")
    return problems


def check_folder(folder: Path) -> list[str]:
    problems = []
    for path in sorted(folder.rglob("*.py")):
        problems.extend(check_source(path.read_text(), str(path)))
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folders = [Path(a) for a in args] or [DEFAULT_FOLDER]
    problems = [p for folder in folders for p in check_folder(folder)]
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} unprotected handler method(s)")
        return 1
    print("every handler method is authenticated and authorized")
    return 0


if __name__ == "__main__":
    sys.exit(main())
