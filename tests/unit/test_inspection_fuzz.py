"""Property-based fuzzing of the dataset readers: any bytes get a verdict, fast, in bounded memory.

Example counts stay modest so the suite stays fast; hypothesis keeps no database here.
"""

from __future__ import annotations

import gzip
import json
import resource
import struct
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.inspection import BytesSource, Inspection, InspectionLimits, Phase, inspect_object

LIMITS = InspectionLimits(block_size=4096, max_json_document_bytes=16 * 1024, timeout_seconds=10)
MAX_SECONDS_PER_OBJECT = 2.0
MAX_RSS_GROWTH_KIB = 256 * 1024

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

KEYS = ["d.csv", "d.tsv", "d.json", "d.jsonl", "d.parquet", "d.csv.gz", "d.json.bz2", "noext"]

JSON_TOKENS = st.sampled_from(
    [
        *("[", "]", "{", "}", ",", ":", "\n", " ", "\ufeff", "\\", '"', '"a"', '"\\"["'),
        *("1", "0", "-2.5e3", "18446744073709551616", "NaN", "Infinity", "-Infinity"),
        *("null", "true"),
    ]
)


@pytest.fixture(autouse=True)
def bounded_memory() -> Iterator[None]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert growth < MAX_RSS_GROWTH_KIB


def verdict_of(data: bytes, key: str, phase: Phase = Phase.INGESTION) -> Inspection:
    started = time.monotonic()
    verdict = inspect_object(phase, BytesSource(data, key), LIMITS)
    assert time.monotonic() - started < MAX_SECONDS_PER_OBJECT
    assert verdict.estado in ("ok", "error", "skipped")
    assert (verdict.reason is None) == (verdict.estado == "ok")
    if verdict.estado == "ok" and phase in (Phase.INGESTION, Phase.TRANSFORMATION):
        assert isinstance(verdict.num_registros, int)
        assert verdict.num_registros >= 0
    else:
        assert verdict.estado == "ok" or verdict.num_registros is None
    json.dumps(verdict.details)
    return verdict


@FUZZ
@given(data=st.binary(max_size=4096), key=st.sampled_from(KEYS))
def test_arbitrary_bytes_get_a_verdict(data: bytes, key: str) -> None:
    verdict_of(data, key)


@FUZZ
@given(tokens=st.lists(JSON_TOKENS, max_size=300), key=st.sampled_from(["d.json", "d.jsonl"]))
def test_json_token_soup_gets_a_verdict(tokens: list[str], key: str) -> None:
    verdict_of("".join(tokens).encode(), key)


@FUZZ
@given(depth=st.integers(min_value=0, max_value=3000), tail=st.sampled_from(["", "]", "}", ","]))
def test_any_nesting_depth_gets_a_verdict(depth: int, tail: str) -> None:
    data = ("[" * depth + "]" * depth + tail).encode()
    for key, phase in (("d.json", Phase.INGESTION), ("r.json", Phase.EVALUATION)):
        verdict = verdict_of(data, key, phase)
        if depth > LIMITS.max_json_depth:
            assert verdict.estado == "error"


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(records=st.lists(JSON_VALUES, max_size=30), indent=st.sampled_from([None, 2]))
def test_a_json_array_counts_its_elements(records: list[object], indent: int | None) -> None:
    # json.dumps writes NaN and Infinity for float('nan') and float('inf'), as Python does.
    verdict = verdict_of(json.dumps(records, indent=indent).encode(), "d.json")
    assert (verdict.estado, verdict.num_registros) == ("ok", len(records))


@FUZZ
@given(records=st.lists(st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=4), max_size=30))
def test_json_lines_count_their_records(records: list[dict[str, object]]) -> None:
    data = b"".join(json.dumps(record).encode() + b"\n" for record in records)
    verdict = verdict_of(gzip.compress(data), "d.jsonl.gz")
    assert (verdict.estado, verdict.num_registros) == ("ok", len(records))


@FUZZ
@given(
    rows=st.lists(
        st.lists(
            st.text(alphabet=st.characters(codec="utf-8"), max_size=8), min_size=2, max_size=2
        ),
        max_size=40,
    )
)
def test_csv_text_gets_a_verdict(rows: list[list[str]]) -> None:
    text = "\n".join(",".join(row) for row in rows)
    verdict_of(text.encode(), "d.csv")


@FUZZ
@given(footer=st.binary(max_size=2048), declared=st.none() | st.integers(0, 2**32 - 1))
def test_parquet_footers_get_a_verdict(footer: bytes, declared: int | None) -> None:
    length = len(footer) if declared is None else declared
    data = b"PAR1" + footer + struct.pack("<I", length) + b"PAR1"
    verdict = verdict_of(data, "d.parquet")
    assert verdict.estado in ("ok", "error")
