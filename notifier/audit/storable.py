"""The storable boundary: every text derived from an object, made fit for PostgreSQL.

PostgreSQL ``text`` cannot hold NUL (U+0000), ``jsonb`` refuses ``\\u0000`` and
non-finite numbers, and neither can hold a lone UTF-16 surrogate (U+D800-U+DFFF: not
encodable as UTF-8). Any of them makes psycopg raise ``DataError`` and the whole row
is lost. Every value an object gives the audit (reasons, column names, metadata,
``details``, ``parametros``, ``metrics`` keys and values, file names) passes
:func:`storable_text` or :func:`storable_json` before it is written.

Rules (sources: PostgreSQL docs "Character Types" and "JSON Types", RFC 8259):

- NUL and every surrogate code point become U+FFFD (the Unicode replacement character).
- Text is cut to a bound, keeping a trailing ``…`` so a cut is visible:
  :data:`MAX_TEXT_CHARS` for values and reasons, :data:`MAX_NAME_CHARS` for JSON object
  member names (column, metadata and metric names).
- JSON: at most :data:`MAX_ITEMS` members per object or items per array (an array keeps
  a last item ``"… N more items"``, an object a member ``"…": "N more members"``), at
  most :data:`MAX_DEPTH` levels (deeper values become ``"… nested too deep"``), at most
  :data:`MAX_NODES` values in all (later ones become null); ``NaN`` and infinities
  become the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (which PostgreSQL's
  ``float8`` casts accept); integers over :data:`MAX_INT_DIGITS` digits become a
  string saying so; anything else (dates, decimals) becomes its ``str``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

MAX_TEXT_CHARS: Final = 2000
"""Longest string value or reason stored; a cut keeps ``…`` as its last character."""

MAX_NAME_CHARS: Final = 256
"""Longest JSON member name stored (a column, metadata or metric name)."""

MAX_ITEMS: Final = 1000
"""Most members of one JSON object, or items of one array, stored."""

MAX_DEPTH: Final = 16
"""Deepest JSON nesting stored."""

MAX_NODES: Final = 20_000
"""Most JSON values stored in one document; bounds a document to a few MiB at most."""

MAX_INT_DIGITS: Final = 100
"""Longest integer stored as a number (Python refuses to print over 4300 digits)."""

REPLACEMENT: Final = "\ufffd"
ELLIPSIS: Final = "…"

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str, limit: int | None = MAX_TEXT_CHARS) -> str:
    """``text`` without NUL or lone surrogates, at most ``limit`` characters.

    ``limit=None`` keeps the length (object keys: the intake store already bounds
    them, and a cut key would no longer name its object).
    """
    if _UNSTORABLE.search(text):
        text = _UNSTORABLE.sub(REPLACEMENT, text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + ELLIPSIS
    return text


def storable_optional(text: str | None, limit: int | None = MAX_TEXT_CHARS) -> str | None:
    return None if text is None else storable_text(text, limit)


@dataclass
class _Budget:
    nodes: int = MAX_NODES


def storable_json(value: Any) -> Any:
    """A copy of a JSON-like value that PostgreSQL's ``jsonb`` accepts, bounded (see module)."""
    return _json(value, 0, _Budget())


def _json(value: Any, depth: int, budget: _Budget) -> Any:
    if budget.nodes <= 0:
        return None
    budget.nodes -= 1
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _integer(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, Mapping | list | tuple) and depth >= MAX_DEPTH:
        return ELLIPSIS + " nested too deep"
    if isinstance(value, Mapping):
        return _object(value, depth, budget)
    if isinstance(value, list | tuple):
        items = [_json(item, depth + 1, budget) for item in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            items.append(f"{ELLIPSIS} {len(value) - MAX_ITEMS} more items")
        return items
    return storable_text(str(value))


def _object(value: Mapping[Any, Any], depth: int, budget: _Budget) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for count, (name, member) in enumerate(value.items()):
        if count == MAX_ITEMS:
            result[ELLIPSIS] = f"{len(value) - MAX_ITEMS} more members"
            break
        result[storable_text(str(name), MAX_NAME_CHARS)] = _json(member, depth + 1, budget)
    return result


def _integer(value: int) -> int | str:
    # Compared by bits, so a huge number is never printed (log10(2) ~ 0.30103).
    if value.bit_length() * 0.30103 <= MAX_INT_DIGITS:
        return value
    return f"integer of about {int(value.bit_length() * 0.30103)} digits"
