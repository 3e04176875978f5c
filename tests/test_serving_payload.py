"""``serving.payload.parse_body``: the four MLflow payload shapes say the same thing, and each
mistake is one ``BadPayload`` naming it (the fuzzing in test_fuzz_inputs.py only checks that
nothing else escapes)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_mlops.serving.payload import MAX_DEPTH, BadPayload, ColumnSpec, parse_body

NAMES = st.lists(st.text("abcxyz_", min_size=1, max_size=6), min_size=1, max_size=5, unique=True)
CELLS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
)


@st.composite
def frames(draw) -> tuple[list[str], list[list]]:
    names = draw(NAMES)
    rows = draw(st.lists(st.lists(CELLS, min_size=len(names), max_size=len(names)), max_size=6))
    return names, rows


def _body(doc) -> bytes:
    return json.dumps(doc).encode()


@settings(max_examples=60, deadline=None)
@given(frames())
def test_every_shape_of_one_frame_parses_to_the_same_columns(frame):
    names, rows = frame
    columns = {n: [row[i] for row in rows] for i, n in enumerate(names)}
    records = [dict(zip(names, row, strict=True)) for row in rows]
    specs = [ColumnSpec(n, "string") for n in names]
    split = parse_body(_body({"dataframe_split": {"columns": names, "data": rows}}), None)
    assert split == columns
    assert parse_body(_body({"inputs": columns}), None) == columns
    if rows:  # an empty list of records names no column
        assert parse_body(_body({"dataframe_records": records}), None) == columns
        assert parse_body(_body({"instances": records}), None) == columns
        # rows without names take the signature's column order
        assert parse_body(_body({"instances": rows}), specs) == columns


def test_split_without_columns_takes_the_signature_order():
    specs = [ColumnSpec("a", "long"), ColumnSpec("b", "string")]
    got = parse_body(_body({"dataframe_split": {"data": [[1, "x"], [2, "y"]]}}), specs)
    assert got == {"a": [1, 2], "b": ["x", "y"]}


def test_a_single_instance_row_is_one_row():
    specs = [ColumnSpec("a", "long"), ColumnSpec("b", "long")]
    assert parse_body(_body({"instances": [1, 2]}), specs) == {"a": [1], "b": [2]}


def test_a_scalar_in_a_column_mapping_is_one_value():
    assert parse_body(_body({"inputs": {"a": 3, "b": [4]}}), None) == {"a": [3], "b": [4]}


def test_records_missing_a_key_get_none_there():
    got = parse_body(_body({"dataframe_records": [{"a": 1}, {"b": 2}]}), None)
    assert got == {"a": [1, None], "b": [None, 2]}


def test_non_json_tokens_are_kept_to_be_refused_by_their_column():
    got = parse_body(b'{"inputs": {"a": [NaN, 1.0]}}', None)
    assert repr(got["a"][0]) == "NaN" and got["a"][1] == 1.0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "body is not valid JSON"),
        (b"\xff\xfe", "body is not valid JSON"),
        (b"[1, 2]", "body must be a JSON object"),
        (b'{"nothing": 1}', "exactly one of dataframe_split"),
        (b'{"inputs": {}, "instances": []}', "exactly one of dataframe_split"),
        (b'{"dataframe_split": [1]}', "dataframe_split needs {'columns'"),
        (b'{"dataframe_split": {"columns": "a", "data": []}}', "needs 'columns': a list"),
        (b'{"dataframe_split": {"columns": ["a", "a"], "data": []}}', "duplicate column names"),
        (
            b'{"dataframe_split": {"columns": ["a", "b"], "data": [[1]]}}',
            "row 0 has 1 values; expected 2",
        ),
        (b'{"dataframe_split": {"columns": ["a"], "data": [5]}}', "row 0 has no values"),
        (b'{"dataframe_records": {"a": 1}}', "dataframe_records must be a list of objects"),
        (b'{"instances": 5}', "cannot read 'instances'"),
        (b'{"inputs": [1, 2]}', "cannot read 'inputs'"),
    ],
)
def test_each_mistake_is_one_bad_payload_that_names_it(body, message):
    with pytest.raises(BadPayload, match=message.replace("{", r"\{").replace("(", r"\(")):
        parse_body(body, None)


def test_nesting_past_the_recursion_limit_is_refused():
    deep = b'{"inputs": ' + b"[" * (MAX_DEPTH + 10) + b"]" * (MAX_DEPTH + 10) + b"}"
    with pytest.raises(BadPayload, match="nested too deeply"):
        parse_body(deep, None)
