"""Hypothesis fuzzing of the three parsers that read what a user or a caller types: the router's
payload parser, the mlops.yaml loader and the ``%mlops`` magics' argument parsing. Whatever comes
in, each either succeeds or raises its one clear error type; nothing else escapes."""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_mlops.errors import ConfigError, InvalidInput
from jupyter_mlops.pipeline.spec import parse_spec
from jupyter_mlops.serving.payload import (
    BadPayload,
    ColumnSpec,
    parse_body,
    predictions_json,
    to_frame,
)
from jupyter_mlops.workspace import Workspace

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
COLUMNS = [
    ColumnSpec("age", "double"),
    ColumnSpec("n", "long"),
    ColumnSpec("small", "integer"),
    ColumnSpec("flag", "boolean"),
    ColumnSpec("name", "string"),
    ColumnSpec("f", "float", required=False),
]
NAMES = st.sampled_from([c.name for c in COLUMNS] + ["other", ""])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.integers().map(lambda i: i * 10**300)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=12,
)
SHAPES = st.one_of(
    st.builds(
        lambda cols, rows: {"dataframe_split": {"columns": cols, "data": rows}},
        st.lists(NAMES | VALUES, max_size=6),
        st.lists(st.lists(VALUES, max_size=6), max_size=4),
    ),
    st.builds(
        lambda recs: {"dataframe_records": recs},
        st.lists(st.dictionaries(NAMES, VALUES, max_size=6), max_size=4) | VALUES,
    ),
    st.builds(lambda v: {"instances": v}, VALUES),
    st.builds(lambda v: {"inputs": v}, VALUES),
    VALUES,
)
NON_JSON_TOKENS = st.sampled_from(["NaN", "Infinity", "-Infinity", "[" * 3000, "1e999", "{"])


def _score(body: bytes) -> None:
    try:
        frame = to_frame(parse_body(body, COLUMNS), COLUMNS)
    except BadPayload as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 500
        return
    for spec in COLUMNS:
        if spec.name in frame:
            assert len(frame[spec.name]) == len(frame)


@FUZZ
@given(SHAPES)
def test_payload_parser_answers_a_frame_or_a_bad_payload(doc):
    _score(json.dumps(doc).encode())


@FUZZ
@given(SHAPES, NON_JSON_TOKENS, st.integers(min_value=0, max_value=200))
def test_payload_parser_survives_non_json_splices(doc, token, where):
    text = json.dumps(doc)
    at = min(where, len(text))
    _score((text[:at] + token + text[at:]).encode())


@FUZZ
@given(st.binary(max_size=300))
def test_payload_parser_survives_arbitrary_bytes(raw):
    _score(raw)


@FUZZ
@given(
    st.lists(st.floats() | st.integers(min_value=-(2**64), max_value=2**64), max_size=20),
    st.sampled_from(["list", "array", "frame"]),
)
def test_prediction_bodies_are_always_strict_json(values, kind):
    import pandas as pd

    floats = [float(v) for v in values]
    pred = {"list": floats, "array": np.asarray(floats), "frame": pd.DataFrame({"p": floats})}[kind]
    body, _ = predictions_json(pred)
    doc = json.loads(body, parse_constant=lambda t: pytest.fail(f"not strict JSON: {t}"))
    flat = doc["predictions"] if kind != "frame" else [r["p"] for r in doc["predictions"]]
    for got, want in zip(flat, floats, strict=True):
        assert got == want if math.isfinite(want) else got is None


YAML_WORDS = st.sampled_from(
    [
        "project",
        "experiment",
        "experimnet",
        "steps",
        "release",
        "monitor",
        "notebook",
        "a.ipynb",
        "needs",
        "parameters",
        "sweep",
        "&a",
        "*a",
        "<<",
        "- ",
        ": ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "\n",
        "  ",
        "!!python/object:os.system",
        "'",
        '"',
        "#",
        "?",
        "|",
        ">",
        "1e9",
        "null",
        "~",
        "x",
        "0x1F",
        "a: &b [*b]",
        "---",
        "...",
    ]
)
YAML_TEXT = st.lists(YAML_WORDS | st.text(max_size=5), max_size=40).map("".join)


@FUZZ
@given(YAML_TEXT)
def test_mlops_yaml_loader_answers_a_spec_or_one_config_error(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "mlops.yaml").write_text(text, encoding="utf-8")
    ws = Workspace.find(root)
    for load in (lambda: parse_spec(ws.config_path, ws), lambda: Workspace.find(root).config):
        try:
            load()
        except ConfigError as exc:
            assert "\n" not in str(exc), str(exc)
            assert str(exc).startswith(str(root / "mlops.yaml")), str(exc)


def _subcommands():
    from jupyter_mlops.notebook.subcommands import SUBCOMMANDS

    return sorted(SUBCOMMANDS)


WORDS = st.sampled_from(
    [
        "--metrics",
        "--params",
        "-n",
        "--limit",
        "--force",
        "--weight",
        "--reason",
        "--window",
        "--",
        "-",
        "--x=",
        "=",
        "acc",
        "1",
        "-1",
        "1e999",
        "nan",
        "'",
        '"',
        "\\",
        "--help",
        "-h",
    ]
) | st.text(max_size=6)


@pytest.mark.parametrize("name", _subcommands())
@settings(max_examples=40, deadline=None)
@given(words=st.lists(WORDS, max_size=6))
def test_magic_arguments_parse_or_raise_one_usage_error(name, words):
    from jupyter_mlops.notebook.subcommands import SUBCOMMANDS

    line = " ".join(words)
    try:
        argv = shlex.split(line)
    except ValueError:
        return  # the magic answers "cannot parse arguments" for unbalanced quotes
    try:
        SUBCOMMANDS[name].parser().parse_args(argv)
    except InvalidInput as exc:
        assert str(exc).startswith(f"%mlops {name}"), str(exc)


def test_fuzz_inputs_use_real_files(tmp_path: Path):
    """The loader under fuzz reads real files (not strings): one good file loads."""
    (tmp_path / "mlops.yaml").write_text("experiment: e\nsteps:\n  a: {notebook: a.ipynb}\n")
    ws = Workspace.find(tmp_path)
    assert parse_spec(ws.config_path, ws).experiment == "e"
