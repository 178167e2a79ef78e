"""A streaming UBJSON reader yielding ijson-style ``(prefix, event, value)`` triples.

Format: Universal Binary JSON Draft 12 (ubjson.org) as XGBoost writes it (its default
model format since 2.1): big-endian numbers, object keys as a length then UTF-8 bytes,
optimised containers with ``$`` (type) and ``#`` (count). Strongly typed numeric
arrays (tree weights) are stepped over by length, not decoded; strings longer than
:data:`MAX_STRING_BYTES` are stepped over and yielded as None.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterator
from typing import Any, Final

from notifier.inspection.errors import NotInspected, Unreadable

MAX_STRING_BYTES: Final = 64 * 1024
MAX_DEPTH: Final = 64

_NUMBERS: Final = {
    b"i": ">b",
    b"U": ">B",
    b"I": ">h",
    b"l": ">i",
    b"L": ">q",
    b"d": ">f",
    b"D": ">d",
}
_SIZES: Final = {code: struct.calcsize(fmt) for code, fmt in _NUMBERS.items()}

Event = tuple[str, str, Any]


class UBJSONReader:
    def __init__(self, stream: io.BufferedIOBase, check: Callable[[], None]) -> None:
        self._in = stream
        self._check = check
        self._values = 0

    def _exact(self, size: int) -> bytes:
        data = self._in.read(size)
        if len(data) != size:
            raise Unreadable("truncated UBJSON file")
        return data

    def _skip(self, size: int) -> None:
        left = size
        while left > 0:
            chunk = self._in.read(min(left, 1 << 20))
            if not chunk:
                raise Unreadable("truncated UBJSON file")
            left -= len(chunk)

    def _marker(self) -> bytes:
        marker = self._exact(1)
        while marker == b"N":  # no-op
            marker = self._exact(1)
        return marker

    def _number(self, marker: bytes) -> int | float:
        (value,) = struct.unpack(_NUMBERS[marker], self._exact(_SIZES[marker]))
        return value  # type: ignore[no-any-return]

    def _length(self) -> int:
        marker = self._marker()
        if marker not in _NUMBERS or marker in (b"d", b"D"):
            raise Unreadable(f"invalid UBJSON length marker {marker!r}")
        length = int(self._number(marker))
        if length < 0:
            raise Unreadable("negative UBJSON length")
        return length

    def _string(self) -> str | None:
        length = self._length()
        if length > MAX_STRING_BYTES:
            self._skip(length)
            return None
        return self._exact(length).decode("utf-8", "replace")

    def events(self) -> Iterator[Event]:
        yield from self._value("", self._marker(), 0)

    def _value(self, prefix: str, marker: bytes, depth: int) -> Iterator[Event]:
        self._values += 1
        if self._values % 65536 == 0:
            self._check()
        if marker == b"{":
            yield from self._container(prefix, depth, is_object=True)
        elif marker == b"[":
            yield from self._container(prefix, depth, is_object=False)
        elif marker in _NUMBERS:
            yield prefix, "number", self._number(marker)
        elif marker in (b"S", b"H"):
            yield prefix, "string", self._string()
        elif marker == b"C":
            yield prefix, "string", self._exact(1).decode("latin-1")
        elif marker == b"Z":
            yield prefix, "null", None
        elif marker in (b"T", b"F"):
            yield prefix, "boolean", marker == b"T"
        else:
            raise Unreadable(f"invalid UBJSON marker {marker!r}")

    def _container(self, prefix: str, depth: int, *, is_object: bool) -> Iterator[Event]:
        if depth >= MAX_DEPTH:
            raise NotInspected(f"UBJSON nested deeper than {MAX_DEPTH}")
        kind, count = self._header()
        yield prefix, "start_map" if is_object else "start_array", None
        if kind is not None and count is not None and not is_object and kind in _SIZES:
            self._skip(_SIZES[kind] * count)  # a typed numeric array: never decoded
        else:
            index = 0
            while count is None or index < count:
                if count is None:
                    peek = self._marker()
                    if peek == (b"}" if is_object else b"]"):
                        break
                    first = peek
                else:
                    first = b""
                if is_object:
                    key = self._key(first)
                    yield prefix, "map_key", key
                    marker = kind if kind is not None else self._marker()
                    yield from self._value(f"{prefix}.{key}" if prefix else key, marker, depth + 1)
                else:
                    marker = kind if kind is not None else (first or self._marker())
                    item = f"{prefix}.item" if prefix else "item"
                    yield from self._value(item, marker, depth + 1)
                index += 1
        yield prefix, "end_map" if is_object else "end_array", None

    def _header(self) -> tuple[bytes | None, int | None]:
        """An optimised container's ``$type`` and ``#count`` (each optional)."""
        kind: bytes | None = None
        peek = self._in.peek(1)[:1] if isinstance(self._in, io.BufferedReader) else b""
        if peek == b"$":
            self._exact(1)
            kind = self._exact(1)
            peek = self._in.peek(1)[:1] if isinstance(self._in, io.BufferedReader) else b""
            if peek != b"#":
                raise Unreadable("invalid UBJSON: a typed container without a count")
        if peek == b"#":
            self._exact(1)
            return kind, self._length()
        return kind, None

    def _key(self, first: bytes) -> str:
        """An object key: a length (its marker possibly already read) and UTF-8 bytes."""
        if first:
            if first not in _NUMBERS:
                raise Unreadable(f"invalid UBJSON key length marker {first!r}")
            length = int(self._number(first))
        else:
            length = self._length()
        if length > MAX_STRING_BYTES:
            raise NotInspected("UBJSON object key longer than 64 KiB")
        return self._exact(length).decode("utf-8", "replace")
