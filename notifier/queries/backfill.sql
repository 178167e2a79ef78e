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
