"""Small CSV tables read whole (metric tables, reports, matrices, epoch logs)."""

from __future__ import annotations

import csv
import io
from typing import Final

from notifier.inspection.results.context import Context, Table

MAX_TABLE_BYTES: Final = 1024 * 1024
"""CSV results up to this size are read as tables; larger ones are predictions, counted."""

DELIMITERS: Final = ",;\t|"


def parse_table(data: bytes, context: Context, tab_separated: bool) -> Table | None:
    """The rows of a UTF-8 CSV/TSV (delimiter sniffed); None when it is not one."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if tab_separated:
        delimiter = "\t"
    else:
        try:
            delimiter = csv.Sniffer().sniff(text[:8192], delimiters=DELIMITERS).delimiter
        except csv.Error:
            delimiter = ","
    try:
        rows = [
            row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if row
        ]
    except csv.Error:
        return None
    if not rows:
        return None
    return Table(rows[0], rows[1:], context)
