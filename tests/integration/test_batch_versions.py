"""Batches recorded set-based (notifier.audit.record_batch): however a key's events fall
into batches, threads and orders, its rows end in the state derived from all its events
at once (real PostgreSQL and S3)."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

from psycopg import sql

from notifier import audit
from notifier.audit.removals import removal_effect
from notifier.audit.transient import is_transient
from notifier.audit.versions import Removal, VersionRow, derive_states
from notifier.backfill.rescan import process_backlog
from notifier.inspection import Inspection
from notifier.phases import Phase
from notifier.processing import Processor
from notifier.storage import ObjectStore, make_client
from tests.support import minio_body, minio_record

T0 = datetime(2026, 11, 29, 12, 0, 0, 250_000, tzinfo=UTC)
VERSIONS = 150
REMOVED_AT = T0 + timedelta(seconds=100.5)  # after creation 100, before creation 101


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def creation(bucket: str, key: str, n: int, version_id: str | None = None) -> dict:
    # size: a small object (claimed in batches); it is not in the bucket, so each row is
    # 'skipped', which stands for its version like an 'ok' row.
    return minio_record(
        bucket,
        key,
        size=10,
        etag=f"etag-{n}",
        version_id=version_id,
        event_time=at(n),
        sequencer=f"{n + 1:016X}",
    )


def removal(bucket: str, key: str, when: datetime, **fields) -> dict:
    return minio_record(
        bucket, key, event_name="s3:ObjectRemoved:Delete", event_time=when, **fields
    )


def post_shuffled(client, auth, records: list[dict], seed: int) -> None:
    records = list(records)
    random.Random(seed).shuffle(records)
    for start in range(0, len(records), 40):
        body = minio_body(*records[start : start + 40])
        assert client.post("/events", data=body, headers=auth).status_code == 200


def states(db, bucket: str, key: str) -> dict[str, tuple[datetime | None, bool]]:
    """etag -> (deleted_at, is_current) of the key's ingestion rows."""
    rows = db.execute(
        "SELECT etag, deleted_at, is_current FROM ingestion_events"
        " WHERE bucket = %s AND object_key = %s",
        (bucket, key),
    ).fetchall()
    return {etag: (deleted_at, is_current) for etag, deleted_at, is_current in rows}


def derived_at_once(db, bucket: str, key: str) -> dict[str, tuple[datetime | None, bool]]:
    """The same, derived in one go from every row and removal of the key."""
    rows = db.execute(
        sql.SQL(
            "SELECT a.id, a.version_id, a.etag, e.event_time, e.sequencer, a.intake_event_id,"
            " a.estado, a.reason FROM {} AS a JOIN intake_events AS e"
            " ON e.id = a.intake_event_id WHERE a.bucket = %s AND a.object_key = %s"
        ).format(sql.Identifier(Phase.INGESTION.value)),
        (bucket, key),
    ).fetchall()
    removals = db.execute(
        "SELECT id, event_name, version_id, event_time, sequencer FROM intake_events"
        " WHERE bucket = %s AND object_key = %s AND event_kind = 'removed' AND status = 'done'",
        (bucket, key),
    ).fetchall()
    result = derive_states(
        [
            VersionRow(
                row_id, version, etag, time, seq, event_id, estado, is_transient(estado, why)
            )
            for row_id, version, etag, time, seq, event_id, estado, why in rows
        ],
        [
            Removal(removal_effect(name, version), version, time, seq, removal_id)
            for removal_id, name, version, time, seq in removals
        ],
    )
    etags = {row[0]: row[2] for row in rows}
    return {etags[i]: (s.deleted_at, s.is_current) for i, s in result.items()}


def test_a_key_with_many_versions_ends_as_derived_from_all_its_events(
    client, auth, buckets, processor, db
):
    # 150 uploads of one key and a delete between the 101st and the 102nd, delivered in
    # a shuffled order and recorded by 4 threads in batches of up to 32.
    key = "many/versions.csv"
    records = [creation(buckets.raw, key, n) for n in range(VERSIONS)]
    records.append(removal(buckets.raw, key, REMOVED_AT))
    post_shuffled(client, auth, records, seed=7)
    process_backlog(processor, 4)
    found = states(db, buckets.raw, key)
    assert len(found) == VERSIONS  # exactly one row per upload
    expected = {
        f"etag-{n}": (REMOVED_AT if n <= 100 else None, n == VERSIONS - 1) for n in range(VERSIONS)
    }
    assert found == expected
    assert found == derived_at_once(db, buckets.raw, key)
    statuses = db.execute("SELECT DISTINCT status FROM intake_events").fetchall()
    assert statuses == [("done",)]


def test_every_batch_size_ends_in_the_same_state(client, auth, settings, pool, buckets, db):
    # The same events of three keys (overwrites, a delete, a re-upload after it), once in
    # batches of one event, once in batches of 64 holding every event of a key together.
    def events(key: str) -> list[dict]:
        return [
            *(creation(buckets.raw, key, n) for n in range(40)),
            removal(buckets.raw, key, at(20.5)),
            removal(buckets.raw, key, at(45.5)),
            *(creation(buckets.raw, key, n) for n in range(50, 60)),
        ]

    outcomes = []
    for batch_size in (1, 64):
        keys = [f"batch-{batch_size}/{name}.csv" for name in ("a", "b", "c")]
        post_shuffled(client, auth, [r for key in keys for r in events(key)], seed=batch_size)
        tuned = dataclasses.replace(settings, worker_batch_size=batch_size)
        process_backlog(Processor(tuned, pool, ObjectStore(make_client(settings.s3))), 2)
        for key in keys:
            found = states(db, buckets.raw, key)
            assert found == derived_at_once(db, buckets.raw, key)
            outcomes.append(found)
    assert all(outcome == outcomes[0] for outcome in outcomes)
    assert sum(current for _, current in outcomes[0].values()) == 1
    assert outcomes[0]["etag-59"] == (None, True)
    assert outcomes[0]["etag-39"] == (at(45.5), False)
    assert outcomes[0]["etag-10"] == (at(20.5), False)


def test_a_batch_with_two_keys_and_a_removal_of_one(client, auth, settings, pool, buckets, db):
    # record_batch directly: creations of two keys and a version delete of one of them,
    # in one transaction; the removal's outcome counts the rows of its key whose state
    # the batch changed.
    key_a, key_b = "pair/a.csv", "pair/b.csv"
    records = [
        creation(buckets.raw, key_a, 1, version_id="va1"),
        creation(buckets.raw, key_a, 2, version_id="va2"),
        creation(buckets.raw, key_b, 3, version_id="vb1"),
        removal(buckets.raw, key_a, at(4), version_id="va2"),
    ]
    post_shuffled(client, auth, records, seed=1)
    processor = Processor(settings, pool, ObjectStore(make_client(settings.s3)))
    claimed = sorted(processor._claim(), key=lambda c: c.event_time)
    assert len(claimed) == 4
    creations, (deleted,) = claimed[:3], claimed[3:]
    with pool.connection() as conn, conn.transaction():
        processor._finish(conn, [(c, None) for c in claimed])
        outcome = audit.record_batch(
            conn,
            [
                audit.PendingRow(Phase.INGESTION, c.provenance(), Inspection.ok("csv", 1, {}))
                for c in creations
            ],
            [
                audit.PendingRemoval(
                    Phase.INGESTION,
                    bucket=deleted.bucket,
                    key=deleted.object_key,
                    event_name=deleted.event_name,
                    version_id=deleted.version_id,
                    intake_event_id=deleted.id,
                )
            ],
        )
    assert sorted(outcome.written) == sorted(c.id for c in creations)
    # va2 is deleted; va1, written current, stays current: one row changed.
    assert outcome.removals[deleted.id].note == "delete: 1 audit row(s) changed"
    assert states(db, buckets.raw, key_a) == {"etag-1": (None, True), "etag-2": (at(4), False)}
    assert states(db, buckets.raw, key_b) == {"etag-3": (None, True)}
