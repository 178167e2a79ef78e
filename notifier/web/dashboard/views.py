"""Dashboard views: parse the request, read through ``data``, render a template."""

from __future__ import annotations

from typing import Any, Final

from flask import (
    Blueprint,
    Flask,
    Response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from notifier.web.app import services
from notifier.web.dashboard import auth, data

MAX_QUERY_CHARS: Final = 1024
"""Longest search text accepted; object keys are at most 1024 bytes in S3."""

dashboard = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
)

PUBLIC_ENDPOINTS: Final = frozenset({"dashboard.login", "dashboard.static"})


def enable_dashboard(app: Flask, token: str) -> None:
    """Serve the dashboard on ``app``, for viewers holding ``token``."""
    auth.configure_sessions(app, token)
    app.register_blueprint(dashboard)


def _token() -> str:
    token = services().settings.dashboard_token
    assert token is not None  # the blueprint is registered only with a token
    return token


@dashboard.before_request
def require_viewer() -> WerkzeugResponse | None:
    if request.endpoint in PUBLIC_ENDPOINTS or auth.is_signed_in(_token()):
        return None
    return redirect(url_for("dashboard.login", next=request.full_path))


@dashboard.after_request
def no_caching(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    return response


@dashboard.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = _safe_next(request.values.get("next"))
    if request.method == "POST":
        if auth.token_matches(request.form.get("token", ""), _token()):
            auth.sign_in(_token())
            return redirect(target)
        return render_template("dashboard/login.html", failed=True, next=target), 401
    return render_template("dashboard/login.html", failed=False, next=target)


@dashboard.post("/logout")
def logout() -> WerkzeugResponse:
    auth.sign_out()
    return redirect(url_for("dashboard.login"))


@dashboard.get("/")
def overview() -> str:
    pool = services().pool
    return render_template(
        "dashboard/overview.html",
        phases=data.last_run_per_phase(pool),
        chart=data.records_per_day(pool),
        problems=data.problems(pool, limit=10),
    )


@dashboard.get("/problems")
def problems() -> str:
    return render_template("dashboard/problems.html", problems=data.problems(services().pool))


@dashboard.get("/search")
def search() -> str:
    text = request.args.get("q", "").strip()[:MAX_QUERY_CHARS]
    found = data.search(services().pool, text) if text else []
    return render_template("dashboard/search.html", text=text, rows=found)


@dashboard.get("/dead-letters")
def dead_letters() -> str:
    return render_template(
        "dashboard/dead_letters.html", letters=data.dead_letters(services().pool)
    )


def _safe_next(target: str | None) -> str:
    """Only a path inside the dashboard: never an open redirect."""
    if target and target.startswith("/dashboard/") and not target.startswith("//"):
        return target
    return url_for("dashboard.overview")
