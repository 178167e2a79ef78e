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

-- name: insert_listed_objects
-- A rescan's events for one listing page, in one statement (one round trip, atomic on
-- its own). The rows equal those insert_intake_events stores for the same events
-- (notifier.backfill.rescan.rescan_event; a test compares them), built from what
-- differs per object, sent as binary arrays: the payload (the listing entry) is made
-- here, not as one JSON document per object in Python. last_modified is the listing
-- time's isoformat(), the text the payload has always held.
INSERT INTO intake_events (
    dedup_key, sender, origin, event_name, event_kind, bucket, object_key, event_time,
    etag, version_id, size_bytes, sequencer, payload, status, note, processed_at
)
SELECT e.dedup_key, %(sender)s, 'rescan', %(event_name)s, 'created', %(bucket)s,
       e.object_key, e.last_modified::timestamptz, e.etag, e.version_id, e.size_bytes,
       e.sequencer,
       jsonb_build_object('key', e.object_key, 'etag', e.etag, 'size', e.size_bytes,
                          'last_modified', e.last_modified, 'version_id', e.version_id),
       CASE WHEN ignored.note IS NULL THEN 'pending' ELSE 'ignored' END,
       ignored.note,
       CASE WHEN ignored.note IS NOT NULL THEN now() END
FROM unnest(
    %(dedup_key)b::text[], %(object_key)b::text[], %(last_modified)b::text[],
    %(etag)b::text[], %(version_id)b::text[], %(size_bytes)b::bigint[], %(sequencer)b::text[]
) AS e (dedup_key, object_key, last_modified, etag, version_id, size_bytes, sequencer)
CROSS JOIN LATERAL (
    SELECT CASE
             WHEN %(unmapped_note)s::text IS NOT NULL THEN %(unmapped_note)s::text
             WHEN right(e.object_key, 1) = '/' AND e.size_bytes = 0 THEN %(folder_note)s::text
           END AS note
) AS ignored
ON CONFLICT (dedup_key) DO NOTHING
RETURNING id
