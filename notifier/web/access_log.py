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
    """gunicorn's logger with credentials removed from every access-log atom."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        target = without_query(str(environ.get("RAW_URI", "")))
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {target} {environ.get('SERVER_PROTOCOL')}"
        atoms["q"] = REDACTED if environ.get("QUERY_STRING") else ""
        atoms["u"] = "-"
        atoms["f"] = without_query(str(environ.get("HTTP_REFERER", "-")))
        for name in [k for k in atoms if k.endswith("}e") or k in SECRET_HEADER_ATOMS]:
            del atoms[name]
        return atoms


__all__ = ["ACCESS_LOG_FORMAT", "RedactingLogger", "without_query"]
