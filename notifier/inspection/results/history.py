"""Keras-style histories: ``{"loss": [...], "val_accuracy": [...]}`` (``History.history``).

Also accepted under a ``history`` key next to names and parameters. Every series must be
a list of numbers of the same length (one value per epoch; NaN and null allowed).
Metrics: each series' last value, ``best.<name>`` (lowest for losses and errors), and
``epochs``.
"""

from __future__ import annotations

from typing import Any, Final

from notifier.inspection.fields import field_name
from notifier.inspection.results.context import Context
from notifier.inspection.results.evaluation import NAME_FIELDS, Evaluation, is_numeric_list
from notifier.inspection.results.series import summarise

LAYOUT: Final = "history"
HISTORY_OBJECT: Final = "history"


def read(document: Any, context: Context) -> Evaluation | None:
    del context
    if not isinstance(document, dict):
        return None
    wrapped = document.get(HISTORY_OBJECT)
    holder = wrapped if isinstance(wrapped, dict) else document
    series = {k: v for k, v in holder.items() if field_name(str(k)) not in NAME_FIELDS}
    if not series or not all(is_numeric_list(values) for values in series.values()):
        return None
    lengths = {len(values) for values in series.values()}
    if len(lengths) != 1:
        return None
    return summarise(LAYOUT, series, lengths.pop())
