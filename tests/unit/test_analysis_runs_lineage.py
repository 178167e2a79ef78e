"""Run status and lineage references: pure parts."""

from __future__ import annotations

from datetime import timedelta

from notifier.analysis.lineage import parse_reference
from notifier.analysis.runs import RunState, judge

ALL = {"ingestion", "transformation", "training", "evaluation"}
WINDOW = timedelta(hours=6)


def test_run_status_most_serious_first():
    assert judge(ALL, ALL, 0, [], timedelta(hours=1), WINDOW) == RunState("complete", None)
    assert judge({"ingestion"}, ALL, 1, ["row_count"], timedelta(days=1), WINDOW) == RunState(
        "failed", "1 failed row(s); 1 anomaly (row_count); no transformation, training, evaluation"
    )
    assert judge(ALL, ALL, 0, ["row_count", "schema_drift"], timedelta(0), WINDOW).status == (
        "anomalous"
    )


def test_a_missing_phase_is_in_progress_until_the_window_ends():
    phases = ALL - {"evaluation"}
    assert judge(phases, ALL, 0, [], timedelta(hours=2), WINDOW) == RunState(
        "in_progress", "no evaluation"
    )
    assert judge(phases, ALL, 0, [], timedelta(hours=7), WINDOW).status == "incomplete"
    # A phase the pipeline never had is not expected.
    assert judge(phases, phases, 0, [], timedelta(hours=7), WINDOW).status == "complete"


def test_references_as_uri_bucket_key_or_bare_key():
    (uri,) = parse_reference("s3://silver/flows/2026-11-29/part-0.parquet")
    assert (uri.bucket, uri.key) == ("silver", "flows/2026-11-29/part-0.parquet")
    with_bucket, bare = parse_reference("silver/flows/part-0.parquet")
    assert (with_bucket.bucket, with_bucket.key) == ("silver", "flows/part-0.parquet")
    assert (bare.bucket, bare.key) == (None, "silver/flows/part-0.parquet")
    assert [(r.bucket, r.key) for r in parse_reference("/model.pkl")] == [(None, "model.pkl")]
    assert parse_reference("s3://bucket-only") == []
    assert parse_reference("  ") == []
