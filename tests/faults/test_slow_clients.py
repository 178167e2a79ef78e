"""Slow clients cannot stop intake (issue 13, item 6).

A few hundred connections that send their headers a byte at a time, held open
against gunicorn run exactly as the Dockerfile and the manifest run it (the shipped
configuration, 2 processes); meanwhile webhooks and probes are answered promptly.
With the former configuration (gthread, 2 processes x 4 threads) 8 such clients
stopped everything.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import psycopg

from tests.conftest import TOKEN
from tests.processes import gunicorn, settings_env
from tests.support import minio_body, minio_record

SLOW_CLIENTS = 300
TRICKLE_SECONDS = 0.5
PROMPT_SECONDS = 5.0


def open_slow_clients(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /events HTTP/1.1\r\nHost: notifier\r\nX-Slow: ")
        sockets.append(sock)
    return sockets


def trickle(sockets: list[socket.socket], stop: threading.Event) -> None:
    """One more header byte on every connection, every TRICKLE_SECONDS, never finishing."""
    while not stop.wait(TRICKLE_SECONDS):
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.send(b"a")


def test_hundreds_of_slow_clients_leave_senders_and_probes_served(settings, db, buckets, tmp_path):
    with gunicorn(settings_env(settings), tmp_path) as receiver:
        sockets = open_slow_clients(receiver.port, SLOW_CLIENTS)
        stop = threading.Event()
        trickler = threading.Thread(target=trickle, args=(sockets, stop), daemon=True)
        trickler.start()
        try:
            time.sleep(2 * TRICKLE_SECONDS)  # every slow client is now mid-headers
            answers = []
            for n in range(20):
                body = minio_body(minio_record(buckets.raw, f"while-slow/{n}.csv", size=3))
                started = time.monotonic()
                status, _ = receiver.request(
                    "POST", "/events", body, {"Authorization": f"Bearer {TOKEN}"}, PROMPT_SECONDS
                )
                probe, _ = receiver.request("GET", "/healthz", timeout=PROMPT_SECONDS)
                ready, _ = receiver.request("GET", "/readyz", timeout=PROMPT_SECONDS)
                answers.append((status, probe, ready, time.monotonic() - started))
            still_open = sum(1 for s in sockets if s.fileno() != -1)
        finally:
            stop.set()
            trickler.join()
            for sock in sockets:
                sock.close()
    assert still_open == SLOW_CLIENTS
    assert {(s, p, r) for s, p, r, _ in answers} == {(200, 200, 200)}
    slowest = max(seconds for *_, seconds in answers)
    assert slowest < PROMPT_SECONDS, answers
    stored = db.execute("SELECT count(*) FROM intake_events").fetchone()[0]
    assert stored == 20


def test_a_request_waiting_for_the_database_leaves_its_worker_serving(
    settings, db, buckets, tmp_path
):
    """gevent serves every connection of a process in one thread: a query that blocked
    the thread (psycopg imported before gevent patched the standard library) would stop
    every other connection of the worker until the database answered."""
    body = minio_body(minio_record(buckets.raw, "behind-a-lock.csv", size=3))
    with (
        gunicorn(settings_env(settings), tmp_path, "--workers=1") as receiver,
        psycopg.connect(settings.database_url) as holder,
    ):
        holder.execute("LOCK TABLE intake_events IN EXCLUSIVE MODE")  # INSERTs wait
        answer: list[int] = []
        sender = threading.Thread(
            target=lambda: answer.append(
                receiver.request("POST", "/events", body, {"Authorization": f"Bearer {TOKEN}"}, 60)[
                    0
                ]
            )
        )
        sender.start()
        wait_for_lock_waiter(db)
        probe, _ = receiver.request("GET", "/healthz", timeout=PROMPT_SECONDS)
        waiting = answer == []
        holder.rollback()
        sender.join()
    assert (probe, waiting, answer) == (200, True, [200])
    assert db.execute("SELECT count(*) FROM intake_events").fetchone() == (1,)


def wait_for_lock_waiter(db, timeout: float = 30.0) -> None:
    """Until the receiver's INSERT waits for the test's table lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = db.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO intake_events%'"
        ).fetchone()
        if waiting and waiting[0]:
            return
        time.sleep(0.05)
    raise AssertionError("the receiver's INSERT never waited for the lock")
