"""Access logs that never show a credential.

Senders that can only put credentials in the endpoint URL (Ceph RGW, SNS) send the
token as the HTTP Basic password, or in a query string; gunicorn's default access log
prints the request line with its query string and the Basic user name, and werkzeug's
(``notifier serve``, see notifier.web.serving) prints the query string. The logger here
drops the query string and the user name, and never exposes credential headers or the
WSGI environment. It imports only gunicorn and the standard library: gunicorn loads it
in the arbiter, before the gevent workers patch the standard library.
"""

from __future__ import annotations

import os
import time
from typing import Any, Final
from urllib.parse import urlsplit

from gunicorn.glogging import Logger

ACCESS_LOG_FORMAT: Final = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
"""Client, request line (without query string), status, bytes, milliseconds, agent."""

REDACTED: Final = "[redacted]"

SECRET_HEADER_ATOMS: Final = frozenset(
    {"{authorization}i", "{proxy-authorization}i", "{cookie}i", "{x-amz-security-token}i"}
)


def without_query(target: str) -> str:
    """``/events?token=x`` -> ``/events``; a URL keeps its scheme and host."""
    parts = urlsplit(target)
    return parts._replace(query="", fragment="").geturl() or target.split("?", 1)[0]


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's logger with credentials removed from every access-log atom.

    A format without header or environment atoms (``%({name}i)s`` and the like; the
    shipped ACCESS_LOG_FORMAT has none) gets only gunicorn's plain atoms, built here:
    gunicorn's own ``atoms`` adds one atom per request header, response header and WSGI
    environment entry, and building, redacting and wrapping those cost about a fifth
    of a one-record webhook's CPU in the receiver.
    """

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        if "%({" in self.cfg.access_log_format:
            atoms = super().atoms(resp, req, environ, request_time)
            for name in [k for k in atoms if k.endswith("}e") or k in SECRET_HEADER_ATOMS]:
                del atoms[name]
        else:
            atoms = plain_atoms(resp, environ, request_time)
        target = without_query(str(environ.get("RAW_URI", "")))
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {target} {environ.get('SERVER_PROTOCOL')}"
        atoms["q"] = REDACTED if environ.get("QUERY_STRING") else ""
        atoms["u"] = "-"
        atoms["f"] = without_query(str(environ.get("HTTP_REFERER", "-")))
        return atoms


def plain_atoms(resp: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
    """gunicorn's atoms (``Logger.atoms``) other than headers and environment entries;
    the request line, query string, user and referrer are replaced by the caller."""
    status = resp.status
    if isinstance(status, str):
        status = status.split(None, 1)[0]
    sent = getattr(resp, "sent", None)
    seconds, microseconds = request_time.seconds, request_time.microseconds
    return {
        "h": environ.get("REMOTE_ADDR", "-"),
        "l": "-",
        "t": time.strftime("[%d/%b/%Y:%H:%M:%S %z]"),
        "s": status,
        "m": environ.get("REQUEST_METHOD"),
        "U": environ.get("PATH_INFO"),
        "H": environ.get("SERVER_PROTOCOL"),
        "b": "-" if sent is None else str(sent),
        "B": sent,
        "a": environ.get("HTTP_USER_AGENT", "-"),
        "T": seconds,
        "D": seconds * 1_000_000 + microseconds,
        "M": seconds * 1000 + microseconds // 1000,
        "L": f"{seconds}.{microseconds:06d}",
        "p": f"<{os.getpid()}>",
    }


__all__ = ["ACCESS_LOG_FORMAT", "RedactingLogger", "plain_atoms", "without_query"]
