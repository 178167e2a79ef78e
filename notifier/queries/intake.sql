-- Intake: storing what senders deliver.
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: insert_intake_event
INSERT INTO intake_events (
    dedup_key, sender, origin, event_name, event_kind, bucket, object_key, event_time,
    etag, version_id, size_bytes, content_type, sequencer, user_metadata, payload,
    status, note, processed_at, principal_id, source_ip, request_id
) VALUES (
    %(dedup_key)s, %(sender)s, %(origin)s, %(event_name)s, %(event_kind)s, %(bucket)s,
    %(object_key)s, %(event_time)s, %(etag)s, %(version_id)s, %(size_bytes)s,
    %(content_type)s, %(sequencer)s, %(user_metadata)s, %(payload)s,
    %(status)s, %(note)s, CASE WHEN %(status)s = 'ignored' THEN now() END,
    %(principal_id)s, %(source_ip)s::inet, %(request_id)s
)
ON CONFLICT (dedup_key) DO NOTHING
RETURNING id

-- name: insert_dead_letter
INSERT INTO dead_letters (reason, content_type, body, remote_addr)
VALUES (%(reason)s, %(content_type)s, %(body)s, %(remote_addr)s)
RETURNING id

-- name: insert_intake_events
-- Every event of a body in one statement (one round trip, atomic on its own): each
-- parameter is an array with one element per event, in the same order, sent in binary
-- (%%(x)b: no text escaping of thousands of elements).
INSERT INTO intake_events (
    dedup_key, sender, origin, event_name, event_kind, bucket, object_key, event_time,
    etag, version_id, size_bytes, content_type, sequencer, user_metadata, payload,
    status, note, processed_at, principal_id, source_ip, request_id
)
SELECT e.dedup_key, e.sender, e.origin, e.event_name, e.event_kind, e.bucket,
       e.object_key, e.event_time, e.etag, e.version_id, e.size_bytes, e.content_type,
       e.sequencer, e.user_metadata, e.payload, e.status, e.note,
       CASE WHEN e.status = 'ignored' THEN now() END,
       e.principal_id, e.source_ip::inet, e.request_id
FROM unnest(
    %(dedup_key)b::text[], %(sender)b::text[], %(origin)b::text[], %(event_name)b::text[],
    %(event_kind)b::text[], %(bucket)b::text[], %(object_key)b::text[],
    %(event_time)b::timestamptz[], %(etag)b::text[], %(version_id)b::text[],
    %(size_bytes)b::bigint[], %(content_type)b::text[], %(sequencer)b::text[],
    %(user_metadata)b::jsonb[], %(payload)b::jsonb[], %(status)b::text[], %(note)b::text[],
    %(principal_id)b::text[], %(source_ip)b::text[], %(request_id)b::text[]
) AS e (dedup_key, sender, origin, event_name, event_kind, bucket, object_key, event_time,
        etag, version_id, size_bytes, content_type, sequencer, user_metadata, payload,
        status, note, principal_id, source_ip, request_id)
ON CONFLICT (dedup_key) DO NOTHING
RETURNING id, dedup_key
