"""CSV metric tables: ``metric,value`` pairs, or one row of named metrics per split.

Pairs: a two-column table whose header is ``metric|name|key|metrica`` and
``value|score|valor``. Wide: a header of metric names over one row of numbers, or
over one row per split when the first column is ``split|set|subset`` (``test.f1``).
"""

from __future__ import annotations

from typing import Final

from notifier.inspection.fields import field_name
from notifier.inspection.results.context import Table
from notifier.inspection.results.evaluation import Evaluation, Metrics, metric_value, record_count

NAME_COLUMNS: Final = ("metric", "metrics", "name", "key", "metrica", "métrica", "measure")
VALUE_COLUMNS: Final = ("value", "score", "valor")
SPLIT_COLUMNS: Final = ("split", "set", "subset")


def read_pairs(table: Table) -> Evaluation | None:
    header = [field_name(cell) for cell in table.header]
    if len(header) != 2 or header[0] not in NAME_COLUMNS or header[1] not in VALUE_COLUMNS:
        return None
    if not table.rows or any(len(row) != 2 or metric_value(row[1]) is None for row in table.rows):
        return None
    metrics = Metrics()
    for name, value in table.rows:
        metrics.add(name.strip(), value)
    return Evaluation("metric_pairs", metrics, record_count(dict(metrics.values)))


def read_wide(table: Table) -> Evaluation | None:
    header = [cell.strip() for cell in table.header]
    per_split = field_name(header[0]) in SPLIT_COLUMNS if header else False
    names = header[1:] if per_split else header
    rows = table.rows
    if not names or not rows or (not per_split and len(rows) != 1):
        return None
    if any(metric_value(name) is not None for name in names):
        return None
    metrics = Metrics()
    for row in rows:
        if len(row) != len(header):
            return None
        cells = row[1:] if per_split else row
        if any(metric_value(cell) is None for cell in cells):
            return None
        prefix = f"{row[0].strip()}." if per_split else ""
        for name, cell in zip(names, cells, strict=True):
            metrics.add(f"{prefix}{name}", cell)
    count = None if per_split else record_count(dict(metrics.values))
    return Evaluation("metric_table", metrics, count)
