"""Analysis settings: defaults, parsing, and the README's table kept in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifier.config import ANALYSIS_ENVIRONMENT, AnalysisSettings, Settings
from notifier.errors import ConfigError

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_have_precedent():
    settings = AnalysisSettings.from_env({})
    assert (settings.z_threshold, settings.window_days, settings.min_history) == (3.5, 14, 5)
    assert (settings.freshness_factor, settings.metric_tolerance) == (1.5, 0.05)


def test_values_are_read_and_checked():
    env = {"NOTIFIER_ANOMALY_Z_THRESHOLD": "3", "NOTIFIER_RUN_GAP_MINUTES": "15"}
    settings = AnalysisSettings.from_env(env)
    assert (settings.z_threshold, settings.run_gap_minutes) == (3.0, 15)
    with pytest.raises(ConfigError, match="NOTIFIER_ANOMALY_WINDOW_DAYS"):
        AnalysisSettings.from_env({"NOTIFIER_ANOMALY_WINDOW_DAYS": "two weeks"})


def test_service_settings_carry_them():
    env = {
        "NOTIFIER_DATABASE_URL": "postgresql://x@localhost/db",
        "NOTIFIER_S3_ENDPOINT": "http://localhost:9000",
        "NOTIFIER_S3_ACCESS_KEY": "a",
        "NOTIFIER_S3_SECRET_KEY": "b",
        "NOTIFIER_AUTH_DISABLED": "true",
        "NOTIFIER_LINEAGE_WINDOW_HOURS": "48",
    }
    assert Settings.from_env(env).analysis.lineage_window_hours == 48


def test_every_analysis_variable_is_documented():
    text = README.read_text(encoding="utf-8")
    assert [v.name for v in ANALYSIS_ENVIRONMENT if f"`{v.name}`" not in text] == []
