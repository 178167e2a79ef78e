"""A flat JSON object of metrics, optionally with a ``metrics`` object.

Top-level numbers and nested objects are flattened with dotted names; the entries of
a ``metrics`` object keep their own names and win a clash (they are metrics by
declaration). The fallback layout: tried last among JSON objects.
"""

from __future__ import annotations

from typing import Any, Final

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
    if isinstance(nested, dict):
        metrics.flatten(nested)
        return Evaluation("metrics_object", metrics, record_count(document, nested))
    return Evaluation(LAYOUT, metrics, record_count(document))
