"""Audit storage: the phase tables' rows, written in the same transaction as the claim.

Every row passes the storable boundary (:mod:`notifier.audit.storable`) and, once
written, the current state of its key is derived again from every event about it
(:mod:`notifier.audit.versions`), so ``deleted_at`` and ``is_current`` never depend on
the order in which events were processed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from notifier.audit.model_sidecars import merge_sidecars
from notifier.audit.removals import RemovalEffect, removal_effect
from notifier.audit.storable import (
    MAX_NAME_CHARS,
    storable_json,
    storable_optional,
    storable_text,
)
from notifier.audit.transient import is_transient
from notifier.audit.versions import Removal, VersionRow, derive_states
from notifier.db import query
from notifier.errors import NotifierError
from notifier.inspection import Inspection
from notifier.phases import Phase

INSERT_QUERY = {
    Phase.INGESTION: "insert_ingestion_row",
    Phase.TRANSFORMATION: "insert_transformation_row",
    Phase.TRAINING: "insert_training_row",
    Phase.EVALUATION: "insert_evaluation_row",
}

UNSTORABLE_REASON_PREFIX: Final = "audit row could not be stored"

KEY_FIELDS: Final = ("file_name", "uri", "object_key")
"""Provenance naming the object: made storable but never cut (see storable_text)."""

TEXT_FIELDS: Final = ("bucket", "etag", "version_id", "content_type", "event_name", "origin")


class UnstorableRow(NotifierError):
    """PostgreSQL refused a row for what it holds; the caller writes an error row instead."""


@dataclass(frozen=True)
class RemovalOutcome:
    effect: RemovalEffect
    changed: int
    """Rows of the key whose ``deleted_at`` or ``is_current`` changed."""

    @property
    def note(self) -> str:
        if self.effect is RemovalEffect.NOTHING:
            return "nothing was removed (no-op removal); no audit row changed"
        return f"{self.effect.value}: {self.changed} audit row(s) changed"


def insert_row(
    conn: psycopg.Connection[Any],
    phase: Phase,
    provenance: Mapping[str, Any],
    inspection: Inspection,
) -> bool:
    """Write the audit row of one event; False when that event already has its row.

    Raises UnstorableRow when PostgreSQL refuses the row despite the storable
    boundary (the transaction is then to be rolled back).
    """
    params = row_params(provenance, inspection)
    try:
        inserted = conn.execute(query(INSERT_QUERY[phase]), params).rowcount == 1
        if inserted and phase is Phase.TRAINING:
            merge_sidecars(conn, provenance, inspection)
    except (psycopg.DataError, psycopg.errors.ProgramLimitExceeded, ValueError) as exc:
        raise UnstorableRow(f"{type(exc).__name__}: {exc}") from exc
    if inserted:
        refresh_object(conn, phase, bucket=params["bucket"], key=params["object_key"])
    return inserted


def row_params(provenance: Mapping[str, Any], inspection: Inspection) -> dict[str, Any]:
    """The insert's parameters, every text derived from the object made storable."""
    details: dict[str, Any] = storable_json(dict(inspection.details))
    if is_transient(inspection.estado, inspection.reason):
        details["transient"] = True
    params = {
        **provenance,
        **{name: storable_text(provenance[name], None) for name in KEY_FIELDS},
        **{name: storable_optional(provenance.get(name)) for name in TEXT_FIELDS},
        "num_registros": inspection.num_registros,
        "estado": inspection.estado,
        "reason": storable_optional(inspection.reason),
        "format": storable_optional(inspection.format, MAX_NAME_CHARS),
        "details": Jsonb(details),
        "parametros": Jsonb(details.get("parametros") or {}),
        "metrics": Jsonb(details.get("metrics") or {}),
        "modelo_nombre": _detail_text(details, "modelo_nombre"),
        "nombre_dataset": _detail_text(details, "nombre_dataset"),
        "run_id": _detail_text(details, "run_id"),
    }
    return params


def unstorable(inspection: Inspection, cause: UnstorableRow) -> Inspection:
    """The error row written, at once, in place of a row PostgreSQL refused."""
    reason = f"{UNSTORABLE_REASON_PREFIX} ({inspection.estado}): {cause}"
    return Inspection.error(inspection.format, storable_text(" ".join(reason.split())))


def record_removal(
    conn: psycopg.Connection[Any],
    phase: Phase,
    *,
    bucket: str,
    key: str,
    event_name: str,
    version_id: str | None,
    intake_event_id: int,
) -> RemovalOutcome:
    """Apply one removal event (not yet marked done) to the rows of its key."""
    effect = removal_effect(event_name, version_id)
    changed = refresh_object(conn, phase, bucket=bucket, key=key, removal_id=intake_event_id)
    return RemovalOutcome(effect, changed)


def refresh_object(
    conn: psycopg.Connection[Any],
    phase: Phase,
    *,
    bucket: str,
    key: str,
    removal_id: int | None = None,
) -> int:
    """Derive ``deleted_at`` and ``is_current`` of every row of one key from its events.

    Holds a transaction-scoped advisory lock on the key, so two workers recording
    events of one key do so one after the other and the second sees the first's rows.
    ``removal_id`` is a removal event being recorded in this transaction (not yet
    'done'). Returns how many rows changed.
    """
    table = sql.Identifier(phase.value)
    where = {"bucket": bucket, "object_key": key}
    conn.execute(query("lock_object"), where)
    cursor = conn.cursor(row_factory=dict_row)
    rows = [
        VersionRow(
            row_id=row["id"],
            version_id=row["version_id"],
            etag=row["etag"],
            event_time=row["event_time"],
            sequencer=row["sequencer"],
            intake_event_id=row["intake_event_id"],
            estado=row["estado"],
            transient_error=is_transient(row["estado"], row["reason"]),
        )
        for row in cursor.execute(sql.SQL(query("object_rows")).format(table=table), where)
    ]
    removals = [
        Removal(
            effect=removal_effect(row["event_name"], row["version_id"]),
            version_id=row["version_id"],
            event_time=row["event_time"],
            sequencer=row["sequencer"],
            intake_event_id=row["id"],
        )
        for row in cursor.execute(query("object_removals"), {**where, "removal_id": removal_id})
    ]
    states = derive_states(rows, removals)
    if not states:
        return 0
    ids = list(states)
    cursor = conn.execute(
        sql.SQL(query("set_object_states")).format(table=table),
        {
            "ids": ids,
            "deleted_at": [states[i].deleted_at for i in ids],
            "is_current": [states[i].is_current for i in ids],
        },
    )
    return cursor.rowcount


def last_failure(conn: psycopg.Connection[Any], intake_event_id: int) -> str | None:
    """The cause of the event's last failed attempt, as noted when it was postponed."""
    row = conn.execute(query("event_note"), {"id": intake_event_id}).fetchone()
    note: str | None = row[0] if row else None
    if not note or not note.startswith("attempt "):
        return None
    return note.split(": ", 1)[1] if ": " in note else None


def _detail_text(details: Mapping[str, Any], name: str) -> str | None:
    value = details.get(name)
    return None if value is None else storable_text(str(value))


__all__ = [
    "RemovalOutcome",
    "UnstorableRow",
    "insert_row",
    "last_failure",
    "record_removal",
    "refresh_object",
    "row_params",
    "unstorable",
]
