"""What every anomaly rule implements, and what it may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import psycopg

from notifier.analysis.model import AuditRow, Finding
from notifier.config import AnalysisSettings


@dataclass(frozen=True)
class RuleContext:
    """A connection inside the analysis transaction, the settings and the clock."""

    conn: psycopg.Connection[Any]
    settings: AnalysisSettings
    now: datetime


class RowRule(Protocol):
    """A rule judging one audit row against its dataset's history.

    ``phases`` lists the short phase names it applies to; ``evaluate`` returns a
    Finding, or None when the row looks normal (or there is too little history).
    """

    name: str
    phases: frozenset[str]

    def evaluate(self, ctx: RuleContext, row: AuditRow, dataset: str) -> Finding | None: ...
