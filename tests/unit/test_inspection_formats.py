"""Format and compression detection, not-data keys and the JSON depth bound."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import pickle

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from notifier.inspection import BytesSource, Inspection, InspectionLimits, Phase, inspect_object
from notifier.inspection.datasets import FORMATS
from notifier.inspection.datasets.formats import SNIFF_BYTES
from notifier.inspection.json_depth import nesting_depth
from notifier.inspection.not_data import not_data_reason

CSV = b"a,b\n1,2\n3,4\n5,6\n"


def inspect(data: bytes, key: str, content_type: str | None = None) -> Inspection:
    source = BytesSource(data, key, content_type=content_type)
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
    json.dumps(verdict.details)
    return verdict


def parquet(rows: int = 5) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"x": list(range(rows))}), sink)
    return sink.getvalue()


@pytest.mark.parametrize(
    ("compress", "suffix", "name"),
    [(gzip.compress, ".gz", "gzip"), (bz2.compress, ".bz2", "bz2"), (lzma.compress, ".xz", "xz")],
)
def test_each_codec_is_read_with_or_without_its_suffix(compress, suffix, name) -> None:
    for key in (f"d.csv{suffix}", "d.csv"):
        verdict = inspect(compress(CSV), key)
        assert (verdict.estado, verdict.num_registros) == ("ok", 3), key
        assert verdict.details["compression"] == name


def test_compression_found_by_magic_is_recorded_when_the_suffix_did_not_say_it() -> None:
    verdict = inspect(gzip.compress(CSV), "d.csv")
    assert verdict.details["detected_by"] == {"compression": "magic bytes", "format": "suffix"}
    quiet = inspect(gzip.compress(CSV), "d.csv.gz")
    assert "detected_by" not in quiet.details


def test_a_gz_suffix_on_another_codec_is_noted() -> None:
    verdict = inspect(bz2.compress(CSV), "d.csv.gz")
    assert verdict.num_registros == 3
    assert verdict.details["detection_notes"] == ["the key says gzip, the content is bz2"]


def test_zstd_is_recognised_and_skipped() -> None:
    verdict = inspect(b"\x28\xb5\x2f\xfd" + b"\x00" * 20, "d.csv.zst")
    assert verdict.estado == "skipped"
    assert verdict.reason == "zstd compression is not supported (detected by magic bytes)"


@pytest.mark.parametrize("key", ["part-00000", "data.bin", "mislabelled.csv", "x.json"])
def test_parquet_is_found_by_its_magic_whatever_the_key(key: str) -> None:
    verdict = inspect(parquet(7), key)
    assert (verdict.estado, verdict.format, verdict.num_registros) == ("ok", "parquet", 7)
    assert verdict.details["detected_by"] == {"format": "magic bytes"}


def test_parquet_by_suffix_reads_only_its_footer() -> None:
    data = parquet(200_000)
    source = BytesSource(data, "d.parquet")
    verdict = inspect_object(Phase.INGESTION, source, InspectionLimits())
    assert verdict.num_registros == 200_000
    assert source.bytes_read < len(data) // 10


def test_parquet_inside_gzip_is_skipped() -> None:
    verdict = inspect(gzip.compress(parquet()), "d.parquet.gz")
    assert verdict.estado == "skipped"
    assert verdict.reason == (
        "Parquet inside gzip compression cannot be read (its footer needs ranged reads)"
    )


@pytest.mark.parametrize(
    ("data", "key", "format"),
    [
        (pickle.dumps({"a": 1}, protocol=4), "model.bin", "pickle"),
        (pickle.dumps([1], protocol=5), "d.csv", "pickle"),
        (b"PK\x03\x04" + b"\x00" * 30, "sheet.xlsx", "zip"),
        (b"Obj\x01" + b"\x00" * 30, "d.avro", "avro"),
        (b"\x93NUMPY\x01\x00", "a.npy", "npy"),
    ],
)
def test_binary_formats_are_named_and_skipped(data: bytes, key: str, format: str) -> None:
    verdict = inspect(data, key)
    assert (verdict.estado, verdict.format) == ("skipped", format)
    assert verdict.reason is not None
    assert verdict.reason.endswith("is not a countable dataset format")


def test_json_without_suffix_is_found_by_content() -> None:
    verdict = inspect(b'\xef\xbb\xbf  [{"a": 1}, {"a": 2}]', "export-2026")
    assert (verdict.format, verdict.num_registros) == ("json", 2)
    assert verdict.details["detected_by"] == {"format": "content"}


def test_bz2_json_without_suffix_reads_a_whole_block_to_decide() -> None:
    records = json.dumps([{"i": i, "pad": "x" * (i % 50)} for i in range(20_000)]).encode()
    verdict = inspect(bz2.compress(records), "dump")
    assert (verdict.format, verdict.num_registros) == ("json", 20_000)


def test_text_without_suffix_or_type_is_unsupported() -> None:
    verdict = inspect(CSV, "README")
    assert (verdict.estado, verdict.reason) == ("skipped", "unsupported format (no file extension)")


def test_sniffing_fetches_no_byte_twice() -> None:
    data = b"a,b\n" + b"1,2\n" * 15_000
    source = BytesSource(data, "d.csv")
    assert inspect_object(Phase.INGESTION, source, InspectionLimits()).num_registros == 15_000
    assert source.bytes_read == len(data)


def test_sniffing_reads_only_the_head_of_what_it_skips() -> None:
    source = BytesSource(b"\x89PNG\r\n" + b"\x00" * 100_000, "plot.png")
    inspect_object(Phase.INGESTION, source, InspectionLimits())
    assert source.bytes_read == SNIFF_BYTES


def test_registry_claims_by_suffix_then_content_type() -> None:
    assert FORMATS.claim("a/B.CSV.GZ", None).spec == FORMATS.spec("csv")
    assert FORMATS.claim("a/upload", "application/x-ndjson; charset=utf-8").spec_source == (
        "content type"
    )
    assert FORMATS.claim("a/upload", None).spec is None


@pytest.mark.parametrize(
    "key",
    [
        "out/_SUCCESS",
        "out/_committed_8765",
        "out/_started_8765",
        "out/.part-00000.parquet.crc",
        "tbl/_delta_log/00000000000000000010.json",
        "tbl/_delta_log/00000000000000000010.checkpoint.parquet",
        "tbl/_delta_log/_last_checkpoint",
        "warehouse/db/tbl/metadata/00001-6f9c.metadata.json",
        "warehouse/db/tbl/metadata/snap-123-1-abc.avro",
        "warehouse/db/tbl/metadata/abc-m0.avro",
        "warehouse/db/tbl/metadata/version-hint.text",
        "hudi/tbl/.hoodie/20261129101010.commit",
        "hudi/tbl/2026/11/29/.hoodie_partition_metadata",
        "out/_temporary/0/_temporary/attempt_1/part-0.csv",
        "out/_metadata",
        "out/_common_metadata",
    ],
)
def test_not_data_keys(key: str) -> None:
    assert not_data_reason(key) is not None
    verdict = inspect(b"a\n1\n", key)
    assert verdict.estado == "skipped"
    assert verdict.details == {"not_data": True}


@pytest.mark.parametrize(
    "key",
    [
        "out/part-00000.csv",
        "warehouse/db/tbl/data/00000-0-abc.parquet",
        "results/metadata.json",
        "SUCCESS.csv",
        "tbl/delta_log/x.json",
    ],
)
def test_data_keys_are_not_taken_for_markers(key: str) -> None:
    assert not_data_reason(key) is None


def test_extra_patterns_match_file_names_or_key_parts() -> None:
    assert not_data_reason("a/b/x.tmp", ["*.tmp"]) == (
        "matches ignore pattern '*.tmp' (NOTIFIER_IGNORE_PATTERNS)"
    )
    assert not_data_reason("a/_staging/x.csv", ["_staging/*"]) is not None
    assert not_data_reason("a/staging/x.csv", ["_staging/*"]) is None
    limits = InspectionLimits(ignore_patterns=("*.tmp",))
    verdict = inspect_object(Phase.TRAINING, BytesSource(b"{}", "m/x.tmp"), limits)
    assert verdict.estado == "skipped"


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"", 0),
        (b"42", 0),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'["]]]]", "[[[[", "\\"[["]', 1),
        (b'[["a\\\\"], [[]]]', 3),
        (b"[" * 1000 + b"]" * 1000, 1000),
        (b'[["unterminated [[[[[', 2),
    ],
)
def test_nesting_depth_ignores_brackets_in_strings(text: bytes, depth: int) -> None:
    assert nesting_depth(text) == depth


@pytest.mark.parametrize(
    ("phase", "key"),
    [(Phase.INGESTION, "deep.json"), (Phase.EVALUATION, "r.json")],
)
def test_deep_documents_are_errors(phase: Phase, key: str) -> None:
    verdict = inspect_object(phase, BytesSource(b"[" * 5000 + b"]" * 5000, key), InspectionLimits())
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "nests deeper than 512 levels" in verdict.reason


def test_deep_model_card_is_ignored_and_the_model_still_recorded() -> None:
    source = BytesSource(b'{"a":' * 5000 + b"1" + b"}" * 5000, "m.json")
    verdict = inspect_object(Phase.TRAINING, source, InspectionLimits())
    assert verdict.estado == "ok"
    assert verdict.details["model_card_error"] == "model card nests deeper than 512 levels"


def test_deep_json_lines_line_is_an_error() -> None:
    line = b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"
    verdict = inspect(b'{"a": 1}\n' + line, "d.json")
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "line 2 nests deeper than 512 levels" in verdict.reason


def test_deeply_nested_metadata_value_is_kept_as_text() -> None:
    source = BytesSource(b"{}", "m/card.json", user_metadata={"layers": "[" * 3000})
    verdict = inspect_object(Phase.TRAINING, source, InspectionLimits())
    assert verdict.estado == "ok"
    assert verdict.details["parametros"]["layers"] == "[" * 1024


def test_content_detected_text_over_the_scan_cap_is_skipped_after_its_head() -> None:
    source = BytesSource(b'[{"a": 1}]' + b" " * 100_000, "export-2026")
    limits = InspectionLimits(max_scan_bytes=50_000)
    verdict = inspect_object(Phase.INGESTION, source, limits)
    assert (verdict.estado, verdict.format) == ("skipped", "json")
    assert verdict.reason == "object is 97.67 KiB, over the 48.83 KiB scan cap"
    assert source.bytes_read == SNIFF_BYTES
