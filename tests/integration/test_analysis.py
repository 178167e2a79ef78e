"""Issue 10's done-when: a realistic history, uploaded for real, then `notifier report`.

Ten daily runs (raw CSV -> silver Parquet -> model -> evaluation), with event times
set in the past: one raw file with 40 % fewer rows (day 7), one failed
transformation (day 5, which then stops), one schema change (day 8), models trained
on declared datasets (even days, as an s3:// URI or a bare key) and inferred ones
(odd days), one accuracy regression (day 6), and evaluations that stop after day 6.
Workers analyse each row as they write it; the report must name exactly these
problems, each with its reason, and `notifier analyze` must reproduce them.
"""

from __future__ import annotations

import io
import json
import pickle
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from notifier.cli import main
from notifier.cli.exits import EXIT_FINDINGS as EXIT_PROBLEMS
from notifier.web.dashboard import data as dashboard_data
from tests.support import minio_body, record_for_stat

MODEL_BYTES = pickle.dumps({"n_estimators": 100, "max_depth": 8}, protocol=4)
"""A small, well-formed pickle: model files are read for real (a broken one is an error)."""

DAYS = 10
RAW_ROWS = [1000, 1012, 988, 1005, 995, 1010, 990, 600, 1003, 997]
ACCURACY = [0.91, 0.915, 0.905, 0.912, 0.908, None, 0.48]
FAILED_DAY, SHORT_DAY, REGRESSION_DAY, DRIFT_DAY = 5, 7, 6, 8
LAST_EVALUATION_DAY = 6


@dataclass
class History:
    start: list[datetime]
    raw: list[str]
    silver: list[str]
    models: dict[int, str]
    results: dict[int, str]


def _csv(rows: int) -> bytes:
    lines = ["flow_id,src_ip,bytes"] + [f"{i},10.0.0.{i % 250},{i * 7}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _parquet(rows: int, with_country: bool) -> bytes:
    columns: dict[str, Any] = {"flow_id": list(range(rows)), "bytes": [i * 7 for i in range(rows)]}
    if with_country:
        columns["country"] = ["es"] * rows
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


class Pipeline:
    def __init__(self, client, auth, s3_client, processor) -> None:
        self.client, self.auth, self.s3, self.processor = client, auth, s3_client, processor

    def put(self, bucket, key, data: bytes, at: datetime, metadata=None) -> str:
        self.s3.put_object(bucket, key, io.BytesIO(data), len(data), metadata=metadata)
        record = record_for_stat(self.s3, bucket, key, event_time=at)
        response = self.client.post("/events", data=minio_body(record), headers=self.auth)
        assert response.status_code == 200, response.json
        self.processor.drain()  # workers write, then analyse, each row
        return f"s3://{bucket}/{key}"


def build_history(pipeline: Pipeline, buckets, now: datetime) -> History:
    history = History([], [], [], {}, {})
    for day in range(DAYS):
        start = now - timedelta(days=DAYS - 1 - day, hours=2)
        stamp = start.strftime("%Y-%m-%d")
        history.start.append(start)
        history.raw.append(
            pipeline.put(buckets.raw, f"flows/{stamp}/flows.csv", _csv(RAW_ROWS[day]), start)
        )
        silver_key = f"flows/{stamp}/part-00000.parquet"
        silver = (
            b"PAR1 this transformation crashed halfway PAR1"
            if day == FAILED_DAY
            else _parquet(RAW_ROWS[day] - 40, with_country=day >= DRIFT_DAY)
        )
        history.silver.append(
            pipeline.put(buckets.silver, silver_key, silver, start + timedelta(minutes=10))
        )
        if day == FAILED_DAY:
            continue  # the pipeline stopped at the failed transformation
        metadata = None
        if day % 2 == 0:  # declared: an s3:// URI, or on day 4 a bare key
            reference = silver_key if day == 4 else f"s3://{buckets.silver}/{silver_key}"
            metadata = {"x-amz-meta-dataset": reference}
        history.models[day] = pipeline.put(
            buckets.models,
            f"rf/{stamp}/model.joblib",
            MODEL_BYTES,
            start + timedelta(minutes=20),
            metadata,
        )
        if day <= LAST_EVALUATION_DAY:
            results = {"model": "rf", "dataset": "flows", "accuracy": ACCURACY[day], "loss": 0.3}
            history.results[day] = pipeline.put(
                buckets.results,
                f"rf/{stamp}/metrics.json",
                json.dumps(results).encode(),
                start + timedelta(minutes=30),
            )
    return history


@pytest.fixture
def cli(database_url):
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(main, list(args), env={"NOTIFIER_DATABASE_URL": database_url})
        return result

    return run


def _json(result) -> Any:
    assert result.exit_code in (0, EXIT_PROBLEMS), result.output
    return json.loads(result.output)


def test_report_answers_the_four_questions(client, auth, s3_client, buckets, processor, cli):
    now = datetime.now(UTC).replace(microsecond=0)
    history = build_history(Pipeline(client, auth, s3_client, processor), buckets, now)
    first = _assert_report(cli, buckets, history)

    result = cli("analyze")
    assert result.exit_code == 0, result.output
    assert "analysed 35 rows" in result.output
    again = _assert_report(cli, buckets, history)
    # Recomputing keeps every anomaly (and its id): nothing to alert twice.
    assert {p["anomaly_id"] for p in again} == {p["anomaly_id"] for p in first}


def _assert_report(cli, buckets, history: History) -> list[dict[str, Any]]:
    # 1. When did each phase last run?
    last = _json(cli("report", "last-run", "--json"))
    by_phase = {p["phase"]: p for p in last["phases"]}
    assert by_phase["ingestion"]["last_uri"] == history.raw[-1]
    assert by_phase["transformation"]["last_uri"] == history.silver[-1]
    assert by_phase["training"]["last_uri"] == history.models[9]
    assert by_phase["evaluation"]["last_uri"] == history.results[LAST_EVALUATION_DAY]
    assert by_phase["ingestion"]["last_dataset"] == f"{buckets.raw}/flows"
    assert last["pipeline_run"]["status"] == "in_progress"  # day 9: no evaluation yet
    assert datetime.fromisoformat(last["pipeline_run"]["started_at"]) == history.start[9]

    # 2. Which dataset trained the model?
    models = {m["ruta_modelo"]: m for m in _json(cli("report", "lineage", "rf", "--json"))}
    assert len(models) == 9
    for day, uri in history.models.items():
        (used,) = models[uri]["inputs"]
        assert used["input_uri"] == history.silver[day]
        expected = ("declared", 1.0) if day % 2 == 0 else ("inferred", 0.5)
        assert (used["method"], used["confidence"]) == expected, day
        assert [u["uri"] for u in used["upstream"]] == [history.raw[day]]
    assert models[history.models[4]]["inputs"][0]["reference"].startswith("flows/")
    evaluated = models[history.models[REGRESSION_DAY]]["evaluations"]
    assert [e["ruta_resultados"] for e in evaluated] == [history.results[REGRESSION_DAY]]
    by_uri = _json(cli("report", "lineage", history.models[2], "--json"))
    assert [m["ruta_modelo"] for m in by_uri] == [history.models[2]]
    assert cli("report", "lineage", "no-such-model").exit_code == 1

    # 3. How many records did each phase handle?
    per_day = _json(cli("report", "records", "--json"))
    raw_days = [r["records"] for r in per_day if r["phase"] == "ingestion"]
    assert raw_days == RAW_ROWS
    silver_total = sum(r["records"] for r in per_day if r["phase"] == "transformation")
    assert silver_total == sum(n - 40 for d, n in enumerate(RAW_ROWS) if d != FAILED_DAY)
    per_dataset = _json(cli("report", "records", "--by", "dataset", "--json"))
    assert {(r["phase"], r["dataset"], r["objects"]) for r in per_dataset} >= {
        ("ingestion", f"{buckets.raw}/flows", 10),
        ("transformation", f"{buckets.silver}/flows", 9),
    }

    # 4. Which runs failed or looked anomalous, and what is late?
    result = cli("report", "problems", "--json", "--check")
    assert result.exit_code == EXIT_PROBLEMS, result.output
    problems = json.loads(result.output)
    found = {(p["kind"], p["rule"], p["uri"]) for p in problems if p["kind"] != "run"}
    assert found == {
        ("error", None, history.silver[FAILED_DAY]),
        ("anomaly", "row_count", history.raw[SHORT_DAY]),
        ("anomaly", "metric_regression", history.results[REGRESSION_DAY]),
        ("anomaly", "schema_drift", history.silver[DRIFT_DAY]),
        ("late", "freshness", None),
    }
    reasons = {p["rule"]: p["reason"] for p in problems if p["rule"]}
    assert reasons["row_count"].startswith(
        f"{buckets.raw}/flows: 600 records, 40 % below the median"
    )
    assert "threshold 3.5" in reasons["row_count"]
    assert "accuracy fell from 0.908 to 0.48" in reasons["metric_regression"]
    assert "added country" in reasons["schema_drift"]
    assert reasons["freshness"].startswith(f"evaluation of {buckets.results}/rf/metrics is ")
    assert "it usually arrives every 24 h" in reasons["freshness"]
    runs = {p["pipeline_run_id"]: p["reason"] for p in problems if p["kind"] == "run"}
    statuses = sorted(r.split(":")[0].split(" ", 2)[2] for r in runs.values())
    assert statuses == ["anomalous", "anomalous", "anomalous", "failed"]
    text = cli("report", "problems")
    assert text.exit_code == 0
    assert "600 records, 40 % below" in text.output
    return problems


def test_an_evaluation_links_to_the_model_file_not_its_sidecar_row(
    client, auth, s3_client, buckets, processor, db
):
    pipeline = Pipeline(client, auth, s3_client, processor)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    model = pickle.dumps({"n_estimators": 100})
    metadata = {"x-amz-meta-model_name": "rf"}
    pipeline.put(buckets.models, "rf/v3/model.joblib", model, start, metadata)
    card = json.dumps({"model_name": "rf", "params": {"max_depth": 3}}).encode()
    pipeline.put(buckets.models, "rf/v3/model.json", card, start + timedelta(minutes=1))
    results = json.dumps({"model": "rf", "accuracy": 0.9}).encode()
    pipeline.put(buckets.results, "rf/v3/metrics.json", results, start + timedelta(minutes=2))
    (linked,) = db.execute(
        "SELECT t.object_key, t.format FROM lineage_links AS l"
        " JOIN training_events AS t ON t.id = l.from_id"
        " WHERE l.to_table = 'evaluation_events'"
    ).fetchall()
    assert tuple(linked) == ("rf/v3/model.joblib", "pickle")


def test_records_count_a_model_once_not_again_for_its_sidecar(
    client, auth, s3_client, buckets, processor, cli, pool
):
    # The README: a sidecar's own row repeats its count; sums leave model_card rows out.
    pipeline = Pipeline(client, auth, s3_client, processor)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    pipeline.put(buckets.models, "rf/v3/model.joblib", pickle.dumps({"n": 1}), start)
    card = json.dumps({"num_records": 4, "params": {"max_depth": 3}}).encode()
    pipeline.put(buckets.models, "rf/v3/model.json", card, start + timedelta(minutes=1))
    training = [r for r in _json(cli("report", "records", "--json")) if r["phase"] == "training"]
    assert [r["records"] for r in training] == [4]
    chart = dashboard_data.records_per_day(pool)
    assert sum(chart["series"]["training"]) == 4
