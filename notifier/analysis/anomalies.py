"""Storing findings as anomalies: one per rule and subject, updated in place (rows'
findings are written with their batch: notifier.analysis.workspace)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from notifier.analysis.model import Finding
from notifier.db import query


def resolve_freshness(conn: psycopg.Connection[Any], kept: Sequence[Finding]) -> None:
    conn.execute(query("resolve_freshness"), {"kept": [f.fingerprint for f in kept]})
