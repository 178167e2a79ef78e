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

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from notifier.analysis.datasets import DatasetIdentity
from notifier.analysis.model import PHASES, AuditRow
from notifier.analysis.workspace import Workspace, execute
from notifier.config import AnalysisSettings


def assign(
    ws: Workspace, settings: AnalysisSettings, row: AuditRow, identity: DatasetIdentity
) -> int:
    """Record the row's dataset and run (in the batch's workspace); returns the run's id."""
    if row.run_id:
        run = ws.upsert_run(f"run_id:{row.run_id}", "run_id", row.event_time)
    else:
        run = _session_for(ws, settings, row)
    ws.set_member(row, run, identity)
    return run


def _session_for(ws: Workspace, settings: AnalysisSettings, row: AuditRow) -> int:
    gap = timedelta(minutes=settings.run_gap_minutes)
    before, after = ws.session_neighbours(row)
    joins_before = before is not None and row.event_time - before[1] <= gap
    joins_after = after is not None and after[1] - row.event_time <= gap
    if joins_before and before is not None:
        run = before[0]
        if joins_after and after is not None and after[0] != run:
            ws.merge_runs(run, after[0])
        return run
    own_key = f"session:{row.phase}:{row.row_id}"
    if joins_after and after is not None:
        # This row now starts that session: the key follows the earliest row.
        run = after[0]
        ws.rekey_run(run, own_key, row.event_time)
        return run
    return ws.upsert_run(own_key, "session", row.event_time)


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
    conn: psycopg.Connection[Any], settings: AnalysisSettings, ids: Sequence[int], now: datetime
) -> int:
    """Recompute the runs' bounds, phases and status, in this order (each run's expected
    phases come from the runs started before it, as refreshed so far); returns how many
    runs still have rows. Three statements however many runs (two round trips in a
    pipeline)."""
    if not ids:
        return 0
    facts_cursor = execute(conn, "analysis_batch_run_facts", {"ids": list(ids)})
    others_cursor = execute(
        conn,
        "analysis_batch_runs_started",
        {"ids": list(ids), "window_days": settings.window_days},
    )
    facts = {int(row[0]): row[1:] for row in facts_cursor}
    if not facts:
        return 0
    window = timedelta(days=settings.window_days)
    others = {int(run): (started, list(phases)) for run, started, phases in others_cursor}
    timeline = sorted((started, run) for run, (started, _) in others.items())
    updates = []
    for run in ids:
        if run not in facts:
            continue
        started, ended, phases, errors, anomalies = facts[run]
        expected: set[str] = set()
        low = bisect.bisect_left(timeline, (started - window, -1))
        for at, other in timeline[low:]:
            if at >= started:
                break
            if other != run:
                expected.update(others[other][1])
                if len(expected) == len(PHASES):
                    break
        state = judge(
            set(phases),
            expected | set(phases),
            errors,
            list(anomalies),
            now - started,
            timedelta(hours=settings.run_window_hours),
        )
        ordered = [p for p in PHASES if p in set(phases)]
        updates.append((run, started, ended, ordered, state))
        if run in others:
            timeline.remove((others[run][0], run))
        others[run] = (started, ordered)
        bisect.insort(timeline, (started, run))
    execute(
        conn,
        "analysis_batch_update_run_states",
        {
            "ids": [u[0] for u in updates],
            "starts": [u[1] for u in updates],
            "ends": [u[2] for u in updates],
            "phases": [",".join(u[3]) for u in updates],
            "statuses": [u[4].status for u in updates],
            "reasons": [u[4].reason for u in updates],
        },
    )
    return len(updates)
