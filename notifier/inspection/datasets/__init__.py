"""Dataset objects (ingestion, transformation): pick the format, apply caps, count."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from notifier.inspection.base import Inspection, human_bytes
from notifier.inspection.datasets.csv import count_csv
from notifier.inspection.datasets.formats import (
    Counted,
    DatasetFormat,
    detect_dataset_format,
    unsupported_reason,
)
from notifier.inspection.datasets.json_records import count_json_document, count_json_lines
from notifier.inspection.datasets.parquet import count_parquet
from notifier.inspection.guard import SourceGuard, run_guarded

Counter = Callable[[SourceGuard, DatasetFormat], Counted]

COUNTERS: Final[Mapping[str, Counter]] = {
    "csv": count_csv,
    "tsv": count_csv,
    "jsonl": count_json_lines,
    "json": count_json_document,
    "parquet": count_parquet,
}


def inspect_dataset(guard: SourceGuard) -> Inspection:
    source = guard.source
    fmt = detect_dataset_format(source.key, source.content_type)
    if fmt is None:
        return Inspection.skipped(None, unsupported_reason(source.key, source.content_type))
    cap = guard.limits.max_scan_bytes
    if fmt.scanned and source.size is not None and source.size > cap:
        return Inspection.skipped(
            fmt.name, f"object is {human_bytes(source.size)}, over the {human_bytes(cap)} scan cap"
        )
    return run_guarded(guard, fmt.name, lambda: _count(guard, fmt))


def _count(guard: SourceGuard, fmt: DatasetFormat) -> Inspection:
    counted = COUNTERS[fmt.name](guard, fmt)
    details: dict[str, Any] = dict(counted.details)
    if fmt.gzipped:
        details["compression"] = "gzip"
    return Inspection.ok(fmt.name, counted.records, details)
