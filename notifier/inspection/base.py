"""Inspection's public types: the limits one inspection obeys and the verdict it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from notifier.config import CsvDialectRule
from notifier.phases import Phase

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_MAX_JSON_DEPTH",
    "DEFAULT_MAX_JSON_DOCUMENT_BYTES",
    "DEFAULT_MAX_PARQUET_FOOTER_BYTES",
    "DEFAULT_MAX_SCAN_BYTES",
    "DEFAULT_TIMEOUT_SECONDS",
    "Estado",
    "Inspection",
    "InspectionLimits",
    "Phase",
]

Estado = Literal["ok", "error", "skipped"]

DEFAULT_MAX_SCAN_BYTES: Final = 10 * 1024**3
"""Text objects (CSV, TSV, JSON Lines, JSON) above this size are skipped, not scanned.

Measured on one core: CSV and JSON Lines count at ~0.25-0.7 GB/s (10 GiB in 15-40 s),
JSON documents at ~0.025 GB/s (10 GiB in ~7 min, inside the default time budget; the
depth-bounded event walk costs ~1.45x ijson.items, see bench/bench_count_json.py)."""

DEFAULT_MAX_JSON_DOCUMENT_BYTES: Final = 64 * 1024**2
"""Largest JSON document parsed whole (model cards, results files), and the largest
single JSON Lines line or JSON array element; parsed Python objects take ~5-10x this."""

DEFAULT_MAX_JSON_DEPTH: Final = 512
"""Deepest nesting of arrays and objects any JSON reader accepts; deeper is an error.

Records, pandas output and model cards nest a handful of levels; parsers spend memory
per level (ijson's prefixes with the square of the depth), so the depth is bounded
before it can cost more than a few MiB."""

DEFAULT_MAX_PARQUET_FOOTER_BYTES: Final = 64 * 1024**2
"""Largest Parquet footer read; real footers are KiB to a few MiB even for wide files."""

DEFAULT_TIMEOUT_SECONDS: Final = 600.0
"""Wall-clock budget of one inspection, checked before every read and between batches."""

DEFAULT_BLOCK_SIZE: Final = 1 << 20
"""Bytes per streaming read; also the CSV/JSON parser block, so it bounds memory."""


@dataclass(frozen=True)
class InspectionLimits:
    """Bounds on bytes, memory and time for one inspection."""

    max_scan_bytes: int = DEFAULT_MAX_SCAN_BYTES
    max_json_document_bytes: int = DEFAULT_MAX_JSON_DOCUMENT_BYTES
    max_parquet_footer_bytes: int = DEFAULT_MAX_PARQUET_FOOTER_BYTES
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    block_size: int = DEFAULT_BLOCK_SIZE
    csv_dialects: tuple[CsvDialectRule, ...] = ()
    """Operator overrides of CSV dialect detection (``NOTIFIER_CSV_DIALECTS``)."""
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    ignore_patterns: tuple[str, ...] = ()
    """Glob patterns of keys that are not data, on top of ``not_data.NOT_DATA``."""

    def __post_init__(self) -> None:
        for name in (
            "max_scan_bytes",
            "max_json_document_bytes",
            "max_parquet_footer_bytes",
            "block_size",
            "max_json_depth",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"InspectionLimits.{name} must be positive")
        if not self.timeout_seconds > 0:
            raise ValueError("InspectionLimits.timeout_seconds must be positive")


@dataclass(frozen=True)
class Inspection:
    """What inspecting one object found; ``details`` is JSON-serialisable."""

    estado: Estado
    num_registros: int | None
    reason: str | None
    format: str | None
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def ok(cls, format: str, num_registros: int | None, details: Mapping[str, Any]) -> Inspection:
        return cls("ok", num_registros, None, format, details)

    @classmethod
    def error(
        cls, format: str | None, reason: str, details: Mapping[str, Any] | None = None
    ) -> Inspection:
        return cls("error", None, reason, format, details or {})

    @classmethod
    def skipped(
        cls, format: str | None, reason: str, details: Mapping[str, Any] | None = None
    ) -> Inspection:
        return cls("skipped", None, reason, format, details or {})


def human_bytes(count: int) -> str:
    """``12 GiB``, ``1.5 MiB``, ``300 B``: sizes as people read them in a reason."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            text = f"{value:.2f}".rstrip("0").rstrip(".")
            return f"{text} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def one_line(message: str, limit: int = 300) -> str:
    """A library message fit for a reason column: one line, bounded length."""
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
