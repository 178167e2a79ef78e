"""A seekable, windowed reader over ranged GETs: formats with a header or an index
(safetensors, ONNX's protobuf) read only the bytes they parse and step over the rest
(weights) without fetching them."""

from __future__ import annotations

from typing import Final

from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.guard import SourceGuard

WINDOW_BYTES: Final = 1 << 20
"""Bytes fetched per ranged GET; a skip inside the window costs nothing."""


class RangedReader:
    """Reads ``[offset, offset + n)`` of the guarded object through a window."""

    def __init__(self, guard: SourceGuard, window: int = WINDOW_BYTES) -> None:
        size = guard.source.size
        if size is None:
            raise NotInspected("object size unknown: this format is read by byte ranges")
        self._guard = guard
        self.size = size
        self._window = window
        self._start = 0
        self._data = b""
        self.offset = 0

    def read(self, length: int) -> bytes:
        """Exactly ``length`` bytes from the current offset; Unreadable past the end."""
        if length < 0 or self.offset + length > self.size:
            raise Unreadable(
                f"truncated file: {length} bytes wanted at byte {self.offset} of {self.size}"
            )
        end = self.offset + length
        if not (self._start <= self.offset and end <= self._start + len(self._data)):
            fetch = min(max(length, self._window), self.size - self.offset)
            self._data = self._guard.read_range(self.offset, fetch)
            self._start = self.offset
        begin = self.offset - self._start
        self.offset = end
        return self._data[begin : begin + length]

    def byte(self) -> int:
        return self.read(1)[0]

    def skip(self, length: int) -> None:
        if length < 0 or self.offset + length > self.size:
            raise Unreadable(f"truncated file: a {length}-byte field runs past its end")
        self.offset += length

    def seek(self, offset: int) -> None:
        if not 0 <= offset <= self.size:
            raise Unreadable(f"offset {offset} outside a {self.size}-byte file")
        self.offset = offset
