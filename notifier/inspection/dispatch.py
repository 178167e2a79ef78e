"""``inspect_object``: route an object to its phase's inspector, under one guard."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Final

from notifier.inspection.base import Inspection, InspectionLimits
from notifier.inspection.datasets import inspect_dataset
from notifier.inspection.guard import SourceGuard, run_guarded
from notifier.inspection.models import inspect_model
from notifier.inspection.not_data import not_data_reason
from notifier.inspection.paths import NO_TEMPLATES, PathTemplates, apply_key_facts, read_key
from notifier.inspection.results import inspect_results
from notifier.inspection.source import ObjectSource
from notifier.metrics import INSPECTION_SECONDS
from notifier.phases import Phase

logger = logging.getLogger(__name__)

INSPECTORS: Final[Mapping[Phase, Callable[[SourceGuard], Inspection]]] = {
    Phase.INGESTION: inspect_dataset,
    Phase.TRANSFORMATION: inspect_dataset,
    Phase.TRAINING: inspect_model,
    Phase.EVALUATION: inspect_results,
}


def inspect_object(
    phase: Phase,
    source: ObjectSource,
    limits: InspectionLimits,
    templates: PathTemplates = NO_TEMPLATES,
) -> Inspection:
    """Inspect one object for ``phase``; never raises for what the object contains.

    Whatever the verdict, the key is then read (``notifier.inspection.paths``) for
    names, a run id, a date and partitions the inspector did not find in the object.

    Bad content, unsupported formats, caps and timeouts come back as a verdict
    (estado 'error' or 'skipped' with a reason); so do keys that name no data
    (job markers, table-format logs: see ``not_data``), without a read. Only an
    exception raised by one of ``source``'s own methods propagates, unchanged, so
    the caller can retry.
    """
    not_data = not_data_reason(source.key, limits.ignore_patterns)
    if not_data is not None:
        return Inspection.skipped(None, not_data, {"not_data": True})
    guard = SourceGuard(source, limits)
    started = time.monotonic()
    verdict = run_guarded(guard, None, lambda: INSPECTORS[phase](guard))
    INSPECTION_SECONDS.labels(verdict.format or "unknown").observe(time.monotonic() - started)
    verdict = apply_key_facts(verdict, read_key(source.bucket, source.key, templates))
    logger.debug(
        "inspected %s object: %s, %s records, %d bytes read in %.3f s",
        verdict.format,
        verdict.estado,
        verdict.num_registros,
        source.bytes_read,
        time.monotonic() - started,
        extra={"action": "inspect", "bucket": source.bucket, "key": source.key},
    )
    return verdict
