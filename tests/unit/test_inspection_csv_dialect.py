"""CSV dialect detection (notifier.inspection.datasets.dialect) through inspect_object:
encodings, delimiters, header or not, the operator's override, and the bounds."""

from __future__ import annotations

import codecs
import gzip
import json

import pytest

from notifier.config import CsvDialectRule, parse_csv_dialects
from notifier.inspection import (
    BytesSource,
    Inspection,
    InspectionLimits,
    Phase,
    inspect_object,
    streams,
)
from notifier.inspection.datasets import dialect
from notifier.inspection.datasets.dialect import rule_for

HOSTS = "host,events,label\r\nws-01,12,normal\r\nws-02,3400,beaconing\r\nws-03,7,normal\r\n"
"""What PowerShell's ``Export-Csv``/``Out-File`` writes: CRLF, three records."""

EXCEL_ES = (
    "fecha;ip_origen;bytes;duración_s;etiqueta\r\n"
    "2024-03-01;192.0.2.10;1532;0,25;normal\r\n"
    "2024-03-01;192.0.2.11;88;1,5;escaneo\r\n"
    "2024-03-02;192.0.2.12;4096;12;descripción\r\n"
)
"""Excel under a Spanish locale: ';' separator, decimal commas, Windows-1252."""

HEADERLESS = (
    b"192.0.2.10,1390,198.51.100.6,53,udp,CON,0.001055,132,dns,0\n"
    b"192.0.2.10,33661,198.51.100.9,1024,udp,CON,0.036133,528,-,1\n"
    b"192.0.2.11,1464,198.51.100.7,53,udp,CON,0.001119,146,dns,0\n"
    b"192.0.2.12,3593,198.51.100.5,53,udp,CON,0.001209,132,dns,0\n"
)
"""UNSW-NB15's part files: no header row (names ship in a separate file)."""


def inspect(
    data: bytes, key: str = "data.csv", limits: InspectionLimits | None = None, bucket: str = "raw"
) -> Inspection:
    source = BytesSource(data, key, bucket=bucket)
    verdict = inspect_object(Phase.INGESTION, source, limits or InspectionLimits())
    json.dumps(verdict.details)
    return verdict


def with_rules(text: str) -> InspectionLimits:
    return InspectionLimits(csv_dialects=parse_csv_dialects(text))


# Encodings


@pytest.mark.parametrize(
    ("encoding", "bom", "named"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be"),
        ("utf-32-le", codecs.BOM_UTF32_LE, "utf-32-le"),
        ("utf-16-le", b"", "utf-16-le"),
        ("utf-16-be", b"", "utf-16-be"),
    ],
)
def test_wide_encodings_are_transcoded_and_counted(encoding: str, bom: bytes, named: str) -> None:
    verdict = inspect(bom + HOSTS.encode(encoding))
    assert (verdict.estado, verdict.num_registros) == ("ok", 3)
    assert verdict.details["columns"] == ["host", "events", "label"]
    assert verdict.details["dialect"]["encoding"] == named


def test_utf16_with_quoted_newlines_and_surrogate_pairs_across_many_chunks() -> None:
    rows = [f'{i},"línea {i}\r\ncon ""comillas"", € y 😀",{i * 0.5}' for i in range(20_000)]
    text = "id,texto,valor\r\n" + "\r\n".join(rows) + "\r\n"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    verdict = inspect(data, limits=InspectionLimits(block_size=64 * 1024))
    assert (verdict.estado, verdict.num_registros) == ("ok", 20_000)
    assert verdict.details["columns"] == ["id", "texto", "valor"]


def test_utf16_ragged_row_is_an_error_without_nul_in_the_reason() -> None:
    text = "a,b\r\n1,2\r\n3,4,5\r\n"
    verdict = inspect(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "\x00" not in verdict.reason
    assert "Expected 2 columns, got 3" in verdict.reason


def test_cp1252_excel_export_with_semicolons_and_decimal_commas() -> None:
    verdict = inspect(EXCEL_ES.encode("cp1252"))
    assert (verdict.estado, verdict.num_registros) == ("ok", 3)
    assert verdict.details["columns"] == ["fecha", "ip_origen", "bytes", "duración_s", "etiqueta"]
    assert verdict.details["num_columns"] == 5
    chosen = verdict.details["dialect"]
    assert (chosen["encoding"], chosen["delimiter"], chosen["header"]) == ("cp1252", ";", "present")


def test_utf8_bom_semicolon_export() -> None:
    verdict = inspect(codecs.BOM_UTF8 + EXCEL_ES.encode())
    assert verdict.num_registros == 3
    assert verdict.details["columns"][0] == "fecha"
    assert verdict.details["dialect"]["encoding"] == "utf-8"


def test_bytes_undefined_in_cp1252_are_named_latin1() -> None:
    verdict = inspect(b"a;b\n\x81x;1,5\n\x8dy;2,5\n")
    assert verdict.num_registros == 2
    assert verdict.details["dialect"]["encoding"] == "latin-1"


# Delimiters


@pytest.mark.parametrize("delimiter", ["\t", "|", ";"])
def test_other_delimiters_are_detected(delimiter: str) -> None:
    rows = [["id", "name", "amount"], ["1", "a, b", "3.5"], ["2", "c", "4"], ["3", "d", "5"]]
    data = "".join(delimiter.join(row) + "\n" for row in rows).encode()
    verdict = inspect(data)
    assert (verdict.estado, verdict.num_registros) == ("ok", 3)
    assert verdict.details["dialect"]["delimiter"] == delimiter
    assert verdict.details["columns"] == ["id", "name", "amount"]


def test_quoted_delimiters_do_not_mislead_detection() -> None:
    data = b'id;note\n1;"a, b, c"\n2;"d, e; f"\n3;plain\n'
    verdict = inspect(data)
    assert verdict.details["dialect"]["delimiter"] == ";"
    assert verdict.num_registros == 3


def test_single_column_file_counts_every_value() -> None:
    verdict = inspect(b"name\nana\nluis\n")
    assert (verdict.num_registros, verdict.details["num_columns"]) == (2, 1)
    assert "one field per record" in verdict.details["dialect"]["why"]


def test_tsv_key_prefers_tabs() -> None:
    verdict = inspect(b"a\tb,c\n1\t2,3\n", key="d.tsv")
    assert verdict.details["dialect"]["delimiter"] == "\t"
    assert verdict.details["columns"] == ["a", "b,c"]


# Header or not


def test_headerless_file_counts_every_line_and_names_no_columns() -> None:
    verdict = inspect(HEADERLESS)
    assert (verdict.estado, verdict.num_registros) == ("ok", 4)
    assert "columns" not in verdict.details
    assert verdict.details["num_columns"] == 10
    assert verdict.details["dialect"]["header"] == "absent"


def test_headerless_file_with_quoted_fields_and_newlines() -> None:
    data = b'1,"first, with comma",2.5\n2,"second\nline",3\n3,"say ""hi""",4.25\n'
    verdict = inspect(data)
    assert (verdict.num_registros, verdict.details["dialect"]["header"]) == (3, "absent")


def test_a_lone_row_of_numbers_is_one_record() -> None:
    verdict = inspect(b"1,2.5,2024-01-02\n")
    assert (verdict.num_registros, verdict.details["dialect"]["header"]) == (1, "absent")
    assert "header_only" not in verdict.details


def test_one_name_above_a_numeric_column_makes_a_header() -> None:
    verdict = inspect(b"id,2019,2020\n1,1.5,2\n2,3,4.5\n")
    assert verdict.num_registros == 2
    assert verdict.details["columns"] == ["id", "2019", "2020"]


def test_all_numeric_names_over_numbers_need_the_override() -> None:
    data = b"country,2019,2020\nes,1.5,2\nfr,3,4.5\n"
    assert inspect(data).details["dialect"]["header"] == "absent"  # a documented limit
    verdict = inspect(data, limits=with_rules("raw=header:present"))
    assert verdict.num_registros == 2
    assert verdict.details["columns"] == ["country", "2019", "2020"]


def test_missing_values_do_not_count_as_names() -> None:
    verdict = inspect(b"1,NA,3\n2,4,-\n5,6,7\n")
    assert (verdict.num_registros, verdict.details["dialect"]["header"]) == (3, "absent")


def test_text_only_file_is_assumed_to_have_a_header() -> None:
    verdict = inspect(b"nombre,ciudad\nana,lima\nluis,quito\n")
    assert verdict.num_registros == 2
    assert "assumed" in verdict.details["dialect"]["why"]


def test_pandas_index_column_with_an_empty_name() -> None:
    verdict = inspect(b",a,b\n0,1.5,x\n1,2.5,y\n")
    assert verdict.num_registros == 2
    assert verdict.details["columns"] == ["", "a", "b"]


# The operator's override


def test_override_header_absent_counts_the_first_line() -> None:
    data = b"alpha,beta\ngamma,delta\n"
    assert inspect(data, key="unsw/p1.csv").num_registros == 1
    verdict = inspect(data, key="unsw/p1.csv", limits=with_rules("raw/unsw/=header:absent"))
    assert verdict.num_registros == 2
    assert "columns" not in verdict.details
    assert verdict.details["dialect"]["configured"] == ["header"]
    assert "header absent: configured" in verdict.details["dialect"]["why"]


def test_override_header_present_wins_over_detection() -> None:
    limits = with_rules("raw=header:present")
    verdict = inspect(b"1,2\n3,4\n", limits=limits)
    assert (verdict.num_registros, verdict.details["columns"]) == (1, ["1", "2"])


def test_override_delimiter_and_encoding() -> None:
    limits = with_rules("raw/eu/=delimiter:semicolon,encoding:cp1252")
    data = "a;b\né;1,5\n".encode("cp1252")
    verdict = inspect(data, key="eu/x.csv", limits=limits)
    assert verdict.details["dialect"]["delimiter"] == ";"
    assert verdict.details["dialect"]["encoding"] == "cp1252"
    assert verdict.details["dialect"]["configured"] == ["encoding", "delimiter"]
    assert verdict.num_registros == 1


def test_override_encoding_utf16_without_bom() -> None:
    limits = with_rules("raw=encoding:utf-16-le")
    verdict = inspect("x,y\n1,2\n".encode("utf-16-le"), limits=limits)
    assert (verdict.num_registros, verdict.details["columns"]) == (1, ["x", "y"])


def test_override_applies_only_to_its_bucket_and_prefix() -> None:
    limits = with_rules("raw/unsw/=header:absent")
    data = b"alpha,beta\ngamma,delta\n"
    assert inspect(data, key="other/p.csv", limits=limits).num_registros == 1
    assert inspect(data, key="unsw/p.csv", bucket="silver", limits=limits).num_registros == 1


def test_longest_prefix_wins() -> None:
    rules = parse_csv_dialects("raw=header:absent;raw/a/b/=header:present;raw/a/=delimiter:pipe")
    chosen = rule_for(rules, "raw", "a/b/c.csv")
    assert chosen == CsvDialectRule("raw", "a/b/", header=True)
    assert rule_for(rules, "raw", "a/x.csv") == CsvDialectRule("raw", "a/", delimiter="|")
    assert rule_for(rules, "raw", "z.csv") == CsvDialectRule("raw", "", header=False)
    assert rule_for(rules, "silver", "a/b/c.csv") is None


# Bounds: never a silent zero


def test_nul_bytes_are_an_error_not_zero_records() -> None:
    verdict = inspect(b"\x00" * 100_000)
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "NUL bytes in a row at text offset 0: binary content" in verdict.reason


def test_a_stray_nul_in_a_field_is_counted() -> None:
    verdict = inspect(b"id,na\x00me\n1,2\n2,3\n")
    assert (verdict.estado, verdict.num_registros) == ("ok", 2)
    assert verdict.details["columns"] == ["id", "na\x00me"]  # made storable by the audit


def test_gzip_bomb_of_zeros_is_an_error() -> None:
    verdict = inspect(gzip.compress(b"\x00" * (8 << 20)), key="bomb.csv.gz")
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "NUL bytes in a row" in verdict.reason


def test_gzip_bomb_of_blank_lines_hits_the_ratio_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams, "RATIO_CHECK_FLOOR", 1 << 20)
    verdict = inspect(gzip.compress(b"\n" * (16 << 20)), key="bomb.csv.gz")
    assert verdict.estado == "skipped"
    assert verdict.reason is not None
    assert "over the decompression-ratio bound" in verdict.reason


def test_well_compressed_csv_under_the_ratio_bound_is_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streams, "RATIO_CHECK_FLOOR", 1 << 20)
    data = b"a,b\n" + b"".join(b"%d,x\n" % i for i in range(400_000))
    verdict = inspect(gzip.compress(data), key="d.csv.gz")
    assert (verdict.estado, verdict.num_registros) == ("ok", 400_000)


def test_too_many_columns_is_skipped_naming_the_bound() -> None:
    width = dialect.MAX_COLUMNS + 1
    data = b",".join([b"c"] * width) + b"\n" + b",".join([b"1"] * width) + b"\n"
    verdict = inspect(data)
    assert verdict.estado == "skipped"
    assert verdict.reason == (
        f"the first record has {width:,} fields, over the {dialect.MAX_COLUMNS:,}-column bound"
    )


def test_header_of_150000_columns_longer_than_the_probe_is_skipped() -> None:
    header = ",".join(f"column_{i:06d}" for i in range(150_000)).encode()
    verdict = inspect(header + b"\n" + b"1\n")
    assert verdict.estado == "skipped"
    assert verdict.reason is not None
    assert "the dialect probe bound" in verdict.reason
