"""Predictions: one record per evaluated example; the record count is the set's size.

A JSON array that no other layout claims is counted here; CSV, TSV, Parquet and JSON
Lines predictions are counted by the dataset counters (``inspect_dataset``).
"""

from __future__ import annotations

from typing import Any, Final

from notifier.inspection.results.context import Context
from notifier.inspection.results.evaluation import Evaluation, Metrics

LAYOUT: Final = "predictions"


def read_json(document: Any, context: Context) -> Evaluation | None:
    del context
    if not isinstance(document, list):
        return None
    return Evaluation(LAYOUT, Metrics(), len(document))
