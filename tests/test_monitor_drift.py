"""Drift statistics: a drifted and an undrifted stream told apart; KS agrees with scipy."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from monitor_support import stream, training_frame

from jupyter_mlops.monitor.drift import DriftThresholds, ReferenceProfile, prediction_drift, psi
from jupyter_mlops.monitor.predlog import records_to_table


def test_psi_of_identical_counts_is_zero_and_grows_with_shift():
    a = np.array([10, 20, 30, 40])
    assert psi(a, a) == pytest.approx(0.0)
    assert psi(a, a[::-1]) > 0.5


def test_drifted_and_undrifted_streams_are_told_apart():
    profile = ReferenceProfile.from_frame(training_frame())
    calm, _ = records_to_table(stream(400, t0=0, seed=3))
    drifted, _ = records_to_table(stream(400, t0=0, seed=4, drift=True))
    calm_res = profile.compare(calm)
    drift_res = profile.compare(drifted)
    assert not any(d.drifted for d in calm_res.values()), {
        k: d.reasons for k, d in calm_res.items()
    }
    assert drift_res["age"].drifted and drift_res["age"].psi > 1.0 and drift_res["age"].ks > 0.5
    assert drift_res["city"].drifted and drift_res["city"].unseen_values == ["oslo"]
    assert drift_res["city"].unseen_rate == pytest.approx(0.3, abs=0.05)
    assert not drift_res["income"].drifted
    assert calm_res["age"].ks_pvalue > 0.001 and drift_res["age"].ks_pvalue < 1e-6


def test_ks_statistic_matches_scipy_within_grid_error():
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(7)
    ref, live = rng.normal(size=20_000), rng.normal(0.1, 1.2, size=50_000)
    profile = ReferenceProfile.from_frame({"x": ref})
    res = profile.compare_values("x", pa.chunked_array([live]))
    assert res.ks == pytest.approx(ks_2samp(ref, live).statistic, abs=1.5e-3)


def test_missing_features_values_and_non_numeric_live_values():
    profile = ReferenceProfile.from_frame(training_frame())
    live = pa.table(
        {
            "in.age": pa.array(["41", "x", None] + ["40"] * 60),  # text in a numeric feature
            "in.income": pa.array([None] * 40 + [50.0] * 23),  # mostly missing
        }
    )
    res = profile.compare(live, DriftThresholds(min_rows=10))
    assert res["city"].note == "missing from live traffic" and res["city"].drifted
    assert res["age"].n_live == 61 and "non-numeric" in res["age"].note
    assert res["income"].missing_rate_live == pytest.approx(40 / 63)
    assert any("missing" in r for r in res["income"].reasons)


def test_too_few_rows_are_not_judged_and_empty_live_does_not_crash():
    profile = ReferenceProfile.from_frame(training_frame())
    tiny, _ = records_to_table(stream(2, t0=0, drift=True, batch=1))
    res = profile.compare(tiny)
    assert not res["age"].drifted and "at least" in res["age"].note
    empty = pa.table({"in.age": pa.array([], pa.float64())})
    assert profile.compare(empty)["age"].n_live == 0


def test_prediction_drift_against_reference_predictions():
    ref_preds = np.r_[np.zeros(700), np.ones(300)]
    same, _ = records_to_table(
        [{"ts": 1, "inputs": {"a": [0] * 7 + [1] * 3}, "outputs": [0] * 7 + [1] * 3}] * 20
    )
    flipped, _ = records_to_table(
        [{"ts": 1, "inputs": {"a": [1] * 10}, "outputs": [1] * 9 + [0]}] * 20
    )
    assert not prediction_drift(ref_preds, same).drifted
    assert prediction_drift(ref_preds, flipped).drifted
    assert prediction_drift(None, same) is None
