"""Keras 3 ``.keras`` archives: ``config.json`` and ``metadata.json`` by ranged reads.

Layout (keras ``saving/saving_lib.py``): a zip holding ``metadata.json``
(``keras_version``, ``date_saved``), ``config.json`` (the model's
``serialize_keras_object`` output: ``module``, ``class_name``, ``config`` with the
layers, ``compile_config`` with optimizer, loss and metrics) and
``model.weights.h5`` (never opened). Nothing is deserialised into Keras objects: the
JSON is read as data.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Final

from notifier.inspection.base import one_line
from notifier.inspection.errors import Unreadable
from notifier.inspection.fields import clip, is_scalar
from notifier.inspection.guard import SourceGuard
from notifier.inspection.models.archive import ZIP_MAGIC, open_archive, read_member
from notifier.inspection.models.facts import ModelFacts
from notifier.inspection.models.keys import suffix_of

FORMAT: Final = "keras"
MAX_JSON_BYTES: Final = 64 * 1024**2
MAX_LISTED_LAYERS: Final = 200
LAYER_SETTINGS: Final = (
    "units",
    "activation",
    "rate",
    "filters",
    "kernel_size",
    "strides",
    "pool_size",
    "padding",
    "num_heads",
    "key_dim",
    "input_dim",
    "output_dim",
    "return_sequences",
)
"""Layer settings recorded as ``<layer name>__<setting>`` parameters."""


def matches(key: str, head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC) and suffix_of(key) == ".keras"


def read(guard: SourceGuard, head: bytes) -> ModelFacts:
    archive = open_archive(guard)
    names = set(archive.namelist())
    if "config.json" not in names:
        raise Unreadable("not a Keras archive: no config.json")
    config = _json(read_member(archive, "config.json", MAX_JSON_BYTES), "config.json")
    metadata: dict[str, Any] = {}
    if "metadata.json" in names:
        metadata = _json(read_member(archive, "metadata.json", 1024**2), "metadata.json")
    inner = _object(config.get("config"))
    found_layers = inner.get("layers")
    layers: list[Any] = found_layers if isinstance(found_layers, list) else []
    kinds: Counter[str] = Counter(
        str(layer.get("class_name")) for layer in layers if isinstance(layer, dict)
    )
    parametros: dict[str, Any] = {
        "model_class": _class(config),
        "name": inner.get("name") if isinstance(inner.get("name"), str) else None,
        "num_layers": len(layers),
        "keras_version": metadata.get("keras_version"),
    }
    parametros.update(_compile(config.get("compile_config")))
    listed = [_layer(layer) for layer in layers[:MAX_LISTED_LAYERS] if isinstance(layer, dict)]
    for layer in listed:
        for key, value in layer["settings"].items():
            parametros[f"{layer['name']}__{key}"] = value
    details = {
        "metadata": {k: v for k, v in metadata.items() if is_scalar(v)},
        "layers": listed,
        "layer_classes": dict(kinds),
        "weights_file": "model.weights.h5" in names,
    }
    return ModelFacts(FORMAT, parametros, details)


def _json(data: bytes, name: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"{name} is not valid JSON: {one_line(str(exc))}") from None
    if not isinstance(document, dict):
        raise Unreadable(f"{name} is not a JSON object")
    return document


def _layer(layer: dict[str, Any]) -> dict[str, Any]:
    settings = _object(layer.get("config"))
    kept: dict[str, Any] = {}
    for key in LAYER_SETTINGS:
        value = settings.get(key)
        if is_scalar(value) and value is not None:
            kept[key] = clip(value) if isinstance(value, str) else value
        elif isinstance(value, list) and all(isinstance(n, int) for n in value):
            kept[key] = value[:8]
    return {"class": layer.get("class_name"), "name": settings.get("name"), "settings": kept}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _class(config: dict[str, Any]) -> str | None:
    module, name = config.get("module"), config.get("class_name")
    if isinstance(module, str) and isinstance(name, str):
        return f"{module}.{name}"
    return name if isinstance(name, str) else None


def _compile(compile_config: Any) -> dict[str, Any]:
    """Optimizer, its scalar settings, loss and metrics from ``compile_config``."""
    if not isinstance(compile_config, dict):
        return {}
    found: dict[str, Any] = {}
    optimizer = compile_config.get("optimizer")
    if isinstance(optimizer, dict):
        found["optimizer"] = optimizer.get("class_name")
        for key, value in _object(optimizer.get("config")).items():
            if is_scalar(value) and key != "name":
                found[f"optimizer__{key}"] = clip(value) if isinstance(value, str) else value
    elif isinstance(optimizer, str):
        found["optimizer"] = optimizer
    loss = compile_config.get("loss")
    if isinstance(loss, (str, dict)):
        found["loss"] = loss if isinstance(loss, str) else loss.get("class_name")
    metrics = compile_config.get("metrics")
    if isinstance(metrics, list):
        found["metrics"] = [m if isinstance(m, str) else str(m) for m in metrics[:20]]
    return found
