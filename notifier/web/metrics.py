"""``GET /metrics``: Prometheus text exposition (see notifier.metrics)."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST

from notifier.metrics import exposition
from notifier.web.app import services

metrics = Blueprint("metrics", __name__)


@metrics.get("/metrics")
def scrape() -> Response:
    return Response(exposition(services().pool), content_type=CONTENT_TYPE_LATEST)
