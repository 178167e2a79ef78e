"""The read-only audit dashboard, served under /dashboard/ when NOTIFIER_DASHBOARD_TOKEN
is set: server-rendered pages (Jinja autoescaping), one vendored chart library (uPlot,
from npm; see scripts/vendor-dashboard-assets), no CDN."""

from notifier.web.dashboard.views import dashboard, enable_dashboard

__all__ = ["dashboard", "enable_dashboard"]
