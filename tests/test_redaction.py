"""The redactor on its own: what it hides, what it must leave alone, its settings, and the
structures it walks (notebooks, params, command lines). No store, no kernel: milliseconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_mlops.errors import ConfigError
from jupyter_mlops.locks import FileLock
from jupyter_mlops.redact import (
    Redactor,
    RunRedaction,
    default_redactor,
    forget_all,
    masked_names,
    parse_section,
    redact_argv,
    redact_json_text,
    restore,
)

TOKEN = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"
AWS = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture(autouse=True)
def _fresh() -> None:
    forget_all()


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"GITHUB_TOKEN = '{TOKEN}'", TOKEN),
        (f"headers = {{'Authorization': 'Bearer {TOKEN}'}}", TOKEN),
        ("url = 'postgresql://analyst:Tr0ub4dor-and-3@db:5432/x'", "Tr0ub4dor-and-3"),
        (f"os.environ['AWS_SECRET_ACCESS_KEY'] = '{AWS}'", AWS),
        ("os.environ['ANYTHING'] = 'plain-value-1'", "plain-value-1"),
        ("%env HF_TOKEN=hf_abcdefghijklmnop1234", "hf_abcdefghijklmnop1234"),
        ("password = 'hunter2'", "hunter2"),
        ('{"client_secret": "s3cr3t-value"}', "s3cr3t-value"),
        ("api_key: sk_test_abc123DEF456", "sk_test_abc123DEF456"),
        (
            "x = 'Q2hlY2sgdGhpcyBvdXQgaXQgaXMgcmFuZG9tISEhZm9vYmFy'",
            "Q2hlY2sgdGhpcyBvdXQgaXQgaXMgcmFuZG9tISEhZm9vYmFy",
        ),
        (
            "jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
            "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'",
            "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ),
        (
            "k = '''-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIObody0123456789abcdefABCDEF\n-----END EC PRIVATE KEY-----'''",
            "MHcCAQEEIObody0123456789abcdefABCDEF",
        ),
    ],
)
def test_secrets_become_stars_and_the_rest_stays(text, secret):
    done = default_redactor().redact(text)
    assert secret not in done.text and "***" in done.text
    assert done.text.split("***")[0] == text.split(secret)[0][: len(done.text.split("***")[0])]


@pytest.mark.parametrize(
    "text",
    [
        "sort_key = 'date'\npad_token = '[PAD]'\nprimary_key = 'customer_id'",
        "run_id = '3fa9c2d1e4b5a6978877665544332211'\nsha = 'e83c5163316f89bfbde7d9ab23ca2e25604af290'",
        "model = RandomForestClassifier(n_estimators=100).fit(X, y)\npassword = get_password()",
        "conn = connect(password=db_password)\ntoken == 'abc123XYZ789'",
        "df = pd.read_csv('data/train_2024-01-01.csv')\ncredentials_path = '/etc/app/key.json'",
        "tokenizer = AutoTokenizer.from_pretrained('bert-base-uncased')",
    ],
)
def test_ordinary_code_is_left_alone(text):
    assert default_redactor().redact(text).text == text


def test_a_value_found_once_is_hidden_everywhere_even_in_colours():
    red = RunRedaction(default_redactor())
    red.text(f"GITHUB_TOKEN = '{TOKEN}'")
    traceback = f"\x1b[0;31mValueError\x1b[0m: bad login with {TOKEN}"
    assert red.text(traceback) == "\x1b[0;31mValueError\x1b[0m: bad login with ***"
    assert red.count == 1 and red.names == ["GITHUB_TOKEN"]


def test_a_notebook_is_read_whole_and_its_images_are_left_alone():
    image = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    nb = {
        "cells": [
            {"cell_type": "code", "source": ["DB_URL = 'postgresql://a:Pw-123456@h/db'\n"]},
            {
                "cell_type": "code",
                "source": ["print(DB_URL)"],
                "outputs": [
                    {"output_type": "stream", "text": ["postgresql://a:Pw-123456@h/db\n"]},
                    {"output_type": "display_data", "data": {"image/png": image}},
                ],
            },
        ],
        "metadata": {"papermill": {"parameters": {"warehouse_password": "Wh-9f8e7d"}}},
    }
    out = redact_json_text(default_redactor(), json.dumps(nb))
    assert "Pw-123456" not in out.text and "Wh-9f8e7d" not in out.text
    assert image in out.text and len(out.values) == 2


def test_restore_puts_the_environment_back_for_reproduce():
    code = f"GITHUB_TOKEN = '{TOKEN}'\nDB_URL = \"postgresql://analyst:Pw-123456@db/x\"\n"
    masked = default_redactor().redact(code).text
    assert masked_names(masked) == ["GITHUB_TOKEN", "DB_URL"]
    back = restore(masked, {"GITHUB_TOKEN": TOKEN, "DB_URL": "postgresql://analyst:Pw-123456@db/x"})
    assert back == code


def test_command_lines_and_lock_files(tmp_path: Path, monkeypatch):
    argv = ["papermill", "in.ipynb", "out.ipynb", "-p", "db_password", "Wh-9f8e7d", "-p", "a", "1"]
    assert redact_argv(default_redactor(), argv)[5] == "***"
    monkeypatch.setattr("sys.argv", [*argv, "--token", TOKEN])
    lock = FileLock(tmp_path / "x.lock")
    assert lock.acquire(blocking=False)
    recorded = (tmp_path / "x.lock").read_text()
    lock.release()
    assert "Wh-9f8e7d" not in recorded and TOKEN not in recorded and "in.ipynb" in recorded


def test_allow_lists_and_the_switch(tmp_path: Path, monkeypatch):
    settings = parse_section({"allow": {"names": ["model_checksum"], "patterns": ["^pk_test_"]}})
    red = Redactor(settings)
    text = "model_checksum = 'Q2hlY2sgdGhpcyBvdXQgaXQgaXMgcmFuZG9tISEhZm9vYmFy'\napi_key = 'pk_test_123ABC'"
    assert red.redact(text).text == text
    monkeypatch.setenv("MLOPS_REDACTION", "off")
    off = RunRedaction(Redactor(parse_section(None)))
    assert not off.enabled and "MLOPS_REDACTION" in off.off_reason
    assert off.text(f"t = '{TOKEN}'") == f"t = '{TOKEN}'"


def test_a_bad_section_names_the_key_and_line(tmp_path: Path):
    path = tmp_path / "mlops.yaml"
    path.write_text("project: x\nredaction:\n  allow:\n    nams: [a]\n")
    with pytest.raises(
        ConfigError,
        match=r"mlops.yaml:4: redaction.allow.nams: unknown key \(did you mean 'names'\?\)",
    ):
        parse_section({"allow": {"nams": ["a"]}}, path)
    with pytest.raises(ConfigError, match="entropy"):
        parse_section({"entropy": 12}, path)
