-- Analysis: datasets, runs, lineage and anomalies (notifier/analysis/).
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: analysis_lock
-- One analysis at a time (workers' per-row hook, `notifier analyze`, `report`).
SELECT pg_advisory_xact_lock(1852796009)

-- name: analysis_hook_lock_timeout
-- A worker's per-row analysis gives way rather than wait behind a long `analyze`.
SET LOCAL lock_timeout = '2s'

-- name: unanalysed_rows
SELECT r.phase, r.phase_table, r.row_id, r.event_time, r.uri, r.bucket, r.object_key,
       r.num_registros, r.estado, r.reason, r.details, r.run_id, r.modelo_nombre,
       r.nombre_dataset, r.deleted_at, r.is_current, r.intake_event_id
FROM phase_rows AS r
WHERE NOT EXISTS (SELECT 1 FROM run_members AS m WHERE m.phase = r.phase AND m.row_id = r.row_id)
ORDER BY r.event_time, array_position(
    ARRAY['ingestion', 'transformation', 'training', 'evaluation'], r.phase), r.row_id
LIMIT %(limit)s

-- name: count_unanalysed_rows
SELECT count(*) FROM phase_rows AS r
WHERE NOT EXISTS (SELECT 1 FROM run_members AS m WHERE m.phase = r.phase AND m.row_id = r.row_id)

-- name: analysis_row
SELECT phase, phase_table, row_id, event_time, uri, bucket, object_key, num_registros,
       estado, reason, details, run_id, modelo_nombre, nombre_dataset, deleted_at,
       is_current, intake_event_id
FROM phase_rows WHERE phase = %(phase)s AND intake_event_id = %(intake_event_id)s

-- name: analysis_rows_since
SELECT phase, phase_table, row_id, event_time, uri, bucket, object_key, num_registros,
       estado, reason, details, run_id, modelo_nombre, nombre_dataset, deleted_at,
       is_current, intake_event_id
FROM phase_rows
WHERE event_time >= %(since)s
ORDER BY event_time, array_position(
    ARRAY['ingestion', 'transformation', 'training', 'evaluation'], phase), row_id

-- name: forget_members_since
DELETE FROM run_members WHERE event_time >= %(since)s

-- name: delete_empty_runs
DELETE FROM pipeline_runs AS p
WHERE NOT EXISTS (SELECT 1 FROM run_members AS m WHERE m.pipeline_run_id = p.id)

-- name: runs_to_refresh
-- Runs touched since a time, and runs whose status depends on the clock.
SELECT id FROM pipeline_runs
WHERE ended_at >= %(since)s OR status = 'in_progress'
ORDER BY started_at

-- name: upsert_run
INSERT INTO pipeline_runs (run_key, grouped_by, started_at, ended_at)
VALUES (%(run_key)s, %(grouped_by)s, %(at)s, %(at)s)
ON CONFLICT (run_key) DO UPDATE
SET started_at = least(pipeline_runs.started_at, excluded.started_at),
    ended_at = greatest(pipeline_runs.ended_at, excluded.ended_at)
RETURNING id

-- name: rekey_run
UPDATE pipeline_runs
SET run_key = %(run_key)s, started_at = least(started_at, %(at)s), updated_at = now()
WHERE id = %(id)s

-- name: merge_runs
WITH moved AS (
    UPDATE run_members SET pipeline_run_id = %(into)s WHERE pipeline_run_id = %(from)s
), anomalies_moved AS (
    UPDATE anomalies SET pipeline_run_id = %(into)s WHERE pipeline_run_id = %(from)s
)
DELETE FROM pipeline_runs WHERE id = %(from)s

-- name: session_neighbour_before
SELECT m.pipeline_run_id, m.event_time
FROM run_members AS m JOIN pipeline_runs AS p ON p.id = m.pipeline_run_id
WHERE p.grouped_by = 'session' AND m.event_time <= %(at)s
  AND NOT (m.phase = %(phase)s AND m.row_id = %(row_id)s)
ORDER BY m.event_time DESC
LIMIT 1

-- name: session_neighbour_after
SELECT m.pipeline_run_id, m.event_time
FROM run_members AS m JOIN pipeline_runs AS p ON p.id = m.pipeline_run_id
WHERE p.grouped_by = 'session' AND m.event_time > %(at)s
  AND NOT (m.phase = %(phase)s AND m.row_id = %(row_id)s)
ORDER BY m.event_time
LIMIT 1

-- name: upsert_run_member
INSERT INTO run_members (phase, row_id, pipeline_run_id, dataset, key_pattern, event_time)
VALUES (%(phase)s, %(row_id)s, %(run)s, %(dataset)s, %(key_pattern)s, %(event_time)s)
ON CONFLICT (phase, row_id) DO UPDATE
SET pipeline_run_id = excluded.pipeline_run_id, dataset = excluded.dataset,
    key_pattern = excluded.key_pattern, event_time = excluded.event_time

-- name: run_facts
-- Bounds, phases, failures and open anomalies of a run, and the phases runs of the
-- preceding window produced (the expected ones).
SELECT min(m.event_time), max(m.event_time),
       array_agg(DISTINCT m.phase),
       (SELECT array_agg(DISTINCT x.phase)
        FROM pipeline_runs AS o, unnest(o.phases) AS x (phase)
        WHERE o.id <> %(id)s AND o.started_at < min(m.event_time)
          AND o.started_at >= min(m.event_time) - make_interval(days => %(window_days)s)),
       count(*) FILTER (WHERE r.estado = 'error' AND NOT EXISTS (
           SELECT 1 FROM superseded_errors AS x WHERE x.phase = r.phase AND x.row_id = r.row_id)),
       (SELECT coalesce(array_agg(a.rule ORDER BY a.observed_at, a.id), '{}')
        FROM anomalies AS a
        WHERE a.pipeline_run_id = %(id)s AND a.resolved_at IS NULL
          AND a.severity IN ('warning', 'critical') AND a.row_id IS NOT NULL)
FROM run_members AS m
JOIN phase_rows AS r ON r.phase = m.phase AND r.row_id = m.row_id
WHERE m.pipeline_run_id = %(id)s

-- name: update_run
UPDATE pipeline_runs
SET started_at = %(started_at)s, ended_at = %(ended_at)s, phases = %(phases)s,
    status = %(status)s, reason = %(reason)s, updated_at = now()
WHERE id = %(id)s
  AND (started_at, ended_at, phases, status, coalesce(reason, ''))
      IS DISTINCT FROM (%(started_at)s, %(ended_at)s, %(phases)s::text[], %(status)s,
                        coalesce(%(reason)s, ''))

-- name: delete_links_to
DELETE FROM lineage_links WHERE to_table = %(to_table)s AND to_id = %(to_id)s

-- name: insert_link
INSERT INTO lineage_links (from_table, from_id, to_table, to_id, method, confidence,
                           reference, reason)
VALUES (%(from_table)s, %(from_id)s, %(to_table)s, %(to_id)s, %(method)s, %(confidence)s,
        %(reference)s, %(reason)s)

-- name: find_object
-- The version of an object written up to a time (else the earliest later one).
SELECT phase_table, row_id
FROM phase_rows
WHERE phase = ANY(%(phases)s) AND object_key = %(key)s
  AND (%(bucket)s::text IS NULL OR bucket = %(bucket)s)
ORDER BY event_time <= %(at)s DESC,
         CASE WHEN event_time <= %(at)s THEN event_time END DESC NULLS LAST,
         event_time, row_id DESC
LIMIT 1

-- name: find_by_name
-- The latest ok row before a time whose name, dataset or a dataset segment is the name;
-- a model file before a model card (a sidecar's own row describes the model file).
SELECT r.phase_table, r.row_id, r.uri,
       coalesce(r.modelo_nombre = %(name)s OR r.nombre_dataset = %(name)s, false) AS named
FROM phase_rows AS r
LEFT JOIN run_members AS m ON m.phase = r.phase AND m.row_id = r.row_id
WHERE r.phase = ANY(%(phases)s) AND r.estado = 'ok' AND r.event_time <= %(at)s
  AND (r.modelo_nombre = %(name)s OR r.nombre_dataset = %(name)s OR m.dataset = %(name)s
       OR %(name)s = ANY(string_to_array(m.dataset, '/')))
ORDER BY named DESC, r.format IS NOT DISTINCT FROM 'model_card', r.event_time DESC,
         r.row_id DESC
LIMIT 1

-- name: rows_of_run_id
SELECT phase_table, row_id FROM phase_rows
WHERE phase = %(phase)s AND run_id = %(run_id)s AND estado = 'ok' AND event_time <= %(at)s
ORDER BY event_time, row_id

-- name: session_inputs
-- A run's earlier ok objects of a phase: uri, and whether their dataset's name (bucket
-- aside) is the given one.
SELECT r.phase_table, r.row_id, r.uri,
       substr(m.dataset, strpos(m.dataset || '/', '/') + 1) = %(name)s AS same_name
FROM run_members AS m
JOIN phase_rows AS r ON r.phase = m.phase AND r.row_id = m.row_id
WHERE m.pipeline_run_id = %(run)s AND m.phase = %(phase)s AND m.event_time <= %(at)s
  AND r.estado = 'ok'
ORDER BY m.event_time, m.row_id

-- name: latest_output_before
SELECT phase_table, row_id, uri FROM phase_rows
WHERE phase = %(phase)s AND estado = 'ok' AND event_time <= %(at)s AND event_time >= %(since)s
  AND coalesce(num_registros, 1) > 0
ORDER BY event_time DESC, row_id DESC
LIMIT 1

-- name: lineage_inputs
-- A transformation's inputs: dataset, records, estado, method, confidence, uri.
SELECT coalesce(m.dataset, r.uri), r.num_registros, r.estado, l.method, l.confidence, r.uri
FROM lineage_links AS l
JOIN phase_rows AS r ON r.phase_table = l.from_table AND r.row_id = l.from_id
LEFT JOIN run_members AS m ON m.phase = r.phase AND m.row_id = r.row_id
WHERE l.to_table = 'transformation_events' AND l.to_id = %(to_id)s

-- name: flagged_inputs
-- Inputs of a transformation output with an open anomaly of a rule: dataset, score.
SELECT a.dataset, a.score
FROM lineage_links AS l
JOIN anomalies AS a ON a.phase || '_events' = l.from_table AND a.row_id = l.from_id
WHERE l.to_table = 'transformation_events' AND l.to_id = %(to_id)s
  AND a.rule = %(rule)s AND a.resolved_at IS NULL

-- name: row_count_history
-- Record counts of a dataset's earlier ok objects in the window, flagged ones left out.
SELECT r.num_registros
FROM run_members AS m
JOIN phase_rows AS r ON r.phase = m.phase AND r.row_id = m.row_id
WHERE m.phase = %(phase)s AND m.dataset = %(dataset)s
  AND m.event_time >= %(since)s AND m.event_time <= %(until)s AND m.row_id <> %(row_id)s
  AND (m.event_time < %(until)s OR m.row_id < %(row_id)s)
  AND r.estado = 'ok' AND r.num_registros > 0
  AND NOT EXISTS (
      SELECT 1 FROM anomalies AS a
      WHERE a.phase = m.phase AND a.row_id = m.row_id AND a.resolved_at IS NULL
        AND a.rule IN ('row_count', 'empty_output'))
ORDER BY m.event_time

-- name: previous_schema
-- details, uri and time of a dataset's latest earlier ok object that recorded columns.
SELECT r.details, r.uri, r.event_time
FROM run_members AS m
JOIN phase_rows AS r ON r.phase = m.phase AND r.row_id = m.row_id
WHERE m.phase = %(phase)s AND m.dataset = %(dataset)s AND m.row_id <> %(row_id)s
  AND (m.event_time < %(until)s OR (m.event_time = %(until)s AND m.row_id < %(row_id)s))
  AND r.estado = 'ok' AND jsonb_typeof(r.details -> 'columns') = 'array'
ORDER BY m.event_time DESC, m.row_id DESC
LIMIT 1

-- name: previous_evaluation_of_model
-- metrics, uri and time of the model's latest earlier ok evaluation not itself flagged.
SELECT r.details -> 'metrics', r.uri, r.event_time
FROM evaluation_events AS e
JOIN phase_rows AS r ON r.phase = 'evaluation' AND r.row_id = e.id
WHERE e.modelo_nombre = %(model)s AND e.id <> %(row_id)s AND e.estado = 'ok'
  AND (e.timestamp_eval < %(until)s OR (e.timestamp_eval = %(until)s AND e.id < %(row_id)s))
  AND NOT EXISTS (
      SELECT 1 FROM anomalies AS a
      WHERE a.phase = 'evaluation' AND a.row_id = e.id AND a.rule = %(rule)s
        AND a.resolved_at IS NULL)
ORDER BY e.timestamp_eval DESC, e.id DESC
LIMIT 1

-- name: previous_evaluation_of_dataset
SELECT r.details -> 'metrics', r.uri, r.event_time
FROM run_members AS m
JOIN phase_rows AS r ON r.phase = m.phase AND r.row_id = m.row_id
WHERE m.phase = 'evaluation' AND m.dataset = %(dataset)s AND m.row_id <> %(row_id)s
  AND (m.event_time < %(until)s OR (m.event_time = %(until)s AND m.row_id < %(row_id)s))
  AND r.estado = 'ok' AND r.modelo_nombre IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM anomalies AS a
      WHERE a.phase = 'evaluation' AND a.row_id = m.row_id AND a.rule = %(rule)s
        AND a.resolved_at IS NULL)
ORDER BY m.event_time DESC, m.row_id DESC
LIMIT 1

-- name: dataset_arrivals
-- Each (phase, dataset)'s arrival times in the window; dataset NULL: the whole phase's.
SELECT phase, dataset, array_agg(event_time ORDER BY event_time)
FROM run_members
WHERE event_time >= %(since)s AND event_time <= %(until)s
GROUP BY GROUPING SETS ((phase, dataset), (phase))

-- name: upsert_anomaly
INSERT INTO anomalies (fingerprint, rule, phase, row_id, dataset, pipeline_run_id, severity,
                       reason, score, details, observed_at)
VALUES (%(fingerprint)s, %(rule)s, %(phase)s, %(row_id)s, %(dataset)s, %(run)s, %(severity)s,
        %(reason)s, %(score)s, %(details)s, %(observed_at)s)
ON CONFLICT (fingerprint) DO UPDATE
SET rule = excluded.rule, phase = excluded.phase, row_id = excluded.row_id,
    dataset = excluded.dataset, pipeline_run_id = excluded.pipeline_run_id,
    severity = excluded.severity, reason = excluded.reason, score = excluded.score,
    details = excluded.details, observed_at = excluded.observed_at, resolved_at = NULL,
    updated_at = CASE
        WHEN (anomalies.reason, anomalies.severity, anomalies.resolved_at IS NULL)
             IS DISTINCT FROM (excluded.reason, excluded.severity, true)
        THEN now() ELSE anomalies.updated_at END
RETURNING id

-- name: resolve_row_anomalies
-- A row's open anomalies that were not found again.
UPDATE anomalies SET resolved_at = now(), updated_at = now()
WHERE phase = %(phase)s AND row_id = %(row_id)s AND resolved_at IS NULL
  AND NOT (fingerprint = ANY(%(kept)s))

-- name: resolve_freshness
UPDATE anomalies SET resolved_at = now(), updated_at = now()
WHERE rule = 'freshness' AND resolved_at IS NULL AND NOT (fingerprint = ANY(%(kept)s))

-- name: analysis_catch_up_lock_timeout
-- The workers' catch-up gives way to a long `notifier analyze` (or another catch-up).
SET lock_timeout = '2s'

-- name: analysis_catch_up_reset_lock_timeout
RESET lock_timeout
