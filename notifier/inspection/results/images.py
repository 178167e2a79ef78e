"""Images (a confusion-matrix plot, a ROC curve): format and dimensions from the header.

No image library: the published headers are read directly, at most MAX_HEADER_BYTES.
PNG (signature, then the IHDR chunk: width, height as big-endian u32; PNG spec 11.2.2),
GIF (logical screen width, height as little-endian u16 after ``GIF87a``/``GIF89a``),
WebP (RIFF container: ``VP8 ``, ``VP8L`` or ``VP8X`` chunk), JPEG (markers walked up to
the first start-of-frame segment, SOF0-SOF15 but DHT/JPG/DAC; ITU T.81 B.2.2).
"""

from __future__ import annotations

import io
import struct
from typing import Final

from notifier.inspection.base import Inspection, human_bytes
from notifier.inspection.errors import Unreadable
from notifier.inspection.guard import SourceGuard
from notifier.inspection.streams import open_decoded

MAX_HEADER_BYTES: Final = 1024 * 1024
"""JPEG metadata segments (EXIF, ICC profiles) may precede the frame header by this much."""

HEAD_BYTES: Final = 32
"""Bytes that hold the size of a PNG, GIF or WebP image, and a JPEG's first marker."""

SUFFIXES: Final = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_PNG: Final = b"\x89PNG\r\n\x1a\n"
_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE: Final = frozenset((0x01, *range(0xD0, 0xD9)))


def read_image(guard: SourceGuard) -> Inspection:
    """``ok`` with ``details.width``/``height`` (pixels); the format is the image's own."""
    with open_decoded(guard, compression=None, max_bytes=None) as stream:
        head = stream.read(HEAD_BYTES)
        if head.startswith(_PNG) and head[12:16] == b"IHDR":
            fmt, (width, height) = "png", struct.unpack(">II", head[16:24])
        elif head[:6] in (b"GIF87a", b"GIF89a"):
            fmt, (width, height) = "gif", struct.unpack("<HH", head[6:10])
        elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            fmt, (width, height) = "webp", _webp_size(head)
        elif head[:2] == b"\xff\xd8":
            fmt, (width, height) = "jpeg", _jpeg_size(_Joined(head[2:], stream))
        else:
            raise Unreadable("not a PNG, JPEG, GIF or WebP image (unknown signature)")
    details = {"layout": "image", "metrics": {}, "width": width, "height": height}
    return Inspection.ok(fmt, None, details)


def _webp_size(head: bytes) -> tuple[int, int]:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and len(head) >= 30:
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    raise Unreadable("WebP image without a VP8, VP8L or VP8X header")


class _Joined:
    """The bytes already read, then the rest of the stream."""

    def __init__(self, head: bytes, rest: io.BufferedReader) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int) -> bytes:
        part, self._head = self._head[:size], self._head[size:]
        return part + self._rest.read(size - len(part)) if len(part) < size else part


def _jpeg_size(stream: _Joined) -> tuple[int, int]:
    read = 2
    while read <= MAX_HEADER_BYTES:
        byte = stream.read(1)
        if byte != b"\xff":
            raise Unreadable(f"corrupt JPEG: expected a marker at byte {read}")
        marker = stream.read(1)
        read += 2
        while marker == b"\xff":  # fill bytes
            marker = stream.read(1)
            read += 1
        if not marker:
            break
        code = marker[0]
        if code in _STANDALONE:
            continue
        length_bytes = stream.read(2)
        if len(length_bytes) < 2:
            break
        (length,) = struct.unpack(">H", length_bytes)
        if code in _SOF:
            frame = stream.read(5)
            if len(frame) < 5:
                break
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        if code == 0xDA or length < 2:
            raise Unreadable("corrupt JPEG: image data before any frame header")
        skipped = len(stream.read(length - 2))
        read += 2 + skipped
        if skipped < length - 2:
            break
    if read > MAX_HEADER_BYTES:
        raise Unreadable(f"no JPEG frame header in the first {human_bytes(MAX_HEADER_BYTES)}")
    raise Unreadable("truncated JPEG: it ends before its frame header")
