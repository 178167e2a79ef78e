"""Model cards and sidecars: small JSON or YAML documents of parameters written next to
a model (``rf.json``, ``rf.yaml``, ``model_card.json``, ``params.json``,
``metadata.json``) or uploaded on their own.

Top-level scalars and the objects ``params``/``parameters``/``hyperparameters`` become
parameters (nested objects win a name clash: they are the more specific source);
``dataset``-like fields name the training dataset and ``num_records``-like fields state
the training-set size. YAML is read with ``yaml.safe_load``, which builds only plain
data (no Python objects).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import yaml

from notifier.inspection.base import one_line
from notifier.inspection.fields import (
    RECORD_COUNT_FIELDS,
    as_count,
    as_name,
    find,
    is_scalar,
    parameter_value,
)

DATASET_FIELDS: Final = ("dataset", "nombre_dataset", "training_dataset", "source_dataset")
"""Fields naming the dataset a model was trained on, for lineage."""

PARAMETER_OBJECTS: Final = ("params", "parameters", "hyperparameters")
"""Nested card objects whose fields are hyperparameters."""

YAML_SUFFIXES: Final = (".yaml", ".yml")


@dataclass(frozen=True)
class Card:
    """What a card states: parameters, the dataset's name, the training-set size."""

    parametros: Mapping[str, Any] = field(default_factory=dict)
    dataset: str | None = None
    num_registros: int | None = None


class CardError(ValueError):
    """The document is not a card (invalid JSON/YAML, or not an object)."""


def parse_card(data: bytes, yaml_syntax: bool) -> Card:
    """Parse a card's bytes; raises CardError saying why it is not one."""
    try:
        document = yaml.safe_load(data) if yaml_syntax else json.loads(data)
    except yaml.YAMLError as exc:
        raise CardError(f"model card is not valid YAML: {one_line(str(exc))}") from None
    except (ValueError, RecursionError) as exc:
        raise CardError(f"model card is not valid JSON: {one_line(str(exc))}") from None
    if not isinstance(document, dict):
        kind = "YAML" if yaml_syntax else "JSON"
        name = "list" if isinstance(document, list) else type(document).__name__
        raise CardError(f"model card is a {kind} {name}, not an object")
    return card_of(document)


def card_of(document: Mapping[str, Any]) -> Card:
    merged = kept({key: value for key, value in document.items() if is_scalar(value)})
    for nested in (document.get(name) for name in PARAMETER_OBJECTS):
        if isinstance(nested, dict):
            merged.update(kept(nested))
    return Card(
        merged,
        as_name(find(document, DATASET_FIELDS)),
        as_count(find(document, RECORD_COUNT_FIELDS)),
    )


def stated(fields: Mapping[str, Any]) -> tuple[str | None, int | None]:
    """(dataset name, training records) when key-value fields state them."""
    return as_name(find(fields, DATASET_FIELDS)), as_count(find(fields, RECORD_COUNT_FIELDS))


def kept(fields: Mapping[Any, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in fields.items():
        keep, safe = parameter_value(value)
        if keep:
            result[str(key)] = safe
    return result
