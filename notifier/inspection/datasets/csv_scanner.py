"""Which exact record counter the CSV inspector tries first.

Two implementations keep the same rules (see csv_count's docstring: a count only for
well-formed RFC 4180 text with the header's number of fields in every record, otherwise
no count and pyarrow counts from the first byte):

* ``_csvscan.RecordScanner``, compiled from ``_csvscan.c`` at install (64 bytes at a
  time as bit masks, the simdjson/simdcsv technique; the GIL released on large blocks):
  faster than pyarrow's parse at every size, so it counts every object first;
* ``csv_count.RecordCounter``, pure Python (bytes operations): the reference of the
  rules, and the fallback where no C compiler built the scanner, tried first on small
  objects only (on large ones pyarrow's parse is as fast and releases the GIL).

The tests hold both to pyarrow's counts, and the scanner to the counter's verdicts.
"""

from __future__ import annotations

import functools
import importlib
from typing import Protocol


class RecordScanner(Protocol):
    """Lines of delimited text fed in blocks (the interface both implementations give)."""

    def __init__(self, delimiter: str, num_columns: int, *, max_row_bytes: int = ...) -> None:
        """``delimiter``: one ASCII character; ``num_columns``: >= 2 (ValueError otherwise)."""

    @property
    def lines(self) -> int:
        """Lines (records, a header included) ended so far."""

    @property
    def reason(self) -> str | None:
        """Why the scanner gave up, or None."""

    def feed(self, block: bytes) -> bool:
        """Count the lines ended in ``block``; False once the scanner gave up."""

    def finish(self) -> int | None:
        """Lines counted, or None when the scanner cannot vouch for them."""


@functools.cache
def compiled_scanner() -> type[RecordScanner] | None:
    """The compiled scanner's class, or None when the package was built without it."""
    try:
        module = importlib.import_module("notifier.inspection.datasets._csvscan")
    except ImportError:
        return None
    scanner: type[RecordScanner] = module.RecordScanner
    return scanner
