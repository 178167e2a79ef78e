-- Export: the outbox of alerts and OpenLineage events (notifier.export).
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: outbox_enqueue
-- Once per (sink, fingerprint), whoever enqueues it first and however often.
INSERT INTO export_outbox (sink, fingerprint, kind, summary, payload, next_attempt_at, status)
VALUES (%(sink)s, %(fingerprint)s, %(kind)s, %(summary)s, %(payload)s, %(now)s, %(status)s)
ON CONFLICT (sink, fingerprint) DO NOTHING
RETURNING id

-- name: outbox_claim
-- One due message, locked until this transaction ends: two senders never hold the same.
SELECT id, fingerprint, kind, payload, attempts
FROM export_outbox
WHERE sink = %(sink)s AND status = 'pending' AND next_attempt_at <= %(now)s
ORDER BY next_attempt_at, id
FOR UPDATE SKIP LOCKED
LIMIT 1

-- name: outbox_sent
UPDATE export_outbox
SET status = 'sent', attempts = attempts + 1, sent_at = now(), last_error = NULL
WHERE id = %(id)s

-- name: outbox_failed_attempt
UPDATE export_outbox
SET attempts = attempts + 1,
    status = %(status)s,
    next_attempt_at = %(next_attempt_at)s,
    last_error = %(error)s
WHERE id = %(id)s

-- name: outbox_retry_failed
UPDATE export_outbox
SET status = 'pending', attempts = 0, next_attempt_at = %(now)s
WHERE sink = %(sink)s AND status = 'failed'

-- name: outbox_counts
SELECT sink, status, count(*) AS messages, min(next_attempt_at) AS next_attempt_at
FROM export_outbox
GROUP BY sink, status
ORDER BY sink, status

-- name: outbox_undelivered
SELECT id, sink, kind, summary, status, attempts, next_attempt_at, last_error, created_at
FROM export_outbox
WHERE status IN ('pending', 'failed')
ORDER BY created_at, id
LIMIT %(limit)s

-- name: outbox_lock_timeout
-- The sender's clock-driven analysis refresh gives way to a long `notifier analyze`.
SET lock_timeout = '2s'

-- name: outbox_reset_lock_timeout
RESET lock_timeout

-- name: alert_runs
-- Runs that failed, look anomalous or never completed (late), started since %(since)s,
-- whose (run_key, status) has no alert yet.
SELECT p.run_key, p.status, p.reason, p.started_at, p.ended_at, p.phases,
       (SELECT array_agg(DISTINCT m.dataset ORDER BY m.dataset)
        FROM run_members AS m WHERE m.pipeline_run_id = p.id) AS datasets
FROM pipeline_runs AS p
WHERE p.status IN ('failed', 'anomalous', 'incomplete')
  AND p.started_at >= %(since)s
  AND NOT EXISTS (
      SELECT 1 FROM export_outbox AS o
      WHERE o.sink = 'alert' AND o.fingerprint = 'run:' || p.run_key || ':' || p.status)
ORDER BY p.started_at, p.run_key

-- name: alert_anomalies
-- Open anomalies that are problems (not info), observed since %(since)s, not alerted yet.
SELECT a.fingerprint, a.rule, a.phase, a.dataset, a.severity, a.reason, a.observed_at,
       r.uri, p.run_key
FROM anomalies AS a
LEFT JOIN phase_rows AS r ON r.phase = a.phase AND r.row_id = a.row_id
LEFT JOIN pipeline_runs AS p ON p.id = a.pipeline_run_id
WHERE a.resolved_at IS NULL AND a.severity <> 'info'
  AND a.observed_at >= %(since)s
  AND NOT EXISTS (
      SELECT 1 FROM export_outbox AS o
      WHERE o.sink = 'alert' AND o.fingerprint = 'anomaly:' || a.fingerprint)
ORDER BY a.observed_at, a.fingerprint

-- name: lineage_runs
-- Finished runs (anything but in_progress) whose event of this type is not enqueued yet.
SELECT p.run_key, p.status, p.reason, p.started_at, p.ended_at, p.phases,
       CASE WHEN p.status = 'failed' THEN 'FAIL' ELSE 'COMPLETE' END AS event_type
FROM pipeline_runs AS p
WHERE p.status <> 'in_progress'
  AND NOT EXISTS (
      SELECT 1 FROM export_outbox AS o
      WHERE o.sink = 'openlineage'
        AND o.fingerprint = 'run:' || p.run_key || ':'
            || CASE WHEN p.status = 'failed' THEN 'FAIL' ELSE 'COMPLETE' END)
ORDER BY p.started_at, p.run_key
LIMIT %(limit)s

-- name: lineage_run_datasets
-- Per dataset a run wrote: what notifier observed (objects, records of ok rows, bytes)
-- and the columns of its newest object that recorded some. own = true; then the
-- datasets outside the run that lineage links into it (own = false: inputs).
WITH members AS (
    SELECT m.phase, m.row_id, m.dataset
    FROM run_members AS m JOIN pipeline_runs AS p ON p.id = m.pipeline_run_id
    WHERE p.run_key = %(run_key)s
), linked AS (
    SELECT DISTINCT im.phase, im.row_id, im.dataset
    FROM members AS m
    JOIN lineage_links AS l ON l.to_table = m.phase || '_events' AND l.to_id = m.row_id
    JOIN run_members AS im ON im.phase || '_events' = l.from_table AND im.row_id = l.from_id
    WHERE NOT EXISTS (
        SELECT 1 FROM members AS x WHERE x.phase = im.phase AND x.row_id = im.row_id)
), rows AS (
    SELECT true AS own, phase, row_id, dataset FROM members
    UNION ALL
    SELECT false, phase, row_id, dataset FROM linked
)
SELECT s.own, s.phase, s.dataset, r.bucket,
       count(*)::bigint AS files,
       (sum(r.num_registros) FILTER (WHERE r.estado = 'ok'))::bigint AS records,
       sum(r.size_bytes)::bigint AS bytes,
       (array_agg(r.details ORDER BY r.event_time DESC, r.row_id DESC)
            FILTER (WHERE jsonb_typeof(r.details -> 'columns') = 'array'))[1] AS details
FROM rows AS s
JOIN phase_rows AS r ON r.phase = s.phase AND r.row_id = s.row_id
GROUP BY s.own, s.phase, s.dataset, r.bucket
ORDER BY s.own DESC, array_position(
    ARRAY['ingestion', 'transformation', 'training', 'evaluation'], s.phase), s.dataset
