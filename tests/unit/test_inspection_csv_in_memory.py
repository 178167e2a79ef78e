"""A small CSV, peeked whole, is counted from memory (arrow_io.count_in_memory): the
verdict is the one the streamed path (arrow_io.count_batches) gives for the same bytes."""

from __future__ import annotations

import codecs
import io
from typing import Any

import pytest

from notifier.inspection import BytesSource, Inspection, InspectionLimits, Phase, inspect_object
from notifier.inspection.datasets import arrow_io
from notifier.inspection.datasets import csv as csv_inspection

BODIES = {
    "quoted": b'id,comment\n1,"a, b"\n2,"two\nlines"\n3,"say ""hi"""\n',
    "no final newline": b"id,v\n1,a\n2,b",
    "header only": b"id,v\n",
    "header only, no newline": b"id,v",
    "blank and whitespace lines": b"id,v\n1,a\n\n   \n2,b\n\n\n",
    "crlf": b"id,v\r\n1,a\r\n2,b\r\n",
    "cr only": b"id,v\r1,a\r2,b",
    "ragged": b"id,v\n1,a\n2,b,c\n",
    "quote never closed": b'id,v\n1,"a\n2,b\n',
    "utf-16": codecs.BOM_UTF16_LE + "id,v\n1,é\n2,ü\n".encode("utf-16-le"),
    "latin-1": "id,v\n1,caf\xe9\n".encode("latin-1"),
    "semicolons": b"id;v\n1;2,5\n2;3,5\n",
    "one column": b"value\n1\n2\n3\n",
    "tsv": b'id\tv\n1\t"a\tb"\n2\tc\n',
}


def inspect(data: bytes, key: str) -> Inspection:
    return inspect_object(Phase.INGESTION, BytesSource(data, key), InspectionLimits())


def streamed(guard: Any, data: bytes, open_reader: Any) -> int:
    return arrow_io.count_batches(guard, io.BytesIO(data).read, open_reader)


@pytest.mark.parametrize("name", sorted(BODIES))
def test_counting_from_memory_gives_the_streamed_verdict(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "data.tsv" if name == "tsv" else "data.csv"
    from_memory = inspect(BODIES[name], key)
    with monkeypatch.context() as patched:
        patched.setattr(csv_inspection, "count_in_memory", streamed)
        from_stream = inspect(BODIES[name], key)
    assert from_memory == from_stream


def test_the_in_memory_path_is_taken_for_a_small_object(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[int] = []

    def counting(guard: Any, data: bytes, open_reader: Any) -> int:
        taken.append(len(data))
        return arrow_io.count_in_memory(guard, data, open_reader)

    monkeypatch.setattr(csv_inspection, "count_in_memory", counting)
    verdict = inspect(b"id,v\n1,a\n2,b", "data.csv")
    assert (verdict.estado, verdict.num_registros) == ("ok", 2)
    assert taken == [len(b"id,v\n1,a\n2,b\n")]  # with the final newline the stream adds
