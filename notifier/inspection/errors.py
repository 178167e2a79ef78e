"""Ways an inspection ends early. They never leave the package: each becomes a verdict."""

from __future__ import annotations

from typing import ClassVar

from notifier.errors import NotifierError
from notifier.inspection.base import Estado


class InspectionStop(NotifierError):
    """Ends one inspection with ``estado`` and a human-readable ``reason``."""

    estado: ClassVar[Estado] = "error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unreadable(InspectionStop):
    """The object's bytes are not what its format promises (corrupt, truncated, wrong)."""


class NotInspected(InspectionStop):
    """The object was deliberately not inspected (unsupported, over a cap)."""

    estado: ClassVar[Estado] = "skipped"


class TimedOut(InspectionStop):
    """The inspection's wall-clock budget ran out."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"inspection timed out after {seconds:g} s")
