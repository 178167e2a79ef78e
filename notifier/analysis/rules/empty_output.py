"""Zero-record and header-only outputs: the silent failure (faucet-stream #202).

An ``ok`` data object with no records is flagged: header-only when inspection saw
column names (a CSV with only its header, a Parquet file with a schema and no rows),
empty otherwise. Inspection's ``details.empty`` / ``details.header_only`` flags are
honoured when present.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from notifier.analysis.model import AuditRow, Finding
from notifier.analysis.rules.base import RuleContext

NAME: Final = "empty_output"


def emptiness(num_registros: int | None, details: Mapping[str, Any]) -> str | None:
    """``"header_only"``, ``"empty"`` or None (has records, or was not counted)."""
    if details.get("header_only") is True:
        return "header_only"
    if details.get("empty") is True:
        return "empty"
    if num_registros != 0:
        return None
    columns = details.get("columns")
    return "header_only" if isinstance(columns, list) and columns else "empty"


class EmptyOutputRule:
    name = NAME
    phases = frozenset({"ingestion", "transformation"})

    def evaluate(self, ctx: RuleContext, row: AuditRow, dataset: str) -> Finding | None:
        if row.estado != "ok":
            return None
        kind = emptiness(row.num_registros, row.info)
        if kind is None:
            return None
        if kind == "header_only":
            columns = row.info.get("columns") or []
            what = f"header-only output ({len(columns)} columns, 0 records)"
        else:
            what = "empty output (0 records)"
        return Finding.about_row(
            NAME,
            row,
            dataset,
            severity="critical",
            reason=f"{dataset}: {what}",
            details={"kind": kind},
        )
