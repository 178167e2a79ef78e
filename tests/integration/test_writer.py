"""Who wrote it: the writer's identity reaches intake_events and every phase row."""

from __future__ import annotations

import io

from psycopg.rows import dict_row

from tests.support import minio_body, record_for_stat

CSV = b"id,amount\n1,3\n2,4\n"


def deliver(client, auth, s3_client, bucket, key, ip, principal="pipeline-sa"):
    s3_client.put_object(bucket, key, io.BytesIO(CSV), len(CSV))
    record = record_for_stat(s3_client, bucket, key)
    record["userIdentity"] = {"principalId": principal}
    record["requestParameters"]["sourceIPAddress"] = ip
    response = client.post("/events", data=minio_body(record), headers=auth)
    assert response.status_code == 200, response.json
    return record["responseElements"]["x-amz-request-id"]


def test_writer_columns_on_event_and_phase_rows(client, auth, s3_client, buckets, processor, db):
    first = deliver(client, auth, s3_client, buckets.raw, "flows/a.csv", "10.1.2.3")
    second = deliver(client, auth, s3_client, buckets.silver, "flows/b.csv", "[2001:db8::5]")
    third = deliver(client, auth, s3_client, buckets.raw, "flows/c.csv", "10.1.2.3:9000")
    assert processor.drain() == 3
    db.row_factory = dict_row
    rows = db.execute(
        "SELECT object_key, principal_id, host(source_ip) AS ip, request_id FROM ingestion_events"
        " UNION ALL SELECT object_key, principal_id, host(source_ip), request_id"
        " FROM transformation_events ORDER BY object_key"
    ).fetchall()
    assert rows == [
        {
            "object_key": "flows/a.csv",
            "principal_id": "pipeline-sa",
            "ip": "10.1.2.3",
            "request_id": first,
        },
        {
            "object_key": "flows/b.csv",
            "principal_id": "pipeline-sa",
            "ip": "2001:db8::5",
            "request_id": second,
        },
        # A malformed address is stored NULL; the row is written as usual.
        {
            "object_key": "flows/c.csv",
            "principal_id": "pipeline-sa",
            "ip": None,
            "request_id": third,
        },
    ]
    typed = db.execute(
        "SELECT pg_typeof(source_ip)::text AS t FROM intake_events WHERE source_ip IS NOT NULL"
    ).fetchall()
    assert [r["t"] for r in typed] == ["inet", "inet"]
    estados = db.execute(
        "SELECT estado FROM ingestion_events UNION ALL SELECT estado FROM transformation_events"
    ).fetchall()
    assert {r["estado"] for r in estados} == {"ok"}
