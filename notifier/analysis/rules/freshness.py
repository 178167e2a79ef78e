"""Freshness: a dataset that has not produced within k times its usual cadence.

The cadence is learned per phase and dataset, as Monte Carlo's and Bigeye's
freshness detectors do: arrivals of the training window are merged into bursts
(arrivals less than the run gap apart, so a run's many parts count once), and the
median interval between bursts is the usual cadence. A dataset is late once
``now - last arrival > k * cadence`` (k = NOTIFIER_ANOMALY_FRESHNESS_FACTOR), with
at least NOTIFIER_ANOMALY_FRESHNESS_MIN_HISTORY intervals known. Judged against the
clock, so ``notifier analyze`` and ``notifier report`` re-evaluate it; a late
dataset that produces again is resolved.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from notifier.analysis import text
from notifier.analysis.model import Finding
from notifier.analysis.rules.base import RuleContext
from notifier.db import query

NAME: Final = "freshness"


@dataclass(frozen=True)
class Cadence:
    """The usual interval between a dataset's arrivals, from ``intervals`` intervals."""

    interval: timedelta
    intervals: int


def learn_cadence(arrivals: Sequence[datetime], gap: timedelta) -> Cadence | None:
    """Median interval between bursts of ``arrivals`` (merged when under ``gap`` apart)."""
    bursts: list[datetime] = []
    previous: datetime | None = None
    for at in sorted(arrivals):
        if previous is None or at - previous > gap:
            bursts.append(at)
        previous = at
    intervals = [b - a for a, b in itertools.pairwise(bursts)]
    if not intervals:
        return None
    seconds = statistics.median(i.total_seconds() for i in intervals)
    return Cadence(timedelta(seconds=seconds), len(intervals))


@dataclass(frozen=True)
class Lateness:
    silent: timedelta
    late_by: timedelta
    cadence: Cadence


def lateness(last: datetime, now: datetime, cadence: Cadence, factor: float) -> Lateness | None:
    """How late a dataset whose last arrival was ``last`` is at ``now``; None when on time."""
    silent = now - last
    if silent <= cadence.interval * factor:
        return None
    return Lateness(silent, silent - cadence.interval, cadence)


def describe(phase: str, dataset: str | None, last: datetime, late: Lateness, factor: float) -> str:
    """``ingestion of raw/flows is 30 h late: nothing since ...; it usually arrives every 24 h``
    (``training is 30 h late: ...`` for a whole phase)."""
    subject = f"{phase} of {dataset}" if dataset else phase
    return (
        f"{subject} is {text.duration(late.late_by)} late: nothing since "
        f"{text.moment(last)} ({text.duration(late.silent)} ago); it usually arrives every "
        f"{text.duration(late.cadence.interval)} (median of {late.cadence.intervals} "
        f"intervals; late after {factor:g} x)"
    )


def evaluate_all(ctx: RuleContext) -> list[Finding]:
    """One finding per late (phase, dataset) with enough history in the window.

    A whole phase is judged too, and reported only when none of its datasets is: it
    catches phases whose datasets change name every run (too little history each).
    """
    settings = ctx.settings
    window = {"since": ctx.now - timedelta(days=settings.window_days), "until": ctx.now}
    by_dataset: list[Finding] = []
    by_phase: list[Finding] = []
    for phase, dataset, arrivals in ctx.conn.execute(query("dataset_arrivals"), window):
        finding = _judge(ctx, phase, dataset, arrivals)
        if finding is not None:
            (by_phase if dataset is None else by_dataset).append(finding)
    late_phases = {f.phase for f in by_dataset}
    return by_dataset + [f for f in by_phase if f.phase not in late_phases]


def _judge(
    ctx: RuleContext, phase: str, dataset: str | None, arrivals: Sequence[datetime]
) -> Finding | None:
    settings = ctx.settings
    cadence = learn_cadence(arrivals, timedelta(minutes=settings.run_gap_minutes))
    if cadence is None or cadence.intervals < settings.freshness_min_history:
        return None
    last = max(arrivals)
    late = lateness(last, ctx.now, cadence, settings.freshness_factor)
    if late is None:
        return None
    return Finding(
        rule=NAME,
        phase=phase,
        subject=f"{phase}:{dataset or '*'}:{last.isoformat()}",
        severity="warning",
        reason=describe(phase, dataset, last, late, settings.freshness_factor),
        observed_at=last + cadence.interval * settings.freshness_factor,
        dataset=dataset,
        score=late.silent / cadence.interval,
        details={
            "last_arrival": last.isoformat(),
            "cadence_seconds": cadence.interval.total_seconds(),
            "intervals": cadence.intervals,
        },
    )
