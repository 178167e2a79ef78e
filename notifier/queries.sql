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

-- name: known_object_versions
-- Object versions that already have an event (from a webhook or an earlier rescan).
SELECT object_key, etag FROM intake_events
WHERE bucket = %(bucket)s
  AND object_key = ANY(%(keys)s)
  AND event_kind = 'created'
  AND status <> 'ignored'

-- name: event_outcomes
-- How the given events ended: their status, and the estado of their audit row.
SELECT e.id, e.status, coalesce(i.estado, t.estado, m.estado, v.estado) AS estado
FROM intake_events AS e
LEFT JOIN ingestion_events AS i ON i.intake_event_id = e.id
LEFT JOIN transformation_events AS t ON t.intake_event_id = e.id
LEFT JOIN training_events AS m ON m.intake_event_id = e.id
LEFT JOIN evaluation_events AS v ON v.intake_event_id = e.id
WHERE e.id = ANY(%(ids)s)

-- name: create_listing
CREATE TEMPORARY TABLE listing (object_key text PRIMARY KEY, etag text) ON COMMIT DROP

-- name: copy_listing
COPY listing (object_key, etag) FROM STDIN

-- name: listing_drift
-- {table} is a phase table (sql.Identifier). Compares the listing copied into the
-- temporary table with the newest audit row of each key; objects whose event is
-- still waiting for a worker are not drift.
WITH latest AS (
    SELECT DISTINCT ON (object_key) object_key, etag, deleted_at
    FROM {table}
    WHERE bucket = %(bucket)s AND starts_with(object_key, %(prefix)s)
    ORDER BY object_key, id DESC
),
in_flight AS (
    SELECT DISTINCT object_key, etag FROM intake_events
    WHERE bucket = %(bucket)s AND event_kind = 'created'
      AND status IN ('pending', 'processing')
)
SELECT CASE
         WHEN listing.object_key IS NULL THEN 'gone'
         WHEN latest.object_key IS NULL OR latest.deleted_at IS NOT NULL THEN 'missing'
         ELSE 'changed'
       END AS kind,
       coalesce(listing.object_key, latest.object_key) AS object_key,
       listing.etag AS object_etag,
       latest.etag AS audited_etag
FROM listing
FULL JOIN latest ON latest.object_key = listing.object_key
WHERE (listing.object_key IS NULL AND latest.deleted_at IS NULL)
   OR (listing.object_key IS NOT NULL
       AND (latest.object_key IS NULL
            OR latest.deleted_at IS NOT NULL
            OR latest.etag IS DISTINCT FROM listing.etag)
       AND NOT EXISTS (SELECT 1 FROM in_flight
                       WHERE in_flight.object_key = listing.object_key
                         AND in_flight.etag IS NOT DISTINCT FROM listing.etag))
ORDER BY 2

-- name: list_dead_letters
SELECT id, received_at, reason, content_type, length(body) AS body_chars, retried_at
FROM dead_letters
WHERE %(include_retried)s OR retried_at IS NULL
ORDER BY id
LIMIT %(limit)s

-- name: dead_letters_to_retry
SELECT id, body, content_type, remote_addr FROM dead_letters
WHERE retried_at IS NULL AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s))
ORDER BY id

-- name: mark_dead_letter_retried
UPDATE dead_letters SET retried_at = now() WHERE id = %(id)s

-- name: purge_dead_letters
DELETE FROM dead_letters WHERE received_at < %(before)s

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
