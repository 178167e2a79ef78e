"""The webhook receiver: authenticate, parse, store, answer. Views delegate the rest."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging

from flask import Blueprint, Response, jsonify, request

from notifier.intake.service import Delivery, receive
from notifier.metrics import EVENTS_RECEIVED
from notifier.web.app import error_response, services

logger = logging.getLogger(__name__)

events = Blueprint("events", __name__)


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
    found = services()
    if not _authorized(found.settings.auth_token, request.headers.get("Authorization")):
        logger.warning(
            "rejected webhook: missing or wrong token",
            extra={"action": "auth", "remote_addr": request.remote_addr},
        )
        EVENTS_RECEIVED.labels("unknown", "unauthorized").inc()
        return error_response(401, "unauthorized", "missing or wrong bearer token")
    body = _read_body(found.settings.max_body_bytes)
    if body is None:
        return _too_large(found.settings.max_body_bytes)
    delivery = Delivery(
        body=body,
        content_type=request.content_type,
        remote_addr=request.remote_addr,
    )
    reply = receive(delivery, found.settings, found.pool)
    return jsonify(reply.body), reply.status


def _read_body(limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` bytes.

    With ``Content-Length`` Flask refuses a larger body before reading it. A chunked
    body has no length: werkzeug then reads at most the limit and stops there, silently
    (a cut body would be dead-lettered and its events lost), so one byte more than the
    limit is read, and getting it means the body is too large.
    """
    request.max_content_length = limit + 1
    body = request.get_data(cache=False)
    return None if len(body) > limit else body


def _too_large(limit: int) -> tuple[Response, int]:
    logger.warning(
        "rejected webhook: body over %d bytes",
        limit,
        extra={"action": "intake", "remote_addr": request.remote_addr},
    )
    response, status = error_response(413, "request_entity_too_large", f"body over {limit} bytes")
    # The rest of the body is left unread: the connection cannot carry another request.
    response.headers["Connection"] = "close"
    return response, status


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
