"""GGUF (llama.cpp) models: header key-values and tensor infos, by ranged reads.

Layout (ggml ``docs/gguf.md``): ``GGUF`` magic, uint32 version (2 or 3), uint64 tensor
count, uint64 key-value count, the key-values (string key, uint32 type, value), then
per tensor its name, uint32 dimension count, uint64 dimensions, uint32 ggml type and
uint64 offset; little-endian. Arrays (the tokenizer's vocabulary) are stepped over,
weights never fetched. Recorded: ``general.architecture``, ``general.name``,
``general.file_type`` (quantisation), the parameter count from the tensor infos.
"""

from __future__ import annotations

import math
import struct
from collections import Counter
from typing import Any, Final

from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.fields import clip
from notifier.inspection.guard import SourceGuard
from notifier.inspection.models.facts import ModelFacts
from notifier.inspection.models.ranged import RangedReader

FORMAT: Final = "gguf"
MAGIC: Final = b"GGUF"
MAX_TENSORS: Final = 1_000_000
MAX_KEYS: Final = 100_000
MAX_STRING_BYTES: Final = 1024**2
MAX_KEPT_ARRAY: Final = 16
"""Arrays up to this many items are kept; longer ones are recorded by their length."""

_SCALARS: Final = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
STRING, ARRAY = 8, 9

FILE_TYPES: Final = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
}
"""``general.file_type`` (llama.cpp ``llama_ftype``)."""

TENSOR_TYPES: Final = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    6: "Q5_0",
    7: "Q5_1",
    8: "Q8_0",
    9: "Q8_1",
    10: "Q2_K",
    11: "Q3_K",
    12: "Q4_K",
    13: "Q5_K",
    14: "Q6_K",
    15: "Q8_K",
    24: "I8",
    25: "I16",
    26: "I32",
    27: "I64",
    28: "F64",
    30: "BF16",
}
"""``ggml_type`` of a tensor."""


def matches(key: str, head: bytes) -> bool:
    return head.startswith(MAGIC)


class _Reader:
    def __init__(self, reader: RangedReader, guard: SourceGuard) -> None:
        self.r = reader
        self.guard = guard

    def scalar(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.r.read(struct.calcsize(fmt)))[0]

    def string(self) -> str | None:
        length = self.scalar("<Q")
        if length > MAX_STRING_BYTES:
            self.r.skip(length)
            return None
        return self.r.read(length).decode("utf-8", "replace")

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind])
        if kind == STRING:
            return self.string()
        if kind == ARRAY:
            item_kind, count = self.scalar("<I"), self.scalar("<Q")
            if count <= MAX_KEPT_ARRAY:
                return [self.value(item_kind) for _ in range(count)]
            self.skip_array(item_kind, count)
            return f"<array of {count}>"
        raise Unreadable(f"GGUF value of unknown type {kind}")

    def skip_array(self, kind: int, count: int) -> None:
        if kind in _SCALARS:
            self.r.skip(struct.calcsize(_SCALARS[kind]) * count)
            return
        for index in range(count):
            if index % 65536 == 0:
                self.guard.check_deadline()
            if kind == STRING:
                self.r.skip(self.scalar("<Q"))
            else:
                self.value(kind)


def read(guard: SourceGuard, head: bytes) -> ModelFacts:
    reader = _Reader(RangedReader(guard, window=4 << 20), guard)
    reader.r.skip(4)
    version = reader.scalar("<I")
    if version not in (2, 3):
        raise NotInspected(f"GGUF version {version} is not supported (2 and 3 are)")
    tensor_count, key_count = reader.scalar("<Q"), reader.scalar("<Q")
    if tensor_count > MAX_TENSORS or key_count > MAX_KEYS:
        raise NotInspected("GGUF header lists more tensors or keys than the caps allow")
    metadata: dict[str, Any] = {}
    for _ in range(key_count):
        key = reader.string() or ""
        value = reader.value(reader.scalar("<I"))
        metadata[key] = clip(value) if isinstance(value, str) else value
    parameters = 0
    types: Counter[str] = Counter()
    for index in range(tensor_count):
        if index % 4096 == 0:
            guard.check_deadline()
        reader.string()
        dims = [reader.scalar("<Q") for _ in range(reader.scalar("<I"))]
        kind = reader.scalar("<I")
        reader.scalar("<Q")
        parameters += math.prod(dims)
        types[TENSOR_TYPES.get(kind, str(kind))] += 1
    file_type = metadata.get("general.file_type")
    parametros = {
        "architecture": metadata.get("general.architecture"),
        "name": metadata.get("general.name"),
        "file_type": FILE_TYPES.get(file_type, file_type) if isinstance(file_type, int) else None,
        "num_parameters": parameters,
        "num_tensors": tensor_count,
    }
    arch = metadata.get("general.architecture")
    if isinstance(arch, str):
        for suffix in ("context_length", "embedding_length", "block_count"):
            if f"{arch}.{suffix}" in metadata:
                parametros[suffix] = metadata[f"{arch}.{suffix}"]
    details = {"gguf_version": version, "tensor_types": dict(types), "metadata": metadata}
    return ModelFacts(FORMAT, parametros, details)
