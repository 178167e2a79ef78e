"""What a layout sees besides the parsed content: the object's file name, a table's shape."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Context:
    """``file_name`` is the key's last segment, lower-cased (``all_results.json``)."""

    file_name: str


@dataclass(frozen=True)
class Table:
    """A small CSV read whole: its first row, the other rows, and where it came from."""

    header: list[str]
    rows: list[list[str]]
    context: Context
