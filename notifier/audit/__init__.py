"""Audit storage: the phase tables' rows, written in the same transaction as the claim.

A worker's batch is recorded set-based (:func:`record_batch`): its keys locked in one
statement, its rows inserted with one statement per phase, then the current state of
every key it touched derived again from every event about that key
(:mod:`notifier.audit.versions`) with one read of rows, one of removals and one update
of what changed, so ``deleted_at`` and ``is_current`` never depend on the order in
which events were processed. Every row passes the storable boundary
(:mod:`notifier.audit.storable`) first.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from notifier.audit.model_sidecars import merge_sidecars, sidecar_lock_prefix
from notifier.audit.removals import RemovalEffect, removal_effect
from notifier.audit.storable import (
    MAX_NAME_CHARS,
    storable_json,
    storable_optional,
    storable_text,
)
from notifier.audit.transient import is_transient
from notifier.audit.versions import Removal, RowState, VersionRow, derive_states
from notifier.db import query
from notifier.errors import NotifierError
from notifier.inspection import Inspection
from notifier.phases import Phase

logger = logging.getLogger(__name__)

INSERT_QUERY = {
    Phase.INGESTION: "insert_ingestion_row",
    Phase.TRANSFORMATION: "insert_transformation_row",
    Phase.TRAINING: "insert_training_row",
    Phase.EVALUATION: "insert_evaluation_row",
}

INSERT_ROWS_QUERY = {
    Phase.INGESTION: "insert_ingestion_rows",
    Phase.TRANSFORMATION: "insert_transformation_rows",
    Phase.TRAINING: "insert_training_rows",
    Phase.EVALUATION: "insert_evaluation_rows",
}

ROW_COLUMNS: Final = (
    "event_time", "file_name", "uri", "num_registros", "estado", "reason", "format",
    "details", "parametros", "metrics", "bucket", "object_key", "etag", "version_id",
    "size_bytes", "content_type", "event_name", "origin", "intake_event_id",
    "modelo_nombre", "nombre_dataset", "run_id", "principal_id", "source_ip", "request_id",
)  # fmt: skip
"""The arrays of an ``insert_*_rows`` query: one per column of ``row_params``."""

ObjectKey = tuple[Phase, str, str]
"""(phase, bucket, object key): the rows one derivation of the current state covers."""

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


@dataclass(frozen=True)
class PendingRow:
    """An event's audit row, to be written by :func:`record_batch`."""

    phase: Phase
    provenance: Mapping[str, Any]
    inspection: Inspection

    @property
    def intake_event_id(self) -> int:
        return int(self.provenance["intake_event_id"])

    def key(self) -> ObjectKey:
        return (self.phase, self.provenance["bucket"], self.provenance["object_key"])


@dataclass(frozen=True)
class PendingRemoval:
    """A removal event (already marked done in this transaction) to apply to its key."""

    phase: Phase
    bucket: str
    key: str
    event_name: str
    version_id: str | None
    intake_event_id: int

    def object_key(self) -> ObjectKey:
        return (self.phase, self.bucket, self.key)


@dataclass(frozen=True)
class BatchOutcome:
    written: dict[int, Inspection]
    """Per event given a row now: the inspection written (an error row in place of a row
    PostgreSQL refused). Events whose row already existed are absent."""
    removals: dict[int, RemovalOutcome]
    """Per removal event: what it did."""


def record_batch(
    conn: psycopg.Connection[Any],
    rows: Sequence[PendingRow],
    removals: Sequence[PendingRemoval] = (),
) -> BatchOutcome:
    """Write a batch's audit rows and apply its removals, in the caller's transaction.

    One statement locks every key (and model prefix) involved, in one order; one inserts
    the rows of each phase (one by one, each in a savepoint, only when PostgreSQL
    refuses the batch: a refused row becomes an error row at once); then the state of
    every key touched is derived again (:func:`refresh_objects`).
    """
    params = [row_params(row.provenance, row.inspection) for row in rows]
    keys = {row.key() for row in rows} | {removal.object_key() for removal in removals}
    _lock(conn, keys, _sidecar_prefixes(rows))
    written: dict[int, Inspection] = {}
    for phase in Phase:
        group = [(row, p) for row, p in zip(rows, params, strict=True) if row.phase is phase]
        if group:
            written.update(_insert_rows(conn, phase, group))
    changed = refresh_objects(
        conn,
        {row.key() for row in rows if row.intake_event_id in written}
        | {removal.object_key() for removal in removals},
        removal_ids=[removal.intake_event_id for removal in removals],
    )
    outcomes = {
        removal.intake_event_id: RemovalOutcome(
            removal_effect(removal.event_name, removal.version_id),
            changed.get(removal.object_key(), 0),
        )
        for removal in removals
    }
    return BatchOutcome(written, outcomes)


def _lock(
    conn: psycopg.Connection[Any],
    keys: Collection[ObjectKey],
    prefixes: Collection[tuple[str, str]],
) -> None:
    if not keys and not prefixes:
        return
    objects = sorted({(bucket, key) for _, bucket, key in keys})
    models = sorted(prefixes)
    conn.execute(
        query("lock_objects"),
        {
            "buckets": [bucket for bucket, _ in objects],
            "keys": [key for _, key in objects],
            "prefix_buckets": [bucket for bucket, _ in models],
            "prefixes": [prefix for _, prefix in models],
        },
    )


def _sidecar_prefixes(rows: Iterable[PendingRow]) -> set[tuple[str, str]]:
    """The (bucket, prefix) of every sidecar merge the batch's model rows may make."""
    prefixes = set()
    for row in rows:
        if row.phase is Phase.TRAINING:
            prefix = sidecar_lock_prefix(row.provenance, row.inspection)
            if prefix is not None:
                prefixes.add((row.provenance["bucket"], prefix))
    return prefixes


def _insert_rows(
    conn: psycopg.Connection[Any],
    phase: Phase,
    group: Sequence[tuple[PendingRow, dict[str, Any]]],
) -> dict[int, Inspection]:
    """Insert one phase's rows with one statement (and merge model sidecars); when
    PostgreSQL refuses it, one by one."""
    try:
        with conn.transaction():  # a savepoint: a refused batch undoes only itself
            columns = {name: [p[name] for _, p in group] for name in ROW_COLUMNS}
            returned = conn.execute(query(INSERT_ROWS_QUERY[phase]), columns).fetchall()
            inserted = {int(r[0]) for r in returned}
            if phase is Phase.TRAINING:
                for row, _ in group:
                    if row.intake_event_id in inserted:
                        merge_sidecars(conn, row.provenance, row.inspection, locked=True)
    except (psycopg.DataError, psycopg.errors.ProgramLimitExceeded, ValueError) as exc:
        logger.info("database refused a batch of rows (%s); writing them one by one", exc)
        return _insert_one_by_one(conn, phase, group)
    return {
        row.intake_event_id: row.inspection for row, _ in group if row.intake_event_id in inserted
    }


def _insert_one_by_one(
    conn: psycopg.Connection[Any],
    phase: Phase,
    group: Sequence[tuple[PendingRow, dict[str, Any]]],
) -> dict[int, Inspection]:
    written: dict[int, Inspection] = {}
    for row, params in group:
        inspection = row.inspection
        try:
            with conn.transaction():  # a savepoint: a refused row undoes only itself
                inserted = _insert_one(conn, phase, row.provenance, inspection, params)
        except UnstorableRow as exc:
            logger.warning(
                "audit row refused: %s",
                exc,
                extra={
                    "event_id": row.intake_event_id,
                    "bucket": row.provenance["bucket"],
                    "key": row.provenance["object_key"],
                },
            )
            inspection = unstorable(inspection, exc)
            # Its merge may touch another prefix than the row refused: locked there.
            inserted = _insert_one(conn, phase, row.provenance, inspection, locked=False)
        if inserted:
            written[row.intake_event_id] = inspection
    return written


def _insert_one(
    conn: psycopg.Connection[Any],
    phase: Phase,
    provenance: Mapping[str, Any],
    inspection: Inspection,
    params: dict[str, Any] | None = None,
    *,
    locked: bool = True,
) -> bool:
    """Insert one row (and merge model sidecars; ``locked``: the caller holds the lock
    of the merge's prefix)."""
    if params is None:
        params = row_params(provenance, inspection)
    try:
        inserted = conn.execute(query(INSERT_QUERY[phase]), params).rowcount == 1
        if inserted and phase is Phase.TRAINING:
            merge_sidecars(conn, provenance, inspection, locked=locked)
    except (psycopg.DataError, psycopg.errors.ProgramLimitExceeded, ValueError) as exc:
        raise UnstorableRow(f"{type(exc).__name__}: {exc}") from exc
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


def refresh_objects(
    conn: psycopg.Connection[Any],
    keys: Collection[ObjectKey],
    removal_ids: Sequence[int] = (),
) -> dict[ObjectKey, int]:
    """Derive ``deleted_at`` and ``is_current`` of every row of the given keys from their
    events, and write what changed; returns, per key, how many rows changed.

    The caller holds the keys' advisory locks (``lock_objects``) in this transaction, so
    two workers recording events of one key do so one after the other and the second
    sees the first's rows. ``removal_ids`` are removal events being recorded in this
    transaction (already 'done' here, named in case they are not). Statements: one read
    of the keys' removals, and per phase table one read of rows and at most one update.
    """
    if not keys:
        return {}
    names = sorted({key for _, _, key in keys})
    removals: dict[tuple[str, str], list[Removal]] = defaultdict(list)
    for row in conn.execute(
        query("objects_removals"), {"keys": names, "removal_ids": list(removal_ids)}
    ):
        removal_id, bucket, key, event_name, version_id, event_time, sequencer = row
        removals[(bucket, key)].append(
            Removal(
                effect=removal_effect(event_name, version_id),
                version_id=version_id,
                event_time=event_time,
                sequencer=sequencer,
                intake_event_id=removal_id,
            )
        )
    changed: dict[ObjectKey, int] = {}
    for phase in Phase:
        wanted = {(bucket, key) for p, bucket, key in keys if p is phase}
        if wanted:
            counts = _refresh_phase(conn, phase, wanted, removals)
            changed.update({(phase, bucket, key): n for (bucket, key), n in counts.items()})
    return changed


def _refresh_phase(
    conn: psycopg.Connection[Any],
    phase: Phase,
    wanted: set[tuple[str, str]],
    removals: Mapping[tuple[str, str], list[Removal]],
) -> dict[tuple[str, str], int]:
    table = sql.Identifier(phase.value)
    rows: dict[tuple[str, str], list[VersionRow]] = defaultdict(list)
    now: dict[int, RowState] = {}
    names = sorted({key for _, key in wanted})
    for row in conn.execute(sql.SQL(query("objects_rows")).format(table=table), {"keys": names}):
        (row_id, bucket, key, version_id, etag, event_time, sequencer, intake_event_id,
         estado, reason, deleted_at, is_current) = row  # fmt: skip
        if (bucket, key) not in wanted:
            continue
        rows[(bucket, key)].append(
            VersionRow(
                row_id=row_id,
                version_id=version_id,
                etag=etag,
                event_time=event_time,
                sequencer=sequencer,
                intake_event_id=intake_event_id,
                estado=estado,
                transient_error=is_transient(estado, reason),
            )
        )
        now[row_id] = RowState(deleted_at=deleted_at, is_current=is_current)
    counts: dict[tuple[str, str], int] = {}
    updates: dict[int, RowState] = {}
    for object_key in wanted:
        states = derive_states(rows.get(object_key, ()), removals.get(object_key, ()))
        differ = {row_id: s for row_id, s in states.items() if s != now.get(row_id)}
        counts[object_key] = len(differ)
        updates.update(differ)
    if updates:
        ids = sorted(updates)
        conn.execute(
            sql.SQL(query("set_object_states")).format(table=table),
            {
                "ids": ids,
                "deleted_at": [updates[i].deleted_at for i in ids],
                "is_current": [updates[i].is_current for i in ids],
            },
        )
    return counts


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
    "BatchOutcome",
    "PendingRemoval",
    "PendingRow",
    "RemovalOutcome",
    "UnstorableRow",
    "last_failure",
    "record_batch",
    "refresh_objects",
    "row_params",
    "unstorable",
]
