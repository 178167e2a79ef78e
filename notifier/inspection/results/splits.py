"""Metrics grouped per split: ``{"test": {"f1": 0.95}, "validation": {...}}``.

Every nested object is flattened with dotted names (``test.f1``); count fields come
from the top level, then from the evaluation splits (test first), never from train.
"""

from __future__ import annotations

from typing import Any, Final

from notifier.inspection.fields import field_name
from notifier.inspection.results.context import Context
from notifier.inspection.results.evaluation import Evaluation, Metrics, record_count

LAYOUT: Final = "splits"
EVALUATION_SPLITS: Final = (
    "test", "testing", "eval", "evaluation", "holdout", "oot", "validation", "val", "valid", "dev",
)  # fmt: skip
"""Split names, in the order their record counts are preferred."""
TRAINING_SPLITS: Final = ("train", "training")


def read(document: Any, context: Context) -> Evaluation | None:
    del context
    if not isinstance(document, dict):
        return None
    groups = {
        field_name(str(key)): value
        for key, value in document.items()
        if isinstance(value, dict)
        and field_name(str(key)) in (*EVALUATION_SPLITS, *TRAINING_SPLITS)
    }
    if not groups:
        return None
    metrics = Metrics()
    metrics.flatten(document)
    count = record_count(document, *(groups.get(split) for split in EVALUATION_SPLITS))
    return Evaluation(LAYOUT, metrics, count, {"splits": sorted(groups)})
