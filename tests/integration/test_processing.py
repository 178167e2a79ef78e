"""From a stored event to its audit row, reading real objects from SeaweedFS."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import pickle
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from psycopg.rows import dict_row

from notifier.processing import Processor
from notifier.storage import ObjectStore, make_client
from tests.support import minio_body, minio_record, record_for_stat

QUOTED_CSV = (
    b"id,comment,amount\n"
    b'1,"hello, world",3\n'
    b'2,"line one\nline two",4\n'
    b'3,"he said ""hi""",5\n'
    b"4,plain,6\n"
)


def put(s3_client, bucket, key, data: bytes, content_type="application/octet-stream", **kw):
    s3_client.put_object(bucket, key, io.BytesIO(data), len(data), content_type=content_type, **kw)


def deliver(client, auth, s3_client, bucket, key, **overrides):
    record = record_for_stat(s3_client, bucket, key, **overrides)
    response = client.post("/events", data=minio_body(record), headers=auth)
    assert response.status_code == 200, response.json
    return record


def rows(db, table):
    db.row_factory = dict_row
    return db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def test_csv_in_raw_becomes_one_ingestion_row(client, auth, s3_client, buckets, processor, db):
    put(s3_client, buckets.raw, "batch/2026-11-26/ventas.csv", QUOTED_CSV, "text/csv")
    record = deliver(client, auth, s3_client, buckets.raw, "batch/2026-11-26/ventas.csv")
    assert processor.drain() == 1
    (row,) = rows(db, "ingestion_events")
    assert row["num_registros"] == 4
    assert row["estado"] == "ok"
    assert row["reason"] is None
    assert row["nombre_archivo"] == "ventas.csv"
    assert row["ruta_minio"] == f"s3://{buckets.raw}/batch/2026-11-26/ventas.csv"
    assert row["timestamp_ingesta"] == datetime.fromisoformat(record["eventTime"])
    assert row["bucket"] == buckets.raw
    assert row["etag"] == record["s3"]["object"]["eTag"]
    assert row["size_bytes"] == len(QUOTED_CSV)
    assert row["event_name"] == "s3:ObjectCreated:Put"
    assert row["origin"] == "webhook"
    assert row["format"] == "csv"
    assert row["details"]["columns"] == ["id", "comment", "amount"]
    assert row["processed_at"] >= row["timestamp_ingesta"] - timedelta(seconds=5)
    (event,) = rows(db, "intake_events")
    assert event["status"] == "done"


def test_parquet_in_silver_is_counted(client, auth, s3_client, buckets, processor, db):
    table = pa.table({"x": list(range(12345)), "y": ["v"] * 12345})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=1000)
    put(s3_client, buckets.silver, "clean/part-0.parquet", sink.getvalue())
    deliver(client, auth, s3_client, buckets.silver, "clean/part-0.parquet")
    processor.drain()
    (row,) = rows(db, "transformation_events")
    assert (row["num_registros"], row["estado"], row["format"]) == (12345, "ok", "parquet")
    assert row["timestamp_transformacion"] is not None


def test_gzipped_csv_and_jsonl(client, auth, s3_client, buckets, processor, db):
    put(s3_client, buckets.raw, "a.csv.gz", gzip.compress(QUOTED_CSV))
    lines = b"".join(json.dumps({"i": i}).encode() + b"\n" for i in range(7)) + b"\n"
    put(s3_client, buckets.raw, "b.jsonl", lines)
    deliver(client, auth, s3_client, buckets.raw, "a.csv.gz")
    deliver(client, auth, s3_client, buckets.raw, "b.jsonl")
    assert processor.drain() == 2
    counts = {r["nombre_archivo"]: r["num_registros"] for r in rows(db, "ingestion_events")}
    assert counts == {"a.csv.gz": 4, "b.jsonl": 7}


@pytest.mark.parametrize(
    "key",
    ["with space/file name.csv", "plus+sign.csv", "ñandú/データ é.csv", "a/b/c/d/e/deep.csv"],
)
def test_awkward_keys_reach_the_right_object(client, auth, s3_client, buckets, processor, db, key):
    put(s3_client, buckets.raw, key, QUOTED_CSV)
    deliver(client, auth, s3_client, buckets.raw, key)
    processor.drain()
    (row,) = rows(db, "ingestion_events")
    assert row["estado"] == "ok", row["reason"]
    assert row["object_key"] == key
    assert row["ruta_minio"] == f"s3://{buckets.raw}/{key}"
    assert row["num_registros"] == 4


def test_zero_byte_object(client, auth, s3_client, buckets, processor, db):
    put(s3_client, buckets.raw, "empty.csv", b"")
    record = deliver(client, auth, s3_client, buckets.raw, "empty.csv", size=0)
    assert "size" not in record["s3"]["object"]
    processor.drain()
    (row,) = rows(db, "ingestion_events")
    assert (row["estado"], row["num_registros"]) == ("ok", 0)


def test_multipart_upload(client, auth, s3_client, buckets, processor, db):
    header = b"id,value\n"
    body = header + b"".join(b"%d,%s\n" % (i, b"x" * 40) for i in range(300_000))
    s3_client.put_object(
        buckets.raw, "big/multi.csv", io.BytesIO(body), len(body), part_size=5 * 1024 * 1024
    )
    record = deliver(
        client,
        auth,
        s3_client,
        buckets.raw,
        "big/multi.csv",
        event_name="s3:ObjectCreated:CompleteMultipartUpload",
    )
    assert record["s3"]["object"]["eTag"].endswith("-3")
    processor.drain()
    (row,) = rows(db, "ingestion_events")
    assert row["num_registros"] == 300_000
    assert row["etag"].endswith("-3")
    assert row["event_name"] == "s3:ObjectCreated:CompleteMultipartUpload"


def test_duplicate_delivery_yields_one_row_and_reupload_a_new_one(
    client, auth, s3_client, buckets, processor, db
):
    put(s3_client, buckets.raw, "daily.csv", QUOTED_CSV)
    record = deliver(client, auth, s3_client, buckets.raw, "daily.csv")
    client.post("/events", data=minio_body(record), headers=auth)  # redelivery
    processor.drain()
    client.post("/events", data=minio_body(record), headers=auth)  # late redelivery
    processor.drain()
    assert len(rows(db, "ingestion_events")) == 1
    put(s3_client, buckets.raw, "daily.csv", QUOTED_CSV + b'5,"again",7\n')
    deliver(client, auth, s3_client, buckets.raw, "daily.csv", sequencer="FFFF0000AAAA0001")
    processor.drain()
    assert [r["num_registros"] for r in rows(db, "ingestion_events")] == [4, 5]


def test_same_content_reuploaded_is_a_new_row(client, auth, s3_client, buckets, processor, db):
    put(s3_client, buckets.raw, "same.csv", QUOTED_CSV)
    deliver(client, auth, s3_client, buckets.raw, "same.csv", sequencer="1870000000000001")
    deliver(client, auth, s3_client, buckets.raw, "same.csv", sequencer="1870000000000002")
    processor.drain()
    assert len(rows(db, "ingestion_events")) == 2


def test_model_metadata_becomes_parametros(client, auth, s3_client, buckets, processor, db):
    put(
        s3_client,
        buckets.models,
        "rf/v3/model.pkl",
        pickle.dumps({"weights": [0.25, 0.5]}),
        metadata={"learning_rate": "0.1", "n_estimators": "200", "dataset": "silver/x.parquet"},
    )
    deliver(client, auth, s3_client, buckets.models, "rf/v3/model.pkl")
    processor.drain()
    (row,) = rows(db, "training_events")
    assert row["estado"] == "ok"
    assert row["ruta_modelo"] == f"s3://{buckets.models}/rf/v3/model.pkl"
    assert row["parametros"]["learning_rate"] == 0.1
    assert row["parametros"]["n_estimators"] == 200
    assert row["timestamp_entrenamiento"] is not None


def test_results_json_becomes_metrics(client, auth, s3_client, buckets, processor, db):
    doc = {
        "model": "rf-v3",
        "dataset": "silver/x.parquet",
        "accuracy": 0.93,
        "metrics": {"f1": 0.91, "auc": 0.97},
        "notes": "fine",
    }
    put(s3_client, buckets.results, "eval/rf-v3.json", json.dumps(doc).encode(), "application/json")
    deliver(client, auth, s3_client, buckets.results, "eval/rf-v3.json")
    processor.drain()
    (row,) = rows(db, "evaluation_events")
    assert row["modelo_nombre"] == "rf-v3"
    assert row["nombre_dataset"] == "silver/x.parquet"
    assert row["metrics"]["accuracy"] == 0.93
    assert row["metrics"]["f1"] == 0.91 or row["metrics"]["metrics.f1"] == 0.91
    assert "notes" not in row["metrics"]
    assert row["ruta_resultados"] == f"s3://{buckets.results}/eval/rf-v3.json"


def test_unsupported_and_corrupt_objects_get_a_reason(
    client, auth, s3_client, buckets, processor, db
):
    put(s3_client, buckets.raw, "image.png", b"\x89PNG....")
    put(s3_client, buckets.raw, "broken.parquet", b"this is not parquet at all")
    put(s3_client, buckets.raw, "ragged.csv", b"a,b\n1,2\n3,4,5\n")
    for key in ("image.png", "broken.parquet", "ragged.csv"):
        deliver(client, auth, s3_client, buckets.raw, key)
    processor.drain()
    by_name = {r["nombre_archivo"]: r for r in rows(db, "ingestion_events")}
    assert by_name["image.png"]["estado"] == "skipped"
    assert "unsupported" in by_name["image.png"]["reason"]
    assert by_name["broken.parquet"]["estado"] == "error"
    assert by_name["broken.parquet"]["reason"]
    assert by_name["ragged.csv"]["estado"] == "error"
    assert all(r["num_registros"] is None for r in by_name.values())


def test_text_over_the_size_cap_is_skipped(settings, pool, client, auth, s3_client, buckets, db):
    put(s3_client, buckets.raw, "big.csv", QUOTED_CSV)
    deliver(client, auth, s3_client, buckets.raw, "big.csv")
    capped = dataclasses.replace(settings, max_scan_bytes=10)
    Processor(capped, pool, ObjectStore(make_client(capped.s3))).drain()
    (row,) = rows(db, "ingestion_events")
    assert row["estado"] == "skipped"
    assert "cap" in row["reason"]


def test_object_removed_before_processing_is_skipped(
    client, auth, s3_client, buckets, processor, db
):
    put(s3_client, buckets.raw, "fleeting.csv", QUOTED_CSV)
    deliver(client, auth, s3_client, buckets.raw, "fleeting.csv")
    s3_client.remove_object(buckets.raw, "fleeting.csv")
    processor.drain()
    (row,) = rows(db, "ingestion_events")
    assert row["estado"] == "skipped"
    assert "removed" in row["reason"]


def test_overwritten_before_processing_is_skipped_not_miscounted(
    client, auth, s3_client, buckets, processor, db
):
    put(s3_client, buckets.raw, "v.csv", QUOTED_CSV)
    deliver(client, auth, s3_client, buckets.raw, "v.csv")
    put(s3_client, buckets.raw, "v.csv", b"a\n1\n")
    processor.drain()
    (row,) = rows(db, "ingestion_events")
    assert row["estado"] == "skipped"
    assert "overwritten" in row["reason"]


def test_removal_marks_the_row_deleted(client, auth, s3_client, buckets, processor, db):
    put(s3_client, buckets.raw, "old.csv", QUOTED_CSV)
    deliver(client, auth, s3_client, buckets.raw, "old.csv")
    processor.drain()
    s3_client.remove_object(buckets.raw, "old.csv")
    when = datetime.now(UTC)
    body = minio_body(
        minio_record(buckets.raw, "old.csv", event_name="s3:ObjectRemoved:Delete", event_time=when)
    )
    assert client.post("/events", data=body, headers=auth).status_code == 200
    processor.drain()
    (row,) = rows(db, "ingestion_events")
    assert row["deleted_at"] is not None
    assert abs((row["deleted_at"] - when).total_seconds()) < 0.01
    assert row["num_registros"] == 4  # history is kept


def test_store_unreachable_retries_then_gives_up(settings, pool, client, auth, buckets, db):
    body = minio_body(minio_record(buckets.raw, "later.csv", size=10, etag="e"))
    client.post("/events", data=body, headers=auth)
    from notifier.devstack.servers import free_port

    dead_s3 = dataclasses.replace(settings.s3, endpoint=f"http://127.0.0.1:{free_port()}")
    flaky = dataclasses.replace(settings, s3=dead_s3, max_attempts=2)
    worker = Processor(flaky, pool, ObjectStore(make_client(dead_s3)))
    assert worker.process_next() is True
    (event,) = rows(db, "intake_events")
    assert event["status"] == "pending"
    assert event["attempts"] == 1
    assert "S3 unreachable" in event["note"]
    assert event["next_attempt_at"] > datetime.now(UTC)
    assert rows(db, "ingestion_events") == []
    db.execute("UPDATE intake_events SET next_attempt_at = now()")
    assert worker.process_next() is True
    (row,) = rows(db, "ingestion_events")
    assert row["estado"] == "error"
    assert "gave up after 2 attempts" in row["reason"]


def test_removal_recorded_before_creation_still_marks_the_row(
    client, auth, s3_client, buckets, processor, db
):
    put(s3_client, buckets.raw, "racy.csv", QUOTED_CSV)
    created = record_for_stat(s3_client, buckets.raw, "racy.csv")
    s3_client.remove_object(buckets.raw, "racy.csv")
    removed_at = datetime.now(UTC)
    removal = minio_record(
        buckets.raw, "racy.csv", event_name="s3:ObjectRemoved:Delete", event_time=removed_at
    )
    client.post("/events", data=minio_body(removal), headers=auth)  # arrives first
    processor.drain()
    client.post("/events", data=minio_body(created), headers=auth)
    processor.drain()
    (row,) = rows(db, "ingestion_events")
    assert row["estado"] == "skipped"
    assert abs((row["deleted_at"] - removed_at).total_seconds()) < 0.01
