"""Cell kinds for header detection: the decimal fast path says what the patterns say."""

from __future__ import annotations

import pytest

from notifier.inspection.datasets import dialect


@pytest.mark.parametrize(
    "cell",
    [
        "0",
        "123",
        " 42 ",
        "007",
        "١٢٣",
        "²",
        "1.5",
        "-3",
        "1e5",
        "12%",
        "2026-11-29",
        "na",
        "",
        "x1",
    ],
)
def test_kind_matches_the_number_and_date_patterns(cell: str) -> None:
    value = cell.strip()
    if value.lower() in dialect.MISSING_VALUES:
        expected = None
    elif dialect._NUMBER.match(value) or dialect._DATE.match(value):
        expected = "typed"
    else:
        expected = "text"
    assert dialect._kind(cell) == expected
