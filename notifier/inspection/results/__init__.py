"""Evaluation results: metrics and lineage names from a JSON document, or a row count.

A ``.json`` results document is parsed whole (size-capped); its numeric fields become
metrics. Other result files (a CSV metrics table, say) are counted like a dataset.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from notifier.inspection.base import Inspection, one_line
from notifier.inspection.datasets import inspect_dataset
from notifier.inspection.datasets.formats import has_suffix
from notifier.inspection.errors import Unreadable
from notifier.inspection.fields import (
    RECORD_COUNT_FIELDS,
    as_count,
    as_name,
    find,
    is_number,
)
from notifier.inspection.guard import SourceGuard, run_guarded
from notifier.inspection.streams import read_document

FORMAT: Final = "results"

MODEL_FIELDS: Final = ("model", "modelo", "model_name", "modelo_nombre")
DATASET_FIELDS: Final = ("dataset", "nombre_dataset", "dataset_name")
METRICS_OBJECT: Final = "metrics"

MAX_METRICS: Final = 200
"""Metrics kept per document; more are dropped and flagged ``metrics_truncated``."""

MAX_METRIC_DEPTH: Final = 3
"""Nesting levels flattened inside the metrics object (``per_class.cat.f1``)."""


def inspect_results(guard: SourceGuard) -> Inspection:
    if has_suffix(guard.source.key, ".json"):
        return run_guarded(guard, FORMAT, lambda: _inspect_document(guard))
    counted = inspect_dataset(guard)
    names = _names(None, guard.source.user_metadata)
    return replace(counted, details={**counted.details, "metrics": {}, **names})


def _inspect_document(guard: SourceGuard) -> Inspection:
    text = read_document(guard, guard.limits.max_json_document_bytes, "results document")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"results document is not valid JSON: {one_line(str(exc))}") from None
    metadata = guard.source.user_metadata
    if isinstance(document, list):
        # A list of per-example results: its length is the record count.
        details = {"metrics": {}, "layout": "array", **_names(None, metadata)}
        return Inspection.ok(FORMAT, len(document), details)
    if not isinstance(document, dict):
        raise Unreadable(f"results document is a JSON {type(document).__name__}, not an object")
    metrics = collect_metrics(document)
    details = {"metrics": metrics.values, **_names(document, metadata)}
    if metrics.truncated:
        details["metrics_truncated"] = True
    return Inspection.ok(FORMAT, as_count(find(document, RECORD_COUNT_FIELDS)), details)


def _names(document: Mapping[str, Any] | None, metadata: Mapping[str, str]) -> dict[str, Any]:
    """modelo_nombre and nombre_dataset: the document's word first, then metadata's."""
    return {
        "modelo_nombre": as_name(find(document, MODEL_FIELDS))
        or as_name(find(metadata, MODEL_FIELDS)),
        "nombre_dataset": as_name(find(document, DATASET_FIELDS))
        or as_name(find(metadata, DATASET_FIELDS)),
    }


@dataclass
class Metrics:
    values: dict[str, int | float] = field(default_factory=dict)
    truncated: bool = False

    def add(self, name: str, value: int | float) -> None:
        if name not in self.values and len(self.values) >= MAX_METRICS:
            self.truncated = True
            return
        self.values[name] = value

    def flatten(self, fields: Mapping[str, Any], prefix: str, depth: int) -> None:
        for key, value in fields.items():
            name = f"{prefix}{key}"
            if is_number(value):
                self.add(name, value)
            elif isinstance(value, dict) and depth < MAX_METRIC_DEPTH:
                self.flatten(value, f"{name}.", depth + 1)


def collect_metrics(document: Mapping[str, Any]) -> Metrics:
    """Top-level numbers, then the ``metrics`` object flattened with dotted names
    (its own entries win a clash: they are metrics by declaration)."""
    metrics = Metrics()
    for key, value in document.items():
        if is_number(value):
            metrics.add(key, value)
    nested = document.get(METRICS_OBJECT)
    if isinstance(nested, dict):
        metrics.flatten(nested, "", 1)
    return metrics
