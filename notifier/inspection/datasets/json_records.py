"""JSON Lines and JSON arrays: count records streaming, in constant memory.

JSON Lines are counted by pyarrow's JSON reader told to keep no field at all: it
checks syntax at C++ speed (~8x Python's ``json``) and cannot trip over records whose
fields change type. pyarrow is laxer than JSON Lines (an object may span lines, two
may share one) and stricter (only objects), and names no line; so its count stands
only when it equals the number of non-blank lines, counted on the way. Otherwise a
line-by-line pass decides: one JSON value per non-blank line, the first bad line named.
"""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any, Final

import ijson
import pyarrow as pa
import pyarrow.json as pa_json

from notifier.inspection.base import human_bytes, one_line
from notifier.inspection.datasets.arrow_io import count_batches
from notifier.inspection.datasets.formats import Counted, DatasetFormat
from notifier.inspection.errors import Unreadable
from notifier.inspection.guard import SourceGuard
from notifier.inspection.streams import first_significant_byte, open_decoded

logger = logging.getLogger(__name__)

_EMPTY = "Empty JSON"
_BLANK_LINE = re.compile(rb"\n[ \t\r\x0b\x0c]*\n")
"""A blank line between two line ends (blank means bytes.strip() leaves nothing)."""
_NO_FIELDS: Final = pa.schema([])


class _BadLine(Unreadable):
    """A line that is not JSON, or too long to parse."""


def count_json_lines(guard: SourceGuard, fmt: DatasetFormat) -> Counted:
    try:
        records, lines = _count_with_arrow(guard, fmt)
    except pa.ArrowException as exc:
        if guard.halted:
            raise
        logger.info("pyarrow rejected JSON Lines (%s); rescanning by line", one_line(str(exc)))
    else:
        if records == lines:
            return Counted(records)
        logger.info("pyarrow saw %d records in %d lines; rescanning by line", records, lines)
    return Counted(_count_line_by_line(guard, fmt))


def count_json_document(guard: SourceGuard, fmt: DatasetFormat) -> Counted:
    """A top-level array counts its elements; anything else is read as JSON Lines."""
    with open_decoded(guard, gzipped=fmt.gzipped, max_bytes=guard.limits.max_scan_bytes) as data:
        if first_significant_byte(data) == b"[":
            return Counted(_count_array(guard, data), {"layout": "array"})
    try:
        counted = count_json_lines(guard, fmt)
    except _BadLine as exc:
        raise Unreadable(f"neither a JSON array nor JSON Lines: {exc.reason}") from None
    return Counted(counted.records, {"layout": "lines"})


def _count_with_arrow(guard: SourceGuard, fmt: DatasetFormat) -> tuple[int, int]:
    """(records pyarrow parsed, non-blank lines)."""
    read_options = pa_json.ReadOptions(block_size=guard.limits.block_size, use_threads=False)
    parse_options = pa_json.ParseOptions(
        explicit_schema=_NO_FIELDS, unexpected_field_behavior="ignore"
    )

    def open_reader(native: Any) -> Any:
        return pa_json.open_json(native, read_options=read_options, parse_options=parse_options)

    with open_decoded(guard, gzipped=fmt.gzipped, max_bytes=guard.limits.max_scan_bytes) as data:
        lines = _LineTally(data)
        try:
            records = count_batches(guard, lines.read, open_reader)
        except pa.ArrowInvalid as exc:
            if _EMPTY not in str(exc):
                raise
            records = 0
    return records, lines.count()


def _count_line_by_line(guard: SourceGuard, fmt: DatasetFormat) -> int:
    limit = guard.limits.max_json_document_bytes
    records = 0
    with open_decoded(guard, gzipped=fmt.gzipped, max_bytes=guard.limits.max_scan_bytes) as data:
        for number, line in enumerate(iter(lambda: data.readline(limit + 1), b""), start=1):
            if len(line) > limit:
                raise _BadLine(f"line {number} is longer than {human_bytes(limit)}")
            if line.strip():
                _check_line(line, number)
                records += 1
    return records


def _check_line(line: bytes, number: int) -> None:
    try:
        json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise _BadLine(f"JSON Lines parse error at line {number}: {one_line(str(exc))}") from None


def _count_array(guard: SourceGuard, data: io.BufferedReader) -> int:
    window = _ElementWindow(data, guard.limits.max_json_document_bytes)
    count = 0
    try:
        # items() builds one element at a time (2x faster than walking parse
        # events); the window bounds how large that element may grow.
        for _ in ijson.items(window, "item", use_float=True, buf_size=guard.limits.block_size):
            count += 1
            window.mark()
    except ijson.JSONError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Unreadable(
            f"JSON parse error after {count} array elements: {one_line(first_line)}"
        ) from None
    return count


class _ElementWindow:
    """A reader that refuses to feed one array element more than ``limit`` bytes."""

    def __init__(self, data: io.BufferedReader, limit: int) -> None:
        self._data = data
        self._limit = limit
        self._since_mark = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(size)
        self._since_mark += len(chunk)
        if self._since_mark > self._limit:
            raise Unreadable(f"a JSON array element is larger than {human_bytes(self._limit)}")
        return chunk

    def mark(self) -> None:
        self._since_mark = 0


class _LineTally:
    """Passes bytes through, counting the lines that hold more than whitespace."""

    def __init__(self, data: io.BufferedReader) -> None:
        self._data = data
        self._lines = 0
        self._open_line_has_content = False

    def read(self, size: int) -> bytes:
        chunk = self._data.read(size)
        self._tally(chunk)
        return chunk

    def count(self) -> int:
        """Non-blank lines read so far, a final line without a line end included."""
        return self._lines + self._open_line_has_content

    def _tally(self, chunk: bytes) -> None:
        first_end = chunk.find(b"\n")
        if first_end < 0:
            self._open_line_has_content |= bool(chunk.strip())
            return
        last_end = chunk.rfind(b"\n")
        self._lines += self._open_line_has_content or bool(chunk[:first_end].strip())
        self._lines += _content_lines(chunk[first_end : last_end + 1])
        self._open_line_has_content = bool(chunk[last_end + 1 :].strip())


def _content_lines(ends: bytes) -> int:
    """Non-blank lines in ``ends``, which starts and ends with a line end."""
    if _BLANK_LINE.search(ends) is None:
        return ends.count(b"\n") - 1
    return sum(1 for line in ends.split(b"\n")[1:-1] if line.strip())
