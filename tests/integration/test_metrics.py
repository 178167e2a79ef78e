"""GET /metrics and /readyz against real PostgreSQL, SeaweedFS and gunicorn processes."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from notifier.config import S3Settings
from notifier.devstack.servers import free_port
from notifier.storage import ObjectStore, make_client
from notifier.web import create_app
from tests.conftest import S3_ACCESS_KEY, S3_SECRET_KEY, TOKEN
from tests.support import minio_body, minio_record, record_for_stat


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return samples(response.get_data(as_text=True))


def accepted(found, sender="minio") -> float:
    key = ("notifier_events_received_total", (("outcome", "accepted"), ("sender", sender)))
    return found.get(key, 0.0)


def test_backlog_and_oldest_age_rise_while_workers_stop_and_fall_after(
    client, auth, s3_client, buckets, processor
):
    before = scrape(client)
    assert before[("notifier_backlog_events", ())] == 0
    assert before[("notifier_oldest_pending_event_age_seconds", ())] == 0
    for n in range(3):
        key = f"m/{n}.csv"
        s3_client.put_object(buckets.raw, key, io.BytesIO(b"a\n1\n"), 4)
        body = minio_body(record_for_stat(s3_client, buckets.raw, key))
        assert client.post("/events", data=body, headers=auth).status_code == 200
    time.sleep(1.1)
    waiting = scrape(client)
    assert waiting[("notifier_backlog_events", ())] == 3
    assert waiting[("notifier_oldest_pending_event_age_seconds", ())] >= 1.0
    assert accepted(waiting) - accepted(before) == 3
    assert waiting[("notifier_database_up", ())] == 1

    assert processor.drain() == 3
    after = scrape(client)
    assert after[("notifier_backlog_events", ())] == 0
    assert after[("notifier_oldest_pending_event_age_seconds", ())] == 0
    rows = ("notifier_audit_rows_total", (("estado", "ok"), ("phase", "ingestion")))
    assert after[rows] - before.get(rows, 0.0) == 3
    last = ("notifier_last_event_timestamp_seconds", (("phase", "ingestion"),))
    assert abs(after[last] - time.time()) < 60


def test_unmapped_buckets_and_dead_letters_are_counted(client, auth):
    before = scrape(client)
    body = minio_body(minio_record("not-a-mapped-bucket", "x.csv", size=3, etag="e1"))
    assert client.post("/events", data=body, headers=auth).json["unmapped"] == 1
    assert client.post("/events", data=b"not json", headers=auth).status_code == 202
    assert client.post("/events", data=body).status_code == 401
    after = scrape(client)
    unmapped = ("notifier_unmapped_bucket_events_total", (("bucket", "not-a-mapped-bucket"),))
    assert after[unmapped] - before.get(unmapped, 0.0) == 1
    letters = ("notifier_dead_letters_total", ())
    assert after[letters] - before.get(letters, 0.0) == 1
    assert after[("notifier_dead_letters_waiting", ())] == 1
    refused = (
        "notifier_events_received_total",
        (("outcome", "unauthorized"), ("sender", "unknown")),
    )
    assert after[refused] - before.get(refused, 0.0) == 1


def test_readyz_reports_the_store_without_failing_on_it(settings, pool, s3_server):
    reachable = ObjectStore(make_client(settings.s3, probe=True))
    client = create_app(settings, pool, store_probe=reachable).test_client()
    assert client.get("/readyz").json == {"status": "ready", "database": "ok", "store": "ok"}
    dead = S3Settings(f"http://127.0.0.1:{free_port()}", S3_ACCESS_KEY, S3_SECRET_KEY)
    down = create_app(settings, pool, store_probe=ObjectStore(make_client(dead, probe=True)))
    response = down.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["store"] == "unreachable"


def test_metrics_add_up_across_two_gunicorn_processes(settings, buckets, s3_client, tmp_path):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env.update(
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        NOTIFIER_DATABASE_URL=settings.database_url,
        NOTIFIER_S3_ENDPOINT=settings.s3.endpoint,
        NOTIFIER_S3_ACCESS_KEY=S3_ACCESS_KEY,
        NOTIFIER_S3_SECRET_KEY=S3_SECRET_KEY,
        NOTIFIER_AUTH_TOKEN=TOKEN,
        NOTIFIER_BUCKET_MAP=buckets.map_text(),
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "notifier.wsgi:app",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: _status(f"{base}/healthz") == 200, "gunicorn to answer")
        s3_client.put_object(buckets.raw, "g.csv", io.BytesIO(b"a\n1\n"), 4)
        events = 40
        for n in range(events):
            record = record_for_stat(s3_client, buckets.raw, "g.csv", sequencer=f"{n:08X}")
            request = urllib.request.Request(
                f"{base}/events",
                data=minio_body(record),
                method="POST",
                headers={"Authorization": f"Bearer {TOKEN}", "Connection": "close"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
        writers = {path.name for path in metrics_dir.glob("counter_*.db")}
        assert len(writers) >= 2, f"both processes should have counted: {writers}"
        for _ in range(4):  # whichever process answers, the sums are the pod's
            with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
                found = samples(response.read().decode())
            assert accepted(found) == events
            assert found[("notifier_backlog_events", ())] == events
    finally:
        server.terminate()
        server.communicate(timeout=30)


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status)
    except OSError:
        return None


def _wait_until(predicate, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_grafana_dashboard_queries_only_metrics_notifier_exposes(client, repo_root):
    text = client.get("/metrics").get_data(as_text=True)
    exposed = set()
    for family in text_string_to_metric_families(text):
        exposed |= {family.name} | {sample.name for sample in family.samples}
    # Counters and histograms appear once something is counted: add their families.
    from notifier import metrics

    for declared in (
        metrics.EVENTS_RECEIVED,
        metrics.UNMAPPED_EVENTS,
        metrics.DEAD_LETTERS,
        metrics.AUDIT_ROWS,
        metrics.RETRIES,
        metrics.GIVE_UPS,
        metrics.S3_ERRORS,
        metrics.DATABASE_ERRORS,
        metrics.INSPECTION_SECONDS,
    ):
        for family in declared.collect():
            kind = "_bucket" if family.type == "histogram" else "_total"
            exposed.add(family.name + kind)
    dashboard = json.loads((repo_root / "k8s/monitoring/grafana-dashboard.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bnotifier_[a-z0-9_]+", target["expr"])
    }
    assert len(queried) >= 10
    assert queried <= exposed, queried - exposed


def test_absent_sidecars_are_not_counted_as_store_errors(
    client, auth, s3_client, buckets, processor
):
    # A model with no sidecar: reading it looks up six sidecar names that do not exist,
    # which is the normal case, not a store failure.
    key = "rf/model.joblib"
    data = b"\x80\x04N."  # pickle of None
    s3_client.put_object(buckets.models, key, io.BytesIO(data), len(data))
    before = scrape(client)
    body = minio_body(record_for_stat(s3_client, buckets.models, key))
    assert client.post("/events", data=body, headers=auth).status_code == 200
    assert processor.drain() == 1
    after = scrape(client)
    missing = ("notifier_s3_errors_total", (("kind", "missing"),))
    assert after.get(missing, 0.0) == before.get(missing, 0.0)
