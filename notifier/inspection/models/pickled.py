"""pickle and joblib files (plain or compressed), read statically, never unpickled.

The stream is replayed by :mod:`pickle_vm` (a symbolic machine over
``pickletools``' opcode table); :mod:`estimators` turns the result into the
estimator's class, hyperparameters and fitted counts, and :mod:`safety` judges every
import against an allow-list. joblib's inline numpy arrays are stepped over by length
(``NumpyArrayWrapper``); compressed joblib files (zlib, gzip, bz2, xz, lzma) are
decompressed as a stream. Nothing the file names is imported or called.
"""

from __future__ import annotations

import io
from typing import Any, Final

from notifier.inspection.guard import SourceGuard
from notifier.inspection.models import safety
from notifier.inspection.models.compressed import Decompressing, compression_of
from notifier.inspection.models.estimators import Estimator, class_of, describe
from notifier.inspection.models.facts import ModelFacts
from notifier.inspection.models.keys import base_suffix
from notifier.inspection.models.pickle_vm import (
    JOBLIB_WRAPPERS,
    PickleLimits,
    PickleRun,
    entries,
    read_pickle,
)

PICKLE: Final = "pickle"
JOBLIB: Final = "joblib"
SUFFIXES: Final = (".pkl", ".pickle", ".joblib", ".sav", ".pck", ".pk")
"""Key suffixes of pickle files (also under ``.gz``, ``.z``, ``.bz2``, ``.xz``, ``.lzma``)."""

PICKLE_MAGIC: Final = tuple(bytes([0x80, protocol]) for protocol in range(2, 6))
"""``PROTO`` and protocols 2-5: how every pickle since Python 2.3's default begins."""

MAX_LISTED_IMPORTS: Final = 200
"""Imports listed in details; the count is always exact."""

LIMITS: Final = PickleLimits()


def matches(key: str, head: bytes) -> bool:
    return head.startswith(PICKLE_MAGIC) or base_suffix(key) in SUFFIXES


def read(guard: SourceGuard, head: bytes) -> ModelFacts:
    """Describe a pickle or joblib file; see the module docstring."""
    compression = None if head.startswith(PICKLE_MAGIC) else compression_of(head)
    raw = guard.open_stream(guard.limits.max_scan_bytes)
    try:
        stream: io.BufferedIOBase = io.BufferedReader(raw, guard.limits.block_size)
        if compression is not None:
            stream = io.BufferedReader(
                Decompressing(stream, compression, guard.limits.block_size),
                guard.limits.block_size,
            )
        run = read_pickle(stream, LIMITS, guard.check_deadline, guard.limits.block_size)
    finally:
        raw.close()
    return facts_of(run, compression)


def facts_of(run: PickleRun, compression: str | None) -> ModelFacts:
    is_joblib = compression is not None or any(name in JOBLIB_WRAPPERS for name in run.imports)
    verdict, offending = safety.verdict(run.imports)
    details: dict[str, Any] = {
        "safety": verdict,
        "suspicious_imports": offending[:MAX_LISTED_IMPORTS],
        "imports": run.imports[:MAX_LISTED_IMPORTS],
        "import_count": len(run.imports),
        "pickle_protocol": run.protocol,
        "opcodes": run.opcodes,
    }
    if compression is not None:
        details["compression"] = compression
    if run.arrays:
        details["arrays"] = run.arrays
        details["array_bytes"] = run.array_bytes
    estimator, container = find_estimator(run.root)
    parametros: dict[str, Any] = {}
    if container is not None:
        details["container"] = container
    if estimator is not None:
        parametros = estimator_parameters(estimator)
        details["estimator"] = estimator.cls
        if estimator.steps:
            details["steps"] = [
                {"name": step["name"], "class": step["class"]} for step in estimator.steps
            ]
    else:
        details["root"] = class_of(run.root) or type_name(run.root)
    return ModelFacts(JOBLIB if is_joblib else PICKLE, parametros, details)


def find_estimator(root: Any) -> tuple[Estimator | None, str | None]:
    """The estimator at the root, or the first one among a dict's or list's values."""
    found = describe(root)
    if found is not None:
        return found, None
    values = entries(root)
    if values is not None:
        for key, value in values.items():
            found = describe(value)
            if found is not None:
                return found, f"dict key {key!r}"
    if isinstance(root, (list, tuple)):
        for index, value in enumerate(root):
            found = describe(value)
            if found is not None:
                return found, f"item {index}"
    return None, None


def estimator_parameters(estimator: Estimator) -> dict[str, Any]:
    """The estimator's hyperparameters, then the identifying facts under fixed names."""
    parametros: dict[str, Any] = {"model_class": estimator.cls, **estimator.params}
    for name, value in (
        ("sklearn_version", estimator.sklearn_version),
        ("n_features_in", estimator.n_features_in),
        ("n_classes", estimator.n_classes),
    ):
        if value is not None:
            parametros[name] = value
    return parametros


def type_name(value: Any) -> str:
    if entries(value) is not None:
        return "dict"
    return type(value).__name__
