"""MLflow model directories: the ``MLmodel`` file (YAML).

Fields (MLflow docs, "Storage Format"): ``artifact_path``, ``flavors`` (per flavor:
``loader_module``, ``python_version``, ``sklearn_version``, ``pickled_model``...),
``model_uuid``, ``run_id``, ``signature`` (``inputs``/``outputs`` as JSON strings of
``[{"name", "type"}]``), ``utc_time_created``, ``mlflow_version``. A model directory
arrives as several objects; the ``MLmodel`` object's row carries these facts
(``run_id`` also fills the row's ``run_id`` column), the model file next to it gets its
own row from its own format. A signature does not state the training-set size.
"""

from __future__ import annotations

import json
from typing import Any, Final

import yaml

from notifier.inspection.base import one_line
from notifier.inspection.errors import Unreadable
from notifier.inspection.fields import clip
from notifier.inspection.guard import SourceGuard
from notifier.inspection.models.facts import ModelFacts
from notifier.inspection.models.keys import file_name
from notifier.inspection.streams import read_document

FORMAT: Final = "mlflow"
FILE_NAME: Final = "MLmodel"
MAX_MLMODEL_BYTES: Final = 4 * 1024**2
FLAVOR_FIELDS: Final = (
    "loader_module",
    "python_version",
    "sklearn_version",
    "xgb_version",
    "lgb_version",
    "pytorch_version",
    "keras_version",
    "serialization_format",
)


def matches(key: str, head: bytes) -> bool:
    return file_name(key) == FILE_NAME


def read(guard: SourceGuard, head: bytes) -> ModelFacts:
    text = read_document(guard, MAX_MLMODEL_BYTES, "MLmodel file")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Unreadable(f"MLmodel is not valid YAML: {one_line(str(exc))}") from None
    if not isinstance(document, dict) or not isinstance(document.get("flavors"), dict):
        raise Unreadable("not an MLmodel file: no flavors")
    flavors: dict[str, Any] = document["flavors"]
    parametros: dict[str, Any] = {"flavors": sorted(str(name) for name in flavors)}
    for flavor in flavors.values():
        if isinstance(flavor, dict):
            for field in FLAVOR_FIELDS:
                if isinstance(flavor.get(field), (str, int, float)):
                    parametros.setdefault(field, clip(str(flavor[field])))
    for field in ("run_id", "model_uuid", "mlflow_version", "artifact_path", "utc_time_created"):
        if document.get(field) is not None:
            parametros[field] = clip(str(document[field]))
    found = document.get("signature")
    signature: dict[str, Any] = found if isinstance(found, dict) else {}
    inputs, outputs = _schema(signature.get("inputs")), _schema(signature.get("outputs"))
    if inputs is not None:
        parametros["num_inputs"] = len(inputs)
    details: dict[str, Any] = {
        "flavors": {str(name): _plain(flavor) for name, flavor in flavors.items()},
        "signature": {"inputs": inputs, "outputs": outputs},
    }
    if isinstance(document.get("run_id"), str):
        details["run_id"] = document["run_id"]
    return ModelFacts(FORMAT, parametros, details)


def _schema(value: Any) -> list[dict[str, Any]] | None:
    if not isinstance(value, str):
        return None
    try:
        columns = json.loads(value)
    except ValueError:
        return None
    if not isinstance(columns, list):
        return None
    return [
        {"name": column.get("name"), "type": column.get("type")}
        for column in columns[:1000]
        if isinstance(column, dict)
    ]


def _plain(flavor: Any) -> Any:
    if not isinstance(flavor, dict):
        return None
    return {
        str(key): clip(str(value)) if not isinstance(value, (bool, int, float)) else value
        for key, value in flavor.items()
        if not isinstance(value, (dict, list))
    }
