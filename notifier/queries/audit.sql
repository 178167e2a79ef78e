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

-- name: insert_ingestion_rows
-- A batch's rows in one statement (notifier.audit.record_batch): one array per column,
-- the same arrays for every phase; returns the events that got their row now.
INSERT INTO ingestion_events (
    timestamp_ingesta, nombre_archivo, ruta_minio, num_registros, estado,
    reason, format, details, bucket, object_key, etag, version_id, size_bytes,
    content_type, event_name, origin, intake_event_id, modelo_nombre, nombre_dataset,
    run_id, principal_id, source_ip, request_id
)
SELECT event_time, file_name, uri, num_registros, estado, reason, format, details, bucket,
       object_key, etag, version_id, size_bytes, content_type, event_name, origin,
       intake_event_id, modelo_nombre, nombre_dataset, run_id, principal_id,
       source_ip::inet, request_id
FROM unnest(
    %(event_time)s::timestamptz[], %(file_name)s::text[], %(uri)s::text[],
    %(num_registros)s::bigint[], %(estado)s::text[], %(reason)s::text[], %(format)s::text[],
    %(details)s::jsonb[], %(parametros)s::jsonb[], %(metrics)s::jsonb[], %(bucket)s::text[],
    %(object_key)s::text[], %(etag)s::text[], %(version_id)s::text[], %(size_bytes)s::bigint[],
    %(content_type)s::text[], %(event_name)s::text[], %(origin)s::text[],
    %(intake_event_id)s::bigint[], %(modelo_nombre)s::text[], %(nombre_dataset)s::text[],
    %(run_id)s::text[], %(principal_id)s::text[], %(source_ip)s::text[], %(request_id)s::text[]
) AS batch (
    event_time, file_name, uri, num_registros, estado, reason, format, details, parametros,
    metrics, bucket, object_key, etag, version_id, size_bytes, content_type, event_name,
    origin, intake_event_id, modelo_nombre, nombre_dataset, run_id, principal_id, source_ip,
    request_id
)
ORDER BY intake_event_id
ON CONFLICT (intake_event_id) DO NOTHING
RETURNING intake_event_id

-- name: insert_transformation_rows
-- A batch's rows in one statement (notifier.audit.record_batch): one array per column,
-- the same arrays for every phase; returns the events that got their row now.
INSERT INTO transformation_events (
    timestamp_transformacion, nombre_archivo, ruta_minio, num_registros, estado,
    reason, format, details, bucket, object_key, etag, version_id, size_bytes,
    content_type, event_name, origin, intake_event_id, modelo_nombre, nombre_dataset,
    run_id, principal_id, source_ip, request_id
)
SELECT event_time, file_name, uri, num_registros, estado, reason, format, details, bucket,
       object_key, etag, version_id, size_bytes, content_type, event_name, origin,
       intake_event_id, modelo_nombre, nombre_dataset, run_id, principal_id,
       source_ip::inet, request_id
FROM unnest(
    %(event_time)s::timestamptz[], %(file_name)s::text[], %(uri)s::text[],
    %(num_registros)s::bigint[], %(estado)s::text[], %(reason)s::text[], %(format)s::text[],
    %(details)s::jsonb[], %(parametros)s::jsonb[], %(metrics)s::jsonb[], %(bucket)s::text[],
    %(object_key)s::text[], %(etag)s::text[], %(version_id)s::text[], %(size_bytes)s::bigint[],
    %(content_type)s::text[], %(event_name)s::text[], %(origin)s::text[],
    %(intake_event_id)s::bigint[], %(modelo_nombre)s::text[], %(nombre_dataset)s::text[],
    %(run_id)s::text[], %(principal_id)s::text[], %(source_ip)s::text[], %(request_id)s::text[]
) AS batch (
    event_time, file_name, uri, num_registros, estado, reason, format, details, parametros,
    metrics, bucket, object_key, etag, version_id, size_bytes, content_type, event_name,
    origin, intake_event_id, modelo_nombre, nombre_dataset, run_id, principal_id, source_ip,
    request_id
)
ORDER BY intake_event_id
ON CONFLICT (intake_event_id) DO NOTHING
RETURNING intake_event_id

-- name: insert_training_rows
-- A batch's rows in one statement (notifier.audit.record_batch): one array per column,
-- the same arrays for every phase; returns the events that got their row now.
INSERT INTO training_events (
    timestamp_entrenamiento, ruta_modelo, num_registros, parametros, estado,
    reason, format, details, bucket, object_key, etag, version_id, size_bytes,
    content_type, event_name, origin, intake_event_id, modelo_nombre, nombre_dataset,
    run_id, principal_id, source_ip, request_id
)
SELECT event_time, uri, num_registros, parametros, estado, reason, format, details, bucket,
       object_key, etag, version_id, size_bytes, content_type, event_name, origin,
       intake_event_id, modelo_nombre, nombre_dataset, run_id, principal_id,
       source_ip::inet, request_id
FROM unnest(
    %(event_time)s::timestamptz[], %(file_name)s::text[], %(uri)s::text[],
    %(num_registros)s::bigint[], %(estado)s::text[], %(reason)s::text[], %(format)s::text[],
    %(details)s::jsonb[], %(parametros)s::jsonb[], %(metrics)s::jsonb[], %(bucket)s::text[],
    %(object_key)s::text[], %(etag)s::text[], %(version_id)s::text[], %(size_bytes)s::bigint[],
    %(content_type)s::text[], %(event_name)s::text[], %(origin)s::text[],
    %(intake_event_id)s::bigint[], %(modelo_nombre)s::text[], %(nombre_dataset)s::text[],
    %(run_id)s::text[], %(principal_id)s::text[], %(source_ip)s::text[], %(request_id)s::text[]
) AS batch (
    event_time, file_name, uri, num_registros, estado, reason, format, details, parametros,
    metrics, bucket, object_key, etag, version_id, size_bytes, content_type, event_name,
    origin, intake_event_id, modelo_nombre, nombre_dataset, run_id, principal_id, source_ip,
    request_id
)
ORDER BY intake_event_id
ON CONFLICT (intake_event_id) DO NOTHING
RETURNING intake_event_id

-- name: insert_evaluation_rows
-- A batch's rows in one statement (notifier.audit.record_batch): one array per column,
-- the same arrays for every phase; returns the events that got their row now.
INSERT INTO evaluation_events (
    timestamp_eval, modelo_nombre, nombre_dataset, ruta_resultados, metrics, estado,
    num_registros, reason, format, details, bucket, object_key, etag, version_id,
    size_bytes, content_type, event_name, origin, intake_event_id, run_id, principal_id,
    source_ip, request_id
)
SELECT event_time, modelo_nombre, nombre_dataset, uri, metrics, estado, num_registros, reason,
       format, details, bucket, object_key, etag, version_id, size_bytes, content_type,
       event_name, origin, intake_event_id, run_id, principal_id, source_ip::inet,
       request_id
FROM unnest(
    %(event_time)s::timestamptz[], %(file_name)s::text[], %(uri)s::text[],
    %(num_registros)s::bigint[], %(estado)s::text[], %(reason)s::text[], %(format)s::text[],
    %(details)s::jsonb[], %(parametros)s::jsonb[], %(metrics)s::jsonb[], %(bucket)s::text[],
    %(object_key)s::text[], %(etag)s::text[], %(version_id)s::text[], %(size_bytes)s::bigint[],
    %(content_type)s::text[], %(event_name)s::text[], %(origin)s::text[],
    %(intake_event_id)s::bigint[], %(modelo_nombre)s::text[], %(nombre_dataset)s::text[],
    %(run_id)s::text[], %(principal_id)s::text[], %(source_ip)s::text[], %(request_id)s::text[]
) AS batch (
    event_time, file_name, uri, num_registros, estado, reason, format, details, parametros,
    metrics, bucket, object_key, etag, version_id, size_bytes, content_type, event_name,
    origin, intake_event_id, modelo_nombre, nombre_dataset, run_id, principal_id, source_ip,
    request_id
)
ORDER BY intake_event_id
ON CONFLICT (intake_event_id) DO NOTHING
RETURNING intake_event_id

-- name: lock_objects
-- The keys of a batch (and the model prefixes its sidecar merges touch, lock_model_prefix
-- in models.sql) are applied one transaction at a time. Locks are taken in one order,
-- so two workers whose batches share keys wait for each other instead of deadlocking.
SELECT count(pg_advisory_xact_lock(lock_id))
FROM (
    SELECT DISTINCT lock_id
    FROM (
        SELECT hashtextextended(object.bucket || '/' || object.object_key, 8)
        FROM unnest(%(buckets)s::text[], %(keys)s::text[]) AS object (bucket, object_key)
        UNION ALL
        SELECT hashtextextended(model.bucket || '/' || model.prefix, 0)
        FROM unnest(%(prefix_buckets)s::text[], %(prefixes)s::text[]) AS model (bucket, prefix)
    ) AS wanted (lock_id)
    ORDER BY lock_id
) AS ordered

-- name: objects_rows
-- {table} is a phase table (sql.Identifier): every audit row of the given keys (the
-- hash index on object_key; the caller keeps the rows of its buckets), with the time
-- and sequencer of the event that created it and the state it has now.
SELECT audit.id, audit.bucket, audit.object_key, audit.version_id, audit.etag,
       created.event_time, created.sequencer, audit.intake_event_id, audit.estado,
       audit.reason, audit.deleted_at, audit.is_current
FROM {table} AS audit
JOIN intake_events AS created ON created.id = audit.intake_event_id
WHERE audit.object_key = ANY(%(keys)s::text[])

-- name: objects_removals
-- The removals of the given keys already recorded, and those being recorded now (the
-- caller keeps the removals of its buckets); the partial index of removal keys (015).
SELECT id, bucket, object_key, event_name, version_id, event_time, sequencer
FROM intake_events
WHERE object_key = ANY(%(keys)s::text[]) AND event_kind = 'removed'
  AND (status = 'done' OR id = ANY(%(removal_ids)s::bigint[]))

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
