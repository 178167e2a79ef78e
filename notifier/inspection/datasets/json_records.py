"""JSON Lines and JSON documents: count records streaming, in bounded memory.

JSON Lines are counted by pyarrow's JSON reader told to keep no field at all: it
checks syntax at C++ speed (~8x Python's ``json``) and cannot trip over records whose
fields change type. pyarrow is laxer than JSON Lines (an object may span lines, two
may share one) and stricter (only objects), and names no line; so its count stands
only when it equals the number of non-blank lines, counted on the way. Otherwise a
line-by-line pass decides: one JSON value per non-blank line, the first bad line named.

A JSON document is walked as a stream of parse events (ijson's ``basic_parse`` on
yajl, which keeps one byte per open bracket; ijson's ``items`` keeps prefixes that grow
with the square of the depth) and its layout decides the count:

=================  ==================================================  ==================
layout             shape (pandas ``DataFrame.to_json`` orient)          records
=================  ==================================================  ==================
``array``          ``[...]`` (``records``, ``values``, ``json.dump``)  elements
``pandas-columns`` ``{col: {index: value}}`` (``columns``, default)     index labels
``pandas-index``   ``{index: {col: value}}`` (``index``)                index labels
``pandas-split``   ``{"columns", "index", "data": [[...]]}``           rows of ``data``
``pandas-table``   ``{"schema": {"fields"...}, "data": [{...}]}``      rows of ``data``
``wrapped-array``  ``{"data": [{...}], "count": 3}``: one array member  its elements
``lines``          several top-level values (JSON Lines in a .json)    values
``empty``          nothing but whitespace                               0
=================  ==================================================  ==================

``columns`` and ``index`` have the same shape; integer keys (pandas' default
RangeIndex) tell the index from the column names. When both or neither level has
integer keys and the counts differ, the object is ``skipped``: a guess could be wrong.
Any other object is ``skipped`` with what was seen.

Python's ``json`` writes ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON, RFC 8259
section 6). pyarrow and ``json.loads`` accept them; yajl does not, so documents reach
it through ``_NonFiniteAsNull``, which reads them as ``null`` (details then say
``non_finite_numbers``). ijson's own backends all reject them, and yajl (its C backend)
is the one that parses in bounded memory, so the tokens are rewritten rather than the
parser swapped.

Nesting deeper than ``InspectionLimits.max_json_depth`` is an error on every path: the
document walk counts depth per event; JSON Lines lines that may be that deep (more
brackets than the limit) go to the line-by-line pass, which measures them exactly.
pyarrow's JSON reader crashes the process on a block that starts with ``null`` or
``[]`` (pyarrow 21), so it only ever sees lines that start with ``{``.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections import Counter as KindCounter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import ijson
import pyarrow as pa
import pyarrow.json as pa_json

from notifier.inspection.base import human_bytes, one_line
from notifier.inspection.datasets.arrow_io import count_batches
from notifier.inspection.datasets.formats import Counted, DatasetFormat
from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.guard import SourceGuard
from notifier.inspection.json_depth import check_nesting, too_deep
from notifier.inspection.streams import first_significant_byte, open_decoded

logger = logging.getLogger(__name__)

_EMPTY = "Empty JSON"
_BLANK_LINE = re.compile(rb"\n[ \t\r\x0b\x0c]*\n")
"""A blank line between two line ends (blank means bytes.strip() leaves nothing)."""
_NO_FIELDS: Final = pa.schema([])
_BLANKS: Final = b" \t\r\n\x0b\x0c"
_NOT_AN_OBJECT_LINE = re.compile(rb"\n[ \t\r\x0b\x0c]*[^{ \t\r\n\x0b\x0c]")
"""A line whose first significant byte is not ``{``."""
_ODD_LINE = re.compile(rb"\n(?!\{)")
"""A line end followed by anything but ``{``: a blank line, leading blanks, a value
that is not an object, or the end of the chunk."""

_OPEN: Final = frozenset({"start_map", "start_array"})
_CLOSE: Final = frozenset({"end_map", "end_array"})
_HASH_MASK: Final = (1 << 64) - 1
_KEPT_MEMBERS: Final = 8
"""Top-level members described one by one; the layouts that name members have fewer."""
_SPLIT_KEYS: Final = frozenset({"columns", "index", "data", "name"})
_INTEGER_KEY = re.compile(r"-?[0-9]+")


class _BadLine(Unreadable):
    """A line that is not JSON, or too long to parse."""


class _NotObjectLines(Exception):
    """A line holds something other than an object: pyarrow must not see it.

    pyarrow 21's JSON reader crashes the process (SIGSEGV, or abort) on a block that
    starts with ``null`` or ``[]``; the line-by-line pass counts such files instead.
    """


class _IntegerOverflow(Exception):
    """yajl parsed an integer beyond 64 bits as a float and refused it."""


class _SeveralValues(Exception):
    """The document holds more than one top-level value: it is JSON Lines."""


def count_json_lines(guard: SourceGuard, fmt: DatasetFormat) -> Counted:
    try:
        records, lines, deep = _count_with_arrow(guard, fmt)
    except _NotObjectLines:
        logger.info("a JSON Lines line is not an object; counting by line")
    except pa.ArrowException as exc:
        if guard.halted:
            raise
        logger.info("pyarrow rejected JSON Lines (%s); rescanning by line", one_line(str(exc)))
    else:
        if records == lines and not deep:
            return Counted(records, _details("lines", records))
        logger.info(
            "pyarrow saw %d records in %d lines%s; rescanning by line",
            records,
            lines,
            " (some may nest too deep)" if deep else "",
        )
    records = _count_line_by_line(guard, fmt)
    return Counted(records, _details("lines", records))


def count_json_document(guard: SourceGuard, fmt: DatasetFormat) -> Counted:
    """A JSON document by its layout (see the module docstring); several values are lines.

    Numbers are parsed as floats (yajl's fast path); an integer beyond 64 bits, which
    yajl then refuses, makes a second pass with exact numbers.
    """
    for exact_numbers in (False, True):
        try:
            counted = _count_document(guard, fmt, exact_numbers=exact_numbers)
        except _IntegerOverflow:
            continue
        if counted is not None:
            return counted
        break
    try:
        return count_json_lines(guard, fmt)
    except _BadLine as exc:
        raise Unreadable(f"neither a JSON document nor JSON Lines: {exc.reason}") from None


def _count_document(
    guard: SourceGuard, fmt: DatasetFormat, *, exact_numbers: bool
) -> Counted | None:
    """The document's count, or None when it is not one array or object (JSON Lines?)."""
    with open_decoded(
        guard, compression=fmt.compression, max_bytes=guard.limits.max_scan_bytes
    ) as data:
        first = first_significant_byte(data)
        if not first:
            return Counted(0, _details("empty", 0))
        if first not in (b"[", b"{"):
            return None
        try:
            return _Walker(guard, data, exact_numbers=exact_numbers).count()
        except _SeveralValues:
            return None


def _details(layout: str, records: int, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"layout": layout, **extra}
    if records == 0:
        details["empty"] = True
    return details


# --- JSON Lines --------------------------------------------------------------------


def _count_with_arrow(guard: SourceGuard, fmt: DatasetFormat) -> tuple[int, int, bool]:
    """(records pyarrow parsed, non-blank lines, whether a line may nest deeper than
    the limit: pyarrow parses any depth in bounded memory, so the line-by-line pass
    must then judge). pyarrow reads NaN and Infinity as numbers, as Python writes them."""
    read_options = pa_json.ReadOptions(block_size=guard.limits.block_size, use_threads=False)
    parse_options = pa_json.ParseOptions(
        explicit_schema=_NO_FIELDS, unexpected_field_behavior="ignore"
    )

    def open_reader(native: Any) -> Any:
        return pa_json.open_json(native, read_options=read_options, parse_options=parse_options)

    with open_decoded(
        guard, compression=fmt.compression, max_bytes=guard.limits.max_scan_bytes
    ) as data:
        lines = _LineTally(data, guard.limits.max_json_depth)
        try:
            records = count_batches(guard, lines.read, open_reader)
        except pa.ArrowInvalid as exc:
            if _EMPTY not in str(exc):
                raise
            records = 0
    return records, lines.count(), lines.maybe_too_deep


def _count_line_by_line(guard: SourceGuard, fmt: DatasetFormat) -> int:
    limit = guard.limits.max_json_document_bytes
    records = 0
    with open_decoded(
        guard, compression=fmt.compression, max_bytes=guard.limits.max_scan_bytes
    ) as data:
        for number, line in enumerate(iter(lambda: data.readline(limit + 1), b""), start=1):
            if len(line) > limit:
                raise _BadLine(f"line {number} is longer than {human_bytes(limit)}")
            if line.strip():
                _check_line(line, number, guard.limits.max_json_depth)
                records += 1
    return records


def _check_line(line: bytes, number: int, max_depth: int) -> None:
    try:
        check_nesting(line, max_depth, f"JSON Lines line {number}")
        json.loads(line)
    except _BadLine:
        raise
    except Unreadable as exc:
        raise _BadLine(exc.reason) from None
    except (ValueError, RecursionError) as exc:
        raise _BadLine(f"JSON Lines parse error at line {number}: {one_line(str(exc))}") from None


class _LineTally:
    """Passes bytes through, counting the lines that hold more than whitespace, and
    flagging (``maybe_too_deep``) any line that may nest deeper than ``max_depth``.

    Nesting ``n`` levels takes ``n`` opening and ``n`` closing brackets, so only a line
    longer than ``2 * max_depth`` bytes can be too deep. Whole lines inside a chunk are
    checked by looking for a line end in every ``max_depth``-byte window (a line twice
    that long holds a window without one): about two thousand ``bytes.find`` per MiB.
    Lines found long, and lines running across chunks, have their brackets counted.
    """

    def __init__(self, data: io.BufferedReader, max_depth: int) -> None:
        self._data = data
        self._max_depth = max_depth
        self._lines = 0
        self._open_line_has_content = False
        self._open_line_brackets = 0
        self._at_line_start = True
        self.maybe_too_deep = False

    def read(self, size: int) -> bytes:
        chunk = self._data.read(size)
        # One search finds both blank lines and lines that are not objects; plain
        # JSON Lines have neither, and then the slower checks are skipped.
        plain = _ODD_LINE.search(chunk) is None
        self._check_objects(chunk, plain=plain)
        self._tally(chunk, plain=plain)
        return chunk

    def count(self) -> int:
        """Non-blank lines read so far, a final line without a line end included."""
        return self._lines + self._open_line_has_content

    def _tally(self, chunk: bytes, *, plain: bool) -> None:
        first_end = chunk.find(b"\n")
        if first_end < 0:
            self._open_line_has_content |= bool(chunk.strip())
            self._open_line_brackets += _brackets(chunk)
            self._flag(self._open_line_brackets)
            return
        last_end = chunk.rfind(b"\n")
        self._lines += self._open_line_has_content or bool(chunk[:first_end].strip())
        ends = chunk[first_end : last_end + 1]
        self._lines += ends.count(b"\n") - 1 if plain else _content_lines(ends)
        self._flag(self._open_line_brackets + _brackets(chunk[:first_end]))
        if not self.maybe_too_deep and self._has_long_line(chunk, first_end + 1, last_end):
            for line in chunk[first_end + 1 : last_end].split(b"\n"):
                self._flag(_brackets(line) if len(line) > 2 * self._max_depth else 0)
        tail = chunk[last_end + 1 :]
        self._open_line_has_content = bool(tail.strip())
        self._open_line_brackets = _brackets(tail)

    def _has_long_line(self, chunk: bytes, start: int, end: int) -> bool:
        """Whether ``chunk[start:end]`` may hold a line longer than ``2 * max_depth``."""
        window = self._max_depth
        for position in range(start, end - window + 1, window):
            if chunk.find(b"\n", position, position + window) < 0:
                return True
        return False

    def _check_objects(self, chunk: bytes, *, plain: bool) -> None:
        """Raise _NotObjectLines before pyarrow sees a line that does not start with ``{``."""
        if self._at_line_start:
            start = chunk.lstrip(_BLANKS)[:1]
            if start and start != b"{":
                raise _NotObjectLines
        if not plain and _NOT_AN_OBJECT_LINE.search(chunk) is not None:
            raise _NotObjectLines
        last_end = chunk.rfind(b"\n")
        if last_end >= 0:
            self._at_line_start = not chunk[last_end + 1 :].strip(_BLANKS)
        elif chunk.strip(_BLANKS):
            self._at_line_start = False

    def _flag(self, brackets: int) -> None:
        self.maybe_too_deep |= brackets > self._max_depth


def _brackets(data: bytes) -> int:
    """Opening brackets in ``data``, strings included: a bound on its nesting depth."""
    return data.count(b"[") + data.count(b"{")


def _content_lines(ends: bytes) -> int:
    """Non-blank lines in ``ends``, which starts and ends with a line end."""
    if _BLANK_LINE.search(ends) is None:
        return ends.count(b"\n") - 1
    return sum(1 for line in ends.split(b"\n")[1:-1] if line.strip())


# --- Non-standard numbers ----------------------------------------------------------

_BEFORE_VALUE: Final = frozenset(b"[,: \t\r\n")
_AFTER_VALUE: Final = frozenset(b",]} \t\r\n")
"""``NaN``, ``Infinity``, ``-Infinity`` are rewritten where a value starts (after ``[``,
``,``, ``:`` or whitespace) and ends (before a delimiter or the end). Inside a string
a rewrite only changes text that is not counted; after a backslash or a letter there
is none. The literals are found with ``bytes.find``; each match is checked in Python."""

_DELIMITERS: Final = tuple(bytes([byte]) for byte in b",[]{}: \t\r\n")
_LONGEST_TOKEN: Final = 64
"""A run this long without a delimiter cannot end in a number token worth rewriting."""


class _NonFiniteAsNull:
    """A reader that rewrites Python's non-finite number tokens to ``null``.

    Input is rewritten up to its last delimiter, so a token never straddles two
    reads; the byte before each piece is kept for the look-behind. A read never
    returns more than it was asked for (pyarrow relies on that).
    """

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self._pending = b""
        self._previous = b" "
        self._ready = b""
        self._offset = 0
        self._eof = False
        self.seen = False

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""  # ijson asks read(0) to learn whether the stream gives bytes
        while self._offset >= len(self._ready) and not self._eof:
            self._ready, self._offset = self._fill(size), 0
        end = len(self._ready) if size < 0 else self._offset + size
        data = self._ready[self._offset : end]
        self._offset += len(data)
        return data

    def _fill(self, size: int) -> bytes:
        chunk = self._read(size)
        if not chunk:
            self._eof = True
            rest, self._pending = self._pending, b""
            return self._rewrite(rest)
        buffer = self._pending + chunk if self._pending else chunk
        cut = max(buffer.rfind(delimiter) for delimiter in _DELIMITERS) + 1
        if cut == 0 and len(buffer) < _LONGEST_TOKEN:
            self._pending = buffer
            return b""
        if cut == 0:
            cut = len(buffer)
        self._pending = buffer[cut:]
        return self._rewrite(buffer[:cut])

    def _rewrite(self, data: bytes) -> bytes:
        if not data:
            return data
        previous, self._previous = self._previous[0], data[-1:]
        if b"NaN" not in data and b"Infinity" not in data:
            return data
        pieces: list[bytes] = []
        done = 0
        for start, end in _non_finite_tokens(data):
            before = data[start - 1] if start else previous
            if before in _BEFORE_VALUE and (end == len(data) or data[end] in _AFTER_VALUE):
                pieces += (data[done:start], b"null")
                done = end
        if not pieces:
            return data
        self.seen = True
        pieces.append(data[done:])
        return b"".join(pieces)


def _non_finite_tokens(data: bytes) -> list[tuple[int, int]]:
    """Spans of ``NaN``, ``Infinity`` and ``-Infinity`` in ``data``, in order."""
    spans = []
    for literal in (b"NaN", b"Infinity"):
        found = data.find(literal)
        while found >= 0:
            end = found + len(literal)
            negative = literal == b"Infinity" and found > 0 and data[found - 1] == ord("-")
            spans.append((found - negative, end))
            found = data.find(literal, end)
    return sorted(spans)


# --- JSON documents ----------------------------------------------------------------


class _ElementWindow:
    """A reader that refuses to feed one element more than ``limit`` bytes."""

    def __init__(self, data: io.BufferedReader, limit: int) -> None:
        self._data = data
        self._limit = limit
        self._since_mark = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(size)
        self._since_mark += len(chunk)
        if self._since_mark > self._limit:
            raise Unreadable(f"a JSON value is larger than {human_bytes(self._limit)}")
        return chunk

    def mark(self) -> None:
        self._since_mark = 0


@dataclass
class _Value:
    """One value of a document, described without keeping it."""

    kind: str
    """``scalar``, ``object`` or ``array``."""
    size: int = 0
    """Members of an object, elements of an array."""
    child_kinds: frozenset[str] = frozenset()
    keys_hash: int = 0
    """Order-independent hash of an object's keys: equal key sets, equal hashes."""
    integer_keys: bool = True
    first_keys: tuple[str, ...] = ()


_SCALAR: Final = _Value("scalar")


@dataclass
class _ObjectSummary:
    """A top-level object: its first members one by one, the rest folded together."""

    members: int = 0
    kinds: KindCounter[str] = field(default_factory=KindCounter)
    first: dict[str, _Value] = field(default_factory=dict)
    array_keys: list[str] = field(default_factory=list)
    integer_keys: bool = True
    # Over the members that are objects:
    inner_sizes: set[int] = field(default_factory=set)
    inner_hashes: set[int] = field(default_factory=set)
    inner_integer_keys: bool = True

    def add(self, key: str, value: _Value) -> None:
        self.members += 1
        self.kinds[value.kind] += 1
        self.integer_keys = self.integer_keys and _INTEGER_KEY.fullmatch(key) is not None
        if len(self.first) < _KEPT_MEMBERS:
            self.first[key] = value
        if value.kind == "array" and len(self.array_keys) < 2:
            self.array_keys.append(key)
        if value.kind == "object" and len(self.inner_sizes) < 2 and len(self.inner_hashes) < 2:
            self.inner_sizes.add(value.size)
            self.inner_hashes.add(value.keys_hash)
            self.inner_integer_keys = self.inner_integer_keys and value.integer_keys


class _Walker:
    """Walks one JSON document's parse events, within the depth and element bounds."""

    def __init__(self, guard: SourceGuard, data: io.BufferedReader, *, exact_numbers: bool) -> None:
        self._guard = guard
        self._max_depth = guard.limits.max_json_depth
        self._window = _ElementWindow(data, guard.limits.max_json_document_bytes)
        self._numbers = _NonFiniteAsNull(self._window.read)
        self._events: Iterator[tuple[str, Any]] = ijson.basic_parse(
            self._numbers,
            use_float=not exact_numbers,
            multiple_values=True,
            buf_size=guard.limits.block_size,
        )
        self._elements = 0

    def count(self) -> Counted:
        try:
            walked = self._walk()
            if next(self._events, None) is not None:
                raise _SeveralValues
        except ijson.JSONError as exc:
            if "integer overflow" in str(exc):
                raise _IntegerOverflow from None
            raise Unreadable(self._parse_error(exc)) from None
        counted = walked if isinstance(walked, Counted) else _classify(walked)
        if self._numbers.seen:
            counted = Counted(counted.records, {**counted.details, "non_finite_numbers": True})
        return counted

    def _walk(self) -> Counted | _ObjectSummary:
        """The first top-level value: an array's count, or an object's summary."""
        event, _ = next(self._events)
        if event == "start_array":
            records = self._count_array()
            return Counted(records, _details("array", records))
        if event != "start_map":
            raise _SeveralValues  # unreachable: the first byte was [ or {
        return self._summarise_object()

    def _count_array(self) -> int:
        depth, limit, window = 1, self._max_depth, self._window
        count = 0
        try:
            for event, _ in self._events:
                if event in _OPEN:
                    depth += 1
                    if depth > limit:
                        raise too_deep("JSON document", limit)
                elif event in _CLOSE:
                    depth -= 1
                    if depth == 1:
                        count += 1
                        window.mark()
                    elif depth == 0:
                        return count
                elif depth == 1:
                    count += 1
                    window.mark()
        finally:
            self._elements = count
        raise Unreadable("JSON document ends inside its top-level array")

    def _summarise_object(self) -> _ObjectSummary:
        summary = _ObjectSummary()
        key: str | None = None
        for event, value in self._events:
            if event == "map_key":
                key = str(value)
                continue
            if event == "end_map":
                return summary
            if key is None:
                raise Unreadable("JSON object member without a name")
            summary.add(key, self._value(event, 1))
            self._window.mark()
            self._elements = summary.members
            self._guard.check_deadline()
        raise Unreadable("JSON document ends inside its top-level object")

    def _value(self, event: str, level: int) -> _Value:
        """The value that ``event`` starts, inside a container at ``level``."""
        if event not in _OPEN:
            return _SCALAR
        level += 1
        if level > self._max_depth:
            raise too_deep("JSON document", self._max_depth)
        is_map = event == "start_map"
        size, keys_hash, integer_keys = 0, 0, True
        first_keys: list[str] = []
        kinds: set[str] = set()
        depth = level
        for inner, value in self._events:
            if depth == level:
                if inner == "map_key":
                    size += 1
                    keys_hash = (keys_hash + hash(value)) & _HASH_MASK
                    integer_keys = integer_keys and _INTEGER_KEY.fullmatch(value) is not None
                    if len(first_keys) < _KEPT_MEMBERS:
                        first_keys.append(value)
                    continue
                if inner in _CLOSE:
                    return _Value(
                        "object" if is_map else "array",
                        size,
                        frozenset(kinds),
                        keys_hash,
                        integer_keys,
                        tuple(first_keys),
                    )
                size += not is_map
                self._window.mark()
                if inner in _OPEN:
                    kinds.add("object" if inner == "start_map" else "array")
                    depth += 1
                else:
                    kinds.add("scalar")
            elif inner in _OPEN:
                depth += 1
            elif inner in _CLOSE:
                depth -= 1
            if depth > self._max_depth:
                raise too_deep("JSON document", self._max_depth)
        raise Unreadable("JSON document ends inside a value")

    def _parse_error(self, exc: Exception) -> str:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"JSON parse error after {self._elements} elements: {one_line(first_line)}"


def _classify(summary: _ObjectSummary) -> Counted:
    """The record count of a top-level object, by the first layout it fits."""
    for layout in (_pandas_table, _pandas_split, _wrapped_array, _pandas_frame):
        counted = layout(summary)
        if counted is not None:
            return counted
    raise NotInspected(f"JSON object layout not recognised: {_describe(summary)}")


def _pandas_table(summary: _ObjectSummary) -> Counted | None:
    schema, data = summary.first.get("schema"), summary.first.get("data")
    if summary.members != 2 or schema is None or data is None:
        return None
    if schema.kind != "object" or "fields" not in schema.first_keys or data.kind != "array":
        return None
    return Counted(data.size, _details("pandas-table", data.size))


def _pandas_split(summary: _ObjectSummary) -> Counted | None:
    keys = set(summary.first)
    data = summary.first.get("data")
    if summary.members > len(_SPLIT_KEYS) or not keys <= _SPLIT_KEYS or data is None:
        return None
    if data.kind != "array" or not keys & {"columns", "index"}:
        return None
    index = summary.first.get("index")
    if index is not None and index.kind == "array" and index.size != data.size:
        raise NotInspected(
            f"pandas 'split' layout with {index.size} index labels but {data.size} data rows"
        )
    return Counted(data.size, _details("pandas-split", data.size))


def _wrapped_array(summary: _ObjectSummary) -> Counted | None:
    if summary.kinds["array"] != 1:
        return None
    key = summary.array_keys[0]
    array = summary.first.get(key)
    if array is None or not array.child_kinds <= {"object", "array"}:
        return None
    return Counted(array.size, _details("wrapped-array", array.size, records_key=key))


def _pandas_frame(summary: _ObjectSummary) -> Counted | None:
    """``columns`` ({col: {index: v}}) or ``index`` ({index: {col: v}}) orient."""
    if summary.members == 0:
        return Counted(0, _details("empty-object", 0))
    if summary.kinds["object"] != summary.members:
        return None
    if len(summary.inner_sizes) != 1 or len(summary.inner_hashes) != 1:
        raise NotInspected(
            "JSON object of objects whose keys differ: not a pandas 'columns' or 'index' layout"
        )
    (inner,) = summary.inner_sizes
    outer = summary.members
    inner_numbers, outer_numbers = summary.inner_integer_keys, summary.integer_keys
    if inner == outer or (inner_numbers and not outer_numbers):
        return Counted(inner, _details("pandas-columns", inner, num_columns=outer))
    if outer_numbers and not inner_numbers:
        return Counted(outer, _details("pandas-index", outer, num_columns=inner))
    raise NotInspected(
        f"JSON object of {outer} objects of {inner} members each: pandas 'columns'"
        f" ({inner} records) or 'index' ({outer} records) layout, and the keys do not"
        " tell which"
    )


def _describe(summary: _ObjectSummary) -> str:
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(summary.kinds.items()))
    names = ", ".join(list(summary.first)[:_KEPT_MEMBERS])
    more = ", ..." if summary.members > len(summary.first) else ""
    return f"{summary.members} members ({kinds}): {names}{more}"
