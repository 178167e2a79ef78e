"""Local HTTP receivers for the export tests: http.server on loopback, in a thread."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Judge = Callable[[dict[str, Any], int], int]
"""(body, how many times this body was received before) -> the status to answer."""


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int


@dataclass
class Receiver:
    url: str
    judge: Judge
    delay: float = 0.0
    gate: threading.Barrier | None = None
    """When set, the first requests wait for each other: proof that they overlapped."""
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Probe until ``count`` bodies were accepted (no fixed sleeps)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.accepted()) >= count:
                return self.accepted()
            time.sleep(0.05)
        raise AssertionError(f"receiver accepted {len(self.accepted())} of {count} bodies")


def always(status: int) -> Judge:
    return lambda body, seen: status


def fail_first(times: int, status: int = 500) -> Judge:
    """Each distinct body fails ``times`` times, then is accepted."""
    return lambda body, seen: status if seen < times else 200


@contextmanager
def receiver(
    judge: Judge, path: str = "/hook", delay: float = 0.0, gate: threading.Barrier | None = None
) -> Iterator[Receiver]:
    state = Receiver(url="", judge=judge, delay=delay, gate=gate)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            gate = state.gate
            if gate is not None:
                with contextlib.suppress(threading.BrokenBarrierError):
                    gate.wait(timeout=10)
                state.gate = None  # only the first requests are held
            if state.delay:
                time.sleep(state.delay)
            with state.lock:
                seen = sum(1 for r in state.requests if r.body == body)
                status = state.judge(body, seen)
                state.requests.append(Received(self.path, dict(self.headers), body, status))
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", state.url)  # to itself: a follower would loop
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
