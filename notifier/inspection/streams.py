"""Readable views of an object: buffered, optionally gunzipped, bounded."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from notifier.inspection.base import human_bytes, one_line
from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.guard import SourceGuard

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_WHITESPACE = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"


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
            stream = io.BufferedReader(_Gunzip(stream), guard.limits.block_size)
        yield stream
    finally:
        raw.close()


class _Gunzip(io.RawIOBase):
    """gzip (multi-member) decompression whose errors say the content is bad."""

    def __init__(self, compressed: io.BufferedReader) -> None:
        super().__init__()
        self._file = gzip.GzipFile(fileobj=compressed, mode="rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        try:
            return int(self._file.readinto(buffer))
        except EOFError:
            raise Unreadable("truncated gzip stream: it ends before its end marker") from None
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise Unreadable(f"corrupt gzip stream: {one_line(str(exc))}") from None


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
