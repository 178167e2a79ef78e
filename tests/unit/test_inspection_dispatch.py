"""inspect_object's contract: routing, caps, timeouts, and which failures propagate."""

from __future__ import annotations

import gzip
import io
import json
import time
from collections.abc import Callable
from dataclasses import replace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from notifier.inspection import (
    BytesSource,
    ByteStream,
    Inspection,
    InspectionLimits,
    Phase,
    inspect_object,
)
from notifier.inspection import datasets as dataset_inspection
from notifier.inspection.datasets.formats import SNIFF_BYTES, FormatRegistry

GIB = 1024**3


def csv_bytes(rows: int) -> bytes:
    return b"id,text\n" + b"".join(b'%d,"row %d, with comma"\n' % (i, i) for i in range(rows))


def parquet_bytes() -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"a": list(range(100))}), sink)
    return sink.getvalue()


class _FailingStream:
    def __init__(self, data: bytes, fail_after: int, error: Exception) -> None:
        self._data = io.BytesIO(data)
        self._fail_after = fail_after
        self._error = error

    def read(self, size: int = -1, /) -> bytes:
        if self._data.tell() >= self._fail_after:
            raise self._error
        return self._data.read(min(size, self._fail_after - self._data.tell()))

    def close(self) -> None:
        self._data.close()


class FailingSource(BytesSource):
    """A source whose transport breaks after ``fail_after`` bytes of any read."""

    fail_after: int = 0
    error: Exception = ConnectionError("connection reset by peer")

    def open_stream(self) -> ByteStream:
        if self.fail_after < 0:
            raise self.error
        return _FailingStream(self.data, self.fail_after, self.error)

    def read_range(self, offset: int, length: int) -> bytes:
        raise self.error


class _SlowStream:
    def __init__(self, owner: SlowSource) -> None:
        self._owner = owner
        self._data = io.BytesIO(owner.data)

    def read(self, size: int = -1, /) -> bytes:
        time.sleep(self._owner.delay)
        chunk = self._data.read(size)
        self._owner.bytes_read += len(chunk)
        return chunk

    def close(self) -> None:
        self._data.close()


class SlowSource(BytesSource):
    delay = 0.02

    def open_stream(self) -> ByteStream:
        return _SlowStream(self)


def failing(data: bytes, key: str, fail_after: int, error: Exception) -> FailingSource:
    source = FailingSource(data, key)
    source.fail_after = fail_after
    source.error = error
    return source


CASES: dict[str, tuple[Phase, str, Callable[[], bytes], int]] = {
    "csv mid-stream": (Phase.INGESTION, "d.csv", lambda: csv_bytes(50_000), 300_000),
    "csv first read": (Phase.INGESTION, "d.csv", lambda: csv_bytes(10), 0),
    "csv open": (Phase.INGESTION, "d.csv", lambda: csv_bytes(10), -1),
    "gzip csv": (Phase.INGESTION, "d.csv.gz", lambda: gzip.compress(csv_bytes(50_000)), 50_000),
    "tsv": (Phase.TRANSFORMATION, "d.tsv", lambda: b"a\tb\n" + b"1\t2\n" * 100_000, 100_000),
    "json lines": (
        Phase.INGESTION,
        "d.jsonl",
        lambda: b"".join(b'{"i": %d}\n' % i for i in range(100_000)),
        200_000,
    ),
    "json array": (
        Phase.INGESTION,
        "d.json",
        lambda: json.dumps(list(range(100_000))).encode(),
        100_000,
    ),
    "parquet": (Phase.INGESTION, "d.parquet", parquet_bytes, 0),
    "model card": (Phase.TRAINING, "m.json", lambda: b'{"epochs": 3}', 4),
    "results": (Phase.EVALUATION, "r.json", lambda: b'{"accuracy": 0.9}', 4),
    "results csv": (Phase.EVALUATION, "r.csv", lambda: csv_bytes(50_000), 300_000),
}


@pytest.mark.parametrize("case", CASES)
def test_source_failures_propagate_unchanged(case: str) -> None:
    phase, key, make, fail_after = CASES[case]
    error = ConnectionError(f"reset during {case}")
    source = failing(make(), key, fail_after, error)
    with pytest.raises(ConnectionError) as raised:
        inspect_object(phase, source, InspectionLimits(block_size=64 * 1024))
    assert raised.value is error


def test_source_failure_of_any_type_propagates() -> None:
    class S3Unavailable(Exception):
        pass

    error = S3Unavailable("503 SlowDown")
    source = failing(csv_bytes(50_000), "d.csv", 100_000, error)
    with pytest.raises(S3Unavailable) as raised:
        inspect_object(Phase.INGESTION, source, InspectionLimits(block_size=64 * 1024))
    assert raised.value is error


def test_tiny_time_budget_times_out_a_big_csv() -> None:
    source = BytesSource(csv_bytes(200_000), "big.csv")
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits(timeout_seconds=1e-6))
    assert verdict == Inspection("error", None, "inspection timed out after 1e-06 s", "csv", {})
    assert source.bytes_read < source.data.__len__() // 2


@pytest.mark.parametrize(
    ("key", "make"),
    [
        ("slow.csv", lambda: csv_bytes(200_000)),
        ("slow.csv.gz", lambda: gzip.compress(csv_bytes(200_000))),
        ("slow.jsonl", lambda: b"".join(b'{"i": %d}\n' % i for i in range(200_000))),
        ("slow.json", lambda: json.dumps(list(range(400_000))).encode()),
    ],
)
def test_slow_object_times_out_mid_stream(key: str, make: Callable[[], bytes]) -> None:
    source = SlowSource(make(), key)
    limits = InspectionLimits(timeout_seconds=0.3, block_size=16 * 1024)
    started = time.monotonic()
    verdict = inspect_object(Phase.INGESTION, source, limits)
    elapsed = time.monotonic() - started
    assert verdict.estado == "error"
    assert verdict.reason == "inspection timed out after 0.3 s"
    assert 0.3 <= elapsed < 3
    assert 0 < source.bytes_read < len(source.data) // 2


@pytest.mark.parametrize(
    ("key", "content_type", "reason"),
    [
        ("a/b/weights.bin", None, "unsupported format '.bin'"),
        ("notes.txt", "text/plain", "unsupported format '.txt', content type 'text/plain'"),
        ("archive.tar.gz", None, "unsupported format '.tar.gz'"),
        ("README", None, "unsupported format (no file extension)"),
    ],
)
def test_unsupported_formats_are_skipped_after_their_first_bytes(
    key: str, content_type: str | None, reason: str
) -> None:
    source = BytesSource(b"a,b\n1,2\n" * 1000, key, content_type=content_type)
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
    assert (verdict.estado, verdict.reason, verdict.format) == ("skipped", reason, None)
    assert source.bytes_read == SNIFF_BYTES


def test_content_type_names_the_format_when_the_key_does_not() -> None:
    source = BytesSource(b"a,b\n1,2\n3,4\n", "upload-123", content_type="text/csv; charset=utf-8")
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
    assert (verdict.estado, verdict.format, verdict.num_registros) == ("ok", "csv", 2)


def test_content_type_with_gz_key() -> None:
    data = gzip.compress(b'{"a": 1}\n{"a": 2}\n')
    source = BytesSource(data, "export.gz", content_type="application/x-ndjson")
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
    assert (verdict.format, verdict.num_registros) == ("jsonl", 2)
    assert verdict.details["compression"] == "gzip"


def test_text_object_over_the_scan_cap_is_skipped_unread() -> None:
    source = BytesSource(csv_bytes(10), "huge.csv")
    source.size = 12 * GIB
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
    assert verdict == Inspection(
        "skipped", None, "object is 12 GiB, over the 10 GiB scan cap", "csv", {}
    )
    assert source.bytes_read == 0


def test_stream_longer_than_the_scan_cap_is_stopped() -> None:
    source = BytesSource(csv_bytes(50_000), "unknown-size.csv")
    source.size = None
    limits = InspectionLimits(max_scan_bytes=100_000, block_size=16 * 1024)
    verdict = inspect_object(Phase.INGESTION, source, limits)
    assert verdict == Inspection(
        "skipped", None, "object is larger than the 97.66 KiB scan cap", "csv", {}
    )
    assert source.bytes_read <= 100_000 + 16 * 1024


def test_a_bug_in_a_counter_becomes_an_error_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> object:
        raise ZeroDivisionError("division by zero")

    registry = dataset_inspection.FORMATS
    specs = [
        replace(spec, count=broken) if spec.name == "csv" else spec for spec in registry.formats
    ]
    monkeypatch.setattr(dataset_inspection, "FORMATS", FormatRegistry(specs, registry.codecs))
    verdict = inspect_object(Phase.INGESTION, BytesSource(b"a\n1\n", "d.csv"), InspectionLimits())
    assert verdict == Inspection(
        "error", None, "unexpected error: ZeroDivisionError: division by zero", "csv", {}
    )


def test_phase_table_names_are_accepted_as_phases() -> None:
    verdict = inspect_object(
        Phase("ingestion_events"), BytesSource(b"a\n1\n", "d.csv"), InspectionLimits()
    )
    assert verdict.num_registros == 1


@pytest.mark.parametrize(
    "field",
    ["max_scan_bytes", "max_json_document_bytes", "max_parquet_footer_bytes", "block_size"],
)
def test_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        InspectionLimits(**{field: 0})


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout_seconds"):
        InspectionLimits(timeout_seconds=0)
