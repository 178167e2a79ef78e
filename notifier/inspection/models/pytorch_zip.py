"""PyTorch ``torch.save`` files (the zip format, default since PyTorch 1.6).

Layout (``torch/serialization.py``): a zip whose ``<name>/data.pkl`` is a pickle of
the saved object in which every tensor is ``torch._utils._rebuild_tensor_v2(
<persistent id ('storage', <storage type>, <key>, <location>, <numel>)>, offset, size,
stride, ...)`` and ``<name>/data/<key>`` holds the storages' bytes. ``data.pkl`` is
replayed by the symbolic machine of :mod:`pickle_vm` (nothing is unpickled), tensor
names, shapes and dtypes come from those records, and the storages are never fetched.
Legacy (pre-1.6, non-zip) files are not read: they are skipped with a reason.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.guard import SourceGuard
from notifier.inspection.models import pickled
from notifier.inspection.models.archive import (
    ZIP_MAGIC,
    member_stream,
    open_archive,
    read_member,
)
from notifier.inspection.models.estimators import class_of, plain_value, state_of
from notifier.inspection.models.facts import ModelFacts
from notifier.inspection.models.keys import suffix_of
from notifier.inspection.models.pickle_vm import Call, Global, Persistent, entries, read_pickle

FORMAT: Final = "pytorch"
SUFFIXES: Final = (".pt", ".pth", ".ckpt", ".bin")
MAX_DATA_PKL_BYTES: Final = 256 * 1024**2
"""Largest ``data.pkl`` read (it holds structure only; weights are separate members)."""
MAX_LISTED_TENSORS: Final = 100
MAX_WALK_DEPTH: Final = 12

REBUILDERS: Final = frozenset(
    {
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v3",
    }
)
PARAMETER_WRAPPERS: Final = frozenset(
    {"torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state"}
)
MODULE_CONTAINERS: Final = frozenset({"_parameters", "_buffers", "_modules"})
"""``nn.Module`` state keys dropped from tensor names (``layer._parameters.weight``)."""

STORAGE_DTYPES: Final = {
    "FloatStorage": "float32",
    "DoubleStorage": "float64",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}


def matches(key: str, head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC) and suffix_of(key) in SUFFIXES


@dataclass
class _Tensors:
    listed: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    parameters: int = 0
    dtypes: Counter[str] = field(default_factory=Counter)

    def add(self, name: str, shape: tuple[int, ...], dtype: str | None) -> None:
        self.count += 1
        self.parameters += math.prod(shape)
        self.dtypes[dtype or "unknown"] += 1
        if len(self.listed) < MAX_LISTED_TENSORS:
            self.listed.append({"name": name, "shape": list(shape), "dtype": dtype})


def read(guard: SourceGuard, head: bytes) -> ModelFacts:
    archive = open_archive(guard)
    names = [name for name in archive.namelist() if name.endswith("data.pkl")]
    if len(names) != 1:
        raise Unreadable(f"not a PyTorch archive: {len(names)} data.pkl members")
    with member_stream(archive, names[0], MAX_DATA_PKL_BYTES) as stream:
        run = read_pickle(stream, pickled.LIMITS, guard.check_deadline, guard.limits.block_size)
    base = pickled.facts_of(run, None)
    tensors = _Tensors()
    _walk(run.root, "", tensors, 0)
    parametros: dict[str, Any] = {}
    root_class = class_of(run.root)
    if root_class is not None and not root_class.startswith("collections."):
        parametros["model_class"] = root_class
    parametros.update(_scalars(run.root))
    parametros.update({"num_parameters": tensors.parameters, "num_tensors": tensors.count})
    details = {
        **{key: base.details[key] for key in ("safety", "suspicious_imports", "imports")},
        "tensors": tensors.listed,
        "dtypes": dict(tensors.dtypes),
        "archive_version": _version(archive, names[0]),
        "storages": len(run.persistent_ids),
    }
    return ModelFacts(FORMAT, parametros, details)


def _version(archive: Any, data_pkl: str) -> str | None:
    name = data_pkl[: -len("data.pkl")] + "version"
    try:
        return read_member(archive, name, 64).decode("ascii", "replace").strip() or None
    except (KeyError, NotInspected, Unreadable):
        return None


def _walk(value: Any, path: str, tensors: _Tensors, depth: int) -> None:
    if depth > MAX_WALK_DEPTH:
        return
    tensor = _tensor(value)
    if tensor is not None:
        tensors.add(path, *tensor)
        return
    for key, item in _children(value):
        if key in MODULE_CONTAINERS:
            _walk(item, path, tensors, depth + 1)
        else:
            _walk(item, f"{path}.{key}" if path else key, tensors, depth + 1)


def _children(value: Any) -> list[tuple[str, Any]]:
    found = entries(value)
    if found is not None:
        return [(str(plain_value(key)), item) for key, item in found.items()]
    if isinstance(value, Call):
        pairs = [item for item in value.items if isinstance(item, list) and len(item) == 2]
        if pairs:  # an OrderedDict filled by SETITEMS
            return [(str(plain_value(key)), item) for key, item in pairs]
        state = state_of(value)
        if state is not None:
            return list(state.items())
    if isinstance(value, (list, tuple)):
        return [(str(index), item) for index, item in enumerate(value)]
    return []


def _tensor(value: Any) -> tuple[tuple[int, ...], str | None] | None:
    if not isinstance(value, Call):
        return None
    if value.func_name in PARAMETER_WRAPPERS and isinstance(value.args, tuple) and value.args:
        return _tensor(value.args[0])
    if value.func_name not in REBUILDERS or not isinstance(value.args, tuple):
        return None
    args = value.args
    if len(args) < 3 or not isinstance(args[2], tuple):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in args[2]):
        return None
    return tuple(args[2]), _dtype(args[0])


def _dtype(storage: Any) -> str | None:
    if isinstance(storage, Persistent) and isinstance(storage.pid, tuple) and len(storage.pid) > 1:
        kind = storage.pid[1]
        if isinstance(kind, Global):
            return STORAGE_DTYPES.get(kind.name, kind.name)
    return None


def _scalars(root: Any) -> dict[str, Any]:
    """Top-level scalars of a checkpoint dict (``epoch``, ``lr``...)."""
    found = entries(root)
    if found is None:
        return {}
    kept: dict[str, Any] = {}
    for key, item in found.items():
        value = plain_value(item)
        scalar = value is None or isinstance(value, (bool, int, float)) or isinstance(item, str)
        if isinstance(key, str) and scalar:
            kept[key] = value
    return kept
