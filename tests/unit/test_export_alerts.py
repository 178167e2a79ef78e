"""Alert bodies, drift digests, retry schedule and the export settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.backfill.reconcile import Drift, DriftKind
from notifier.config import ENVIRONMENT_NAMES, EXPORT_ENVIRONMENT, ExportSettings, Settings
from notifier.errors import ConfigError
from notifier.export.alerts import anomaly_alert, drift_alert, drift_digest, run_alert
from notifier.export.http import is_permanent
from notifier.export.outbox import MAX_ATTEMPTS, retry_delay

AT = datetime(2026, 11, 25, 14, 46, tzinfo=UTC)


def failed_run(**overrides):
    return {
        "run_key": "run_id:run-42",
        "status": "failed",
        "reason": "1 failed row(s); no training, evaluation",
        "started_at": AT,
        "ended_at": AT + timedelta(minutes=10),
        "phases": ["ingestion", "transformation"],
        "datasets": ["raw/flows", "silver/flows"],
        **overrides,
    }


def test_run_alert_is_a_slack_compatible_body():
    message = run_alert(failed_run())
    body = message.payload
    assert message.fingerprint == "run:run_id:run-42:failed"
    assert body["text"] == (
        "[notifier] pipeline run run-42 failed: 1 failed row(s); no training, evaluation"
    )
    (attachment,) = body["attachments"]
    assert attachment["color"] == "#d62728"
    assert attachment["fallback"] == body["text"]
    fields = {f["title"]: f["value"] for f in attachment["fields"]}
    assert fields["phases"] == "ingestion, transformation"
    assert fields["datasets"] == "raw/flows, silver/flows"
    assert body["notifier"]["severity"] == "critical"
    assert body["notifier"]["fingerprint"] == message.fingerprint
    json.dumps(body)  # plain JSON, nothing else


def test_session_run_is_named_by_its_start_and_late_runs_say_so():
    message = run_alert(failed_run(run_key="session:ingestion:7", status="incomplete"))
    assert message.payload["text"].startswith(
        "[notifier] pipeline run of 2026-11-25 14:46 UTC is late: a phase did not arrive"
    )
    assert message.fingerprint == "run:session:ingestion:7:incomplete"
    assert message.payload["notifier"]["severity"] == "warning"


def anomaly(rule="row_count", **overrides):
    return {
        "fingerprint": f"{rule}:ingestion:12",
        "rule": rule,
        "phase": "ingestion",
        "dataset": "raw/flows",
        "severity": "warning",
        "reason": "raw/flows: 600 records, 40 % below the median 1,000",
        "observed_at": AT,
        "uri": "s3://raw/flows/2026-11-25/flows.csv",
        "run_key": "session:ingestion:12",
        **overrides,
    }


def test_anomaly_and_lateness_alerts():
    found = anomaly_alert(anomaly())
    assert found.kind == "anomaly"
    assert found.fingerprint == "anomaly:row_count:ingestion:12"
    assert found.payload["text"] == (
        "[notifier] warning: raw/flows: 600 records, 40 % below the median 1,000"
    )
    assert found.payload["attachments"][0]["title"] == "row_count in raw/flows"
    late = anomaly_alert(anomaly("freshness", uri=None, run_key=None))
    assert late.kind == "late"
    assert late.payload["attachments"][0]["title"] == "raw/flows is late"
    assert late.payload["notifier"]["kind"] == "late"


def drifts(count: int) -> list[Drift]:
    return [Drift(DriftKind.MISSING, "raw", f"k{i}.csv", "e", None) for i in range(count)] + [
        Drift(DriftKind.GONE, "silver", "old.parquet", None, "f")
    ]


def test_drift_alert_counts_everything_and_lists_the_first_objects():
    message = drift_alert(drifts(12), fixed=False, now=AT)
    body = message.payload
    assert body["text"] == (
        "[notifier] reconcile found 13 object(s) whose audit rows disagree with raw, silver: "
        "12 missing, 1 gone (not fixed: run `notifier reconcile --fix`)"
    )
    listed = body["attachments"][0]["text"].splitlines()
    assert listed[0] == "missing s3://raw/k0.csv"
    assert listed[-1] == "… 3 more"
    assert body["notifier"]["counts"] == {"missing": 12, "gone": 1, "changed": 0, "error": 0}


def test_the_same_drift_has_the_same_fingerprint_in_any_order():
    found = drifts(3)
    assert drift_digest(found) == drift_digest(list(reversed(found)))
    assert drift_digest(found) != drift_digest(found[:-1])
    assert drift_alert(found, True, AT).fingerprint == drift_alert(found, False, AT).fingerprint


def test_retry_schedule_doubles_to_an_hour():
    delays = [retry_delay(n).total_seconds() for n in range(1, MAX_ATTEMPTS + 1)]
    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == 3600
    assert sum(delays) > 5 * 3600  # a sink down for hours still gets its messages


@pytest.mark.parametrize(
    ("status", "permanent"), [(400, True), (404, True), (408, False), (429, False), (503, False)]
)
def test_which_refusals_are_final(status, permanent):
    assert is_permanent(status) is permanent


SECRET_URL = "https://hooks.slack.com/services/T000/B000/very-secret-token"


def test_export_settings_default_off_and_secrets_never_printed():
    assert ExportSettings.from_env({}).enabled is False
    settings = ExportSettings.from_env(
        {
            "NOTIFIER_ALERT_WEBHOOK_URL": SECRET_URL,
            "NOTIFIER_OPENLINEAGE_URL": "http://marquez:5000/api/v1/lineage",
            "NOTIFIER_OPENLINEAGE_API_KEY": "ol-key-123",
            "NOTIFIER_OPENLINEAGE_NAMESPACE": "mlops",
            "NOTIFIER_EXPORT_INTERVAL_SECONDS": "5",
        }
    )
    assert settings.enabled
    assert (settings.openlineage_namespace, settings.interval_seconds) == ("mlops", 5.0)
    assert "very-secret-token" not in repr(settings)
    assert "ol-key-123" not in repr(settings)


@pytest.mark.parametrize("name", ["NOTIFIER_ALERT_WEBHOOK_URL", "NOTIFIER_OPENLINEAGE_URL"])
def test_malformed_url_is_named_without_its_value(name):
    with pytest.raises(ConfigError) as raised:
        ExportSettings.from_env({name: "ftp://host/very-secret-token"})
    assert name in str(raised.value)
    assert "very-secret-token" not in str(raised.value)


def test_export_settings_are_part_of_the_settings():
    base = {
        "NOTIFIER_DATABASE_URL": "postgresql://u@db/mlops_db",
        "NOTIFIER_S3_ENDPOINT": "https://minio.mlops.svc:9000",
        "NOTIFIER_S3_ACCESS_KEY": "ak",
        "NOTIFIER_S3_SECRET_KEY": "sk",
        "NOTIFIER_AUTH_TOKEN": "tok",
    }
    settings = Settings.from_env({**base, "NOTIFIER_ALERT_WEBHOOK_URL": SECRET_URL})
    assert settings.export.alert_webhook_url == SECRET_URL
    assert "very-secret-token" not in repr(settings)
    with pytest.raises(ConfigError, match="NOTIFIER_EXPORT_INTERVAL_SECONDS"):
        Settings.from_env({**base, "NOTIFIER_EXPORT_INTERVAL_SECONDS": "soon"})


def test_readme_documents_every_export_variable():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert [v.name for v in EXPORT_ENVIRONMENT if f"`{v.name}`" not in readme] == []
    assert {v.name for v in EXPORT_ENVIRONMENT} <= ENVIRONMENT_NAMES
