"""Benchmark: counting a large CSV through notifier's inspector vs. a raw sequential read.

Writes a CSV of --size-mb (streamed to a temporary file, never held in memory) whose
quoted fields hold commas, doubled quotes and newlines, then times, each in a fresh
subprocess so that peak RSS is that run's alone:

* baseline: a Python loop reading 1 MiB blocks and counting b"\\n" (``wc -l``-like);
* inspector: ``inspect_object`` over a FileSource (the code path production uses);
* pyarrow, every column inferred: the CSV reader's default, for reference;
* pyarrow, first column only: what the inspector asks pyarrow for.

Usage: .venv/bin/python bench/bench_count_csv.py [--size-mb 1024] [--dir /tmp]
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import harness

ROWS_PER_CHUNK = 20_000
MIB = 1024 * 1024


def generate(path: Path, size_bytes: int) -> int:
    """Write rows until the file reaches ``size_bytes``; return the data rows written."""
    rows = 0
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        written += out.write("id,name,comment,amount,flag,created_at\n")
        while written < size_bytes:
            chunk = "".join(_row(rows + n) for n in range(ROWS_PER_CHUNK))
            written += out.write(chunk)
            rows += ROWS_PER_CHUNK
    return rows


def _row(i: int) -> str:
    if i % 5 == 0:
        comment = f'"note {i}, with a comma\nand a ""quoted"" second line"'
    elif i % 5 == 1:
        comment = f'"a, b, c, {i}"'
    else:
        comment = f"plain comment {i}"
    flag = "true" if i % 2 else "false"
    amount = (i * 37) % 100_000 / 100
    return f"{i},customer_{i % 9973},{comment},{amount:.2f},{flag},2024-05-{i % 28 + 1:02d}\n"


def child(mode: str, path: Path) -> dict[str, Any]:
    """One measurement, run in its own process; imports happen before the clock starts.

    ``inspector-warm`` inspects the file twice and times the second pass: a worker
    process inspects object after object, and the first large read of a process pays
    for growing its heap (page faults) once.
    """
    if mode != "baseline":
        import pyarrow.csv  # noqa: F401

        import notifier.inspection  # noqa: F401
    rss_before = harness.peak_rss_mib()
    if mode == "inspector-warm":
        _inspector(path)
    started = time.perf_counter()
    if mode == "baseline":
        result = _raw_read(path)
    elif mode.startswith("inspector"):
        result = _inspector(path)
    else:
        result = _pyarrow(path, first_column_only=mode == "pyarrow-one-column")
    result["seconds"] = time.perf_counter() - started
    result["rss_after_imports_mib"] = rss_before
    result["peak_rss_mib"] = harness.peak_rss_mib()
    return result


def _raw_read(path: Path) -> dict[str, Any]:
    newlines = 0
    total = 0
    with path.open("rb", buffering=0) as handle:
        while block := handle.read(MIB):
            newlines += block.count(b"\n")
            total += len(block)
    return {"bytes_read": total, "newlines": newlines}


def _inspector(path: Path) -> dict[str, Any]:
    from notifier.inspection import FileSource, InspectionLimits, Phase, inspect_object

    source = FileSource(path)
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
    return {
        "bytes_read": source.bytes_read,
        "rows": verdict.num_registros,
        "estado": verdict.estado,
        "reason": verdict.reason,
    }


def _pyarrow(path: Path, *, first_column_only: bool) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    convert = (
        pa_csv.ConvertOptions(include_columns=["id"], column_types={"id": pa.binary()})
        if first_column_only
        else pa_csv.ConvertOptions()
    )
    reader = pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(use_threads=False),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=convert,
    )
    rows = sum(batch.num_rows for batch in reader)
    return {"bytes_read": path.stat().st_size, "rows": rows}


def main() -> None:
    harness.run(
        __file__,
        __doc__ or "",
        default_size_mb=1024,
        file_name="bench.csv",
        generate=generate,
        child=child,
        modes=(
            "baseline",
            "inspector-cold",
            "inspector-warm",
            "pyarrow-all-columns",
            "pyarrow-one-column",
        ),
        report=_report,
    )


def _report(results: dict[str, dict[str, Any]], size: int, rows: int) -> None:
    baseline = results["baseline"]["seconds"]
    print(
        f"\n{'run':<22}{'seconds':>9}{'MiB/s':>9}{'x baseline':>12}"
        f"{'peak RSS MiB':>14}{'(imports)':>11}{'bytes read':>15}  rows"
    )
    for mode, result in results.items():
        seconds = result["seconds"]
        counted = result.get("rows", "-")
        print(
            f"{mode:<22}{seconds:>9.2f}{size / MIB / seconds:>9.0f}{seconds / baseline:>12.1f}"
            f"{result['peak_rss_mib']:>14.0f}{result['rss_after_imports_mib']:>11.0f}"
            f"{result['bytes_read']:>15,}  {counted}"
        )
    for mode in ("inspector-cold", "inspector-warm"):
        inspected = results[mode]
        print(
            f"\n{mode}: estado={inspected['estado']} reason={inspected['reason']}"
            f" rows={inspected['rows']:,} expected={rows:,}"
            f" -> {'MATCH' if inspected['rows'] == rows else 'MISMATCH'}",
            end="",
        )
    print()
    one, every = results["pyarrow-one-column"]["seconds"], results["pyarrow-all-columns"]["seconds"]
    print(f"converting one column instead of all: {every / one:.1f}x faster")
    newlines = results["baseline"]["newlines"]
    print(f"(physical lines, as the baseline counts newlines: {newlines:,})")


if __name__ == "__main__":
    main()
