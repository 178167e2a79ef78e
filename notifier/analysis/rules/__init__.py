"""Anomaly rules: one module per rule, registered here in evaluation order.

A row rule judges one audit row (``RowRule``); freshness judges every dataset
against the clock. Adding a rule: a module with a class like these, a line in
ROW_RULES, a unit test of its scoring function.

A row rule reads the row's history only through ``ctx.history`` (``History`` in
base.py: record counts, the previous schema, the previous evaluation, the row's inputs),
answered from what its batch loaded, never with a query per row. A rule that needs
something else adds a method there and to ``notifier.analysis.workspace.Workspace``
(with the load query that brings the data, in notifier/queries/analysis.sql).
"""

from __future__ import annotations

from typing import Final

from notifier.analysis.rules.base import RowRule, RuleContext
from notifier.analysis.rules.empty_output import EmptyOutputRule
from notifier.analysis.rules.metric_regression import MetricRegressionRule
from notifier.analysis.rules.output_exceeds_inputs import OutputExceedsInputsRule
from notifier.analysis.rules.row_count import RowCountRule
from notifier.analysis.rules.schema_drift import SchemaDriftRule

ROW_RULES: Final[tuple[RowRule, ...]] = (
    EmptyOutputRule(),
    RowCountRule(),
    SchemaDriftRule(),
    OutputExceedsInputsRule(),
    MetricRegressionRule(),
)

__all__ = ["ROW_RULES", "RowRule", "RuleContext"]
