"""Dataset objects (ingestion, transformation): recognise the format, apply caps, count.

``FORMATS`` is the registry: one ``FormatSpec`` line per format and one ``Codec`` line
per compression. A new format is one module with a counter and one line here.
"""

from __future__ import annotations

from typing import Any, Final

from notifier.inspection.base import Inspection, human_bytes
from notifier.inspection.datasets.csv import count_csv
from notifier.inspection.datasets.formats import (
    LONG_SNIFF_BYTES,
    SNIFF_BYTES,
    Codec,
    DatasetFormat,
    Detection,
    FormatRegistry,
    FormatSpec,
    bunzip2_head,
    gunzip_head,
    matches,
    starts_with,
    unxz_head,
)
from notifier.inspection.datasets.json_records import count_json_document, count_json_lines
from notifier.inspection.datasets.parquet import count_parquet
from notifier.inspection.datasets.sniff import sniffing
from notifier.inspection.guard import SourceGuard, run_guarded

FORMATS: Final = FormatRegistry(
    formats=(
        FormatSpec("csv", "CSV", count_csv, (".csv",), ("text/csv", "application/csv")),
        FormatSpec("tsv", "TSV", count_csv, (".tsv",), ("text/tab-separated-values",)),
        FormatSpec(
            "jsonl",
            "JSON Lines",
            count_json_lines,
            (".jsonl", ".ndjson"),
            ("application/x-ndjson", "application/jsonl", "application/x-jsonlines"),
        ),
        FormatSpec("json", "JSON", count_json_document, (".json",), ("application/json",)),
        FormatSpec(
            "parquet",
            "Parquet",
            count_parquet,
            (".parquet", ".pq"),
            ("application/vnd.apache.parquet", "application/x-parquet"),
            magic=starts_with(b"PAR1"),
            streamed=False,
        ),
        FormatSpec("avro", "an Avro container", None, (".avro",), magic=starts_with(b"Obj\x01")),
        FormatSpec("orc", "ORC", None, (".orc",), magic=starts_with(b"ORC")),
        FormatSpec(
            "arrow", "Arrow IPC", None, (".arrow", ".feather"), magic=starts_with(b"ARROW1")
        ),
        FormatSpec("hdf5", "HDF5", None, (".h5", ".hdf5"), magic=starts_with(b"\x89HDF\r\n\x1a\n")),
        FormatSpec("npy", "a NumPy array", None, (".npy",), magic=starts_with(b"\x93NUMPY")),
        FormatSpec(
            "zip",
            "a ZIP archive (.zip, .xlsx, .npz)",
            None,
            (".zip", ".xlsx", ".npz"),
            magic=starts_with(b"PK\x03\x04", b"PK\x05\x06"),
        ),
        FormatSpec(
            "xls",
            "an OLE2 document (.xls)",
            None,
            (".xls",),
            magic=starts_with(b"\xd0\xcf\x11\xe0"),
        ),
        FormatSpec(
            "pickle",
            "a Python pickle (never unpickled)",
            None,
            (".pkl", ".pickle", ".joblib"),
            magic=matches(rb"\x80[\x02-\x05]"),
        ),
    ),
    codecs=(
        Codec("gzip", (".gz", ".gzip"), starts_with(b"\x1f\x8b"), gunzip_head),
        Codec("bz2", (".bz2",), matches(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)"), bunzip2_head),
        Codec("xz", (".xz",), starts_with(b"\xfd7zXZ\x00"), unxz_head),
        Codec("zstd", (".zst", ".zstd"), starts_with(b"\x28\xb5\x2f\xfd")),
    ),
)


def inspect_dataset(guard: SourceGuard) -> Inspection:
    source = guard.source
    claim = FORMATS.claim(source.key, source.content_type)
    if claim.spec is not None and claim.spec.streamed and _over_cap(guard):
        return _skipped_over_cap(guard, claim.spec.name)
    return run_guarded(guard, claim.spec.name if claim.spec else None, lambda: _inspect(guard))


def _over_cap(guard: SourceGuard) -> bool:
    size = guard.source.size
    return size is not None and size > guard.limits.max_scan_bytes


def _skipped_over_cap(guard: SourceGuard, name: str) -> Inspection:
    size, cap = guard.source.size or 0, guard.limits.max_scan_bytes
    return Inspection.skipped(
        name, f"object is {human_bytes(size)}, over the {human_bytes(cap)} scan cap"
    )


def _inspect(guard: SourceGuard) -> Inspection:
    source = guard.source
    claim = FORMATS.claim(source.key, source.content_type)
    if claim.spec is not None and not claim.spec.streamed and claim.codec is None:
        # Ranged reads only (Parquet): its reader checks the magic bytes at both ends.
        detection = Detection(claim.spec, None, {"format": claim.spec_source or "suffix"})
        return _count_detected(guard, detection)
    with sniffing(guard) as sniffed:
        head = sniffed.read_head(SNIFF_BYTES)
        codec = FORMATS.codec_of(head)
        body = head
        if codec is not None and codec.head is not None:
            body = codec.head(head)
            if not body and claim.spec is None and len(head) == SNIFF_BYTES:
                body = codec.head(sniffed.read_head(LONG_SNIFF_BYTES))
        detection = FORMATS.detect(source.key, source.content_type, head, body)
        return _count_detected(guard, detection)


def _count_detected(guard: SourceGuard, detection: Detection) -> Inspection:
    fmt = detection.format
    if detection.skip is not None or fmt is None:
        name = fmt.name if fmt else None
        return Inspection.skipped(name, detection.skip or "unsupported format", detection.details())
    if fmt.scanned and _over_cap(guard):
        return _skipped_over_cap(guard, fmt.name)
    return run_guarded(guard, fmt.name, lambda: _count(guard, fmt, detection))


def _count(guard: SourceGuard, fmt: DatasetFormat, detection: Detection) -> Inspection:
    count = detection.spec.count if detection.spec else None
    assert count is not None, "detect() names only countable formats"
    counted = count(guard, fmt)
    details: dict[str, Any] = {**counted.details, **detection.details()}
    return Inspection.ok(fmt.name, counted.records, details)
