"""safetensors: tensor names, dtypes, shapes and ``__metadata__`` from the header alone.

Layout (huggingface/safetensors, docs "The format"): 8 bytes little-endian unsigned
header length N, then N bytes of JSON: ``{"<tensor>": {"dtype": "F32", "shape": [..],
"data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}``, then the data.
Read with two ranged GETs; the weights are never fetched.
"""

from __future__ import annotations

import json
import math
import struct
from collections import Counter
from typing import Any, Final

from notifier.inspection.base import human_bytes, one_line
from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.fields import metadata_value
from notifier.inspection.guard import SourceGuard
from notifier.inspection.models.card import stated
from notifier.inspection.models.facts import ModelFacts
from notifier.inspection.models.keys import suffix_of

FORMAT: Final = "safetensors"
MAX_HEADER_BYTES: Final = 16 * 1024**2
"""Largest header parsed (the library allows 100 MB; real headers, even of large
language models, are well under 1 MiB), since parsed JSON takes ~10x its size."""
MAX_LISTED_TENSORS: Final = 100


def matches(key: str, head: bytes) -> bool:
    if suffix_of(key) == ".safetensors":
        return True
    return len(head) > 9 and head[8:10] == b'{"'


def read(guard: SourceGuard, head: bytes) -> ModelFacts:
    size = guard.source.size
    if size is None or size < 8:
        raise Unreadable("not a safetensors file: shorter than its 8-byte header length")
    (length,) = struct.unpack("<Q", head[:8] if len(head) >= 8 else guard.read_range(0, 8))
    if length > MAX_HEADER_BYTES:
        raise NotInspected(f"safetensors header over the {human_bytes(MAX_HEADER_BYTES)} cap")
    if 8 + length > size:
        raise Unreadable(f"truncated safetensors file: header of {length} bytes in {size}")
    try:
        header = json.loads(guard.read_range(8, length))
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"safetensors header is not JSON: {one_line(str(exc))}") from None
    if not isinstance(header, dict):
        raise Unreadable("safetensors header is not a JSON object")
    return facts_of(header, size - 8 - length)


def facts_of(header: dict[str, Any], data_bytes: int) -> ModelFacts:
    metadata = header.pop("__metadata__", None) or {}
    parameters = 0
    dtypes: Counter[str] = Counter()
    tensors: list[dict[str, Any]] = []
    for name, info in header.items():
        shape, dtype, offsets = _tensor(name, info)
        if offsets[1] > data_bytes:
            raise Unreadable(f"truncated safetensors file: tensor {name!r} runs past the end")
        parameters += math.prod(shape)
        dtypes[dtype] += 1
        if len(tensors) < MAX_LISTED_TENSORS:
            tensors.append({"name": name, "dtype": dtype, "shape": shape})
    parametros: dict[str, Any] = {
        str(key): metadata_value(str(value)) for key, value in dict(metadata).items()
    }
    parametros.update({"num_parameters": parameters, "num_tensors": len(header)})
    details = {"dtypes": dict(dtypes), "tensors": tensors, "metadata": dict(metadata)}
    dataset, records = stated(dict(metadata))
    return ModelFacts(FORMAT, parametros, details, records, dataset)


def _tensor(name: str, info: Any) -> tuple[list[int], str, list[int]]:
    if not isinstance(info, dict):
        raise Unreadable(f"safetensors tensor {name!r} is not described by an object")
    shape, dtype, offsets = info.get("shape"), info.get("dtype"), info.get("data_offsets")
    if (
        not isinstance(shape, list)
        or not all(isinstance(n, int) and n >= 0 for n in shape)
        or not isinstance(dtype, str)
        or not (isinstance(offsets, list) and len(offsets) == 2)
        or not all(isinstance(n, int) and n >= 0 for n in offsets)
    ):
        raise Unreadable(f"safetensors tensor {name!r} lacks a valid dtype, shape or offsets")
    return shape, dtype, offsets
