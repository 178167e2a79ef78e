"""Row count far from the dataset's trailing history: the modified z-score.

Source: Iglewicz and Hoaglin (1993), "How to Detect and Handle Outliers": the
modified z-score ``0.6745 * (x - median) / MAD`` with outliers above 3.5; when the
MAD is 0 the mean absolute deviation stands in (``(x - median) / (1.253314 * MeanAD)``,
as IBM SPSS Modeler and re_data do). Trailing window and minimum history as in
Elementary's volume anomalies (14 days of training). Points already flagged by this
rule or as empty outputs do not train later verdicts (elementary #980).

A transformation output whose input was already flagged for the same direction is
recorded as ``info`` (explained by its input), not as a second problem.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from notifier.analysis import text
from notifier.analysis.model import AuditRow, Finding
from notifier.analysis.rules.base import RuleContext

NAME: Final = "row_count"
MAD_SCALE: Final = 0.6745
"""0.6745 = the 0.75 quantile of the standard normal: makes MAD comparable to sigma."""
MEAN_AD_SCALE: Final = 1.253314
"""sqrt(pi/2): scales the mean absolute deviation to sigma when the MAD is 0."""


@dataclass(frozen=True)
class RobustScore:
    """``value`` against ``history``: its median, MAD and modified z-score (may be ±inf)."""

    value: float
    median: float
    mad: float
    z: float
    points: int

    @property
    def relative_change(self) -> float:
        """(value - median) / median; ±inf when the median is 0."""
        if self.median == 0:
            return 0.0 if self.value == 0 else math.inf
        return (self.value - self.median) / self.median


def modified_z_score(value: float, history: Sequence[float]) -> RobustScore:
    """Score ``value`` against ``history`` (at least one point)."""
    if not history:
        raise ValueError("history is empty")
    median = statistics.median(history)
    deviations = [abs(x - median) for x in history]
    mad = statistics.median(deviations)
    if mad > 0:
        z = MAD_SCALE * (value - median) / mad
    else:
        mean_ad = statistics.fmean(deviations)
        if mean_ad > 0:
            z = (value - median) / (MEAN_AD_SCALE * mean_ad)
        else:
            z = 0.0 if value == median else math.copysign(math.inf, value - median)
    return RobustScore(float(value), float(median), float(mad), z, len(history))


def is_anomalous(score: RobustScore, threshold: float, min_change: float) -> bool:
    """Beyond the threshold, and moved at least ``min_change`` (relative) from the median."""
    return abs(score.z) > threshold and abs(score.relative_change) >= min_change


def describe(dataset: str, score: RobustScore, window_days: int, threshold: float) -> str:
    """``raw/flows: 600 records, 40 % below the median 1,000 of the last 14 days
    (modified z-score -8.1, threshold 3.5)``."""
    change = score.relative_change
    direction = "below" if change < 0 else "above"
    percent = "∞" if math.isinf(change) else f"{abs(change) * 100:.0f}"
    z = "±∞ (constant history)" if math.isinf(score.z) else f"{score.z:+.1f}"
    return (
        f"{dataset}: {text.count(score.value)} records, {percent} % {direction} the median "
        f"{text.count(score.median)} of the last {window_days} days "
        f"({score.points} points; modified z-score {z}, threshold {threshold:g})"
    )


class RowCountRule:
    name = NAME
    phases = frozenset({"ingestion", "transformation"})

    def evaluate(self, ctx: RuleContext, row: AuditRow, dataset: str) -> Finding | None:
        if row.estado != "ok" or not row.num_registros:
            return None  # zero records are the empty-output rule's
        settings = ctx.settings
        history = [
            float(n)
            for n in ctx.history.row_counts(
                row.phase,
                dataset,
                row.row_id,
                since=row.event_time - timedelta(days=settings.window_days),
                until=row.event_time,
            )
        ]
        if len(history) < settings.min_history:
            return None
        score = modified_z_score(row.num_registros, history)
        if not is_anomalous(score, settings.z_threshold, settings.min_change):
            return None
        reason = describe(dataset, score, settings.window_days, settings.z_threshold)
        severity = "warning"
        explained = self._explained_by_input(ctx, row, score)
        if explained:
            severity = "info"
            reason = f"{reason}; follows its input {explained}"
        return Finding.about_row(
            NAME,
            row,
            dataset,
            severity=severity,
            reason=reason,
            score=None if math.isinf(score.z) else score.z,
            details={
                "records": score.value,
                "median": score.median,
                "mad": score.mad,
                "points": score.points,
                "threshold": settings.z_threshold,
            },
        )

    @staticmethod
    def _explained_by_input(ctx: RuleContext, row: AuditRow, score: RobustScore) -> str | None:
        """The dataset of an input flagged in the same direction, if any."""
        if row.phase != "transformation":
            return None
        for dataset, z in ctx.history.flagged_inputs(row, NAME):
            if z is None or (z < 0) == (score.z < 0):
                return str(dataset)
        return None
