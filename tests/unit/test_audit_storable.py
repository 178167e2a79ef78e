"""The storable boundary: what PostgreSQL text and jsonb refuse never reaches them."""

from __future__ import annotations

import json
import math

from notifier.audit import storable
from notifier.audit.storable import storable_json, storable_text


def assert_storable_text(text: str) -> None:
    assert "\x00" not in text
    text.encode("utf-8")  # raises on any lone surrogate


def test_clean_text_is_unchanged():
    for text in ("", "ventas.csv", "día 1/Résumé (v2)+x&y.csv", "emoji \U0001f600 ok"):
        assert storable_text(text) == text


def test_nul_and_lone_surrogates_become_the_replacement_character():
    assert storable_text("a\x00b") == "a\ufffdb"
    assert storable_text("x\ud800y\udfffz") == "x\ufffdy\ufffdz"
    assert storable_text("\udc80\x00") == "\ufffd\ufffd"


def test_overlong_text_is_cut_visibly_to_the_bound():
    text = storable_text("x" * 10_000)
    assert len(text) == storable.MAX_TEXT_CHARS
    assert text.endswith("…")
    assert storable_text("y" * 300, 10) == "y" * 9 + "…"


def test_keys_keep_their_length():
    key = "k" * 5000 + "\x00"
    assert storable_text(key, None) == "k" * 5000 + "\ufffd"


def test_json_is_cleaned_recursively_keys_and_values():
    value = {
        "col\x00umn": ["a\x00", {"\ud800metric": "v\udfff", "n": 1.5}],
        "ok": True,
        "none": None,
    }
    cleaned = storable_json(value)
    assert cleaned == {
        "col\ufffdumn": ["a\ufffd", {"\ufffdmetric": "v\ufffd", "n": 1.5}],
        "ok": True,
        "none": None,
    }
    json.dumps(cleaned, allow_nan=False).encode("utf-8")


def test_json_non_finite_numbers_become_strings_postgres_casts():
    assert storable_json([math.nan, math.inf, -math.inf, 2.0]) == [
        "NaN",
        "Infinity",
        "-Infinity",
        2.0,
    ]


def test_json_huge_integers_are_described_not_printed():
    assert storable_json({"n": 10**50})["n"] == 10**50
    described = storable_json({"n": 10**5000})["n"]
    assert isinstance(described, str)
    assert "digits" in described


def test_json_member_names_are_bounded():
    cleaned = storable_json({"n" * 1000: 1})
    (name,) = cleaned
    assert len(name) == storable.MAX_NAME_CHARS


def test_json_arrays_and_objects_are_bounded_with_a_visible_marker():
    items = storable_json(list(range(storable.MAX_ITEMS + 5)))
    assert len(items) == storable.MAX_ITEMS + 1
    assert items[-1] == "… 5 more items"
    members = storable_json({f"c{i}": i for i in range(storable.MAX_ITEMS + 2)})
    assert len(members) == storable.MAX_ITEMS + 1
    assert members["…"] == "2 more members"


def test_json_depth_and_total_size_are_bounded():
    deep: object = "leaf"
    for _ in range(100):
        deep = [deep]
    cleaned = storable_json(deep)
    depth = 0
    while isinstance(cleaned, list):
        cleaned = cleaned[0]
        depth += 1
    assert depth == storable.MAX_DEPTH
    assert cleaned == "… nested too deep"

    wide = [[str(i) for i in range(storable.MAX_ITEMS)] for _ in range(100)]
    flat = json.dumps(storable_json(wide))
    assert flat.count('"') // 2 <= storable.MAX_NODES + 100


def test_other_types_are_stored_as_text():
    from datetime import date
    from decimal import Decimal

    assert storable_json({"d": date(2026, 1, 2), "x": Decimal("1.5")}) == {
        "d": "2026-01-02",
        "x": "1.5",
    }
