"""Parquet: the row count from the footer alone, fetched with ranged reads.

A Parquet file ends with ``<metadata><4-byte little-endian length>PAR1``. One ranged
read of the tail usually holds the whole footer; a larger footer costs a second one.
The metadata is then parsed by pyarrow from memory, never from the object.
"""

from __future__ import annotations

import struct
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from notifier.inspection.base import human_bytes, one_line
from notifier.inspection.datasets.formats import Counted, DatasetFormat
from notifier.inspection.errors import Unreadable
from notifier.inspection.guard import SourceGuard

TAIL_READ_BYTES: Final = 64 * 1024
"""First ranged read from the end; pyarrow's own first footer read is the same size."""

MAX_DETAIL_COLUMNS: Final = 1000
"""Column names kept in details; wider files report ``num_columns`` and a truncated list."""

MAGIC: Final = b"PAR1"
ENCRYPTED_MAGIC: Final = b"PARE"
_TRAILER = struct.Struct("<I4s")
_MIN_FILE_BYTES: Final = len(MAGIC) + _TRAILER.size


def count_parquet(guard: SourceGuard, fmt: DatasetFormat) -> Counted:
    del fmt  # one Parquet flavour; the signature is shared with the other counters
    metadata = _parse(_read_footer(guard))
    rows = int(metadata.num_rows)
    if rows < 0:
        raise Unreadable(f"corrupt Parquet footer: {rows} rows")
    return Counted(rows, _details(metadata))


def _read_footer(guard: SourceGuard) -> bytes:
    size = guard.source.size
    if size is None:
        raise Unreadable("object size is unknown, so its Parquet footer cannot be located")
    if size < _MIN_FILE_BYTES:
        raise Unreadable(f"not a Parquet file: {size} bytes is too small")
    tail_length = min(size, TAIL_READ_BYTES)
    tail = guard.read_range(size - tail_length, tail_length)
    length, magic = _TRAILER.unpack(tail[-_TRAILER.size :])
    if magic == ENCRYPTED_MAGIC:
        raise Unreadable("Parquet file with an encrypted footer; it cannot be read without keys")
    if magic != MAGIC:
        raise Unreadable("not a Parquet file: it does not end with the PAR1 marker")
    if length > guard.limits.max_parquet_footer_bytes:
        raise Unreadable(
            f"Parquet footer is {human_bytes(length)}, over the"
            f" {human_bytes(guard.limits.max_parquet_footer_bytes)} footer cap"
        )
    if length + _MIN_FILE_BYTES > size:
        raise Unreadable(f"corrupt Parquet file: footer length {length} exceeds the file")
    in_tail = tail_length - _TRAILER.size
    if length <= in_tail:
        return tail[in_tail - length : in_tail]
    head = guard.read_range(size - _TRAILER.size - length, length - in_tail)
    return head + tail[:in_tail]


def _parse(footer: bytes) -> Any:
    # A minimal file holding just the footer: pyarrow parses metadata from its own
    # reader only, and this one is in memory.
    minimal = MAGIC + footer + _TRAILER.pack(len(footer), MAGIC)
    try:
        return pq.read_metadata(pa.BufferReader(minimal))
    except (OSError, pa.ArrowException) as exc:
        raise Unreadable(f"corrupt Parquet footer: {one_line(str(exc))}") from None


def _details(metadata: Any) -> dict[str, Any]:
    columns = _column_names(metadata)
    details: dict[str, Any] = {
        "columns": columns[:MAX_DETAIL_COLUMNS],
        "num_columns": len(columns),
        "num_row_groups": int(metadata.num_row_groups),
    }
    if len(columns) > MAX_DETAIL_COLUMNS:
        details["columns_truncated"] = True
    return details


def _column_names(metadata: Any) -> list[str]:
    """Top-level field names; leaf column paths when the schema has no Arrow mapping."""
    try:
        return [str(name) for name in metadata.schema.to_arrow_schema().names]
    except (pa.ArrowException, ValueError, TypeError):
        return [str(name) for name in metadata.schema.names]
