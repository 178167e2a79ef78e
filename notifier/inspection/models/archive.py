"""Zip archives (PyTorch ``.pt``, Keras ``.keras``) read by ranged GETs.

``zipfile`` from the standard library parses the central directory (zip64 included)
through :class:`RangedFile`, a seekable file over the object; only the central
directory and the members asked for are fetched, each capped in size.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import TYPE_CHECKING, Final

from notifier.inspection.base import human_bytes, one_line
from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.guard import SourceGuard
from notifier.inspection.models.ranged import RangedReader

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

ZIP_MAGIC: Final = b"PK\x03\x04"
MAX_MEMBERS: Final = 100_000
"""Entries of the central directory accepted."""
MAX_CENTRAL_DIRECTORY_BYTES: Final = 64 * 1024**2
"""zipfile reads the central directory in one read of the size the end record states;
100,000 entries with names of a few hundred bytes fit in this."""


class RangedFile(io.RawIOBase):
    """The guarded object as a read-only, seekable raw file."""

    def __init__(self, guard: SourceGuard, max_read: int | None = None) -> None:
        super().__init__()
        self._reader = RangedReader(guard)
        self.max_read = max_read
        """Largest single read accepted (None: any), checked before a buffer is made."""

    def read(self, size: int = -1) -> bytes:
        if self.max_read is not None and size > self.max_read:
            raise NotInspected(f"zip central directory larger than {human_bytes(self.max_read)}")
        return super().read(size) or b""  # None only for a non-blocking file

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._reader.offset

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._reader.offset, io.SEEK_END: self._reader.size}
        self._reader.seek(min(max(base[whence] + offset, 0), self._reader.size))
        return self._reader.offset

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        length = min(len(view), self._reader.size - self._reader.offset)
        data = self._reader.read(length)
        view[:length] = data
        return length


def open_archive(guard: SourceGuard) -> zipfile.ZipFile:
    file = RangedFile(guard, max_read=MAX_CENTRAL_DIRECTORY_BYTES)
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Unreadable(f"not a valid zip archive: {one_line(str(exc))}") from None
    file.max_read = None  # members are read with caps of their own
    if len(archive.infolist()) > MAX_MEMBERS:
        raise NotInspected(f"zip archive with more than {MAX_MEMBERS} entries")
    return archive


def member_stream(archive: zipfile.ZipFile, name: str, max_bytes: int) -> io.BufferedReader:
    """A member's (decompressed) bytes as a stream; NotInspected over ``max_bytes``."""
    info = archive.getinfo(name)
    if info.file_size > max_bytes:
        raise NotInspected(f"{name} is larger than {human_bytes(max_bytes)}")
    try:
        return io.BufferedReader(archive.open(info))  # type: ignore[arg-type]
    except (zipfile.BadZipFile, NotImplementedError, zlib.error) as exc:
        raise Unreadable(f"cannot read {name} from the archive: {one_line(str(exc))}") from None


def read_member(archive: zipfile.ZipFile, name: str, max_bytes: int) -> bytes:
    with member_stream(archive, name, max_bytes) as stream:
        try:
            data = stream.read(max_bytes + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise Unreadable(f"cannot read {name} from the archive: {one_line(str(exc))}") from None
    if len(data) > max_bytes:
        raise NotInspected(f"{name} is larger than {human_bytes(max_bytes)}")
    return data
