"""Server time per dashboard page on a 100,000-row audit, against /healthz of the same app.

Builds a private PostgreSQL (durable: fsync on), the schema, and N audit rows spread over
the four phase tables and 60 days (1 % error, 1 % skipped), then renders each page through
the Flask app (no network) and prints the median and p95 server time per page, and each
page's median as a multiple of the same app's /healthz in the same run.

    .venv/bin/python bench/bench_dashboard.py [--rows 100000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier.config import Settings
from notifier.db import create_pool, upgrade
from notifier.devstack.servers import LocalPostgres, free_port
from notifier.web import create_app

VIEWER = "bench-viewer-token-0123"

FILL = """
WITH events AS (
    INSERT INTO intake_events (dedup_key, sender, origin, event_name, event_kind, bucket,
                               object_key, event_time, etag, size_bytes, payload, status)
    SELECT 'bench-' || %(bucket)s || '-' || n, 'minio', 'webhook', 's3:ObjectCreated:Put',
           'created', %(bucket)s,
           'dataset-' || (n %% 50) || '/2026-11-' || lpad((n %% 28 + 1)::text, 2, '0')
               || '/part-' || n || '.csv',
           now() - make_interval(secs => (n::float8 / %(rows)s) * 60 * 86400),
           md5(n::text), 1000 + n %% 5000, '{}', 'done'
    FROM generate_series(1, %(rows)s) AS n
    RETURNING id, bucket, object_key, event_time, etag, size_bytes
)
INSERT INTO {table} ({time_column}, {name_columns}, num_registros, estado, reason, format,
                     bucket, object_key, etag, size_bytes, event_name, origin, intake_event_id)
SELECT event_time, {name_values}, 1000 + id %% 500,
       CASE WHEN id %% 100 = 0 THEN 'error' WHEN id %% 100 = 1 THEN 'skipped' ELSE 'ok' END,
       CASE WHEN id %% 100 IN (0, 1) THEN 'CSV parse error: row 3' END, 'csv',
       bucket, object_key, etag, size_bytes, 's3:ObjectCreated:Put', 'webhook', id
FROM events
"""

TABLES = {
    "raw": ("ingestion_events", "timestamp_ingesta", "nombre_archivo, ruta_minio"),
    "silver": ("transformation_events", "timestamp_transformacion", "nombre_archivo, ruta_minio"),
    "models": ("training_events", "timestamp_entrenamiento", "ruta_modelo"),
    "results": ("evaluation_events", "timestamp_eval", "ruta_resultados"),
}


def fill(url: str, rows: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        upgrade(conn)
        for bucket, (table, time_column, name_columns) in TABLES.items():
            uri = "'s3://' || bucket || '/' || object_key"
            name_values = (
                f"split_part(object_key, '/', 3), {uri}" if "nombre" in name_columns else uri
            )
            statement = (
                FILL.replace("{table}", table)
                .replace("{time_column}", time_column)
                .replace("{name_columns}", name_columns)
                .replace("{name_values}", name_values)
            )
            conn.execute(statement.encode(), {"rows": rows // 4, "bucket": bucket})
        conn.execute("ANALYZE")


def timed(client, path: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers={"Authorization": f"Bearer {VIEWER}"})
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return times


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--rows", type=int, default=100_000)
    args.add_argument("--repeat", type=int, default=30)
    options = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        server = LocalPostgres(data_dir=Path(tmp) / "pg", port=free_port())
        server.start()
        try:
            url = server.create_database("bench")
            started = time.perf_counter()
            fill(url, options.rows)
            print(f"{options.rows:,} audit rows in {time.perf_counter() - started:.1f} s")
            settings = Settings.from_env(
                {
                    "NOTIFIER_DATABASE_URL": url,
                    "NOTIFIER_S3_ENDPOINT": "http://127.0.0.1:9",
                    "NOTIFIER_S3_ACCESS_KEY": "unused",
                    "NOTIFIER_S3_SECRET_KEY": "unused",
                    "NOTIFIER_AUTH_TOKEN": "unused-webhook-token",
                    "NOTIFIER_DASHBOARD_TOKEN": VIEWER,
                }
            )
            pool = create_pool(url, 2, open_now=True)
            client = create_app(settings, pool).test_client()
            pages = {
                "/healthz (baseline)": "/healthz",
                "overview": "/dashboard/",
                "problems": "/dashboard/problems",
                "search (key substring)": "/dashboard/search?q=dataset-7/2026-11-03",
                "search (model name)": "/dashboard/search?q=rf_v3",
                "dead letters": "/dashboard/dead-letters",
            }
            for path in pages.values():
                timed(client, path, 3)  # warm caches and the pool
            results = {name: timed(client, path, options.repeat) for name, path in pages.items()}
            pool.close()
        finally:
            server.stop()
    baseline = statistics.median(results["/healthz (baseline)"])
    print(f"{'page':<24} {'median ms':>10} {'p95 ms':>8} {'x /healthz':>11}")
    for name, times in results.items():
        ordered = sorted(times)
        median = statistics.median(ordered)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(f"{name:<24} {median * 1000:>10.1f} {p95 * 1000:>8.1f} {median / baseline:>10.1f}x")


if __name__ == "__main__":
    main()
