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
