"""Benchmark: counting a large Parquet file from its footer vs. reading the whole table.

Writes a Parquet file of about --size-mb (row group by row group, never whole in
memory, incompressible data so the file really is that large), then times, each in a
fresh subprocess so that peak RSS is that run's alone:

* baseline: ``pyarrow.parquet.read_table`` of the whole file, then ``num_rows``;
* inspector: ``inspect_object`` over a FileSource, which reads the footer by range.

Usage: .venv/bin/python bench/bench_parquet_footer.py [--size-mb 200] [--dir /tmp]
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import harness

MIB = 1024 * 1024
ROWS_PER_GROUP = 50_000
PAYLOAD_BYTES = 200
"""Random bytes per row: incompressible, so the file size follows the row count."""


def generate(path: Path, size_bytes: int) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [("id", pa.int64()), ("score", pa.float64()), ("label", pa.string()), ("blob", pa.binary())]
    )
    rows = 0
    with pq.ParquetWriter(path, schema, compression="snappy") as writer:
        while path.stat().st_size < size_bytes:
            ids = range(rows, rows + ROWS_PER_GROUP)
            group = pa.table(
                {
                    "id": pa.array(ids, pa.int64()),
                    "score": pa.array([i * 0.5 for i in ids]),
                    "label": pa.array([f"label-{i % 100}" for i in ids]),
                    "blob": pa.array([os.urandom(PAYLOAD_BYTES) for _ in ids], pa.binary()),
                },
                schema=schema,
            )
            writer.write_table(group)
            rows += ROWS_PER_GROUP
    return rows


def child(mode: str, path: Path) -> dict[str, Any]:
    """One measurement, run in its own process; imports happen before the clock starts."""
    import pyarrow.parquet as pq

    from notifier.inspection import FileSource, InspectionLimits, Phase, inspect_object

    rss_before = harness.peak_rss_mib()
    started = time.perf_counter()
    if mode == "baseline":
        rows = pq.read_table(path).num_rows
        result: dict[str, Any] = {"rows": rows, "bytes_read": path.stat().st_size}
    else:
        source = FileSource(path)
        verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
        result = {
            "rows": verdict.num_registros,
            "bytes_read": source.bytes_read,
            "estado": verdict.estado,
            "details": dict(verdict.details),
        }
    result["seconds"] = time.perf_counter() - started
    result["rss_after_imports_mib"] = rss_before
    result["peak_rss_mib"] = harness.peak_rss_mib()
    return result


def main() -> None:
    harness.run(
        __file__,
        __doc__ or "",
        default_size_mb=200,
        file_name="bench.parquet",
        generate=generate,
        child=child,
        modes=("baseline", "inspector"),
        report=_report,
    )


def _report(results: dict[str, dict[str, Any]], size: int, rows: int) -> None:
    baseline = results["baseline"]["seconds"]
    print(
        f"\n{'run':<12}{'seconds':>10}{'x baseline':>12}{'peak RSS MiB':>14}{'(imports)':>11}"
        f"{'bytes read':>15}{'of file':>10}  rows"
    )
    for mode, result in results.items():
        print(
            f"{mode:<12}{result['seconds']:>10.4f}{result['seconds'] / baseline:>12.4f}"
            f"{result['peak_rss_mib']:>14.0f}{result['rss_after_imports_mib']:>11.0f}"
            f"{result['bytes_read']:>15,}{result['bytes_read'] / size:>10.2e}  {result['rows']:,}"
        )
    inspected = results["inspector"]
    print(
        f"\ninspector: estado={inspected['estado']} rows={inspected['rows']:,}"
        f" expected={rows:,} -> {'MATCH' if inspected['rows'] == rows else 'MISMATCH'}"
        f"; details={inspected['details']}"
    )
    print(
        f"inspector read {inspected['bytes_read']:,} of {size:,} bytes"
        f" ({size / inspected['bytes_read']:,.0f}x less) and was"
        f" {baseline / inspected['seconds']:,.0f}x faster than read_table"
    )


if __name__ == "__main__":
    main()
