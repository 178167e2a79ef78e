"""What every results layout produces, and the helpers layouts share.

A layout reads one parsed document (JSON) or table (CSV) and returns an ``Evaluation``,
or None when the document is not in its shape. Metric values are ints or finite floats;
numbers written as strings (``"0.95"``) count as numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from notifier.inspection.fields import RECORD_COUNT_FIELDS, as_count, field_name, find, is_number

MAX_METRICS: Final = 200
"""Metrics kept per object; more are dropped and flagged ``metrics_truncated``."""

MAX_METRIC_DEPTH: Final = 3
"""Nesting levels flattened into dotted names (``test.per_class.cat``)."""

MODEL_FIELDS: Final = ("model", "modelo", "model_name", "modelo_nombre")
DATASET_FIELDS: Final = ("dataset", "nombre_dataset", "dataset_name")
RUN_FIELDS: Final = ("run_id", "mlflow_run_id")
NAME_FIELDS: Final = frozenset((*MODEL_FIELDS, *DATASET_FIELDS, *RUN_FIELDS))
"""Fields that name things: never metrics."""

COUNT_FIELDS: Final = (*RECORD_COUNT_FIELDS, "num_samples", "samples", "eval_samples")
"""Fields that state how many records were evaluated."""

NOT_METRICS: Final = frozenset(
    ("params", "parameters", "hyperparameters", "config", "args", "metadata", "tags", "info")
)
"""Nested objects that describe the run rather than score it: not flattened."""

_NUMBER_TEXT = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")

Number = int | float


@dataclass
class Metrics:
    """Named metric values in insertion order, at most MAX_METRICS of them."""

    values: dict[str, Number] = field(default_factory=dict)
    truncated: bool = False

    def add(self, name: str, value: Any) -> None:
        number = metric_value(value)
        if number is None:
            return
        if name not in self.values and len(self.values) >= MAX_METRICS:
            self.truncated = True
            return
        self.values[name] = number

    def flatten(self, fields: Mapping[str, Any], prefix: str = "", depth: int = 1) -> None:
        """Numbers under dotted names; objects down to MAX_METRIC_DEPTH levels."""
        for key, value in fields.items():
            name, kind = f"{prefix}{key}", field_name(str(key))
            if kind in NAME_FIELDS:
                continue
            if isinstance(value, dict):
                if depth < MAX_METRIC_DEPTH and kind not in NOT_METRICS:
                    self.flatten(value, f"{name}.", depth + 1)
            else:
                self.add(name, value)


@dataclass(frozen=True)
class Evaluation:
    """One layout's reading: its name, metrics, the evaluated record count, details.

    ``names`` are modelo_nombre / nombre_dataset / run_id the layout found in a place
    of its own (an MLflow run's info); top-level name fields are read for every layout.
    """

    layout: str
    metrics: Metrics
    num_registros: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)


def metric_value(value: Any) -> Number | None:
    """An int or finite float, from a number or a string holding one; else None."""
    if isinstance(value, str):
        if len(value) > 64 or not _NUMBER_TEXT.fullmatch(value):
            return None
        text = value.strip()
        if text.lstrip("+-").isdigit():
            return int(text)
        value = float(text)
    return value if is_number(value) else None


def integral(value: Any) -> int | None:
    """A non-negative whole number (``1000``, ``1000.0``, ``"1000"``) as an int; else None."""
    number = metric_value(value)
    if number is None or number < 0 or (isinstance(number, float) and not number.is_integer()):
        return None
    return int(number)


def record_count(*places: Mapping[str, Any] | None) -> int | None:
    """The first count field (``num_registros``, ``n_samples``, ...) found, in order."""
    for place in places:
        count = as_count(find(place, COUNT_FIELDS))
        if count is None:
            count = integral(find(place, COUNT_FIELDS))
        if count is not None:
            return count
    return None


def is_numeric_list(value: Any) -> bool:
    """A non-empty list of numbers (NaN, null and string numbers allowed)."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(item is None or _is_float(item) or metric_value(item) is not None for item in value)
    )


def _is_float(value: Any) -> bool:
    return isinstance(value, float)
