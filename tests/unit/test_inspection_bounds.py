"""Hostile JSON cannot grow a worker's memory: peak RSS watched in a fresh process.

Each case runs ``inspect_object`` in a subprocess and reads the kernel's high-water
mark (VmHWM in /proc/self/status) before and after. Before the depth bound, a
100 KB ``[[[[...`` took 21 GiB through ijson's prefixes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

MAX_GROWTH_KIB = 64 * 1024
"""Peak memory an inspection of these 100-200 KB objects may add: a few blocks."""

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from notifier.inspection import BytesSource, InspectionLimits, Phase, inspect_object

    def peak_kib():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])

    phase, key, depth, opening, closing, prefix, suffix = json.loads(sys.argv[1])
    data = (prefix + opening * depth + closing * depth + suffix).encode()
    phase = Phase.parse(phase)
    inspect_object(phase, BytesSource(b"[1]", "warm.json"), InspectionLimits())
    before = peak_kib()
    verdict = inspect_object(phase, BytesSource(data, key), InspectionLimits())
    print(json.dumps({"estado": verdict.estado, "reason": verdict.reason,
                      "growth": peak_kib() - before}))
    """
)

CASES = {
    "array": ("ingestion", "raw/deep.json", 100_000, "[", "]", "", ""),
    "objects": ("ingestion", "raw/deep-objects.json", 100_000, '{"a":', "}", "", ""),
    "json lines": ("ingestion", "raw/deep.jsonl", 100_000, "[", "]", '{"a": 1}\n{"a": ', "}\n"),
    "inside a record": ("transformation", "s/deep.json", 100_000, "[", "]", '[{"a": ', "}]"),
    "pandas columns": ("ingestion", "raw/cols.json", 100_000, "[", "]", '{"a": {"0": ', "}}"),
    "model card": ("training", "models/deep.json", 100_000, '{"a":', "}", "", ""),
    "results": ("evaluation", "results/deep.json", 100_000, "[", "]", "", ""),
}


@pytest.mark.parametrize("case", CASES)
def test_deep_nesting_is_refused_in_bounded_memory(case: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(CASES[case])],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["growth"] < MAX_GROWTH_KIB, outcome
    if case == "model card":
        # The model row stands on its metadata; the card is set aside with the reason.
        assert outcome["estado"] == "ok"
    else:
        assert outcome["estado"] == "error", outcome
        assert "nests deeper than 512 levels" in outcome["reason"]
