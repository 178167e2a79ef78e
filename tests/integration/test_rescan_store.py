"""A rescan stores each listing page with store_listed: the same rows, the same exactly-once
as the event-by-event path (rescan_event through store_events) it replaces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from psycopg.rows import dict_row

from notifier.backfill.rescan import rescan_event
from notifier.intake.store import store_events, store_listed
from notifier.storage import ListedObject

WHEN = datetime(2026, 3, 1, 12, 30, 15, 250_000, tzinfo=UTC)
LISTED = [
    ListedObject(key="day 1.csv", etag="0" * 32, size=40, last_modified=WHEN),
    ListedObject(key="dir/", etag="d41d8cd98f00b204e9800998ecf8427e", size=0, last_modified=WHEN),
    ListedObject(
        key="versioned/ü 'q' \"d\".csv",
        etag="1" * 32,
        size=7,
        last_modified=WHEN.astimezone(timezone(timedelta(hours=-5))),
        version_id="v-123",
    ),
    ListedObject(key="no-etag.bin", etag=None, size=1, last_modified=WHEN.replace(microsecond=0)),
    ListedObject(key="retried.csv", etag="2" * 32, size=9, last_modified=WHEN),
]
RETRY_OF = [None, None, None, None, 41]
IGNORED = ("id", "received_at", "next_attempt_at", "processed_at")


def stored_rows(db) -> list[dict]:
    db.row_factory = dict_row
    rows = db.execute("SELECT * FROM intake_events ORDER BY object_key").fetchall()
    for row in rows:
        row["processed"] = row["processed_at"] is not None
        for name in IGNORED:
            del row[name]
    return rows


def test_rows_equal_those_of_rescan_events_through_store_events(pool, db, settings, buckets):
    status = {}
    for bucket in (buckets.raw, "not-mapped"):
        events = [rescan_event(bucket, o, r) for o, r in zip(LISTED, RETRY_OF, strict=True)]
        by_events = store_events(pool, events, settings.phase_of)
        expected = stored_rows(db)
        db.execute("TRUNCATE intake_events CASCADE")
        mapped = settings.phase_of(bucket) is not None
        ids = store_listed(pool, bucket, LISTED, mapped=mapped, retry_of=RETRY_OF)
        assert stored_rows(db) == expected
        assert len(ids) == by_events.accepted == len(LISTED)
        db.execute("TRUNCATE intake_events CASCADE")
        status[bucket] = {row["object_key"]: (row["status"], row["note"]) for row in expected}
    assert status[buckets.raw]["day 1.csv"] == ("pending", None)
    assert status[buckets.raw]["dir/"][0] == "ignored"  # a folder marker
    assert {s for s, _ in status["not-mapped"].values()} == {"ignored"}


def test_a_version_already_stored_is_not_stored_again(pool, db, settings, buckets):
    first = store_events(pool, [rescan_event(buckets.raw, LISTED[0])], settings.phase_of)
    assert len(first.stored_ids) == 1
    again = store_listed(pool, buckets.raw, LISTED[:2] + LISTED[:1], mapped=True)
    assert len(again) == 1  # dir/ only: day 1.csv is stored, and listed twice here
    assert store_listed(pool, buckets.raw, LISTED[:2], mapped=True) == ()
    count = db.execute("SELECT count(*) FROM intake_events").fetchone()
    assert count == (2,)
