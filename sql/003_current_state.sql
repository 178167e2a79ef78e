-- Current state next to the history (issue 8 item 6, issue 13 item 5).
--
-- is_current: this row stands for the object version that is the key's current
-- object now (notifier.audit.versions derives it, and deleted_at, from every event of
-- the key, whatever the order they were processed in). Rows adopted from the seed
-- tables, which carry no provenance, keep true: nothing says otherwise.
--
-- live_objects: one row per object version that exists now, across the four phases,
-- like Amazon S3 Metadata's live inventory table: the current version of each key,
-- and in versioned buckets every noncurrent version not removed, each by its best row.

ALTER TABLE ingestion_events ADD COLUMN IF NOT EXISTS is_current boolean NOT NULL DEFAULT true;
ALTER TABLE transformation_events ADD COLUMN IF NOT EXISTS is_current boolean NOT NULL DEFAULT true;
ALTER TABLE training_events ADD COLUMN IF NOT EXISTS is_current boolean NOT NULL DEFAULT true;
ALTER TABLE evaluation_events ADD COLUMN IF NOT EXISTS is_current boolean NOT NULL DEFAULT true;

-- Rows written before this migration: the newest row of a key not marked deleted is
-- current, the others are not. The exact state is derived again at the key's next event.
DO $backfill$
DECLARE
    phase_table text;
BEGIN
    FOREACH phase_table IN ARRAY ARRAY[
        'ingestion_events', 'transformation_events', 'training_events', 'evaluation_events'
    ] LOOP
        EXECUTE format($update$
            UPDATE %1$I AS audit SET is_current = (audit.id = newest.id)
            FROM (
                SELECT DISTINCT ON (a.bucket, a.object_key) a.bucket, a.object_key, a.id
                FROM %1$I AS a JOIN intake_events AS e ON e.id = a.intake_event_id
                WHERE a.deleted_at IS NULL
                ORDER BY a.bucket, a.object_key, e.event_time DESC, a.id DESC
            ) AS newest
            WHERE audit.bucket = newest.bucket AND audit.object_key = newest.object_key
              AND audit.intake_event_id IS NOT NULL
        $update$, phase_table);
        EXECUTE format($update$
            UPDATE %1$I SET is_current = false
            WHERE deleted_at IS NOT NULL AND intake_event_id IS NOT NULL
        $update$, phase_table);
        EXECUTE format(
            'CREATE INDEX IF NOT EXISTS %I ON %I (bucket, object_key) WHERE is_current',
            phase_table || '_current', phase_table
        );
    END LOOP;
END
$backfill$;

CREATE OR REPLACE VIEW live_objects AS
WITH audit_rows AS (
    SELECT 'ingestion'::text AS phase, id, bucket, object_key, version_id, etag, size_bytes,
           is_current, estado, num_registros, reason, details, timestamp_ingesta AS created_at,
           processed_at, deleted_at, intake_event_id
    FROM ingestion_events
    UNION ALL
    SELECT 'transformation', id, bucket, object_key, version_id, etag, size_bytes,
           is_current, estado, num_registros, reason, details, timestamp_transformacion,
           processed_at, deleted_at, intake_event_id
    FROM transformation_events
    UNION ALL
    SELECT 'training', id, bucket, object_key, version_id, etag, size_bytes,
           is_current, estado, num_registros, reason, details, timestamp_entrenamiento,
           processed_at, deleted_at, intake_event_id
    FROM training_events
    UNION ALL
    SELECT 'evaluation', id, bucket, object_key, version_id, etag, size_bytes,
           is_current, estado, num_registros, reason, details, timestamp_eval,
           processed_at, deleted_at, intake_event_id
    FROM evaluation_events
)
SELECT DISTINCT ON (phase, bucket, object_key, version_id)
       phase, bucket, object_key, version_id, is_current,
       id AS audit_row_id, estado, num_registros, etag, size_bytes, reason,
       coalesce(estado = 'error' AND details ->> 'transient' = 'true', false) AS transient_error,
       created_at, processed_at, intake_event_id
FROM audit_rows
WHERE bucket IS NOT NULL
  AND deleted_at IS NULL
  AND (is_current OR coalesce(version_id, 'null') <> 'null')
ORDER BY phase, bucket, object_key, version_id,
         is_current DESC, estado = 'error', coalesce(details ->> 'transient' = 'true', false),
         created_at DESC, id DESC;
