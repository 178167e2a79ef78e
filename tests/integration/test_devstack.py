"""notifier.devstack against real processes: PostgreSQL (initdb/pg_ctl) and SeaweedFS (weed mini).

Nothing here skips: a server that cannot start fails the test with DevStackError's message,
which quotes the server's log.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

import minio
import psycopg
import pytest
from minio.error import S3Error

from notifier.devstack.servers import (
    DevStackError,
    LocalPostgres,
    LocalSeaweedFS,
    find_pg_bindir,
    free_port,
)

ACCESS_KEY = "devstack-test"
SECRET_KEY = "devstack-test-secret"
WEBHOOK_TOKEN = "devstack-hook-token"
HOOKED_BUCKET = "hooked"
EVENT_WAIT_S = 15.0
PROCESS_EXIT_WAIT_S = 15.0
REPO_ROOT = Path(__file__).resolve().parents[2]

T = TypeVar("T")


# --------------------------------------------------------------------------- helpers


def wait_for(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``probe`` until it returns something other than None; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result is not None:
            return result
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def process_gone(pid: int) -> bool | None:
    """True once ``pid`` has exited (a zombie whose threads are all gone counts), else None."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        threads = len(os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return True
    return True if state in ("Z", "X") and threads <= 1 else None


def listening_ports(pid: int) -> set[int]:
    """TCP ports ``pid`` listens on, from /proc (Linux only)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def assert_listens_exactly_on_its_ports(server: LocalSeaweedFS) -> None:
    pid, chosen = server.pid, set(server.ports.values())
    assert pid is not None
    # the admin server binds last, a moment after S3 answers
    wait_for(lambda: listening_ports(pid) >= chosen or None, 10, f"weed to bind {chosen}")
    assert listening_ports(pid) == chosen


def scalar(url: str, query: str) -> object:
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def put_and_get(server: LocalSeaweedFS, bucket: str, key: str, data: bytes) -> bytes:
    client = server.client()
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
    client.put_object(bucket, key, io.BytesIO(data), len(data), content_type="text/plain")
    response = client.get_object(bucket, key)
    try:
        return bytes(response.read())
    finally:
        response.close()
        response.release_conn()


# --------------------------------------------------------------------------- webhook recorder


@dataclass(frozen=True)
class Post:
    path: str
    authorization: str | None
    body: dict[str, object]


class RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.posts: list[Post] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook/seaweedfs"

    def snapshot(self) -> list[Post]:
        with self.lock:
            return list(self.posts)


class RecordingHandler(BaseHTTPRequestHandler):
    server: RecordingServer

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsed": raw.decode(errors="replace")}
        with self.server.lock:
            self.server.posts.append(Post(self.path, self.headers.get("Authorization"), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    with LocalPostgres(tmp_path_factory.mktemp("pg"), free_port(), ephemeral=True) as server:
        yield server


@pytest.fixture(scope="module")
def hook_server() -> Iterator[RecordingServer]:
    server = RecordingServer()
    thread = threading.Thread(target=server.serve_forever, name="webhook-recorder", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def weed(
    tmp_path_factory: pytest.TempPathFactory, hook_server: RecordingServer
) -> Iterator[LocalSeaweedFS]:
    server = LocalSeaweedFS(
        tmp_path_factory.mktemp("weed"),
        free_port(),
        ACCESS_KEY,
        SECRET_KEY,
        webhook_url=hook_server.url,
        webhook_token=WEBHOOK_TOKEN,
        webhook_buckets=[HOOKED_BUCKET],
    )
    with server:
        yield server


# --------------------------------------------------------------------------- PostgreSQL


def test_find_pg_bindir_finds_initdb_and_pg_ctl() -> None:
    bindir = find_pg_bindir()
    assert (bindir / "initdb").is_file()
    assert (bindir / "pg_ctl").is_file()


def test_find_pg_bindir_rejects_a_wrong_override(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NOTIFIER_PG_BINDIR", str(tmp_path))
    with pytest.raises(DevStackError, match="apt-get install postgresql"):
        find_pg_bindir()


def test_postgres_answers_on_loopback_only(pg: LocalPostgres) -> None:
    assert pg.url == f"postgresql://postgres@127.0.0.1:{pg.port}/postgres"
    assert str(scalar(pg.url, "SELECT version()")).startswith("PostgreSQL ")
    assert scalar(pg.url, "SHOW listen_addresses") == "127.0.0.1"
    assert scalar(pg.url, "SHOW fsync") == "off"  # ephemeral=True


def test_create_database_is_idempotent(pg: LocalPostgres) -> None:
    url = pg.create_database("devstack-db")
    assert pg.create_database("devstack-db") == url
    assert url == f"postgresql://postgres@127.0.0.1:{pg.port}/devstack-db"
    assert scalar(url, "SELECT current_database()") == "devstack-db"


def test_postgres_data_persists_across_restarts(tmp_path: Path) -> None:
    data_dir = tmp_path / "pg"
    with LocalPostgres(data_dir, free_port()) as first:
        url = first.create_database("persist")
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE kept (note text)")
            conn.execute("INSERT INTO kept VALUES ('survives a restart')")
        assert scalar(url, "SHOW fsync") == "on"  # persistent mode keeps durability
    assert not (data_dir / "postmaster.pid").exists()

    with LocalPostgres(data_dir, free_port()) as second:  # another port: nothing baked in
        url = second.create_database("persist")
        assert scalar(url, "SELECT note FROM kept") == "survives a restart"


def test_postgres_adopts_a_server_already_running_on_its_data_dir(tmp_path: Path) -> None:
    first = LocalPostgres(tmp_path / "pg", free_port(), ephemeral=True)
    first.start()
    try:
        adopter = LocalPostgres(tmp_path / "pg", free_port(), ephemeral=True)
        adopter.start()
        assert adopter.port == first.port
        assert scalar(adopter.url, "SELECT 1") == 1
        adopter.stop()
        assert not (tmp_path / "pg" / "postmaster.pid").exists()
    finally:
        first.stop()  # a no-op once stopped


def test_postgres_starts_after_its_server_was_killed(tmp_path: Path) -> None:
    data_dir = tmp_path / "pg"
    with LocalPostgres(data_dir, free_port(), ephemeral=True) as crashed:
        postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
        wait_for(lambda: process_gone(postmaster), PROCESS_EXIT_WAIT_S, "postmaster to die")
        assert (data_dir / "postmaster.pid").exists()  # stale, as after a power cut

        with LocalPostgres(data_dir, crashed.port, ephemeral=True) as restarted:
            assert scalar(restarted.url, "SELECT 1") == 1


# --------------------------------------------------------------------------- SeaweedFS


def test_seaweedfs_put_and_get(weed: LocalSeaweedFS) -> None:
    assert weed.endpoint == f"http://127.0.0.1:{weed.s3_port}"
    assert put_and_get(weed, "roundtrip", "dir/a b.txt", b"hello seaweed") == b"hello seaweed"
    stat = weed.client().stat_object("roundtrip", "dir/a b.txt")
    assert stat.size == len(b"hello seaweed")


def test_seaweedfs_rejects_a_wrong_secret(weed: LocalSeaweedFS) -> None:
    impostor = minio.Minio(
        f"127.0.0.1:{weed.s3_port}", ACCESS_KEY, "not-the-secret", secure=False, region="us-east-1"
    )
    with pytest.raises(S3Error, match="SignatureDoesNotMatch"):
        impostor.list_buckets()


def test_two_seaweedfs_instances_run_side_by_side(weed: LocalSeaweedFS, tmp_path: Path) -> None:
    with LocalSeaweedFS(tmp_path / "second", free_port(), ACCESS_KEY, SECRET_KEY) as second:
        assert not set(weed.ports.values()) & set(second.ports.values())
        if sys.platform == "linux":  # every listening port is one we chose: no fixed defaults
            assert_listens_exactly_on_its_ports(weed)
            assert_listens_exactly_on_its_ports(second)
        assert put_and_get(second, "only-in-second", "k", b"2") == b"2"
        assert put_and_get(weed, "only-in-first", "k", b"1") == b"1"
        assert not weed.client().bucket_exists("only-in-second")
        assert not second.client().bucket_exists("only-in-first")


def test_webhook_posts_uploads_of_listed_buckets(
    weed: LocalSeaweedFS, hook_server: RecordingServer
) -> None:
    put_and_get(weed, "not-hooked", "quiet.txt", b"no event")
    put_and_get(weed, HOOKED_BUCKET, "incoming/report.csv", b"a,b\n1,2\n")
    wanted = f"/buckets/{HOOKED_BUCKET}/incoming/report.csv"

    def arrived() -> Post | None:
        return next((p for p in hook_server.snapshot() if p.body.get("key") == wanted), None)

    post = wait_for(arrived, EVENT_WAIT_S, f"a webhook POST with key {wanted}")
    assert post.authorization == f"Bearer {WEBHOOK_TOKEN}"
    assert post.path == "/hook/seaweedfs"
    assert post.body["event_type"] == "create"
    keys = [str(p.body.get("key")) for p in hook_server.snapshot()]
    assert not [k for k in keys if k.startswith("/buckets/not-hooked/")]


def test_seaweedfs_reports_a_taken_s3_port_with_its_log(tmp_path: Path) -> None:
    with socket.socket() as holder:  # bound, not listening: probes are refused at once
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        server = LocalSeaweedFS(tmp_path / "weed", port, ACCESS_KEY, SECRET_KEY)
        with pytest.raises(DevStackError, match=r"(?s)exited during start-up.*s3\.port"):
            server.start(timeout=20)
    assert server.pid is not None
    assert not (tmp_path / "weed" / "weed.pid").exists()


def start_weed_in_a_child_and_kill_the_child(data_dir: Path, port: int) -> int:
    """Start weed from a child Python that stores one object; SIGKILL the child; return weed PID."""
    child_code = (
        "import io, time\n"
        "from notifier.devstack.servers import LocalSeaweedFS\n"
        f"s = LocalSeaweedFS({str(data_dir)!r}, {port}, {ACCESS_KEY!r}, {SECRET_KEY!r})\n"
        "s.start()\n"
        "s.client().make_bucket('kept')\n"
        "s.client().put_object('kept', 'k', io.BytesIO(b'before the crash'), 16)\n"
        "print(s.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", child_code],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        weed_pid = int(child.stdout.readline() or "0")
        assert weed_pid, f"the child failed to start weed (exit {child.poll()}); see its stderr"
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    return weed_pid


@pytest.mark.parametrize("weed_killed_too", [False, True], ids=["orphan-alive", "all-killed"])
def test_seaweedfs_starts_again_after_its_parent_was_killed(
    tmp_path: Path, weed_killed_too: bool
) -> None:
    """An interrupted run leaves an orphaned weed, or (SIGKILL all) only stale files behind."""
    data_dir, port = tmp_path / "weed", free_port()
    orphan = start_weed_in_a_child_and_kill_the_child(data_dir, port)
    try:
        assert process_gone(orphan) is None, "weed should outlive its killed parent"
        if weed_killed_too:
            os.kill(orphan, signal.SIGKILL)
            wait_for(lambda: process_gone(orphan), PROCESS_EXIT_WAIT_S, "weed to die")
        orphan_ports = json.loads((data_dir / "weed.ports.json").read_text())

        with LocalSeaweedFS(data_dir, port, ACCESS_KEY, SECRET_KEY) as restarted:
            assert process_gone(orphan)
            assert restarted.ports == orphan_ports  # reused, so the master keeps its state
            masters = [p.name for p in (data_dir / "data").glob("m[0-9]*")]
            assert masters == [f"m{orphan_ports['master.port']}"]
            response = restarted.client().get_object("kept", "k")
            try:
                assert response.read() == b"before the crash"
            finally:
                response.close()
                response.release_conn()
    finally:
        if not process_gone(orphan):
            os.kill(orphan, signal.SIGKILL)
