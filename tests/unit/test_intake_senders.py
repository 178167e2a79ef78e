"""Each sender's shape, and its key decoding, against documented or captured bodies."""

import json
from pathlib import Path

import pytest

from notifier.errors import PayloadError
from notifier.intake import EventKind, parse_body
from tests.support import minio_record

SEAWEEDFS = Path(__file__).resolve().parents[1] / "fixtures" / "seaweedfs"
AWKWARD = "reports/2024 Q4/Résumé (v2)+x&y %25.csv"


def seaweed_body(name: str) -> bytes:
    path = SEAWEEDFS / f"example-{name}.json"
    assert path.is_file(), f"captured payload missing: {path}"
    return json.loads(path.read_text())["body_raw"].encode()


def ceph_record(key: str) -> dict:
    """A Ceph RGW record: no s3: prefix, raw key, metadata as key/val pairs."""
    return {
        "eventVersion": "2.2",
        "eventSource": "ceph:s3",
        "awsRegion": "default",
        "eventTime": "2026-11-26T10:00:18.896123Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "tester"},
        "requestParameters": {"sourceIPAddress": ""},
        "responseElements": {"x-amz-request-id": "abc", "x-amz-id-2": "def"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "notif",
            "bucket": {
                "name": "raw",
                "ownerIdentity": {"principalId": "tester"},
                "arn": "arn:aws:s3:::raw",
                "id": "bucket-id",
            },
            "object": {
                "key": key,
                "size": "1024",
                "eTag": "e5ebd4c02cefbe7955977c67ada242b7",
                "versionId": "",
                "sequencer": "F7E3C1650000000A",
                "metadata": [{"key": "x-amz-meta-uploader", "val": "alice"}],
                "tags": [],
            },
        },
        "eventId": "1700000000.123.abc",
        "opaqueData": "",
    }


def test_ceph_keys_are_raw_and_metadata_is_a_list():
    parsed = parse_body(json.dumps({"Records": [ceph_record(AWKWARD)]}).encode())
    assert parsed.sender == "ceph"
    (event,) = parsed.events
    assert event.key == AWKWARD  # a MinIO-style decode would turn '+' into ' ' and '%25' into '%'
    assert event.kind is EventKind.CREATED
    assert event.size == 1024
    assert event.version_id is None
    assert event.user_metadata == {"uploader": "alice"}


def test_aws_style_keys_are_form_decoded_with_slashes_left_alone():
    record = minio_record("raw", "x")
    record["eventSource"] = "aws:s3"
    record["eventName"] = "ObjectCreated:CompleteMultipartUpload"
    record["s3"]["object"]["key"] = "in/x+y%2B1.csv"
    parsed = parse_body(json.dumps({"Records": [record]}).encode())
    assert parsed.sender == "aws"
    assert parsed.events[0].key == "in/x y+1.csv"


def test_rustfs_envelope_is_decoded_like_minio():
    record = minio_record("raw", AWKWARD, size=5)
    record["eventSource"] = "rustfs:s3"
    record["eventVersion"] = "2.3"
    body = {"EventName": record["eventName"], "Key": f"raw/{AWKWARD}", "Records": [record]}
    (event,) = parse_body(json.dumps(body).encode()).events
    assert event.key == AWKWARD


def sns(message: dict | str, kind: str = "Notification") -> bytes:
    envelope = {
        "Type": kind,
        "MessageId": "6d1c2b9e-0000-4000-8000-000000000000",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:mlops",
        "Subject": "Amazon S3 Notification",
        "Message": message if isinstance(message, str) else json.dumps(message),
        "Timestamp": "2026-11-26T10:00:19.000Z",
        "SignatureVersion": "1",
        "Signature": "c2ln",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem",
    }
    if kind == "SubscriptionConfirmation":
        envelope["SubscribeURL"] = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
        envelope["Token"] = "tok"
    return json.dumps(envelope).encode()


def test_sns_notification_unwraps_the_s3_event():
    record = minio_record("raw", "x")
    record["eventSource"] = "aws:s3"
    record["eventName"] = "ObjectCreated:Put"
    record["s3"]["object"]["key"] = "in%2Fx+y.csv"
    parsed = parse_body(sns({"Records": [record]}))
    assert parsed.sender == "sns"
    assert [e.key for e in parsed.events] == ["in/x y.csv"]


def test_sns_test_event_and_subscription():
    assert parse_body(sns({"Service": "Amazon S3", "Event": "s3:TestEvent"})).ignored == 1
    parsed = parse_body(sns("You have chosen to subscribe", "SubscriptionConfirmation"))
    assert parsed.subscription is not None
    assert parsed.subscription.topic_arn == "arn:aws:sns:us-east-1:123456789012:mlops"
    assert parsed.events == ()
    with pytest.raises(PayloadError, match="not JSON"):
        parse_body(sns("plain text"))


def test_seaweedfs_put_with_metadata_keeps_raw_utf8_key():
    parsed = parse_body(seaweed_body("put-new-object-with-user-metadata"))
    assert parsed.sender == "seaweedfs"
    (event,) = parsed.events
    assert (event.bucket, event.key) == ("uploads", "incoming/report 2024 é.csv")
    assert event.etag == "e5ebd4c02cefbe7955977c67ada242b7"
    assert event.size == 8
    assert event.content_type == "text/csv"
    assert event.user_metadata == {"source-system": "erp", "uploader": "alice"}
    assert event.sequencer == f"{1795687296451921314:X}"
    assert event.kind is EventKind.CREATED


def test_seaweedfs_overwrite_is_a_new_version():
    (event,) = parse_body(seaweed_body("overwrite-existing-object-update")).events
    assert event.kind is EventKind.CREATED
    assert event.etag == "c3c6bc2ae8ece4bd2510dca21225c041"
    assert event.size == 12
    first = parse_body(seaweed_body("put-new-object-with-user-metadata")).events[0]
    assert first.dedup_key != event.dedup_key


def test_seaweedfs_multipart_final_object_and_noise():
    (event,) = parse_body(seaweed_body("multipart-complete-final-object")).events
    assert event.key == "incoming/big.bin"
    assert event.etag == "e5589cd97cfbb340117514884e5a9413-3"
    assert event.user_metadata == {"kind": "big"}
    for noise in ("multipart-upload-dir-create", "directory-create-implicit"):
        parsed = parse_body(seaweed_body(noise))
        assert parsed.events == ()
        assert parsed.ignored == 1


def test_seaweedfs_copy_and_delete():
    (copy,) = parse_body(seaweed_body("copy-object-destination")).events
    assert copy.key == "archive/report.csv"
    (delete,) = parse_body(seaweed_body("delete-object")).events
    assert delete.kind is EventKind.REMOVED
    assert delete.key == "archive/report.csv"


def test_seaweedfs_staging_parts_and_system_buckets_are_dropped():
    body = json.loads(seaweed_body("put-new-object-with-user-metadata"))
    for path in (
        "/buckets/uploads/.uploads/abc/0001_x.part",
        "/buckets/.system/log",
        "/etc/filer/config",
        "/buckets/uploads",
    ):
        body["key"] = path
        assert parse_body(json.dumps(body).encode()).events == (), path


def test_seaweedfs_metadata_only_update_is_ignored():
    body = json.loads(seaweed_body("overwrite-existing-object-update"))
    body["message"]["old_entry"] = body["message"]["new_entry"]
    parsed = parse_body(json.dumps(body).encode())
    assert parsed.events == ()
    assert parsed.ignored == 1


def test_unknown_shape_is_a_payload_error_naming_fields():
    with pytest.raises(PayloadError, match="event_kind"):
        parse_body(b'{"event_kind": "put", "path": "/x"}')
