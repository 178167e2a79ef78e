"""Storing findings as anomalies: one per rule and subject, updated in place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from notifier.analysis.model import Finding
from notifier.db import query


def save(conn: psycopg.Connection[Any], finding: Finding, run: int | None) -> int:
    """Insert or refresh the anomaly of ``finding``; returns its (stable) id."""
    found = conn.execute(
        query("upsert_anomaly"),
        {
            "fingerprint": finding.fingerprint,
            "rule": finding.rule,
            "phase": finding.phase,
            "row_id": finding.row_id,
            "dataset": finding.dataset,
            "run": run,
            "severity": finding.severity,
            "reason": finding.reason,
            "score": finding.score,
            "details": Jsonb(dict(finding.details)),
            "observed_at": finding.observed_at,
        },
    ).fetchone()
    assert found is not None
    return int(found[0])


def resolve_row(
    conn: psycopg.Connection[Any], phase: str, row_id: int, kept: Sequence[Finding]
) -> None:
    """Resolve the row's open anomalies that ``kept`` does not contain."""
    conn.execute(
        query("resolve_row_anomalies"),
        {"phase": phase, "row_id": row_id, "kept": [f.fingerprint for f in kept]},
    )


def resolve_freshness(conn: psycopg.Connection[Any], kept: Sequence[Finding]) -> None:
    conn.execute(query("resolve_freshness"), {"kept": [f.fingerprint for f in kept]})
