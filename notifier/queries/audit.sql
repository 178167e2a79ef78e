-- Audit: the phase tables' rows.
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: insert_ingestion_row
INSERT INTO ingestion_events (
    timestamp_ingesta, nombre_archivo, ruta_minio, num_registros, estado,
    reason, format, details, bucket, object_key, etag, version_id, size_bytes,
    content_type, event_name, origin, intake_event_id, modelo_nombre, nombre_dataset,
    run_id
) VALUES (
    %(event_time)s, %(file_name)s, %(uri)s, %(num_registros)s, %(estado)s,
    %(reason)s, %(format)s, %(details)s, %(bucket)s, %(object_key)s, %(etag)s,
    %(version_id)s, %(size_bytes)s, %(content_type)s, %(event_name)s, %(origin)s,
    %(intake_event_id)s, %(modelo_nombre)s, %(nombre_dataset)s, %(run_id)s
)
ON CONFLICT (intake_event_id) DO NOTHING

-- name: insert_transformation_row
INSERT INTO transformation_events (
    timestamp_transformacion, nombre_archivo, ruta_minio, num_registros, estado,
    reason, format, details, bucket, object_key, etag, version_id, size_bytes,
    content_type, event_name, origin, intake_event_id, modelo_nombre, nombre_dataset,
    run_id
) VALUES (
    %(event_time)s, %(file_name)s, %(uri)s, %(num_registros)s, %(estado)s,
    %(reason)s, %(format)s, %(details)s, %(bucket)s, %(object_key)s, %(etag)s,
    %(version_id)s, %(size_bytes)s, %(content_type)s, %(event_name)s, %(origin)s,
    %(intake_event_id)s, %(modelo_nombre)s, %(nombre_dataset)s, %(run_id)s
)
ON CONFLICT (intake_event_id) DO NOTHING

-- name: insert_training_row
INSERT INTO training_events (
    timestamp_entrenamiento, ruta_modelo, num_registros, parametros, estado,
    reason, format, details, bucket, object_key, etag, version_id, size_bytes,
    content_type, event_name, origin, intake_event_id, modelo_nombre, nombre_dataset,
    run_id
) VALUES (
    %(event_time)s, %(uri)s, %(num_registros)s, %(parametros)s, %(estado)s,
    %(reason)s, %(format)s, %(details)s, %(bucket)s, %(object_key)s, %(etag)s,
    %(version_id)s, %(size_bytes)s, %(content_type)s, %(event_name)s, %(origin)s,
    %(intake_event_id)s, %(modelo_nombre)s, %(nombre_dataset)s, %(run_id)s
)
ON CONFLICT (intake_event_id) DO NOTHING

-- name: insert_evaluation_row
INSERT INTO evaluation_events (
    timestamp_eval, modelo_nombre, nombre_dataset, ruta_resultados, metrics, estado,
    num_registros, reason, format, details, bucket, object_key, etag, version_id,
    size_bytes, content_type, event_name, origin, intake_event_id, run_id
) VALUES (
    %(event_time)s, %(modelo_nombre)s, %(nombre_dataset)s, %(uri)s, %(metrics)s,
    %(estado)s, %(num_registros)s, %(reason)s, %(format)s, %(details)s, %(bucket)s,
    %(object_key)s, %(etag)s, %(version_id)s, %(size_bytes)s, %(content_type)s,
    %(event_name)s, %(origin)s, %(intake_event_id)s, %(run_id)s
)
ON CONFLICT (intake_event_id) DO NOTHING

-- name: mark_deleted
-- {table} is a phase table from notifier.phases.Phase, composed with sql.Identifier.
-- Rows of versions created up to the removal are marked; history is never deleted.
UPDATE {table} AS audit
SET deleted_at = %(deleted_at)s
FROM intake_events AS created
WHERE audit.intake_event_id = created.id
  AND audit.bucket = %(bucket)s
  AND audit.object_key = %(object_key)s
  AND audit.deleted_at IS NULL
  AND created.event_time <= %(deleted_at)s
  AND (%(version_id)s::text IS NULL OR audit.version_id = %(version_id)s)

-- name: apply_recorded_removal
-- {table} is a phase table (sql.Identifier). Events arrive out of order: when the
-- removal of an object was recorded before its creation, the new row starts deleted.
UPDATE {table} AS audit
SET deleted_at = removal.event_time
FROM (
    SELECT min(event_time) AS event_time FROM intake_events
    WHERE event_kind = 'removed' AND status = 'done'
      AND bucket = %(bucket)s AND object_key = %(object_key)s
      AND event_time >= %(event_time)s
) AS removal
WHERE audit.intake_event_id = %(intake_event_id)s AND removal.event_time IS NOT NULL

-- name: event_outcomes
-- How the given events ended: their status, and the estado of their audit row.
SELECT e.id, e.status, coalesce(i.estado, t.estado, m.estado, v.estado) AS estado
FROM intake_events AS e
LEFT JOIN ingestion_events AS i ON i.intake_event_id = e.id
LEFT JOIN transformation_events AS t ON t.intake_event_id = e.id
LEFT JOIN training_events AS m ON m.intake_event_id = e.id
LEFT JOIN evaluation_events AS v ON v.intake_event_id = e.id
WHERE e.id = ANY(%(ids)s)
