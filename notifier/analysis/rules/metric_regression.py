"""An evaluation metric worse than the same model's previous evaluation.

Whether higher is better comes from the metric's name (its last word, so
``per_class.cat.f1`` and ``val_loss`` work): accuracy, precision, recall, f1, AUC,
R², mAP, NDCG, BLEU, ROUGE... are better higher; loss, error, RMSE, MAE, MSE, MAPE,
log loss, perplexity, WER, CER better lower; other names are not judged. The
tolerance is absolute for values in [0, 1] and relative to the previous value
otherwise. The previous evaluation is the latest earlier one of the same model name
(``modelo_nombre``; else the results' dataset identity) not itself flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeGuard

from notifier.analysis import text
from notifier.analysis.model import AuditRow, Finding
from notifier.analysis.rules.base import RuleContext

NAME: Final = "metric_regression"

HIGHER_IS_BETTER: Final = frozenset(
    {
        "accuracy", "acc", "balanced_accuracy", "precision", "recall", "f1", "f1_score",
        "fbeta", "auc", "roc_auc", "pr_auc", "auroc", "auprc", "average_precision", "r2",
        "map", "ndcg", "mrr", "iou", "miou", "dice", "bleu", "rouge", "specificity",
        "sensitivity", "kappa", "mcc", "top1", "top5", "hit_rate",
    }
)  # fmt: skip
LOWER_IS_BETTER: Final = frozenset(
    {
        "loss", "error", "err", "rmse", "mae", "mse", "mape", "smape", "logloss",
        "log_loss", "perplexity", "wer", "cer", "brier", "hamming_loss",
    }
)  # fmt: skip


def metric_direction(name: str) -> str | None:
    """``"higher"``, ``"lower"`` or None, from the metric's name."""
    last = name.lower().rsplit(".", 1)[-1]
    candidates = [last, *last.split("_")]
    for word in candidates:
        if word in LOWER_IS_BETTER:
            return "lower"
    for word in candidates:
        if word in HIGHER_IS_BETTER:
            return "higher"
    return None


@dataclass(frozen=True)
class Regression:
    metric: str
    previous: float
    current: float
    direction: str
    allowed: float

    def describe(self) -> str:
        verb = "fell" if self.current < self.previous else "rose"
        return (
            f"{self.metric} {verb} from {text.number(self.previous)} to "
            f"{text.number(self.current)} ({self.current - self.previous:+.4g}; "
            f"tolerance {text.number(self.allowed)})"
        )


def regressions(
    previous: Mapping[str, Any], current: Mapping[str, Any], tolerance: float
) -> list[Regression]:
    """Metrics present in both that got worse by more than the tolerance."""
    found = []
    for name, value in current.items():
        before = previous.get(name)
        direction = metric_direction(name)
        if direction is None or not _is_number(value) or not _is_number(before):
            continue
        now, then = float(value), float(before)
        bounded = 0.0 <= now <= 1.0 and 0.0 <= then <= 1.0
        allowed = tolerance if bounded else tolerance * abs(then)
        worse = then - now if direction == "higher" else now - then
        if worse > allowed:
            found.append(Regression(name, then, now, direction, allowed))
    return found


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


class MetricRegressionRule:
    name = NAME
    phases = frozenset({"evaluation"})

    def evaluate(self, ctx: RuleContext, row: AuditRow, dataset: str) -> Finding | None:
        metrics = row.info.get("metrics")
        if row.estado != "ok" or not isinstance(metrics, dict) or not metrics:
            return None
        model = row.modelo_nombre
        previous = ctx.history.previous_evaluation(model, dataset, row.row_id, row.event_time)
        if previous is None:
            return None
        found = regressions(previous.details, metrics, ctx.settings.metric_tolerance)
        if not found:
            return None
        subject_name = model or dataset
        return Finding.about_row(
            NAME,
            row,
            dataset,
            severity="warning",
            reason=(
                f"model {subject_name}: "
                + "; ".join(r.describe() for r in found)
                + f" since the evaluation of {text.moment(previous.event_time)} ({previous.uri})"
            ),
            details={
                "model": subject_name,
                "previous_uri": previous.uri,
                "regressions": [
                    {"metric": r.metric, "previous": r.previous, "current": r.current}
                    for r in found
                ],
            },
        )
