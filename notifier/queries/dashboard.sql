-- Dashboard: read-only questions over phase_rows (sql/008_analysis.sql).
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: dashboard_last_run_per_phase
-- The newest row of each phase (one index probe per table), and the last day's volume.
SELECT phases.phase, newest.event_time, newest.uri, newest.estado, newest.num_registros,
       (SELECT count(*) FROM phase_rows AS day
        WHERE day.phase = phases.phase AND day.event_time > now() - interval '24 hours')
         AS rows_last_day,
       (SELECT count(*) FROM phase_rows AS day
        WHERE day.phase = phases.phase AND day.event_time > now() - interval '24 hours'
          AND day.estado = 'error') AS errors_last_day
FROM (VALUES (1, 'ingestion'), (2, 'transformation'), (3, 'training'), (4, 'evaluation'))
     AS phases (position, phase)
LEFT JOIN LATERAL (
    SELECT event_time, uri, estado, num_registros FROM phase_rows
    WHERE phase_rows.phase = phases.phase
    ORDER BY event_time DESC
    LIMIT 1
) AS newest ON true
ORDER BY phases.position

-- name: dashboard_records_per_day
-- Records and rows per phase per day (UTC) over current objects (an overwritten or
-- deleted object no longer counts; a model card's row repeats its model's), for the chart.
SELECT (date_trunc('day', event_time AT TIME ZONE 'UTC'))::date AS day, phase,
       coalesce(sum(num_registros), 0)::bigint AS records, count(*) AS objects
FROM phase_rows
WHERE event_time >= now() - make_interval(days => %(days)s) AND is_current
  AND format IS DISTINCT FROM 'model_card'
GROUP BY 1, 2
ORDER BY 1, 2

-- name: dashboard_problems
-- Rows that are not ok, newest first (an error a retry superseded is history only).
SELECT phase, row_id AS id, event_time, uri, estado, reason, format
FROM phase_rows
WHERE estado <> 'ok'
  AND NOT EXISTS (SELECT 1 FROM superseded_errors AS x
                  WHERE x.phase = phase_rows.phase AND x.row_id = phase_rows.row_id)
ORDER BY event_time DESC
LIMIT %(limit)s

-- name: dashboard_search
-- Rows whose key contains the text (case-sensitive, as S3 keys are; LIKE wildcards
-- escaped by the caller), or whose model name is exactly it: every version of
-- the object, newest first. Matching first, then sorting the few matches, is faster
-- than walking the time indexes until enough rows match.
WITH matches AS MATERIALIZED (
    SELECT phase, row_id AS id, event_time, uri, bucket, object_key, version_id, etag,
           size_bytes, num_registros, estado, reason, format, deleted_at, modelo_nombre,
           nombre_dataset, run_id
    FROM phase_rows
    WHERE object_key LIKE '%%' || %(pattern)s || '%%' ESCAPE '\'
       OR modelo_nombre = %(text)s
)
SELECT * FROM matches
ORDER BY event_time DESC, id DESC
LIMIT %(limit)s
