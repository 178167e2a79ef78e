"""Analysis of audit rows: dataset, run, lineage, rules; and the clock-driven checks.

Rows are analysed in batches (``analyze_batch``, notifier.analysis.workspace): what a
batch needs is loaded in one round trip, its rows are judged in memory one after another
(each sees what the rows before it changed), and the results are written in one more.
Three ways in, the same code: ``analyze_written_many`` right after a worker wrote rows
(incremental; one batch), ``analyze`` over a time range (idempotent; what ``notifier
analyze`` runs, and the way to repair anything the incremental path judged out of
order, e.g. after a backfill), and ``refresh``, which catches up rows no worker analysed
and re-judges what depends on the clock (freshness, runs still in progress); ``notifier
report`` and the workers' catch-up thread call it. Every entry point takes one
transaction-scoped advisory lock, so one analysis runs at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg.rows import class_row

from notifier.analysis import anomalies, lineage, runs
from notifier.analysis.datasets import identify
from notifier.analysis.model import AuditRow, Finding
from notifier.analysis.rules import ROW_RULES, RuleContext, freshness
from notifier.analysis.workspace import Workspace, save_findings
from notifier.config import AnalysisSettings
from notifier.db import query

MAX_CATCH_UP: Final = 10_000
"""Unanalysed rows one ``refresh`` analyses (a few seconds of work, in batches of
BATCH_ROWS, while the analysis lock is held); more are left to the next ``refresh``, or
to ``analyze`` (after upgrading a database that holds history)."""

BATCH_ROWS: Final = 2_000
"""Rows analysed together (notifier.analysis.workspace): one round trip loads what they
need, one writes what they changed. Bounds the memory a batch holds."""


@dataclass(frozen=True)
class Summary:
    """What one ``analyze`` did."""

    rows: int
    runs: int
    anomalies: int
    late: int


def lock(conn: psycopg.Connection[Any]) -> None:
    """The analysis lock, for this transaction; and generic plans for its statements."""
    conn.execute(query("analysis_lock"))
    conn.execute(query("analysis_generic_plans"))


def analyze_batch(
    conn: psycopg.Connection[Any],
    settings: AnalysisSettings,
    rows: Sequence[AuditRow],
    now: datetime,
) -> Workspace:
    """Identify, group, link and judge ``rows`` (in analysis order) as one batch: what
    they need is loaded first, they are judged in memory one after another, and what
    they changed is written at the end. Returns the workspace (its runs, its findings)."""
    ws = Workspace(conn, settings)
    identities = [
        identify(r.bucket, r.object_key, run_id=r.run_id, declared_name=r.declared_name)
        for r in rows
    ]
    ws.load(rows, identities)
    ctx = RuleContext(conn, settings, now, ws)
    for row, identity in zip(rows, identities, strict=True):
        run = runs.assign(ws, settings, row, identity)
        ws.store_links(row, lineage.derive(ws, settings, row, run))
        findings = []
        for rule in ROW_RULES:
            if row.phase not in rule.phases:
                continue
            finding = rule.evaluate(ctx, row, identity.dataset)
            if finding is not None:
                findings.append(finding)
        ws.judged(row, findings, run)
    ws.flush()
    return ws


def analyze_written(
    conn: psycopg.Connection[Any],
    settings: AnalysisSettings,
    phase: str,
    intake_event_id: int,
    now: datetime,
) -> list[Finding]:
    """The incremental path: the row a worker just wrote for ``intake_event_id``.

    Waits at most HOOK_LOCK_TIMEOUT for another analysis (a long ``analyze``) to end;
    raises ``psycopg.errors.LockNotAvailable`` then, and the row is left to the next
    ``refresh`` (which catches up unanalysed rows) or ``analyze``.
    """
    return analyze_written_many(conn, settings, [(phase, intake_event_id)], now)


def analyze_written_many(
    conn: psycopg.Connection[Any],
    settings: AnalysisSettings,
    written: Sequence[tuple[str, int]],
    now: datetime,
) -> list[Finding]:
    """The rows a worker just wrote, (phase, intake event id) each, as one batch."""
    # Pipelined: statements whose results are not read yet travel together, so the
    # whole hook is four round trips (reading the rows, loading, writing and reading the
    # runs' facts, writing the runs' states and committing).
    with conn.pipeline(), conn.transaction():
        conn.execute(query("analysis_hook_lock_timeout"))
        lock(conn)
        cursor = conn.cursor(row_factory=class_row(AuditRow))
        rows = cursor.execute(
            query("analysis_rows_written"),
            {"phases": [p for p, _ in written], "intake_event_ids": [i for _, i in written]},
            prepare=True,
        ).fetchall()
        if not rows:
            return []
        ws = analyze_batch(conn, settings, rows, now)
        runs.refresh(conn, settings, ws.final_runs(), now)
        return [f for found in ws.findings.values() for f in found]


def analyze(
    conn: psycopg.Connection[Any], settings: AnalysisSettings, since: datetime, now: datetime
) -> Summary:
    """Recompute runs, lineage and anomalies of every row written at or after ``since``.

    Rows are judged in event-time order, so a verdict only sees earlier history, as it
    would have live. Anomalies keep their ids; those no longer found are resolved.
    """
    with conn.transaction():
        lock(conn)
        conn.execute(query("forget_members_since"), {"since": since})
        total = found = 0
        with conn.cursor("notifier_analysis_rows", row_factory=class_row(AuditRow)) as cursor:
            cursor.execute(query("analysis_rows_since"), {"since": since})
            while rows := cursor.fetchmany(BATCH_ROWS):
                with conn.pipeline():  # the batch's reads travel together, so do its writes
                    ws = analyze_batch(conn, settings, rows, now)
                total += len(rows)
                found += sum(len(f) for f in ws.findings.values())
        with conn.pipeline():
            conn.execute(query("delete_empty_runs"))
            refreshed = _refresh_runs(conn, settings, since, now)
            late = _freshness(conn, settings, now)
    return Summary(rows=total, runs=refreshed, anomalies=found, late=late)


@dataclass(frozen=True)
class Refreshed:
    """``late``: datasets (or phases) late now; ``unanalysed``: rows still waiting."""

    late: int
    unanalysed: int


def refresh(conn: psycopg.Connection[Any], settings: AnalysisSettings, now: datetime) -> Refreshed:
    """Re-judge what depends on the clock.

    First analyses rows no worker analysed (their hook gave way to a long ``analyze``,
    or they predate this feature), oldest first, at most MAX_CATCH_UP of them.
    """
    with conn.pipeline(), conn.transaction():
        lock(conn)
        cursor = conn.cursor(row_factory=class_row(AuditRow))
        pending = cursor.execute(query("unanalysed_rows"), {"limit": MAX_CATCH_UP}).fetchall()
        for start in range(0, len(pending), BATCH_ROWS):
            analyze_batch(conn, settings, pending[start : start + BATCH_ROWS], now)
        _refresh_runs(conn, settings, min((r.event_time for r in pending), default=now), now)
        late = _freshness(conn, settings, now)
        left = 0
        if len(pending) == MAX_CATCH_UP:
            (left,) = conn.execute(query("count_unanalysed_rows")).fetchone() or (0,)
        return Refreshed(late=late, unanalysed=int(left))


def _refresh_runs(
    conn: psycopg.Connection[Any], settings: AnalysisSettings, since: datetime, now: datetime
) -> int:
    ids = [int(r[0]) for r in conn.execute(query("runs_to_refresh"), {"since": since})]
    return runs.refresh(conn, settings, ids, now)


def _freshness(conn: psycopg.Connection[Any], settings: AnalysisSettings, now: datetime) -> int:
    findings = freshness.evaluate_all(RuleContext(conn, settings, now, Workspace(conn, settings)))
    save_findings(conn, [(finding, None) for finding in findings])
    anomalies.resolve_freshness(conn, findings)
    return len(findings)
