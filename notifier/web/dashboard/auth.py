"""Viewer sign-in: the dashboard token, typed once, kept in a signed session cookie.

A browser signs in at /dashboard/login; scripts may send ``Authorization: Bearer
<NOTIFIER_DASHBOARD_TOKEN>`` instead. The cookie holds a fingerprint of the token, so
changing the token signs every browser out.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Final

from flask import Flask, request, session

SESSION_LIFETIME: Final = timedelta(hours=12)
SESSION_COOKIE: Final = "notifier_dashboard"
_FINGERPRINT_KEY: Final = "viewer"


def configure_sessions(app: Flask, token: str) -> None:
    """Sign session cookies with a key derived from the viewer token."""
    app.secret_key = hashlib.sha256(b"notifier-dashboard-session\0" + token.encode()).digest()
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/dashboard",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )


def token_matches(offered: str, token: str) -> bool:
    return hmac.compare_digest(offered.encode(), token.encode())


def sign_in(token: str) -> None:
    session.clear()
    session.permanent = True
    session[_FINGERPRINT_KEY] = _fingerprint(token)


def sign_out() -> None:
    session.clear()


def is_signed_in(token: str) -> bool:
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_matches(offered.strip(), token):
        return True
    held = session.get(_FINGERPRINT_KEY)
    return isinstance(held, str) and hmac.compare_digest(held, _fingerprint(token))


def _fingerprint(token: str) -> str:
    return hashlib.sha256(b"notifier-dashboard-viewer\0" + token.encode()).hexdigest()
