"""Per-epoch series, summarised: the last epoch's values, the best of each, the epoch count."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from notifier.inspection.fields import field_name
from notifier.inspection.results.evaluation import Evaluation, Metrics, Number, metric_value

LOWER_IS_BETTER: Final = ("loss", "error", "mse", "mae", "rmse", "mape", "perplexity", "wer", "cer")
"""Name parts of metrics that improve downwards (``val_loss``); all others improve upwards."""

NOT_OPTIMISED: Final = ("lr", "learning_rate", "epoch", "step", "runtime", "per_second", "flos")
"""Name endings of per-epoch values that have no best (schedules, clocks, counters)."""

EPOCHS_METRIC: Final = "epochs"
BEST_PREFIX: Final = "best."


def summarise(layout: str, series: Mapping[str, Sequence[Any]], epochs: int | None) -> Evaluation:
    """Metrics ``epochs``, ``<name>`` (its last value) and ``best.<name>``; details
    ``best_epoch`` (1-based position of each best value in its series)."""
    metrics = Metrics()
    if epochs is not None:
        metrics.add(EPOCHS_METRIC, epochs)
    numbers = {name: [_finite(value) for value in values] for name, values in series.items()}
    for name, values in numbers.items():
        metrics.add(name, values[-1] if values else None)
    best_epoch: dict[str, int] = {}
    for name, values in numbers.items():
        position = _best_position(name, values)
        if position is not None:
            metrics.add(f"{BEST_PREFIX}{name}", values[position])
            best_epoch[name] = position + 1
    return Evaluation(layout, metrics, None, {"best_epoch": best_epoch})


def _finite(value: Any) -> Number | None:
    number = metric_value(value)
    return number if number is not None and math.isfinite(number) else None


def _best_position(name: str, values: Sequence[Number | None]) -> int | None:
    key = field_name(name)
    if key.endswith(NOT_OPTIMISED):
        return None
    candidates = [(value, index) for index, value in enumerate(values) if value is not None]
    if not candidates:
        return None
    if any(part in key for part in LOWER_IS_BETTER):
        return min(candidates)[1]
    return max(candidates, key=lambda pair: (pair[0], -pair[1]))[1]
