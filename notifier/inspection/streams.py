"""Readable views of an object: buffered, optionally gunzipped, bounded."""

from __future__ import annotations

import bz2
import codecs
import contextlib
import io
import lzma
import os
import queue
import threading
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

MAX_DECOMPRESSION_RATIO: Final = 500
"""Most bytes of output per compressed byte before a gzip stream is refused as a bomb.

Deflate tops out near 1032:1 (RFC 1951's longest match, 258 bytes, per ~2 bits); real
CSV and JSON compress 3-20:1, degenerate but real ones (constant columns) ~100:1."""

RATIO_CHECK_FLOOR: Final = 64 << 20
"""Output below this size is never refused for its ratio (small files compress well)."""


INFLATE_AHEAD_CHUNKS: Final = 4
"""Decompressed chunks (each at most one block) an inflating thread may hold ready."""

INFLATE_AHEAD_MIN_BYTES: Final = 4 << 20
"""Smaller gzip objects are inflated inline: a thread costs more than it saves there."""


@contextmanager
def open_decoded(
    guard: SourceGuard, *, compression: str | None, max_bytes: int | None
) -> Iterator[io.BufferedReader]:
    """The object's bytes, decompressed when ``compression`` names a codec of
    ``DECOMPRESSORS`` (``"gzip"``, ``"bz2"``, ``"xz"``); the source stream is closed on exit.

    ``max_bytes`` caps the bytes taken from the source; the decompression-ratio bound
    and the deadline bound the output. Where a second core is free, gzip is inflated on
    a thread of its own, ahead of the parser (zlib and pyarrow both release the GIL).
    """
    raw = guard.open_stream(max_bytes)
    gunzip: _Gunzip | None = None
    try:
        stream: io.BufferedReader = io.BufferedReader(raw, guard.limits.block_size)
        if compression == "gzip":
            chunks = _inflate(stream, guard)
            size = guard.source.size
            ahead = (size is None or size >= INFLATE_AHEAD_MIN_BYTES) and _spare_core()
            gunzip = _Gunzip(chunks, ahead=ahead)
            stream = io.BufferedReader(gunzip, guard.limits.block_size)
        elif compression is not None:
            decompressor = DECOMPRESSORS[compression](stream)
            stream = io.BufferedReader(decompressor, guard.limits.block_size)
        yield stream
    finally:
        if gunzip is not None:
            gunzip.close()
        raw.close()


def _spare_core() -> bool:
    return len(os.sched_getaffinity(0)) > 1


def _inflate(compressed: io.BufferedReader, guard: SourceGuard) -> Iterator[bytes]:
    """gzip members (RFC 1952, concatenated, zero padding between them allowed, as
    gzip(1) and Python's gzip module accept) as chunks of at most one block."""
    limit = guard.limits.block_size
    produced = fed = 0
    inflater = zlib.decompressobj(_GZIP_WBITS)
    started = False
    while data := compressed.read(limit):
        fed += len(data)
        while data:
            if inflater.eof:
                data = data.lstrip(b"\x00")
                if not data:
                    break
                inflater = zlib.decompressobj(_GZIP_WBITS)
            started = True
            try:
                chunk = inflater.decompress(data, limit)
            except zlib.error as exc:
                raise Unreadable(f"corrupt gzip stream: {one_line(str(exc))}") from None
            data = inflater.unconsumed_tail or inflater.unused_data
            if chunk:
                produced += len(chunk)
                _check_ratio(guard, produced, fed - len(data))
                yield chunk
    if started and not inflater.eof:
        raise Unreadable("truncated gzip stream: it ends before its end marker")


_GZIP_WBITS: Final = 16 + zlib.MAX_WBITS
"""zlib's window bits for a gzip wrapper (header, CRC-32 and length checked)."""


def _check_ratio(guard: SourceGuard, produced: int, consumed: int) -> None:
    if produced > RATIO_CHECK_FLOOR and produced > MAX_DECOMPRESSION_RATIO * max(consumed, 1):
        guard.halt(
            NotInspected(
                f"gzip stream expands over {MAX_DECOMPRESSION_RATIO}:1"
                f" ({human_bytes(produced)} from {human_bytes(consumed)}):"
                " over the decompression-ratio bound"
            )
        )


class _Gunzip(io.RawIOBase):
    """Decompressed chunks as a raw stream; with ``ahead``, inflated on a thread."""

    def __init__(self, chunks: Iterator[bytes], *, ahead: bool) -> None:
        super().__init__()
        self._chunks = _Ahead(chunks) if ahead else chunks
        self._chunk = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        while not self._chunk:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._chunk = memoryview(chunk)
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._chunk))
        view[:count] = self._chunk[:count]
        self._chunk = self._chunk[count:]
        return count

    def close(self) -> None:
        if isinstance(self._chunks, _Ahead):
            self._chunks.stop()
        super().close()


class _Ahead:
    """Iterates ``chunks`` on a daemon thread, at most INFLATE_AHEAD_CHUNKS ahead; an
    exception there is raised here, in order."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(INFLATE_AHEAD_CHUNKS)
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(chunks,), name="notifier-inflate", daemon=True
        )
        self._thread.start()

    def __iter__(self) -> _Ahead:
        return self

    def __next__(self) -> bytes:
        item = self._queue.get()
        if item is None:
            self._queue.put(None)  # later calls see the end too
            raise StopIteration
        if isinstance(item, BaseException):
            self._queue.put(None)
            raise item
        return item

    def stop(self) -> None:
        """Stop the thread and wait for it (it ends within one read of the source)."""
        self._stopped.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    def _run(self, chunks: Iterator[bytes]) -> None:
        item: bytes | BaseException | None
        try:
            for item in chunks:
                if not self._put(item):
                    return
            item = None
        except BaseException as exc:  # handed to the reading thread
            item = exc
        self._put(item)

    def _put(self, item: bytes | BaseException | None) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False


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
    "bz2": _bunzip2,
    "xz": _unxz,
}
"""Streaming decompression by codec name (the names of datasets.formats' codecs), besides
gzip, which ``open_decoded`` inflates itself (ratio-bounded, ahead on a spare core)."""


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
