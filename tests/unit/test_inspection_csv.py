"""CSV and TSV counting (notifier.inspection.datasets.csv) over in-memory objects."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import threading
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

from notifier.config import parse_csv_dialects
from notifier.inspection import (
    BytesSource,
    Inspection,
    InspectionLimits,
    Phase,
    inspect_object,
    streams,
)
from notifier.inspection.datasets import csv as csv_inspection
from notifier.inspection.datasets import dialect


def inspect(
    data: bytes, key: str = "data.csv", limits: InspectionLimits | None = None
) -> tuple[Inspection, BytesSource]:
    source = BytesSource(data, key)
    verdict = inspect_object(Phase.INGESTION, source, limits or InspectionLimits())
    json.dumps(verdict.details)  # always JSON-serialisable
    return verdict, source


def without_dialect(verdict: Inspection) -> Inspection:
    """The verdict with ``details["dialect"]`` (tested in test_inspection_csv_dialect) removed."""
    details = {k: v for k, v in verdict.details.items() if k != "dialect"}
    return dataclasses.replace(verdict, details=details)


def test_quoted_fields_may_hold_delimiters_newlines_and_quotes() -> None:
    data = b'id,text\n1,"a, b"\n2,"line one\nline two"\n3,"say ""hi"", then\r\nleave"\n4,plain\n'
    verdict, source = inspect(data)
    assert without_dialect(verdict) == Inspection(
        "ok", 4, None, "csv", {"columns": ["id", "text"], "num_columns": 2}
    )
    assert source.bytes_read == len(data)


def test_header_only_counts_zero_rows_with_or_without_final_newline() -> None:
    for data in (b"a,b,c\n", b"a,b,c", b"a,b,c\r\n", b"a,b,c\n   \n"):
        verdict, _ = inspect(data)
        assert verdict.estado == "ok"
        assert verdict.num_registros == 0
        assert verdict.details["columns"] == ["a", "b", "c"]
        assert verdict.details["header_only"] is True


def test_last_row_without_final_newline_is_counted() -> None:
    verdict, _ = inspect(b"a,b\n1,2\n3,4")
    assert verdict.num_registros == 2


def test_zero_byte_and_blank_objects_are_empty_not_errors() -> None:
    for data in (b"", b"\n\n", b"\r\n", b"  \t\n \n", b"\xef\xbb\xbf\n"):
        verdict, _ = inspect(data)
        assert verdict == Inspection("ok", 0, None, "csv", {"empty": True})


def test_whitespace_only_lines_are_neither_records_nor_errors() -> None:
    verdict, _ = inspect(b"a,b,c\n1,2,3\n   \n4,5,6\n\t \r\n7,8,9\n   ")
    assert (verdict.estado, verdict.num_registros) == ("ok", 3)


def test_whitespace_only_lines_in_a_headerless_file_are_not_records() -> None:
    verdict, _ = inspect(b"1,2,3\n4,5,6\n  \n7,8,9\n \n")
    assert (verdict.estado, verdict.num_registros) == ("ok", 3)
    assert verdict.details["dialect"]["header"] == "absent"


def test_megabytes_of_blank_lines_before_the_data_are_skipped() -> None:
    data = b"\n" * (2 << 20) + b"  \r\n" * 1000 + b"a,b\nx,1\ny,2\n"
    verdict, _ = inspect(data)
    assert (verdict.estado, verdict.num_registros) == ("ok", 2)
    assert verdict.details["columns"] == ["a", "b"]


def test_blank_lines_are_not_rows() -> None:
    verdict, _ = inspect(b"\na,b\n\n1,2\n\n3,4\n\n")
    assert verdict.num_registros == 2
    assert verdict.details["columns"] == ["a", "b"]


def test_utf8_byte_order_mark_is_not_part_of_the_first_column() -> None:
    verdict, _ = inspect("\ufeffnombre,edad\nAna,3\n".encode())
    assert verdict.num_registros == 1
    assert verdict.details["columns"] == ["nombre", "edad"]


def test_bytes_that_are_not_utf8_are_still_counted() -> None:
    verdict, _ = inspect(b"a,b\n\xff\xfe,1\n\xe9t\xe9,2\n")
    assert verdict.estado == "ok"
    assert verdict.num_registros == 2


def test_ragged_rows_are_an_error_naming_the_row() -> None:
    verdict, _ = inspect(b"a,b\n1,2\n3,4,5\n6,7\n")
    assert verdict.estado == "error"
    assert verdict.num_registros is None
    assert verdict.format == "csv"
    assert verdict.reason is not None
    assert verdict.reason.startswith("CSV parse error")
    assert "Row #3" in verdict.reason
    assert "Expected 2 columns, got 3" in verdict.reason


def test_short_row_is_an_error() -> None:
    verdict, _ = inspect(b"a,b,c\n1,2,3\n4\n")
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "Expected 3 columns, got 1" in verdict.reason


def test_tsv_uses_tabs_and_honours_quotes() -> None:
    data = b'a\tb\n1\t"x\ty"\n2\t"multi\nline"\n3\tz\n'
    verdict, _ = inspect(data, key="folder/Data.TSV")
    assert without_dialect(verdict) == Inspection(
        "ok", 3, None, "tsv", {"columns": ["a", "b"], "num_columns": 2}
    )
    assert verdict.details["dialect"]["delimiter"] == "\t"


def test_gzip_csv_is_decompressed_while_streaming() -> None:
    plain = b"a,b\n" + b"".join(b'%d,"v,%d"\n' % (i, i) for i in range(5000))
    verdict, source = inspect(gzip.compress(plain), key="d.csv.gz")
    assert verdict.estado == "ok"
    assert verdict.num_registros == 5000
    assert without_dialect(verdict).details == {
        "columns": ["a", "b"],
        "num_columns": 2,
        "compression": "gzip",
    }
    assert source.bytes_read == source.size


def test_concatenated_gzip_members_are_all_counted() -> None:
    data = gzip.compress(b"a,b\n1,2\n") + gzip.compress(b"3,4\n5,6\n")
    verdict, _ = inspect(data, key="d.csv.gz")
    assert verdict.num_registros == 3


def test_gzip_tsv() -> None:
    verdict, _ = inspect(gzip.compress(b"x\ty\n1\t2\n"), key="d.tsv.gz")
    assert (verdict.format, verdict.num_registros) == ("tsv", 1)


def test_truncated_gzip_is_an_error_not_a_short_count() -> None:
    plain = b"a,b\n" + b"1,2\n" * 100_000
    verdict, _ = inspect(gzip.compress(plain)[:-100], key="d.csv.gz")
    assert verdict.estado == "error"
    assert verdict.num_registros is None
    assert verdict.reason == "truncated gzip stream: it ends before its end marker"


def test_gz_suffix_on_plain_bytes_is_read_as_stored() -> None:
    verdict, _ = inspect(b"a,b\n1,2\n", key="d.csv.gz")
    assert (verdict.estado, verdict.num_registros) == ("ok", 1)
    assert verdict.details["detection_notes"] == [
        "the key says gzip, the content is not compressed"
    ]


def test_large_csv_written_by_pyarrow_counts_exactly_across_many_blocks() -> None:
    rows = 60_000
    table = pa.table(
        {
            "id": pa.array(range(rows)),
            "text": pa.array([f"t{i}, with comma\nand newline" for i in range(rows)]),
            "value": pa.array([i / 7 for i in range(rows)]),
        }
    )
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink)
    verdict, _ = inspect(sink.getvalue(), limits=InspectionLimits(block_size=64 * 1024))
    assert verdict.estado == "ok"
    assert verdict.num_registros == rows
    assert verdict.details["columns"] == ["id", "text", "value"]


def test_row_longer_than_the_block_is_retried_with_large_blocks() -> None:
    data = b"a,b\n1,short\n2," + b"x" * 20_000 + b"\n3,short\n"
    verdict, _ = inspect(data, limits=InspectionLimits(block_size=4096))
    assert verdict.estado == "ok"
    assert verdict.num_registros == 3


def test_row_longer_than_the_large_block_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_inspection, "LARGE_ROW_BLOCK_SIZE", 8192)
    data = b"a,b\n1," + b"x" * 50_000 + b"\n"
    verdict, _ = inspect(data, limits=InspectionLimits(block_size=4096))
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "a row is longer than" in verdict.reason


def test_wide_header_lists_at_most_the_detail_cap() -> None:
    width = csv_inspection.MAX_DETAIL_COLUMNS + 5
    header = ",".join(f"c{i}" for i in range(width)).encode()
    row = ",".join("1" for _ in range(width)).encode()
    verdict, _ = inspect(header + b"\n" + row + b"\n")
    assert verdict.num_registros == 1
    assert verdict.details["num_columns"] == width
    assert len(verdict.details["columns"]) == csv_inspection.MAX_DETAIL_COLUMNS
    assert verdict.details["columns_truncated"] is True


def test_first_record_longer_than_the_probe_is_skipped_naming_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dialect, "PROBE_BYTES", 16)
    verdict, _ = inspect(b"a_long_column_name,another_long_one\n1,2\n3,4\n")
    assert verdict.estado == "skipped"
    assert verdict.num_registros is None
    assert verdict.reason is not None
    assert "no complete record in the first 16 B (the dialect probe bound)" in verdict.reason


def test_first_record_longer_than_the_probe_counts_with_a_full_override(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dialect, "PROBE_BYTES", 16)
    rules = parse_csv_dialects("memory=delimiter:comma,header:present")
    limits = InspectionLimits(csv_dialects=rules)
    verdict, _ = inspect(b"a_long_column_name,another_long_one\n1,2\n3,4\n", limits=limits)
    assert (verdict.estado, verdict.num_registros) == ("ok", 2)
    assert "columns" not in verdict.details
    assert verdict.details["dialect"]["configured"] == ["delimiter", "header"]


@pytest.mark.parametrize("ahead", [True, False], ids=["inflate-ahead", "inflate-inline"])
def test_gzip_is_counted_and_checked_with_or_without_a_spare_core(
    monkeypatch: pytest.MonkeyPatch, ahead: bool
) -> None:
    monkeypatch.setattr(streams, "_spare_core", lambda: ahead)
    monkeypatch.setattr(streams, "INFLATE_AHEAD_MIN_BYTES", 0)
    threads: list[object] = []

    class Counted(streams._Ahead):
        def __init__(self, chunks: Iterator[bytes]) -> None:
            threads.append(self)
            super().__init__(chunks)

    monkeypatch.setattr(streams, "_Ahead", Counted)
    plain = b"a,b\n" + b"".join(b'%d,"v\n%d"\n' % (i, i) for i in range(50_000))
    limits = InspectionLimits(block_size=16 * 1024)
    verdict, _ = inspect(gzip.compress(plain) + b"\x00" * 10, key="d.csv.gz", limits=limits)
    assert (verdict.estado, verdict.num_registros) == ("ok", 50_000)
    corrupt = bytearray(gzip.compress(plain))
    corrupt[len(corrupt) // 2 : len(corrupt) // 2 + 64] = b"\xff" * 64
    verdict, _ = inspect(bytes(corrupt), key="d.csv.gz", limits=limits)
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert verdict.reason.startswith("corrupt gzip stream")
    verdict, _ = inspect(gzip.compress(plain)[:-100], key="d.csv.gz", limits=limits)
    assert verdict.reason == "truncated gzip stream: it ends before its end marker"
    assert len(threads) == (3 if ahead else 0)
    assert not [t for t in threading.enumerate() if t.name == "notifier-inflate"]


def test_a_parse_error_stops_the_inflating_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams, "_spare_core", lambda: True)
    monkeypatch.setattr(streams, "INFLATE_AHEAD_MIN_BYTES", 0)
    plain = b"a,b\n1,2\n3,4,5\n" + b"6,7\n" * 500_000
    verdict, _ = inspect(gzip.compress(plain), key="d.csv.gz")
    assert verdict.estado == "error"
    assert not [t for t in threading.enumerate() if t.name == "notifier-inflate"]
