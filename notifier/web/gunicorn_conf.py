"""gunicorn's configuration for the receiver: ``gunicorn -c python:notifier.web.gunicorn_conf``.

Used by the Dockerfile and k8s/base/receiver.yaml; flags given on the command line
override it.

* **Slow clients.** gunicorn's ``sync`` and ``gthread`` workers give each connection a
  thread from the moment it is accepted: 8 clients sending their headers slowly stop
  2 processes x 4 threads completely (webhooks and probes alike). The ``gevent`` worker
  gives each connection a greenlet, so hundreds of slow connections cost a little
  memory, not the service. gunicorn's documentation recommends async workers (or a
  buffering proxy) for exactly this ("Choosing a Worker Type"). psycopg 3 cooperates
  with gevent on its own (since 3.1.14) when it is first imported after gevent patched
  the standard library, as it is here (the app loads in the worker, after the patch;
  nothing here or in the arbiter imports psycopg); ``post_worker_init`` refuses to
  serve otherwise (e.g. ``--preload``), since every query would then stop all the
  worker's connections until the database answered. The pool's checkout timeout still
  bounds the wait for a database connection.
* **Keep-alive** longer than MinIO's 15 s idle timeout, so MinIO closes idle
  connections first and never sends on a connection gunicorn is closing.
* **Access log** without query strings or user names (see notifier.web.access_log).
"""

from __future__ import annotations

import os
from typing import Final

from notifier.web.access_log import ACCESS_LOG_FORMAT

WORKERS: Final = 2
"""Processes; ``WEB_CONCURRENCY`` (gunicorn's own variable) overrides it."""

WORKER_CONNECTIONS: Final = 1000
"""Concurrent connections per process, slow ones included."""

KEEPALIVE_SECONDS: Final = 20
"""Idle keep-alive connections are closed after this (MinIO's own idle timeout is 15 s)."""

TIMEOUT_SECONDS: Final = 30
"""A worker silent for this long is killed and replaced by the arbiter."""

bind = "0.0.0.0:8080"
workers = int(os.environ.get("WEB_CONCURRENCY", WORKERS))
worker_class = "gevent"
worker_connections = WORKER_CONNECTIONS
keepalive = KEEPALIVE_SECONDS
timeout = TIMEOUT_SECONDS
graceful_timeout = TIMEOUT_SECONDS
worker_tmp_dir = "/tmp"  # noqa: S108 - the writable emptyDir in the pod; heartbeat files only
accesslog = "-"
access_log_format = ACCESS_LOG_FORMAT
logger_class = "notifier.web.access_log.RedactingLogger"


def on_starting(server: object) -> None:
    """Start the metrics of this pod afresh (PROMETHEUS_MULTIPROC_DIR, notifier.metrics);
    standard library only: the arbiter must not import psycopg before gevent patches."""
    from notifier.multiproc import reset_multiprocess_dir

    reset_multiprocess_dir()


def post_worker_init(worker: object) -> None:
    """Stop a gevent worker whose psycopg waits for the database by blocking the process
    (imported before gevent patched ``select``): gunicorn then exits, loudly."""
    import psycopg.waiting

    if "gevent" in type(worker).__module__ and psycopg.waiting.wait is getattr(
        psycopg.waiting, "wait_c", None
    ):
        raise RuntimeError(
            "psycopg was imported before gevent patched the standard library: each query"
            " would block every connection of this worker (do not preload the app)"
        )


def worker_exit(server: object, worker: object) -> None:
    """Close the worker's database pool (its connections, its background threads)."""
    import sys

    wsgi = sys.modules.get("notifier.wsgi")
    if wsgi is not None:
        wsgi.app.extensions["notifier"].pool.close()
