import json
from pathlib import Path

import pytest

from notifier.errors import PayloadError
from notifier.intake import EventKind, parse_body
from tests.support import minio_body, minio_record

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "minio"


def sample(name: str) -> bytes:
    path = PAYLOADS / name
    assert path.is_file(), f"reference payload missing: {path}"
    return path.read_bytes()


def test_minio_sample_put():
    parsed = parse_body(sample("put_simple.json"))
    assert parsed.sender == "minio"
    (event,) = parsed.events
    assert event.kind is EventKind.CREATED
    assert (event.bucket, event.key) == ("images", "photo.jpg")
    assert event.size == 162023
    assert event.etag == "5337769ffa594e742408ad3f30713cd7"
    assert event.event_time.isoformat() == "2025-03-14T09:26:53.119000+00:00"
    assert event.sequencer == "182CA136EA661F17"
    assert event.user_metadata == {}


def test_minio_sample_versioned_with_metadata_decodes_escaped_slashes():
    (event,) = parse_body(sample("put_versioned_with_metadata.json")).events
    assert event.key == "uploads/2025/03/14/scan-0001.tiff"
    assert event.version_id == "3f8a2c1e-6b7d-4e59-a0c4-9d1e2b3a4c5d"
    assert event.user_metadata == {"batch": "2025-03-14T10:00:00Z", "scanner-id": "sc-07"}


def test_minio_sample_multipart_and_delete():
    (multipart,) = parse_body(sample("multipart.json")).events
    assert multipart.etag == "6c3f2ab7e08e7b8f1b9d4a5c2e1f0d93-7"
    assert multipart.key == "db/pg-2025-03-14.tar.gz"
    (delete,) = parse_body(sample("delete.json")).events
    assert delete.kind is EventKind.REMOVED
    assert delete.size is None
    assert delete.etag is None


@pytest.mark.parametrize(
    "key",
    [
        "reports/2024 Q4/Résumé (v2)+x&y.pdf",
        "red+flower.jpg",
        "a b/c d.csv",
        "日本/データ.parquet",
        "deep/nested/prefix/part-0001.csv.gz",
        "100%/done.csv",
    ],
)
def test_keys_decode_exactly(key):
    (event,) = parse_body(minio_body(minio_record("raw", key, size=1))).events
    assert event.key == key
    assert event.uri == f"s3://raw/{key}"
    assert event.file_name == key.rsplit("/", 1)[-1]


def test_contract_example_key():
    record = minio_record("raw", "x")
    record["s3"]["object"]["key"] = "reports%2F2024+Q4%2FR%C3%A9sum%C3%A9+%28v2%29%2Bx%26y.pdf"
    (event,) = parse_body(json.dumps({"Records": [record]}).encode()).events
    assert event.key == "reports/2024 Q4/Résumé (v2)+x&y.pdf"


def test_zero_byte_object_has_no_size():
    (event,) = parse_body(minio_body(minio_record("raw", "empty.csv", size=0))).events
    assert event.size is None


def test_non_content_events_are_ignored_not_failed():
    body = minio_body(
        minio_record("raw", "a.csv", event_name="s3:ObjectAccessed:Get"),
        minio_record("raw", "a.csv", event_name="s3:ObjectCreated:PutTagging"),
        minio_record("raw", "b.csv", size=3),
    )
    parsed = parse_body(body)
    assert parsed.ignored == 2
    assert [e.key for e in parsed.events] == ["b.csv"]


def test_any_number_of_records():
    records = [minio_record("raw", f"f{i}.csv", size=i + 1) for i in range(25)]
    assert len(parse_body(minio_body(*records)).events) == 25


def test_duplicate_delivery_has_same_dedup_key_and_reupload_differs():
    first = minio_record("raw", "a.csv", size=3, etag="e1", sequencer="182CA136EA661F17")
    again = json.loads(json.dumps(first))
    reupload = minio_record("raw", "a.csv", size=3, etag="e1", sequencer="182CA136EA661F99")
    keys = [parse_body(minio_body(r)).events[0].dedup_key for r in (first, again, reupload)]
    assert keys[0] == keys[1]
    assert keys[0] != keys[2]


def test_bare_records_without_s3_prefix():
    record = minio_record("raw", "in/x y.csv", size=8)
    record["eventName"] = "ObjectCreated:Put"
    parsed = parse_body(json.dumps({"Records": [record]}).encode())
    assert parsed.sender == "minio"
    assert parsed.events[0].key == "in/x y.csv"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"hello": "world"}', "not a known object-event shape"),
        (b'{"Records": {}}', "not a list"),
        (b'{"Records": [42]}', "not a JSON object"),
        (b'{"Records": [{"eventName": "s3:ObjectCreated:Put"}]}', "'s3'"),
    ],
)
def test_malformed_bodies_say_why(body, reason):
    with pytest.raises(PayloadError, match=reason):
        parse_body(body)


def test_bad_event_time_and_size():
    record = minio_record("raw", "a.csv", size=3)
    record["eventTime"] = "yesterday"
    with pytest.raises(PayloadError, match="eventTime"):
        parse_body(minio_body(record))
    record = minio_record("raw", "a.csv", size=3)
    record["s3"]["object"]["size"] = -4
    with pytest.raises(PayloadError, match="size"):
        parse_body(minio_body(record))


@pytest.mark.parametrize(
    ("key", "size", "event_name", "marker"),
    [
        ("incoming/2026-11-29/", None, "s3:ObjectCreated:Put", True),
        ("incoming/", 0, "s3:ObjectCreated:Put", True),
        ("incoming/odd/", 12, "s3:ObjectCreated:Put", False),
        ("incoming/", None, "s3:ObjectRemoved:Delete", False),
        ("incoming/data.csv", None, "s3:ObjectCreated:Put", False),
    ],
)
def test_folder_markers_are_recognised(key, size, event_name, marker):
    (event,) = parse_body(
        minio_body(minio_record("raw", key, size=size, event_name=event_name))
    ).events
    assert event.is_folder_marker is marker
