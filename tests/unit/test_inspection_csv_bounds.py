"""Hostile CSV inputs (issue 13): each ends counted right or as an error/skipped row
naming the bound, never ``ok`` with 0 records, and the inspecting process's peak memory
stays bounded. Each input is inspected in a fresh Python process that reads its own
``VmHWM`` from /proc/self/status before and after."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

MIB = 1 << 20

MAX_GROWTH_MIB = 160
"""Most a worker process may grow while inspecting one hostile CSV: about 4 parser
blocks of the 32 MiB long-row retry; 1 MiB blocks need ~40 MiB."""

CHILD = """
import json, sys
sys.modules["numpy"] = None  # a runtime install has no numpy; keep the figure honest
from pathlib import Path
from notifier.inspection import FileSource, InspectionLimits, Phase, inspect_object

def hwm():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024

before = hwm()
verdict = inspect_object(Phase.INGESTION, FileSource(Path(sys.argv[1])), InspectionLimits())
print(json.dumps({
    "estado": verdict.estado, "records": verdict.num_registros, "reason": verdict.reason,
    "before": before, "after": hwm(),
}))
"""


def write_repeated(path: Path, head: bytes, unit: bytes, total: int, tail: bytes = b"") -> None:
    with path.open("wb") as out:
        out.write(head)
        block = unit * (MIB // len(unit))
        for _ in range(total // len(block)):
            out.write(block)
        out.write(tail)


def write_gzip_of(path: Path, unit: bytes, total: int) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = unit * (MIB // len(unit))
    with path.open("wb") as out:
        for _ in range(total // len(block)):
            out.write(compressor.compress(block))
        out.write(compressor.flush())


def wide_header(path: Path) -> None:
    header = ",".join(f"column_{i:06d}" for i in range(150_000)).encode()
    path.write_bytes(header + b"\n" + b"1\n" * 3)


def wide_short_header(path: Path) -> None:
    path.write_bytes(b",".join([b"c"] * 150_000) + b"\n" + b",".join([b"1"] * 150_000) + b"\n")


def blank_lines_first(path: Path) -> None:
    write_repeated(path, b"", b"\n", 2 * MIB, b"a,b\n1,2\n3,4\n5,6\n")


def nul_block(path: Path) -> None:
    write_repeated(path, b"", b"\x00", 8 * MIB)


def gzip_bomb_of_zeros(path: Path) -> None:
    write_gzip_of(path, b"\x00", 1024 * MIB)


def gzip_bomb_of_newlines(path: Path) -> None:
    write_gzip_of(path, b"\n", 1024 * MIB)


def row_over_the_line_bound(path: Path) -> None:
    write_repeated(path, b"a,b\n1,", b"x", 40 * MIB, b"\n2,y\n")


def row_under_the_line_bound(path: Path) -> None:
    write_repeated(path, b"a,b\n1,", b"x", 15 * MIB, b"\n2,y\n")


CASES: list[tuple[str, Callable[[Path], None], str, int | None, str | None]] = [
    ("wide.csv", wide_header, "skipped", None, "the dialect probe bound"),
    ("wide-short.csv", wide_short_header, "skipped", None, "-column bound"),
    ("blank-first.csv", blank_lines_first, "ok", 3, None),
    ("nul.csv", nul_block, "error", None, "NUL bytes in a row"),
    ("zeros.csv.gz", gzip_bomb_of_zeros, "error", None, "NUL bytes in a row"),
    ("newlines.csv.gz", gzip_bomb_of_newlines, "skipped", None, "decompression-ratio bound"),
    ("long-row.csv", row_over_the_line_bound, "error", None, "a row is longer than 16 MiB"),
    ("15-mib-row.csv", row_under_the_line_bound, "ok", 2, None),
]


@pytest.mark.parametrize(
    ("name", "make", "estado", "records", "reason"), CASES, ids=[case[0] for case in CASES]
)
def test_hostile_csv_is_bounded_and_never_a_silent_zero(
    tmp_path: Path,
    name: str,
    make: Callable[[Path], None],
    estado: str,
    records: int | None,
    reason: str | None,
) -> None:
    path = tmp_path / name
    make(path)
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(run.stdout)
    assert (result["estado"], result["records"]) == (estado, records), result
    if reason is None:
        assert result["reason"] is None
    else:
        assert reason in result["reason"]
    assert result["after"] - result["before"] < MAX_GROWTH_MIB, result
