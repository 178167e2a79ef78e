"""The typed rows analysis works on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

PHASES: Final = ("ingestion", "transformation", "training", "evaluation")
"""Phases by their short names, in pipeline order."""

DATA_PHASES: Final = frozenset({"ingestion", "transformation"})


def phase_table(phase: str) -> str:
    return f"{phase}_events"


@dataclass(frozen=True)
class AuditRow:
    """One row of any phase table, as the ``phase_rows`` view shows it."""

    phase: str
    phase_table: str
    row_id: int
    event_time: datetime
    uri: str
    bucket: str
    object_key: str
    num_registros: int | None
    estado: str
    reason: str | None
    details: Mapping[str, Any] | None
    run_id: str | None
    modelo_nombre: str | None
    nombre_dataset: str | None
    deleted_at: datetime | None
    is_current: bool | None
    intake_event_id: int | None
    format: str | None = None

    @property
    def info(self) -> Mapping[str, Any]:
        return self.details or {}

    @property
    def declared_name(self) -> str | None:
        """The name a template or the object gave this row's dataset (or model)."""
        if self.phase in DATA_PHASES:
            return self.nombre_dataset
        if self.phase == "training":
            return self.modelo_nombre
        return None


@dataclass(frozen=True)
class Finding:
    """What a rule found about one subject; stored as an anomaly.

    ``subject`` makes the fingerprint (rule + subject) that keeps one anomaly per thing.
    """

    rule: str
    phase: str
    subject: str
    severity: str
    reason: str
    observed_at: datetime
    row_id: int | None = None
    dataset: str | None = None
    score: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def about_row(
        cls,
        rule: str,
        row: AuditRow,
        dataset: str | None,
        *,
        severity: str,
        reason: str,
        score: float | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Finding:
        """A finding about one audit row: its subject is ``<phase>:<row_id>`` (one anomaly
        per rule and row), observed at the row's event time."""
        return cls(
            rule=rule,
            phase=row.phase,
            subject=f"{row.phase}:{row.row_id}",
            severity=severity,
            reason=reason,
            observed_at=row.event_time,
            row_id=row.row_id,
            dataset=dataset,
            score=score,
            details=details or {},
        )

    @property
    def fingerprint(self) -> str:
        return f"{self.rule}:{self.subject}"
