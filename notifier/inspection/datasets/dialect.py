"""CSV dialect detection from a bounded prefix: encoding, delimiter, header.

Everything here is a pure function of the first bytes of the (decompressed) object and
of the operator's rule for its bucket and prefix (``NOTIFIER_CSV_DIALECTS``, parsed in
notifier.config). Counting itself stays pyarrow's job (notifier.inspection.datasets.csv).

The rules, in order; each decision and its reason goes to ``details["dialect"]``:

* **Encoding** (first ``ENCODING_PROBE_BYTES``): a byte-order mark decides (UTF-8, UTF-16
  LE/BE as Windows PowerShell writes, UTF-32; Unicode 15 section 23.8); without one,
  NUL bytes in every other position mean BOM-less UTF-16. UTF-16/32 are transcoded to
  UTF-8 for the parser. Otherwise the bytes go to the parser as they are (delimiters,
  quotes and line ends are ASCII in every ASCII-compatible encoding) and the encoding is
  only named: UTF-8 when the probe is valid UTF-8, else Windows-1252 (what Excel writes
  under Western European locales), else Latin-1.
* **Delimiter**, among ``, ; TAB |`` (what spreadsheet programs write: ``;`` where the
  decimal mark is a comma): the one that splits every sampled record into the same
  number (> 1) of fields, quotes honoured; the most fields wins a tie, then the order
  above (TAB first for ``.tsv``). When none does, the format's default, and the parser
  reports the ragged record.
* **Header**: a column whose later values are all numbers or dates is *typed*. A first
  row holding text above a typed column is a header (a data row never has text in a
  numeric column; NA markers such as ``NA``, ``-``, ``?`` are ignored); a first row
  holding only values like those below in typed columns is data. With no typed column to
  compare, the first row is taken as a header (the CSV convention, RFC 4180 section 2.3).
  A lone row is data only when all its fields are numbers or dates.

Bounds: the first record must end within ``PROBE_BYTES`` and hold at most
``MAX_COLUMNS`` fields, else the object is skipped with a reason naming the bound (an
operator rule giving both delimiter and header lifts the first bound). A run of NUL
bytes in the probe means binary content: an error, never a silent zero.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from notifier.config import CsvDialectRule
from notifier.inspection.base import human_bytes
from notifier.inspection.errors import NotInspected, Unreadable

ENCODING_PROBE_BYTES: Final = 4096
"""Bytes looked at for a byte-order mark or the NUL pattern of BOM-less UTF-16."""

PROBE_BYTES: Final = 1 << 20
"""Bytes (after leading blank lines) in which the first record must end; detection
reads at most this much ahead of the parser."""

SAMPLE_RECORDS: Final = 100
"""Records of the probe compared to choose the delimiter and the header."""

MAX_COLUMNS: Final = 65_536
"""Most fields a record may have: four times a spreadsheet's width (Excel and LibreOffice
stop at 16,384 columns), room for wide feature matrices; the parser keeps state per
column, so width is memory."""

NUL_RUN: Final = b"\x00" * 8
"""NUL bytes in a row that mark binary content (zeros, a disk image, BOM-less UTF-32);
a stray NUL inside a text field is kept and counted, as pyarrow reads it."""

DELIMITERS: Final = (",", ";", "\t", "|")
"""Candidate delimiters, in order of preference."""

MISSING_VALUES: Final = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?", "#n/a"})
"""Cells that say 'no value' (pandas' default NA strings and spreadsheet markers)."""

_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?%?\Z")
_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\Z"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?: \d{1,2}:\d{2}(?::\d{2})?)?\Z"
)
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_NAMES: Final = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_ASCII_PROBE: Final = '\r\n,;\t|" azAZ09'


@dataclass(frozen=True)
class Encoding:
    """How the object's bytes become the parser's: ``bom`` bytes dropped, then
    transcoded from ``name`` to UTF-8 when ``transcode``."""

    name: str
    bom: int
    transcode: bool
    why: str


@dataclass(frozen=True)
class Dialect:
    """What the parser is told, and why."""

    encoding: str
    delimiter: str
    header: bool
    columns: tuple[str, ...] | None
    """The header's names (None without a header, or when the first record is unknown)."""
    num_columns: int | None
    configured: tuple[str, ...]
    why: str

    def details(self) -> dict[str, Any]:
        dialect: dict[str, Any] = {
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header": "present" if self.header else "absent",
        }
        if self.configured:
            dialect["configured"] = list(self.configured)
        dialect["why"] = self.why
        details: dict[str, Any] = {"dialect": dialect}
        if self.columns is not None:
            details["columns"] = list(self.columns)
        if self.num_columns is not None:
            details["num_columns"] = self.num_columns
        return details


def rule_for(rules: Iterable[CsvDialectRule], bucket: str, key: str) -> CsvDialectRule | None:
    """The operator's rule with the longest prefix matching ``bucket``/``key``, if any."""
    matching = [rule for rule in rules if rule.applies_to(bucket, key)]
    return max(matching, key=lambda rule: len(rule.prefix), default=None)


def sniff_encoding(head: bytes, configured: str | None) -> Encoding | None:
    """The encoding decided by ``head`` (the first bytes) or the operator; None when the
    text is ASCII-compatible and only ``name_text_encoding`` of the probe names it."""
    if configured is not None:
        return _configured_encoding(head, configured)
    for bom, name in _BOMS:
        if head.startswith(bom):
            transcode = name != "utf-8"
            return Encoding(name, len(bom), transcode, f"encoding {name}: byte-order mark")
    wide = _bomless_utf16(head)
    if wide is not None:
        return Encoding(wide, 0, True, f"encoding {wide}: NUL in every other byte, no BOM")
    return None


def name_text_encoding(probe: bytes, *, complete: bool) -> Encoding:
    """UTF-8, Windows-1252 or Latin-1: the first that decodes the whole probe."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(probe, final=complete)
        return Encoding("utf-8", 0, False, "encoding utf-8: valid UTF-8")
    except UnicodeDecodeError:
        pass
    try:
        probe.decode("cp1252")
        return Encoding("cp1252", 0, False, "encoding cp1252: not UTF-8, valid Windows-1252")
    except UnicodeDecodeError:
        return Encoding("latin-1", 0, False, "encoding latin-1: neither UTF-8 nor Windows-1252")


def detect_dialect(
    probe: bytes,
    *,
    complete: bool,
    default_delimiter: str,
    rule: CsvDialectRule | None,
    encoding: Encoding,
) -> Dialect:
    """Decide delimiter and header from ``probe``, the parser's first bytes (UTF-8 or an
    ASCII-compatible encoding, leading blank lines removed, not empty).

    ``complete`` says the probe is the whole object. Raises Unreadable for binary
    content and NotInspected past a bound.
    """
    nul = probe.find(NUL_RUN)
    if nul >= 0:
        raise Unreadable(
            f"{len(NUL_RUN)} NUL bytes in a row at text offset {nul}: binary content,"
            " not delimited text"
        )
    text = probe.decode("latin-1")  # structure only: every byte stays one character
    configured = tuple(
        name
        for name in ("encoding", "delimiter", "header")
        if rule is not None and getattr(rule, name) is not None
    )
    candidates = _candidates(default_delimiter)
    if rule is not None and rule.delimiter is not None:
        delimiter = rule.delimiter
        sample = _sample(text, delimiter, complete=complete)
        delimiter_why = f"delimiter {_NAMES[delimiter]}: configured"
    else:
        delimiter, sample, delimiter_why = _choose_delimiter(text, candidates, complete=complete)
    if not sample:
        return _without_first_record(rule, encoding, delimiter, configured)
    width = len(sample[0])
    if width > MAX_COLUMNS:
        raise NotInspected(
            f"the first record has {width:,} fields, over the {MAX_COLUMNS:,}-column bound"
        )
    if rule is not None and rule.header is not None:
        header = rule.header
        header_why = f"header {'present' if header else 'absent'}: configured"
    else:
        header, header_why = _detect_header(sample)
    codec = "utf-8" if encoding.transcode else encoding.name
    columns = tuple(_decode(name, codec) for name in sample[0]) if header else None
    why = "; ".join((encoding.why, delimiter_why, header_why))
    return Dialect(encoding.name, delimiter, header, columns, width, configured, why)


def _without_first_record(
    rule: CsvDialectRule | None, encoding: Encoding, delimiter: str, configured: tuple[str, ...]
) -> Dialect:
    if rule is None or rule.delimiter is None or rule.header is None:
        raise NotInspected(
            f"no complete record in the first {human_bytes(PROBE_BYTES)} (the dialect probe"
            " bound): a first line longer than that, or not line-based text; a"
            " NOTIFIER_CSV_DIALECTS rule giving delimiter and header lifts it"
        )
    why = f"{encoding.why}; delimiter and header configured; first record longer than the probe"
    return Dialect(encoding.name, delimiter, rule.header, None, None, configured, why)


def _candidates(default_delimiter: str) -> tuple[str, ...]:
    return (default_delimiter, *(d for d in DELIMITERS if d != default_delimiter))


def _choose_delimiter(
    text: str, candidates: Sequence[str], *, complete: bool
) -> tuple[str, list[list[str]], str]:
    # A candidate absent from the text splits no record: each of its records would be
    # one field, which neither wins nor breaks "one field per record" below, so it is
    # parsed only as the default (half the parses of a comma-separated file).
    samples = {
        d: _sample(text, d, complete=complete) if d in text or d == candidates[0] else []
        for d in candidates
    }
    best: str | None = None
    for delimiter in candidates:
        rows = samples[delimiter]
        if not rows or len(rows[0]) < 2 or any(len(row) != len(rows[0]) for row in rows):
            continue
        if best is None or len(rows[0]) > len(samples[best][0]):
            best = delimiter
    if best is not None:
        rows = samples[best]
        why = f"delimiter {_NAMES[best]}: {len(rows[0])} fields in each of {len(rows)} records"
        return best, rows, why
    default = candidates[0]
    rows = samples[default]
    if rows and all(len(row) == 1 for samples_rows in samples.values() for row in samples_rows):
        return default, rows, f"delimiter {_NAMES[default]}: one field per record"
    why = f"delimiter {_NAMES[default]}: the format's default (no candidate splits evenly)"
    return default, rows, why


def _sample(text: str, delimiter: str, *, complete: bool) -> list[list[str]]:
    """Up to SAMPLE_RECORDS + 1 complete, non-blank records of ``text``."""
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    exhausted = True
    try:
        for row in reader:
            if len(row) <= 1 and not "".join(row).strip():
                continue  # blank or whitespace-only line: not a record
            rows.append(row)
            if len(rows) > SAMPLE_RECORDS:
                exhausted = False
                break
    except csv.Error:
        # A field over the csv module's limit, or a quote left open at the probe's end:
        # the records before it are whole.
        exhausted = False
    if exhausted and not complete and rows:
        rows.pop()  # the probe may have cut it
    return rows


def _detect_header(rows: list[list[str]]) -> tuple[bool, str]:
    first = [_kind(cell) for cell in rows[0]]
    if len(rows) == 1:
        values = [kind for kind in first if kind is not None]
        if values and all(kind == "typed" for kind in values):
            return False, "header absent: a lone row of numbers or dates"
        return True, "header present: a lone row with text"
    names = alike = 0
    for column, kind in enumerate(first):
        if kind is None or not _typed_below(rows, column):
            continue
        if kind == "text":
            names += 1
        elif kind == "typed":
            alike += 1
    if names:
        return True, f"header present: text above numbers or dates in {names} column(s)"
    if alike:
        return (
            False,
            f"header absent: row 1 is numbers or dates like the rows below in {alike} column(s)",
        )
    return True, "header present: assumed (no column of numbers or dates to compare)"


def _typed_below(rows: list[list[str]], column: int) -> bool:
    """True when the column's values below the first row are numbers or dates (one at
    least, missing values aside); stops at the first text."""
    typed = False
    for row in itertools.islice(rows, 1, None):
        if column < len(row):
            kind = _kind(row[column])
            if kind == "text":
                return False
            typed = typed or kind == "typed"
    return typed


def _kind(cell: str) -> str | None:
    """None for a missing value, 'typed' for a number or date, else 'text'."""
    value = cell.strip()
    if value.isdecimal():  # the commonest cell, and what _NUMBER matches first
        return "typed"
    if value.lower() in MISSING_VALUES:
        return None
    return "typed" if _NUMBER.match(value) or _DATE.match(value) else "text"


def _decode(name: str, codec: str) -> str:
    return name.encode("latin-1").decode(codec, errors="replace")


def _configured_encoding(head: bytes, name: str) -> Encoding:
    transcode = _ASCII_PROBE.encode(name, errors="replace") != _ASCII_PROBE.encode()
    bom = len(codecs.BOM_UTF8) if not transcode and head.startswith(codecs.BOM_UTF8) else 0
    return Encoding(name, bom, transcode, f"encoding {name}: configured")


def _bomless_utf16(head: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when ASCII text was written two bytes per character."""
    if len(head) < 16:
        return None
    even, odd = head[0::2], head[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.4 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.4 and odd_nul < 0.05:
        return "utf-16-be"
    return None
