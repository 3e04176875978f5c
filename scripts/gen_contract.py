"""Generate the REST contract's JSON Schema, OpenAPI response schemas and TypeScript interfaces.

The TypedDicts of ``jupyter_mlops/server/contract/`` are the one source. From them this script
writes:

- ``jupyter_mlops/server/contract.schema.json``: a JSON Schema (2020-12) with one ``$defs``
  entry per type (pydantic's TypeAdapter, every object closed: no undeclared key);
- ``jupyter_mlops/server/openapi.json``: its ``components.schemas``, and the success response
  of every route ``contract.RESPONSES`` names (the paths, parameters and errors stay as written);
- ``labextension/src/contract.ts``: one interface ``I<Name>`` per type, which ``tokens.ts``
  re-exports for the sidebar.

Usage: python scripts/gen_contract.py [--check] [--root DIR]
``--check`` writes nothing and exits 1, naming each file that differs from what the types
produce (``make lint`` runs it). ``--root`` reads and writes those files under another copy of
the project (default: this one).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any, Literal

from jupyter_mlops.server import contract

try:
    from pydantic import TypeAdapter
except ImportError:  # a development tool: the package itself never needs pydantic
    sys.exit("scripts/gen_contract.py needs pydantic: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = "jupyter_mlops/server/contract.schema.json"
OPENAPI_FILE = "jupyter_mlops/server/openapi.json"
TS_FILE = "labextension/src/contract.ts"
COMMAND = "python scripts/gen_contract.py"
DEFS_REF = "#/$defs/"
OPENAPI_REF = "#/components/schemas/"
TS_WIDTH = 80  # prettier's printWidth: longer union members are broken the way prettier does


# -- JSON Schema -----------------------------------------------------------------------------


def contract_types() -> list[type]:
    """Every top-level type: each route's answer, then the shared ones (others are reached)."""
    return list(dict.fromkeys([*contract.RESPONSES.values(), *contract.SHARED]))


def build_schema() -> dict[str, Any]:
    mode: Literal["serialization"] = "serialization"
    adapters: list[tuple[str, Literal["serialization"], TypeAdapter[Any]]] = [
        (t.__name__, mode, TypeAdapter(t)) for t in contract_types()
    ]
    _, top = TypeAdapter.json_schemas(adapters, ref_template=DEFS_REF + "{model}")
    defs = {name: _closed(_untitled(schema)) for name, schema in sorted(top["$defs"].items())}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "jupyter-mlops/rest-contract",
        "title": "jupyter-mlops REST contract",
        "description": f"generated from jupyter_mlops/server/contract/ by {COMMAND}; do not edit",
        "$defs": defs,
    }


def _untitled(node: Any) -> Any:
    """Drop pydantic's generated titles ("Run Id"): the keys and type names say it."""
    if isinstance(node, list):
        return [_untitled(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _untitled(v) for k, v in node.items() if k not in ("title", "properties")}
    if "properties" in node:  # a property may be called "title": only its schema is cleaned
        out["properties"] = {k: _untitled(v) for k, v in node["properties"].items()}
    return {k: out[k] for k in node if k in out}


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """A TypedDict's object admits no key it does not declare."""
    if "properties" in schema:
        schema = {**schema, "additionalProperties": False}
    return schema


def _with_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        return {
            k: (prefix + v[len(DEFS_REF) :] if k == "$ref" else _with_refs(v, prefix))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_with_refs(v, prefix) for v in node]
    return node


# -- OpenAPI ---------------------------------------------------------------------------------


def build_openapi(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with its schemas and success responses taken from ``schema``."""
    doc = copy.deepcopy(document)
    components = doc.setdefault("components", {})
    components["schemas"] = _with_refs(schema["$defs"], OPENAPI_REF)
    error = components.get("responses", {}).get("Error", {}).get("content", {})
    if "application/json" in error:
        error["application/json"]["schema"] = {"$ref": OPENAPI_REF + "ErrorResponse"}
    operations = {
        f"{method.upper()} {path}": op
        for path, ops in doc.get("paths", {}).items()
        for method, op in ops.items()
        if isinstance(op, dict) and "responses" in op
    }
    missing = sorted(set(contract.RESPONSES) - set(operations))
    if missing:
        raise SystemExit(f"{OPENAPI_FILE} has no operation {missing[0]} (named in RESPONSES)")
    for key, op in operations.items():
        kind = contract.RESPONSES.get(key)
        if kind is None:
            continue  # openapi.json answers the document itself: no type of its own
        success = [code for code in op["responses"] if code.startswith("2")]
        if len(success) != 1:
            raise SystemExit(f"{OPENAPI_FILE}: {key} needs exactly one 2xx response")
        answer = op["responses"][success[0]]
        answer.setdefault("content", {})["application/json"] = {
            "schema": {"$ref": OPENAPI_REF + kind.__name__}
        }
    return doc


# -- TypeScript ------------------------------------------------------------------------------


def build_typescript(schema: dict[str, Any]) -> str:
    lines = [
        "/**",
        " * The REST contract's types: generated by scripts/gen_contract.py, do not edit.",
        " *",
        " * Source: the TypedDicts of jupyter_mlops/server/contract/ (run the script after",
        " * changing them); tokens.ts re-exports these interfaces for the sidebar.",
        " */",
    ]
    for name, definition in schema["$defs"].items():
        lines.append("")
        lines += _doc_comment(definition.get("description"), "")
        lines += _interface(name, definition)
    return "\n".join(lines) + "\n"


def _doc_comment(text: str | None, indent: str) -> list[str]:
    if not text:
        return []
    body = re.sub(r"``([^`]+)``", r"`\1`", text).splitlines()
    return [f"{indent}/**", *(f"{indent} * {line}".rstrip() for line in body), f"{indent} */"]


def _interface(name: str, definition: dict[str, Any]) -> list[str]:
    required = set(definition.get("required", []))
    out = [f"export interface I{name} {{"]
    for key, prop in definition.get("properties", {}).items():
        label = key if re.fullmatch(r"[A-Za-z_$][\w$]*", key) else json.dumps(key)
        head = f"  {label}{'' if key in required else '?'}:"
        out += _member(head, _ts_type(prop))
    return [*out, "}"]


def _member(head: str, members: list[str]) -> list[str]:
    union = " | ".join(members)
    if len(f"{head} {union};") <= TS_WIDTH or len(members) == 1:
        return [f"{head} {union};"]
    if len(f"    {union};") <= TS_WIDTH:
        return [head, f"    {union};"]
    return [head, *(f"    | {m}" for m in members[:-1]), f"    | {members[-1]};"]


def _ts_type(node: dict[str, Any]) -> list[str]:
    """The TypeScript type of a schema node, as the members of a union."""
    if "$ref" in node:
        return ["I" + node["$ref"][len(DEFS_REF) :]]
    if "anyOf" in node:
        return [m for option in node["anyOf"] for m in _ts_type(option)]
    if "enum" in node:
        return [json.dumps(v).replace('"', "'") for v in node["enum"]]
    kind = node.get("type")
    if kind == "array":
        if "prefixItems" in node:
            return ["[" + ", ".join(_single(item) for item in node["prefixItems"]) + "]"]
        item = _ts_type(node.get("items", {}))
        return [
            f"{item[0]}[]"
            if len(item) == 1 and item[0].isidentifier()
            else f"Array<{' | '.join(item)}>"
        ]
    if kind == "object":
        values = node.get("additionalProperties", True)
        value = "unknown" if values is True else _single(values)
        return [f"Record<string, {value}>"]
    scalar = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean"}
    if kind in scalar:
        return [scalar[kind]]
    if kind == "null":
        return ["null"]
    if not node:
        return ["unknown"]
    raise SystemExit(f"no TypeScript mapping for the schema {json.dumps(node)}")


def _single(node: dict[str, Any]) -> str:
    return " | ".join(_ts_type(node))


# -- files -----------------------------------------------------------------------------------


def generated(root: Path) -> dict[str, str]:
    """Each generated file's path under ``root`` and the text the types produce for it."""
    schema = build_schema()
    source = root / OPENAPI_FILE
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"cannot read {OPENAPI_FILE} under {root}: {exc}") from None
    return {
        SCHEMA_FILE: _json_text(schema),
        OPENAPI_FILE: _json_text(build_openapi(schema, document), indent=1),
        TS_FILE: build_typescript(schema),
    }


def _json_text(data: Any, indent: int = 2) -> str:
    return json.dumps(data, indent=indent, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a generated file drifted")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project's folder")
    args = parser.parse_args(argv)
    outputs = generated(args.root)
    drifted = []
    for rel, text in outputs.items():
        path = args.root / rel
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if args.check:
            drifted.append(rel)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {rel}")
    for rel in drifted:
        print(
            f"{rel} differs from what jupyter_mlops/server/contract/ produces: run `{COMMAND}`",
            file=sys.stderr,
        )
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main())
