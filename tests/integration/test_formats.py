"""Formats through the live path: upload to SeaweedFS, MinIO webhook, worker, audit row.

The first three tests are the real-world cases csv-gz-with-content-encoding-gzip,
json-array-with-nan and json-pandas-default-orient, with their inputs rebuilt here.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
from psycopg.rows import dict_row

from notifier.processing import Processor
from notifier.storage import ObjectStore, make_client
from tests.support import minio_body, record_for_stat

FLOWS_CSV = (
    b"Flow ID,Src IP,Label\n"
    b"192.0.2.1-198.51.100.7-443-51234-6,192.0.2.1,BENIGN\n"
    b"192.0.2.2-198.51.100.7-443-51235-6,192.0.2.2,DDoS\n"
    b"192.0.2.3-198.51.100.7-80-51236-6,192.0.2.3,BENIGN\n"
)

RECORDS_WITH_NAN = (
    b'[{"src_ip": "192.0.2.1", "bytes": 10.0, "label": "normal"},'
    b' {"src_ip": "192.0.2.2", "bytes": NaN, "label": "dos"},'
    b' {"src_ip": "192.0.2.3", "bytes": 30.0, "label": "normal"}]'
)

PANDAS_DEFAULT = {
    "src_ip": {"0": "192.0.2.1", "1": "192.0.2.2", "2": "192.0.2.3", "3": "192.0.2.4"},
    "bytes": {"0": 10, "1": 20, "2": 30, "3": 40},
    "label": {"0": "normal", "1": "dos", "2": "normal", "3": "probe"},
}


def put(s3_client, bucket, key, data: bytes, content_type="application/octet-stream", **kw):
    s3_client.put_object(bucket, key, io.BytesIO(data), len(data), content_type=content_type, **kw)


def deliver(client, auth, s3_client, bucket, key):
    record = record_for_stat(s3_client, bucket, key)
    response = client.post("/events", data=minio_body(record), headers=auth)
    assert response.status_code == 200, response.json


def the_row(db, table):
    db.row_factory = dict_row
    (row,) = db.execute(f"SELECT * FROM {table}").fetchall()
    return row


def rows_by_key(db, table):
    db.row_factory = dict_row
    return {r["object_key"]: r for r in db.execute(f"SELECT * FROM {table}").fetchall()}


def test_csv_gz_uploaded_with_content_encoding_gzip(
    client, auth, s3_client, buckets, processor, db
):
    key = "gz/flows.csv.gz"
    put(
        s3_client,
        buckets.raw,
        key,
        gzip.compress(FLOWS_CSV),
        "text/csv",
        metadata={"Content-Encoding": "gzip"},
    )
    deliver(client, auth, s3_client, buckets.raw, key)
    assert processor.drain() == 1
    row = the_row(db, "ingestion_events")
    assert (row["estado"], row["num_registros"], row["format"]) == ("ok", 3, "csv")
    assert row["details"]["columns"] == ["Flow ID", "Src IP", "Label"]
    assert row["details"]["num_columns"] == 3
    assert row["details"]["compression"] == "gzip"


def test_json_array_holding_nan(client, auth, s3_client, buckets, processor, db):
    key = "json/records_with_nan.json"
    put(s3_client, buckets.silver, key, RECORDS_WITH_NAN, "application/json")
    deliver(client, auth, s3_client, buckets.silver, key)
    processor.drain()
    row = the_row(db, "transformation_events")
    assert (row["estado"], row["num_registros"], row["format"]) == ("ok", 3, "json")
    assert row["details"]["layout"] == "array"


def test_json_in_pandas_default_orient(client, auth, s3_client, buckets, processor, db):
    key = "json/flows_pandas_default.json"
    put(s3_client, buckets.silver, key, json.dumps(PANDAS_DEFAULT).encode(), "application/json")
    deliver(client, auth, s3_client, buckets.silver, key)
    processor.drain()
    row = the_row(db, "transformation_events")
    assert (row["estado"], row["num_registros"]) == ("ok", 4)
    assert row["details"]["layout"] == "pandas-columns"


def test_pandas_orients_indented_and_split(client, auth, s3_client, buckets, processor, db):
    split = {"columns": ["a", "b"], "index": [0, 1, 2], "data": [[1, 2], [3, 4], [5, 6]]}
    put(s3_client, buckets.silver, "j/indented.json", json.dumps(PANDAS_DEFAULT, indent=2).encode())
    put(s3_client, buckets.silver, "j/split.json", json.dumps(split).encode())
    for key in ("j/indented.json", "j/split.json"):
        deliver(client, auth, s3_client, buckets.silver, key)
    processor.drain()
    found = rows_by_key(db, "transformation_events")
    assert found["j/indented.json"]["num_registros"] == 4
    assert found["j/split.json"]["num_registros"] == 3
    assert found["j/split.json"]["details"]["layout"] == "pandas-split"


def test_parquet_with_a_lying_content_encoding_is_read_by_ranges(
    client, auth, s3_client, buckets, processor, db
):
    sink = io.BytesIO()
    pq.write_table(pa.table({"x": list(range(500))}), sink)
    put(
        s3_client,
        buckets.raw,
        "p/part-0.parquet",
        sink.getvalue(),
        metadata={"Content-Encoding": "gzip"},
    )
    deliver(client, auth, s3_client, buckets.raw, "p/part-0.parquet")
    processor.drain()
    row = the_row(db, "ingestion_events")
    assert (row["estado"], row["num_registros"]) == ("ok", 500)


def test_formats_recognised_by_their_bytes(client, auth, s3_client, buckets, processor, db):
    sink = io.BytesIO()
    pq.write_table(pa.table({"x": list(range(7))}), sink)
    objects = {
        "m/no-suffix-parquet": sink.getvalue(),
        "m/no-suffix-json": gzip.compress(b'[{"a": 1}, {"a": 2}]'),
        "m/export.csv.bz2": bz2.compress(b"a,b\n1,2\n3,4\n"),
    }
    for key, data in objects.items():
        put(s3_client, buckets.raw, key, data)
        deliver(client, auth, s3_client, buckets.raw, key)
    processor.drain()
    found = rows_by_key(db, "ingestion_events")
    parquet, json_, bz = (found[k] for k in objects)
    assert (parquet["format"], parquet["num_registros"]) == ("parquet", 7)
    assert parquet["details"]["detected_by"] == {"format": "magic bytes"}
    assert (json_["format"], json_["num_registros"]) == ("json", 2)
    assert json_["details"]["detected_by"] == {"compression": "magic bytes", "format": "content"}
    assert (bz["format"], bz["num_registros"], bz["details"]["compression"]) == ("csv", 2, "bz2")


def test_table_format_logs_and_job_markers_are_skipped(
    client, auth, s3_client, buckets, processor, db
):
    delta_commit = b'{"commitInfo": {}}\n{"protocol": {}}\n{"metaData": {}}\n{"add": {}}\n'
    objects = {
        "sales/_delta_log/00000000000000000000.json": delta_commit,
        "sales/metadata/v1.metadata.json": b'{"format-version": 2}',
        "sales/metadata/snap-1-1-abc.avro": b"Obj\x01",
        "sales/.hoodie/20261129.commit": b"{}",
        "sales/_SUCCESS": b"",
        "sales/.part-00000.parquet.crc": b"crc",
        "sales/part-00000.csv": b"a\n1\n",
    }
    for key, data in objects.items():
        put(s3_client, buckets.raw, key, data)
        deliver(client, auth, s3_client, buckets.raw, key)
    processor.drain()
    found = rows_by_key(db, "ingestion_events")
    assert found.pop("sales/part-00000.csv")["num_registros"] == 1
    assert {key: row["estado"] for key, row in found.items()} == dict.fromkeys(
        list(objects)[:-1], "skipped"
    )
    assert "Delta Lake" in found["sales/_delta_log/00000000000000000000.json"]["reason"]
    assert "Iceberg" in found["sales/metadata/v1.metadata.json"]["reason"]
    assert "Hudi" in found["sales/.hoodie/20261129.commit"]["reason"]


def test_ignore_patterns_setting_adds_patterns(
    settings, pool, client, auth, s3_client, buckets, db
):
    put(s3_client, buckets.raw, "tmp/scratch.csv", b"a\n1\n")
    deliver(client, auth, s3_client, buckets.raw, "tmp/scratch.csv")
    ignoring = dataclasses.replace(settings, ignore_patterns=("tmp/*",))
    Processor(ignoring, pool, ObjectStore(make_client(ignoring.s3))).drain()
    row = the_row(db, "ingestion_events")
    assert row["estado"] == "skipped"
    assert row["reason"] == "matches ignore pattern 'tmp/*' (NOTIFIER_IGNORE_PATTERNS)"


def test_folder_marker_gets_no_row(client, auth, s3_client, buckets, processor, db):
    put(s3_client, buckets.raw, "incoming/2026-11-29/", b"")
    deliver(client, auth, s3_client, buckets.raw, "incoming/2026-11-29/")
    assert processor.drain() == 0
    db.row_factory = dict_row
    assert db.execute("SELECT count(*) AS n FROM ingestion_events").fetchone()["n"] == 0
    (event,) = db.execute("SELECT status, note FROM intake_events").fetchall()
    assert event["status"] == "ignored"
    assert "folder marker" in event["note"]


def test_deeply_nested_json_is_an_error_at_the_first_attempt(
    client, auth, s3_client, buckets, processor, db
):
    put(s3_client, buckets.raw, "deep.json", b"[" * 100_000 + b"]" * 100_000)
    deliver(client, auth, s3_client, buckets.raw, "deep.json")
    processor.drain()
    row = the_row(db, "ingestion_events")
    assert row["estado"] == "error"
    assert row["reason"] == "JSON document nests deeper than 512 levels"
    db.row_factory = dict_row
    (event,) = db.execute("SELECT attempts FROM intake_events").fetchall()
    assert event["attempts"] == 1
