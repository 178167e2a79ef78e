"""Who wrote it: principal, source IP and request id from each sender's record."""

import json
from pathlib import Path

import pytest

from notifier.intake import parse_body
from notifier.intake.writer import MAX_IDENTITY_CHARS, Writer, from_s3_record, parse_ip
from tests.support import minio_body, minio_record

MINIO = Path(__file__).resolve().parents[1] / "fixtures" / "minio"
SEAWEEDFS = Path(__file__).resolve().parents[1] / "fixtures" / "seaweedfs"


def test_minio_sample_carries_principal_ip_and_request_id():
    (event,) = parse_body((MINIO / "put_simple.json").read_bytes()).events
    assert event.writer == Writer("minioadmin", "172.18.0.1", "182CA136E9601B03")


def test_aws_style_record():
    record = minio_record("raw", "a.csv", size=3)
    record["eventName"] = "ObjectCreated:Put"
    record["eventSource"] = "aws:s3"
    record["userIdentity"] = {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"}
    record["requestParameters"] = {"sourceIPAddress": "2001:db8::7"}
    record["responseElements"] = {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "x"}
    (event,) = parse_body(json.dumps({"Records": [record]}).encode()).events
    assert event.writer == Writer("AWS:AIDAJDPLRKLG7UEXAMPLE", "2001:db8::7", "C3D13FE58DE4C810")


def test_lifecycle_event_without_request_has_no_writer():
    # MinIO: requestParameters is JSON null for ILM, replication and scanner events;
    # principal and request id are empty strings.
    record = minio_record("raw", "a.csv", event_name="s3:ObjectRemoved:Delete")
    record["requestParameters"] = None
    record["userIdentity"] = {"principalId": ""}
    record["responseElements"] = {"x-amz-request-id": "", "x-amz-id-2": ""}
    (event,) = parse_body(minio_body(record)).events
    assert event.writer == Writer()


def test_seaweedfs_carries_no_writer():
    body = json.loads((SEAWEEDFS / "example-put-new-object-with-user-metadata.json").read_text())
    (event,) = parse_body(body["body_raw"].encode()).events
    assert event.writer == Writer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.5", "10.0.0.5"),
        (" 10.0.0.5 ", "10.0.0.5"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:DB8:0::1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("10.0.0.5:9000", None),
        ("999.1.1.1", None),
        ("not an address", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_malformed_addresses_are_none(text, expected):
    assert parse_ip(text) == expected


def test_identity_texts_are_bounded_and_cleaned():
    writer = from_s3_record(
        {
            "userIdentity": {"principalId": "a\x00b" + "x" * 1000},
            "requestParameters": "not an object",
            "responseElements": {"x-amz-request-id": 12},
        }
    )
    assert writer.principal_id is not None
    assert writer.principal_id.startswith("abx")
    assert len(writer.principal_id) == MAX_IDENTITY_CHARS
    assert (writer.source_ip, writer.request_id) == (None, None)
