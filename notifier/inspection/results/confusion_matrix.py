"""Confusion matrices, as JSON or CSV: classes and counts in details, total as num_registros.

JSON: a bare square list of lists of counts; ``{"confusion_matrix" | "matrix" | "cm":
[[...]], "labels" | "classes" | "display_labels" | "class_names": [...]}``; Google /
Kubeflow v2 ``{"annotationSpecs": [{"displayName"}], "rows": [{"row": [...]}]}``.
CSV: a square table with class labels in the first row and column (``pandas.crosstab``
or ``DataFrame(cm, index=labels, columns=labels).to_csv()``); long rows ``target,
predicted,count`` (with that header, or without one when the file name says
``confusion``, as Kubeflow v1 writes them); a bare square of counts (file name says
``confusion``). Rows are true classes, columns predicted ones. Counts must be whole
numbers: a normalised matrix has no record count and is not read here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from notifier.inspection.fields import clip, field_name, find
from notifier.inspection.results.context import Context, Table
from notifier.inspection.results.evaluation import Evaluation, Metrics, integral, metric_value

LAYOUT: Final = "confusion_matrix"
MATRIX_FIELDS: Final = ("confusion_matrix", "matrix", "cm")
LABEL_FIELDS: Final = ("labels", "classes", "display_labels", "class_names")
TRUE_COLUMNS: Final = ("target", "actual", "true", "y_true", "label", "true_label")
PREDICTED_COLUMNS: Final = ("predicted", "prediction", "pred", "y_pred", "predicted_label")
COUNT_COLUMNS: Final = ("count", "n", "value", "total")
MAX_CLASSES: Final = 100
"""Larger matrices keep their total and class count, not their cells, in details."""
CONFUSION_HINT: Final = "confusion"


def read_json(document: Any, context: Context) -> Evaluation | None:
    del context
    labels: Any = None
    matrix: Any = document
    if isinstance(document, dict):
        if any(_scores(key, value) for key, value in document.items()):
            return None  # metrics beside a matrix: the flat layout keeps both
        matrix, labels = find(document, MATRIX_FIELDS), find(document, LABEL_FIELDS)
        if matrix is None and isinstance(document.get("rows"), list):
            matrix = [r.get("row") if isinstance(r, dict) else None for r in document["rows"]]
            specs = document.get("annotationSpecs")
            if isinstance(specs, list):
                labels = [s.get("displayName") if isinstance(s, dict) else None for s in specs]
    return from_matrix(matrix, labels)


def _scores(key: Any, value: Any) -> bool:
    name = field_name(str(key))
    if name in MATRIX_FIELDS or name in LABEL_FIELDS:
        return False
    return isinstance(value, dict) or metric_value(value) is not None


def read_table(table: Table) -> Evaluation | None:
    hinted = CONFUSION_HINT in table.context.file_name
    return (
        _long(table, hinted) or _labelled_square(table) or (_bare_square(table) if hinted else None)
    )


def from_matrix(matrix: Any, labels: Any) -> Evaluation | None:
    """An Evaluation for a square matrix of whole counts, n >= 2; else None.

    Cells are kept in details only up to MAX_CLASSES classes; the total always."""
    if not isinstance(matrix, list) or len(matrix) < 2:
        return None
    size = len(matrix)
    kept: list[list[int]] = []
    total = 0
    for row in matrix:
        if not isinstance(row, list) or len(row) != size:
            return None
        cells = [integral(cell) for cell in row]
        counts = [cell for cell in cells if cell is not None]
        if len(counts) != size:
            return None
        total += sum(counts)
        if size <= MAX_CLASSES:
            kept.append(counts)
    details: dict[str, Any] = {"num_classes": size}
    if size <= MAX_CLASSES:
        if isinstance(labels, list) and len(labels) == size and None not in labels:
            details["classes"] = [clip(str(label)) for label in labels]
        details["confusion_matrix"] = kept
    return Evaluation(LAYOUT, Metrics(), total, details)


def matrix_in(document: Mapping[str, Any]) -> Evaluation | None:
    """A confusion matrix held by a document that also has other content."""
    return from_matrix(find(document, MATRIX_FIELDS), find(document, LABEL_FIELDS))


def _long(table: Table, hinted: bool) -> Evaluation | None:
    header = [field_name(cell) for cell in table.header]
    rows = table.rows
    if len(header) != 3:
        return None
    if (header[0], header[1], header[2]) in _long_headers():
        pass
    elif hinted and integral(table.header[2]) is not None:
        rows = [table.header, *rows]
    else:
        return None
    classes: list[str] = []
    cells: dict[tuple[str, str], int] = {}
    for row in rows:
        count = integral(row[2]) if len(row) == 3 else None
        if count is None:
            return None
        for label in row[:2]:
            if label not in classes:
                classes.append(label)
        cells[(row[0], row[1])] = cells.get((row[0], row[1]), 0) + count
    matrix = [[cells.get((t, p), 0) for p in classes] for t in classes]
    return from_matrix(matrix, classes)


def _long_headers() -> set[tuple[str, str, str]]:
    return {(t, p, c) for t in TRUE_COLUMNS for p in PREDICTED_COLUMNS for c in COUNT_COLUMNS}


def _labelled_square(table: Table) -> Evaluation | None:
    labels = table.header[1:]
    if len(labels) < 2 or len(table.rows) != len(labels):
        return None
    if [row[0] if row else None for row in table.rows] != labels:
        return None
    return from_matrix([row[1:] for row in table.rows], labels)


def _bare_square(table: Table) -> Evaluation | None:
    return from_matrix(_as_lists([table.header, *table.rows]), None)


def _as_lists(rows: Sequence[Sequence[str]]) -> list[Any]:
    return [list(row) for row in rows]
