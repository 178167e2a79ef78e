-- Analysis: datasets, runs, lineage and anomalies (notifier/analysis/).
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: analysis_lock
-- One analysis at a time (workers' per-row hook, `notifier analyze`, `report`).
SELECT pg_advisory_xact_lock(1852796009)

-- name: analysis_generic_plans
-- Analysis statements are prepared once per connection and planned once (their plans
-- are chosen to hold for any batch: lookups by key per element of the batch's arrays);
-- planning the phase_rows view again on every execution costs more than running them.
SET LOCAL plan_cache_mode = force_generic_plan

-- name: analysis_hook_lock_timeout
-- A worker's per-row analysis gives way rather than wait behind a long `analyze`.
SET LOCAL lock_timeout = '2s'

-- name: unanalysed_rows
SELECT r.phase, r.phase_table, r.row_id, r.event_time, r.uri, r.bucket, r.object_key,
       r.num_registros, r.estado, r.reason, r.details, r.run_id, r.modelo_nombre,
       r.nombre_dataset, r.deleted_at, r.is_current, r.intake_event_id, r.format
FROM phase_rows AS r
WHERE NOT EXISTS (SELECT 1 FROM run_members AS m WHERE m.phase = r.phase AND m.row_id = r.row_id)
ORDER BY r.event_time, array_position(
    ARRAY['ingestion', 'transformation', 'training', 'evaluation'], r.phase), r.row_id
LIMIT %(limit)s

-- name: count_unanalysed_rows
SELECT count(*) FROM phase_rows AS r
WHERE NOT EXISTS (SELECT 1 FROM run_members AS m WHERE m.phase = r.phase AND m.row_id = r.row_id)

-- name: analysis_rows_written
-- The rows written for (phase, intake event) pairs, in the order given (the order the
-- worker wrote them in, which per-row hooks analysed them in).
SELECT r.phase, r.phase_table, r.row_id, r.event_time, r.uri, r.bucket, r.object_key,
       r.num_registros, r.estado, r.reason, r.details, r.run_id, r.modelo_nombre,
       r.nombre_dataset, r.deleted_at, r.is_current, r.intake_event_id, r.format
FROM unnest(%(phases)s::text[], %(intake_event_ids)s::bigint[]) WITH ORDINALITY
     AS w (phase, intake_event_id, ord)
JOIN phase_rows AS r ON r.phase = w.phase AND r.intake_event_id = w.intake_event_id
ORDER BY w.ord

-- name: analysis_rows_since
SELECT phase, phase_table, row_id, event_time, uri, bucket, object_key, num_registros,
       estado, reason, details, run_id, modelo_nombre, nombre_dataset, deleted_at,
       is_current, intake_event_id, format
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

-- name: dataset_arrivals
-- Each (phase, dataset)'s arrival times in the window; dataset NULL: the whole phase's.
SELECT phase, dataset, array_agg(event_time ORDER BY event_time)
FROM run_members
WHERE event_time >= %(since)s AND event_time <= %(until)s
GROUP BY GROUPING SETS ((phase, dataset), (phase))

-- name: resolve_freshness
UPDATE anomalies SET resolved_at = now(), updated_at = now()
WHERE rule = 'freshness' AND resolved_at IS NULL AND NOT (fingerprint = ANY(%(kept)s))

-- name: analysis_catch_up_lock_timeout
-- The workers' catch-up gives way to a long `notifier analyze` (or another catch-up).
SET lock_timeout = '2s'

-- name: analysis_catch_up_reset_lock_timeout
RESET lock_timeout

-- ---------------------------------------------------------------------------------
-- Batches (notifier/analysis/workspace.py): what a batch of rows needs, in a few
-- statements; arrays are the batch's, one element per row, reference or group.

-- name: analysis_batch_members
-- Members within the run gap of the batch's rows (merged time ranges), and the batch
-- rows' own, with their runs.
SELECT m.phase, m.row_id, m.pipeline_run_id, m.dataset, m.key_pattern, m.event_time,
       p.run_key, p.grouped_by, p.started_at, p.ended_at
FROM (
    SELECT m.* FROM unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) AS w (s, e)
    JOIN run_members AS m ON m.event_time >= w.s AND m.event_time <= w.e
    UNION
    SELECT m.* FROM unnest(%(phases)s::text[], %(row_ids)s::bigint[]) AS c (phase, row_id)
    JOIN run_members AS m ON m.phase = c.phase AND m.row_id = c.row_id
) AS m
CROSS JOIN LATERAL (
    SELECT * FROM pipeline_runs AS p WHERE p.id = m.pipeline_run_id OFFSET 0
) AS p

-- name: analysis_batch_runs_by_key
SELECT id, run_key, grouped_by, started_at, ended_at
FROM pipeline_runs WHERE run_key = ANY(%(keys)s::text[])

-- name: analysis_batch_run_ids
-- Ids for the runs a batch starts (taken from the sequence, so rows can name them
-- before they are inserted).
SELECT nextval(pg_get_serial_sequence('pipeline_runs', 'id'))
FROM generate_series(1, %(count)s)

-- name: analysis_batch_history
-- Each (phase, dataset) group's members between two times: what row_count,
-- schema_drift and metric_regression compare with, and the rules open on each.
-- (Row comparisons: per group along run_members_dataset, whatever the planner guesses.)
SELECT g.ord, x.row_id, x.event_time, r.estado, r.num_registros, r.uri, r.modelo_nombre,
       jsonb_typeof(r.details -> 'columns') = 'array' AS has_columns,
       jsonb_build_object('columns', r.details -> 'columns',
                          'num_columns', r.details -> 'num_columns',
                          'column_types', r.details -> 'column_types',
                          'metrics', r.details -> 'metrics') AS details,
       ARRAY(SELECT a.rule FROM anomalies AS a
             WHERE a.phase = x.phase AND a.row_id = x.row_id AND a.resolved_at IS NULL)
           AS open_rules
FROM unnest(%(phases)s::text[], %(datasets)s::text[], %(starts)s::timestamptz[],
            %(ends)s::timestamptz[]) WITH ORDINALITY AS g (phase, dataset, s, e, ord)
CROSS JOIN LATERAL (
    SELECT m.phase, m.row_id, m.event_time FROM run_members AS m
    WHERE (m.dataset, m.event_time) >= (g.dataset, g.s)
      AND (m.dataset, m.event_time) <= (g.dataset, g.e) AND m.phase = g.phase
    OFFSET 0
) AS x
CROSS JOIN LATERAL (
    SELECT * FROM phase_rows AS r WHERE r.phase = x.phase AND r.row_id = x.row_id OFFSET 0
) AS r

-- name: analysis_batch_history_before
-- Each group's latest member before its range that schema_drift (ok, columns recorded)
-- or, for evaluations, metric_regression (ok, no model name, not flagged) compares with.
SELECT g.ord, x.row_id, x.event_time, x.uri, x.details
FROM unnest(%(phases)s::text[], %(datasets)s::text[], %(starts)s::timestamptz[])
     WITH ORDINALITY AS g (phase, dataset, s, ord)
CROSS JOIN LATERAL (
    SELECT m.row_id, m.event_time, r.uri,
           jsonb_build_object('columns', r.details -> 'columns',
                              'num_columns', r.details -> 'num_columns',
                              'column_types', r.details -> 'column_types',
                              'metrics', r.details -> 'metrics') AS details
    FROM run_members AS m
    CROSS JOIN LATERAL (
        SELECT * FROM phase_rows AS r WHERE r.phase = m.phase AND r.row_id = m.row_id OFFSET 0
    ) AS r
    WHERE m.dataset = g.dataset AND (m.dataset, m.event_time) < (g.dataset, g.s)
      AND m.phase = g.phase AND r.estado = 'ok'
      AND CASE WHEN g.phase = 'evaluation'
               THEN r.modelo_nombre IS NULL AND NOT EXISTS (
                   SELECT 1 FROM anomalies AS a
                   WHERE a.phase = 'evaluation' AND a.row_id = m.row_id
                     AND a.rule = 'metric_regression' AND a.resolved_at IS NULL)
               ELSE jsonb_typeof(r.details -> 'columns') = 'array' END
    ORDER BY m.dataset DESC, m.event_time DESC, m.row_id DESC
    LIMIT 1
) AS x

-- name: analysis_batch_model_evaluations
-- Each model's evaluations between two times (ok or not, flagged or not), and its
-- latest ok, unflagged one before them: what metric_regression compares with.
SELECT g.ord, e.id, e.timestamp_eval, e.estado, r.uri, r.details -> 'metrics' AS metrics,
       EXISTS (SELECT 1 FROM anomalies AS a
               WHERE a.phase = 'evaluation' AND a.row_id = e.id
                 AND a.rule = 'metric_regression' AND a.resolved_at IS NULL) AS flagged
FROM unnest(%(models)s::text[], %(starts)s::timestamptz[], %(ends)s::timestamptz[])
     WITH ORDINALITY AS g (model, s, e, ord)
JOIN evaluation_events AS e
  ON e.modelo_nombre = g.model AND e.timestamp_eval >= g.s AND e.timestamp_eval <= g.e
JOIN phase_rows AS r ON r.phase = 'evaluation' AND r.row_id = e.id
UNION ALL
SELECT g.ord, x.id, x.timestamp_eval, 'ok', x.uri, x.metrics, false
FROM unnest(%(models)s::text[], %(starts)s::timestamptz[]) WITH ORDINALITY AS g (model, s, ord)
CROSS JOIN LATERAL (
    SELECT e.id, e.timestamp_eval, r.uri, r.details -> 'metrics' AS metrics
    FROM evaluation_events AS e
    JOIN phase_rows AS r ON r.phase = 'evaluation' AND r.row_id = e.id
    WHERE e.modelo_nombre = g.model AND e.estado = 'ok' AND e.timestamp_eval < g.s
      AND NOT EXISTS (
          SELECT 1 FROM anomalies AS a
          WHERE a.phase = 'evaluation' AND a.row_id = e.id AND a.rule = 'metric_regression'
            AND a.resolved_at IS NULL)
    ORDER BY e.timestamp_eval DESC, e.id DESC
    LIMIT 1
) AS x

-- name: analysis_batch_find_objects
-- For each reference (phases, bucket or NULL, key, time): the version of the object
-- written up to the time (else the earliest later one), as a lineage source.
SELECT q.ord, s.phase, s.phase_table, s.row_id, s.event_time, s.uri, s.num_registros,
       s.estado, m.dataset,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(a.rule, a.dataset, a.score)), '[]')
        FROM anomalies AS a
        WHERE a.phase = s.phase AND a.row_id = s.row_id AND a.resolved_at IS NULL) AS open
FROM unnest(%(phases)s::text[], %(buckets)s::text[], %(keys)s::text[], %(ats)s::timestamptz[])
     WITH ORDINALITY AS q (phases, bucket, key, at, ord)
CROSS JOIN LATERAL (
    SELECT phase, phase_table, row_id, event_time, uri, num_registros, estado
    FROM phase_rows
    WHERE phase = ANY(string_to_array(q.phases, ',')) AND object_key = q.key
      AND (q.bucket IS NULL OR bucket = q.bucket)
    ORDER BY event_time <= q.at DESC,
             CASE WHEN event_time <= q.at THEN event_time END DESC NULLS LAST,
             event_time, row_id DESC
    LIMIT 1
) AS s
LEFT JOIN run_members AS m ON m.phase = s.phase AND m.row_id = s.row_id

-- name: analysis_batch_find_by_name
-- For each declared name (phases, name, time): the latest ok row before the time whose
-- name, dataset or a dataset segment is the name, as a source; a model file before a
-- model card (a sidecar's own row describes the model file).
SELECT q.ord, s.phase, s.phase_table, s.row_id, s.event_time, s.uri, s.num_registros,
       s.estado, s.dataset, s.named, s.is_card,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(a.rule, a.dataset, a.score)), '[]')
        FROM anomalies AS a
        WHERE a.phase = s.phase AND a.row_id = s.row_id AND a.resolved_at IS NULL) AS open
FROM unnest(%(phases)s::text[], %(names)s::text[], %(ats)s::timestamptz[])
     WITH ORDINALITY AS q (phases, name, at, ord)
CROSS JOIN LATERAL (
    SELECT r.phase, r.phase_table, r.row_id, r.event_time, r.uri, r.num_registros, r.estado,
           m.dataset,
           coalesce(r.modelo_nombre = q.name OR r.nombre_dataset = q.name, false) AS named,
           r.format IS NOT DISTINCT FROM 'model_card' AS is_card
    FROM phase_rows AS r
    LEFT JOIN run_members AS m ON m.phase = r.phase AND m.row_id = r.row_id
    WHERE r.phase = ANY(string_to_array(q.phases, ',')) AND r.estado = 'ok'
      AND r.event_time <= q.at
      AND (r.modelo_nombre = q.name OR r.nombre_dataset = q.name OR m.dataset = q.name
           OR q.name = ANY(string_to_array(m.dataset, '/')))
    ORDER BY named DESC, r.format IS NOT DISTINCT FROM 'model_card', r.event_time DESC,
             r.row_id DESC
    LIMIT 1
) AS s

-- name: analysis_batch_rows_of_run_ids
-- The ok rows carrying any of the run ids, as sources.
SELECT r.run_id, r.phase, r.phase_table, r.row_id, r.event_time, r.uri, r.num_registros,
       r.estado, m.dataset,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(a.rule, a.dataset, a.score)), '[]')
        FROM anomalies AS a
        WHERE a.phase = r.phase AND a.row_id = r.row_id AND a.resolved_at IS NULL) AS open
FROM phase_rows AS r
LEFT JOIN run_members AS m ON m.phase = r.phase AND m.row_id = r.row_id
WHERE r.run_id = ANY(%(run_ids)s::text[]) AND r.estado = 'ok'
  AND r.phase = ANY(%(phases)s::text[])

-- name: analysis_batch_latest_outputs
-- For each (phase, time, since): the latest upstream ok output in the window, as a source.
SELECT q.ord, s.phase, s.phase_table, s.row_id, s.event_time, s.uri, s.num_registros,
       s.estado, m.dataset,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(a.rule, a.dataset, a.score)), '[]')
        FROM anomalies AS a
        WHERE a.phase = s.phase AND a.row_id = s.row_id AND a.resolved_at IS NULL) AS open
FROM unnest(%(phases)s::text[], %(ats)s::timestamptz[], %(sinces)s::timestamptz[])
     WITH ORDINALITY AS q (phase, at, since, ord)
CROSS JOIN LATERAL (
    SELECT phase, phase_table, row_id, event_time, uri, num_registros, estado
    FROM phase_rows
    WHERE phase = q.phase AND estado = 'ok' AND event_time <= q.at AND event_time >= q.since
      AND coalesce(num_registros, 1) > 0
    ORDER BY event_time DESC, row_id DESC
    LIMIT 1
) AS s
LEFT JOIN run_members AS m ON m.phase = s.phase AND m.row_id = s.row_id

-- name: analysis_batch_update_runs
UPDATE pipeline_runs AS p
SET run_key = u.run_key, started_at = u.started_at, ended_at = u.ended_at,
    updated_at = CASE WHEN p.run_key <> u.run_key THEN now() ELSE p.updated_at END
FROM unnest(%(ids)s::bigint[], %(keys)s::text[], %(starts)s::timestamptz[],
            %(ends)s::timestamptz[]) AS u (id, run_key, started_at, ended_at)
WHERE p.id = u.id

-- name: analysis_batch_insert_runs
INSERT INTO pipeline_runs (id, run_key, grouped_by, started_at, ended_at)
SELECT * FROM unnest(%(ids)s::bigint[], %(keys)s::text[], %(grouped_by)s::text[],
                     %(starts)s::timestamptz[], %(ends)s::timestamptz[])

-- name: analysis_batch_merge_runs
-- Sessions a late row bridged: members and anomalies follow, the merged run goes.
WITH moves AS (
    SELECT * FROM unnest(%(froms)s::bigint[], %(intos)s::bigint[]) AS x ("from", "into")
), members_moved AS (
    UPDATE run_members AS m SET pipeline_run_id = moves."into"
    FROM moves WHERE m.pipeline_run_id = moves."from"
), anomalies_moved AS (
    UPDATE anomalies AS a SET pipeline_run_id = moves."into"
    FROM moves WHERE a.pipeline_run_id = moves."from"
)
SELECT 1

-- name: analysis_batch_delete_runs
DELETE FROM pipeline_runs WHERE id = ANY(%(ids)s::bigint[])

-- name: analysis_batch_upsert_members
-- %(rows)s: a JSON array of members (one object each; cheaper to send than arrays).
INSERT INTO run_members (phase, row_id, pipeline_run_id, dataset, key_pattern, event_time)
SELECT phase, row_id, run, dataset, key_pattern, event_time
FROM json_to_recordset(%(rows)s::json) AS x (phase text, row_id bigint, run bigint,
                                             dataset text, key_pattern text,
                                             event_time timestamptz)
ON CONFLICT (phase, row_id) DO UPDATE
SET pipeline_run_id = excluded.pipeline_run_id, dataset = excluded.dataset,
    key_pattern = excluded.key_pattern, event_time = excluded.event_time

-- name: analysis_batch_delete_links
-- Links into the batch's rows, by phase table (ids per table: index lookups).
DELETE FROM lineage_links
WHERE (to_table = 'transformation_events' AND to_id = ANY(%(transformation)s::bigint[]))
   OR (to_table = 'training_events' AND to_id = ANY(%(training)s::bigint[]))
   OR (to_table = 'evaluation_events' AND to_id = ANY(%(evaluation)s::bigint[]))

-- name: analysis_batch_insert_links
INSERT INTO lineage_links (from_table, from_id, to_table, to_id, method, confidence,
                           reference, reason)
SELECT from_table, from_id, to_table, to_id, method, confidence, reference, reason
FROM ROWS FROM (json_to_recordset(%(rows)s::json)
                AS (from_table text, from_id bigint, to_table text, to_id bigint,
                    method text, confidence real, reference text, reason text))
     WITH ORDINALITY AS l (from_table, from_id, to_table, to_id, method, confidence,
                           reference, reason, ord)
ORDER BY ord

-- name: analysis_batch_upsert_anomalies
INSERT INTO anomalies (fingerprint, rule, phase, row_id, dataset, pipeline_run_id, severity,
                       reason, score, details, observed_at)
SELECT fingerprint, rule, phase, row_id, dataset, run, severity, reason, score, details,
       observed_at
FROM ROWS FROM (json_to_recordset(%(rows)s::json)
                AS (fingerprint text, rule text, phase text, row_id bigint, dataset text,
                    run bigint, severity text, reason text, score float8, details jsonb,
                    observed_at timestamptz))
     WITH ORDINALITY AS x (fingerprint, rule, phase, row_id, dataset, run, severity, reason,
                           score, details, observed_at, ord)
ORDER BY ord
ON CONFLICT (fingerprint) DO UPDATE
SET rule = excluded.rule, phase = excluded.phase, row_id = excluded.row_id,
    dataset = excluded.dataset, pipeline_run_id = excluded.pipeline_run_id,
    severity = excluded.severity, reason = excluded.reason, score = excluded.score,
    details = excluded.details, observed_at = excluded.observed_at, resolved_at = NULL,
    updated_at = CASE
        WHEN (anomalies.reason, anomalies.severity, anomalies.resolved_at IS NULL)
             IS DISTINCT FROM (excluded.reason, excluded.severity, true)
        THEN now() ELSE anomalies.updated_at END

-- name: analysis_batch_resolve_anomalies
-- The batch rows' open anomalies that were not found again (row ids per phase).
UPDATE anomalies SET resolved_at = now(), updated_at = now()
WHERE ((phase = 'ingestion' AND row_id = ANY(%(ingestion)s::bigint[]))
       OR (phase = 'transformation' AND row_id = ANY(%(transformation)s::bigint[]))
       OR (phase = 'training' AND row_id = ANY(%(training)s::bigint[]))
       OR (phase = 'evaluation' AND row_id = ANY(%(evaluation)s::bigint[])))
  AND resolved_at IS NULL AND NOT (fingerprint = ANY(%(kept)s::text[]))

-- name: analysis_batch_run_facts
-- Bounds, phases, failures (not superseded) and open anomalies of runs; and the phases
-- runs of the preceding window produced (the expected ones) come from
-- analysis_batch_runs_started.
-- A member's estado is read from its own phase table by id (an index lookup per
-- member, whatever plan a run count gets; a join through phase_rows may scan them all).
SELECT m.pipeline_run_id, min(m.event_time), max(m.event_time), array_agg(DISTINCT m.phase),
       count(*) FILTER (WHERE CASE WHEN CASE m.phase
                WHEN 'ingestion' THEN (SELECT estado FROM ingestion_events WHERE id = m.row_id)
                WHEN 'transformation' THEN
                    (SELECT estado FROM transformation_events WHERE id = m.row_id)
                WHEN 'training' THEN (SELECT estado FROM training_events WHERE id = m.row_id)
                WHEN 'evaluation' THEN (SELECT estado FROM evaluation_events WHERE id = m.row_id)
                END = 'error'
           THEN NOT EXISTS (SELECT 1 FROM superseded_errors AS s
                            WHERE s.phase = m.phase AND s.row_id = m.row_id)
           ELSE false END),
       (SELECT coalesce(array_agg(a.rule ORDER BY a.observed_at, a.id), '{}')
        FROM anomalies AS a
        WHERE a.pipeline_run_id = m.pipeline_run_id AND a.resolved_at IS NULL
          AND a.severity IN ('warning', 'critical') AND a.row_id IS NOT NULL)
FROM run_members AS m
WHERE m.pipeline_run_id = ANY(%(ids)s::bigint[])
GROUP BY m.pipeline_run_id

-- name: analysis_batch_runs_started
-- The runs started in the window before the given runs' rows, and those runs: what
-- their expected phases come from.
WITH bounds AS (
    SELECT min(event_time) AS low, max(event_time) AS high
    FROM (SELECT event_time FROM run_members WHERE pipeline_run_id = ANY(%(ids)s::bigint[])
          OFFSET 0) AS m
)
SELECT p.id, p.started_at, p.phases FROM pipeline_runs AS p, bounds AS b
WHERE p.started_at >= b.low - make_interval(days => %(window_days)s) AND p.started_at <= b.high
UNION
SELECT id, started_at, phases FROM pipeline_runs WHERE id = ANY(%(ids)s::bigint[])

-- name: analysis_batch_update_run_states
UPDATE pipeline_runs AS p
SET started_at = u.started_at, ended_at = u.ended_at,
    phases = string_to_array(u.phases, ','), status = u.status, reason = u.reason,
    updated_at = now()
FROM unnest(%(ids)s::bigint[], %(starts)s::timestamptz[], %(ends)s::timestamptz[],
            %(phases)s::text[], %(statuses)s::text[], %(reasons)s::text[])
     AS u (id, started_at, ended_at, phases, status, reason)
WHERE p.id = u.id
  AND (p.started_at, p.ended_at, p.phases, p.status, coalesce(p.reason, ''))
      IS DISTINCT FROM (u.started_at, u.ended_at, string_to_array(u.phases, ','), u.status,
                        coalesce(u.reason, ''))

-- name: analysis_batch_run_inputs_near
-- The ok ingestion members of the runs a batch may join (those of the members near its
-- rows, of its rows and of its run keys): a transformation's session inputs.
WITH runs AS (
    SELECT m.pipeline_run_id AS id
    FROM unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) AS w (s, e)
    JOIN run_members AS m ON m.event_time >= w.s AND m.event_time <= w.e
    UNION
    SELECT m.pipeline_run_id
    FROM unnest(%(phases)s::text[], %(row_ids)s::bigint[]) AS c (phase, row_id)
    JOIN run_members AS m ON m.phase = c.phase AND m.row_id = c.row_id
    UNION
    SELECT id FROM pipeline_runs WHERE run_key = ANY(%(keys)s::text[])
)
SELECT m.pipeline_run_id, m.dataset, m.key_pattern, 'ingestion', 'ingestion_events', i.id,
       i.timestamp_ingesta, i.ruta_minio, i.num_registros, i.estado,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(a.rule, a.dataset, a.score)), '[]')
        FROM anomalies AS a
        WHERE a.phase = 'ingestion' AND a.row_id = i.id AND a.resolved_at IS NULL) AS open
FROM runs
CROSS JOIN LATERAL (
    SELECT * FROM run_members AS m
    WHERE m.pipeline_run_id = runs.id AND m.phase = 'ingestion'
    OFFSET 0
) AS m
CROSS JOIN LATERAL (
    SELECT * FROM ingestion_events AS i WHERE i.id = m.row_id AND i.estado = 'ok' OFFSET 0
) AS i
