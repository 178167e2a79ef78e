"""CSV and TSV counting (notifier.inspection.datasets.csv) over in-memory objects."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

from notifier.inspection import BytesSource, Inspection, InspectionLimits, Phase, inspect_object
from notifier.inspection.datasets import csv as csv_inspection


def inspect(
    data: bytes, key: str = "data.csv", limits: InspectionLimits | None = None
) -> tuple[Inspection, BytesSource]:
    source = BytesSource(data, key)
    verdict = inspect_object(Phase.INGESTION, source, limits or InspectionLimits())
    json.dumps(verdict.details)  # always JSON-serialisable
    return verdict, source


def test_quoted_fields_may_hold_delimiters_newlines_and_quotes() -> None:
    data = b'id,text\n1,"a, b"\n2,"line one\nline two"\n3,"say ""hi"", then\r\nleave"\n4,plain\n'
    verdict, source = inspect(data)
    assert verdict == Inspection(
        "ok", 4, None, "csv", {"columns": ["id", "text"], "num_columns": 2}
    )
    assert source.bytes_read == len(data)


def test_header_only_counts_zero_rows_with_or_without_final_newline() -> None:
    for data in (b"a,b,c\n", b"a,b,c", b"a,b,c\r\n"):
        verdict, _ = inspect(data)
        assert verdict.estado == "ok"
        assert verdict.num_registros == 0
        assert verdict.details["columns"] == ["a", "b", "c"]


def test_last_row_without_final_newline_is_counted() -> None:
    verdict, _ = inspect(b"a,b\n1,2\n3,4")
    assert verdict.num_registros == 2


def test_zero_byte_and_blank_objects_are_empty_not_errors() -> None:
    for data in (b"", b"\n\n", b"\r\n"):
        verdict, _ = inspect(data)
        assert verdict == Inspection("ok", 0, None, "csv", {"columns": [], "num_columns": 0})


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
    assert verdict == Inspection("ok", 3, None, "tsv", {"columns": ["a", "b"], "num_columns": 2})


def test_gzip_csv_is_decompressed_while_streaming() -> None:
    plain = b"a,b\n" + b"".join(b'%d,"v,%d"\n' % (i, i) for i in range(5000))
    verdict, source = inspect(gzip.compress(plain), key="d.csv.gz")
    assert verdict.estado == "ok"
    assert verdict.num_registros == 5000
    assert verdict.details == {"columns": ["a", "b"], "num_columns": 2, "compression": "gzip"}
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


def test_header_longer_than_the_probe_still_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_inspection, "HEADER_PROBE_BYTES", 16)
    verdict, _ = inspect(b"a_long_column_name,another_long_one\n1,2\n3,4\n")
    assert verdict.num_registros == 2
    assert verdict.details == {"columns": None}
