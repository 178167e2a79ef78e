"""Analysis of audit rows: dataset, run, lineage, rules; and the clock-driven checks.

Two ways in, the same code: ``analyze_row`` right after a worker wrote a row (cheap,
incremental), and ``analyze`` over a time range (idempotent; what ``notifier
analyze`` runs, and the way to repair anything the incremental path judged out of
order, e.g. after a backfill). ``refresh`` re-judges what depends on the clock
(freshness, runs still in progress); ``notifier report`` and ``analyze`` call it.
Every entry point takes one transaction-scoped advisory lock, so concurrent workers
analyse one row at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg.rows import class_row

from notifier.analysis import anomalies, lineage, runs
from notifier.analysis.datasets import identify
from notifier.analysis.model import AuditRow, Finding
from notifier.analysis.rules import ROW_RULES, RuleContext, freshness
from notifier.config import AnalysisSettings
from notifier.db import query

MAX_CATCH_UP: Final = 1_000
"""Unanalysed rows one ``refresh`` analyses (seconds of work); more are left to the next
``refresh``, or to ``analyze`` (after upgrading a database that holds history)."""


@dataclass(frozen=True)
class Summary:
    """What one ``analyze`` did."""

    rows: int
    runs: int
    anomalies: int
    late: int


def lock(conn: psycopg.Connection[Any]) -> None:
    conn.execute(query("analysis_lock"))


def analyze_row(ctx: RuleContext, row: AuditRow) -> tuple[int, list[Finding]]:
    """Identify, group, link and judge one row; returns its run and findings."""
    identity = identify(
        row.bucket, row.object_key, run_id=row.run_id, declared_name=row.declared_name
    )
    run = runs.assign(ctx.conn, ctx.settings, row, identity)
    lineage.store(ctx.conn, row, lineage.derive(ctx.conn, ctx.settings, row, run))
    findings = []
    for rule in ROW_RULES:
        if row.phase not in rule.phases:
            continue
        finding = rule.evaluate(ctx, row, identity.dataset)
        if finding is not None:
            anomalies.save(ctx.conn, finding, run)
            findings.append(finding)
    anomalies.resolve_row(ctx.conn, row.phase, row.row_id, findings)
    return run, findings


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
    with conn.transaction():
        conn.execute(query("analysis_hook_lock_timeout"))
        lock(conn)
        cursor = conn.cursor(row_factory=class_row(AuditRow))
        row = cursor.execute(
            query("analysis_row"), {"phase": phase, "intake_event_id": intake_event_id}
        ).fetchone()
        if row is None:
            return []
        ctx = RuleContext(conn, settings, now)
        run, findings = analyze_row(ctx, row)
        runs.refresh(conn, settings, run, now)
        return findings


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
        ctx = RuleContext(conn, settings, now)
        cursor = conn.cursor(row_factory=class_row(AuditRow))
        rows = cursor.execute(query("analysis_rows_since"), {"since": since}).fetchall()
        found = 0
        for row in rows:
            found += len(analyze_row(ctx, row)[1])
        conn.execute(query("delete_empty_runs"))
        refreshed = _refresh_runs(conn, settings, since, now)
        late = _freshness(ctx)
    return Summary(rows=len(rows), runs=refreshed, anomalies=found, late=late)


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
    with conn.transaction():
        lock(conn)
        ctx = RuleContext(conn, settings, now)
        cursor = conn.cursor(row_factory=class_row(AuditRow))
        pending = cursor.execute(query("unanalysed_rows"), {"limit": MAX_CATCH_UP}).fetchall()
        for row in pending:
            analyze_row(ctx, row)
        _refresh_runs(conn, settings, min((r.event_time for r in pending), default=now), now)
        late = _freshness(ctx)
        left = 0
        if len(pending) == MAX_CATCH_UP:
            (left,) = conn.execute(query("count_unanalysed_rows")).fetchone() or (0,)
        return Refreshed(late=late, unanalysed=int(left))


def _refresh_runs(
    conn: psycopg.Connection[Any], settings: AnalysisSettings, since: datetime, now: datetime
) -> int:
    ids = [r[0] for r in conn.execute(query("runs_to_refresh"), {"since": since})]
    for run in ids:
        runs.refresh(conn, settings, run, now)
    return len(ids)


def _freshness(ctx: RuleContext) -> int:
    findings = freshness.evaluate_all(ctx)
    for finding in findings:
        anomalies.save(ctx.conn, finding, None)
    anomalies.resolve_freshness(ctx.conn, findings)
    return len(findings)
