"""pyarrow must hold no Python object once an inspection returns (see arrow_io)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from notifier.inspection import BytesSource, InspectionLimits, Phase, inspect_object
from notifier.inspection.datasets import arrow_io

REPO_ROOT = Path(__file__).resolve().parents[2]

OBJECTS = [
    ("ok.csv", b"a,b\n" + b'1,"x\ny"\n' * 50_000),
    ("ragged.csv", b"a,b\n" + b"1,2\n" * 50_000 + b"3\n" + b"1,2\n" * 50_000),
    ("ok.jsonl", b'{"a": 1}\n' * 50_000),
    ("mixed.jsonl", b'{"a": 1}\n' * 50_000 + b"[1]\n"),
    ("bad.jsonl", b'{"a": 1}\n' * 50_000 + b"{bad\n"),
]


def live_feeds() -> list[object]:
    gc.collect()
    return [thing for thing in gc.get_objects() if isinstance(thing, arrow_io._Feed)]


@pytest.mark.parametrize(("key", "data"), OBJECTS)
def test_no_stream_is_left_with_pyarrow(key: str, data: bytes) -> None:
    limits = InspectionLimits(block_size=64 * 1024)
    verdict = inspect_object(Phase.INGESTION, BytesSource(data, key), limits)
    assert verdict.estado in ("ok", "error")
    assert live_feeds() == []


def test_interpreter_exits_cleanly_right_after_inspections() -> None:
    # A smoke test: the abort this guards against (pyarrow's I/O thread releasing a
    # Python object during interpreter shutdown) is a race, so a clean run proves
    # little; an abort or a hang at exit here means arrow_io's teardown broke.
    script = textwrap.dedent(
        """
        from notifier.inspection import BytesSource, InspectionLimits, Phase, inspect_object
        from tests.unit.test_inspection_arrow_io import OBJECTS
        for key, data in OBJECTS:
            inspect_object(Phase.INGESTION, BytesSource(data, key), InspectionLimits())
        """
    )
    for _ in range(3):
        run = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert "terminate called" not in run.stderr
