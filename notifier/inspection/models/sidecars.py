"""Sidecars: parameter documents stored next to a model, merged into the model's row.

For a model ``<prefix><stem>.<ext>`` these keys are sidecars, most specific first:
``<prefix><stem>.json``, ``<prefix><stem>.yaml``, ``<prefix><stem>.yml``, then
``<prefix>model_card.json``, ``<prefix>params.json``, ``<prefix>metadata.json``.

Whichever arrives first, the model's row gets the sidecar's facts: a model inspected
after its sidecar reads the sidecar here (one bounded GET per sidecar found; a sibling
that does not exist costs one HEAD); a sidecar recorded after its model updates the
model's row (query ``merge_sidecar`` in ``notifier/queries/models.sql``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

from notifier.inspection.guard import SourceGuard
from notifier.inspection.models.card import YAML_SUFFIXES, Card, CardError, parse_card
from notifier.inspection.models.keys import file_name, prefix_of, stem_of, suffix_of
from notifier.inspection.source import ObjectSource

logger = logging.getLogger(__name__)

STEM_SUFFIXES: Final = (".json", ".yaml", ".yml")
"""A sidecar with the model's stem: ``rf.joblib`` -> ``rf.json``, ``rf.yaml``, ``rf.yml``."""

PREFIX_NAMES: Final = ("model_card.json", "params.json", "metadata.json")
"""Sidecars that describe every model in their prefix."""

MAX_SIDECAR_BYTES: Final = 1024**2
"""Largest sidecar read; a larger one is noted in details and not read."""


@runtime_checkable
class SiblingSource(Protocol):
    """An ObjectSource that can open another object of its bucket (None when absent)."""

    def sibling(self, key: str) -> ObjectSource | None: ...


@dataclass(frozen=True)
class SidecarTarget:
    """The models a sidecar describes: keys ``prefix`` + (``stem`` + ``.*`` if stem)."""

    prefix: str
    stem: str | None


def sidecar_keys(model_key: str) -> list[str]:
    prefix, stem = prefix_of(model_key), stem_of(model_key)
    keys = [f"{prefix}{stem}{suffix}" for suffix in STEM_SUFFIXES]
    keys += [f"{prefix}{name}" for name in PREFIX_NAMES]
    return [key for key in keys if key != model_key]


def target_of(sidecar_key: str) -> SidecarTarget | None:
    """Which models a document at ``sidecar_key`` would be a sidecar of."""
    name = file_name(sidecar_key)
    if name in PREFIX_NAMES:
        return SidecarTarget(prefix_of(sidecar_key), None)
    if suffix_of(sidecar_key) in STEM_SUFFIXES:
        return SidecarTarget(prefix_of(sidecar_key), stem_of(sidecar_key))
    return None


@dataclass(frozen=True)
class Sidecars:
    """Sidecars found for one model, merged most-specific-first."""

    card: Card
    keys: tuple[str, ...]
    errors: Mapping[str, str]


def read_sidecars(guard: SourceGuard) -> Sidecars:
    """The sidecars next to the guarded object, merged; empty when the source cannot
    reach siblings. A store failure propagates (the event is retried)."""
    source = guard.source
    if not isinstance(source, SiblingSource):
        return Sidecars(Card(), (), {})
    found: list[tuple[str, Card]] = []
    errors: dict[str, str] = {}
    for key in sidecar_keys(source.key):
        outcome = _read_one(guard, source, key)
        if isinstance(outcome, Card):
            found.append((key, outcome))
        elif outcome is not None:
            errors[key] = outcome
    return Sidecars(_merged([card for _, card in found]), tuple(k for k, _ in found), errors)


def _read_one(guard: SourceGuard, source: SiblingSource, key: str) -> Card | str | None:
    guard.check_deadline()
    sibling = guard.call(lambda: source.sibling(key))
    if sibling is None:
        return None
    size = sibling.size
    if size is not None and size > MAX_SIDECAR_BYTES:
        return f"sidecar is larger than {MAX_SIDECAR_BYTES} bytes; not read"
    length = MAX_SIDECAR_BYTES + 1 if size is None else size
    data = guard.call(lambda: sibling.read_range(0, length)) if length else b""
    if len(data) > MAX_SIDECAR_BYTES:
        return f"sidecar is larger than {MAX_SIDECAR_BYTES} bytes; not read"
    try:
        return parse_card(data, suffix_of(key) in YAML_SUFFIXES)
    except CardError as exc:
        return str(exc)


def _merged(cards: list[Card]) -> Card:
    """Earlier (more specific) cards win a clash."""
    parametros: dict[str, Any] = {}
    dataset: str | None = None
    records: int | None = None
    for card in reversed(cards):
        parametros.update(card.parametros)
        dataset = card.dataset or dataset
        records = card.num_registros if card.num_registros is not None else records
    return Card(parametros, dataset, records)
