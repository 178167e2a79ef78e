"""Content can never stall a worker: every row is written, at the first attempt, and
errors with a transient cause are retried until a success supersedes them."""

from __future__ import annotations

import dataclasses
import io
import json

from psycopg.rows import dict_row

from notifier.devstack.servers import free_port
from notifier.inspection import Inspection
from notifier.processing import Processor
from notifier.storage import ObjectStore, make_client
from notifier.web.dashboard import data as dashboard_data
from tests.integration.test_backfill import run
from tests.integration.test_current_state import created, post
from tests.support import minio_body, minio_record

UTF16_CSV = (
    "\ufeffhost,ip,status\r\nws-01,192.0.2.10,up\r\nws-02,192.0.2.11,down\r\n"
    "ws-03,192.0.2.12,up\r\n"
)


def put(s3, bucket, key, data, **kw):
    s3.put_object(bucket, key, io.BytesIO(data), len(data), **kw)


def rows(db, table="ingestion_events"):
    db.row_factory = dict_row
    return db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def event(db):
    db.row_factory = dict_row
    (only,) = db.execute("SELECT * FROM intake_events ORDER BY id").fetchall()
    return only


def no_unstorable(value):
    text = json.dumps(value, ensure_ascii=False)
    assert "\x00" not in text
    assert "\\u0000" not in text
    text.encode("utf-8")  # no lone surrogate


def test_utf16_csv_gets_its_row_at_the_first_attempt(
    client, auth, s3_client, buckets, processor, db
):
    # Case csv-nul-in-reason-crash-utf16 (the crash side): PowerShell's UTF-16LE + BOM.
    data = UTF16_CSV.encode("utf-16-le")
    put(s3_client, buckets.raw, "win/hosts_powershell.csv", data, content_type="text/csv")
    post(client, auth, created(s3_client, buckets.raw, "win/hosts_powershell.csv"))
    assert processor.process_next() is True
    (row,) = rows(db)
    assert event(db)["attempts"] == 1
    assert event(db)["status"] == "done"
    if row["estado"] == "ok":
        assert row["num_registros"] == 3
    else:
        assert row["estado"] == "error"
        assert "\x00" not in row["reason"]
    no_unstorable(row["details"])


def test_nul_in_column_names_is_stored(client, auth, s3_client, buckets, processor, db):
    put(s3_client, buckets.raw, "odd/cols.csv", b"id,na\x00me\n1,2\n2,3\n")
    post(client, auth, created(s3_client, buckets.raw, "odd/cols.csv"))
    processor.drain()
    (row,) = rows(db)
    assert event(db)["attempts"] == 1
    no_unstorable(row["details"])
    assert "\x00" not in (row["reason"] or "")
    assert (row["estado"], row["num_registros"]) == ("ok", 2), row["reason"]
    assert row["details"]["columns"] == ["id", "na\ufffdme"]


def test_model_card_with_nul_surrogates_and_overlong_text(
    client, auth, s3_client, buckets, processor, db
):
    card = (
        '{"model": "rf\\u0000v3", "params": {"max\\u0000depth": 12, "crit\\ud800": "gi\\udfffni",'
        ' "notes": "' + "n" * 50_000 + '"}, "dataset": "flows\\u0000"}'
    ).encode()
    put(s3_client, buckets.models, "rf/v3/card.json", card, content_type="application/json")
    post(client, auth, created(s3_client, buckets.models, "rf/v3/card.json"))
    processor.drain()
    (row,) = rows(db, "training_events")
    assert event(db)["attempts"] == 1
    assert row["estado"] == "ok", row["reason"]
    no_unstorable(row["parametros"])
    no_unstorable(row["details"])
    assert row["parametros"]["max\ufffddepth"] == 12
    assert row["parametros"]["crit\ufffd"] == "gi\ufffdni"
    assert len(row["parametros"]["notes"]) <= 2000


def test_metric_names_and_values_are_stored(client, auth, s3_client, buckets, processor, db):
    body = b'{"model": "rf\\u0000", "acc\\u0000": 0.9, "f1\\udc80": 0.8, "loss": 0.1}'
    put(s3_client, buckets.results, "eval/run1.json", body, content_type="application/json")
    post(client, auth, created(s3_client, buckets.results, "eval/run1.json"))
    processor.drain()
    (row,) = rows(db, "evaluation_events")
    assert event(db)["attempts"] == 1
    no_unstorable(row["metrics"])
    no_unstorable(row["details"])
    assert row["estado"] == "ok", row["reason"]
    assert row["metrics"]["acc\ufffd"] == 0.9
    assert row["metrics"]["f1\ufffd"] == 0.8


def test_long_and_unusual_keys_are_kept_whole(client, auth, s3_client, buckets, processor, db):
    # Near S3's 1024-byte limit, in segments under the filer's 255 bytes.
    key = (
        "deep/"
        + "é" * 120
        + "/"
        + "x" * 240
        + "/"
        + "y" * 240
        + "/"
        + "z" * 200
        + " \u2028 f+1.csv"
    )
    assert 900 < len(key.encode()) <= 1024
    put(s3_client, buckets.raw, key, b"a\n1\n")
    post(client, auth, created(s3_client, buckets.raw, key))
    processor.drain()
    (row,) = rows(db)
    assert row["object_key"] == key
    assert row["ruta_minio"] == f"s3://{buckets.raw}/{key}"
    assert row["num_registros"] == 1


def test_a_row_postgres_refuses_becomes_an_error_row_at_once(
    client, auth, s3_client, buckets, processor, db, monkeypatch
):
    # Past the boundary something can still be refused (here a count over bigint):
    # the row is replaced by an error row in the same attempt, never retried.
    put(s3_client, buckets.raw, "huge.csv", b"a\n1\n")
    post(client, auth, created(s3_client, buckets.raw, "huge.csv"))
    monkeypatch.setattr(
        "notifier.processing.worker.inspect_object",
        lambda *_: Inspection.ok("csv", 2**70, {"columns": ["a"]}),
    )
    assert processor.process_next() is True
    (row,) = rows(db)
    assert row["estado"] == "error"
    assert row["reason"].startswith("audit row could not be stored (ok): ")
    assert "out of range" in row["reason"]
    assert (event(db)["attempts"], event(db)["status"]) == (1, "done")


def dead_store_processor(settings, pool, max_attempts):
    dead_s3 = dataclasses.replace(settings.s3, endpoint=f"http://127.0.0.1:{free_port()}")
    flaky = dataclasses.replace(settings, s3=dead_s3, max_attempts=max_attempts)
    return Processor(flaky, pool, ObjectStore(make_client(dead_s3)))


def test_gave_up_reason_keeps_the_last_real_cause(settings, pool, client, auth, buckets, db):
    body = minio_body(minio_record(buckets.raw, "later.csv", size=10, etag="e"))
    client.post("/events", data=body, headers=auth)
    worker = dead_store_processor(settings, pool, max_attempts=3)
    assert worker.process_next() is True  # attempt 1: the store is unreachable
    # Attempts 2 and 3 died with their worker (the lease ran out each time).
    db.execute(
        "UPDATE intake_events SET attempts = 3, status = 'processing', next_attempt_at = now()"
    )
    assert worker.process_next() is True
    (row,) = rows(db)
    assert row["estado"] == "error"
    assert row["reason"].startswith("gave up after 3 attempts: ")
    assert "S3 unreachable" in row["reason"]
    assert "worker did not finish it" not in row["reason"]
    assert row["details"]["transient"] is True


def transient_error_row(settings, pool, client, auth, s3_client, buckets, db, key):
    put(s3_client, buckets.raw, key, b"id\n1\n2\n")
    post(client, auth, created(s3_client, buckets.raw, key))
    assert dead_store_processor(settings, pool, max_attempts=1).process_next() is True
    (error,) = rows(db)
    assert (error["estado"], error["is_current"], error["details"]["transient"]) == (
        "error",
        True,
        True,
    )
    return error


def test_rescan_retries_a_transient_error_and_the_success_supersedes_it(
    settings, pool, client, auth, s3_client, buckets, db
):
    error = transient_error_row(settings, pool, client, auth, s3_client, buckets, db, "r.csv")
    done = run(settings, buckets, "rescan", "--bucket", buckets.raw)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "retried: 1" in done.stdout
    old, new = rows(db)
    assert old["id"] == error["id"]
    assert (old["estado"], old["is_current"]) == ("error", False)  # history kept
    assert (new["estado"], new["num_registros"], new["is_current"]) == ("ok", 2, True)
    live = db.execute("SELECT audit_row_id, estado FROM live_objects").fetchall()
    assert [(r["audit_row_id"], r["estado"]) for r in live] == [(new["id"], "ok")]
    again = run(settings, buckets, "rescan", "--bucket", buckets.raw)
    assert "retried: 0" in again.stdout
    assert len(rows(db)) == 2


def test_reconcile_reports_a_transient_error_and_fix_retries_it(
    settings, pool, client, auth, s3_client, buckets, db
):
    transient_error_row(settings, pool, client, auth, s3_client, buckets, db, "c.csv")
    report = run(settings, buckets, "reconcile", "--bucket", buckets.raw, "--json")
    assert report.returncode == 1
    assert [(d["kind"], d["key"]) for d in json.loads(report.stdout)["drift"]] == [
        ("error", "c.csv")
    ]
    fixed = run(settings, buckets, "reconcile", "--bucket", buckets.raw, "--fix")
    assert fixed.returncode == 0, fixed.stderr
    old, new = rows(db)
    assert (old["estado"], old["is_current"]) == ("error", False)
    assert (new["estado"], new["is_current"], new["origin"]) == ("ok", True, "rescan")
    after = run(settings, buckets, "reconcile", "--bucket", buckets.raw, "--json")
    assert after.returncode == 0
    assert json.loads(after.stdout)["drift"] == []


def test_an_exhausted_time_budget_is_transient_and_retried(
    settings, pool, client, auth, s3_client, buckets, db
):
    put(s3_client, buckets.raw, "slow.csv", b"id\n" + b"1\n" * 1000)
    post(client, auth, created(s3_client, buckets.raw, "slow.csv"))
    hurried = dataclasses.replace(settings, inspect_timeout_seconds=1e-9)
    Processor(hurried, pool, ObjectStore(make_client(settings.s3))).drain()
    (error,) = rows(db)
    assert error["estado"] == "error"
    assert error["reason"].startswith("inspection timed out after")
    assert error["details"]["transient"] is True
    done = run(settings, buckets, "rescan", "--bucket", buckets.raw)
    assert "retried: 1" in done.stdout
    old, new = rows(db)
    assert (old["is_current"], new["is_current"], new["num_registros"]) == (False, True, 1000)


def test_a_retried_transient_error_is_no_longer_a_problem(
    settings, pool, client, auth, s3_client, buckets, db
):
    transient_error_row(settings, pool, client, auth, s3_client, buckets, db, "p.csv")
    before = run(settings, buckets, "report", "problems", "--check", "--json")
    assert before.returncode == 1, before.stderr
    assert "error" in {p["kind"] for p in json.loads(before.stdout)}
    assert [p["estado"] for p in dashboard_data.problems(pool)] == ["error"]
    assert run(settings, buckets, "rescan", "--bucket", buckets.raw).returncode == 0
    after = run(settings, buckets, "report", "problems", "--check", "--json")
    assert json.loads(after.stdout) == []
    assert after.returncode == 0, after.stdout
    assert dashboard_data.problems(pool) == []
    assert db.execute("SELECT status FROM pipeline_runs").fetchall() == [{"status": "complete"}]
