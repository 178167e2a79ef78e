"""A transformation that outputs more records than its inputs hold.

Cleaning, filtering and aggregating never add records; a join or an explode can, so
this is a warning. Inputs come from lineage (declared, shared run id or inferred; the
reason says which and how sure); an input whose count is unknown, or that failed,
makes the comparison meaningless and it is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from notifier.analysis import text
from notifier.analysis.model import AuditRow, Finding
from notifier.analysis.rules.base import RuleContext

NAME: Final = "output_exceeds_inputs"


def excess(output: int, inputs: Sequence[int | None]) -> int | None:
    """Records ``output`` has beyond the inputs' total; None when not more (or unknown)."""
    if not inputs or any(n is None for n in inputs):
        return None
    total = sum(n for n in inputs if n is not None)
    return output - total if output > total else None


class OutputExceedsInputsRule:
    name = NAME
    phases = frozenset({"transformation"})

    def evaluate(self, ctx: RuleContext, row: AuditRow, dataset: str) -> Finding | None:
        if row.estado != "ok" or row.num_registros is None:
            return None
        links = ctx.history.inputs(row)
        if not links or any(link.estado != "ok" for link in links):
            return None
        extra = excess(row.num_registros, [link.num_registros for link in links])
        if extra is None:
            return None
        total = row.num_registros - extra
        datasets = ", ".join(sorted({link.dataset for link in links}))
        methods = ", ".join(
            sorted({f"{link.method}, confidence {link.confidence:g}" for link in links})
        )
        return Finding.about_row(
            NAME,
            row,
            dataset,
            severity="warning",
            reason=(
                f"{dataset}: {text.count(row.num_registros)} records out of "
                f"{text.count(total)} in its {len(links)} input(s) ({datasets}; lineage {methods})"
            ),
            details={"records": row.num_registros, "input_records": total},
        )
