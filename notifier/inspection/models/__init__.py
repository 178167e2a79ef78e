"""Training artifacts: what a model file says about itself, read without loading it.

Each format has its own reader (:mod:`registry`); none imports, unpickles or executes
the artifact. The facts of a training row come from, strongest first
(:data:`facts.SOURCES_BY_PRECEDENCE`):

1. the object's user metadata (``x-amz-meta-*``);
2. a sidecar next to the artifact (:mod:`sidecars`);
3. the artifact's own content;
4. key-path templates (module ``notifier.inspection.paths``, applied elsewhere).

``details["sources"]`` records, per parameter (and for ``dataset`` and
``num_registros``), which source supplied the value kept. ``num_registros`` is the
training-set size, only when a source states it; it is never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from notifier.inspection.base import Inspection
from notifier.inspection.errors import InspectionStop, NotInspected, Unreadable
from notifier.inspection.fields import RECORD_COUNT_FIELDS, as_count, as_name, find, metadata_value
from notifier.inspection.guard import SourceGuard
from notifier.inspection.models import registry
from notifier.inspection.models.card import (
    DATASET_FIELDS,
    YAML_SUFFIXES,
    Card,
    CardError,
    parse_card,
)
from notifier.inspection.models.facts import ARTIFACT, METADATA, SIDECAR, ModelFacts
from notifier.inspection.models.keys import suffix_of
from notifier.inspection.models.sidecars import Sidecars, read_sidecars, target_of
from notifier.inspection.streams import read_document

__all__ = ["CARD_FORMAT", "MAX_PARAMETERS", "inspect_model"]

CARD_FORMAT: Final = "model_card"
CARD_SUFFIXES: Final = (".json", *YAML_SUFFIXES)

MAX_PARAMETERS: Final = 200
"""Parameters kept per model; a row with more is recorded with a truncation flag."""


def inspect_model(guard: SourceGuard) -> Inspection:
    source = guard.source
    metadata = _metadata_card(source.user_metadata)
    head = _head(guard)
    fmt = registry.detect(source.key, head)
    if fmt is None and suffix_of(source.key) in CARD_SUFFIXES:
        return _inspect_card(guard, metadata)
    if fmt is None:
        reason = "not a recognised model format (see the README's table of model formats)"
        return _verdict(metadata, read_sidecars(guard), None, None, NotInspected(reason))
    artifact: ModelFacts | None = None
    stop: InspectionStop | None = None
    try:
        artifact = fmt.read(guard, head)
    except InspectionStop as exc:
        if guard.halted:
            raise
        stop = exc
    sidecars = read_sidecars(guard)
    return _verdict(metadata, sidecars, artifact, fmt.name, stop)


def _head(guard: SourceGuard) -> bytes:
    size = guard.source.size
    length = registry.HEAD_BYTES if size is None else min(size, registry.HEAD_BYTES)
    if length <= 0:
        return b""
    if size is None:
        with guard.open_stream(registry.HEAD_BYTES) as stream:
            return stream.read(registry.HEAD_BYTES)
    return guard.read_range(0, length)


def _metadata_card(user_metadata: Mapping[str, str]) -> Card:
    values = {key: metadata_value(value) for key, value in user_metadata.items()}
    return Card(
        values, as_name(find(values, DATASET_FIELDS)), as_count(find(values, RECORD_COUNT_FIELDS))
    )


def _inspect_card(guard: SourceGuard, metadata: Card) -> Inspection:
    """A card or sidecar uploaded as its own object: its own row, plus (for the SQL
    merge into models recorded earlier) the models it describes."""
    key = guard.source.key
    extra: dict[str, Any] = {}
    card: Card | None = None
    try:
        data = read_document(guard, guard.limits.max_json_document_bytes, "model card")
        card = parse_card(data, suffix_of(key) in YAML_SUFFIXES)
    except (Unreadable, NotInspected) as exc:
        if guard.halted:
            raise
        extra["model_card_error"] = exc.reason
    except CardError as exc:
        extra["model_card_error"] = str(exc)
    layers = [(SIDECAR, card)] if card is not None else []
    verdict = _merge([*layers, (METADATA, metadata)], CARD_FORMAT)
    details = dict(verdict.details)
    details.update(extra)
    if card is not None:
        details["model_card"] = True
        target = target_of(key)
        if target is not None:
            details["sidecar_of"] = {"prefix": target.prefix, "stem": target.stem}
            details["sidecar"] = {
                "parametros": dict(card.parametros),
                "dataset": card.dataset,
                "num_registros": card.num_registros,
            }
    return Inspection.ok(CARD_FORMAT, verdict.num_registros, details)


def _verdict(
    metadata: Card,
    sidecars: Sidecars | None,
    artifact: ModelFacts | None,
    format: str | None,
    stop: InspectionStop | None,
) -> Inspection:
    layers: list[tuple[str, Card | None]] = []
    if artifact is not None:
        layers.append(
            (ARTIFACT, Card(artifact.parametros, artifact.dataset, artifact.num_registros))
        )
    if sidecars is not None:
        layers.append((SIDECAR, sidecars.card if sidecars.keys else None))
    layers.append((METADATA, metadata))
    merged = _merge(layers, artifact.format if artifact else format)
    details = dict(merged.details)
    if artifact is not None:
        details["artifact"] = dict(artifact.details)
        run_id = artifact.details.get("run_id")
        if isinstance(run_id, str):
            details["run_id"] = run_id  # fills the row's run_id column (MLmodel)
    if sidecars is not None and sidecars.keys:
        details["sidecars"] = list(sidecars.keys)
    if sidecars is not None and sidecars.errors:
        details["sidecar_errors"] = dict(sidecars.errors)
    name = artifact.format if artifact else format
    if stop is not None:
        # Counts stated by metadata or a sidecar stand even when the file is unreadable.
        return Inspection(stop.estado, merged.num_registros, stop.reason, name, details)
    return Inspection.ok(name or CARD_FORMAT, merged.num_registros, details)


def _merge(layers: list[tuple[str, Card | None]], format: str | None) -> Inspection:
    """Weakest layer first; each later layer overrides. ``details.sources`` says who won."""
    parametros: dict[str, Any] = {}
    sources: dict[str, str] = {}
    dataset: str | None = None
    records: int | None = None
    for source, card in layers:
        if card is None:
            continue
        for key, value in card.parametros.items():
            parametros[key] = value
            sources[key] = source
        if card.dataset is not None:
            dataset, sources["dataset"] = card.dataset, source
        if card.num_registros is not None:
            records, sources["num_registros"] = card.num_registros, source
    details: dict[str, Any] = {"parametros": parametros}
    if len(parametros) > MAX_PARAMETERS:
        details["parametros"] = dict(list(parametros.items())[:MAX_PARAMETERS])
        details["parametros_truncated"] = True
        dropped = parametros.keys() - details["parametros"].keys()
        sources = {key: value for key, value in sources.items() if key not in dropped}
    details["sources"] = sources
    if dataset is not None:
        details["dataset"] = dataset
    return Inspection.ok(format or CARD_FORMAT, records, details)
