"""End to end with a real sender: SeaweedFS's own filer webhook notifies a live notifier.

Nothing here builds a webhook body: uploads go through the S3 API, SeaweedFS POSTs its
events to notifier over HTTP, workers inspect the objects, and the tests read the rows.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from minio import Minio
from minio.commonconfig import CopySource
from psycopg.rows import dict_row
from werkzeug.serving import make_server

from notifier.config import Settings
from notifier.db import create_pool
from notifier.devstack.servers import LocalSeaweedFS, free_port
from notifier.processing import Processor, start_workers
from notifier.storage import ObjectStore, make_client
from notifier.web import create_app
from tests.conftest import S3_ACCESS_KEY, S3_SECRET_KEY, TOKEN

CSV = b'id,note\n1,"a, b"\n2,"multi\nline"\n3,plain\n'
WAIT_SECONDS = 15.0


@pytest.fixture(scope="module")
def webhook_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def notifying_s3(tmp_path_factory, webhook_port) -> Iterator[LocalSeaweedFS]:
    server = LocalSeaweedFS(
        data_dir=tmp_path_factory.mktemp("seaweedfs-notifying"),
        s3_port=free_port(),
        access_key=S3_ACCESS_KEY,
        secret_key=S3_SECRET_KEY,
        webhook_url=f"http://127.0.0.1:{webhook_port}/events",
        webhook_token=TOKEN,
    )
    server.start()
    yield server
    server.stop()


@dataclasses.dataclass
class Live:
    s3: Minio
    bucket: str
    db: psycopg.Connection[dict[str, Any]]

    def put(self, key: str, data: bytes, **kw: Any) -> None:
        self.s3.put_object(self.bucket, key, io.BytesIO(data), len(data), **kw)

    def rows(self, where: str = "true", params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return self.db.execute(
            f"SELECT * FROM ingestion_events WHERE {where} ORDER BY id", params
        ).fetchall()

    def wait_rows(self, count: int, where: str = "true", params: tuple[Any, ...] = ()):
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            found = self.rows(where, params)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"expected {count} row(s) where {where}, got {self.rows(where, params)}"
        )


@pytest.fixture
def live(notifying_s3, webhook_port, database_url, buckets) -> Iterator[Live]:
    client = notifying_s3.client()
    bucket = f"live-{buckets.raw}"
    client.make_bucket(bucket)
    settings = Settings.from_env(
        {
            "NOTIFIER_DATABASE_URL": database_url,
            "NOTIFIER_S3_ENDPOINT": notifying_s3.endpoint,
            "NOTIFIER_S3_ACCESS_KEY": S3_ACCESS_KEY,
            "NOTIFIER_S3_SECRET_KEY": S3_SECRET_KEY,
            "NOTIFIER_AUTH_TOKEN": TOKEN,
            "NOTIFIER_BUCKET_MAP": f"{bucket}=ingestion",
        }
    )
    pool = create_pool(database_url, 4, open_now=True)
    server = make_server("127.0.0.1", webhook_port, create_app(settings, pool), threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    stop = threading.Event()
    workers = start_workers(
        Processor(settings, pool, ObjectStore(make_client(settings.s3))), 2, stop
    )
    try:
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as db:
            yield Live(s3=client, bucket=bucket, db=db)
            assert db.execute("SELECT count(*) AS n FROM dead_letters").fetchone()["n"] == 0
    finally:
        stop.set()
        server.shutdown()
        for worker in workers:
            worker.join()
        pool.close()


@pytest.mark.parametrize(
    "key",
    [
        "plain.csv",
        "with space/file name.csv",
        "plus+sign/a+b.csv",
        "ñandú/データ é.csv",
        "a/b/c/d/deep.csv",
        "odd %2F chars & (x).csv",
    ],
)
def test_upload_produces_a_row_with_the_exact_key(live, key):
    live.put(key, CSV, content_type="text/csv")
    (row,) = live.wait_rows(1)
    assert row["object_key"] == key
    assert row["ruta_minio"] == f"s3://{live.bucket}/{key}"
    assert row["nombre_archivo"] == key.rsplit("/", 1)[-1]
    assert (row["estado"], row["num_registros"]) == ("ok", 3)
    assert row["event_name"] == "seaweedfs:create"
    assert row["etag"] == live.s3.stat_object(live.bucket, key).etag.strip('"')


def test_overwrite_is_a_new_row(live):
    live.put("daily.csv", CSV)
    live.wait_rows(1)
    live.put("daily.csv", CSV + b"4,more\n")
    rows = live.wait_rows(2)
    assert [r["num_registros"] for r in rows] == [3, 4]
    assert rows[1]["event_name"] == "seaweedfs:update"


def test_multipart_upload_is_one_row_without_part_noise(live):
    body = b"id,value\n" + b"".join(b"%d,%s\n" % (i, b"y" * 50) for i in range(250_000))
    live.s3.put_object(
        live.bucket, "big/multi.csv", io.BytesIO(body), len(body), part_size=5 * 1024 * 1024
    )
    (row,) = live.wait_rows(1)
    assert row["num_registros"] == 250_000
    assert row["etag"].endswith("-3")
    time.sleep(0.5)  # any late part or directory event would have landed by now
    assert len(live.rows()) == 1


def test_copy_produces_a_row_for_the_destination(live):
    live.put("src/a.csv", CSV)
    live.wait_rows(1)
    live.s3.copy_object(live.bucket, "archive/a copy.csv", CopySource(live.bucket, "src/a.csv"))
    (row,) = live.wait_rows(1, "object_key = %s", ("archive/a copy.csv",))
    assert row["num_registros"] == 3


def test_delete_marks_the_row_deleted(live):
    live.put("to delete.csv", CSV)
    live.wait_rows(1)
    live.s3.remove_object(live.bucket, "to delete.csv")
    (row,) = live.wait_rows(1, "deleted_at IS NOT NULL")
    assert row["num_registros"] == 3
    assert row["object_key"] == "to delete.csv"
