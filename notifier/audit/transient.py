"""Which ``error`` rows have a transient cause, and so are worth inspecting again.

An error row is transient when its cause lies outside the object: the store could
not be reached (the worker gave up after ``NOTIFIER_MAX_ATTEMPTS`` tries), the worker
never finished (its lease kept running out), or the inspection's time budget ran out
(a slow store, or a busy worker). Such rows carry ``details.transient = true``;
``notifier rescan`` and ``notifier reconcile --fix`` inspect their objects again, and a
later success supersedes them in the current state (``is_current``, ``live_objects``).
Errors about the content itself (a corrupt file) are final: the same bytes give the
same verdict.
"""

from __future__ import annotations

from typing import Final

TRANSIENT_REASON_PREFIXES: Final = (
    "gave up after ",
    "inspection timed out after ",
)
"""Reasons that name a transient cause; one line per new cause."""


def is_transient(estado: str, reason: str | None) -> bool:
    """True for an ``error`` whose reason names a transient cause."""
    return estado == "error" and (reason or "").startswith(TRANSIENT_REASON_PREFIXES)
