"""Feeding a Python stream to pyarrow's streaming readers, and tearing it down safely.

pyarrow reads Python file objects from its own I/O thread and releases them there,
sometimes after the reader has handed back its last batch. A pyarrow thread that
touches Python while the interpreter shuts down aborts the process ("terminate called
without an active exception", apache/arrow#34314). So:

* the Python file is wrapped in ``pa.BufferedInputStream``, which copies into memory
  pyarrow owns, so no pyarrow buffer keeps a Python ``bytes`` alive;
* the file object never raises into pyarrow (a failure is kept and the read returns
  EOF), so no Python exception or traceback lives inside pyarrow;
* ``count_batches`` returns only once pyarrow has dropped the file object.
"""

from __future__ import annotations

import functools
import logging
import threading
import traceback
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Final

import pyarrow as pa

from notifier.inspection.guard import SourceGuard

logger = logging.getLogger(__name__)

RELEASE_WAIT_SECONDS: Final = 10.0
"""Longest wait for pyarrow's I/O thread to let go of a stream once reading ended.

It normally takes microseconds; a read still in flight against a slow source can take
as long as that read."""

_WHOLE_READ_BYTES: Final = 1 << 20
"""Served for a read of 'everything', which pyarrow does not ask for in practice."""

OpenReader = Callable[[Any], Iterable[Any]]
"""Opens a pyarrow batch reader (``pyarrow.csv.open_csv`` and the like) on a stream."""


@functools.cache
def memory_pool() -> pa.MemoryPool:
    """The allocator streaming readers use: jemalloc where pyarrow was built with it.

    pyarrow's default pool (mimalloc in the PyPI wheels) keeps the blocks of a long
    stream mapped: counting a 1 GiB CSV peaked at ~300 MiB with it and at ~110 MiB
    with jemalloc, which returns freed blocks to the system (bench/bench_count_csv.py).
    Falls back to the system allocator (close to jemalloc in that benchmark).
    """
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        return pa.system_memory_pool()


def count_batches(guard: SourceGuard, read: Callable[[int], bytes], open_reader: OpenReader) -> int:
    """Rows in all batches ``open_reader`` yields over the bytes ``read`` returns.

    A failure raised by ``read`` wins over whatever pyarrow made of the early EOF.
    """
    feed = _Feed(read)
    released = threading.Event()
    weakref.finalize(feed, released.set)
    outcome: int | Exception
    try:
        outcome = _drain(guard, feed, open_reader)
    except Exception as exc:
        # Frames in the traceback (open_reader's, say) would keep the stream alive.
        traceback.clear_frames(exc.__traceback__)
        outcome = exc
    state = feed.state
    state.stopped = True  # a read-ahead still running gets EOF at once
    del feed
    if not released.wait(RELEASE_WAIT_SECONDS):
        logger.warning("pyarrow kept a stream %.0f s after reading ended", RELEASE_WAIT_SECONDS)
    if state.failure is not None:
        raise state.failure
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _drain(guard: SourceGuard, feed: _Feed, open_reader: OpenReader) -> int:
    native = pa.BufferedInputStream(
        pa.PythonFile(feed, mode="r"),
        buffer_size=guard.limits.block_size,
        memory_pool=memory_pool(),
    )
    del feed
    reader: Iterable[Any] | None = None
    try:
        reader = open_reader(native)
        rows = 0
        for batch in reader:
            rows += int(batch.num_rows)
            guard.check_deadline()
        return rows
    finally:
        # An exception's traceback keeps this frame alive; it must not keep these.
        del native, reader


class _FeedState:
    """What a feed shares with its caller; kept apart so that a failure's traceback,
    which references this object, does not also keep the feed alive."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self.read = read
        self.failure: Exception | None = None
        self.stopped = False

    def next_chunk(self, size: int) -> bytes:
        if self.stopped or self.failure is not None:
            return b""
        try:
            return self._fill(size if size >= 0 else _WHOLE_READ_BYTES)
        except Exception as exc:
            self.failure = exc
            return b""

    def _fill(self, size: int) -> bytes:
        # pyarrow takes a short read for the end of the stream.
        first = self.read(size)
        if len(first) in (0, size):
            return first
        chunks = [first]
        missing = size - len(first)
        while missing > 0 and (chunk := self.read(missing)):
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)


class _Feed:
    """The file object pyarrow reads."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self.state = _FeedState(read)
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        state = self.state
        del self  # see _FeedState
        return state.next_chunk(size)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True
