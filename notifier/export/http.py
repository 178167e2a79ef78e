"""One JSON POST to a sink, bounded in time; errors that never name the URL.

A sink's URL may hold a token (Slack's ``hooks.slack.com/services/T../B../secret``), so
neither the URL nor the response body ever reaches an exception message or a log.
"""

from __future__ import annotations

import base64
import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Final
from urllib.parse import unquote, urlsplit, urlunsplit

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
    """POST ``body`` (JSON) to ``url``; returns the 2xx status or raises DeliveryError.

    Credentials in the URL (``https://user:password@host/...``) are sent as HTTP Basic.
    """
    address, basic = _credentials(url)
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked in config)
        address,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **basic,
            **(headers or {}),
        },
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


def _credentials(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its user info, and an Authorization header made of it."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, {}
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    header = {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    return urlunsplit(parts._replace(netloc=netloc)), header
