"""A gunicorn config for bench_intake.py: the checkout's own settings (BENCH_GUNICORN_CONF,
a Python config file, when it has one), plus hooks that count each worker's database
round trips and requests and write them to BENCH_COUNTS_DIR when the worker exits."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_conf = os.environ.get("BENCH_GUNICORN_CONF")
if _conf:
    exec(compile(Path(_conf).read_text(), _conf, "exec"))

_requests = {"count": 0}
_theirs = {name: globals().get(name) for name in ("post_fork", "pre_request", "worker_exit")}


def post_fork(server: Any, worker: Any) -> None:
    import stack

    stack.count_round_trips()
    if _theirs["post_fork"]:
        _theirs["post_fork"](server, worker)


def pre_request(worker: Any, req: Any) -> None:
    _requests["count"] += 1
    if _theirs["pre_request"]:
        _theirs["pre_request"](worker, req)


def worker_exit(server: Any, worker: Any) -> None:
    import stack

    if _theirs["worker_exit"]:
        _theirs["worker_exit"](server, worker)
    out = Path(os.environ["BENCH_COUNTS_DIR"]) / f"{os.getpid()}.json"
    out.write_text(json.dumps({"requests": _requests["count"], **stack.COUNTS}))
