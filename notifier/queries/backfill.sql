-- Backfill: rescan, reconcile and dead letters.
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: known_object_versions
-- Object versions that already have an event (from a webhook or an earlier rescan).
SELECT object_key, etag FROM intake_events
WHERE bucket = %(bucket)s
  AND object_key = ANY(%(keys)b)
  AND event_kind = 'created'
  AND status <> 'ignored'

-- name: create_listing
CREATE TEMPORARY TABLE listing (object_key text PRIMARY KEY, etag text) ON COMMIT DROP

-- name: copy_listing
COPY listing (object_key, etag) FROM STDIN

-- name: retryable_errors
-- Current rows of these keys that are errors with a transient cause (worth a retry).
SELECT object_key, etag, intake_event_id FROM live_objects
WHERE phase = %(phase)s AND bucket = %(bucket)s AND object_key = ANY(%(keys)b::text[])
  AND is_current AND transient_error

-- name: listing_drift
-- Compares the listing copied into the temporary table with the current object of
-- each key (live_objects); objects whose event is still waiting for a worker are not
-- drift. 'error': the current row is an error with a transient cause.
WITH current_rows AS (
    SELECT object_key, etag, transient_error FROM live_objects
    WHERE phase = %(phase)s AND bucket = %(bucket)s AND is_current
      AND starts_with(object_key, %(prefix)s)
),
in_flight AS (
    SELECT DISTINCT object_key, etag FROM intake_events
    WHERE bucket = %(bucket)s AND event_kind = 'created'
      AND status IN ('pending', 'processing')
)
SELECT CASE
         WHEN listing.object_key IS NULL THEN 'gone'
         WHEN current_rows.object_key IS NULL THEN 'missing'
         WHEN current_rows.etag IS DISTINCT FROM listing.etag THEN 'changed'
         ELSE 'error'
       END AS kind,
       coalesce(listing.object_key, current_rows.object_key) AS object_key,
       listing.etag AS object_etag,
       current_rows.etag AS audited_etag
FROM listing
FULL JOIN current_rows ON current_rows.object_key = listing.object_key
WHERE listing.object_key IS NULL
   OR ((current_rows.object_key IS NULL
        OR current_rows.etag IS DISTINCT FROM listing.etag
        OR current_rows.transient_error)
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
