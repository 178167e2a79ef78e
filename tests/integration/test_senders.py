"""Each sender shape through the receiver into the database, keys exactly preserved."""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading

import pytest
from psycopg.rows import dict_row

from notifier.web import create_app
from tests.support import minio_body, minio_record
from tests.unit.test_intake_senders import AWKWARD, ceph_record, seaweed_body, sns


def stored(db):
    db.row_factory = dict_row
    return db.execute("SELECT sender, bucket, object_key FROM intake_events ORDER BY id").fetchall()


def test_each_shape_is_stored_with_its_exact_key(client, auth, db):
    aws = minio_record("raw", AWKWARD)
    aws["eventSource"], aws["eventName"] = "aws:s3", "ObjectCreated:Put"
    bodies = [
        minio_body(minio_record("raw", AWKWARD, size=1)),
        json.dumps({"Records": [ceph_record(AWKWARD)]}).encode(),
        sns({"Records": [aws]}),
        seaweed_body("put-new-object-with-user-metadata"),
    ]
    for body in bodies:
        response = client.post("/events", data=body, headers=auth)
        assert response.status_code == 200, response.json
        assert response.json["accepted"] == 1
    assert stored(db) == [
        {"sender": "minio", "bucket": "raw", "object_key": AWKWARD},
        {"sender": "ceph", "bucket": "raw", "object_key": AWKWARD},
        {"sender": "sns", "bucket": "raw", "object_key": AWKWARD},
        {"sender": "seaweedfs", "bucket": "uploads", "object_key": "incoming/report 2024 é.csv"},
    ]


def test_unconfirmed_sns_subscription_is_kept_for_an_operator(client, auth, db):
    response = client.post("/events", data=sns("hi", "SubscriptionConfirmation"), headers=auth)
    assert response.status_code == 202
    db.row_factory = dict_row
    (letter,) = db.execute("SELECT reason, body FROM dead_letters").fetchall()
    assert "NOTIFIER_SNS_CONFIRM_TOPICS" in letter["reason"]
    assert "SubscribeURL" in letter["body"]


@pytest.fixture
def confirm_endpoint():
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<ConfirmSubscriptionResponse/>")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def test_allow_listed_sns_subscription_is_confirmed(settings, pool, auth, db, confirm_endpoint):
    base, hits = confirm_endpoint
    topic = "arn:aws:sns:us-east-1:123456789012:mlops"
    app = create_app(dataclasses.replace(settings, sns_confirm_topics=frozenset({topic})), pool)
    body = json.loads(sns("hi", "SubscriptionConfirmation"))
    body["SubscribeURL"] = f"{base}/confirm?Token=abc"
    response = app.test_client().post("/events", data=json.dumps(body), headers=auth)
    assert response.status_code == 200
    assert response.json["subscription_confirmed"] == topic
    assert hits == ["/confirm?Token=abc"]
    assert db.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 0
