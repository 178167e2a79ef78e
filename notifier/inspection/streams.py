"""Readable views of an object: buffered, optionally gunzipped, bounded."""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from notifier.inspection.base import human_bytes, one_line
from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.guard import SourceGuard

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_WHITESPACE = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"

MAX_DECOMPRESSION_RATIO: Final = 500
"""Most bytes of output per compressed byte before a gzip stream is refused as a bomb.

Deflate tops out near 1032:1 (RFC 1951's longest match, 258 bytes, per ~2 bits); real
CSV and JSON compress 3-20:1, degenerate but real ones (constant columns) ~100:1."""

RATIO_CHECK_FLOOR: Final = 64 << 20
"""Output below this size is never refused for its ratio (small files compress well)."""


@contextmanager
def open_decoded(
    guard: SourceGuard, *, gzipped: bool, max_bytes: int | None
) -> Iterator[io.BufferedReader]:
    """The object's (decompressed) bytes; the source stream is closed on exit.

    ``max_bytes`` caps the bytes taken from the source, not the decompressed output:
    the deadline bounds decompression.
    """
    raw = guard.open_stream(max_bytes)
    try:
        stream: io.BufferedReader = io.BufferedReader(raw, guard.limits.block_size)
        if gzipped:
            gunzip = _Gunzip(stream, guard, lambda: raw.position)
            stream = io.BufferedReader(gunzip, guard.limits.block_size)
        yield stream
    finally:
        raw.close()


class _Gunzip(io.RawIOBase):
    """gzip (multi-member) decompression whose errors say the content is bad."""

    def __init__(
        self, compressed: io.BufferedReader, guard: SourceGuard, consumed: Callable[[], int]
    ) -> None:
        super().__init__()
        self._file = gzip.GzipFile(fileobj=compressed, mode="rb")
        self._guard = guard
        self._consumed = consumed
        self._produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        count = self._inflate(buffer)
        self._produced += count
        if self._produced > RATIO_CHECK_FLOOR:
            consumed = max(self._consumed(), 1)
            if self._produced > MAX_DECOMPRESSION_RATIO * consumed:
                self._guard.halt(
                    NotInspected(
                        f"gzip stream expands over {MAX_DECOMPRESSION_RATIO}:1"
                        f" ({human_bytes(self._produced)} from {human_bytes(consumed)}):"
                        " over the decompression-ratio bound"
                    )
                )
        return count

    def _inflate(self, buffer: WriteableBuffer) -> int:
        try:
            return int(self._file.readinto(buffer))
        except EOFError:
            raise Unreadable("truncated gzip stream: it ends before its end marker") from None
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise Unreadable(f"corrupt gzip stream: {one_line(str(exc))}") from None


class Transcoded(io.RawIOBase):
    """Text in ``encoding`` read from ``read`` as UTF-8, decoded chunk by chunk.

    Malformed sequences (a lone surrogate, an odd final byte) become U+FFFD: the
    parser's record boundaries never depend on them.
    """

    def __init__(self, read: Callable[[int], bytes], encoding: str, chunk_size: int) -> None:
        super().__init__()
        self._read = read
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._chunk_size = chunk_size
        self._pending = b""
        self._offset = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        while self._offset == len(self._pending) and not self._done:
            data = self._read(self._chunk_size)
            self._done = not data
            self._pending = self._decoder.decode(data, final=self._done).encode()
            self._offset = 0
        count = min(len(view), len(self._pending) - self._offset)
        view[:count] = self._pending[self._offset : self._offset + count]
        self._offset += count
        return count


def read_document(guard: SourceGuard, limit: int, what: str) -> bytes:
    """The whole object, refused (NotInspected) when it is larger than ``limit``."""
    too_large = NotInspected(f"{what} is over the {human_bytes(limit)} document cap")
    if guard.source.size is not None and guard.source.size > limit:
        raise too_large
    chunks: list[bytes] = []
    total = 0
    with open_decoded(guard, gzipped=False, max_bytes=None) as stream:
        while chunk := stream.read(guard.limits.block_size):
            total += len(chunk)
            if total > limit:
                raise too_large
            chunks.append(chunk)
    return b"".join(chunks)


def first_significant_byte(stream: io.BufferedReader) -> bytes:
    """Skip a UTF-8 byte-order mark and whitespace; peek (not consume) the next byte."""
    if stream.peek(len(_UTF8_BOM))[: len(_UTF8_BOM)] == _UTF8_BOM:
        stream.read(len(_UTF8_BOM))
    while True:
        ahead = stream.peek(1)
        if not ahead:
            return b""
        skipped = len(ahead) - len(ahead.lstrip(_WHITESPACE))
        if skipped < len(ahead):
            stream.read(skipped)
            return ahead[skipped : skipped + 1]
        stream.read(skipped)
