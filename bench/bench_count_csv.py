"""Benchmark: counting a large CSV (plain and gzip) through notifier's inspector, against
baselines measured in the same run.

Writes a CSV of --size-mb (streamed to a temporary file, never held in memory) whose
quoted fields hold commas, doubled quotes and newlines, and its gzip (level 6). Then
times each mode in a fresh subprocess, so that peak RSS (``VmHWM``, imports included)
is that run's alone, --repeat times in turn, keeping each mode's fastest run:

* ``newlines``: a Python loop reading 1 MiB blocks and counting b"\\n" (``wc -l``-like);
* ``pandas``: ``pandas.read_csv`` in chunks of 200,000 rows (the C engine), rows summed;
* ``inspector``: ``inspect_object`` over a FileSource (the code path production uses);
* ``inspector-before``: the same with the ``notifier`` package of git ref
  ``$BENCH_BEFORE_REF`` (default: ``harness.BASELINE_REF``, main when the speed issue
  was filed), exported to a temporary folder: the before/after comparison of one run
  on one machine;
* ``gunzip``: a bare decompression loop (``gzip.open``, 1 MiB reads) of the gzip file;
* ``inspector-gz``, ``inspector-gz-before``: the inspector on the gzip file;
* ``s3-download``: the bare download of the plain file from a local SeaweedFS (started
  for the run, the file uploaded once): one GET read in 1 MiB blocks and discarded;
* ``inspector-s3``, ``inspector-s3-before``: ``inspect_object`` over the S3 source
  production uses (``ObjectStore(make_client(...)).source``, as the worker builds it
  for an object too large to fetch whole), against the same object;
* ``small``, ``small-pyarrow``, ``small-before``: ``inspect_object`` over SMALL_OBJECTS
  in-memory CSVs of about 4 KB (the file's row shape), as the worker counts objects it
  fetched whole: this tree, this tree counting with pyarrow only, the baseline.

Usage: .venv/bin/python bench/bench_count_csv.py [--size-mb 1024] [--dir /tmp]
       (BENCH_REPEAT=3 runs per mode; pandas must be installed: pip install -e '.[bench]')
"""

from __future__ import annotations

import gzip
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import harness

ROWS_PER_CHUNK = 20_000
MIB = 1024 * 1024
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
BEFORE_DIR_VARIABLE = "BENCH_BEFORE_DIR"
S3_VARIABLE = "BENCH_S3_ENDPOINT"
S3_KEY, S3_SECRET, S3_BUCKET = "bench", "bench-secret-key", "bench-csv"
MODES = (
    "newlines",
    "pandas",
    "inspector",
    "inspector-before",
    "gunzip",
    "inspector-gz",
    "inspector-gz-before",
    "s3-download",
    "inspector-s3",
    "inspector-s3-before",
    "small",
    "small-pyarrow",
    "small-before",
)
SMALL_OBJECTS = 2000


def generate(path: Path, size_bytes: int) -> int:
    """Write rows until the file reaches ``size_bytes``, and its gzip next to it
    (``path`` + ``.gz``); return the data rows written."""
    rows = 0
    written = 0
    with (
        path.open("w", encoding="utf-8", newline="") as out,
        gzip.open(gz_path(path), "wt", encoding="utf-8", newline="", compresslevel=6) as gz,
    ):
        header = "id,name,comment,amount,flag,created_at\n"
        written += out.write(header)
        gz.write(header)
        while written < size_bytes:
            chunk = "".join(_row(rows + n) for n in range(ROWS_PER_CHUNK))
            written += out.write(chunk)
            gz.write(chunk)
            rows += ROWS_PER_CHUNK
    return rows


def gz_path(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


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


def vm_hwm_mib() -> float:
    """This process's peak resident memory (``VmHWM`` of /proc/self/status), in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(mode: str, path: Path) -> dict[str, Any]:
    """One measurement, in its own process; imports happen before the clock starts."""
    if mode.endswith("-before"):
        sys.path.insert(0, os.environ[BEFORE_DIR_VARIABLE])
    if mode.startswith(("inspector", "s3", "small")):
        # notifier's runtime dependencies do not include numpy, which pyarrow imports
        # when present (pandas brought it here): measure the footprint users get.
        sys.modules["numpy"] = None  # type: ignore[assignment]
    if mode == "pandas":
        import pandas  # noqa: F401
    elif mode.startswith(("inspector", "small")):
        import pyarrow.csv  # noqa: F401

        import notifier.inspection

        assert notifier.inspection.__file__ is not None
        location = str(Path(notifier.inspection.__file__).parents[2])
    rss_imports = vm_hwm_mib()
    target = gz_path(path) if "gz" in mode or mode == "gunzip" else path
    cpu_started = _cpu_seconds()
    started = time.perf_counter()
    if mode == "newlines":
        result = _newlines(target)
    elif mode == "gunzip":
        result = _gunzip(target)
    elif mode == "pandas":
        result = _pandas(target)
    elif mode.startswith("small"):
        if mode == "small-pyarrow":
            from notifier.inspection.datasets import csv as csv_inspection

            csv_inspection._fast_first = lambda guard, fmt: False
        result = _small_objects()
        result["code"] = location
    elif mode == "s3-download":
        result = _s3_download(target)
    elif mode.startswith("inspector-s3"):
        result = _inspector_s3(target)
        result["code"] = location
    else:
        result = _inspector(target)
        result["code"] = location
    result["seconds"] = time.perf_counter() - started
    result["cpu_seconds"] = _cpu_seconds() - cpu_started
    result["rss_after_imports_mib"] = rss_imports
    result["peak_rss_mib"] = vm_hwm_mib()
    return result


def _cpu_seconds() -> float:
    """User and system CPU time of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _newlines(path: Path) -> dict[str, Any]:
    newlines = 0
    with path.open("rb", buffering=0) as handle:
        while block := handle.read(MIB):
            newlines += block.count(b"\n")
    return {"newlines": newlines}


def _gunzip(path: Path) -> dict[str, Any]:
    total = 0
    with gzip.open(path, "rb") as handle:
        while block := handle.read(MIB):
            total += len(block)
    return {"bytes_out": total}


def _pandas(path: Path) -> dict[str, Any]:
    import pandas as pd

    rows = sum(len(chunk) for chunk in pd.read_csv(path, chunksize=200_000))
    return {"rows": rows}


def _small_objects() -> dict[str, Any]:
    from notifier.inspection import BytesSource, InspectionLimits, Phase, inspect_object

    data = ("id,name,comment,amount,flag,created_at\n" + "".join(map(_row, range(60)))).encode()
    limits = InspectionLimits()
    for n in range(SMALL_OBJECTS):
        verdict = inspect_object(Phase.INGESTION, BytesSource(data, f"s/{n}.csv"), limits)
    return {"rows": verdict.num_registros, "estado": verdict.estado, "bytes": len(data)}


def _s3_store() -> Any:
    from notifier.config import S3Settings
    from notifier.storage import ObjectStore, make_client

    return ObjectStore(make_client(S3Settings(os.environ[S3_VARIABLE], S3_KEY, S3_SECRET)))


def _s3_download(path: Path) -> dict[str, Any]:
    """One GET of the object, read in 1 MiB blocks (the stored bytes) and discarded."""
    response = _s3_store()._client.get_object(S3_BUCKET, path.name)
    total = 0
    try:
        while block := response.read(MIB, decode_content=False):
            total += len(block)
    finally:
        response.close()
        response.release_conn()
    return {"bytes": total}


def _inspector_s3(path: Path) -> dict[str, Any]:
    from notifier.inspection import InspectionLimits, Phase, inspect_object

    store = _s3_store()
    source = store.source(S3_BUCKET, path.name, store.stat(S3_BUCKET, path.name))
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
    return {
        "rows": verdict.num_registros,
        "estado": verdict.estado,
        "reason": verdict.reason,
        "bytes_read": source.bytes_read,
    }


@contextmanager
def _seaweedfs(path: Path) -> Iterator[None]:
    """A local SeaweedFS holding ``path`` in bucket S3_BUCKET, its endpoint exported."""
    from notifier.devstack.servers import LocalSeaweedFS, free_port

    server = LocalSeaweedFS(path.parent / "s3", free_port(), S3_KEY, S3_SECRET)
    server.start()
    try:
        client = server.client()
        client.make_bucket(S3_BUCKET)
        client.fput_object(S3_BUCKET, path.name, str(path), part_size=64 * MIB)
        os.environ[S3_VARIABLE] = server.endpoint
        yield
    finally:
        server.stop()


def _inspector(path: Path) -> dict[str, Any]:
    from notifier.inspection import FileSource, InspectionLimits, Phase, inspect_object

    source = FileSource(path)
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
    return {"rows": verdict.num_registros, "estado": verdict.estado, "reason": verdict.reason}


def main() -> None:
    def run() -> None:
        harness.run(
            __file__,
            __doc__ or "",
            default_size_mb=1024,
            file_name="bench.csv",
            generate=generate,
            child=child,
            modes=MODES * REPEAT,
            report=_report,
            measure=_fastest,
        )

    if "--child" in sys.argv:
        run()
        return
    before = Path(tempfile.mkdtemp(prefix="bench-before-"))
    try:
        commit = harness.export_ref(harness.BASELINE_REF, before)
        os.environ[BEFORE_DIR_VARIABLE] = str(before)
        print(f"before: {harness.BASELINE_REF} ({commit}); after: this tree;"
              f" {REPEAT} runs per mode")  # fmt: skip
        run()
    finally:
        _servers.close()
        shutil.rmtree(before, ignore_errors=True)


_runs: dict[str, list[dict[str, Any]]] = {}


_servers = ExitStack()


def _fastest(script: str, mode: str, path: Path) -> dict[str, Any]:
    if "s3" in mode and S3_VARIABLE not in os.environ:
        _servers.enter_context(_seaweedfs(path))
    _runs.setdefault(mode, []).append(harness.measure(script, mode, path))
    return min(_runs[mode], key=lambda run: run["seconds"])


def _report(results: dict[str, dict[str, Any]], size: int, rows: int) -> None:
    print(
        f"\n{'mode':<22}{'seconds':>9}{'MiB/s':>8}{'CPU s':>8}{'peak RSS MiB':>14}"
        f"{'(imports)':>11}{'max peak':>10}  rows"
    )
    for mode in MODES:
        result = results[mode]
        peak = max(run["peak_rss_mib"] for run in _runs[mode])
        print(
            f"{mode:<22}{result['seconds']:>9.2f}{size / MIB / result['seconds']:>8.0f}"
            f"{min(run['cpu_seconds'] for run in _runs[mode]):>8.2f}"
            f"{result['peak_rss_mib']:>14.0f}{result['rss_after_imports_mib']:>11.0f}"
            f"{peak:>10.0f}  {result.get('rows', '-')}"
        )
    for mode in (
        "inspector",
        "inspector-before",
        "inspector-gz",
        "inspector-gz-before",
        "inspector-s3",
        "inspector-s3-before",
    ):
        result = results[mode]
        verdict = "MATCH" if result["rows"] == rows else "MISMATCH"
        read = f" bytes_read={result['bytes_read']:,}" if "bytes_read" in result else ""
        counted = f"rows={result['rows']:,} expected={rows:,} {verdict}{read}"
        print(f"{mode}: {result['estado']} {counted}")

    def ratio(slower: str, faster: str) -> str:
        wall = results[faster]["seconds"] / results[slower]["seconds"]
        cpu = min(r["cpu_seconds"] for r in _runs[faster]) / min(
            r["cpu_seconds"] for r in _runs[slower]
        )
        return f"{wall:>5.2f}x wall {cpu:>5.2f}x CPU"

    peak = max(run["peak_rss_mib"] for run in _runs["inspector"])
    print(
        "\nspeed of the first against the second, same run (wall: fastest run of each;"
        " CPU: least CPU time,\nsteadier on a shared machine, blind to the gzip thread's"
        " overlap):\n"
        f"  inspector vs pandas:                 {ratio('inspector', 'pandas')}"
        "  (target >= 3x)\n"
        f"  inspector vs bare newline count:     {ratio('inspector', 'newlines')}"
        "  (target >= 0.6x)\n"
        f"  inspector vs inspector-before:       {ratio('inspector', 'inspector-before')}"
        "  (no slowdown: >= 1x within noise)\n"
        f"  inspector-gz vs bare decompression:  {ratio('inspector-gz', 'gunzip')}"
        "  (target >= 0.8x)\n"
        f"  inspector-gz vs inspector-gz-before: {ratio('inspector-gz', 'inspector-gz-before')}\n"
        f"  inspector-s3 vs bare S3 download:    {ratio('inspector-s3', 's3-download')}"
        "  (target >= 0.8x)\n"
        f"  inspector-s3 vs inspector-s3-before: {ratio('inspector-s3', 'inspector-s3-before')}\n"
        f"  small objects ({results['small']['bytes']:,} bytes, {SMALL_OBJECTS:,} in memory):"
        f" {results['small']['seconds'] / SMALL_OBJECTS * 1e6:.0f} us/object; pyarrow only"
        f" {results['small-pyarrow']['seconds'] / SMALL_OBJECTS * 1e6:.0f} us/object"
        f" ({ratio('small', 'small-pyarrow')}); before"
        f" {results['small-before']['seconds'] / SMALL_OBJECTS * 1e6:.0f} us/object\n"
        f"  inspector peak RSS (VmHWM, imports included, worst run): {peak:.0f} MiB"
        " (target < 128 MiB)"
    )
    from notifier.inspection.datasets.csv_scanner import compiled_scanner

    built = "built" if compiled_scanner() is not None else "NOT built (no C compiler at install)"
    print(f"  this tree's compiled CSV scanner: {built}")
    print(f"(load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())},"
          f" {os.cpu_count()} CPUs)")  # fmt: skip


if __name__ == "__main__":
    main()
