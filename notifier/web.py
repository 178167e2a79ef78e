"""The Flask receiver: authenticate, parse, store, answer. Views delegate the rest."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from dataclasses import dataclass
from typing import Any, Final

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import HTTPException

from notifier.config import Settings
from notifier.errors import DatabaseUnavailable
from notifier.intake.service import Delivery, receive
from notifier.intake.store import database_errors

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS: Final = "5"

events = Blueprint("events", __name__)
health = Blueprint("health", __name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    pool: ConnectionPool


def create_app(settings: Settings, pool: ConnectionPool) -> Flask:
    """The receiver. It never connects by itself: the pool is opened by the caller."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["notifier"] = Services(settings=settings, pool=pool)
    app.register_blueprint(events)
    app.register_blueprint(health)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DatabaseUnavailable, _database_unavailable)
    return app


def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    """The one JSON error shape every endpoint answers with."""
    return jsonify(error={"status": status, "code": code, "message": message}), status


def _services() -> Services:
    services: Services = current_app.extensions["notifier"]
    return services


@events.route("/events", methods=["GET", "HEAD"])
def liveness_probe() -> tuple[Response, int]:
    # MinIO (before 2023-05) probes the endpoint with HEAD; any answer means "up".
    return jsonify(status="ok"), 200


@events.route("/", methods=["GET", "HEAD"])
def root_probe() -> tuple[Response, int]:
    # RustFS probes HEAD on the endpoint's root path.
    return jsonify(service="notifier", events="/events"), 200


@events.post("/events")
def receive_events() -> tuple[Response, int]:
    services = _services()
    if not _authorized(services.settings.auth_token, request.headers.get("Authorization")):
        logger.warning(
            "rejected webhook: missing or wrong token",
            extra={"action": "auth", "remote_addr": request.remote_addr},
        )
        return error_response(401, "unauthorized", "missing or wrong bearer token")
    delivery = Delivery(
        body=request.get_data(cache=False),
        content_type=request.content_type,
        remote_addr=request.remote_addr,
    )
    reply = receive(delivery, services.settings, services.pool)
    return jsonify(reply.body), reply.status


@health.get("/healthz")
def healthz() -> tuple[Response, int]:
    return jsonify(status="ok"), 200


@health.get("/readyz")
def readyz() -> tuple[Response, int]:
    with database_errors(), _services().pool.connection() as conn:
        conn.execute("SELECT 1")
    return jsonify(status="ready"), 200


def _authorized(expected: str | None, header: str | None) -> bool:
    """``Bearer <token>`` (MinIO, RustFS, SeaweedFS), or HTTP Basic with the token as
    password, which is all Ceph RGW and SNS can send (credentials in the endpoint URL)."""
    if expected is None:
        return True
    scheme, _, credentials = (header or "").strip().partition(" ")
    if scheme.lower() == "bearer":
        offered = credentials.strip()
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        offered = decoded.partition(":")[2]
    else:
        return False
    return hmac.compare_digest(offered.encode(), expected.encode())


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(status, code, exc.description or exc.name)


def _database_unavailable(exc: DatabaseUnavailable) -> Any:
    logger.error("database unavailable: %s", exc, extra={"action": "intake"})
    response, status = error_response(503, "database_unavailable", "audit database unavailable")
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response, status
