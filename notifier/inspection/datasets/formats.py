"""Which dataset format an object is, from its key (first) or its content type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

SUFFIX_FORMATS: Final[Mapping[str, str]] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}
"""Key suffixes (lower-cased) of the dataset formats inspection can count."""

CONTENT_TYPE_FORMATS: Final[Mapping[str, str]] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/json": "json",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
}
"""Fallback when the key has no known suffix; uploaders often leave a generic type."""

GZIP_SUFFIX: Final = ".gz"
GZIP_FORMATS: Final = frozenset({"csv", "tsv", "jsonl", "json"})
"""Formats read as a stream, so a gzip layer costs nothing; Parquet compresses inside."""


@dataclass(frozen=True)
class DatasetFormat:
    name: str
    gzipped: bool = False

    @property
    def scanned(self) -> bool:
        """Whether counting reads the whole object (Parquet reads only its footer)."""
        return self.name != "parquet"


@dataclass(frozen=True)
class Counted:
    """What a format's counter found: records and JSON-serialisable details."""

    records: int
    details: Mapping[str, Any] = field(default_factory=dict)


def detect_dataset_format(key: str, content_type: str | None) -> DatasetFormat | None:
    suffix, gzipped = _suffix(key)
    name = SUFFIX_FORMATS.get(suffix)
    if name is None and content_type:
        name = CONTENT_TYPE_FORMATS.get(content_type.split(";", 1)[0].strip().lower())
    if name is None or (gzipped and name not in GZIP_FORMATS):
        return None
    return DatasetFormat(name, gzipped)


def unsupported_reason(key: str, content_type: str | None) -> str:
    suffix, gzipped = _suffix(key)
    shown = suffix + (GZIP_SUFFIX if gzipped else "")
    what = f"unsupported format '{shown}'" if shown else "unsupported format (no file extension)"
    return f"{what}, content type '{content_type}'" if content_type else what


def has_suffix(key: str, suffix: str) -> bool:
    return _file_name(key).endswith(suffix)


def _suffix(key: str) -> tuple[str, bool]:
    """(".csv", True) for ``a/b.CSV.gz``, ("", True) for ``b.gz``, ("", False) for ``b``."""
    name = _file_name(key)
    gzipped = name.endswith(GZIP_SUFFIX)
    if gzipped:
        name = name.removesuffix(GZIP_SUFFIX)
    dot = name.rfind(".")
    return (name[dot:] if dot >= 0 else ""), gzipped


def _file_name(key: str) -> str:
    return key.rsplit("/", 1)[-1].lower()
