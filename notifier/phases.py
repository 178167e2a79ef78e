"""The four pipeline phases and the audit table each one fills."""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """A pipeline phase; its value is the audit table it writes to."""

    INGESTION = "ingestion_events"
    TRANSFORMATION = "transformation_events"
    TRAINING = "training_events"
    EVALUATION = "evaluation_events"

    @property
    def short_name(self) -> str:
        return self.value.removesuffix("_events")

    @classmethod
    def parse(cls, name: str) -> Phase | None:
        """Accept the short name (``ingestion``) or the table name (``ingestion_events``)."""
        wanted = name.strip().lower()
        for phase in cls:
            if wanted in (phase.value, phase.short_name):
                return phase
        return None
