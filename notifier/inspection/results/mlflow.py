"""MLflow runs and metric histories, as the MLflow REST API returns them.

Source: MLflow REST API: ``runs/get`` -> ``{"run": {"info": {"run_id": ...}, "data":
{"metrics": [{"key", "value", "timestamp", "step"}], ...}}}``; ``metrics/get-history``
-> ``{"metrics": [{"key", "value", "timestamp", "step"}]}``. Metrics: per key, the value
of the highest step (then the latest timestamp). ``run_id`` from the run's info.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from notifier.inspection.fields import as_name
from notifier.inspection.results.context import Context
from notifier.inspection.results.evaluation import Evaluation, Metrics, metric_value

LAYOUT: Final = "mlflow"


def read(document: Any, context: Context) -> Evaluation | None:
    del context
    if not isinstance(document, dict):
        return None
    run = document.get("run")
    names: dict[str, str] = {}
    items: Any = document.get("metrics")
    if isinstance(run, dict):
        data, info = run.get("data"), run.get("info")
        items = data.get("metrics") if isinstance(data, dict) else None
        run_id = (
            as_name(info.get("run_id") or info.get("run_uuid")) if isinstance(info, dict) else None
        )
        if run_id is not None:
            names["run_id"] = run_id
    if not isinstance(items, list) or not items:
        return None
    if not all(isinstance(i, dict) and "key" in i and "value" in i for i in items):
        return None
    latest: dict[str, Mapping[str, Any]] = {}
    for item in items:
        key = str(item["key"])
        if key not in latest or _position(item) >= _position(latest[key]):
            latest[key] = item
    metrics = Metrics()
    for key, item in latest.items():
        metrics.add(key, item["value"])
    return Evaluation(LAYOUT, metrics, None, {}, names)


def _position(item: Mapping[str, Any]) -> tuple[float, float]:
    return (metric_value(item.get("step")) or 0, metric_value(item.get("timestamp")) or 0)
