"""Benchmark: counting JSON through notifier's inspector vs. the readers it replaced.

Writes the same records twice, as a JSON array (``json.dump`` of a list, one NaN per
100 records as Python writes it) and as JSON Lines, then times, each in a fresh
subprocess so that peak RSS is that run's alone:

* items-array: ``ijson.items(f, "item")`` counting the array (what notifier used
  before; its prefixes grow with the square of the nesting depth, and it rejects NaN,
  so the array it reads has the NaN replaced by null);
* inspector-array: ``inspect_object`` on the array (event walk, depth bound, NaN);
* arrow-lines: pyarrow's JSON reader with no fields, the JSON Lines fast path alone;
* inspector-lines: ``inspect_object`` on the JSON Lines (pyarrow plus the line
  checks: object lines only, nesting bound, non-finite numbers).

Usage: .venv/bin/python bench/bench_count_json.py [--size-mb 256] [--dir /tmp]
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import harness

RECORDS_PER_CHUNK = 10_000
MIB = 1024 * 1024


def _record(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "src_ip": f"192.0.2.{i % 255}",
        "bytes": float("nan") if i % 100 == 0 else i * 1.5,
        "label": "normal" if i % 3 else "dos",
        "flags": {"syn": i % 2 == 0, "ack": True},
    }


def generate(path: Path, size_bytes: int) -> int:
    """The array at ``path``, the same records as lines next to it, a clean array too."""
    records = 0
    written = 0
    with (
        path.open("w") as array,
        lines_path(path).open("w") as lines,
        clean_path(path).open("w") as clean,
    ):
        array.write("[")
        clean.write("[")
        while written < size_bytes:
            chunk = [_record(records + n) for n in range(RECORDS_PER_CHUNK)]
            body = ", ".join(json.dumps(record) for record in chunk)
            separator = ", " if records else ""
            written += array.write(separator + body)
            clean.write(separator + body.replace("NaN", "null"))
            lines.write("".join(json.dumps(record) + "\n" for record in chunk))
            records += RECORDS_PER_CHUNK
        array.write("]")
        clean.write("]")
    return records


def lines_path(path: Path) -> Path:
    return path.with_suffix(".jsonl")


def clean_path(path: Path) -> Path:
    return path.with_name("clean.json")


def child(mode: str, path: Path) -> dict[str, Any]:
    import ijson
    import pyarrow.json  # noqa: F401

    import notifier.inspection  # noqa: F401

    rss_before = harness.peak_rss_mib()
    started = time.perf_counter()
    if mode == "items-array":
        with clean_path(path).open("rb") as handle:
            result: dict[str, Any] = {"rows": sum(1 for _ in ijson.items(handle, "item"))}
    elif mode == "arrow-lines":
        result = {"rows": _arrow_lines(lines_path(path))}
    else:
        target = path if mode == "inspector-array" else lines_path(path)
        result = _inspector(target)
    result["seconds"] = time.perf_counter() - started
    result["rss_after_imports_mib"] = rss_before
    result["peak_rss_mib"] = harness.peak_rss_mib()
    return result


def _arrow_lines(path: Path) -> int:
    import pyarrow as pa
    import pyarrow.json as pa_json

    reader = pa_json.open_json(
        io.BytesIO(path.read_bytes()) if path.stat().st_size < MIB else path,
        read_options=pa_json.ReadOptions(use_threads=False),
        parse_options=pa_json.ParseOptions(
            explicit_schema=pa.schema([]), unexpected_field_behavior="ignore"
        ),
    )
    return sum(batch.num_rows for batch in reader)


def _inspector(path: Path) -> dict[str, Any]:
    from notifier.inspection import FileSource, InspectionLimits, Phase, inspect_object

    verdict = inspect_object(Phase.INGESTION, FileSource(path), InspectionLimits())
    return {"rows": verdict.num_registros, "estado": verdict.estado, "reason": verdict.reason}


def main() -> None:
    harness.run(
        __file__,
        __doc__ or "",
        default_size_mb=256,
        file_name="bench.json",
        generate=generate,
        child=child,
        modes=("items-array", "inspector-array", "arrow-lines", "inspector-lines"),
        report=_report,
    )


def _report(results: dict[str, dict[str, Any]], size: int, rows: int) -> None:
    print(f"\n{'run':<18}{'seconds':>9}{'MiB/s':>9}{'peak RSS MiB':>14}{'(imports)':>11}  rows")
    for mode, result in results.items():
        seconds = result["seconds"]
        print(
            f"{mode:<18}{seconds:>9.2f}{size / MIB / seconds:>9.0f}"
            f"{result['peak_rss_mib']:>14.0f}{result['rss_after_imports_mib']:>11.0f}"
            f"  {result['rows']}"
        )
    for mode in ("inspector-array", "inspector-lines"):
        counted = results[mode]["rows"]
        verdict = "MATCH" if counted == rows else "MISMATCH"
        print(f"{mode}: {results[mode]['estado']} rows={counted} expected={rows} -> {verdict}")
    array = results["inspector-array"]["seconds"] / results["items-array"]["seconds"]
    lines = results["inspector-lines"]["seconds"] / results["arrow-lines"]["seconds"]
    print(f"array: inspector / ijson.items = {array:.2f}x time")
    print(f"lines: inspector / bare pyarrow = {lines:.2f}x time")


if __name__ == "__main__":
    main()
