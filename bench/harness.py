"""Shared by the benchmarks: each measurement runs in a fresh child process, so peak RSS
and warm caches of one mode never leak into another."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
BASELINE_REF = os.environ.get("BENCH_BEFORE_REF", "f90e62c")
"""The code every benchmark compares against by default: main when the speed issue (12)
was filed, the "today" of its figures (override with ``BENCH_BEFORE_REF``)."""


def export_ref(ref: str, into: Path) -> str:
    """``git archive`` of the ``notifier`` package at ``ref`` into ``into``; returns the
    short commit. Run with ``into`` first on ``PYTHONPATH`` (or ``sys.path``), that
    package shadows this checkout's, with this checkout's dependencies."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> bytes:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, check=True).stdout

    commit = git("rev-parse", "--short", ref).decode().strip()
    archive = git("archive", commit, "notifier")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return commit


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(script: str, mode: str, path: Path) -> dict[str, Any]:
    """Run ``script --child MODE PATH`` and return the JSON it prints."""
    run = subprocess.run(
        [sys.executable, script, "--child", mode, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def parser(description: str, default_size_mb: int) -> argparse.ArgumentParser:
    """``--size-mb``, ``--dir`` and the hidden ``--child MODE PATH``."""
    parsed = argparse.ArgumentParser(description=description)
    parsed.add_argument(
        "--size-mb", type=int, default=default_size_mb, help=f"file size in MiB ({default_size_mb})"
    )
    parsed.add_argument("--dir", default=None, help="where the temporary file goes (TMPDIR)")
    parsed.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    return parsed


Generate = Callable[[Path, int], int]
Child = Callable[[str, Path], dict[str, Any]]
Report = Callable[[dict[str, dict[str, Any]], int, int], None]
Measure = Callable[[str, str, Path], dict[str, Any]]


def run(
    script: str,
    doc: str,
    *,
    default_size_mb: int,
    file_name: str,
    generate: Generate,
    child: Child,
    modes: Sequence[str],
    report: Report,
    measure: Measure = measure,
) -> None:
    """The whole benchmark: in a child, measure one mode; in the parent, make the file
    (``generate`` returns its row count), measure every mode (in order; a mode listed
    twice is measured twice, ``measure`` deciding what is kept), then ``report``."""
    args = parser(doc.splitlines()[0], default_size_mb).parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-") as tmp:
        path = Path(tmp) / file_name
        started = time.perf_counter()
        rows = generate(path, args.size_mb * MIB)
        size = path.stat().st_size
        print(
            f"generated {size / MIB:.0f} MiB, {rows:,} rows"
            f" in {time.perf_counter() - started:.1f} s: {path}"
        )
        results = {mode: measure(script, mode, path) for mode in modes}
    report(results, size, rows)
