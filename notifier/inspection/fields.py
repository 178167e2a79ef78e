"""Loosely typed fields: object metadata strings and JSON documents written by people."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

RECORD_COUNT_FIELDS: Final = ("num_registros", "num_records", "n_samples", "rows", "training_rows")
"""Fields (metadata or document) that state how many records an artifact covers."""

MAX_TEXT_LENGTH: Final = 1024
"""Longest string kept from a document or metadata value; longer ones are cut."""

MAX_LIST_LENGTH: Final = 64
"""Longest list of scalars kept as one parameter (e.g. layer sizes)."""

_BOOLEANS: Final = {"true": True, "false": False}


def field_name(name: str) -> str:
    """``Num-Records`` and ``num_records`` name the same field."""
    return name.strip().lower().replace("-", "_")


def find(fields: Mapping[str, Any] | None, names: Iterable[str]) -> Any:
    """The value of the first of ``names`` present in ``fields`` (names compared loosely)."""
    if not fields:
        return None
    by_name = {field_name(str(key)): value for key, value in fields.items()}
    for name in names:
        if name in by_name:
            return by_name[name]
    return None


def metadata_value(text: str) -> str | int | float | bool:
    """``"0.1"`` -> 0.1, ``"10"`` -> 10, ``"true"`` -> True; anything else stays text."""
    stripped = text.strip()
    if stripped.lower() in _BOOLEANS:
        return _BOOLEANS[stripped.lower()]
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError):  # RecursionError: brackets nested too deep
        return clip(text)
    return value if is_number(value) else clip(text)


def is_number(value: Any) -> bool:
    """An int or finite float, not a bool: what a metric or count may be."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool)) or is_number(value)


def parameter_value(value: Any) -> tuple[bool, Any]:
    """(keep, value): scalars and short lists of scalars are kept, strings clipped."""
    if isinstance(value, str):
        return True, clip(value)
    if is_scalar(value):
        return True, value
    if (
        isinstance(value, list)
        and len(value) <= MAX_LIST_LENGTH
        and all(is_scalar(item) for item in value)
    ):
        return True, [clip(item) if isinstance(item, str) else item for item in value]
    return False, None


def as_count(value: Any) -> int | None:
    """A record count: a non-negative int, or a string holding one."""
    if isinstance(value, str):
        value = metadata_value(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def as_name(value: Any) -> str | None:
    """A name: a non-empty string, or an object's ``name`` field."""
    if isinstance(value, Mapping):
        value = value.get("name")
    if isinstance(value, str) and value.strip():
        return clip(value.strip())
    return None


def clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT_LENGTH else text[:MAX_TEXT_LENGTH]
