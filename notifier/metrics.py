"""Prometheus metrics: what each process counts, and what the database tells at scrape time.

Counters and histograms live in the process that observes them (receiver, worker). Under
gunicorn or ``notifier worker --processes N`` several processes count side by side:
prometheus-client's multiprocess mode sums them when ``PROMETHEUS_MULTIPROC_DIR`` names a
writable folder (set before the process starts; the Kubernetes manifests do).

The queue's state (backlog, oldest pending event, last event per phase, dead letters) is
read from PostgreSQL on every scrape, so it is right whichever process answers and however
many run, and it shows a stall even when no process is left to count anything.

Names follow Prometheus conventions: ``notifier_`` prefix, base units (seconds), ``_total``
for counters. See https://prometheus.io/docs/practices/naming/.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from psycopg_pool import ConnectionPool

from notifier.db import query
from notifier.multiproc import MULTIPROC_ENV
from notifier.phases import Phase

logger = logging.getLogger(__name__)


INSPECTION_BUCKETS: Final = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0, 600.0)
"""Seconds: a small CSV takes milliseconds, a 10 GiB scan minutes (the default budget 600 s)."""

EVENTS_RECEIVED: Final = Counter(
    "notifier_events_received",
    "Webhook events received, by sender shape and outcome "
    "(accepted, duplicate, unmapped, ignored, dead_lettered, unauthorized, too_large).",
    ["sender", "outcome"],
)
UNMAPPED_EVENTS: Final = Counter(
    "notifier_unmapped_bucket_events",
    "Events for a bucket that NOTIFIER_BUCKET_MAP maps to no phase (stored, not audited).",
    ["bucket"],
)
DEAD_LETTERS: Final = Counter(
    "notifier_dead_letters", "Bodies kept as dead letters (not an event notifier understands)."
)
INSPECTION_SECONDS: Final = Histogram(
    "notifier_inspection_duration_seconds",
    "Time to inspect one object, by the format it was read as.",
    ["format"],
    buckets=INSPECTION_BUCKETS,
)
AUDIT_ROWS: Final = Counter(
    "notifier_audit_rows", "Audit rows written, by phase and estado.", ["phase", "estado"]
)
RETRIES: Final = Counter(
    "notifier_event_retries", "Events postponed after a transient failure, to be tried again."
)
GIVE_UPS: Final = Counter(
    "notifier_event_give_ups", "Events recorded 'error' after NOTIFIER_MAX_ATTEMPTS tries."
)
S3_ERRORS: Final = Counter(
    "notifier_s3_errors",
    "Failed requests to the object store, by kind (transient, missing, refused).",
    ["kind"],
)
DATABASE_ERRORS: Final = Counter(
    "notifier_database_errors", "Times PostgreSQL could not be reached.", ["component"]
)


class QueueCollector(Collector):
    """Gauges read from PostgreSQL at scrape time; a scrape never fails because of them."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "notifier_database_up", "1 when the scrape could read the queue from PostgreSQL."
        )
        try:
            families = list(self._read())
        except Exception as exc:  # a scrape must answer even when the database is down
            logger.warning("metrics: database unavailable: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> Iterator[Metric]:
        with self._pool.connection() as conn:
            backlog, oldest = conn.execute(query("queue_state")).fetchone() or (0, None)
            letters = conn.execute(query("dead_letters_waiting")).fetchone()
            last = conn.execute(query("last_event_per_phase")).fetchall()
        yield _gauge(
            "notifier_backlog_events", "Events stored and not yet processed.", float(backlog)
        )
        yield _gauge(
            "notifier_oldest_pending_event_age_seconds",
            "Age of the oldest event not yet processed (0 when none waits).",
            float(oldest or 0.0),
        )
        yield _gauge(
            "notifier_dead_letters_waiting",
            "Dead letters not yet retried.",
            float(letters[0] if letters else 0),
        )
        times = GaugeMetricFamily(
            "notifier_last_event_timestamp_seconds",
            "Unix time of the newest object audited in each phase (its event time).",
            labels=["phase"],
        )
        for phase_table, moment in last:
            if moment is not None:
                times.add_metric([Phase(phase_table).short_name], moment)
        yield times


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family


def counted_registry() -> CollectorRegistry:
    """This process's counters, or every process's of the pod in multiprocess mode."""
    if not os.environ.get(MULTIPROC_ENV):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def exposition(pool: ConnectionPool) -> bytes:
    """The text exposition format of this process's metrics (of every process of the
    pod, in multiprocess mode), followed by the queue gauges read from PostgreSQL."""
    queue = CollectorRegistry(auto_describe=False)
    queue.register(QueueCollector(pool))
    return generate_latest(counted_registry()) + generate_latest(queue)


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - scraped from the pod IP
    """Expose this process's (or, in multiprocess mode, the pod's) metrics on ``port``
    from a daemon thread: for ``notifier worker``, which serves no HTTP otherwise."""
    start_http_server(port, addr=host, registry=counted_registry())
