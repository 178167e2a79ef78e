"""scikit-learn ``classification_report``, as JSON, as a CSV table or as its text.

Source: sklearn.metrics.classification_report: one object per class and per average
(``macro avg``, ``weighted avg``; ``micro avg`` or ``samples avg`` in multilabel or
label-subset reports), each with ``precision``, ``recall``, ``f1-score``, ``support``,
and a top-level ``accuracy``. ``pandas.DataFrame(report).T.to_csv()`` gives the table
form, whose ``accuracy`` row repeats the accuracy in every column; the text form
(``classification_report(y, p)`` written to a ``.txt``) has a header line
``precision recall f1-score support`` and one line per class, average and accuracy,
rounded to the report's ``digits``.

Metrics: ``accuracy``, ``<average>.<score>``, ``<class>.<score>`` (averages first, so
they survive the metrics cap). num_registros: the total support (``macro avg.support``,
the evaluated sample count). Details: ``classes``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from notifier.inspection.fields import clip
from notifier.inspection.results.context import Context, Table
from notifier.inspection.results.evaluation import Evaluation, Metrics, integral

LAYOUT: Final = "classification_report"
AVERAGES: Final = ("macro avg", "weighted avg", "micro avg", "samples avg")
SCORES: Final = ("precision", "recall", "f1-score", "support")
ACCURACY: Final = "accuracy"
TEXT_HEADER: Final = ["precision", "recall", "f1-score", "support"]
_TEXT_ROW: Final = re.compile(r"\s*(\S.*?)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s*")
_TEXT_ACCURACY: Final = re.compile(r"\s*accuracy\s+(\S+)\s+(\d+)\s*")
MAX_CLASSES_LISTED: Final = 1000
"""Class names kept in ``details.classes``."""


def read_json(document: Any, context: Context) -> Evaluation | None:
    del context
    report = _find_report(document)
    if report is None:
        return None
    entries = {str(k): v for k, v in report.items() if isinstance(v, dict)}
    return from_entries(entries, report.get(ACCURACY))


def read_table(table: Table) -> Evaluation | None:
    columns = [cell.strip().lower() for cell in table.header[1:]]
    if not {"precision", "recall", "f1-score"} <= set(columns):
        return None
    entries: dict[str, dict[str, str]] = {}
    for row in table.rows:
        if row and len(row) == len(table.header):
            entries[row[0].strip()] = dict(zip(columns, row[1:], strict=True))
    accuracy_row = entries.pop(ACCURACY, None)
    accuracy = None if accuracy_row is None else accuracy_row.get("f1-score")
    if not any(label in entries for label in AVERAGES):
        return None
    return from_entries(entries, accuracy)


def read_text(text: str) -> Evaluation | None:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or lines[0].split() != TEXT_HEADER:
        return None
    entries: dict[str, dict[str, str]] = {}
    accuracy = None
    for line in lines[1:]:
        if matched := _TEXT_ACCURACY.fullmatch(line):
            accuracy = matched.group(1)
        elif matched := _TEXT_ROW.fullmatch(line):
            label, *values = matched.groups()
            entries[label] = dict(zip(SCORES, values, strict=True))
        else:
            return None
    if not any(label in entries for label in AVERAGES):
        return None
    return from_entries(entries, accuracy)


def from_entries(entries: Mapping[str, Mapping[str, Any]], accuracy: Any) -> Evaluation:
    metrics = Metrics()
    metrics.add(ACCURACY, accuracy)
    averages = [label for label in AVERAGES if label in entries]
    classes = [label for label in entries if label not in AVERAGES]
    for label in (*averages, *classes):
        for score in SCORES:
            metrics.add(f"{label}.{score}", entries[label].get(score))
    count = next(
        (c for c in (integral(entries[a].get("support")) for a in averages) if c is not None),
        None,
    )
    details = {"classes": [clip(label) for label in classes[:MAX_CLASSES_LISTED]]}
    return Evaluation(LAYOUT, metrics, count, details)


def _find_report(document: Any) -> Mapping[str, Any] | None:
    """The report itself, or one held one level down (``{"classification_report": {...}}``)."""
    if not isinstance(document, dict):
        return None
    if _is_report(document):
        return document
    return next((v for v in document.values() if isinstance(v, dict) and _is_report(v)), None)


def _is_report(candidate: Mapping[str, Any]) -> bool:
    averages = [candidate.get(label) for label in AVERAGES if label in candidate]
    return bool(averages) and all(
        isinstance(entry, dict) and {"precision", "recall", "f1-score"} <= set(entry)
        for entry in averages
    )
