"""Probes: liveness (the process answers) and readiness (the database answers)."""

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
    with database_errors(), services().pool.connection() as conn:
        conn.execute("SELECT 1")
    return jsonify(status="ready"), 200
