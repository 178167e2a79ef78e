"""Alerts: failed, anomalous and late runs, anomalies and reconcile drift, to a webhook.

The body is the incoming-webhook JSON that Slack, Mattermost, Rocket.Chat, Discord's
``/slack`` endpoint and most chat tools accept: a top-level ``text`` (all that simple
receivers and Slack workflow webhooks read), an ``attachments`` entry with a colour and
``fields`` (Slack's legacy attachments, which Mattermost also renders), and a
``notifier`` object with the same facts for machines. Slack ignores members it does
not know.

Fingerprints, each alerted once: ``run:<run_key>:<status>`` (a run that turns from
anomalous to failed alerts again), ``anomaly:<anomaly fingerprint>`` (a late dataset's
fingerprint names its last arrival, so each silence alerts once) and ``drift:<sha256
of the drift found>`` (the same drift found by every hourly reconcile alerts once).
Only runs started and anomalies observed in the last ALERT_LOOKBACK are alerted, so
turning alerts on does not replay the history (``notifier report problems`` has it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from notifier.analysis.text import moment
from notifier.backfill.reconcile import Drift, DriftKind
from notifier.config import ExportSettings
from notifier.db import query
from notifier.export.outbox import Message, Target, enqueue
from notifier.export.sink import Sink

NAME: Final = "alert"

ALERT_LOOKBACK: Final = timedelta(hours=48)
"""Runs started and anomalies observed earlier than this are never alerted."""

MAX_DRIFT_OBJECTS: Final = 10
"""Objects a drift alert names; the counts cover them all."""

COLORS: Final = {"critical": "#d62728", "warning": "#ff9f1c"}

RUN_WORDS: Final = {
    "failed": ("critical", "failed"),
    "anomalous": ("warning", "looks anomalous"),
    "incomplete": ("warning", "is late: a phase did not arrive"),
}


def target(settings: ExportSettings) -> Target | None:
    return Target(settings.alert_webhook_url) if settings.alert_webhook_url else None


def collect(
    conn: psycopg.Connection[Any], settings: ExportSettings, now: datetime
) -> list[Message]:
    """Alerts owed for runs and anomalies not alerted yet."""
    cursor = conn.cursor(row_factory=dict_row)
    since = {"since": now - ALERT_LOOKBACK}
    runs = cursor.execute(query("alert_runs"), since).fetchall()
    anomalies = cursor.execute(query("alert_anomalies"), since).fetchall()
    return [run_alert(r) for r in runs] + [anomaly_alert(a) for a in anomalies]


def run_label(run_key: str, started_at: datetime) -> str:
    """``run-42`` for a run id; ``of 2026-11-25 14:46 UTC`` for a session."""
    if run_key.startswith("run_id:"):
        return run_key.removeprefix("run_id:")
    return f"of {moment(started_at)}"


def run_alert(run: Mapping[str, Any]) -> Message:
    """A run that failed, looks anomalous or never completed (``pipeline_runs``)."""
    severity, verb = RUN_WORDS[run["status"]]
    label = run_label(run["run_key"], run["started_at"])
    reason = run["reason"] or run["status"]
    text = f"[notifier] pipeline run {label} {verb}: {reason}"
    fields = {
        "status": run["status"],
        "started": moment(run["started_at"]),
        "last write": moment(run["ended_at"]),
        "phases": ", ".join(run["phases"]) or "-",
        "datasets": ", ".join(run.get("datasets") or []) or "-",
    }
    facts = {
        "kind": "run",
        "severity": severity,
        "status": run["status"],
        "run_key": run["run_key"],
        "reason": run["reason"],
        "started_at": run["started_at"].isoformat(),
        "ended_at": run["ended_at"].isoformat(),
        "phases": list(run["phases"]),
        "datasets": list(run.get("datasets") or []),
    }
    fingerprint = f"run:{run['run_key']}:{run['status']}"
    return _message(
        fingerprint, "run", severity, f"Pipeline run {label} {verb}", text, fields, facts
    )


def anomaly_alert(anomaly: Mapping[str, Any]) -> Message:
    """An open anomaly of warning or critical severity (``anomalies``)."""
    late = anomaly["rule"] == "freshness"
    kind = "late" if late else "anomaly"
    subject = anomaly["dataset"] or anomaly["phase"]
    title = f"{subject} is late" if late else f"{anomaly['rule']} in {subject}"
    text = f"[notifier] {anomaly['severity']}: {anomaly['reason']}"
    fields = {
        "rule": anomaly["rule"],
        "phase": anomaly["phase"],
        "dataset": anomaly["dataset"] or "-",
        "object": anomaly["uri"] or "-",
        "observed": moment(anomaly["observed_at"]),
    }
    facts = {
        "kind": kind,
        "severity": anomaly["severity"],
        "rule": anomaly["rule"],
        "phase": anomaly["phase"],
        "dataset": anomaly["dataset"],
        "uri": anomaly["uri"],
        "run_key": anomaly["run_key"],
        "reason": anomaly["reason"],
        "observed_at": anomaly["observed_at"].isoformat(),
        "anomaly": anomaly["fingerprint"],
    }
    fingerprint = f"anomaly:{anomaly['fingerprint']}"
    return _message(fingerprint, kind, anomaly["severity"], title, text, fields, facts)


def drift_alert(drifts: Sequence[Drift], fixed: bool, now: datetime) -> Message:
    """What one ``notifier reconcile`` found; the same drift set has the same fingerprint."""
    counts = {kind.value: sum(d.kind is kind for d in drifts) for kind in DriftKind}
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    buckets = sorted({d.bucket for d in drifts})
    outcome = "fixed" if fixed else "not fixed: run `notifier reconcile --fix`"
    text = (
        f"[notifier] reconcile found {len(drifts)} object(s) whose audit rows disagree "
        f"with {', '.join(buckets)}: {summary} ({outcome})"
    )
    shown = drifts[:MAX_DRIFT_OBJECTS]
    listed = "\n".join(f"{d.kind.value} s3://{d.bucket}/{d.key}" for d in shown)
    if len(drifts) > len(shown):
        listed += f"\n… {len(drifts) - len(shown)} more"
    fields = {"buckets": ", ".join(buckets), "drift": summary, "fixed": "yes" if fixed else "no"}
    facts = {
        "kind": "drift",
        "severity": "warning",
        "buckets": buckets,
        "counts": counts,
        "fixed": fixed,
        "found_at": now.astimezone(UTC).isoformat(),
        "objects": [d.as_json() for d in shown],
    }
    message = _message(
        f"drift:{drift_digest(drifts)}", "drift", "warning", "Reconcile drift", text, fields, facts
    )
    attachment = {**message.payload["attachments"][0], "text": listed}
    return Message(
        message.fingerprint,
        message.kind,
        message.summary,
        {**message.payload, "attachments": [attachment]},
    )


def drift_digest(drifts: Sequence[Drift]) -> str:
    """sha256 over the sorted drift entries: equal for the same drift, found again."""
    lines = sorted(
        "\x00".join((d.kind.value, d.bucket, d.key, d.object_etag or "", d.audited_etag or ""))
        for d in drifts
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _message(
    fingerprint: str,
    kind: str,
    severity: str,
    title: str,
    text: str,
    fields: Mapping[str, str],
    facts: Mapping[str, Any],
) -> Message:
    payload = {
        "text": text,
        "attachments": [
            {
                "fallback": text,
                "color": COLORS.get(severity, COLORS["warning"]),
                "title": title,
                "fields": [
                    {"title": name, "value": value, "short": len(value) <= 40}
                    for name, value in fields.items()
                ],
            }
        ],
        "notifier": {**facts, "fingerprint": fingerprint},
    }
    return Message(fingerprint=fingerprint, kind=kind, summary=text, payload=payload)


SINK: Final = Sink(name=NAME, target=target, collect=collect)


def alert_drift(
    pool: ConnectionPool, settings: ExportSettings, drifts: Sequence[Drift], *, fixed: bool
) -> bool:
    """Enqueue the alert for what ``notifier reconcile`` found (sent by the next round).

    Does nothing without NOTIFIER_ALERT_WEBHOOK_URL; returns whether the alert is new.
    """
    if not drifts or target(settings) is None:
        return False
    now = datetime.now(UTC)
    with pool.connection() as conn, conn.transaction():
        return enqueue(conn, NAME, [drift_alert(drifts, fixed, now)], now) == 1
