"""Hidden-state warnings: out-of-order execution and names from deleted or edited cells."""

from __future__ import annotations

from jupyter_mlops.capture.hidden_state import hidden_state_warnings

NB = [
    "import pandas as pd\nrate = 0.1",
    "data = pd.DataFrame({'x': [1, 2, 3]})",
    "scaled = data.x * rate",
    "%%mlops track\nresult = scaled.sum()",
]


def _run(*indices: int, cells=NB, start: int = 1) -> list[tuple[int, str]]:
    return [(start + k, cells[i]) for k, i in enumerate(indices)]


def test_top_to_bottom_run_gives_no_warning():
    assert hidden_state_warnings(_run(0, 1, 2, 3), NB[3], NB) == []
    # re-running an earlier cell that sets the same value again is fine
    assert hidden_state_warnings(_run(0, 1, 1, 2, 3), NB[3], NB) == []


def test_a_value_from_a_cell_below_is_out_of_order():
    cells = ["a = 1", "print(b)", "b = a + 1"]
    warnings = hidden_state_warnings(_run(0, 2, 1, cells=cells), cells[1], cells)
    assert len(warnings) == 1
    assert "`b`" in warnings[0] and "cell 3" in warnings[0] and "out of order" in warnings[0]


def test_an_overridden_value_not_rerun_is_out_of_order_even_transitively():
    cells = ["rate = 0.1", "rate = 0.5", "scaled = rate * 2", "result = scaled + 1"]
    history = _run(0, 1, 0, 2, 3, cells=cells)  # cell 1 re-run after cell 2: rate is 0.1
    warnings = hidden_state_warnings(history, cells[3], cells)
    assert any("`rate`" in w and "cell 2" in w for w in warnings), warnings


def test_a_name_from_a_deleted_or_edited_cell_is_reported():
    history = [(1, "import pandas as pd\nrate = 0.1"), (2, "secret = 42"), (3, "y = secret * rate")]
    saved = ["import pandas as pd\nrate = 0.1", "y = secret * rate"]  # cell 2 deleted
    (warning,) = hidden_state_warnings(history, "y = secret * rate", saved)
    assert "`secret`" in warning and "In [2]" in warning and "no longer in the notebook" in warning
    edited = ["import pandas as pd\nrate = 0.1", "secret = 43", "y = secret * rate"]
    (warning,) = hidden_state_warnings(history, "y = secret * rate", edited)
    assert "deleted or edited" in warning


def test_a_cell_that_updates_its_own_state_when_rerun_is_flagged():
    cells = ["x = 0", "x = x + 1"]
    assert hidden_state_warnings(_run(0, 1, cells=cells), cells[1], cells) == []
    (warning,) = hidden_state_warnings(_run(0, 1, 1, cells=cells), cells[1], cells)
    assert "`x`" in warning


def test_locals_builtins_and_unknown_notebooks_do_not_warn():
    cells = ["def f(v):\n    total = sum(v)\n    return total", "print(f([1, 2]), len([1]))"]
    assert hidden_state_warnings(_run(1, 0, 1, cells=cells), cells[1], cells) == []
    assert hidden_state_warnings(_run(0, 2, 1, cells=NB), NB[1], None) == []
    assert hidden_state_warnings([(1, "x = (")], "x = (", ["x = ("]) == []
