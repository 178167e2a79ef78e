"""Probes: liveness (the process answers) and readiness (the database answers).

Readiness also reports whether the object store answers, without failing on it: a store
outage must not stop intake (events wait in the database until the store is back).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from notifier.intake.store import database_errors
from notifier.web.app import services

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> tuple[Response, int]:
    return jsonify(status="ok"), 200


@health.get("/readyz")
def readyz() -> tuple[Response, int]:
    found = services()
    with database_errors(), found.pool.connection() as conn:
        conn.execute("SELECT 1")
    return jsonify(status="ready", database="ok", store=_store_state()), 200


def _store_state() -> str:
    found = services()
    buckets = list(found.settings.bucket_phases)
    if found.store_probe is None or not buckets:
        return "not checked"
    return "ok" if found.store_probe.reachable(buckets[0]) else "unreachable"
