"""The model formats, in the order detection tries them.

A format is a module with ``matches(key, head) -> bool`` (by magic bytes in ``head``,
the object's first :data:`HEAD_BYTES`, or by key suffix) and
``read(guard, head) -> ModelFacts``. Adding a format: one module, one line here, one test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from notifier.inspection.guard import SourceGuard
from notifier.inspection.models import (
    gguf_model,
    keras_archive,
    lightgbm_model,
    mlflow_model,
    onnx_model,
    pickled,
    pytorch_zip,
    safetensors_header,
    xgboost_model,
)
from notifier.inspection.models.facts import ModelFacts

HEAD_BYTES: Final = 64
"""Bytes read from the start of every model object to recognise its format."""


@dataclass(frozen=True)
class ModelFormat:
    name: str
    matches: Callable[[str, bytes], bool]
    read: Callable[[SourceGuard, bytes], ModelFacts]


FORMATS: Final[tuple[ModelFormat, ...]] = (
    ModelFormat("pytorch", pytorch_zip.matches, pytorch_zip.read),
    ModelFormat("keras", keras_archive.matches, keras_archive.read),
    ModelFormat("pickle", pickled.matches, pickled.read),
    ModelFormat("safetensors", safetensors_header.matches, safetensors_header.read),
    ModelFormat("onnx", onnx_model.matches, onnx_model.read),
    ModelFormat("xgboost", xgboost_model.matches, xgboost_model.read),
    ModelFormat("lightgbm", lightgbm_model.matches, lightgbm_model.read),
    ModelFormat("mlflow", mlflow_model.matches, mlflow_model.read),
    ModelFormat("gguf", gguf_model.matches, gguf_model.read),
)


def detect(key: str, head: bytes) -> ModelFormat | None:
    """The first format that recognises the object, or None."""
    return next((fmt for fmt in FORMATS if fmt.matches(key, head)), None)
