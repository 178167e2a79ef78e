"""Cost of analysing each audit row, against writing it, in the same run.

Builds a synthetic history in a private PostgreSQL (D datasets, each with one raw
object, one silver object, one model and one evaluation per day, for N days) and
measures:
  1. baseline: writing the rows (intake event + phase row, one transaction per row,
     as a worker does);
  2. the per-row hook: analysing each row right after it is written (what workers do);
  3. `notifier analyze`: recomputing the whole history in one pass.
The hook's cost is also shown for the first and the last tenth of the rows, so a
cost growing with history shows up.

    .venv/bin/python bench/bench_analysis.py [--days 30] [--datasets 20]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier.analysis.engine import analyze, analyze_written
from notifier.config import AnalysisSettings
from notifier.db import upgrade
from notifier.devstack.servers import LocalPostgres, free_port

T0 = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
SETTINGS = AnalysisSettings()
_keys = itertools.count()


def write(conn: psycopg.Connection[Any], phase: str, key: str, at: datetime, n: int | None) -> int:
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
        details = {"columns": ["a", "b"]} if n is not None else {}
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--datasets", type=int, default=20)
    args = parser.parse_args()
    rows = history(args.days, args.datasets)
    now = T0 + timedelta(days=args.days)
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalPostgres(Path(tmp) / "pg", free_port(), ephemeral=True) as postgres,
        psycopg.connect(postgres.url, autocommit=True) as conn,
    ):
        upgrade(conn)
        write_times, hook_times = [], []
        for phase, key, at, n in rows:
            started = time.perf_counter()
            event = write(conn, phase, key, at, n)
            write_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            analyze_written(conn, SETTINGS, phase, event, now)
            hook_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        summary = analyze(conn, SETTINGS, T0 - timedelta(days=1), now)
        recompute = time.perf_counter() - started
    tenth = max(len(rows) // 10, 1)
    write_ms = statistics.median(write_times) * 1000
    hook_ms = statistics.median(hook_times) * 1000
    first = statistics.median(hook_times[:tenth]) * 1000
    last = statistics.median(hook_times[-tenth:]) * 1000
    print(f"{len(rows):,} rows ({args.days} days x {args.datasets} datasets x 4 phases)")
    print(f"  baseline, write one row:      median {write_ms:6.2f} ms")
    ratio = hook_ms / write_ms
    print(f"  per-row analysis hook:        median {hook_ms:6.2f} ms  ({ratio:.1f}x a write)")
    print(f"    first tenth / last tenth:   {first:6.2f} ms / {last:.2f} ms")
    print(
        f"  analyze (recompute all):      {recompute:6.2f} s, {len(rows) / recompute:,.0f} rows/s"
        f"  ({summary.anomalies} anomalies, {summary.runs} runs)"
    )


if __name__ == "__main__":
    main()
