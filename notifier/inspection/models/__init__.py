"""Training artifacts: record what the object says about itself, cheaply.

A model file is never loaded, unpickled or executed; only its metadata is read and,
for a ``.json`` model card, the card itself (size-capped, parsed as plain JSON).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from notifier.inspection.base import Inspection, one_line
from notifier.inspection.datasets.formats import has_suffix
from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.fields import (
    RECORD_COUNT_FIELDS,
    as_count,
    as_name,
    find,
    is_scalar,
    metadata_value,
    parameter_value,
)
from notifier.inspection.guard import SourceGuard
from notifier.inspection.streams import read_document

FORMAT: Final = "model"

DATASET_FIELDS: Final = ("dataset", "nombre_dataset", "training_dataset", "source_dataset")
"""Fields naming the dataset a model was trained on, for lineage."""

PARAMETER_OBJECTS: Final = ("params", "parameters", "hyperparameters")
"""Nested card objects whose fields are hyperparameters."""

MAX_PARAMETERS: Final = 200
"""Parameters kept per model; a card with more is recorded with a truncation flag."""


def inspect_model(guard: SourceGuard) -> Inspection:
    source = guard.source
    metadata = {key: metadata_value(value) for key, value in source.user_metadata.items()}
    card, card_error = _read_card(guard) if has_suffix(source.key, ".json") else (None, None)
    parametros, truncated = _parameters(metadata, card)
    details: dict[str, Any] = {"parametros": parametros}
    if truncated:
        details["parametros_truncated"] = True
    dataset = as_name(find(card, DATASET_FIELDS)) or as_name(find(metadata, DATASET_FIELDS))
    if dataset is not None:
        details["dataset"] = dataset
    if card is not None:
        details["model_card"] = True
    if card_error is not None:
        details["model_card_error"] = card_error
    records = as_count(find(card, RECORD_COUNT_FIELDS))
    if records is None:
        records = as_count(find(metadata, RECORD_COUNT_FIELDS))
    return Inspection.ok(FORMAT, records, details)


def _read_card(guard: SourceGuard) -> tuple[dict[str, Any] | None, str | None]:
    """The card as a JSON object, or why it is not one (the model row is still ok)."""
    try:
        text = read_document(guard, guard.limits.max_json_document_bytes, "model card")
        card = json.loads(text)
    except (Unreadable, NotInspected) as exc:
        return None, exc.reason
    except (ValueError, RecursionError) as exc:
        return None, f"model card is not valid JSON: {one_line(str(exc))}"
    if not isinstance(card, dict):
        return None, f"model card is a JSON {type(card).__name__}, not an object"
    return card, None


def _parameters(
    metadata: Mapping[str, Any], card: Mapping[str, Any] | None
) -> tuple[dict[str, Any], bool]:
    """Metadata, then the card's top-level scalars, then its nested parameter objects:
    the more specific source wins a name clash."""
    merged: dict[str, Any] = dict(metadata)
    if card is not None:
        merged.update(_kept({key: value for key, value in card.items() if is_scalar(value)}))
        for nested in (card.get(name) for name in PARAMETER_OBJECTS):
            if isinstance(nested, dict):
                merged.update(_kept(nested))
    if len(merged) <= MAX_PARAMETERS:
        return merged, False
    return dict(list(merged.items())[:MAX_PARAMETERS]), True


def _kept(fields: Mapping[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in fields.items():
        keep, safe = parameter_value(value)
        if keep:
            kept[key] = safe
    return kept
