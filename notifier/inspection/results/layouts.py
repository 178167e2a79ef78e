"""The results layouts, in the order they are tried: the first that claims a document wins.

Adding a layout: one module with a ``read`` function, one line here, one test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from notifier.inspection.results import (
    classification_report,
    confusion_matrix,
    dvc,
    epochs,
    flat,
    history,
    huggingface,
    kubeflow,
    metric_table,
    mlflow,
    predictions,
    splits,
)
from notifier.inspection.results.context import Context, Table
from notifier.inspection.results.evaluation import Evaluation

JsonLayout = Callable[[Any, Context], Evaluation | None]
TableLayout = Callable[[Table], Evaluation | None]

JSON_LAYOUTS: Final[tuple[JsonLayout, ...]] = (
    classification_report.read_json,
    kubeflow.read,
    mlflow.read,
    dvc.read,
    confusion_matrix.read_json,
    history.read,
    epochs.read_json,
    huggingface.read,
    splits.read,
    flat.read,
    predictions.read_json,
)
"""Specific shapes first; ``flat`` takes any remaining object, ``predictions`` any array."""

TABLE_LAYOUTS: Final[tuple[TableLayout, ...]] = (
    classification_report.read_table,
    confusion_matrix.read_table,
    epochs.read_table,
    metric_table.read_pairs,
    metric_table.read_wide,
)
"""CSV tables no layout claims are predictions, counted like a dataset."""


def read_json(document: Any, context: Context) -> Evaluation | None:
    return next((e for e in (layout(document, context) for layout in JSON_LAYOUTS) if e), None)


def read_table(table: Table) -> Evaluation | None:
    return next((e for e in (layout(table) for layout in TABLE_LAYOUTS) if e), None)
