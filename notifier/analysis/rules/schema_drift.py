"""Schema drift: columns added, removed or retyped against the dataset's previous version.

The previous version is the dataset's latest earlier ``ok`` object whose columns
inspection recorded (``details.columns``; types from ``details.column_types`` when
inspection records them). A truncated column list (``num_columns`` larger than the
list) is not compared: a difference there could be the truncation's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from notifier.analysis import text
from notifier.analysis.model import AuditRow, Finding
from notifier.analysis.rules.base import RuleContext

NAME: Final = "schema_drift"


@dataclass(frozen=True)
class Schema:
    columns: tuple[str, ...]
    types: Mapping[str, str]


@dataclass(frozen=True)
class SchemaDrift:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    retyped: tuple[tuple[str, str, str], ...]

    def describe(self) -> str:
        parts = []
        if self.added:
            parts.append("added " + ", ".join(self.added))
        if self.removed:
            parts.append("removed " + ", ".join(self.removed))
        if self.retyped:
            parts.append(
                "retyped " + ", ".join(f"{name} {old} -> {new}" for name, old, new in self.retyped)
            )
        return "; ".join(parts)


def schema_of(details: Mapping[str, Any]) -> Schema | None:
    """The complete schema inspection recorded, or None (none, or truncated)."""
    columns = details.get("columns")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        return None
    total = details.get("num_columns")
    if isinstance(total, int) and total > len(columns):
        return None
    raw_types = details.get("column_types")
    types = {str(k): str(v) for k, v in raw_types.items()} if isinstance(raw_types, dict) else {}
    return Schema(tuple(columns), types)


def diff_schema(before: Schema, after: Schema) -> SchemaDrift | None:
    """What changed from ``before`` to ``after``; None when nothing did (order ignored)."""
    added = tuple(c for c in after.columns if c not in before.columns)
    removed = tuple(c for c in before.columns if c not in after.columns)
    retyped = tuple(
        (name, before.types[name], after.types[name])
        for name in after.columns
        if name in before.types and name in after.types and before.types[name] != after.types[name]
    )
    if not (added or removed or retyped):
        return None
    return SchemaDrift(added, removed, retyped)


class SchemaDriftRule:
    name = NAME
    phases = frozenset({"ingestion", "transformation"})

    def evaluate(self, ctx: RuleContext, row: AuditRow, dataset: str) -> Finding | None:
        if row.estado != "ok":
            return None
        current = schema_of(row.info)
        if current is None:
            return None
        previous = ctx.history.previous_schema(row.phase, dataset, row.row_id, row.event_time)
        if previous is None:
            return None
        before = schema_of(previous.details)
        if before is None:
            return None
        drift = diff_schema(before, current)
        if drift is None:
            return None
        return Finding.about_row(
            NAME,
            row,
            dataset,
            severity="warning",
            reason=(
                f"{dataset}: schema changed since the previous version "
                f"({previous.uri}, {text.moment(previous.event_time)}): {drift.describe()}"
            ),
            details={
                "added": list(drift.added),
                "removed": list(drift.removed),
                "retyped": [list(r) for r in drift.retyped],
                "previous_uri": previous.uri,
            },
        )
