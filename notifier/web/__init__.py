"""HTTP: the webhook receiver and the probes, behind one app factory.

Imported lazily: gunicorn loads notifier.web.gunicorn_conf and its logger class in the
arbiter, which must not import Flask or psycopg before the gevent workers patch the
standard library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notifier.web.app import create_app, error_response

__all__ = ["create_app", "error_response"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from notifier.web import app

        return getattr(app, name)
    raise AttributeError(f"module 'notifier.web' has no attribute {name!r}")
