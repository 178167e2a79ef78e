"""Counting CSV records with bytes operations, exactly as pyarrow's parser would, or not at all.

pyarrow's CSV reader costs most of a millisecond to set up, most of the work on the
small objects a worker meets by the thousand. ``RecordCounter`` counts the records of a
well-formed file (RFC 4180: fields separated by one delimiter, optionally enclosed in
double quotes, a double quote inside a quoted field written twice, records ended by LF
or CRLF) with C-speed ``bytes`` methods only: ``split`` on the quote character,
``join``, ``translate`` and a ``startswith`` comparison against the expected record
shape. On large objects it is no faster than pyarrow's parse: telling a quote that
opens a field from one inside an unquoted field (which pyarrow reads as text) needs
the bytes next to every quote, so the original bytes, not a reduced copy, are split.

It never guesses. It vouches for a count only when every record of the object has
exactly the header's number of fields and every quote sits where RFC 4180 puts it, the
two conditions under which its reading and pyarrow's agree byte for byte. Anything
else makes it give up (``feed`` returns False, ``finish`` returns None) and the caller
counts the object again with pyarrow from its first byte, so that the existing verdicts
and error reasons stay exactly what they were. It gives up on:

* a record with another number of fields (a ragged file), an empty or
  whitespace-only line (pyarrow skips those), a file of one column;
* a quote that does not open a field (right after a delimiter, a line end or the
  start of the text) or whose closing quote is not followed by a delimiter or line
  end: pyarrow reads a quote inside an unquoted field as text (``5'11"``), where
  counting quote parity would not;
* a CR not followed by LF, even inside quotes (old Mac line ends), a quote left open
  at the end;
* a record that may be longer than ``max_row_bytes`` (pyarrow's block bounds decide).

Memory: one block at a time, plus its parts (about twice the block).
"""

from __future__ import annotations

from operator import itemgetter
from typing import Final

QUOTE: Final = b'"'
"""RFC 4180's quote character (section 2, rules 5-7), also pyarrow's default."""

MAX_ROW_BYTES: Final = 8 << 20
"""Default bound of the longest record vouched for: half of the 16 MiB blocks pyarrow
retries with (notifier.inspection.datasets.csv.LARGE_ROW_BLOCK_SIZE), so that no record
the fast count accepts could have made pyarrow fail. The bound is checked per block, so
a record longer than a third of it may already be refused."""

_ALL_BYTES: Final = bytes(range(256))
_FIRST: Final = itemgetter(0)
_LAST: Final = itemgetter(-1)


class RecordCounter:
    """Lines (records, a header included) of delimited text fed in blocks of bytes.

    ``delimiter`` is one ASCII character; ``num_columns`` (at least 2) the number of
    fields of every record. Feed the text's blocks in order (UTF-8 or any
    ASCII-compatible encoding, a final line end present) with ``feed``, then call
    ``finish``. ``reason`` says why the counter gave up, once it has.
    """

    def __init__(self, delimiter: str, num_columns: int, *, max_row_bytes: int = MAX_ROW_BYTES):
        if num_columns < 2:
            raise ValueError("RecordCounter needs at least two columns")
        delim = delimiter.encode("ascii")
        if len(delim) != 1 or delim in b'"\r\n':
            raise ValueError(f"unsupported delimiter {delimiter!r}")
        self._extra = num_columns - 1
        """Delimiters per record outside quotes."""
        self._record = delim * self._extra + b"\n"
        self._others = _ALL_BYTES.translate(None, delim + b'"\r\n')
        """``translate``'s delete argument: every byte but delimiter, quote, CR and LF."""
        self._before_quote = (delim, b"\n")
        self._after_quote = (delim, b"\r", b"\n")
        self._before_quote_set = frozenset(b"".join(self._before_quote))
        self._after_quote_set = frozenset(b"".join(self._after_quote))
        self._max_row_bytes = max_row_bytes
        self._inside = False
        """The next byte is inside a quoted field."""
        self._may_open = True
        """An opening quote may come next: start of text, after a delimiter, LF or a
        closing quote (two quotes in a row are a quoted quote, or an empty field)."""
        self._closed = False
        """The last byte seen was a closing quote: the next outside byte must be a
        delimiter or a line end."""
        self._carry = b""
        """Delimiters (and a CR held back) of the record in progress."""
        self._since_line_end = 0
        """Upper bound of the bytes of the record in progress."""
        self._cr_ended = False
        """The last block ended with a CR: the next must start with LF."""
        self._line_open = False
        """The last byte fed was not LF: a record is in progress."""
        self.lines = 0
        self.reason: str | None = None

    def feed(self, block: bytes) -> bool:
        """Count the lines ended in ``block``; False once the counter gave up."""
        if self.reason is not None:
            return False
        if not block:
            return True
        self._line_open = not block.endswith(b"\n")
        if (self._cr_ended or b"\r" in block) and not self._check_crlf(block):
            return False
        parts = block.split(QUOTE)
        started_inside = self._inside
        outside = parts[1::2] if started_inside else parts[0::2]
        ends_inside = started_inside != (len(parts) % 2 == 0)
        if not self._check_quotes(outside, started_inside, ends_inside, len(parts) > 1):
            return False
        self._inside = ends_inside
        reduced = b"".join(outside).translate(None, self._others)
        if b"\n" in reduced:
            self._since_line_end = len(block)
        else:
            self._since_line_end += len(block)
            if self._since_line_end > self._max_row_bytes:
                return self._give_up(f"a record may be longer than {self._max_row_bytes} bytes")
        return self._count(reduced)

    def finish(self) -> int | None:
        """Lines counted, or None when the counter cannot vouch for the count."""
        if self.reason is None and self._inside:
            self._give_up("a quote is never closed")
        if self.reason is None and self._cr_ended:
            self._give_up("a CR not followed by LF")
        if self.reason is None and (self._carry or self._line_open):
            self._give_up("the last record has no LF line end")
        return self.lines if self.reason is None else None

    def _check_crlf(self, block: bytes) -> bool:
        """Every CR in the text is followed by LF (pyarrow ends a record at a lone CR;
        inside quotes one is rare enough to leave to pyarrow too)."""
        if self._cr_ended and not block.startswith(b"\n"):
            return self._give_up("a CR not followed by LF")
        self._cr_ended = block.endswith(b"\r")
        if block.count(b"\r") != block.count(b"\r\n") + self._cr_ended:
            return self._give_up("a CR not followed by LF")
        return True

    def _check_quotes(
        self, outside: list[bytes], started_inside: bool, ends_inside: bool, quoted: bool
    ) -> bool:
        """Every opening quote starts a field, every closing one ends it (RFC 4180 2.5)."""
        rest = outside
        if not started_inside:
            head, rest = outside[0], outside[1:]
            if head:
                if self._closed and not head.startswith(self._after_quote):
                    return self._give_up("a closing quote is followed by text")
                self._closed = False
                self._may_open = head.endswith(self._before_quote)
            if quoted and not self._may_open:
                return self._give_up("a quote inside an unquoted field")
        if not rest:
            return True
        # Parts between a closing and an opening quote: empty (a quoted quote, or an
        # empty field), or from a delimiter or line end to a delimiter or LF.
        between = rest if ends_inside else rest[:-1]
        filled = list(filter(None, between))
        if not self._after_quote_set.issuperset(map(_FIRST, filled)):
            return self._give_up("a closing quote is followed by text")
        if not self._before_quote_set.issuperset(map(_LAST, filled)):
            return self._give_up("a quote inside an unquoted field")
        if not ends_inside:
            tail = rest[-1]
            if tail and not tail.startswith(self._after_quote):
                return self._give_up("a closing quote is followed by text")
            self._closed = not tail
            self._may_open = not tail or tail.endswith(self._before_quote)
        return True

    def _count(self, reduced: bytes) -> bool:
        """Count the records ended in ``reduced`` (the block's delimiters, CRs and LFs
        outside quotes), each of which must be ``delimiter * (num_columns - 1) + LF``."""
        text = self._carry + reduced
        held = b""
        if text.endswith(b"\r"):  # its LF may start the next block
            text, held = text[:-1], b"\r"
        if b"\r" in text:
            text = text.replace(b"\r\n", b"\n")
            if b"\r" in text:
                return self._give_up("a CR line end without LF")
        ended = text.rfind(b"\n") + 1
        if ended:
            lines, odd = divmod(ended, len(self._record))
            if odd or not text.startswith(self._record * lines):
                return self._give_up("a record with another number of fields, or a blank line")
            self.lines += lines
        carry = text[ended:]
        if len(carry) > self._extra:
            return self._give_up("a record with more fields than the header")
        self._carry = carry + held
        return True

    def _give_up(self, reason: str) -> bool:
        self.reason = reason
        return False
