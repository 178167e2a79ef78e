"""Per-epoch lists: ``[{"epoch": 1, "loss": 0.5, ...}, ...]``, as JSON or a CSV table.

Covers a JSON list of epoch objects (also under ``epochs``, ``history`` or
``log_history``, the Hugging Face ``trainer_state.json`` key) and Keras ``CSVLogger``
files (an ``epoch`` column). Metrics: each value's last occurrence, ``best.<name>`` and
``epochs``: the number of distinct whole epoch values, or the highest fractional epoch
rounded up (Hugging Face logs several entries per epoch).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from notifier.inspection.fields import field_name
from notifier.inspection.results.context import Context, Table
from notifier.inspection.results.evaluation import Evaluation, metric_value
from notifier.inspection.results.series import summarise

LAYOUT: Final = "epochs"
EPOCH: Final = "epoch"
CONTAINERS: Final = ("epochs", "history", "log_history")
COUNTERS: Final = frozenset((EPOCH, "step", "global_step"))
"""Per-entry positions, not metrics."""


def read_json(document: Any, context: Context) -> Evaluation | None:
    del context
    entries = document
    if isinstance(document, dict):
        entries = next((document[k] for k in CONTAINERS if isinstance(document.get(k), list)), None)
    if not isinstance(entries, list) or not entries:
        return None
    if not all(isinstance(entry, dict) for entry in entries):
        return None
    if not any(EPOCH in entry for entry in entries):
        return None
    return from_entries(entries)


def read_table(table: Table) -> Evaluation | None:
    header = [cell.strip() for cell in table.header]
    if EPOCH not in (field_name(cell) for cell in header) or not table.rows:
        return None
    entries = []
    for row in table.rows:
        if len(row) != len(header):
            return None
        entry = {name: cell for name, cell in zip(header, row, strict=True) if cell.strip()}
        if any(metric_value(cell) is None for cell in entry.values()):
            return None
        entries.append({field_name(name): value for name, value in entry.items()})
    return from_entries(entries)


def from_entries(entries: Sequence[Mapping[str, Any]]) -> Evaluation:
    series: dict[str, list[Any]] = {}
    for entry in entries:
        for name, value in entry.items():
            if name not in COUNTERS and metric_value(value) is not None:
                series.setdefault(str(name), []).append(value)
    positions = [metric_value(entry.get(EPOCH)) for entry in entries]
    return summarise(LAYOUT, series, _epoch_count([p for p in positions if p is not None]))


def _epoch_count(positions: list[int | float]) -> int | None:
    if not positions:
        return None
    if all(float(p).is_integer() for p in positions):
        return len(set(positions))
    return math.ceil(max(positions))
