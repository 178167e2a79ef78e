"""Kubeflow Pipelines v1 metrics files (``mlpipeline-metrics.json``).

Source: KFP v1 "Export metrics" docs: ``{"metrics": [{"name": "accuracy-score",
"numberValue": 0.9, "format": "PERCENTAGE"}]}``. Metrics: ``name`` -> ``numberValue``.
"""

from __future__ import annotations

from typing import Any, Final

from notifier.inspection.results.context import Context
from notifier.inspection.results.evaluation import Evaluation, Metrics

LAYOUT: Final = "kubeflow"


def read(document: Any, context: Context) -> Evaluation | None:
    del context
    items = document.get("metrics") if isinstance(document, dict) else None
    if not isinstance(items, list) or not items:
        return None
    if not all(isinstance(i, dict) and "name" in i and "numberValue" in i for i in items):
        return None
    metrics = Metrics()
    for item in items:
        metrics.add(str(item["name"]), item["numberValue"])
    formats = {str(i["name"]): i["format"] for i in items if isinstance(i.get("format"), str)}
    return Evaluation(LAYOUT, metrics, None, {"metric_formats": formats} if formats else {})
