"""``dvc metrics show --json`` output: ``{rev: {"data": {path: {"data": {...}}}}}``.

Source: DVC command reference, ``metrics show --json``. The ``workspace`` revision (else
the first); each file's metrics flattened, prefixed with its path when there are several.
A DVC metrics file itself (``metrics.json``) is read by the splits or flat layouts.
"""

from __future__ import annotations

from typing import Any, Final

from notifier.inspection.results.context import Context
from notifier.inspection.results.evaluation import Evaluation, Metrics

LAYOUT: Final = "dvc"
WORKSPACE: Final = "workspace"


def read(document: Any, context: Context) -> Evaluation | None:
    del context
    if not isinstance(document, dict) or not document:
        return None
    revision = document.get(WORKSPACE, next(iter(document.values())))
    files = revision.get("data") if isinstance(revision, dict) else None
    if not isinstance(files, dict) or not files:
        return None
    if not all(isinstance(f, dict) and isinstance(f.get("data"), dict) for f in files.values()):
        return None
    metrics = Metrics()
    for path, entry in files.items():
        metrics.flatten(entry["data"], "" if len(files) == 1 else f"{path}.")
    return Evaluation(LAYOUT, metrics, None, {"files": sorted(files)})
