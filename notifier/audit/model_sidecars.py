"""Sidecars merged into model rows in the database, whichever was recorded first.

A model inspected after its sidecar already read it (``notifier.inspection.models.
sidecars``); this module covers the other orders, in the transaction that writes the
row: a sidecar recorded after its model updates the model rows it describes, and a
model recorded while its sidecar was being recorded picks up the sidecar's row. An
advisory lock per (bucket, prefix) makes the two transactions see each other.
Queries: ``notifier/queries/models.sql``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from notifier.audit.storable import storable_json, storable_optional
from notifier.db import query
from notifier.inspection import Inspection
from notifier.inspection.models import CARD_FORMAT
from notifier.inspection.models.keys import prefix_of, stem_of


def sidecar_lock_prefix(provenance: Mapping[str, Any], inspection: Inspection) -> str | None:
    """The prefix whose lock (``lock_model_prefix``) merging a training row takes; None
    for a model card that names no model (it merges nothing)."""
    target = inspection.details.get("sidecar_of")
    if isinstance(target, Mapping) and isinstance(inspection.details.get("sidecar"), Mapping):
        return str(target.get("prefix") or "")
    if inspection.format == CARD_FORMAT:
        return None
    return prefix_of(provenance["object_key"])


def merge_sidecars(
    conn: psycopg.Connection[Any],
    provenance: Mapping[str, Any],
    inspection: Inspection,
    *,
    locked: bool = False,
) -> int:
    """Merge after writing a training row; returns how many model rows were updated.

    ``locked``: the caller already holds the prefix's lock (``sidecar_lock_prefix``).
    """
    bucket, key = provenance["bucket"], provenance["object_key"]
    details = inspection.details
    target, facts = details.get("sidecar_of"), details.get("sidecar")
    prefix = sidecar_lock_prefix(provenance, inspection)
    if prefix is None:
        return 0
    if not locked:
        _lock(conn, bucket, prefix)
    if isinstance(target, Mapping) and isinstance(facts, Mapping):
        return _merge(conn, bucket, prefix, target.get("stem"), key, facts, None)
    already = set(details.get("sidecars") or ())
    recorded = conn.execute(
        query("recorded_sidecars"),
        {"bucket": bucket, "prefix": prefix, "prefix_pattern": like_prefix(prefix)},
    ).fetchall()
    updated = 0
    # Prefix-wide sidecars first, so that one named after the model has the last word.
    for sidecar_key, sidecar_facts, stem in sorted(recorded, key=lambda row: row[2] is not None):
        if sidecar_key in already or (stem is not None and stem != stem_of(key)):
            continue
        updated += _merge(
            conn, bucket, prefix, stem, sidecar_key, sidecar_facts, provenance["intake_event_id"]
        )
    return updated


def _lock(conn: psycopg.Connection[Any], bucket: str, prefix: str) -> None:
    conn.execute(query("lock_model_prefix"), {"bucket": bucket, "prefix": prefix})


def _merge(
    conn: psycopg.Connection[Any],
    bucket: str,
    prefix: str,
    stem: Any,
    sidecar_key: str,
    facts: Mapping[str, Any],
    model_event_id: int | None,
) -> int:
    # Facts come from an uploaded file: through the storable boundary, like every row.
    facts = storable_json(dict(facts))
    dataset = facts.get("dataset")
    params = {
        "bucket": bucket,
        "prefix": prefix,
        "prefix_pattern": like_prefix(prefix),
        "stem": storable_optional(stem) if isinstance(stem, str) else None,
        "sidecar_key": sidecar_key,
        "parametros": Jsonb(dict(facts.get("parametros") or {})),
        "dataset": dataset if isinstance(dataset, str) else None,
        "num_registros": facts.get("num_registros"),
        "model_event_id": model_event_id,
    }
    return conn.execute(query("merge_sidecar"), params).rowcount


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching keys that start with ``prefix`` (wildcards escaped)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
