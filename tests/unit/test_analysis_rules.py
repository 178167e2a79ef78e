"""The anomaly rules' pure scoring functions."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from notifier.analysis.rules.empty_output import emptiness
from notifier.analysis.rules.freshness import Cadence, describe, lateness, learn_cadence
from notifier.analysis.rules.metric_regression import metric_direction, regressions
from notifier.analysis.rules.output_exceeds_inputs import excess
from notifier.analysis.rules.row_count import (
    describe as describe_count,
)
from notifier.analysis.rules.row_count import (
    is_anomalous,
    modified_z_score,
)
from notifier.analysis.rules.schema_drift import Schema, diff_schema, schema_of

HISTORY = [1000, 1012, 988, 1005, 995, 1010, 990]


def test_modified_z_score_of_a_forty_percent_drop():
    score = modified_z_score(600, HISTORY)
    assert score.median == 1000
    assert score.mad == 10
    assert score.z == pytest.approx(0.6745 * -400 / 10)
    assert is_anomalous(score, 3.5, 0.02)
    assert describe_count("raw/flows", score, 14, 3.5) == (
        "raw/flows: 600 records, 40 % below the median 1,000 of the last 14 days "
        "(7 points; modified z-score -27.0, threshold 3.5)"
    )


def test_normal_variation_is_not_anomalous():
    for value in (985, 1000, 1015):
        assert not is_anomalous(modified_z_score(value, HISTORY), 3.5, 0.02)


def test_seven_percent_fewer_rows_is_anomalous_on_a_steady_dataset():
    assert is_anomalous(modified_z_score(930, HISTORY), 3.5, 0.02)


def test_a_constant_history_falls_back_to_mean_absolute_deviation_then_to_exact():
    spiky = [100, 100, 100, 100, 130]  # MAD 0, mean AD 6
    score = modified_z_score(160, spiky)
    assert score.mad == 0
    assert score.z == pytest.approx(60 / (1.253314 * 6))
    constant = modified_z_score(101, [100] * 5)
    assert math.isinf(constant.z)
    assert not is_anomalous(constant, 3.5, 0.02)  # 1 % is below the minimum change
    assert is_anomalous(modified_z_score(50, [100] * 5), 3.5, 0.02)
    assert modified_z_score(100, [100] * 5).z == 0


def test_modified_z_score_needs_history():
    with pytest.raises(ValueError, match="empty"):
        modified_z_score(1, [])


@pytest.mark.parametrize(
    ("records", "details", "expected"),
    [
        (0, {"columns": ["a", "b"]}, "header_only"),
        (0, {"columns": None}, "empty"),
        (0, {}, "empty"),
        (5, {"header_only": True}, "header_only"),
        (None, {"empty": True}, "empty"),
        (3, {"columns": ["a"]}, None),
        (None, {}, None),
    ],
)
def test_emptiness(records, details, expected):
    assert emptiness(records, details) == expected


def test_schema_drift_added_removed_retyped():
    before = Schema(("id", "amount", "region"), {"amount": "int64"})
    after = Schema(("id", "amount", "country"), {"amount": "string"})
    drift = diff_schema(before, after)
    assert drift is not None
    assert drift.describe() == "added country; removed region; retyped amount int64 -> string"
    assert diff_schema(before, Schema(("region", "id", "amount"), {})) is None


def test_a_truncated_column_list_is_not_a_schema():
    assert schema_of({"columns": ["a", "b"], "num_columns": 900}) is None
    assert schema_of({"columns": None}) is None
    assert schema_of({"columns": ["a"], "num_columns": 1}) == Schema(("a",), {})


def test_excess():
    assert excess(1200, [1000]) == 200
    assert excess(1000, [600, 500]) is None
    assert excess(10, [5, None]) is None
    assert excess(10, []) is None


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("accuracy", "higher"),
        ("val_accuracy", "higher"),
        ("per_class.cat.f1", "higher"),
        ("roc_auc", "higher"),
        ("loss", "lower"),
        ("val_loss", "lower"),
        ("rmse", "lower"),
        ("mean_absolute_error", "lower"),
        ("train_time_seconds", None),
        ("n_estimators", None),
    ],
)
def test_metric_direction(name, direction):
    assert metric_direction(name) == direction


def test_regressions_beyond_the_tolerance_only():
    previous = {"accuracy": 0.908, "f1": 0.90, "loss": 0.30, "rmse": 10.0, "epochs": 5}
    current = {"accuracy": 0.48, "f1": 0.86, "loss": 0.50, "rmse": 10.4, "epochs": 1}
    found = {r.metric: r for r in regressions(previous, current, 0.05)}
    assert set(found) == {"accuracy", "loss"}  # f1 within 0.05; rmse within 5 %
    assert found["accuracy"].describe() == (
        "accuracy fell from 0.908 to 0.48 (-0.428; tolerance 0.05)"
    )
    assert regressions({"rmse": 10.0}, {"rmse": 11.0}, 0.05)[0].allowed == pytest.approx(0.5)
    assert regressions({"accuracy": 0.5}, {"accuracy": 0.9}, 0.05) == []


T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def test_cadence_merges_bursts_and_takes_the_median():
    arrivals = []
    for day in (0, 1, 2, 4, 5):  # one day skipped
        arrivals += [T0 + timedelta(days=day), T0 + timedelta(days=day, minutes=5)]
    cadence = learn_cadence(arrivals, timedelta(minutes=60))
    assert cadence == Cadence(timedelta(hours=24), 4)
    assert learn_cadence([T0], timedelta(minutes=60)) is None


def test_lateness_after_k_times_the_cadence():
    cadence = Cadence(timedelta(hours=24), 9)
    assert lateness(T0, T0 + timedelta(hours=35), cadence, 1.5) is None
    late = lateness(T0, T0 + timedelta(hours=54), cadence, 1.5)
    assert late is not None
    assert describe("ingestion", "raw/flows", T0, late, 1.5) == (
        "ingestion of raw/flows is 30 h late: nothing since 2026-11-01 02:00 UTC (54 h ago); "
        "it usually arrives every 24 h (median of 9 intervals; late after 1.5 x)"
    )
