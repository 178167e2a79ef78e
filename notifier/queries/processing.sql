-- Processing: claims, leases and outcomes on intake_events.
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: claim_events
-- Up to %(limit)s events in one statement. A claimed event stays 'processing' until its
-- lease (next_attempt_at) runs out; its worker renews the lease while it works, so a
-- worker that dies leaves it to be claimed again within one lease.
UPDATE intake_events
SET status = 'processing',
    attempts = attempts + 1,
    next_attempt_at = now() + make_interval(secs => %(lease_seconds)s)
WHERE id = ANY(ARRAY(
    SELECT id FROM intake_events
    WHERE status IN ('pending', 'processing') AND next_attempt_at <= now()
    ORDER BY next_attempt_at, id
    FOR UPDATE SKIP LOCKED
    LIMIT %(limit)s
))
RETURNING id, attempts, sender, origin, event_name, event_kind, bucket, object_key,
          event_time, etag, version_id, size_bytes, content_type, sequencer, user_metadata,
          principal_id, host(source_ip) AS source_ip, request_id

-- name: renew_leases
-- Extends the leases still held (same attempt, still processing). Rows locked right now
-- are being finished or postponed by their holder: skipped, never waited for.
UPDATE intake_events
SET next_attempt_at = now() + make_interval(secs => %(lease_seconds)s)
WHERE id = ANY(ARRAY(
    SELECT e.id FROM intake_events AS e
    JOIN unnest(%(ids)s::bigint[], %(attempts)s::integer[]) AS held (id, attempts)
      ON e.id = held.id AND e.attempts = held.attempts
    WHERE e.status = 'processing'
    ORDER BY e.id
    FOR UPDATE OF e SKIP LOCKED
))

-- name: release_events
-- Gives back claimed events not started yet (the attempt never happened).
UPDATE intake_events AS e
SET status = 'pending', attempts = e.attempts - 1, next_attempt_at = now()
FROM unnest(%(ids)s::bigint[], %(attempts)s::integer[]) AS held (id, attempts)
WHERE e.id = held.id AND e.attempts = held.attempts AND e.status = 'processing'

-- name: finish_events
-- Matches only while the claim is still ours (attempts unchanged), so a worker that
-- outlived its lease cannot finish an event another worker holds. Returns the ids
-- finished; the caller writes audit rows only for those, in the same transaction.
UPDATE intake_events AS e
SET status = 'done', processed_at = now(), note = held.note
FROM unnest(%(ids)s::bigint[], %(attempts)s::integer[], %(notes)s::text[])
     AS held (id, attempts, note)
WHERE e.id = held.id AND e.attempts = held.attempts AND e.status = 'processing'
RETURNING e.id

-- name: set_event_notes
-- The notes of a batch's removals, known once their effect is derived.
UPDATE intake_events AS e
SET note = noted.note
FROM unnest(%(ids)s::bigint[], %(notes)s::text[]) AS noted (id, note)
WHERE e.id = noted.id

-- name: postpone_events
UPDATE intake_events AS e
SET status = 'pending',
    next_attempt_at = now() + make_interval(secs => held.delay_seconds),
    note = held.note
FROM unnest(%(ids)s::bigint[], %(attempts)s::integer[], %(delays)s::float8[],
            %(notes)s::text[]) AS held (id, attempts, delay_seconds, note)
WHERE e.id = held.id AND e.attempts = held.attempts AND e.status = 'processing'
