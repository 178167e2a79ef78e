"""The local ObjectSource implementations (notifier.inspection.source)."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifier.inspection import BytesSource, FileSource


def test_bytes_source_counts_streamed_and_ranged_bytes() -> None:
    source = BytesSource(b"0123456789", "k.csv", user_metadata={"a": "1"})
    assert (source.size, source.bucket, source.bytes_read) == (10, "memory", 0)
    assert source.read_range(2, 3) == b"234"
    assert source.read_range(8, 10) == b"89"
    stream = source.open_stream()
    assert stream.read(4) == b"0123"
    assert stream.read(100) == b"456789"
    assert stream.read(100) == b""
    stream.close()
    assert source.bytes_read == 3 + 2 + 10


def test_bytes_source_rejects_negative_ranges() -> None:
    with pytest.raises(ValueError, match="invalid byte range"):
        BytesSource(b"abc", "k").read_range(-1, 2)


def test_file_source(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,2\n")
    source = FileSource(path)
    assert (source.key, source.size, source.bucket) == ("data.csv", 8, "file")
    assert source.read_range(4, 3) == b"1,2"
    stream = source.open_stream()
    assert stream.read(100) == b"a,b\n1,2\n"
    stream.close()
    assert source.bytes_read == 11
