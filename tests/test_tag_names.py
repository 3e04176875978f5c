"""Every ``mlops.*`` name the package writes into MLflow is spelled once, in jupyter_mlops/tags.py.

An AST scan of the package's source: a string (or the text of an f-string) naming ``mlops.<x>``
anywhere but tags.py fails. Docstrings name tags for readers and are allowed, and so are the file
names ``mlops.yaml`` and ``mlops.schema.json``, which are not tags.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jupyter_mlops
from jupyter_mlops import tags

PACKAGE = Path(jupyter_mlops.__file__).parent
TAG_TEXT = re.compile(r"(?<![\w.\-/])mlops\.(?!yaml\b|schema\.json\b)")


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the Constant nodes that are docstrings (module, class, function)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def tag_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string constant outside docstrings that spells an mlops.* name."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and TAG_TEXT.search(node.value)
    ]


def test_no_tag_literal_outside_the_tags_module():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {text!r}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "tags.py"
        for line, text in tag_literals(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "mlops.* names belong in jupyter_mlops/tags.py:\n" + "\n".join(
        offenders
    )


def test_the_scan_finds_tags_in_strings_and_f_strings_but_not_in_docstrings_or_file_names():
    source = '''
"""Module docstring naming ``mlops.kind``."""
def f(k):
    """Reads ``mlops.notebook``."""
    a = {"mlops.kind": 1}
    b = f"mlops.param.{k}"
    c = f"tags.`mlops.cache_key` = '{k}'"
    d = "see mlops.yaml and mlops.schema.json"
    e = "jupyter_mlops.tags"
    return k.startswith("mlops.")
'''
    assert [line for line, _ in tag_literals(source)] == [5, 6, 7, 10]


def test_every_tag_constant_is_unique_and_in_the_mlops_namespace():
    values = {
        name: value
        for name, value in vars(tags).items()
        if name.isupper() and isinstance(value, str)
    }
    assert all(v.startswith(tags.TAG_PREFIX) for v in values.values())
    names = [v for n, v in values.items() if n != "TAG_PREFIX"]
    assert len(names) == len(set(names)), "two constants spell the same name"


def test_family_names_are_built_from_their_prefix():
    assert tags.param_tag("lr") == "mlops.param.lr"
    assert tags.model_tag("clf") == "mlops.model.clf"
    assert tags.error_tag("ename") == "mlops.error.ename"
    assert tags.gate_tag("latency") == "mlops.gate.latency"
    assert tags.metric_tag("auc") == "mlops.metric.auc"
