"""Which dataset format and compression an object is: from its bytes first, then its name.

The registry (``FormatRegistry``, filled in ``datasets/__init__.py``) holds one
``FormatSpec`` per format and one ``Codec`` per compression. Detection is pure: it
takes the key, the content type and the object's first bytes (``head``, as stored,
and ``body``, the first bytes once decompressed) and says what to read and why.

Binary formats and compressions announce themselves with magic bytes at offset 0
(sources: the Parquet, gzip (RFC 1952), bzip2, xz, zstd (RFC 8878), ZIP (APPNOTE),
Avro, ORC, Arrow IPC, HDF5, NumPy ``.npy`` and Python pickle (PEP 3154) specifications),
and those bytes win over a key suffix or content type that says otherwise. Text formats
(CSV, TSV, JSON, JSON Lines) have none: the suffix or content type names them, and an
object with neither is read as JSON only when it starts with ``{`` or ``[``.
"""

from __future__ import annotations

import bz2
import lzma
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from notifier.inspection.guard import SourceGuard

SNIFF_BYTES: Final = 4096
"""Bytes of an object (and of its decompressed content) looked at to recognise it."""

LONG_SNIFF_BYTES: Final = 1 << 20
"""Compressed bytes read when the first ``SNIFF_BYTES`` decompress to nothing (a bzip2
block is up to 900 kB) and the content must decide the format."""

_TEXT_LEADING = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class DatasetFormat:
    """What a counter is asked to read: the format's name and the compression around it."""

    name: str
    compression: str | None = None

    @property
    def gzipped(self) -> bool:
        return self.compression == "gzip"

    @property
    def scanned(self) -> bool:
        """Whether counting reads the whole object (Parquet reads only its footer)."""
        return self.name != "parquet"


@dataclass(frozen=True)
class Counted:
    """What a format's counter found: records and JSON-serialisable details."""

    records: int
    details: Mapping[str, Any] = field(default_factory=dict)


Counter = Callable[["SourceGuard", DatasetFormat], Counted]
Magic = Callable[[bytes], bool]


def starts_with(*prefixes: bytes) -> Magic:
    """A magic test: the bytes start with one of ``prefixes``."""
    return lambda data: data.startswith(prefixes)


def matches(pattern: bytes) -> Magic:
    """A magic test: the bytes start with a match of the regular expression ``pattern``."""
    compiled = re.compile(pattern, re.DOTALL)
    return lambda data: compiled.match(data) is not None


@dataclass(frozen=True)
class FormatSpec:
    """One dataset format.

    ``count`` None means recognised but not countable: such objects are ``skipped``
    with ``description`` in the reason. ``streamed`` formats are read start to end
    (scan cap, any compression); the others (Parquet) by ranged reads.
    """

    name: str
    description: str
    count: Counter | None
    suffixes: tuple[str, ...] = ()
    content_types: tuple[str, ...] = ()
    magic: Magic | None = None
    streamed: bool = True


@dataclass(frozen=True)
class Codec:
    """One compression layer; ``supported`` False is recognised but not read.

    ``head`` decompresses the start of a stream (a truncated input) into at most
    ``SNIFF_BYTES``; it returns what it can, ``b""`` when the input is not enough.
    """

    name: str
    suffixes: tuple[str, ...]
    magic: Magic
    head: Callable[[bytes], bytes] | None = None

    @property
    def supported(self) -> bool:
        return self.head is not None


def gunzip_head(data: bytes) -> bytes:
    try:
        return zlib.decompressobj(wbits=31).decompress(data, SNIFF_BYTES)
    except zlib.error:
        return b""


def bunzip2_head(data: bytes) -> bytes:
    try:
        return bz2.BZ2Decompressor().decompress(data, SNIFF_BYTES)
    except (OSError, EOFError, ValueError):
        return b""


def unxz_head(data: bytes) -> bytes:
    try:
        return lzma.LZMADecompressor().decompress(data, SNIFF_BYTES)
    except (lzma.LZMAError, EOFError):
        return b""


@dataclass(frozen=True)
class Detection:
    """What to read, or why not (``skip``), and what the decision relied on."""

    spec: FormatSpec | None
    compression: str | None
    evidence: Mapping[str, str]
    """``{"format": "suffix" | "content type" | "magic bytes" | "content", "compression": ...}``;
    ``"suffix"`` for compression means the suffix and the magic bytes agree."""
    notes: tuple[str, ...] = ()
    skip: str | None = None

    @property
    def format(self) -> DatasetFormat | None:
        return None if self.spec is None else DatasetFormat(self.spec.name, self.compression)

    def details(self) -> dict[str, Any]:
        """``compression``, and ``detected_by`` unless the key's suffixes alone said it all."""
        details: dict[str, Any] = {}
        if set(self.evidence.values()) - {"suffix"} or self.notes:
            details["detected_by"] = dict(self.evidence)
        if self.compression is not None:
            details["compression"] = self.compression
        if self.notes:
            details["detection_notes"] = list(self.notes)
        return details


@dataclass(frozen=True)
class Claim:
    """What the key's suffix or the content type says, before the bytes are looked at."""

    spec: FormatSpec | None
    spec_source: str | None
    codec: Codec | None
    shown_suffix: str


class FormatRegistry:
    """Dataset formats and compressions, looked up by suffix, content type and magic bytes."""

    def __init__(self, formats: Sequence[FormatSpec], codecs: Sequence[Codec]) -> None:
        self.formats = tuple(formats)
        self.codecs = tuple(codecs)
        self._by_name = {spec.name: spec for spec in self.formats}
        self._by_suffix = {suffix: spec for spec in self.formats for suffix in spec.suffixes}
        self._by_type = {kind: spec for spec in self.formats for kind in spec.content_types}
        self._codec_by_suffix = {
            suffix: codec for codec in self.codecs for suffix in codec.suffixes
        }
        if len(self._by_name) != len(self.formats):
            raise ValueError("two dataset formats share a name")

    def spec(self, name: str) -> FormatSpec:
        return self._by_name[name]

    def claim(self, key: str, content_type: str | None) -> Claim:
        """The format and compression the key's suffixes (first) or content type name."""
        name = key.rsplit("/", 1)[-1].lower()
        codec = None
        for suffix, candidate in self._codec_by_suffix.items():
            if name.endswith(suffix):
                codec, name = candidate, name.removesuffix(suffix)
                break
        dot = name.rfind(".")
        suffix = name[dot:] if dot >= 0 else ""
        shown = suffix + (codec.suffixes[0] if codec else "")
        spec = self._by_suffix.get(suffix)
        if spec is not None:
            return Claim(spec, "suffix", codec, shown)
        kind = (content_type or "").split(";", 1)[0].strip().lower()
        spec = self._by_type.get(kind)
        return Claim(spec, "content type" if spec else None, codec, shown)

    def detect(self, key: str, content_type: str | None, head: bytes, body: bytes) -> Detection:
        """Decide from the claim and the bytes. ``body`` is ``head`` decompressed (or
        ``head`` itself when no codec matched; see ``codec_of``)."""
        claim = self.claim(key, content_type)
        evidence: dict[str, str] = {}
        notes: list[str] = []
        codec = self.codec_of(head)
        if codec is not None:
            evidence["compression"] = "suffix" if claim.codec is codec else "magic bytes"
            if claim.codec is not None and claim.codec is not codec:
                notes.append(f"the key says {claim.codec.name}, the content is {codec.name}")
            if not codec.supported:
                return Detection(
                    claim.spec,
                    codec.name,
                    evidence,
                    tuple(notes),
                    skip=f"{codec.name} compression is not supported (detected by magic bytes)",
                )
        elif claim.codec is not None:
            notes.append(f"the key says {claim.codec.name}, the content is not compressed")
        spec, source = self._format_of(claim, body, notes)
        if spec is None:
            return Detection(
                None, None, evidence, tuple(notes), skip=self.unsupported(claim, content_type)
            )
        evidence["format"] = source
        compression = codec.name if codec else None
        detection = Detection(spec, compression, evidence, tuple(notes))
        if spec.count is None:
            return _skipped(detection, f"{spec.description} is not a countable dataset format")
        if compression is not None and not spec.streamed:
            return _skipped(
                detection,
                f"{spec.description} inside {compression} compression cannot be read"
                " (its footer needs ranged reads)",
            )
        return detection

    def codec_of(self, head: bytes) -> Codec | None:
        return next((codec for codec in self.codecs if codec.magic(head)), None)

    def _format_of(
        self, claim: Claim, body: bytes, notes: list[str]
    ) -> tuple[FormatSpec | None, str]:
        by_magic = next(
            (spec for spec in self.formats if spec.magic is not None and spec.magic(body)), None
        )
        if by_magic is not None:
            if claim.spec is not None and claim.spec is not by_magic:
                said = f"the {claim.spec_source} says {claim.spec.name}"
                notes.append(f"{said}, the content is {by_magic.name}")
            return by_magic, "magic bytes"
        if claim.spec is not None:
            return claim.spec, claim.spec_source or "suffix"
        if _first_significant(body) in (b"{", b"["):
            return self._by_name.get("json"), "content"
        return None, ""

    @staticmethod
    def unsupported(claim: Claim, content_type: str | None) -> str:
        """Why nothing the key or content type names can be counted."""
        shown = claim.shown_suffix
        what = (
            f"unsupported format '{shown}'" if shown else "unsupported format (no file extension)"
        )
        return f"{what}, content type '{content_type}'" if content_type else what


def _skipped(detection: Detection, reason: str) -> Detection:
    return Detection(
        detection.spec, detection.compression, detection.evidence, detection.notes, skip=reason
    )


def _first_significant(data: bytes) -> bytes:
    return data.removeprefix(_UTF8_BOM).lstrip(_TEXT_LEADING)[:1]


def has_suffix(key: str, suffix: str) -> bool:
    return key.rsplit("/", 1)[-1].lower().endswith(suffix)
