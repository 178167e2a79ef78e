"""werkzeug's server for ``notifier serve``, with an access log that shows no credential."""

from __future__ import annotations

from werkzeug.serving import WSGIRequestHandler

from notifier.web.access_log import without_query


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, logging the path without its query string."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        full = getattr(self, "path", None)
        if full is None:
            # No parsed request line: log no part of it.
            self.log("info", '"%s" %s %s', "(unparsed request)", code, size)
            return
        self.path = without_query(full)
        try:
            super().log_request(code, size)
        finally:
            self.path = full


__all__ = ["RedactingRequestHandler"]
