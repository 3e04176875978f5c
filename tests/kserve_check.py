"""Check InferenceService manifests against KServe's own models of its API (run in .venv-kserve).

    .venv-kserve/bin/python tests/kserve_check.py FILE.yaml ...

KServe's SDK ships its API as OpenAPI-generated classes (``kserve.models.V1beta1*``, with the
Kubernetes ones from ``kubernetes.client``): each declares its fields (``attribute_map``: JSON name)
and their types (``openapi_types``). Every key of a manifest must be a declared field of its
class, every value of the declared type, all the way down; and each KServe object is built by the
SDK's own constructor, which checks its required fields. Prints one JSON object: the number of
InferenceServices checked and every problem found, by path.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import kserve
import kserve.models
import kubernetes.client
import yaml

PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "object": (object,),
    "datetime": (str,),
    "bytes": (str,),
    "ResourceQuantity": (str, int, float),
}


def model_class(name: str) -> Any:
    return getattr(kserve.models, name, None) or getattr(kubernetes.client, name, None)


def check(value: Any, type_name: str, path: str, errors: list[str]) -> None:
    inner = re.fullmatch(r"(?:list|List)\[(.+)\]", type_name)
    if inner:
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check(item, inner.group(1), f"{path}[{i}]", errors)
        return
    inner = re.fullmatch(r"(?:dict\(str, (.+)\)|Dict\[str, (.+)\])", type_name)
    if inner:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a mapping, got {type(value).__name__}")
            return
        for key, item in value.items():
            check(item, inner.group(1) or inner.group(2), f"{path}.{key}", errors)
        return
    if type_name in PRIMITIVES:
        ok = isinstance(value, PRIMITIVES[type_name])
        if type_name in ("int", "float") and isinstance(value, bool):
            ok = False
        if not ok:
            errors.append(f"{path}: expected {type_name}, got {value!r}")
        return
    cls = model_class(type_name)
    if cls is None:
        errors.append(f"{path}: no model {type_name} in KServe's SDK")
        return
    if not isinstance(value, dict):
        errors.append(f"{path}: expected a {type_name} mapping, got {type(value).__name__}")
        return
    by_json = {json_name: attr for attr, json_name in cls.attribute_map.items()}
    for key, item in value.items():
        if key not in by_json:
            errors.append(f"{path}.{key}: not a field of {type_name}")
            continue
        check(item, cls.openapi_types[by_json[key]], f"{path}.{key}", errors)
    if cls.__module__.startswith("kserve."):
        # the SDK's constructor runs its client-side validation (required fields, enums)
        try:
            cls(**{by_json[k]: v for k, v in value.items() if k in by_json})
        except (ValueError, TypeError) as exc:
            errors.append(f"{path}: {exc}")


def main(paths: list[str]) -> int:
    checked, errors = 0, []
    for path in paths:
        with open(path) as f:
            for i, doc in enumerate(yaml.safe_load_all(f)):
                if not doc or doc.get("kind") != "InferenceService":
                    continue
                where = f"{path}#{i}"
                if doc.get("apiVersion") != "serving.kserve.io/v1beta1":
                    errors.append(f"{where}: apiVersion {doc.get('apiVersion')!r}")
                check(doc, "V1beta1InferenceService", where, errors)
                checked += 1
    print(json.dumps({"checked": checked, "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
