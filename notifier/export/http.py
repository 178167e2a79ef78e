"""One JSON POST to a sink, bounded in time; errors that never name the URL.

A sink's URL may hold a token (Slack's ``hooks.slack.com/services/T../B../secret``), so
neither the URL nor the response body ever reaches an exception message or a log.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Final

POST_TIMEOUT_SECONDS: Final = 10.0
"""Longest wait for a sink's answer; the message is retried later if it runs out."""

USER_AGENT: Final = "notifier-export/1"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: urllib would turn the POST into a GET without its body."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER: Final = urllib.request.build_opener(_NoRedirects)


class DeliveryError(Exception):
    """A POST that did not end in a 2xx; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def is_permanent(status: int) -> bool:
    """A redirect (the URL is wrong) or a 4xx other than 408 (timeout) and 429 (rate
    limit): the sink refuses the message, and will again."""
    return 300 <= status < 500 and status not in (408, 429)


def post_json(
    url: str,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    timeout: float = POST_TIMEOUT_SECONDS,
) -> int:
    """POST ``body`` (JSON) to ``url``; returns the 2xx status or raises DeliveryError."""
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked in config)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status: int = response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        raise DeliveryError(f"HTTP {exc.code}", permanent=is_permanent(exc.code)) from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"unreachable: {_reason(exc.reason)}") from None
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"unreachable: {type(exc).__name__}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status}", permanent=is_permanent(status))
    return status


def _reason(reason: object) -> str:
    """The kind of failure (``ConnectionRefusedError``, ``timeout``), never an address."""
    if isinstance(reason, OSError) and reason.strerror:
        return f"{type(reason).__name__} ({reason.strerror})"
    if isinstance(reason, BaseException):
        return type(reason).__name__
    return "connection failed"
