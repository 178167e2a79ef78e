"""CSV and TSV: count data rows in constant memory.

The dialect (encoding, delimiter, header) is decided first from a bounded prefix by
notifier.inspection.datasets.dialect. An exact record scanner
(notifier.inspection.datasets.csv_scanner: the compiled one on every object, else the
bytes-operation one on small objects, see ``_fast_first``) counts first; it vouches for
a count only when the file is well-formed RFC 4180 with the header's number of fields
in every record. When it is not, or may not be, pyarrow's streaming reader counts it
again from its first byte, and its verdict (a count, or the reason the file is
malformed) stands.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any, Final

import pyarrow as pa
import pyarrow.csv as pa_csv

from notifier.config import CsvDialectRule
from notifier.inspection.base import DEFAULT_BLOCK_SIZE, one_line
from notifier.inspection.datasets import dialect as dialects
from notifier.inspection.datasets.arrow_io import count_batches, memory_pool
from notifier.inspection.datasets.csv_count import RecordCounter
from notifier.inspection.datasets.csv_scanner import RecordScanner, compiled_scanner
from notifier.inspection.datasets.dialect import (
    ENCODING_PROBE_BYTES,
    Dialect,
    Encoding,
    detect_dialect,
    name_text_encoding,
    rule_for,
    sniff_encoding,
)
from notifier.inspection.datasets.formats import Counted, DatasetFormat
from notifier.inspection.errors import Unreadable
from notifier.inspection.guard import SourceGuard
from notifier.inspection.streams import Transcoded, open_decoded

logger = logging.getLogger(__name__)

LARGE_ROW_BLOCK_SIZE: Final = 16 << 20
"""Parser block for a second try when a row is longer than the configured block.

pyarrow cannot parse a row that spans more than one block; the retry re-reads the
object once with blocks this large, so memory stays bounded (a few blocks)."""

MAX_DETAIL_COLUMNS: Final = 1000
"""Column names kept in details; wider files report ``num_columns`` and a truncated list."""

DELIMITERS: Final = {"csv": ",", "tsv": "\t"}

_STRADDLING = "straddling object straddles two block boundaries"
_EMPTY = "Empty CSV file"
_WHITESPACE = b" \t\r\n"


FAST_BLOCK_BYTES: Final = 1 << 20
"""Bytes handed to the fast counter at a time (at most ``limits.block_size``)."""

FAST_FIRST_MAX_BYTES: Final = 4 << 20
"""Largest object (stored bytes) the bytes-operation counter tries first when the
compiled scanner is not built; see ``_fast_first``."""


def count_csv(guard: SourceGuard, fmt: DatasetFormat) -> Counted:
    """Records in a CSV/TSV object, with its dialect in ``details`` (see dialect.py).

    Raises Unreadable for content the parser rejects (a ragged record, a quote never
    closed), NotInspected past a bound.
    """
    if _fast_first(guard, fmt):
        counted = _count(guard, fmt, lambda text, dialect: _count_fast(guard, text, dialect))
        if counted is not None:
            return counted
    block_size = guard.limits.block_size
    try:
        return _counted(_count(guard, fmt, _pyarrow_rows(guard, block_size)))
    except pa.ArrowInvalid as exc:
        if guard.halted or _STRADDLING not in str(exc) or block_size >= LARGE_ROW_BLOCK_SIZE:
            raise _parse_error(exc) from None
    logger.info("a row is longer than %d bytes; counting again with larger blocks", block_size)
    try:
        return _counted(_count(guard, fmt, _pyarrow_rows(guard, LARGE_ROW_BLOCK_SIZE)))
    except pa.ArrowInvalid as exc:
        raise _parse_error(exc) from None


_CountRows = Callable[["_CsvText", Dialect], "int | None"]
"""Counts the lines of the text after the dialect probe; None: count again with pyarrow."""


def _pyarrow_rows(guard: SourceGuard, block_size: int) -> _CountRows:
    def count(text: _CsvText, dialect: Dialect) -> int:
        logger.debug("counted by pyarrow: %s", guard.source.key)
        return _count_rows(guard, text, dialect.delimiter, block_size)

    return count


def _scanner() -> type[RecordScanner]:
    return compiled_scanner() or RecordCounter


def _fast_first(guard: SourceGuard, fmt: DatasetFormat) -> bool:
    """Whether an exact scanner tries first: the compiled one always (it scans several
    GB/s, faster than a newline count in Python, and releases the GIL); the
    bytes-operation one on objects of known size under FAST_FIRST_MAX_BYTES
    (compressed: an eighth of it).

    The bytes-operation counter takes a third of pyarrow's CPU on a small object, whose
    reader set-up dominates there; on a large one pyarrow's parse is as fast or faster,
    and releases the GIL, so that it overlaps with the download and with gzip's
    inflating thread, where that counter, holding the GIL, would not
    (bench/bench_count_csv.py measures each).
    """
    if compiled_scanner() is not None:
        return True
    size = guard.source.size
    limit = FAST_FIRST_MAX_BYTES if fmt.compression is None else FAST_FIRST_MAX_BYTES // 8
    return size is not None and size < limit


def _counted(counted: Counted | None) -> Counted:
    assert counted is not None, "pyarrow counts every object or raises"
    return counted


def _count_fast(guard: SourceGuard, text: _CsvText, dialect: Dialect) -> int | None:
    """The lines of ``text`` counted by an exact scanner, or None when it cannot vouch
    for them (the caller then counts with pyarrow from the first byte)."""
    if dialect.num_columns is None or dialect.num_columns < 2:
        logger.debug("not counted fast (one column or an unknown width): %s", guard.source.key)
        return None
    # No record pyarrow would refuse as too long (see count_csv) may be vouched for.
    longest = max(guard.limits.block_size, LARGE_ROW_BLOCK_SIZE) // 2
    counter = _scanner()(dialect.delimiter, dialect.num_columns, max_row_bytes=longest)
    chunk = min(guard.limits.block_size, FAST_BLOCK_BYTES)
    while block := text.read(chunk):
        if not counter.feed(block):
            break
        guard.check_deadline()
    lines = counter.finish()
    if lines is None:
        logger.debug("not counted fast (%s): %s", counter.reason, guard.source.key)
    else:
        logger.debug("counted fast: %s", guard.source.key)
    return lines


def _count(guard: SourceGuard, fmt: DatasetFormat, count_rows: _CountRows) -> Counted | None:
    source = guard.source
    rule = rule_for(guard.limits.csv_dialects, source.bucket, source.key)
    with open_decoded(
        guard, compression=fmt.compression, max_bytes=guard.limits.max_scan_bytes
    ) as raw:
        csv_text, encoding = _open_text(raw, rule, guard.limits.block_size)
        csv_text.skip_blank_lines()
        probe = csv_text.peek(dialects.PROBE_BYTES)
        if not probe:
            return Counted(0, {"empty": True})
        complete = csv_text.at_eof and len(probe) <= dialects.PROBE_BYTES
        probe = probe[: dialects.PROBE_BYTES]
        if encoding is None:
            encoding = name_text_encoding(probe, complete=complete)
        dialect = detect_dialect(
            probe,
            complete=complete,
            default_delimiter=DELIMITERS[fmt.name],
            rule=rule,
            encoding=encoding,
        )
        del probe
        rows = count_rows(csv_text, dialect)
    if rows is None:
        return None
    records = max(rows - 1, 0) if dialect.header else rows
    return Counted(records, _details(dialect, records))


def _open_text(
    raw: io.BufferedReader, rule: CsvDialectRule | None, chunk_size: int
) -> tuple[_CsvText, Encoding | None]:
    """The parser's bytes (UTF-8 or ASCII-compatible), and the encoding when decided
    by a byte-order mark, the NUL pattern of UTF-16 or the operator."""
    head = raw.read(ENCODING_PROBE_BYTES)
    encoding = sniff_encoding(head, rule.encoding if rule is not None else None)
    if encoding is None or not encoding.transcode:
        skip = encoding.bom if encoding is not None else 0
        return _CsvText(raw.read, head[skip:]), encoding
    replayed = _CsvText(raw.read, head[encoding.bom :], final_newline=False)
    utf8 = io.BufferedReader(Transcoded(replayed.read, encoding.name, chunk_size), chunk_size)
    return _CsvText(utf8.read, b""), encoding


def _count_rows(guard: SourceGuard, text: _CsvText, delimiter: str, block_size: int) -> int:
    # Column names are autogenerated (f0, f1...) so only the first column needs
    # converting; the header comes back as a data row. Converting one column instead
    # of inferring every column's type is ~3x faster, and the parser still checks that
    # every row has the first row's field count.
    read_options = pa_csv.ReadOptions(
        block_size=block_size, use_threads=False, autogenerate_column_names=True
    )
    parse_options = pa_csv.ParseOptions(
        delimiter=delimiter, newlines_in_values=True, invalid_row_handler=_skip_blank_row
    )
    convert_options = pa_csv.ConvertOptions(
        include_columns=["f0"], column_types={"f0": pa.binary()}
    )

    def open_reader(native: Any) -> Any:
        return pa_csv.open_csv(
            native,
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
            memory_pool=memory_pool(),
        )

    try:
        return count_batches(guard, text.read, open_reader)
    except pa.ArrowInvalid as exc:
        if _EMPTY in str(exc):
            return 0  # only blank lines
        raise


def _skip_blank_row(row: Any) -> str:
    """pyarrow's invalid-row handler: a whitespace-only line is not a record (as pandas
    reads it); any other row with the wrong field count stays an error."""
    return "skip" if not row.text.strip() else "error"


def _details(dialect: Dialect, records: int) -> dict[str, Any]:
    details = dialect.details()
    columns = details.get("columns")
    if columns is not None and len(columns) > MAX_DETAIL_COLUMNS:
        details["columns"] = columns[:MAX_DETAIL_COLUMNS]
        details["columns_truncated"] = True
    if dialect.header and records == 0:
        details["header_only"] = True
    return details


def _parse_error(exc: pa.ArrowInvalid) -> Unreadable:
    message = str(exc)
    if _STRADDLING in message:
        return Unreadable(
            f"CSV parse error: a row is longer than {LARGE_ROW_BLOCK_SIZE >> 20} MiB"
            " (or a quote is never closed)"
        )
    if not message.startswith("CSV parse error"):
        message = f"CSV parse error: {message}"
    return Unreadable(one_line(message))


class _CsvText:
    """A byte stream with a replayed prefix: ``peek`` looks ahead, ``read`` serves the
    peeked bytes again, then the rest. With ``final_newline`` a last line without a line
    end gets one (pyarrow rejects a lone header row without one; an extra line end never
    changes the count)."""

    def __init__(
        self, read: Callable[[int], bytes], pending: bytes, *, final_newline: bool = True
    ) -> None:
        self._read = read
        self._prefix = pending
        self._offset = 0
        self._last = b"\n" if final_newline else b""
        self._finished = not final_newline
        self.at_eof = False

    def skip_blank_lines(self) -> None:
        """Drop whole lines of whitespace before the first record, in bounded memory."""
        while True:
            chunk = self._prefix[self._offset :] or self._read(DEFAULT_BLOCK_SIZE)
            self._prefix, self._offset = b"", 0
            if not chunk:
                self.at_eof = True
                return
            content = chunk.lstrip(_WHITESPACE)
            if content:
                blank = chunk[: len(chunk) - len(content)]
                cut = max(blank.rfind(b"\n"), blank.rfind(b"\r")) + 1
                self._prefix = chunk[cut:]
                return

    def peek(self, size: int) -> bytes:
        """Read up to ``size`` bytes ahead; ``read`` serves them again."""
        chunks = [self._prefix[self._offset :]]
        total = len(chunks[0])
        while total < size and not self.at_eof:
            chunk = self._read(size - total)
            self.at_eof = not chunk
            chunks.append(chunk)
            total += len(chunk)
        self._prefix, self._offset = b"".join(chunks), 0
        return self._prefix

    def read(self, size: int) -> bytes:
        if self._prefix:
            data = self._prefix[self._offset : self._offset + size]
            self._offset += len(data)
            if self._offset == len(self._prefix):
                self._prefix, self._offset = b"", 0
        else:
            data = b"" if self.at_eof else self._read(size)
        if data:
            self._last = data[-1:]
            return data
        self.at_eof = True
        if self._finished or self._last in (b"\n", b"\r"):
            return b""
        self._finished = True
        return b"\n"
