"""Readable views of an object: buffered, optionally gunzipped, bounded."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from notifier.inspection.base import human_bytes, one_line
from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.guard import SourceGuard
from notifier.inspection.json_depth import check_nesting

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_WHITESPACE = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"


@contextmanager
def open_decoded(
    guard: SourceGuard, *, compression: str | None, max_bytes: int | None
) -> Iterator[io.BufferedReader]:
    """The object's bytes, decompressed when ``compression`` names a codec of
    ``DECOMPRESSORS`` (``"gzip"``, ``"bz2"``, ``"xz"``); the source stream is closed on exit.

    ``max_bytes`` caps the bytes taken from the source, not the decompressed output:
    the deadline bounds decompression.
    """
    raw = guard.open_stream(max_bytes)
    try:
        stream: io.BufferedReader = io.BufferedReader(raw, guard.limits.block_size)
        if compression is not None:
            decompressor = DECOMPRESSORS[compression](stream)
            stream = io.BufferedReader(decompressor, guard.limits.block_size)
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


class _Decompressed(io.RawIOBase):
    """A stdlib compressed-file reader whose errors say the content is bad."""

    def __init__(self, file: bz2.BZ2File | lzma.LZMAFile, name: str) -> None:
        super().__init__()
        self._file = file
        self._name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        try:
            return int(self._file.readinto(buffer))
        except EOFError:
            raise Unreadable(
                f"truncated {self._name} stream: it ends before its end marker"
            ) from None
        except (OSError, lzma.LZMAError, ValueError) as exc:
            raise Unreadable(f"corrupt {self._name} stream: {one_line(str(exc))}") from None


def _bunzip2(data: io.BufferedReader) -> io.RawIOBase:
    # Closed with the source stream by open_decoded.
    return _Decompressed(bz2.BZ2File(data, mode="rb"), "bz2")


def _unxz(data: io.BufferedReader) -> io.RawIOBase:
    return _Decompressed(lzma.LZMAFile(data, mode="rb"), "xz")


DECOMPRESSORS: Final[Mapping[str, Callable[[io.BufferedReader], io.RawIOBase]]] = {
    "gzip": _Gunzip,
    "bz2": _bunzip2,
    "xz": _unxz,
}
"""Streaming decompression by codec name (the names of datasets.formats' codecs)."""


def read_document(guard: SourceGuard, limit: int, what: str) -> bytes:
    """The whole object, refused (NotInspected) when it is larger than ``limit``, or
    (Unreadable) when its JSON brackets nest deeper than ``limits.max_json_depth``."""
    too_large = NotInspected(f"{what} is over the {human_bytes(limit)} document cap")
    if guard.source.size is not None and guard.source.size > limit:
        raise too_large
    chunks: list[bytes] = []
    total = 0
    with open_decoded(guard, compression=None, max_bytes=None) as stream:
        while chunk := stream.read(guard.limits.block_size):
            total += len(chunk)
            if total > limit:
                raise too_large
            chunks.append(chunk)
    document = b"".join(chunks)
    check_nesting(document, guard.limits.max_json_depth, what)
    return document


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
