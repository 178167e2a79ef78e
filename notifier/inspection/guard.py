"""The one gate between inspection code and an ObjectSource.

Every source call goes through a SourceGuard, which checks the deadline first and
remembers the source's own exception. Parsers such as pyarrow read through file
wrappers on their own threads and may wrap what those wrappers raise; the record
lets ``run_guarded`` tell a transport failure (re-raised unchanged, for a retry)
from bad content (an 'error' verdict), whatever the parser made of it.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, TypeVar

from notifier.inspection.base import Inspection, InspectionLimits, human_bytes, one_line
from notifier.inspection.errors import InspectionStop, NotInspected, TimedOut, Unreadable
from notifier.inspection.source import ByteStream, ObjectSource

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

logger = logging.getLogger(__name__)

T = TypeVar("T")


class SourceGuard:
    """Deadline, failure record and stop record of one inspection of one source."""

    def __init__(
        self,
        source: ObjectSource,
        limits: InspectionLimits,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.limits = limits
        self._clock = clock
        self._deadline = clock() + limits.timeout_seconds
        self.failure: Exception | None = None
        """The first exception a source method raised; it outranks everything else."""
        self.stop: InspectionStop | None = None
        """The first stop this guard raised (timeout, scan cap, short read)."""

    @property
    def halted(self) -> bool:
        return self.failure is not None or self.stop is not None

    def check_deadline(self) -> None:
        if self._clock() > self._deadline:
            self.halt(TimedOut(self.limits.timeout_seconds))

    def halt(self, stop: InspectionStop) -> NoReturn:
        """Raise ``stop`` and remember it, so a parser that wraps it cannot hide it."""
        if self.stop is None:
            self.stop = stop
        raise stop

    def call(self, method: Callable[[], T]) -> T:
        """Run one source method, recording its failure before letting it go."""
        try:
            return method()
        except Exception as exc:
            if self.failure is None:
                self.failure = exc
            raise

    def read_range(self, offset: int, length: int) -> bytes:
        self.check_deadline()
        data = self.call(lambda: self.source.read_range(offset, length))
        if len(data) != length:
            self.halt(
                Unreadable(
                    f"object is shorter than its size says: bytes {offset}-{offset + length - 1}"
                    f" gave {len(data)} of {length} bytes"
                )
            )
        return data

    def open_stream(self, max_bytes: int | None) -> GuardedStream:
        self.check_deadline()
        return GuardedStream(self, self.call(self.source.open_stream), max_bytes)


class GuardedStream(io.RawIOBase):
    """The source's stream as a raw file: deadline per read, byte cap, safe close.

    Reads arrive from pyarrow's I/O thread while the inspecting thread may close the
    stream; the lock makes close wait for a read in flight, and later reads see EOF,
    so no parser thread is left inside the source once the inspection returns.
    """

    def __init__(self, guard: SourceGuard, raw: ByteStream, max_bytes: int | None) -> None:
        super().__init__()
        self._guard = guard
        self._raw: ByteStream | None = raw
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        with self._lock:
            if self._raw is None:
                return 0
            return self._read_locked(self._raw, view)

    def _read_locked(self, raw: ByteStream, view: memoryview) -> int:
        self._guard.check_deadline()
        wanted = min(len(view), self._guard.limits.block_size)
        data = self._guard.call(lambda: raw.read(wanted))
        if len(data) > wanted:
            self._guard.halt(
                Unreadable(f"source returned {len(data)} bytes for a read of {wanted}")
            )
        view[: len(data)] = data
        self.position += len(data)
        if self._max_bytes is not None and self.position > self._max_bytes:
            self._guard.halt(
                NotInspected(f"object is larger than the {human_bytes(self._max_bytes)} scan cap")
            )
        return len(data)

    def close(self) -> None:
        with self._lock:
            raw, self._raw = self._raw, None
        if raw is not None:
            try:
                raw.close()
            except Exception as exc:
                # Everything needed was read; a failed close must not turn a verdict
                # into a retry.
                logger.warning("closing object stream failed: %s", one_line(str(exc)))
        super().close()


def run_guarded(
    guard: SourceGuard, format: str | None, inspect: Callable[[], Inspection]
) -> Inspection:
    """Run ``inspect``; turn every failure into a verdict except the source's own.

    A stop the guard raised (timeout, cap) decides the verdict even when a parser
    wrapped it in an error of its own, or swallowed it.
    """
    verdict: Inspection | None = None
    try:
        verdict = inspect()
    except Exception as exc:
        if guard.failure is None and guard.stop is None:
            verdict = _unexpected(guard, format, exc)
    if guard.failure is not None:
        # Raised outside the except block, so the exception keeps its own context.
        raise guard.failure
    if guard.stop is not None:
        # An inner run_guarded may already have named the format.
        named = verdict.format if verdict is not None and verdict.format else format
        return Inspection(guard.stop.estado, None, guard.stop.reason, named, {})
    assert verdict is not None
    return verdict


def _unexpected(guard: SourceGuard, format: str | None, exc: Exception) -> Inspection:
    if isinstance(exc, InspectionStop):
        return Inspection(exc.estado, None, exc.reason, format, {})
    logger.exception(
        "unexpected error inspecting object",
        extra={"action": "inspect", "bucket": guard.source.bucket, "key": guard.source.key},
    )
    return Inspection.error(format, f"unexpected error: {type(exc).__name__}: {one_line(str(exc))}")
