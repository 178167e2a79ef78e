"""CSV counting through the S3 source production uses, against a real SeaweedFS: which
counter ran (an exact scanner, or pyarrow from the first byte again), and exact counts."""

from __future__ import annotations

import gzip
import io
import logging

import pytest
from minio import Minio

from notifier.config import S3Settings
from notifier.devstack.servers import LocalSeaweedFS
from notifier.inspection import Inspection, InspectionLimits, Phase, inspect_object
from notifier.inspection.datasets import csv as csv_inspection
from notifier.inspection.datasets.csv_scanner import compiled_scanner
from notifier.storage import ObjectStore, S3ObjectSource, make_client
from tests.conftest import S3_ACCESS_KEY, S3_SECRET_KEY, Buckets

CSV_LOGGER = "notifier.inspection.datasets.csv"


def rows(count: int, end: str = "\n") -> str:
    """``count`` records with quoted delimiters, doubled quotes and quoted newlines."""
    lines = []
    for i in range(count):
        note = f'"note {i}, with a comma{end}and a ""quoted"" word"' if i % 3 == 0 else f"n{i}"
        lines.append(f"{i},{note},{i * 7 % 1000}.5{end}")
    return "".join(lines)


def put_and_inspect(
    s3_server: LocalSeaweedFS, s3_client: Minio, bucket: str, key: str, data: bytes
) -> tuple[Inspection, S3ObjectSource]:
    s3_client.put_object(bucket, key, io.BytesIO(data), len(data))
    store = ObjectStore(make_client(S3Settings(s3_server.endpoint, S3_ACCESS_KEY, S3_SECRET_KEY)))
    source = store.source(bucket, key, store.stat(bucket, key))
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
    return verdict, source


def counted_by(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage().split(":")[0]
        for record in caplog.records
        if record.name == CSV_LOGGER and "counted" in record.getMessage()
    ]


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_a_well_formed_csv_is_counted_fast_in_one_read(
    s3_server: LocalSeaweedFS,
    s3_client: Minio,
    buckets: Buckets,
    caplog: pytest.LogCaptureFixture,
    end: str,
) -> None:
    caplog.set_level(logging.DEBUG, logger=CSV_LOGGER)
    data = (f"id,note,amount{end}" + rows(120_000, end)).encode()
    # Several blocks (quoted newlines across their boundaries), under the large-object size.
    assert 3 << 20 < len(data) < csv_inspection.FAST_FIRST_MAX_BYTES
    verdict, source = put_and_inspect(s3_server, s3_client, buckets.raw, "fast.csv", data)
    assert (verdict.estado, verdict.num_registros) == ("ok", 120_000)
    assert verdict.details["columns"] == ["id", "note", "amount"]
    assert counted_by(caplog) == ["counted fast"]
    assert source.bytes_read == len(data)  # one GET, read once


def test_a_gzipped_csv_is_counted_fast(
    s3_server: LocalSeaweedFS, s3_client: Minio, buckets: Buckets, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=CSV_LOGGER)
    data = gzip.compress(("id,note,amount\n" + rows(60_000)).encode())
    assert len(data) < csv_inspection.FAST_FIRST_MAX_BYTES // 8
    verdict, source = put_and_inspect(s3_server, s3_client, buckets.raw, "fast.csv.gz", data)
    assert (verdict.estado, verdict.num_registros) == ("ok", 60_000)
    assert counted_by(caplog) == ["counted fast"]
    assert source.bytes_read == len(data)


def test_a_ragged_record_past_the_probe_falls_back_and_is_reported(
    s3_server: LocalSeaweedFS, s3_client: Minio, buckets: Buckets, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=CSV_LOGGER)
    data = ("id,note,amount\n" + rows(40_000) + "1,2\n" + rows(10)).encode()
    verdict, source = put_and_inspect(s3_server, s3_client, buckets.raw, "ragged.csv", data)
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "Expected 3 columns, got 2" in verdict.reason
    assert counted_by(caplog) == ["not counted fast (a record with another number of fields,"
                                  " or a blank line)", "counted by pyarrow"]  # fmt: skip
    assert source.bytes_read > len(data)  # a second GET from the first byte


def test_quotes_inside_unquoted_fields_are_counted_by_pyarrow(
    s3_server: LocalSeaweedFS, s3_client: Minio, buckets: Buckets, caplog: pytest.LogCaptureFixture
) -> None:
    """A column of inches (5'11"): quote parity would pair the quotes of two records and
    count one record too few; pyarrow reads them as text, and its count stands."""
    caplog.set_level(logging.DEBUG, logger=CSV_LOGGER)
    body = "".join(f"p{i},{5 + i % 2}'{i % 12}\",x\n" for i in range(1000))
    data = ("name,height,other\n" + body).encode()
    verdict, _ = put_and_inspect(s3_server, s3_client, buckets.raw, "inches.csv", data)
    assert (verdict.estado, verdict.num_registros) == ("ok", 1000)
    assert counted_by(caplog) == [
        "not counted fast (a quote inside an unquoted field)",
        "counted by pyarrow",
    ]


@pytest.mark.parametrize(
    ("compiled", "counter"), [(True, "counted fast"), (False, "counted by pyarrow")]
)
def test_a_large_object_is_counted_in_one_read(
    s3_server: LocalSeaweedFS,
    s3_client: Minio,
    buckets: Buckets,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    compiled: bool,
    counter: str,
) -> None:
    """Past FAST_FIRST_MAX_BYTES the compiled scanner counts; built without a C compiler,
    pyarrow does (its parse releases the GIL and overlaps with the download, where the
    bytes-operation counter would hold it). One read either way."""
    if compiled:
        assert compiled_scanner() is not None, "the compiled CSV scanner is not built"
    else:
        monkeypatch.setattr(csv_inspection, "compiled_scanner", lambda: None)
    caplog.set_level(logging.DEBUG, logger=CSV_LOGGER)
    data = ("id,note,amount\n" + rows(150_000)).encode()
    assert len(data) > csv_inspection.FAST_FIRST_MAX_BYTES
    verdict, source = put_and_inspect(s3_server, s3_client, buckets.raw, "large.csv", data)
    assert (verdict.estado, verdict.num_registros) == ("ok", 150_000)
    assert counted_by(caplog) == [counter]
    assert source.bytes_read == len(data)
