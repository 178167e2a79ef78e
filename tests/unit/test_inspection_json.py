"""JSON Lines and JSON array counting (notifier.inspection.datasets.json_records)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from notifier.inspection import (
    BytesSource,
    Inspection,
    InspectionLimits,
    Phase,
    inspect_object,
)
from notifier.inspection.datasets import json_records


def inspect(
    data: bytes, key: str = "d.jsonl", limits: InspectionLimits | None = None
) -> Inspection:
    verdict = inspect_object(Phase.INGESTION, BytesSource(data, key), limits or InspectionLimits())
    json.dumps(verdict.details)
    return verdict


def jsonl(records: list[object]) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


@pytest.fixture
def no_line_by_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if the slow line-by-line pass runs: the pyarrow count should stand."""

    def fail(*_: object) -> int:
        raise AssertionError("line-by-line pass ran")

    monkeypatch.setattr(json_records, "_count_line_by_line", fail)


@pytest.mark.usefixtures("no_line_by_line")
def test_json_lines_with_changing_field_types_count_on_the_fast_path() -> None:
    records: list[object] = [
        {"id": i, "v": i if i % 2 else str(i), "n": {"x": [i]}} for i in range(30_000)
    ]
    verdict = inspect(jsonl(records), limits=InspectionLimits(block_size=64 * 1024))
    assert verdict == Inspection("ok", 30_000, None, "jsonl", {"layout": "lines"})


@pytest.mark.usefixtures("no_line_by_line")
def test_blank_and_whitespace_lines_are_not_records() -> None:
    data = b'\n{"a": 1}\n\n   \n{"a": 2}\r\n\t\n{"a": 3}'
    assert inspect(data).num_registros == 3


def test_malformed_line_is_an_error_with_its_line_number() -> None:
    data = b'{"a": 1}\n\n{"a": 2}\n{"a": 3,}\n{"a": 4}\n'
    verdict = inspect(data)
    assert verdict.estado == "error"
    assert verdict.num_registros is None
    assert verdict.format == "jsonl"
    assert verdict.reason is not None
    assert verdict.reason.startswith("JSON Lines parse error at line 4:")


def test_malformed_line_deep_in_a_large_file_is_located() -> None:
    data = jsonl([{"i": i} for i in range(50_000)]) + b"{oops}\n" + jsonl([{"i": 0}])
    verdict = inspect(data, limits=InspectionLimits(block_size=64 * 1024))
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "at line 50001:" in verdict.reason


def test_lines_holding_arrays_or_scalars_are_records() -> None:
    assert inspect(b'{"a": 1}\n[1, 2]\n"text"\n3\nnull\n').num_registros == 5


def test_an_object_spread_over_lines_is_not_json_lines() -> None:
    verdict = inspect(b'{"a": 1}\n{\n  "b": 2\n}\n')
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "at line 2" in verdict.reason


def test_two_objects_on_one_line_are_an_error() -> None:
    verdict = inspect(b'{"a": 1} {"a": 2}\n')
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert "at line 1" in verdict.reason


def test_line_longer_than_the_block_is_counted() -> None:
    data = jsonl([{"a": 1}, {"text": "x" * 50_000}, {"a": 2}])
    verdict = inspect(data, limits=InspectionLimits(block_size=4096))
    assert (verdict.estado, verdict.num_registros) == ("ok", 3)


def test_line_longer_than_the_document_cap_is_an_error() -> None:
    data = jsonl([{"a": 1}, {"text": "x" * 5_000}])
    verdict = inspect(data, limits=InspectionLimits(block_size=1024, max_json_document_bytes=2048))
    assert verdict.estado == "error"
    assert verdict.reason == "line 2 is longer than 2 KiB"


def test_empty_and_blank_objects_hold_zero_records() -> None:
    assert inspect(b"").num_registros == 0
    assert inspect(b" \n\n ").num_registros == 0


def test_gzip_json_lines() -> None:
    verdict = inspect(gzip.compress(jsonl([{"a": i} for i in range(1000)])), key="x.ndjson.gz")
    assert verdict == Inspection(
        "ok", 1000, None, "jsonl", {"layout": "lines", "compression": "gzip"}
    )


def test_truncated_gzip_json_lines_is_an_error() -> None:
    data = gzip.compress(jsonl([{"a": i} for i in range(10_000)]))[:-50]
    verdict = inspect(data, key="x.jsonl.gz")
    assert verdict.estado == "error"
    assert verdict.reason == "truncated gzip stream: it ends before its end marker"


def test_json_array_elements_are_counted() -> None:
    data = b'\xef\xbb\xbf \n [{"a": 1}, [1, 2], "s", 3, null, {"b": {"c": []}}]\n'
    verdict = inspect(data, key="d.json")
    assert verdict == Inspection("ok", 6, None, "json", {"layout": "array"})


def test_large_json_array_counts_in_bounded_steps() -> None:
    data = json.dumps([{"id": i, "tags": ["a", "b"]} for i in range(20_000)]).encode()
    verdict = inspect(data, key="d.json", limits=InspectionLimits(block_size=4096))
    assert verdict.num_registros == 20_000


def test_empty_json_array() -> None:
    assert inspect(b"[]", key="d.json").num_registros == 0


def test_truncated_json_array_is_an_error() -> None:
    verdict = inspect(b'[{"a": 1}, {"a": 2}, {"a"', key="d.json")
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert verdict.reason.startswith("JSON parse error after 2 elements")
    assert "\n" not in verdict.reason


def test_text_after_the_array_is_an_error() -> None:
    verdict = inspect(b"[1, 2] [3]", key="d.json")
    assert verdict.estado == "error"
    assert verdict.reason == (
        "neither a JSON document nor JSON Lines: JSON Lines parse error at line 1:"
        " Extra data: line 1 column 8 (char 7)"
    )


def test_array_element_over_the_document_cap_is_an_error() -> None:
    data = json.dumps([{"a": 1}, {"text": "x" * 20_000}]).encode()
    limits = InspectionLimits(block_size=1024, max_json_document_bytes=4096)
    verdict = inspect(data, key="d.json", limits=limits)
    assert verdict.estado == "error"
    assert verdict.reason == "a JSON value is larger than 4 KiB"


def test_json_file_holding_json_lines_is_counted_as_lines() -> None:
    verdict = inspect(jsonl([{"a": 1}, {"a": 2}]), key="d.json")
    assert verdict == Inspection("ok", 2, None, "json", {"layout": "lines"})


def test_json_file_that_is_neither_a_document_nor_lines_is_an_error() -> None:
    verdict = inspect(b'{"a":\n 1}\n{"b": 2}\n', key="d.json")
    assert verdict.estado == "error"
    assert verdict.reason is not None
    assert verdict.reason.startswith("neither a JSON document nor JSON Lines: ")
    assert "line 1" in verdict.reason


def test_gzip_json_array() -> None:
    verdict = inspect(gzip.compress(b"[1, 2, 3]"), key="d.json.gz")
    assert verdict == Inspection("ok", 3, None, "json", {"layout": "array", "compression": "gzip"})


# --- JSON as pandas and Python write it -------------------------------------------

FRAME_ROWS = 5


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "src_ip": [f"192.0.2.{i}" for i in range(FRAME_ROWS)],
            "bytes": [10.0, np.nan, 30.0, 40.5, np.inf],
            "label": ["normal", "dos", None, "probe", "normal"],
        }
    )


ORIENT_LAYOUTS = {
    "columns": "pandas-columns",
    "index": "pandas-index",
    "split": "pandas-split",
    "table": "pandas-table",
    "records": "array",
    "values": "array",
}


@pytest.mark.parametrize("indent", [None, 0, 2])
@pytest.mark.parametrize("orient", ORIENT_LAYOUTS)
def test_every_pandas_orient_is_counted(orient: str, indent: int | None) -> None:
    data = frame().to_json(orient=orient, indent=indent).encode()
    verdict = inspect(data, key="flows.json")
    assert (verdict.estado, verdict.num_registros) == ("ok", FRAME_ROWS)
    assert verdict.details["layout"] == ORIENT_LAYOUTS[orient]


def test_pandas_lines_output_is_json_lines() -> None:
    data = frame().to_json(orient="records", lines=True).encode()
    verdict = inspect(data, key="flows.json")
    assert (verdict.num_registros, verdict.details["layout"]) == (FRAME_ROWS, "lines")


@pytest.mark.parametrize("orient", ["columns", "split", "table", "records", "values"])
def test_an_empty_frame_is_ok_with_zero_records(orient: str) -> None:
    data = frame().iloc[:0].to_json(orient=orient).encode()
    verdict = inspect(data, key="empty.json")
    assert (verdict.estado, verdict.num_registros) == ("ok", 0)
    assert verdict.details["empty"] is True


def test_a_frame_with_a_string_index_and_as_many_columns_is_counted() -> None:
    square = pd.DataFrame({"a": [1, 2], "b": [3, 4]}, index=["x", "y"])
    verdict = inspect(square.to_json().encode(), key="square.json")
    assert verdict.num_registros == 2


def test_columns_or_index_that_keys_cannot_tell_apart_are_skipped() -> None:
    wide = pd.DataFrame({"a": [1, 2, 3], "b": [3, 4, 5]}, index=["x", "y", "z"])
    verdict = inspect(wide.to_json().encode(), key="wide.json")
    assert verdict.estado == "skipped"
    assert verdict.reason is not None
    assert "'columns' (3 records) or 'index' (2 records)" in verdict.reason


def test_python_json_dump_with_nan_and_infinity() -> None:
    records = [{"v": float("nan")}, {"v": float("inf")}, {"v": -float("inf")}, {"v": "NaN"}]
    verdict = inspect(json.dumps(records).encode(), key="py.json")
    assert (verdict.estado, verdict.num_registros) == ("ok", 4)
    assert verdict.details == {"layout": "array", "non_finite_numbers": True}
    lines = inspect(jsonl(records), key="py.jsonl", limits=InspectionLimits(block_size=16))
    assert (lines.estado, lines.num_registros) == ("ok", 4)


def test_nan_split_across_read_blocks_is_still_read() -> None:
    records = [{"pad": "x" * n, "v": float("nan")} for n in range(200)]
    limits = InspectionLimits(block_size=64)
    verdict = inspect(json.dumps(records).encode(), key="py.json", limits=limits)
    assert verdict.num_registros == 200


@pytest.mark.parametrize(
    ("document", "records", "key"),
    [
        ({"data": [{"a": 1}, {"a": 2}], "count": 2, "next": None}, 2, "data"),
        ({"meta": {"source": "api"}, "results": [[1, 2], [3, 4], [5, 6]]}, 3, "results"),
        ({"items": []}, 0, "items"),
    ],
)
def test_an_object_wrapping_one_array_of_records(
    document: dict[str, object], records: int, key: str
) -> None:
    verdict = inspect(json.dumps(document, indent=1).encode(), key="api.json")
    assert (verdict.estado, verdict.num_registros) == ("ok", records)
    assert (verdict.details["layout"], verdict.details["records_key"]) == ("wrapped-array", key)


@pytest.mark.parametrize(
    "document",
    [
        {"lr": 0.1, "epochs": 3},
        {"a": [{"x": 1}], "b": [{"x": 2}]},
        {"tags": ["a", "b", "c"]},
        {"a": {"x": 1, "y": 2}, "b": {"x": 1}},
        {"columns": ["a"], "index": [0, 1], "data": [[1]]},
    ],
)
def test_unrecognised_layouts_are_skipped_not_guessed(document: dict[str, object]) -> None:
    verdict = inspect(json.dumps(document).encode(), key="odd.json")
    assert verdict.estado == "skipped"
    assert verdict.num_registros is None
    assert verdict.reason


def test_integers_beyond_64_bits_are_counted() -> None:
    verdict = inspect(b'[{"id": 18446744073709551616}, {"id": -1}]', key="big.json")
    assert (verdict.estado, verdict.num_registros) == ("ok", 2)


@pytest.mark.parametrize("data", [b"null", b"[]", b'{"a": 1}\nnull\n[]\nNaN\n', b" null\n{}"])
def test_lines_that_crash_pyarrow_are_counted_by_line(data: bytes) -> None:
    for key in ("d.jsonl", "d.json"):
        verdict = inspect(data, key=key, limits=InspectionLimits(block_size=16))
        assert verdict.estado == "ok"


def test_empty_and_blank_json_lines_say_so() -> None:
    for data in (b"", b"\n  \n"):
        verdict = inspect(data, key="d.jsonl")
        assert (verdict.num_registros, verdict.details["empty"]) == (0, True)
