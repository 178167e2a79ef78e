"""Hugging Face Trainer results files: ``all_results.json``, ``eval_results.json``, ...

Source: transformers ``Trainer.save_metrics``: a flat object of prefixed values
(``eval_accuracy``, ``eval_loss``, ``eval_samples``, ``epoch``). Metrics: every number,
names kept. num_registros: ``eval_samples`` (then ``test_``, ``predict_``, ``train_``).
"""

from __future__ import annotations

from typing import Any, Final

from notifier.inspection.results.context import Context
from notifier.inspection.results.evaluation import Evaluation, Metrics, integral

LAYOUT: Final = "huggingface"
FILE_NAMES: Final = frozenset(
    f"{split}_results.json" for split in ("all", "eval", "test", "predict", "train")
)
SAMPLE_FIELDS: Final = ("eval_samples", "test_samples", "predict_samples", "train_samples")


def read(document: Any, context: Context) -> Evaluation | None:
    if not isinstance(document, dict) or any(isinstance(v, dict) for v in document.values()):
        return None
    if context.file_name not in FILE_NAMES and not any(f in document for f in SAMPLE_FIELDS):
        return None
    metrics = Metrics()
    metrics.flatten(document)
    count = next(
        (c for c in (integral(document.get(f)) for f in SAMPLE_FIELDS) if c is not None), None
    )
    return Evaluation(LAYOUT, metrics, count)
