-- Processing: claims and leases on intake_events.
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

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
          event_time, etag, version_id, size_bytes, content_type, sequencer, user_metadata,
          principal_id, host(source_ip) AS source_ip, request_id

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
