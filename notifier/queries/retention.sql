-- Retention: dropping the raw payload of processed events after a set age.
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: prune_payload_batch
-- One batch of the table in id order, after the cursor %(after)s: the payloads of its
-- processed events older than %(before)s are dropped; the rows stay (dedup_key and
-- every column the audit rows and de-duplication use). Returns the batch's last id
-- (NULL past the end), how many payloads were dropped, and the batch's earliest
-- receipt (once it is past %(before)s, no later batch can hold an old enough event).
WITH batch AS (
    SELECT id, received_at FROM intake_events
    WHERE id > %(after)s
    ORDER BY id
    LIMIT %(batch_size)s
),
pruned AS (
    UPDATE intake_events AS e
    SET payload = NULL, payload_pruned_at = now()
    FROM batch
    WHERE e.id = batch.id
      AND e.status IN ('done', 'ignored')
      AND e.processed_at < %(before)s
      AND e.payload IS NOT NULL
      AND NOT %(dry_run)s
    RETURNING e.id
),
eligible AS (
    SELECT count(*) AS n FROM intake_events AS e JOIN batch USING (id)
    WHERE e.status IN ('done', 'ignored')
      AND e.processed_at < %(before)s
      AND e.payload IS NOT NULL
)
SELECT (SELECT max(id) FROM batch) AS last_id,
       CASE WHEN %(dry_run)s THEN (SELECT n FROM eligible)
            ELSE (SELECT count(*) FROM pruned) END AS pruned,
       (SELECT min(received_at) FROM batch) AS earliest
