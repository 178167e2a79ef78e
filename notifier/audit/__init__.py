"""Audit storage: the phase tables' rows, written in the same transaction as the claim."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from notifier.audit.model_sidecars import merge_sidecars
from notifier.db import query
from notifier.inspection import Inspection
from notifier.phases import Phase

INSERT_QUERY = {
    Phase.INGESTION: "insert_ingestion_row",
    Phase.TRANSFORMATION: "insert_transformation_row",
    Phase.TRAINING: "insert_training_row",
    Phase.EVALUATION: "insert_evaluation_row",
}


def insert_row(
    conn: psycopg.Connection[Any],
    phase: Phase,
    provenance: Mapping[str, Any],
    inspection: Inspection,
) -> bool:
    """Write the audit row of one event; False when that event already has its row."""
    details = dict(inspection.details)
    params = {
        **provenance,
        "num_registros": inspection.num_registros,
        "estado": inspection.estado,
        "reason": inspection.reason,
        "format": inspection.format,
        "details": Jsonb(details),
        "parametros": Jsonb(dict(details.get("parametros") or {})),
        "metrics": Jsonb(dict(details.get("metrics") or {})),
        "modelo_nombre": details.get("modelo_nombre"),
        "nombre_dataset": details.get("nombre_dataset"),
        "run_id": details.get("run_id"),
    }
    if conn.execute(query(INSERT_QUERY[phase]), params).rowcount != 1:
        return False
    if phase is Phase.TRAINING:
        merge_sidecars(conn, provenance, inspection)
    removal = sql.SQL(query("apply_recorded_removal")).format(table=sql.Identifier(phase.value))
    conn.execute(
        removal,
        {key: provenance[key] for key in ("bucket", "object_key", "event_time", "intake_event_id")},
    )
    return True


def mark_deleted(
    conn: psycopg.Connection[Any],
    phase: Phase,
    *,
    bucket: str,
    key: str,
    version_id: str | None,
    deleted_at: datetime,
) -> int:
    """Mark the rows of an object's versions created up to ``deleted_at`` as deleted."""
    statement = sql.SQL(query("mark_deleted")).format(table=sql.Identifier(phase.value))
    cursor = conn.execute(
        statement,
        {"bucket": bucket, "object_key": key, "version_id": version_id, "deleted_at": deleted_at},
    )
    return cursor.rowcount
