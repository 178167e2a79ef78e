"""The record counters: the bytes-operation one (notifier.inspection.datasets.csv_count)
and the compiled scanner (notifier.inspection.datasets._csvscan), which keeps the same rules.

Their one promise: when they give a count, pyarrow (the parser the inspector falls back
to) gives the same count and no error. The property tests hold both to that on generated
files, well-formed and not, cut into blocks at random places, and hold the scanner to
the reference counter's verdict on every input.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from notifier.inspection.datasets.csv_count import RecordCounter
from notifier.inspection.datasets.csv_scanner import RecordScanner, compiled_scanner

COMPILED = "compiled"
COUNTERS = pytest.mark.parametrize("impl", ["bytes-operations", COMPILED])
"""Every test runs on both implementations."""


def counter_class(impl: str) -> type[RecordScanner]:
    if impl != COMPILED:
        return RecordCounter
    scanner = compiled_scanner()
    if scanner is None:
        pytest.fail(
            "the compiled CSV scanner is not built (no C compiler at install?):"
            " install gcc, then pip install -e ."
        )
    return scanner


def fast_count(
    data: bytes,
    delimiter: str = ",",
    columns: int = 2,
    cuts: Sequence[int] = (),
    impl: str = "bytes-operations",
    **kwargs: int,
) -> int | None:
    """The counter's lines for ``data`` fed in blocks cut at ``cuts``."""
    counter = counter_class(impl)(delimiter, columns, **kwargs)
    start = 0
    for cut in [*sorted({c for c in cuts if 0 < c < len(data)}), len(data)]:
        if not counter.feed(data[start:cut]):
            break
        start = cut
    return counter.finish()


def pyarrow_count(data: bytes, delimiter: str = ",") -> int | None:
    """Lines as the inspector's pyarrow path reads them (same options), None on an error."""
    try:
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(use_threads=False, autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                invalid_row_handler=lambda row: "skip" if not row.text.strip() else "error",
            ),
            convert_options=pa_csv.ConvertOptions(
                include_columns=["f0"], column_types={"f0": pa.binary()}
            ),
        )
    except pa.ArrowInvalid:
        return None
    return int(table.num_rows)


def first_width(data: bytes, delimiter: str) -> int:
    """Fields of the first record as pyarrow reads it (its column count)."""
    try:
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(use_threads=False, autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=lambda r: "skip"
            ),
        )
    except pa.ArrowInvalid:
        return 2
    return max(int(table.num_columns), 1)


# -- examples ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"a,b\n1,2\n", 2),
        (b"a,b\r\n1,2\r\n", 2),
        (b'a,b\n1,"x, y"\n2,"two\nlines"\n', 3),
        (b'a,b\n1,"say ""hi"""\n2,""\n3,""""\n', 4),
        (b'a,b\n"",""\n"x""",y\n', 3),
        (b'a,b\n1,"cr\r\ninside"\r\n', 2),
        (b'"a","b"\n"1","2"\n', 2),
    ],
)
@COUNTERS
def test_well_formed_files_are_counted(data: bytes, lines: int, impl: str) -> None:
    assert fast_count(data, impl=impl) == lines
    assert pyarrow_count(data) == lines
    for cut in range(1, len(data)):  # every block boundary
        assert fast_count(data, cuts=[cut], impl=impl) == lines, cut


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"a,b\n1,2,3\n4\n", "ragged records whose total looks right"),
        (b"a,b\n\n1,2\n", "a blank line"),
        (b"a,b\n  \n1,2\n", "a whitespace-only line"),
        (b"a,b\r1,2\r", "CR line ends"),
        (b"a,b\n1,2\r3,4\n", "a CR line end among LFs"),
        (b'a,b\n1,"open\n', "a quote never closed"),
        (b"a,b\n1,2", "no final line end (the inspector adds one)"),
        (b"a,b\nx", "a last line without a delimiter or a line end"),
        (b"name,height\nBob,5'11\"\nAl,6'2\"\n", "quotes inside unquoted fields"),
        (b'a,b\n1,"x"y\n', "text after a closing quote"),
        (b'a,b\nx"q,"\n', "a quote inside an unquoted field before a delimiter"),
        (b'a,b\n1,\r"x"\n', "a CR before an opening quote"),
        (b'a,b,c\n1,"a,b"X"c,d"\n', "a stray quote after a closing quote"),
    ],
)
@COUNTERS
def test_anything_else_is_left_to_pyarrow(data: bytes, why: str, impl: str) -> None:
    assert fast_count(data, impl=impl) is None, why
    for cut in range(1, len(data)):
        assert fast_count(data, cuts=[cut], impl=impl) is None, (why, cut)


@COUNTERS
def test_the_reason_is_kept(impl: str) -> None:
    counter = counter_class(impl)(",", 2)
    assert not counter.feed(b"a,b\n1,2,3\n")
    assert counter.reason is not None
    assert "fields" in counter.reason
    assert not counter.feed(b"1,2\n")  # stays given up
    assert counter.finish() is None


@COUNTERS
def test_empty_blocks_change_nothing(impl: str) -> None:
    counter = counter_class(impl)(",", 2)
    for block in (b"", b"a,b\r", b"", b"\n1,", b"", b"2\n", b""):
        assert counter.feed(block), counter.reason
    assert counter.finish() == 2


@COUNTERS
def test_a_bad_delimiter_is_named(impl: str) -> None:
    with pytest.raises(ValueError, match="unsupported delimiter ',,'"):
        counter_class(impl)(delimiter=",,", num_columns=2)


@COUNTERS
def test_a_record_longer_than_the_bound_is_left_to_pyarrow(impl: str) -> None:
    row = b"1," + b"x" * 5000 + b"\n"
    data = b"a,b\n" + row
    assert fast_count(data, cuts=range(0, len(data), 1000), max_row_bytes=8192, impl=impl) == 2
    assert fast_count(data, cuts=range(0, len(data), 1000), max_row_bytes=2048, impl=impl) is None


@COUNTERS
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_every_candidate_delimiter(delimiter: str, impl: str) -> None:
    d = delimiter.encode()
    data = b"a" + d + b"b\n1" + d + b'"x' + d + b'\ny"\n'
    assert fast_count(data, delimiter, impl=impl) == 2
    assert pyarrow_count(data, delimiter) == 2


@COUNTERS
def test_one_column_is_refused(impl: str) -> None:
    with pytest.raises(ValueError, match="two columns"):
        counter_class(impl)(",", 1)


# -- properties -------------------------------------------------------------------------

_PLAIN = st.text(alphabet="ab1 .-é", max_size=6)
_QUOTED = st.lists(
    st.sampled_from(["a", " ", ",", ";", "\t", "|", "\n", "\r\n", '"']), max_size=8
).map("".join)


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[bytes, str, int, int]:
    """An RFC 4180 file: fixed width, fields plain or quoted (holding delimiters,
    newlines, CRLF, doubled quotes), LF or CRLF records; and its record count."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(2, 5))
    records = draw(st.integers(1, 12))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    lines = []
    for _ in range(records):
        fields = []
        for _ in range(width):
            if draw(st.booleans()):
                fields.append('"' + draw(_QUOTED).replace('"', '""') + '"')
            else:
                fields.append(draw(_PLAIN).replace(delimiter, ""))
        lines.append(delimiter.join(fields))
    text = end.join(lines) + end
    return text.encode(), delimiter, width, records


@st.composite
def cut_points(draw: st.DrawFn, size: int) -> list[int]:
    return draw(st.lists(st.integers(0, max(size, 1)), max_size=6))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@COUNTERS
@given(case=well_formed(), data=st.data())
def test_well_formed_files_are_counted_exactly(
    case: tuple[bytes, str, int, int], data: st.DataObject, impl: str
) -> None:
    text, delimiter, width, records = case
    if all(not line.strip() for line in text.decode().split("\n")[:1]):
        return  # a first line pyarrow would skip as blank: not a record shape we generate
    cuts = data.draw(cut_points(len(text)))
    expected = len(list(csv.reader(io.StringIO(text.decode(), newline=""), delimiter=delimiter)))
    assert expected == records
    counted = fast_count(text, delimiter, width, cuts, impl=impl)
    assert pyarrow_count(text, delimiter) == records
    # Whitespace-only records are blank lines to pyarrow: the counter leaves those to it.
    if counted is None:
        assert any(
            not "".join(row).strip()
            for row in csv.reader(io.StringIO(text.decode(), newline=""), delimiter=delimiter)
        )
    else:
        assert counted == records


_MESSY = st.lists(
    st.sampled_from(["a", " ", ",", '"', '""', "\n", "\r", "\r\n", ";", "x,", ',"', '",', '\n"']),
    max_size=60,
).map("".join)


@COUNTERS
@settings(max_examples=1500, deadline=None)
@given(text=_MESSY, delimiter=st.sampled_from([",", ";"]), data=st.data())
@example(text="name,height\nBob,5'11\",x\nAl,6'2\",y\n", delimiter=",", data=None)
@example(text='a,b,c\n1,"a,b"X"c,d"\n', delimiter=",", data=None)
@example(text='x,"a"b"c\nd,e"\n', delimiter=",", data=None)
@example(text='a,\r",b"\n', delimiter=",", data=None)
def test_a_count_given_is_pyarrows_count(
    text: str, delimiter: str, data: st.DataObject | None, impl: str
) -> None:
    """Whatever the bytes, a count the counter vouches for is the one pyarrow gives."""
    raw = text.encode()
    if not raw.endswith((b"\n", b"\r")):
        raw += b"\n"  # as the inspector's text stream does
    width = first_width(raw, delimiter)
    if data is not None and data.draw(st.booleans()):
        width = data.draw(st.integers(2, 4))  # a width the dialect probe got wrong
    if width < 2:
        return
    cuts = data.draw(cut_points(len(raw))) if data is not None else []
    counted = fast_count(raw, delimiter, width, cuts, impl=impl)
    if counted is not None:
        assert pyarrow_count(raw, delimiter) == counted
        assert first_width(raw, delimiter) == width


_LONG_MESSY = st.lists(
    st.sampled_from(
        ["abc", "1234567", ",", ";", '"', '""', "\n", "\r\n", "\r", 'x,"y\nz"', ',"",', "5'11\""]
    ),
    max_size=300,
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(
    head=st.integers(0, 130),
    text=_LONG_MESSY,
    delimiter=st.sampled_from([",", ";"]),
    width=st.integers(2, 4),
    data=st.data(),
)
@example(head=60, text='1,"a\n' + "x" * 70 + '"\n', delimiter=",", width=2, data=None)
@example(head=62, text='1,"a""b"\n2,"\r\n"\n', delimiter=",", width=2, data=None)
def test_the_compiled_scanner_gives_the_reference_verdict(
    head: int, text: str, delimiter: str, width: int, data: st.DataObject | None
) -> None:
    """On texts of several 64-byte words, quotes and line ends falling on and across
    word boundaries (shifted by a well-formed first record of ``head`` bytes), the
    scanner counts or gives up exactly where the bytes-operation counter does."""
    first = delimiter.join(["h" * max(head // width, 1)] * width)
    raw = (first + "\n" + text).encode()
    if not raw.endswith(b"\n"):
        raw += b"\n"
    cuts = data.draw(cut_points(len(raw))) if data is not None else []
    reference = fast_count(raw, delimiter, width, cuts)
    assert fast_count(raw, delimiter, width, cuts, impl=COMPILED) == reference
    if reference is not None:
        assert pyarrow_count(raw, delimiter) == reference


@pytest.mark.parametrize("row_bytes", [1, 63, 64, 65, 127, 128, 4099])
def test_the_compiled_scanner_counts_large_files_as_pyarrow(row_bytes: int) -> None:
    """Tens of thousands of records, quoted fields with delimiters, CRLF and newlines
    spanning word and block boundaries, fed in 64 KiB blocks (the GIL released)."""
    rows = [b"id,text,n"]
    for i in range(max(200_000 // (row_bytes + 12), 50)):
        body = (b"x" * row_bytes)[: row_bytes - 1] + b"\n" if i % 3 else b"a,\r\nb" * (i % 7)
        rows.append(b'%d,"%s""q",%d' % (i, body, i % 10))
    raw = b"\r\n".join(rows) + b"\r\n"
    scanner = counter_class(COMPILED)(",", 3)
    view = memoryview(raw)
    for start in range(0, len(raw), 65536):
        assert scanner.feed(view[start : start + 65536]), scanner.reason
    assert scanner.finish() == len(rows) == pyarrow_count(raw)


@settings(max_examples=1000, deadline=None)
@given(
    chunks=st.lists(st.one_of(st.binary(max_size=70), st.sampled_from([b'"', b",", b"\r\n"]))),
    data=st.data(),
)
def test_any_bytes_get_the_reference_verdict(chunks: list[bytes], data: st.DataObject) -> None:
    """Arbitrary bytes (NUL, non-ASCII, invalid UTF-8) crash neither counter, and the
    compiled scanner counts or gives up exactly where the reference does."""
    raw = b"h1,h2\n" + b"".join(chunks) + b"\n"
    cuts = data.draw(cut_points(len(raw)))
    reference = fast_count(raw, ",", 2, cuts)
    assert fast_count(raw, ",", 2, cuts, impl=COMPILED) == reference
