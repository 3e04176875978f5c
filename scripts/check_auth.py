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


def _protected_handlers(source: str, filename: str) -> set[str]:
    """Handler classes of a module that serve requests and pass the checks above."""
    tree = ast.parse(source, filename=filename)
    return {
        cls.name
        for cls in ast.walk(tree)
        if isinstance(cls, ast.ClassDef)
        and _is_handler(cls)
        and _auth_resource(cls) is not None
        and any(
            isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name in HTTP_METHODS
            for n in cls.body
        )
    }


def _routed_names(tree: ast.Module) -> list[tuple[str, int]]:
    """Handler names in the ``ROUTES`` table (and the catch-all) of the package's __init__."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple) and len(node.elts) == 2:
            target = node.elts[1]
            if isinstance(target, ast.Name) and target.id.endswith("Handler"):
                names.append((target.id, node.lineno))
    return names


def check_routes(folder: Path) -> list[str]:
    """Every handler in the route table is a checked handler of this folder, and routes are
    registered in one place only (``setup_handlers`` in __init__.py)."""
    problems = []
    protected: set[str] = set()
    sources = {path: path.read_text() for path in sorted(folder.rglob("*.py"))}
    for path, source in sources.items():
        protected |= _protected_handlers(source, str(path))
    init = folder / "__init__.py"
    if init in sources:
        tree = ast.parse(sources[init], filename=str(init))
        for name, line in _routed_names(tree):
            if name not in protected:
                problems.append(
                    f"{init}:{line}: route handler {name} is not an authenticated handler "
                    "defined in this package"
                )
    for path, source in sources.items():
        for node in ast.walk(ast.parse(source, filename=str(path))):
            if (
                isinstance(node, ast.Call)
                and _name(node.func).endswith("add_handlers")
                and path != init
            ):
                problems.append(
                    f"{path}:{node.lineno}: routes registered outside setup_handlers "
                    "(register them in ROUTES so they are checked)"
                )
    return problems


def check_folder(folder: Path) -> list[str]:
    problems = []
    for path in sorted(folder.rglob("*.py")):
        problems.extend(check_source(path.read_text(), str(path)))
    problems.extend(check_routes(folder))
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
