"""LightGBM text models (``Booster.save_model``, ``model.txt``).

Layout (LightGBM ``src/boosting/gbdt_model_text.cpp``): a header of ``key=value``
lines (``version``, ``num_class``, ``objective``, ``feature_names``, ``tree_sizes``
with one size per tree) ended by a blank line, the trees, then near the end a
``parameters:`` block of ``[key: value]`` lines closed by ``end of parameters``.
Read with two ranged GETs: the header and the file's tail; the trees are not fetched.
"""

from __future__ import annotations

from typing import Any, Final

from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.fields import clip, metadata_value
from notifier.inspection.guard import SourceGuard
from notifier.inspection.models.facts import ModelFacts

FORMAT: Final = "lightgbm"
MAGIC: Final = b"tree\nversion="
MAX_HEADER_BYTES: Final = 4 * 1024**2
"""Largest header read (``feature_names`` and ``tree_sizes`` grow with the model)."""
TAIL_BYTES: Final = 1024**2
"""Bytes read from the end to find the ``parameters:`` block."""
MAX_FEATURE_NAMES: Final = 1000


def matches(key: str, head: bytes) -> bool:
    return head.replace(b"\r\n", b"\n").startswith(MAGIC)


def read(guard: SourceGuard, head: bytes) -> ModelFacts:
    size = guard.source.size
    if size is None:
        raise NotInspected("object size unknown: LightGBM models are read by byte ranges")
    header_text = guard.read_range(0, min(size, MAX_HEADER_BYTES)).replace(b"\r\n", b"\n")
    end = header_text.find(b"\n\n")
    if end < 0 and size > MAX_HEADER_BYTES:
        raise NotInspected(f"LightGBM header longer than {MAX_HEADER_BYTES} bytes")
    header = _pairs(header_text[: end if end >= 0 else None])
    tail_start = max(0, size - TAIL_BYTES)
    tail = header_text[tail_start:] if size <= MAX_HEADER_BYTES else b""
    if not tail:
        tail = guard.read_range(tail_start, size - tail_start).replace(b"\r\n", b"\n")
    if "version" not in header:
        raise Unreadable("not a LightGBM model: no version in the header")
    return _facts(header, _parameters(tail))


def _pairs(block: bytes) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            pairs[key.strip()] = value.strip()
    return pairs


def _parameters(tail: bytes) -> dict[str, Any] | None:
    text = tail.decode("utf-8", "replace")
    start = text.rfind("\nparameters:\n")
    if start < 0:
        return None
    block = text[start + len("\nparameters:\n") :].split("end of parameters", 1)[0]
    parameters: dict[str, Any] = {}
    for line in block.splitlines():
        line = line.strip()
        if not (line.startswith("[") and line.endswith("]")):
            continue
        key, sep, value = line[1:-1].partition(":")
        if sep and value.strip():
            parameters[key.strip()] = metadata_value(value.strip())
    return parameters


def _facts(header: dict[str, str], parameters: dict[str, Any] | None) -> ModelFacts:
    names = header.get("feature_names", "").split()
    tree_sizes = header.get("tree_sizes", "").split()
    parametros: dict[str, Any] = dict(parameters or {})
    parametros.update(
        {
            "objective": header.get("objective", "").split(" ", 1)[0] or None,
            "num_class": metadata_value(header["num_class"]) if "num_class" in header else None,
            "num_trees": len(tree_sizes),
            "num_feature": len(names) or None,
        }
    )
    details = {
        "lightgbm_version": header.get("version"),
        "objective": header.get("objective"),
        "num_tree_per_iteration": metadata_value(header.get("num_tree_per_iteration", "")),
        "feature_names": [clip(name) for name in names[:MAX_FEATURE_NAMES]],
        "parameters_block": parameters is not None,
    }
    return ModelFacts(FORMAT, parametros, details)
