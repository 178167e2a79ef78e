"""Cost of analysing audit rows, against writing them, for the baseline and this code in
the same run.

One durable PostgreSQL (fsync on); each checkout gets a database of its own and builds
the same synthetic history in it (D datasets, each with one raw object, one silver
object, one model and one evaluation per day, for N days), measuring:
  1. baseline: writing one row (intake event + phase row, one transaction, as a worker
     does);
  2. the per-row hook: analysing each row right after it is written (what workers do
     for a small batch); for code with a batch hook (``analyze_written_many``) also, in
     a database of its own, rows written 4 at a time and analysed as one batch (cost
     per row);
  3. `notifier analyze`: recomputing the whole history in one pass (rows/s, statements
     per row counted in the client).
The checkouts are the analysis baseline (``--baseline-ref``, default 3ad9c05: main
before analysis was batched; the speed issue's f90e62c has no analysis) then this one,
or those given by ``--code``. Every database's runs, links and anomalies are compared
after the hooks and after `analyze`: "same results" means identical.

    .venv/bin/python bench/bench_analysis.py [--days 30] [--datasets 20] [--code DIR ...]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import stack
from psycopg.conninfo import make_conninfo

ANALYSIS_BASELINE_REF = "3ad9c05"
"""main when batching analysis started (per-row analysis, ~20 ms a row)."""

MODES = {"row": "rows written 1 at a time", "batch": "rows written 4 at a time"}
"""How rows are written and analysed: one row then its hook; or 4 rows (a small worker
batch, analysed inline) then the hook of the 4 (``analyze_written_many`` when the code
has it, else ``analyze_written`` row by row, as workers did)."""

T0 = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
SCRIPT = str(Path(__file__).resolve())
_keys = itertools.count()


def write(conn: psycopg.Connection[Any], phase: str, key: str, at: datetime, n: int | None) -> int:
    from psycopg.types.json import Jsonb

    with conn.transaction():
        (event,) = conn.execute(
            "INSERT INTO intake_events (dedup_key, sender, origin, event_name, event_kind,"
            " bucket, object_key, event_time, payload, status) VALUES (%s, 'minio', 'webhook',"
            " 's3:ObjectCreated:Put', 'created', %s, %s, %s, '{}', 'done') RETURNING id",
            (f"k{next(_keys)}", phase, key, at),
        ).fetchone()  # type: ignore[misc]
        time_column, uri_column = {
            "ingestion": ("timestamp_ingesta", "ruta_minio"),
            "transformation": ("timestamp_transformacion", "ruta_minio"),
            "training": ("timestamp_entrenamiento", "ruta_modelo"),
            "evaluation": ("timestamp_eval", "ruta_resultados"),
        }[phase]
        extra = ", nombre_archivo" if uri_column == "ruta_minio" else ""
        details: dict[str, Any] = {"columns": ["a", "b"]} if n is not None else {}
        if phase == "evaluation":
            details = {"metrics": {"accuracy": 0.9}}
        conn.execute(
            f"INSERT INTO {phase}_events ({time_column}, {uri_column}, num_registros, estado,"
            f" details, bucket, object_key, event_name, origin, intake_event_id{extra})"
            f" VALUES (%s, %s, %s, 'ok', %s, %s, %s, 's3:ObjectCreated:Put', 'webhook', %s"
            f"{', %s' if extra else ''})",
            [at, f"s3://{phase}/{key}", n, Jsonb(details), phase, key, event]
            + ([key.rsplit("/", 1)[-1]] if extra else []),
        )
    return int(event)


def history(days: int, datasets: int) -> list[tuple[str, str, datetime, int | None]]:
    rows = []
    for day in range(days):
        for d in range(datasets):
            start = T0 + timedelta(days=day, minutes=d)
            stamp = start.strftime("%Y-%m-%d")
            n = 1000 + (day * 7 + d) % 23
            if d == 3 and day == days - 5:
                n = 400  # one row-count anomaly
            rows += [
                ("ingestion", f"ds{d:03d}x/{stamp}/data.csv", start, n),
                (
                    "transformation",
                    f"ds{d:03d}x/{stamp}/part-0.parquet",
                    start + timedelta(minutes=5),
                    n - 9,
                ),
                ("training", f"m{d:03d}x/{stamp}/model.onnx", start + timedelta(minutes=10), None),
                (
                    "evaluation",
                    f"m{d:03d}x/{stamp}/metrics.json",
                    start + timedelta(minutes=15),
                    None,
                ),
            ]
    return sorted(rows, key=lambda r: r[2])


def results(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Runs, members, links and anomalies, without ids that depend on the code path."""
    runs = conn.execute(
        "SELECT p.run_key, p.grouped_by, p.started_at::text, p.ended_at::text, p.phases,"
        " p.status, p.reason, array_agg(m.phase || ':' || m.row_id || ':' || m.dataset"
        " ORDER BY m.phase, m.row_id) FROM pipeline_runs AS p"
        " LEFT JOIN run_members AS m ON m.pipeline_run_id = p.id GROUP BY p.id ORDER BY 1"
    ).fetchall()
    links = conn.execute(
        "SELECT to_table, to_id, from_table, from_id, method, confidence, reference, reason"
        " FROM lineage_links ORDER BY 1, 2, 3, 4"
    ).fetchall()
    anomalies = conn.execute(
        "SELECT a.fingerprint, a.severity, a.reason, round(a.score::numeric, 6)::text,"
        " a.details::text, a.resolved_at IS NULL, p.run_key FROM anomalies AS a"
        " LEFT JOIN pipeline_runs AS p ON p.id = a.pipeline_run_id ORDER BY 1"
    ).fetchall()
    text = json.dumps([runs, links, anomalies], default=str)
    return {
        "runs": len(runs),
        "links": len(links),
        "anomalies": sum(1 for a in anomalies if a[5]),
        "hash": hashlib.sha256(text.encode()).hexdigest()[:12],
    }


def child(url: str, days: int, datasets: int, mode: str) -> dict[str, Any]:
    from notifier.analysis import engine
    from notifier.config import AnalysisSettings

    settings = AnalysisSettings()
    rows = history(days, datasets)
    now = T0 + timedelta(days=days)
    batch = 4 if mode == "batch" else 1
    with psycopg.connect(url, autocommit=True) as conn:
        write_times, hook_times = [], []
        for start in range(0, len(rows), batch):
            written = []
            for phase, key, at, n in rows[start : start + batch]:
                started = time.perf_counter()
                written.append((phase, write(conn, phase, key, at, n)))
                write_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            if batch > 1 and hasattr(engine, "analyze_written_many"):
                engine.analyze_written_many(conn, settings, written, now)
            else:  # as workers did: each row of the batch after the batch's commit
                for phase, event in written:
                    engine.analyze_written(conn, settings, phase, event, now)
            hook_times.append((time.perf_counter() - started) / len(written))
        after_hooks = results(conn)
        stack.count_round_trips()  # counts statements sent (pipelined ones too)
        statements = stack.COUNTS["round_trips"]
        started = time.perf_counter()
        summary = engine.analyze(conn, settings, T0 - timedelta(days=1), now)
        recompute = time.perf_counter() - started
        statements = stack.COUNTS["round_trips"] - statements
        after_analyze = results(conn)
    tenth = max(len(hook_times) // 10, 1)
    return {
        "rows": len(rows),
        "write_ms": statistics.median(write_times) * 1000,
        "hook_ms": statistics.median(hook_times) * 1000,
        "hook_first_ms": statistics.median(hook_times[:tenth]) * 1000,
        "hook_last_ms": statistics.median(hook_times[-tenth:]) * 1000,
        "analyze_s": recompute,
        "analyze_statements": statements,
        "anomalies": summary.anomalies,
        "runs": summary.runs,
        "analysed": summary.rows,
        "after_hooks": after_hooks,
        "after_analyze": after_analyze,
    }


@contextmanager
def baseline_checkout(ref: str) -> Iterator[str]:
    import harness

    with tempfile.TemporaryDirectory(prefix="bench-analysis-baseline-") as tmp:
        commit = harness.export_ref(ref, Path(tmp))
        code = Path(tmp) / f"baseline-{commit}"
        code.mkdir()
        (Path(tmp) / "notifier").rename(code / "notifier")
        yield str(code)


def measure(servers: stack.Servers, code: str, db: str, args: Any, mode: str) -> dict[str, Any]:
    from notifier.db import upgrade  # this checkout's (the parent's), with its migrations

    with psycopg.connect(servers.postgres.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {db}")  # a fixed identifier of this script
    url = make_conninfo(servers.postgres.url, dbname=db)
    with psycopg.connect(url, autocommit=True) as conn:
        upgrade(conn)  # this checkout's migrations (the baseline's are the same)
    process = stack.run_child(
        Path(code), SCRIPT, [url, str(args.days), str(args.datasets), mode], servers.env("")
    )
    return stack.child_result(process)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        url, days, datasets, mode = sys.argv[2:6]
        result = child(url, int(days), int(datasets), mode)
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--baseline-ref", default=ANALYSIS_BASELINE_REF)
    parser.add_argument("--code", action="append", help="checkout to measure (repeatable)")
    args = parser.parse_args()
    with (
        baseline_checkout(args.baseline_ref) as baseline,
        tempfile.TemporaryDirectory(prefix="bench-analysis-") as tmp,
        stack.servers(Path(tmp), s3=False) as servers,
    ):
        codes = args.code or [baseline, str(stack.ROOT)]
        print(
            f"{args.days * args.datasets * 4:,} rows ({args.days} days x {args.datasets} datasets"
            f" x 4 phases); {stack.machine()}"
        )
        measured = []
        for n, code in enumerate(codes):
            label = f"baseline {args.baseline_ref}" if code == baseline else code
            for mode in ("row", "batch"):
                result = measure(servers, code, f"bench_{n}_{mode}", args, mode)
                measured.append((f"{label}, {MODES[mode]}", mode, result))
    base = {mode: r for _, mode, r in measured[:2]}
    print(f"  write one row (median): {base['row']['write_ms']:.2f} ms (the first checkout)")
    print(
        f"{'':50} {'hook ms/row':>11} {'x base':>6} {'x write':>7} {'first/last 10th':>15}"
        f" {'analyze rows/s':>14} {'x base':>6} {'stmts/row':>9}  same as base"
    )
    for label, mode, r in measured:
        rate = r["rows"] / r["analyze_s"]
        base_rate = base[mode]["rows"] / base[mode]["analyze_s"]
        same = (
            r["after_hooks"]["hash"] == base[mode]["after_hooks"]["hash"]
            and r["after_analyze"]["hash"] == base[mode]["after_analyze"]["hash"]
        )
        hook, tenths = r["hook_ms"], f"{r['hook_first_ms']:.2f}/{r['hook_last_ms']:.2f}"
        result = r["after_analyze"]
        print(
            f"{label[-50:]:50} {hook:11.2f} {hook / base[mode]['hook_ms']:6.2f}"
            f" {hook / r['write_ms']:7.2f} {tenths:>15} {rate:14,.0f} {rate / base_rate:6.1f}"
            f" {r['analyze_statements'] / r['rows']:9.2f}  {'yes' if same else 'NO'}"
            f" ({result['runs']} runs, {result['links']} links,"
            f" {result['anomalies']} open anomalies)"
        )


if __name__ == "__main__":
    main()
