"""Alerts and OpenLineage events from a real history, to local HTTP receivers.

The history is uploaded to the S3 server and delivered as MinIO webhooks with event
times in the past: run A (30 h ago) goes raw -> silver -> model -> evaluation and
completes; run C (20 h ago) only lands a raw file and never gets further (late);
run B (8 h ago) fails at its transformation (a corrupt Parquet file).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import pickle
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from psycopg.rows import dict_row

from notifier import analysis, export
from notifier.config import ExportSettings
from notifier.export.http import DeliveryError, post_json
from notifier.export.outbox import Message, Target, enqueue, send_due
from tests.integration.test_cli import env_for
from tests.openlineage_schema import errors as schema_errors
from tests.receivers import always, fail_first, receiver
from tests.support import minio_body, record_for_stat


def _csv(rows: int) -> bytes:
    lines = ["flow_id,bytes"] + [f"{i},{i * 7}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _parquet(rows: int) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"flow_id": list(range(rows)), "bytes": [7] * rows}), sink)
    return sink.getvalue()


@dataclass(frozen=True)
class History:
    now: datetime
    silver_bytes: int


def build_history(client, auth, s3, processor, buckets) -> History:
    now = datetime.now(UTC).replace(microsecond=0)

    def put(bucket, key, data, at, metadata=None):
        s3.put_object(bucket, key, io.BytesIO(data), len(data), metadata=metadata)
        record = record_for_stat(s3, bucket, key, event_time=at)
        response = client.post("/events", data=minio_body(record), headers=auth)
        assert response.status_code == 200, response.json
        processor.drain()

    a, c, b = now - timedelta(hours=30), now - timedelta(hours=20), now - timedelta(hours=8)
    silver = _parquet(90)
    put(buckets.raw, f"flows/{a:%Y-%m-%d}/flows.csv", _csv(100), a)
    silver_key = f"flows/{a:%Y-%m-%d}/part-00000.parquet"
    put(buckets.silver, silver_key, silver, a + timedelta(minutes=10))
    put(
        buckets.models,
        f"rf/{a:%Y-%m-%d}/model.joblib",
        pickle.dumps({"n_estimators": 100}, protocol=4),  # a well-formed model file
        a + timedelta(minutes=20),
        {"x-amz-meta-dataset": f"s3://{buckets.silver}/{silver_key}"},
    )
    metrics = json.dumps({"model": "rf", "accuracy": 0.91}).encode()
    put(buckets.results, f"rf/{a:%Y-%m-%d}/metrics.json", metrics, a + timedelta(minutes=30))
    put(buckets.raw, f"flows/{c:%Y-%m-%d}/flows.csv", _csv(101), c)
    put(buckets.raw, f"flows/{b:%Y-%m-%d}/flows.csv", _csv(99), b)
    put(
        buckets.silver,
        f"flows/{b:%Y-%m-%d}/part-00000.parquet",
        b"PAR1 crashed halfway PAR1",
        b + timedelta(minutes=10),
    )
    return History(now, len(silver))


@pytest.fixture
def history(client, auth, s3_client, processor, buckets) -> History:
    return build_history(client, auth, s3_client, processor, buckets)


def outbox(db, sink):
    db.row_factory = dict_row
    return db.execute(
        "SELECT fingerprint, kind, status, attempts, last_error, summary FROM export_outbox"
        " WHERE sink = %s ORDER BY fingerprint",
        (sink,),
    ).fetchall()


def test_each_alert_is_sent_once_through_failures(history, db, database_url, settings):
    with receiver(fail_first(2)) as hook:
        alerts_only = ExportSettings(alert_webhook_url=hook.url)
        with psycopg.connect(database_url, autocommit=True) as conn:
            t = history.now
            first = export.export_round(conn, alerts_only, t)
            assert first.enqueued == {"alert": 2}
            # The first failure ends the round: the other alert waits, no timeout each.
            assert (first.sent["alert"].retrying, len(hook.requests)) == (1, 1)
            # Not due yet, and nothing new to collect: the failed one is not retried now.
            again = export.export_round(conn, alerts_only, t + timedelta(seconds=1))
            assert again.enqueued["alert"] == 0
            assert len(hook.requests) == 2  # only the one never tried
            rounds, at = 0, t
            while len(hook.accepted()) < 2:
                rounds += 1
                assert rounds <= 10, [r.status for r in hook.requests]
                at += timedelta(hours=1)  # past any backoff
                export.export_round(conn, alerts_only, at)
            # `notifier analyze` deletes and rebuilds the runs: nothing is alerted again.
            analysis.analyze(conn, settings.analysis, t - timedelta(days=30), at)
            later = export.export_round(conn, alerts_only, at + timedelta(hours=2))
            assert later.enqueued["alert"] == 0
            assert later.sent["alert"].sent == 0

    # Each alert: two failures, then delivered once; never again.
    assert len(hook.requests) == 6
    for body in (r.body for r in hook.accepted()):
        assert [r.status for r in hook.requests if r.body == body] == [500, 500, 200]
    bodies = [r.body for r in hook.accepted()]
    by_kind = {b["notifier"]["status"]: b for b in bodies}
    assert set(by_kind) == {"failed", "incomplete"}
    failed = by_kind["failed"]
    assert failed["text"].startswith("[notifier] pipeline run of ")
    assert "failed: 1 failed row(s)" in failed["text"]
    assert failed["notifier"]["phases"] == ["ingestion", "transformation"]
    assert "is late: a phase did not arrive" in by_kind["incomplete"]["text"]
    assert all(r.headers["Content-Type"] == "application/json" for r in hook.requests)
    rows = outbox(db, "alert")
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 3), ("sent", 3)]


def test_two_senders_never_send_the_same_alert(database_url):
    messages = [
        Message(f"test:{n}", "test", f"message {n}", {"text": f"message {n}"}) for n in range(20)
    ]
    now = datetime.now(UTC)
    tallies = []
    with receiver(always(200), delay=0.01, gate=threading.Barrier(2)) as hook:
        with psycopg.connect(database_url, autocommit=True) as conn:
            assert enqueue(conn, "alert", messages, now) == 20
            assert enqueue(conn, "alert", messages, now) == 0  # once per fingerprint

        def sender() -> None:
            with psycopg.connect(database_url, autocommit=True) as conn:
                tallies.append(send_due(conn, "alert", Target(hook.url), now))

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    texts = [r.body["text"] for r in hook.requests]
    assert sorted(texts) == sorted(m.payload["text"] for m in messages)  # each exactly once
    # The first two requests were in flight together (the gate held them), one per sender.
    assert sorted(t.sent for t in tallies)[0] >= 1
    assert sum(t.sent for t in tallies) == 20


def test_secrets_stay_out_of_logs_and_errors(history, db, database_url, caplog):
    caplog.set_level(logging.DEBUG)
    with receiver(always(503), path="/services/T0/B0/very-secret-token") as hook:
        settings = ExportSettings(alert_webhook_url=hook.url)
        with psycopg.connect(database_url, autocommit=True) as conn:
            export.export_round(conn, settings, history.now)
            export.export_round(conn, settings, history.now + timedelta(seconds=1))
    assert len(hook.requests) == 2
    # The receiver is gone now: a refused connection must not name the URL either.
    with psycopg.connect(database_url, autocommit=True) as conn:
        export.export_round(conn, settings, history.now + timedelta(hours=1))
    errors = {r["last_error"] for r in outbox(db, "alert")}
    assert errors == {"HTTP 503", "unreachable: ConnectionRefusedError (Connection refused)"}
    assert "very-secret-token" not in caplog.text
    assert "attempt 1 failed (HTTP 503)" in caplog.text


@pytest.mark.parametrize(("status", "error"), [(404, "HTTP 404"), (302, "HTTP 302")])
def test_a_refused_alert_fails_at_once(history, db, database_url, status, error):
    # A redirect is not followed either: urllib would re-send the POST as a bodiless GET.
    with receiver(always(status)) as hook:
        settings = ExportSettings(alert_webhook_url=hook.url)
        with psycopg.connect(database_url, autocommit=True) as conn:
            summary = export.export_round(conn, settings, history.now)
            assert summary.sent["alert"].failed == 2
            later = export.export_round(conn, settings, history.now + timedelta(days=1))
            assert later.sent["alert"].failed == 0
    assert len(hook.requests) == 2
    assert {(r["status"], r["attempts"], r["last_error"]) for r in outbox(db, "alert")} == {
        ("failed", 1, error)
    }


def test_the_worker_thread_sends_in_the_background(history, pool, settings):
    with receiver(always(200)) as hook:
        export_settings = ExportSettings(alert_webhook_url=hook.url, interval_seconds=0.1)
        stop = threading.Event()
        thread = export.start_sender(pool, export_settings, settings.analysis, stop)
        assert thread is not None
        try:
            bodies = hook.wait_for(2)
        finally:
            stop.set()
            thread.join(timeout=30)
        assert not thread.is_alive()
    assert {b.body["notifier"]["status"] for b in bodies} == {"failed", "incomplete"}
    assert export.start_sender(pool, ExportSettings(), settings.analysis, stop) is None


def _lineage_judge(body, seen):
    return 400 if schema_errors(body) else 200


def test_openlineage_events_validate_and_carry_what_notifier_saw(
    history, db, database_url, buckets
):
    with receiver(_lineage_judge, path="/api/v1/lineage") as sink:
        settings = ExportSettings(
            openlineage_url=sink.url, openlineage_api_key="ol-key", openlineage_namespace="mlops"
        )
        with psycopg.connect(database_url, autocommit=True) as conn:
            summary = export.export_round(conn, settings, history.now)
            again = export.export_round(conn, settings, history.now + timedelta(hours=1))
    assert summary.enqueued == {"openlineage": 3}
    assert summary.sent["openlineage"].sent == 2
    assert (again.enqueued["openlineage"], again.sent["openlineage"].sent) == (0, 0)
    assert [r.status for r in sink.requests] == [200, 200]
    assert {r.headers["Authorization"] for r in sink.requests} == {"Bearer ol-key"}
    for request in sink.requests:
        assert schema_errors(request.body) == []
    complete, failed = sorted((r.body for r in sink.requests), key=lambda e: e["eventTime"])
    assert (complete["eventType"], failed["eventType"]) == ("COMPLETE", "FAIL")
    assert complete["job"] == failed["job"] | {"name": "pipeline"}
    assert complete["job"]["namespace"] == "mlops"

    def names(event, side):
        return [(d["namespace"], d["name"]) for d in event[side]]

    assert names(complete, "inputs") == [(f"s3://{buckets.raw}", "flows")]
    assert names(complete, "outputs") == [
        (f"s3://{buckets.silver}", "flows"),
        (f"s3://{buckets.models}", "rf/model"),
        (f"s3://{buckets.results}", "rf/metrics"),
    ]
    silver = complete["outputs"][0]
    assert silver["outputFacets"]["outputStatistics"] | {"_producer": "", "_schemaURL": ""} == {
        "rowCount": 90,
        "size": history.silver_bytes,
        "fileCount": 1,
        "_producer": "",
        "_schemaURL": "",
    }
    assert [f["name"] for f in silver["facets"]["schema"]["fields"]] == ["flow_id", "bytes"]
    raw = complete["inputs"][0]["inputFacets"]["inputStatistics"]
    assert (raw["rowCount"], raw["fileCount"]) == (100, 1)
    # The failed run: its raw file in, its broken Parquet out (no records counted).
    assert names(failed, "inputs") == [(f"s3://{buckets.raw}", "flows")]
    assert names(failed, "outputs") == [(f"s3://{buckets.silver}", "flows")]
    broken = failed["outputs"][0]["outputFacets"]["outputStatistics"]
    assert "rowCount" not in broken
    assert broken["fileCount"] == 1
    assert complete["run"]["runId"] != failed["run"]["runId"]
    # The late run wrote only raw data: recorded, never sent (no outputs).
    skipped = [r for r in outbox(db, "openlineage") if r["status"] == "skipped"]
    assert len(skipped) == 1
    assert skipped[0]["summary"].endswith("not sent: no outputs")


def _notifier(settings, buckets, *args, **extra_env):
    return subprocess.run(
        [sys.executable, "-m", "notifier", *args],
        env=env_for(settings, buckets, **extra_env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_reconcile_drift_is_alerted_once_by_export_send(settings, buckets, s3_client, db):
    for key in ("unnoticed-1.csv", "unnoticed-2.csv"):
        s3_client.put_object(buckets.raw, key, io.BytesIO(_csv(3)), len(_csv(3)))
    with receiver(fail_first(1)) as hook:
        env = {"NOTIFIER_ALERT_WEBHOOK_URL": hook.url}
        for _ in range(2):  # the hourly CronJob finds the same drift twice
            found = _notifier(settings, buckets, "reconcile", **env)
            assert found.returncode == 1, found.stderr
        first = _notifier(settings, buckets, "export", "send", **env)
        assert first.returncode == 1, first.stderr  # the receiver failed once: a retry waits
        assert "alert: 0 new, 0 sent, 1 to retry, 0 failed" in first.stdout  # reconcile enqueued it
        status = _notifier(settings, buckets, "export", "status", "--json", **env)
        (waiting,) = json.loads(status.stdout)["undelivered"]
        assert (waiting["status"], waiting["last_error"]) == ("pending", "HTTP 500")
        db.execute("UPDATE export_outbox SET next_attempt_at = now()")  # skip the backoff
        second = _notifier(settings, buckets, "export", "send", **env)
        assert second.returncode == 0, second.stderr
        assert "alert: 0 new, 1 sent" in second.stdout
    (alert,) = [r.body for r in hook.accepted()]
    assert alert["notifier"]["kind"] == "drift"
    assert alert["notifier"]["counts"]["missing"] == 2
    assert alert["text"].startswith("[notifier] reconcile found 2 object(s)")
    nothing = _notifier(settings, buckets, "export", "send")
    assert nothing.returncode == 4  # no sink configured
    assert "no sink configured" in nothing.stderr


def test_credentials_in_the_url_are_sent_as_basic_auth():
    with receiver(always(200), path="/api/v1/lineage?x=1") as sink:
        url = sink.url.replace("http://", "http://lineage%40ops:s%3Acret@")
        assert post_json(url, b'{"a": 1}', {}) == 200
        with pytest.raises(DeliveryError) as refused:  # nothing listens on port 1
            post_json("http://lineage%40ops:s%3Acret@127.0.0.1:1/x", b"{}", {})
    (request,) = sink.requests
    assert request.path == "/api/v1/lineage?x=1"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(
        b"lineage@ops:s:cret"
    ).decode("ascii")
    assert "cret" not in str(refused.value)
