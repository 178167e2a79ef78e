-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: insert_intake_event
INSERT INTO intake_events (
    dedup_key, sender, origin, event_name, event_kind, bucket, object_key, event_time,
    etag, version_id, size_bytes, content_type, sequencer, user_metadata, payload,
    status, note, processed_at
) VALUES (
    %(dedup_key)s, %(sender)s, %(origin)s, %(event_name)s, %(event_kind)s, %(bucket)s,
    %(object_key)s, %(event_time)s, %(etag)s, %(version_id)s, %(size_bytes)s,
    %(content_type)s, %(sequencer)s, %(user_metadata)s, %(payload)s,
    %(status)s, %(note)s, CASE WHEN %(status)s = 'ignored' THEN now() END
)
ON CONFLICT (dedup_key) DO NOTHING
RETURNING id

-- name: insert_dead_letter
INSERT INTO dead_letters (reason, content_type, body, remote_addr)
VALUES (%(reason)s, %(content_type)s, %(body)s, %(remote_addr)s)
RETURNING id

-- name: claim_event
-- A claimed event stays 'processing' until its lease (next_attempt_at) runs out; a
-- worker that dies leaves it there and another claims it again afterwards.
UPDATE intake_events
SET status = 'processing',
    attempts = attempts + 1,
    next_attempt_at = now() + make_interval(secs => %(lease_seconds)s)
WHERE id = (
    SELECT id FROM intake_events
    WHERE status IN ('pending', 'processing') AND next_attempt_at <= now()
    ORDER BY next_attempt_at, id
    FOR UPDATE SKIP LOCKED
    LIMIT 1
)
RETURNING id, attempts, sender, origin, event_name, event_kind, bucket, object_key,
          event_time, etag, version_id, size_bytes, content_type, sequencer, user_metadata

-- name: finish_event
-- Matches only while the claim is still ours (attempts unchanged), so a worker
-- that outlived its lease cannot finish an event another worker holds.
UPDATE intake_events
SET status = 'done', processed_at = now(), note = %(note)s
WHERE id = %(id)s AND attempts = %(attempts)s AND status = 'processing'

-- name: postpone_event
UPDATE intake_events
SET status = 'pending',
    next_attempt_at = now() + make_interval(secs => %(delay_seconds)s),
    note = %(note)s
WHERE id = %(id)s AND attempts = %(attempts)s AND status = 'processing'

-- name: count_claimable
SELECT count(*) FROM intake_events
WHERE status IN ('pending', 'processing') AND next_attempt_at <= now()

-- name: insert_ingestion_row
INSERT INTO ingestion_events (
    timestamp_ingesta, nombre_archivo, ruta_minio, num_registros, estado,
    reason, format, details, bucket, object_key, etag, version_id, size_bytes,
    content_type, event_name, origin, intake_event_id
) VALUES (
    %(event_time)s, %(file_name)s, %(uri)s, %(num_registros)s, %(estado)s,
    %(reason)s, %(format)s, %(details)s, %(bucket)s, %(object_key)s, %(etag)s,
    %(version_id)s, %(size_bytes)s, %(content_type)s, %(event_name)s, %(origin)s,
    %(intake_event_id)s
)
ON CONFLICT (intake_event_id) DO NOTHING

-- name: insert_transformation_row
INSERT INTO transformation_events (
    timestamp_transformacion, nombre_archivo, ruta_minio, num_registros, estado,
    reason, format, details, bucket, object_key, etag, version_id, size_bytes,
    content_type, event_name, origin, intake_event_id
) VALUES (
    %(event_time)s, %(file_name)s, %(uri)s, %(num_registros)s, %(estado)s,
    %(reason)s, %(format)s, %(details)s, %(bucket)s, %(object_key)s, %(etag)s,
    %(version_id)s, %(size_bytes)s, %(content_type)s, %(event_name)s, %(origin)s,
    %(intake_event_id)s
)
ON CONFLICT (intake_event_id) DO NOTHING

-- name: insert_training_row
INSERT INTO training_events (
    timestamp_entrenamiento, ruta_modelo, num_registros, parametros, estado,
    reason, format, details, bucket, object_key, etag, version_id, size_bytes,
    content_type, event_name, origin, intake_event_id
) VALUES (
    %(event_time)s, %(uri)s, %(num_registros)s, %(parametros)s, %(estado)s,
    %(reason)s, %(format)s, %(details)s, %(bucket)s, %(object_key)s, %(etag)s,
    %(version_id)s, %(size_bytes)s, %(content_type)s, %(event_name)s, %(origin)s,
    %(intake_event_id)s
)
ON CONFLICT (intake_event_id) DO NOTHING

-- name: insert_evaluation_row
INSERT INTO evaluation_events (
    timestamp_eval, modelo_nombre, nombre_dataset, ruta_resultados, metrics, estado,
    num_registros, reason, format, details, bucket, object_key, etag, version_id,
    size_bytes, content_type, event_name, origin, intake_event_id
) VALUES (
    %(event_time)s, %(modelo_nombre)s, %(nombre_dataset)s, %(uri)s, %(metrics)s,
    %(estado)s, %(num_registros)s, %(reason)s, %(format)s, %(details)s, %(bucket)s,
    %(object_key)s, %(etag)s, %(version_id)s, %(size_bytes)s, %(content_type)s,
    %(event_name)s, %(origin)s, %(intake_event_id)s
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
