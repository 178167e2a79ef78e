"""A gunicorn config for bench_intake.py: the checkout's own settings (BENCH_GUNICORN_CONF,
a Python config file, when it has one), plus hooks that count each worker's database
round trips and requests and write them to BENCH_COUNTS_DIR when the worker exits.

The counting starts in ``post_worker_init``, after the worker class's own setup: a
gevent worker patches the standard library there, and psycopg picks its wait function
when it is first imported (importing it earlier, in ``post_fork``, made every query
block the whole gevent worker, which users never run)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

_conf = os.environ.get("BENCH_GUNICORN_CONF")
if _conf:
    exec(compile(Path(_conf).read_text(), _conf, "exec"))

_requests = {"count": 0}
_cpu: dict[str, Any] = {}


def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


_theirs = {name: globals().get(name) for name in ("post_worker_init", "pre_request", "worker_exit")}


def post_worker_init(worker: Any) -> None:
    import stack

    stack.count_round_trips()
    _cpu["started"] = _cpu_seconds()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        _cpu["profile"] = cProfile.Profile(time.process_time)
        _cpu["profile"].enable()
    if _theirs["post_worker_init"]:
        _theirs["post_worker_init"](worker)


def pre_request(worker: Any, req: Any) -> None:
    _requests["count"] += 1
    if _theirs["pre_request"]:
        _theirs["pre_request"](worker, req)


def worker_exit(server: Any, worker: Any) -> None:
    import psycopg.waiting
    import stack

    if _theirs["worker_exit"]:
        _theirs["worker_exit"](server, worker)
    if "profile" in _cpu:
        _cpu["profile"].disable()
        _cpu["profile"].dump_stats(f"{os.environ['BENCH_PROFILE']}.{os.getpid()}")
    out = Path(os.environ["BENCH_COUNTS_DIR"]) / f"{os.getpid()}.json"
    out.write_text(
        json.dumps(
            {
                "requests": _requests["count"],
                "cpu_seconds": _cpu_seconds() - _cpu.get("started", 0.0),
                "wait": psycopg.waiting.wait.__name__,
                **stack.COUNTS,
            }
        )
    )
