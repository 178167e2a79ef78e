"""The Flask app factory: blueprints, shared services and the one JSON error shape."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

from flask import Flask, Response, current_app, jsonify
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import HTTPException

from notifier.config import Settings
from notifier.errors import DatabaseUnavailable
from notifier.metrics import EVENTS_RECEIVED
from notifier.storage import ObjectStore

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS: Final = "5"


@dataclass(frozen=True)
class Services:
    settings: Settings
    pool: ConnectionPool
    store_probe: ObjectStore | None = None
    """A client with short timeouts for /readyz; None: the store is not checked."""


def create_app(
    settings: Settings, pool: ConnectionPool, store_probe: ObjectStore | None = None
) -> Flask:
    """The receiver. It never connects by itself: the pool is opened by the caller."""
    from notifier.web.health import health
    from notifier.web.metrics import metrics
    from notifier.web.receiver import events

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["notifier"] = Services(settings=settings, pool=pool, store_probe=store_probe)
    app.register_blueprint(events)
    app.register_blueprint(health)
    app.register_blueprint(metrics)
    if settings.dashboard_token is not None:
        from notifier.web.dashboard import enable_dashboard

        enable_dashboard(app, settings.dashboard_token)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DatabaseUnavailable, _database_unavailable)
    return app


def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    """The one JSON error shape every endpoint answers with."""
    return jsonify(error={"status": status, "code": code, "message": message}), status


def services() -> Services:
    """The settings and pool of the app handling the current request."""
    found: Services = current_app.extensions["notifier"]
    return found


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    if status == 413:
        EVENTS_RECEIVED.labels("unknown", "too_large").inc()
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(status, code, exc.description or exc.name)


def _database_unavailable(exc: DatabaseUnavailable) -> Any:
    logger.error("database unavailable: %s", exc, extra={"action": "intake"})
    response, status = error_response(503, "database_unavailable", "audit database unavailable")
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response, status
