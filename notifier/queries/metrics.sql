-- Metrics: the queue's state, read at scrape time.
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: queue_state
-- Backlog and the age (seconds) of its oldest event; uses intake_events_claimable.
SELECT count(*), extract(epoch FROM now() - min(received_at))::float8
FROM intake_events
WHERE status IN ('pending', 'processing')

-- name: dead_letters_waiting
SELECT count(*) FROM dead_letters WHERE retried_at IS NULL

-- name: last_event_per_phase
-- Each max() is one index probe on the phase table's time index.
SELECT 'ingestion_events', extract(epoch FROM max(timestamp_ingesta))::float8 FROM ingestion_events
UNION ALL
SELECT 'transformation_events', extract(epoch FROM max(timestamp_transformacion))::float8
FROM transformation_events
UNION ALL
SELECT 'training_events', extract(epoch FROM max(timestamp_entrenamiento))::float8
FROM training_events
UNION ALL
SELECT 'evaluation_events', extract(epoch FROM max(timestamp_eval))::float8 FROM evaluation_events
