"""Intake: turning what a store sends into object events, and keeping them durably."""

from notifier.intake.model import EventKind, ObjectEvent, Origin
from notifier.intake.parse import parse_body

__all__ = ["EventKind", "ObjectEvent", "Origin", "parse_body"]
