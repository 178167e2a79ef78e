"""What every anomaly rule implements, and what it may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import psycopg

from notifier.analysis.model import AuditRow, Finding
from notifier.analysis.workspace import Input, Previous
from notifier.config import AnalysisSettings


class History(Protocol):
    """What a row rule may read: the history before the row, as the batch sees it
    (notifier.analysis.workspace.Workspace; loaded before the batch, no query per row)."""

    def row_counts(
        self, phase: str, dataset: str, row_id: int, since: datetime, until: datetime
    ) -> list[int]:
        """Record counts of the dataset's earlier ok objects in [since, until], flagged
        ones (row_count, empty_output) left out."""

    def previous_schema(
        self, phase: str, dataset: str, row_id: int, until: datetime
    ) -> Previous | None:
        """The dataset's latest earlier ok object that recorded columns."""

    def previous_evaluation(
        self, model: str | None, dataset: str, row_id: int, until: datetime
    ) -> Previous | None:
        """The model's (else the dataset's) latest earlier ok evaluation not flagged by
        metric_regression; ``details`` are its metrics."""

    def inputs(self, row: AuditRow) -> list[Input]:
        """The row's inputs, by its lineage links."""

    def flagged_inputs(self, row: AuditRow, rule: str) -> list[tuple[str | None, float | None]]:
        """(dataset, score) of each open anomaly of ``rule`` on the row's inputs."""


@dataclass(frozen=True)
class RuleContext:
    """The history a row rule reads, the settings and the clock; ``conn`` (inside the
    analysis transaction) is for the rules judged against the clock (freshness)."""

    conn: psycopg.Connection[Any]
    settings: AnalysisSettings
    now: datetime
    history: History


class RowRule(Protocol):
    """A rule judging one audit row against its dataset's history.

    ``phases`` lists the short phase names it applies to; ``evaluate`` returns a
    Finding, or None when the row looks normal (or there is too little history).
    """

    name: str
    phases: frozenset[str]

    def evaluate(self, ctx: RuleContext, row: AuditRow, dataset: str) -> Finding | None: ...
