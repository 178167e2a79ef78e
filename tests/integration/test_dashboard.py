"""The audit dashboard through Flask's test client, against real PostgreSQL and S3."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from datetime import UTC, datetime

import pytest

from notifier.web import create_app
from tests.support import minio_body, record_for_stat

VIEWER = "viewer-token-0123456789"
HOSTILE_KEY = 'evil/<script>alert("key")</script><img src=x onerror=alert(1)>.csv'


@pytest.fixture
def viewer_app(settings, pool):
    return create_app(dataclasses.replace(settings, dashboard_token=VIEWER), pool)


@pytest.fixture
def browser(viewer_app):
    client = viewer_app.test_client()
    response = client.post("/dashboard/login", data={"token": VIEWER})
    assert response.status_code == 302
    return client


def audit(client, auth, s3_client, processor, bucket, key, data: bytes) -> None:
    s3_client.put_object(bucket, key, io.BytesIO(data), len(data))
    body = minio_body(record_for_stat(s3_client, bucket, key))
    assert client.post("/events", data=body, headers=auth).status_code == 200
    processor.drain()


def test_the_dashboard_is_off_without_a_viewer_token(client):
    assert client.get("/dashboard/").status_code == 404


def test_pages_need_the_viewer_token(viewer_app, auth):
    client = viewer_app.test_client()
    response = client.get("/dashboard/problems")
    assert response.status_code == 302
    assert response.location.startswith("/dashboard/login?next=/dashboard/problems")
    assert client.post("/dashboard/login", data={"token": "wrong"}).status_code == 401
    # The webhook token is not a viewer token.
    webhook = auth["Authorization"].removeprefix("Bearer ")
    assert client.post("/dashboard/login", data={"token": webhook}).status_code == 401
    assert client.get("/dashboard/").status_code == 302
    scripted = client.get("/dashboard/", headers={"Authorization": f"Bearer {VIEWER}"})
    assert scripted.status_code == 200


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(viewer_app):
    client = viewer_app.test_client()
    back = client.post("/dashboard/login", data={"token": VIEWER, "next": "/dashboard/problems"})
    assert back.location == "/dashboard/problems"
    client.post("/dashboard/logout")
    away = client.post("/dashboard/login", data={"token": VIEWER, "next": "//evil.example/"})
    assert away.location == "/dashboard/"
    cookie = away.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def test_overview_shows_last_runs_chart_data_and_problems(
    browser, client, auth, s3_client, buckets, processor
):
    audit(client, auth, s3_client, processor, buckets.raw, "day/flows.csv", b"a,b\n1,2\n3,4\n")
    audit(client, auth, s3_client, processor, buckets.silver, "clean/bad.parquet", b"not parquet")
    page = browser.get("/dashboard/").get_data(as_text=True)
    assert f"s3://{buckets.raw}/day/flows.csv" in page
    assert f"s3://{buckets.silver}/clean/bad.parquet" in page
    assert "nothing yet" in page  # training and evaluation have no row
    chart = json.loads(re.search(r'id="records-data">(.*?)</script>', page, re.S).group(1))
    assert len(chart["days"]) == 30
    assert chart["days"][-1] == datetime.now(UTC).date().isoformat()
    assert chart["series"]["ingestion"] == [0] * 29 + [2]
    assert chart["series"]["transformation"] == [0] * 30  # the unreadable Parquet counts none
    assert "Content-Security-Policy" in browser.get("/dashboard/").headers


def test_search_lists_every_version_of_a_key(browser, client, auth, s3_client, buckets, processor):
    audit(client, auth, s3_client, processor, buckets.raw, "v/flows.csv", b"a\n1\n")
    audit(client, auth, s3_client, processor, buckets.raw, "v/flows.csv", b"a\n1\n2\n3\n")
    page = browser.get("/dashboard/search", query_string={"q": "v/flows"}).get_data(as_text=True)
    assert "2 row(s)" in page
    assert page.count(f"s3://{buckets.raw}/v/flows.csv") == 2
    # LIKE wildcards in the text are literal.
    none = browser.get("/dashboard/search", query_string={"q": "v/fl_ws"}).get_data(as_text=True)
    assert "Nothing audited matches" in none


def test_keys_and_reasons_are_rendered_escaped(
    browser, client, auth, s3_client, buckets, processor
):
    audit(client, auth, s3_client, processor, buckets.raw, HOSTILE_KEY, b"a,b\n1\n")
    for path in ("/dashboard/", "/dashboard/problems"):
        page = browser.get(path).get_data(as_text=True)
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;key&#34;)&lt;/script&gt;" in page
    found = browser.get("/dashboard/search", query_string={"q": "<script>"}).get_data(as_text=True)
    assert "<script>alert" not in found
    assert "1 row(s)" in found


def test_dead_letters_page_lists_unreadable_bodies(browser, client, auth):
    assert (
        client.post("/events", data=b"<html>not an event</html>", headers=auth).status_code == 202
    )
    page = browser.get("/dashboard/dead-letters").get_data(as_text=True)
    assert "body is not JSON" in page
    assert "<html>not an event" not in page
