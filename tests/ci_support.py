"""What a test may not skip in CI: a missing prerequisite skips it on a developer machine, and
fails it where ``CI`` is set (there the prerequisite is built, so its absence is the bug)."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def missing(reason: str) -> None:
    """Skip on a developer machine; fail in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this test may not be skipped)")
    pytest.skip(reason)
