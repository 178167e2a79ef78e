"""Evaluation results: metrics, the evaluated record count and lineage names.

By the object's kind (its key's suffix, else its content type):

- JSON documents (size-capped, parsed whole): the layouts in ``layouts.JSON_LAYOUTS``;
- CSV/TSV up to ``tables.MAX_TABLE_BYTES``: the table layouts in ``layouts.TABLE_LAYOUTS``;
  other CSVs, Parquet and JSON Lines are predictions, counted by the dataset counters;
- PNG, JPEG, GIF, WebP images: format and dimensions (``images``);
- ``.txt``: a scikit-learn classification report as text.

``modelo_nombre``, ``nombre_dataset`` and ``run_id`` come from the document's fields,
then the object's metadata (then key-path templates, in ``inspection.paths``);
``details.sources`` says which. An object with neither a metric nor a record count is
``skipped`` with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from notifier.inspection.base import Inspection, one_line
from notifier.inspection.datasets import FORMATS, inspect_dataset
from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.fields import as_name, find
from notifier.inspection.guard import SourceGuard, run_guarded
from notifier.inspection.results import classification_report, layouts
from notifier.inspection.results.context import Context
from notifier.inspection.results.evaluation import (
    DATASET_FIELDS,
    MAX_METRICS,
    MODEL_FIELDS,
    RUN_FIELDS,
    Evaluation,
)
from notifier.inspection.results.images import SUFFIXES as IMAGE_SUFFIXES
from notifier.inspection.results.images import read_image
from notifier.inspection.results.tables import MAX_TABLE_BYTES, parse_table
from notifier.inspection.streams import read_document

__all__ = ["MAX_METRICS", "inspect_results"]

NAME_SOURCES: Final = {
    "modelo_nombre": MODEL_FIELDS,
    "nombre_dataset": DATASET_FIELDS,
    "run_id": RUN_FIELDS,
}
TEXT_SUFFIX: Final = ".txt"
IMAGE_CONTENT_TYPES: Final = frozenset(("image/png", "image/jpeg", "image/gif", "image/webp"))


def inspect_results(guard: SourceGuard) -> Inspection:
    source = guard.source
    context = Context(source.key.rsplit("/", 1)[-1].lower())
    claim = FORMATS.claim(source.key, source.content_type)
    name = claim.spec.name if claim.spec is not None else None
    plain = claim.codec is None
    if name == "json" and plain:
        verdict = run_guarded(guard, "json", lambda: _inspect_json(guard, context))
    elif name in ("csv", "tsv") and plain:
        table = name
        verdict = run_guarded(guard, table, lambda: _inspect_table(guard, context, table))
    elif name is not None:
        verdict = _predictions(inspect_dataset(guard))
    elif context.file_name.endswith(TEXT_SUFFIX):
        verdict = run_guarded(guard, "text", lambda: _inspect_text(guard))
    elif context.file_name.endswith(IMAGE_SUFFIXES) or _content_type(source) in IMAGE_CONTENT_TYPES:
        verdict = run_guarded(guard, None, lambda: read_image(guard))
    else:
        verdict = Inspection.skipped(None, FORMATS.unsupported(claim, source.content_type))
    return _with_names(verdict, None, source.user_metadata)


def _inspect_json(guard: SourceGuard, context: Context) -> Inspection:
    text = read_document(guard, guard.limits.max_json_document_bytes, "results document")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"results document is not valid JSON: {one_line(str(exc))}") from None
    if not isinstance(document, (dict, list)):
        raise Unreadable(f"results document is a JSON {type(document).__name__}, not an object")
    evaluation = layouts.read_json(document, context)
    verdict = _verdict("json", evaluation, "results document")
    return _with_names(verdict, document if isinstance(document, dict) else None, {}, evaluation)


def _inspect_table(guard: SourceGuard, context: Context, fmt: str) -> Inspection:
    try:
        data = read_document(guard, MAX_TABLE_BYTES, "results table")
    except NotInspected:
        return _predictions(inspect_dataset(guard))
    table = parse_table(data, context, tab_separated=fmt == "tsv")
    evaluation = None if table is None else layouts.read_table(table)
    if evaluation is None:
        return _predictions(inspect_dataset(guard))
    return _verdict(fmt, evaluation, "results table")


def _inspect_text(guard: SourceGuard) -> Inspection:
    data = read_document(guard, MAX_TABLE_BYTES, "results text")
    try:
        evaluation = classification_report.read_text(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        evaluation = None
    if evaluation is None:
        return Inspection.skipped(
            "text", "text file is not a scikit-learn classification report", {"metrics": {}}
        )
    return _verdict("text", evaluation, "results text")


def _predictions(counted: Inspection) -> Inspection:
    if counted.estado != "ok":
        return counted
    details = {**counted.details, "layout": "predictions", "metrics": {}}
    return replace(counted, details=details)


def _verdict(fmt: str, evaluation: Evaluation | None, what: str) -> Inspection:
    if evaluation is None or (not evaluation.metrics.values and evaluation.num_registros is None):
        layout = {} if evaluation is None else {"layout": evaluation.layout}
        return Inspection.skipped(
            fmt, f"{what} holds no metric and no record count", {"metrics": {}, **layout}
        )
    details: dict[str, Any] = {
        "layout": evaluation.layout,
        "metrics": dict(evaluation.metrics.values),
        **evaluation.details,
    }
    if evaluation.metrics.truncated:
        details["metrics_truncated"] = True
    return Inspection.ok(fmt, evaluation.num_registros, details)


def _with_names(
    verdict: Inspection,
    document: Mapping[str, Any] | None,
    metadata: Mapping[str, str],
    evaluation: Evaluation | None = None,
) -> Inspection:
    """Fill modelo_nombre / nombre_dataset / run_id still missing: the layout's own
    finding, then the document's fields (source ``content``), then metadata's."""
    details: dict[str, Any] = dict(verdict.details)
    sources: dict[str, str] = dict(details.get("sources") or {})
    found = evaluation.names if evaluation is not None else {}
    for column, fields in NAME_SOURCES.items():
        if details.get(column) is not None:
            continue
        for source, value in (
            ("content", found.get(column)),
            ("content", as_name(find(document, fields))),
            ("metadata", as_name(find(metadata, fields))),
        ):
            if value is not None:
                details[column], sources[column] = value, source
                break
    if sources:
        details["sources"] = sources
    return replace(verdict, details=details)


def _content_type(source: Any) -> str:
    content_type = source.content_type or ""
    return str(content_type).split(";", 1)[0].strip().lower()
