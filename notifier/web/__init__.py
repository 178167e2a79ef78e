"""HTTP: the webhook receiver and the probes, behind one app factory."""

from notifier.web.app import create_app, error_response

__all__ = ["create_app", "error_response"]
