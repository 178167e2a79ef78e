"""The dashboard's reads: named queries over audit_rows, returned as plain dicts."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from notifier.db import query

CHART_DAYS: Final = 30
"""Days of history in the records-per-day chart."""

LIST_LIMIT: Final = 100
"""Rows shown per list (problems, search results, dead letters)."""

PHASES: Final = ("ingestion", "transformation", "training", "evaluation")


def _rows(pool: ConnectionPool, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with pool.connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        return cursor.execute(query(name), params).fetchall()


def last_run_per_phase(pool: ConnectionPool) -> list[dict[str, Any]]:
    return _rows(pool, "dashboard_last_run_per_phase", {})


def records_per_day(pool: ConnectionPool, days: int = CHART_DAYS) -> dict[str, Any]:
    """``{"days": ["2026-10-31", ..., today], "series": {phase: [records per day]}}``: every
    UTC day of the window, zero where nothing arrived; the shape the chart script reads."""
    found = _rows(pool, "dashboard_records_per_day", {"days": days})
    by_day: dict[date, dict[str, int]] = defaultdict(dict)
    for row in found:
        by_day[row["day"]][row["phase"]] = int(row["records"])
    today = datetime.now(UTC).date()
    window = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    return {
        "days": [day.isoformat() for day in window],
        "series": {phase: [by_day[day].get(phase, 0) for day in window] for phase in PHASES},
        "empty": not found,
    }


def problems(pool: ConnectionPool, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    return _rows(pool, "dashboard_problems", {"limit": limit})


def search(pool: ConnectionPool, text: str, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """Rows of every object whose key contains ``text`` (an ``s3://bucket/key`` URI
    searches for its key), or whose model name is ``text``."""
    key = text.removeprefix("s3://").partition("/")[2] if text.startswith("s3://") else text
    return _rows(
        pool, "dashboard_search", {"pattern": like_escape(key), "text": text, "limit": limit}
    )


def dead_letters(pool: ConnectionPool, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    return _rows(pool, "list_dead_letters", {"include_retried": True, "limit": limit})


def like_escape(text: str) -> str:
    """``text`` matched literally inside a LIKE pattern (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
