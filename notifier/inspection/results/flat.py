"""A flat JSON object of metrics, optionally with a ``metrics`` object.

Top-level numbers and nested objects are flattened with dotted names; the entries of
a ``metrics`` object keep their own names and win a clash (they are metrics by
declaration). A ``confusion_matrix`` next to the metrics is kept in details, and its
total is the record count when no count field says otherwise. The fallback layout:
tried last among JSON objects.
"""

from __future__ import annotations

from typing import Any, Final

from notifier.inspection.results.confusion_matrix import matrix_in
from notifier.inspection.results.context import Context
from notifier.inspection.results.evaluation import Evaluation, Metrics, record_count

LAYOUT: Final = "flat"
METRICS_OBJECT: Final = "metrics"


def read(document: Any, context: Context) -> Evaluation | None:
    del context
    if not isinstance(document, dict):
        return None
    nested = document.get(METRICS_OBJECT)
    metrics = Metrics()
    metrics.flatten({k: v for k, v in document.items() if k != METRICS_OBJECT})
    layout, count = LAYOUT, record_count(document)
    if isinstance(nested, dict):
        metrics.flatten(nested)
        layout, count = "metrics_object", record_count(document, nested)
    matrix = matrix_in(document)
    if matrix is None:
        return Evaluation(layout, metrics, count)
    total = matrix.num_registros if count is None else count
    return Evaluation(layout, metrics, total, matrix.details)
