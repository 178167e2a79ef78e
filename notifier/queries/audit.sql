-- Audit: the phase tables' rows.
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: insert_ingestion_row
INSERT INTO ingestion_events (
    timestamp_ingesta, nombre_archivo, ruta_minio, num_registros, estado,
    reason, format, details, bucket, object_key, etag, version_id, size_bytes,
    content_type, event_name, origin, intake_event_id, modelo_nombre, nombre_dataset,
    run_id, principal_id, source_ip, request_id
) VALUES (
    %(event_time)s, %(file_name)s, %(uri)s, %(num_registros)s, %(estado)s,
    %(reason)s, %(format)s, %(details)s, %(bucket)s, %(object_key)s, %(etag)s,
    %(version_id)s, %(size_bytes)s, %(content_type)s, %(event_name)s, %(origin)s,
    %(intake_event_id)s, %(modelo_nombre)s, %(nombre_dataset)s, %(run_id)s,
    %(principal_id)s, %(source_ip)s::inet, %(request_id)s
)
ON CONFLICT (intake_event_id) DO NOTHING

-- name: insert_transformation_row
INSERT INTO transformation_events (
    timestamp_transformacion, nombre_archivo, ruta_minio, num_registros, estado,
    reason, format, details, bucket, object_key, etag, version_id, size_bytes,
    content_type, event_name, origin, intake_event_id, modelo_nombre, nombre_dataset,
    run_id, principal_id, source_ip, request_id
) VALUES (
    %(event_time)s, %(file_name)s, %(uri)s, %(num_registros)s, %(estado)s,
    %(reason)s, %(format)s, %(details)s, %(bucket)s, %(object_key)s, %(etag)s,
    %(version_id)s, %(size_bytes)s, %(content_type)s, %(event_name)s, %(origin)s,
    %(intake_event_id)s, %(modelo_nombre)s, %(nombre_dataset)s, %(run_id)s,
    %(principal_id)s, %(source_ip)s::inet, %(request_id)s
)
ON CONFLICT (intake_event_id) DO NOTHING

-- name: insert_training_row
INSERT INTO training_events (
    timestamp_entrenamiento, ruta_modelo, num_registros, parametros, estado,
    reason, format, details, bucket, object_key, etag, version_id, size_bytes,
    content_type, event_name, origin, intake_event_id, modelo_nombre, nombre_dataset,
    run_id, principal_id, source_ip, request_id
) VALUES (
    %(event_time)s, %(uri)s, %(num_registros)s, %(parametros)s, %(estado)s,
    %(reason)s, %(format)s, %(details)s, %(bucket)s, %(object_key)s, %(etag)s,
    %(version_id)s, %(size_bytes)s, %(content_type)s, %(event_name)s, %(origin)s,
    %(intake_event_id)s, %(modelo_nombre)s, %(nombre_dataset)s, %(run_id)s,
    %(principal_id)s, %(source_ip)s::inet, %(request_id)s
)
ON CONFLICT (intake_event_id) DO NOTHING

-- name: insert_evaluation_row
INSERT INTO evaluation_events (
    timestamp_eval, modelo_nombre, nombre_dataset, ruta_resultados, metrics, estado,
    num_registros, reason, format, details, bucket, object_key, etag, version_id,
    size_bytes, content_type, event_name, origin, intake_event_id, run_id, principal_id,
    source_ip, request_id
) VALUES (
    %(event_time)s, %(modelo_nombre)s, %(nombre_dataset)s, %(uri)s, %(metrics)s,
    %(estado)s, %(num_registros)s, %(reason)s, %(format)s, %(details)s, %(bucket)s,
    %(object_key)s, %(etag)s, %(version_id)s, %(size_bytes)s, %(content_type)s,
    %(event_name)s, %(origin)s, %(intake_event_id)s, %(run_id)s, %(principal_id)s,
    %(source_ip)s::inet, %(request_id)s
)
ON CONFLICT (intake_event_id) DO NOTHING

-- name: lock_object
-- One key's events are applied one transaction at a time (notifier.audit.refresh_object).
SELECT pg_advisory_xact_lock(hashtextextended(%(bucket)s || '/' || %(object_key)s, 8))

-- name: object_rows
-- {table} is a phase table (sql.Identifier): every audit row of one key, with the
-- time and sequencer of the event that created it.
SELECT audit.id, audit.version_id, audit.etag, created.event_time, created.sequencer,
       audit.intake_event_id, audit.estado, audit.reason
FROM {table} AS audit
JOIN intake_events AS created ON created.id = audit.intake_event_id
WHERE audit.bucket = %(bucket)s AND audit.object_key = %(object_key)s

-- name: object_removals
-- The removals of one key already recorded, and the one being recorded now.
SELECT id, event_name, version_id, event_time, sequencer
FROM intake_events
WHERE bucket = %(bucket)s AND object_key = %(object_key)s AND event_kind = 'removed'
  AND (status = 'done' OR id = %(removal_id)s)

-- name: set_object_states
-- {table} is a phase table (sql.Identifier). Writes only what changed.
UPDATE {table} AS audit
SET deleted_at = state.deleted_at, is_current = state.is_current
FROM unnest(%(ids)s::bigint[], %(deleted_at)s::timestamptz[], %(is_current)s::boolean[])
     AS state (id, deleted_at, is_current)
WHERE audit.id = state.id
  AND (audit.deleted_at IS DISTINCT FROM state.deleted_at
       OR audit.is_current IS DISTINCT FROM state.is_current)

-- name: event_note
SELECT note FROM intake_events WHERE id = %(id)s

-- name: event_outcomes
-- How the given events ended: their status, and the estado of their audit row.
SELECT e.id, e.status, coalesce(i.estado, t.estado, m.estado, v.estado) AS estado
FROM intake_events AS e
LEFT JOIN ingestion_events AS i ON i.intake_event_id = e.id
LEFT JOIN transformation_events AS t ON t.intake_event_id = e.id
LEFT JOIN training_events AS m ON m.intake_event_id = e.id
LEFT JOIN evaluation_events AS v ON v.intake_event_id = e.id
WHERE e.id = ANY(%(ids)s)
