"""Raw-event retention: `notifier events prune` (issue 13, item 9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from notifier.cli import main as notifier_cli
from notifier.intake.retention import prune_payloads
from tests.support import minio_body, minio_record


def stored(client, auth, bucket: str, key: str, **kw) -> bytes:
    body = minio_body(minio_record(bucket, key, size=3, **kw))
    assert client.post("/events", data=body, headers=auth).status_code == 200
    return body


@pytest.fixture
def aged_events(client, auth, db, buckets, processor):
    """old.csv processed 40 days ago, new.csv today, pending.csv not processed, and an
    unmapped (ignored) event 40 days old."""
    old = stored(client, auth, buckets.raw, "old.csv")
    stored(client, auth, buckets.raw, "new.csv")
    stored(client, auth, "not-mapped", "ignored.csv")
    assert processor.drain() == 2
    stored(client, auth, buckets.raw, "pending.csv")
    db.execute(
        "UPDATE intake_events SET processed_at = now() - interval '40 days',"
        " received_at = now() - interval '40 days'"
        " WHERE object_key IN ('old.csv', 'ignored.csv')"
    )
    return old


def payloads(db) -> dict[str, bool]:
    rows = db.execute("SELECT object_key, payload IS NOT NULL FROM intake_events").fetchall()
    return dict(rows)


def test_prune_drops_old_payloads_and_keeps_rows_and_dedup(client, auth, db, aged_events, buckets):
    before = datetime.now(UTC) - timedelta(days=30)
    assert prune_payloads(client.application.extensions["notifier"].pool, before).pruned == 2
    assert payloads(db) == {
        "old.csv": False,
        "ignored.csv": False,
        "new.csv": True,
        "pending.csv": True,
    }
    assert db.execute("SELECT count(*) FROM intake_events").fetchone()[0] == 4
    assert (
        db.execute(
            "SELECT count(*) FROM intake_events WHERE payload_pruned_at IS NOT NULL"
        ).fetchone()[0]
        == 2
    )
    assert db.execute("SELECT object_key FROM ingestion_events ORDER BY 1").fetchall() == [
        ("new.csv",),
        ("old.csv",),
    ]
    # A late redelivery of the pruned event is still a duplicate.
    again = client.post("/events", data=aged_events, headers=auth)
    assert again.json["duplicates"] == 1


def test_prune_walks_many_batches(client, auth, db, buckets, processor):
    for n in range(7):
        stored(client, auth, buckets.raw, f"b{n}.csv")
    processor.drain()
    db.execute(
        "UPDATE intake_events SET processed_at = now() - interval '2 days',"
        " received_at = now() - interval '2 days'"
    )
    pool = client.application.extensions["notifier"].pool
    cutoff = datetime.now(UTC) - timedelta(days=1)
    assert prune_payloads(pool, cutoff, dry_run=True, batch_size=3).pruned == 7
    assert db.execute("SELECT count(*) FROM intake_events WHERE payload IS NULL").fetchone()[0] == 0
    assert prune_payloads(pool, cutoff, batch_size=3).pruned == 7
    assert prune_payloads(pool, cutoff, batch_size=3).pruned == 0


def test_the_command_uses_the_setting_and_its_options(
    settings, monkeypatch, db, aged_events, buckets
):
    env = {
        "NOTIFIER_DATABASE_URL": settings.database_url,
        "NOTIFIER_S3_ENDPOINT": settings.s3.endpoint,
        "NOTIFIER_S3_ACCESS_KEY": settings.s3.access_key,
        "NOTIFIER_S3_SECRET_KEY": settings.s3.secret_key,
        "NOTIFIER_AUTH_TOKEN": settings.auth_token,
        "NOTIFIER_BUCKET_MAP": buckets.map_text(),
    }
    runner = CliRunner()
    off = runner.invoke(notifier_cli, ["events", "prune"], env=env)
    assert off.exit_code == 0, off.output
    assert "retention is off" in off.output
    dry = runner.invoke(
        notifier_cli, ["events", "prune", "--older-than", "30", "--dry-run"], env=env
    )
    assert dry.exit_code == 0, dry.output
    assert "would prune the payloads of 2 event(s)" in dry.output
    assert all(payloads(db).values())
    by_setting = runner.invoke(
        notifier_cli, ["events", "prune"], env=env | {"NOTIFIER_EVENT_RETENTION_DAYS": "50"}
    )
    assert "pruned the payloads of 0 event(s)" in by_setting.output
    by_date = runner.invoke(
        notifier_cli,
        [
            "events",
            "prune",
            "--before",
            (datetime.now(UTC) - timedelta(days=35)).strftime("%Y-%m-%d"),
        ],
        env=env | {"NOTIFIER_EVENT_RETENTION_DAYS": "50"},
    )
    assert by_date.exit_code == 0, by_date.output
    assert "pruned the payloads of 2 event(s)" in by_date.output
    assert not payloads(db)["old.csv"]
