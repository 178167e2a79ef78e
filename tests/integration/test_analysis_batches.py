"""Analysing a history in batches gives what analysing it row by row gives.

One history exercises every path a batch answers from memory: run ids, sessions that
a late row merges or that a row starts (rekeyed), declared inputs by URI, bare key and
name, inferred inputs, empty outputs, outputs larger than their inputs (explained by a
flagged input or not), schema drift, failed rows, metric regressions by model and by
dataset. It is analysed with batches of 1 row (each row's batch loads the database as
the row-by-row code queried it), 3 rows (rows of one run split across batches) and all
rows, by ``analyze`` and by the workers' hook (one row, then four at a time); every
way must store the same runs, links and anomalies, and those are the ones the
row-by-row code (main before batching, 3ad9c05) stored for this history:
``analysis_batches_expected.json`` next to this file (made by
``tests/integration/make_analysis_batches_expected.py``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from notifier import analysis
from notifier.analysis import engine
from tests.integration.test_analysis_rules import NOW, SETTINGS, T0, write

EXPECTED = Path(__file__).with_name("analysis_batches_expected.json")


def build_history(db: Any) -> list[tuple[str, int]]:
    """The history's rows, in the order written: (phase, intake event id) each."""
    written: list[tuple[str, int]] = []

    def put(phase: str, key: str, at: Any, records: int | None = None, **extra: Any) -> None:
        row_id = write(db, phase, key, at, records, **extra)
        (event,) = db.execute(
            f"SELECT intake_event_id FROM {phase}_events WHERE id = %s", (row_id,)
        ).fetchone()
        written.append((phase, event))

    columns = {"columns": ["flow_id", "bytes"], "column_types": {"flow_id": "int"}}
    for day in range(9):
        start = T0 + timedelta(days=day)
        stamp = start.strftime("%Y-%m-%d")
        raw = 400 if day == 6 else 1000 + day
        put("ingestion", f"flows/{stamp}/flows.csv", start, raw, details=columns)
        put("ingestion", f"dims/{stamp}/dims.csv", start + timedelta(minutes=1), 50 + day)
        silver = {"columns": ["flow_id", "bytes", *(["country"] if day >= 7 else [])]}
        records = 0 if day == 3 else (2000 if day == 5 else raw - 10)
        put("transformation", f"flows/{stamp}/part-0.parquet", start + timedelta(minutes=5),
            records, details=silver)  # fmt: skip
        if day == 4:
            put("transformation", f"flows/{stamp}/part-1.parquet", start + timedelta(minutes=6),
                estado="error", reason="crashed")  # fmt: skip
        model: dict[str, Any] = {}
        if day % 3 == 0:
            model = {"details": {"dataset": f"s3://silver/flows/{stamp}/part-0.parquet"}}
        elif day % 3 == 1:
            model = {"details": {"dataset": f"flows/{stamp}/part-0.parquet"}}
        elif day == 8:
            model = {"details": {"dataset": "nowhere/unknown.csv"}}
        else:
            model = {"details": {"sources": ["flows"]}, "modelo_nombre": "rf"}
        put("training", f"rf/{stamp}/model.joblib", start + timedelta(minutes=10), **model)
        accuracy = 0.5 if day == 6 else 0.9 + day / 1000
        metrics = {"metrics": {"accuracy": accuracy, "loss": 0.3}}
        put("evaluation", f"rf/{stamp}/metrics.json", start + timedelta(minutes=15),
            details=metrics, modelo_nombre="rf")  # fmt: skip
        put("evaluation", f"adhoc/{stamp}/metrics.json", start + timedelta(minutes=16),
            details={"metrics": {"rmse": 1.0 if day != 7 else 3.0}})  # fmt: skip
    for run in ("r1", "r2"):
        at = T0 + timedelta(days=9, hours=1 if run == "r1" else 3)
        put("ingestion", f"{run}/in.csv", at, 100, run_id=run)
        put("transformation", f"{run}/out.csv", at + timedelta(minutes=3), 150, run_id=run)
        put("training", f"{run}/model.onnx", at + timedelta(minutes=4), run_id=run)
    # Two sessions, then a late row between them: it merges them.
    late = T0 + timedelta(days=10)
    put("ingestion", "s/a.csv", late, 10)
    put("ingestion", "s/c.csv", late + timedelta(minutes=100), 10)
    put("ingestion", "s/b.csv", late + timedelta(minutes=50), 10)
    # A session, then a row before it: the row starts it (the run is rekeyed).
    put("ingestion", "t/b.csv", late + timedelta(hours=5), 10)
    put("ingestion", "t/a.csv", late + timedelta(hours=4, minutes=30), 10)
    return written


def stored(db: Any) -> dict[str, Any]:
    """Runs, links and anomalies, rows named by (phase, key): no id that depends on the
    code path."""
    name = (
        "(SELECT r.phase || ':' || r.object_key FROM phase_rows AS r"
        " WHERE r.phase_table = {table} AND r.row_id = {id})"
    )
    runs = db.execute(
        "SELECT CASE WHEN p.run_key LIKE 'session:%%' THEN 'session:' || "
        + name.format(
            table="split_part(p.run_key, ':', 2) || '_events'",
            id="split_part(p.run_key, ':', 3)::bigint",
        )
        + " ELSE p.run_key END, p.grouped_by, p.started_at::text, p.ended_at::text, p.phases,"
        " p.status, p.reason,"
        " array_agg(m.phase || ':' || r.object_key || ':' || m.dataset || ':' || m.key_pattern"
        "           ORDER BY m.phase, r.object_key)"
        " FROM pipeline_runs AS p"
        " JOIN run_members AS m ON m.pipeline_run_id = p.id"
        " JOIN phase_rows AS r ON r.phase = m.phase AND r.row_id = m.row_id"
        " GROUP BY p.id ORDER BY 1"
    ).fetchall()
    links = db.execute(
        "SELECT "
        + name.format(table="l.to_table", id="l.to_id")
        + ", "
        + name.format(table="l.from_table", id="l.from_id")
        + ", l.method, l.confidence, l.reference, l.reason FROM lineage_links AS l ORDER BY 1, 2"
    ).fetchall()
    anomalies = db.execute(
        "SELECT a.rule, a.phase, "
        + name.format(table="a.phase || '_events'", id="a.row_id")
        + ", a.dataset, a.severity, a.reason, a.score, a.details::text,"
        " a.resolved_at IS NULL, p.started_at::text"
        " FROM anomalies AS a LEFT JOIN pipeline_runs AS p ON p.id = a.pipeline_run_id"
        " ORDER BY 1, 2, 3, 4"
    ).fetchall()
    return json.loads(
        json.dumps(
            {"runs": runs, "links": links, "anomalies": anomalies},
            default=str,
        )
    )


@pytest.mark.parametrize("batch_rows", [1, 3, 10_000])
def test_analyze_in_batches_stores_what_row_by_row_analysis_stored(db, monkeypatch, batch_rows):
    build_history(db)
    monkeypatch.setattr(engine, "BATCH_ROWS", batch_rows)
    analysis.analyze(db, SETTINGS, T0 - timedelta(days=1), NOW)
    expected = json.loads(EXPECTED.read_text())
    assert stored(db) == expected["analyze"]
    analysis.analyze(db, SETTINGS, T0 - timedelta(days=1), NOW)  # again: nothing changes
    assert stored(db) == expected["analyze"]


@pytest.mark.parametrize("rows_per_hook", [1, 4])
def test_the_hook_in_batches_stores_what_it_stored_row_by_row(db, rows_per_hook):
    written = build_history(db)
    for start in range(0, len(written), rows_per_hook):
        engine.analyze_written_many(db, SETTINGS, written[start : start + rows_per_hook], NOW)
    expected = json.loads(EXPECTED.read_text())
    assert stored(db) == expected["hook"]
