"""Parquet row counts from the footer alone (notifier.inspection.datasets.parquet)."""

from __future__ import annotations

import io
import os
import struct

import pyarrow as pa
import pyarrow.parquet as pq

from notifier.inspection import (
    BytesSource,
    ByteStream,
    Inspection,
    InspectionLimits,
    Phase,
    inspect_object,
)
from notifier.inspection.datasets import parquet as parquet_inspection


class RangeRecordingSource(BytesSource):
    """Remembers every ranged read and fails the test if the object is streamed."""

    ranges: list[tuple[int, int]]

    def __post_init__(self) -> None:
        super().__post_init__()
        self.ranges = []

    def open_stream(self) -> ByteStream:
        raise AssertionError("a Parquet count must not stream the object")

    def read_range(self, offset: int, length: int) -> bytes:
        self.ranges.append((offset, length))
        return super().read_range(offset, length)


def parquet_bytes(table: pa.Table, **options: object) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


def inspect(
    data: bytes, key: str = "d.parquet", limits: InspectionLimits | None = None
) -> tuple[Inspection, RangeRecordingSource]:
    source = RangeRecordingSource(data, key)
    return inspect_object(Phase.TRANSFORMATION, source, limits or InspectionLimits()), source


def test_20_mb_file_is_counted_reading_under_1_mb() -> None:
    rows = 20_000
    table = pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "blob": pa.array([os.urandom(1000) for _ in range(rows)], pa.binary()),
        }
    )
    data = parquet_bytes(table, compression="none", row_group_size=2_000)
    assert len(data) > 20_000_000
    verdict, source = inspect(data)
    assert verdict == Inspection(
        "ok",
        rows,
        None,
        "parquet",
        {"columns": ["id", "blob"], "num_columns": 2, "num_row_groups": 10},
    )
    assert source.bytes_read < 1_000_000
    assert source.ranges == [(len(data) - parquet_inspection.TAIL_READ_BYTES, 64 * 1024)]


def test_footer_larger_than_the_first_tail_read_takes_a_second_range() -> None:
    width = 1500
    table = pa.table({f"column_{i:04d}": pa.array([i, i + 1, i + 2]) for i in range(width)})
    data = parquet_bytes(table)
    footer_length = struct.unpack("<I", data[-8:-4])[0]
    assert footer_length > parquet_inspection.TAIL_READ_BYTES
    verdict, source = inspect(data)
    assert verdict.estado == "ok"
    assert verdict.num_registros == 3
    assert verdict.details["num_columns"] == width
    assert len(verdict.details["columns"]) == parquet_inspection.MAX_DETAIL_COLUMNS
    assert verdict.details["columns_truncated"] is True
    assert len(source.ranges) == 2
    assert source.bytes_read == footer_length + 8


def test_small_file_is_read_in_one_range() -> None:
    data = parquet_bytes(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
    verdict, source = inspect(data, key="dir/FILE.PQ")
    assert (verdict.estado, verdict.num_registros) == ("ok", 3)
    assert source.ranges == [(0, len(data))]


def test_nested_columns_are_reported_by_top_level_name() -> None:
    table = pa.table(
        {
            "point": pa.array([{"x": 1, "y": 2}, {"x": 3, "y": 4}]),
            "tags": pa.array([["a"], ["b", "c"]]),
        }
    )
    verdict, _ = inspect(parquet_bytes(table))
    assert verdict.num_registros == 2
    assert verdict.details["columns"] == ["point", "tags"]


def test_zero_rows() -> None:
    table = pa.table({"a": pa.array([], pa.int32())})
    verdict, _ = inspect(parquet_bytes(table))
    assert (verdict.estado, verdict.num_registros) == ("ok", 0)


def test_not_a_parquet_file_is_an_error() -> None:
    verdict, source = inspect(b"id,name\n1,ana\n2,luis\n" * 100)
    assert verdict == Inspection(
        "error", None, "not a Parquet file: it does not end with the PAR1 marker", "parquet", {}
    )
    assert source.bytes_read <= parquet_inspection.TAIL_READ_BYTES


def test_tiny_object_is_an_error() -> None:
    verdict, _ = inspect(b"PAR1")
    assert verdict.estado == "error"
    assert verdict.reason == "not a Parquet file: 4 bytes is too small"


def test_garbage_footer_is_an_error() -> None:
    garbage = os.urandom(200)
    data = b"PAR1" + b"\0" * 100 + garbage + struct.pack("<I", len(garbage)) + b"PAR1"
    verdict, _ = inspect(data)
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert verdict.reason.startswith("corrupt Parquet footer")


def test_footer_length_beyond_the_file_is_an_error() -> None:
    data = b"PAR1" + b"\0" * 20 + struct.pack("<I", 10_000) + b"PAR1"
    verdict, _ = inspect(data)
    assert verdict.estado == "error"
    assert verdict.reason == "corrupt Parquet file: footer length 10000 exceeds the file"


def test_footer_over_the_cap_is_an_error_without_reading_it() -> None:
    data = parquet_bytes(pa.table({"a": list(range(100))}))
    verdict, source = inspect(data, limits=InspectionLimits(max_parquet_footer_bytes=64))
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "over the 64 B footer cap" in verdict.reason
    assert len(source.ranges) == 1


def test_truncated_file_is_an_error() -> None:
    data = parquet_bytes(pa.table({"a": list(range(1000))}))
    verdict, _ = inspect(data[: len(data) // 2])
    assert verdict.estado == "error"
    assert verdict.reason == "not a Parquet file: it does not end with the PAR1 marker"


def test_encrypted_footer_is_reported_as_such() -> None:
    data = b"PARE" + b"\0" * 100 + struct.pack("<I", 50) + b"PARE"
    verdict, _ = inspect(data)
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "encrypted footer" in verdict.reason


def test_unknown_size_is_an_error() -> None:
    source = RangeRecordingSource(parquet_bytes(pa.table({"a": [1]})), "d.parquet")
    source.size = None
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "size is unknown" in verdict.reason
    assert source.ranges == []


def test_object_shorter_than_its_stated_size_is_an_error() -> None:
    data = parquet_bytes(pa.table({"a": [1, 2]}))
    source = RangeRecordingSource(data, "d.parquet")
    source.size = len(data) + 100
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert verdict.reason.startswith("object is shorter than its size says")


def test_parquet_is_not_subject_to_the_scan_cap() -> None:
    data = parquet_bytes(pa.table({"a": list(range(50))}))
    verdict, _ = inspect(data, limits=InspectionLimits(max_scan_bytes=10))
    assert (verdict.estado, verdict.num_registros) == ("ok", 50)
