"""Runs: which rows one pipeline execution wrote, and how that execution went.

Rows carrying a ``run_id`` (from a key-path template or metadata) form the run of
that id. Rows without one are grouped in *sessions*: a row joins the run of the
nearest row written less than NOTIFIER_RUN_GAP_MINUTES before or after it, across
all phases (two sessions it bridges are merged); else it starts a run. A steady
trickle of uploads with no pause that long is one long session: give such pipelines
run ids. A session's ``run_key`` names its earliest row, so recomputing the same
history finds the same run (and id) again.

Status, most serious first: ``failed`` (a row is ``error``), ``anomalous`` (an open
anomaly of warning or critical severity), ``incomplete`` (an expected phase is still
missing NOTIFIER_RUN_WINDOW_HOURS after the start), ``in_progress`` (missing, but the
window is open), ``complete``. The expected phases are those some run produced in
the anomaly window (NOTIFIER_ANOMALY_WINDOW_DAYS) before this one started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from notifier.analysis.datasets import DatasetIdentity
from notifier.analysis.model import PHASES, AuditRow
from notifier.config import AnalysisSettings
from notifier.db import query


def assign(
    conn: psycopg.Connection[Any],
    settings: AnalysisSettings,
    row: AuditRow,
    identity: DatasetIdentity,
) -> int:
    """Record the row's dataset and run; returns the run's id."""
    if row.run_id:
        run = _upsert_run(conn, f"run_id:{row.run_id}", "run_id", row.event_time)
    else:
        run = _session_for(conn, settings, row)
    conn.execute(
        query("upsert_run_member"),
        {
            "phase": row.phase,
            "row_id": row.row_id,
            "run": run,
            "dataset": identity.dataset,
            "key_pattern": identity.key_pattern,
            "event_time": row.event_time,
        },
    )
    return run


def _upsert_run(conn: psycopg.Connection[Any], key: str, grouped_by: str, at: datetime) -> int:
    found = conn.execute(
        query("upsert_run"), {"run_key": key, "grouped_by": grouped_by, "at": at}
    ).fetchone()
    assert found is not None
    return int(found[0])


def _session_for(conn: psycopg.Connection[Any], settings: AnalysisSettings, row: AuditRow) -> int:
    gap = timedelta(minutes=settings.run_gap_minutes)
    params = {"phase": row.phase, "row_id": row.row_id, "at": row.event_time}
    before = conn.execute(query("session_neighbour_before"), params).fetchone()
    after = conn.execute(query("session_neighbour_after"), params).fetchone()
    joins_before = before is not None and row.event_time - before[1] <= gap
    joins_after = after is not None and after[1] - row.event_time <= gap
    if joins_before and before is not None:
        run = int(before[0])
        if joins_after and after is not None and int(after[0]) != run:
            conn.execute(query("merge_runs"), {"into": run, "from": int(after[0])})
        return run
    own_key = f"session:{row.phase}:{row.row_id}"
    if joins_after and after is not None:
        # This row now starts that session: the key follows the earliest row.
        run = int(after[0])
        conn.execute(query("rekey_run"), {"id": run, "run_key": own_key, "at": row.event_time})
        return run
    return _upsert_run(conn, own_key, "session", row.event_time)


@dataclass(frozen=True)
class RunState:
    status: str
    reason: str | None


def judge(
    phases: set[str],
    expected: set[str],
    errors: int,
    anomalies: list[str],
    age: timedelta,
    window: timedelta,
) -> RunState:
    """A run's status from what it holds (pure; see the module docstring).

    ``anomalies`` lists the rules of the run's open anomalies (one entry each).
    """
    missing = [p for p in PHASES if p in expected and p not in phases]
    notes = []
    if errors:
        notes.append(f"{errors} failed row(s)")
    if anomalies:
        count = len(anomalies)
        rules = ", ".join(dict.fromkeys(anomalies))
        notes.append(f"{count} anomal{'y' if count == 1 else 'ies'} ({rules})")
    if missing:
        notes.append("no " + ", ".join(missing))
    reason = "; ".join(notes) or None
    if errors:
        return RunState("failed", reason)
    if anomalies:
        return RunState("anomalous", reason)
    if missing:
        return RunState("in_progress" if age < window else "incomplete", reason)
    return RunState("complete", None)


def refresh(
    conn: psycopg.Connection[Any], settings: AnalysisSettings, run: int, now: datetime
) -> RunState | None:
    """Recompute one run's bounds, phases and status; None when it has no rows left."""
    facts = conn.execute(
        query("run_facts"), {"id": run, "window_days": settings.window_days}
    ).fetchone()
    if facts is None or facts[0] is None:
        return None
    started, ended, phases, expected, errors, anomalies = facts
    state = judge(
        set(phases),
        set(expected or []) | set(phases),
        errors,
        list(anomalies),
        now - started,
        timedelta(hours=settings.run_window_hours),
    )
    conn.execute(
        query("update_run"),
        {
            "id": run,
            "started_at": started,
            "ended_at": ended,
            "phases": [p for p in PHASES if p in set(phases)],
            "status": state.status,
            "reason": state.reason,
        },
    )
    return state
