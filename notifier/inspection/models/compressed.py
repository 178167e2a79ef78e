"""Streamed decompression of zlib, gzip, xz/lzma and bz2, bounded in memory per read.

Used for joblib's compressed files (``joblib.dump(..., compress=...)``), whose magic
numbers are listed in joblib's ``compressor.py``: zlib ``78``, gzip ``1f 8b``, bz2
``BZ``, xz ``fd 37 7a 58 5a``, lzma-alone ``5d 00``, lz4 ``04 22 4d 18``.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from typing import TYPE_CHECKING, Final, Protocol

from notifier.inspection.base import one_line
from notifier.inspection.errors import NotInspected, Unreadable

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

ZLIB_MAGIC: Final = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")
GZIP_MAGIC: Final = b"\x1f\x8b"
BZ2_MAGIC: Final = b"BZh"
XZ_MAGIC: Final = b"\xfd7zXZ\x00"
LZMA_ALONE_MAGIC: Final = b"\x5d\x00\x00"
LZ4_MAGIC: Final = b"\x04\x22\x4d\x18"
OLD_JOBLIB_MAGIC: Final = b"ZF"


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...


def compression_of(head: bytes) -> str | None:
    """The compression a file's first bytes announce, or None for none known.

    Raises NotInspected for compressions that cannot be read with the standard library.
    """
    if head.startswith(ZLIB_MAGIC):
        return "zlib"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(BZ2_MAGIC):
        return "bz2"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(LZMA_ALONE_MAGIC):
        return "lzma"
    if head.startswith(OLD_JOBLIB_MAGIC):
        raise NotInspected("joblib file from before joblib 0.9.3 (ZF header): not read")
    if head.startswith(LZ4_MAGIC):
        raise NotInspected("lz4-compressed file: lz4 is not in the Python standard library")
    return None


def _decompressor(compression: str) -> _Decompressor:
    if compression == "zlib":
        return _Zlib(zlib.MAX_WBITS)
    if compression == "gzip":
        return _Zlib(zlib.MAX_WBITS | 16)
    if compression == "bz2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor(lzma.FORMAT_AUTO)


class _Zlib:
    """zlib's decompressobj with the ``max_length`` protocol of lzma and bz2."""

    def __init__(self, wbits: int) -> None:
        self._inner = zlib.decompressobj(wbits)
        self._tail = b""

    @property
    def eof(self) -> bool:
        return self._inner.eof

    def decompress(self, data: bytes, max_length: int = -1, /) -> bytes:
        out = self._inner.decompress(self._tail + data, max(max_length, 0))
        self._tail = self._inner.unconsumed_tail
        return out


class Decompressing(io.RawIOBase):
    """The decompressed bytes of ``compressed``; at most ``block`` bytes held per read."""

    def __init__(self, compressed: io.BufferedIOBase, compression: str, block: int) -> None:
        super().__init__()
        self._in = compressed
        self._compression = compression
        self._codec = _decompressor(compression)
        self._block = block

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._block)
        try:
            data = self._next(wanted)
        except (zlib.error, lzma.LZMAError, OSError, EOFError) as exc:
            raise Unreadable(f"corrupt {self._compression} stream: {one_line(str(exc))}") from None
        view[: len(data)] = data
        return len(data)

    def _next(self, wanted: int) -> bytes:
        while not self._codec.eof:
            pending = self._codec.decompress(b"", wanted)
            if pending:
                return pending
            chunk = self._in.read(self._block)
            if not chunk:
                raise Unreadable(f"truncated {self._compression} stream")
            data = self._codec.decompress(chunk, wanted)
            if data:
                return data
        return b""
