"""The first bytes of an object, read once: the stream that read them is handed on.

Detection needs an object's first bytes; the counter then reads the object from byte
0. ``SniffedSource`` reads the head from the object's stream and parks that stream: the
counter's first ``open_stream`` gets it back with the head replayed in front, so no byte
is fetched twice (``bytes_read`` stays the object's size) and no request is added.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from notifier.inspection.guard import SourceGuard
from notifier.inspection.source import ByteStream, ObjectSource

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class SniffedSource:
    """An ObjectSource whose first stream has already given up its first bytes."""

    def __init__(self, guard: SourceGuard) -> None:
        self._guard = guard
        self._source: ObjectSource = guard.source
        self._stream: ByteStream | None = None
        self.head = b""
        self._exhausted = False

    # The ObjectSource protocol, delegated.
    @property
    def bucket(self) -> str:
        return self._source.bucket

    @property
    def key(self) -> str:
        return self._source.key

    @property
    def size(self) -> int | None:
        return self._source.size

    @property
    def content_type(self) -> str | None:
        return self._source.content_type

    @property
    def user_metadata(self) -> Mapping[str, str]:
        return self._source.user_metadata

    @property
    def bytes_read(self) -> int:
        return self._source.bytes_read

    def read_range(self, offset: int, length: int) -> bytes:
        return self._source.read_range(offset, length)

    def open_stream(self) -> ByteStream:
        stream, self._stream = self._stream, None
        if stream is None:
            return self._source.open_stream()
        return _Replay(self.head, stream)

    def read_head(self, length: int) -> bytes:
        """The object's first ``length`` bytes (fewer at its end), read once."""
        guard = self._guard
        if self._stream is None and not self.head and not self._exhausted:
            guard.check_deadline()
            self._stream = guard.call(self._source.open_stream)
        chunks = [self.head]
        total = len(self.head)
        while total < length and self._stream is not None and not self._exhausted:
            guard.check_deadline()
            wanted, stream = length - total, self._stream
            chunk = guard.call(lambda: stream.read(wanted))  # noqa: B023 (called at once)
            if not chunk:
                self._exhausted = True
            chunks.append(chunk)
            total += len(chunk)
        self.head = b"".join(chunks)
        return self.head[:length]

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()


@contextmanager
def sniffing(guard: SourceGuard) -> Iterator[SniffedSource]:
    """``guard`` reading through a SniffedSource while the block runs."""
    original = guard.source
    sniffed = SniffedSource(guard)
    guard.source = sniffed
    try:
        yield sniffed
    finally:
        guard.source = original
        sniffed.close()


class _Replay(io.RawIOBase):
    """``head``, then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: ByteStream) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._stream: ByteStream | None = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        """The head's bytes, then the stream's own (not copied)."""
        if self._head or self._stream is None or size is None or size < 0:
            return super().read(-1 if size is None else size) or b""
        return self._stream.read(size)

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(view), len(self._head))
            view[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        if self._stream is None:
            return 0
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        super().close()
