"""How deep a JSON text nests, without parsing it: the bound on every JSON reader.

Parsers spend memory per nesting level, some of them far more than a byte per level
(ijson's prefixes grow with the square of the depth: a 100 KB ``[[[[...`` took 21 GiB).
Real documents nest a handful of levels; ``DEFAULT_MAX_JSON_DEPTH`` in base.py is the
limit, and deeper text is refused before or while it is parsed.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Final

from notifier.inspection.errors import Unreadable

_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
"""A complete JSON string (RFC 8259 section 7), escapes included."""

_NOT_BRACKET: Final = bytes(byte for byte in range(256) if byte not in b"[]{}")
_STEP: Final = [0] * 256
for _byte in b"[{":
    _STEP[_byte] = 1
for _byte in b"]}":
    _STEP[_byte] = -1


def nesting_depth(text: bytes) -> int:
    """The deepest bracket nesting of ``text`` outside JSON strings (0 for a scalar).

    Linear time, at C speed: strings are cut out with one regular expression, the
    brackets left are summed with ``itertools.accumulate``. Text after an unterminated
    string is inside that string and does not count. Invalid JSON gets a number too;
    its parser rejects it anyway.
    """
    skeleton = _STRING.sub(b"", text)
    quote = skeleton.find(b'"')
    if quote >= 0:
        skeleton = skeleton[:quote]
    brackets = skeleton.translate(None, _NOT_BRACKET)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def too_deep(what: str, limit: int) -> Unreadable:
    return Unreadable(f"{what} nests deeper than {limit} levels")


def check_nesting(text: bytes, limit: int, what: str) -> None:
    """Raise Unreadable when ``text`` nests deeper than ``limit`` levels."""
    if text.count(b"[") + text.count(b"{") > limit and nesting_depth(text) > limit:
        raise too_deep(what, limit)
