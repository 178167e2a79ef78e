"""Analysis on rows written straight into the phase tables (no S3 needed here):
run ids, out-of-order sessions, empty outputs, outputs larger than their inputs,
undeclared references, and rows no worker analysed."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from click.testing import CliRunner
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb

from notifier import analysis
from notifier.cli import main
from notifier.cli.exits import EXIT_FINDINGS as EXIT_PROBLEMS
from notifier.config import AnalysisSettings

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=20)
SETTINGS = AnalysisSettings()
_keys = itertools.count()

TIME_COLUMN = {
    "ingestion": "timestamp_ingesta",
    "transformation": "timestamp_transformacion",
    "training": "timestamp_entrenamiento",
    "evaluation": "timestamp_eval",
}


def write(db, phase: str, key: str, at: datetime, records: int | None = None, **extra: Any) -> int:
    """One audit row as a worker would write it (with its intake event)."""
    bucket = {"ingestion": "raw", "transformation": "silver"}.get(phase, phase)
    (event_id,) = db.execute(
        "INSERT INTO intake_events (dedup_key, sender, origin, event_name, event_kind, bucket,"
        " object_key, event_time, payload, status) VALUES (%s, 'minio', 'webhook',"
        " 's3:ObjectCreated:Put', 'created', %s, %s, %s, '{}', 'done') RETURNING id",
        (f"k{next(_keys)}", bucket, key, at),
    ).fetchone()
    columns = {
        TIME_COLUMN[phase]: at,
        "estado": extra.pop("estado", "ok"),
        "num_registros": records,
        "details": Jsonb(extra.pop("details", {})),
        "bucket": bucket,
        "object_key": key,
        "event_name": "s3:ObjectCreated:Put",
        "origin": "webhook",
        "intake_event_id": event_id,
        **extra,
    }
    uri = f"s3://{bucket}/{key}"
    if phase == "training":
        columns["ruta_modelo"] = uri
    elif phase == "evaluation":
        columns["ruta_resultados"] = uri
    else:
        columns |= {"ruta_minio": uri, "nombre_archivo": key.rsplit("/", 1)[-1]}
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    (row_id,) = db.execute(
        f"INSERT INTO {phase}_events ({names}) VALUES ({marks}) RETURNING id",
        list(columns.values()),
    ).fetchone()
    return row_id


def open_anomalies(db) -> dict[tuple[str, int], tuple[str, str]]:
    rows = db.execute(
        "SELECT phase, row_id, rule, reason FROM anomalies"
        " WHERE resolved_at IS NULL AND severity <> 'info'"
    ).fetchall()
    return {(p, r): (rule, reason) for p, r, rule, reason in rows}


def links_into(db, phase: str, row_id: int) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT from_table, from_id, method, confidence, reference FROM lineage_links"
        " WHERE to_table = %s AND to_id = %s ORDER BY from_id",
        (f"{phase}_events", row_id),
    ).fetchall()


def test_run_ids_group_rows_and_link_them(db):
    raw = [write(db, "ingestion", f"r1/part-{n}.csv", T0, 100, run_id="r1") for n in range(2)]
    silver = write(db, "transformation", "r1/clean.csv", T0 + timedelta(hours=3), 150, run_id="r1")
    model = write(db, "training", "r1/model.onnx", T0 + timedelta(hours=4), run_id="r1")
    analysis.analyze(db, SETTINGS, T0 - timedelta(days=1), NOW)

    runs = db.execute("SELECT run_key, grouped_by, phases, status FROM pipeline_runs").fetchall()
    assert runs == [
        ("run_id:r1", "run_id", ["ingestion", "transformation", "training"], "complete")
    ]
    assert links_into(db, "transformation", silver) == [
        ("ingestion_events", raw[0], "run_id", 0.9, None),
        ("ingestion_events", raw[1], "run_id", 0.9, None),
    ]
    assert links_into(db, "training", model) == [
        ("transformation_events", silver, "run_id", 0.9, None)
    ]
    # 150 records out of 2 x 100 inputs: fine.
    assert open_anomalies(db) == {}


def test_output_larger_than_its_inputs_and_empty_outputs(db):
    raw = write(db, "ingestion", "r2/in.csv", T0, 100, run_id="r2")
    silver = write(db, "transformation", "r2/out.csv", T0 + timedelta(minutes=5), 130, run_id="r2")
    header = write(
        db,
        "ingestion",
        "batch-3/in.csv",
        T0 + timedelta(days=1),
        0,
        details={"columns": ["a", "b"]},
    )
    empty = write(db, "transformation", "batch-3/out.parquet", T0 + timedelta(days=1, minutes=5), 0)
    analysis.analyze(db, SETTINGS, T0 - timedelta(days=1), NOW)
    found = open_anomalies(db)
    assert found == {
        ("transformation", silver): (
            "output_exceeds_inputs",
            "silver/out: 130 records out of 100 in its 1 input(s) "
            "(raw/in; lineage run_id, confidence 0.9)",
        ),
        ("ingestion", header): (
            "empty_output",
            "raw/in: header-only output (2 columns, 0 records)",
        ),
        ("transformation", empty): ("empty_output", "silver/out: empty output (0 records)"),
    }
    assert ("ingestion", raw) not in found


def test_a_declared_dataset_resolves_by_uri_or_bare_key_and_an_unknown_one_is_kept(db):
    silver = write(db, "transformation", "flows/2026-11-01/part-0.parquet", T0, 10)
    by_uri = write(
        db,
        "training",
        "a/model.pkl",
        T0 + timedelta(hours=1),
        details={"dataset": "s3://silver/flows/2026-11-01/part-0.parquet"},
    )
    by_key = write(
        db,
        "training",
        "b/model.pkl",
        T0 + timedelta(hours=1),
        details={"parametros": {"dataset": "flows/2026-11-01/part-0.parquet"}},
    )
    unknown = write(
        db, "training", "c/model.pkl", T0 + timedelta(hours=1), details={"dataset": "s3://x/y.csv"}
    )
    analysis.analyze(db, SETTINGS, T0 - timedelta(days=1), NOW)
    assert links_into(db, "training", by_uri)[0][:4] == (
        "transformation_events",
        silver,
        "declared",
        1.0,
    )
    assert links_into(db, "training", by_key)[0][:4] == links_into(db, "training", by_uri)[0][:4]
    assert links_into(db, "training", unknown) == [(None, None, "declared", 1.0, "s3://x/y.csv")]


def test_a_late_row_between_two_sessions_merges_them(db):
    first = write(db, "ingestion", "a.csv", T0, 5)
    write(db, "training", "m.pkl", T0 + timedelta(minutes=100))
    analysis.analyze(db, SETTINGS, T0 - timedelta(days=1), NOW)
    assert db.execute("SELECT count(*) FROM pipeline_runs").fetchone() == (2,)
    # A row written between them arrives afterwards and is analysed alone, as a worker would.
    (event,) = db.execute(
        "SELECT intake_event_id FROM transformation_events WHERE id = %s",
        (write(db, "transformation", "b.csv", T0 + timedelta(minutes=50), 5),),
    ).fetchone()
    analysis.engine.analyze_written(db, SETTINGS, "transformation", event, NOW)
    runs = db.execute("SELECT run_key, phases, started_at FROM pipeline_runs").fetchall()
    assert runs == [(f"session:ingestion:{first}", ["ingestion", "transformation", "training"], T0)]
    members = db.execute("SELECT count(DISTINCT pipeline_run_id) FROM run_members").fetchone()
    assert members == (1,)


def test_rows_no_worker_analysed_are_caught_up_by_refresh(db):
    for day in range(7):
        write(
            db,
            "ingestion",
            f"flows/2026-11-0{day + 1}/flows.csv",
            T0 + timedelta(days=day),
            1000 + day,
        )
    short = write(db, "ingestion", "flows/2026-11-08/flows.csv", T0 + timedelta(days=7), 500)
    assert analysis.refresh(db, SETTINGS, T0 + timedelta(days=7, hours=1)).late == 0
    (rule, reason) = open_anomalies(db)[("ingestion", short)]
    assert rule == "row_count"
    assert reason.startswith("raw/flows: 500 records, 50 % below the median 1,003 of the last 14")
    # The clock moves on with no new file: the dataset is late, then on time again.
    assert analysis.refresh(db, SETTINGS, T0 + timedelta(days=9, hours=1)).late == 1
    write(db, "ingestion", "flows/2026-11-10/flows.csv", T0 + timedelta(days=9, hours=2), 1001)
    assert analysis.refresh(db, SETTINGS, T0 + timedelta(days=9, hours=3)).late == 0
    resolved = db.execute(
        "SELECT count(*) FROM anomalies WHERE rule = 'freshness' AND resolved_at IS NOT NULL"
    ).fetchone()
    assert resolved == (1,)


def test_a_failed_row_fails_its_run(db):
    write(db, "ingestion", "x.csv", T0, 5)
    write(
        db,
        "transformation",
        "x.parquet",
        T0 + timedelta(minutes=1),
        estado="error",
        reason="not a Parquet file",
    )
    analysis.analyze(db, SETTINGS, T0 - timedelta(days=1), NOW)
    assert db.execute("SELECT status, reason FROM pipeline_runs").fetchall() == [
        ("failed", "1 failed row(s)")
    ]
    problems = db.execute("SELECT kind, reason FROM problems ORDER BY kind").fetchall()
    assert problems == [
        ("error", "not a Parquet file"),
        ("run", "run 1 failed: 1 failed row(s) (ingestion, transformation)"),
    ]


def test_a_phase_whose_datasets_change_name_every_run_is_judged_as_a_phase(db):
    for day, name in enumerate(["alpha", "bravo", "charlie", "delta", "echo"]):
        write(db, "training", f"{name}/model.onnx", T0 + timedelta(days=day))
    assert analysis.refresh(db, SETTINGS, T0 + timedelta(days=5)).late == 0
    assert analysis.refresh(db, SETTINGS, T0 + timedelta(days=6)).late == 1
    ((dataset, reason),) = db.execute(
        "SELECT dataset, reason FROM anomalies WHERE resolved_at IS NULL"
    ).fetchall()
    assert dataset is None
    assert reason.startswith("training is 24 h late: nothing since 2026-11-05 02:00 UTC (48 h ago)")


def test_a_read_only_connection_still_gets_the_stored_answers(db, database_url):
    write(db, "ingestion", "x.csv", T0, 5)
    write(
        db, "transformation", "x.parquet", T0 + timedelta(minutes=1), estado="error", reason="bad"
    )
    analysis.analyze(db, SETTINGS, T0 - timedelta(days=1), NOW)
    read_only = make_conninfo(database_url, options="-c default_transaction_read_only=on")
    result = CliRunner(mix_stderr=False).invoke(
        main,
        ["report", "problems", "--since", "2026-10-01", "--json", "--check"],
        env={"NOTIFIER_DATABASE_URL": read_only},
    )
    assert result.exit_code == EXIT_PROBLEMS
    assert "cannot refresh lateness" in result.stderr
    assert [p["kind"] for p in json.loads(result.stdout)] == ["run", "error"]


def test_the_report_says_when_rows_are_left_unanalysed(db, database_url, monkeypatch):
    monkeypatch.setattr(analysis.engine, "MAX_CATCH_UP", 2)
    for n in range(5):
        write(db, "ingestion", f"x{n}.csv", T0 + timedelta(hours=n), 5)
    runner = CliRunner(mix_stderr=False)
    env = {"NOTIFIER_DATABASE_URL": database_url}
    first = runner.invoke(main, ["report", "last-run"], env=env)
    assert first.exit_code == 0, first.output
    assert "warning: 3 audit rows are not analysed yet" in first.stderr
    assert runner.invoke(main, ["analyze"], env=env).output.startswith("analysed 5 rows")
    assert runner.invoke(main, ["report", "last-run"], env=env).stderr == ""
