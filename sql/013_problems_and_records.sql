-- An error row is superseded once another row of the same object version (same phase,
-- bucket, key, version id and etag) is not an error: a transient error retried by
-- `notifier rescan` or `reconcile --fix`. It stays in the history; it is no longer a
-- problem, and it no longer fails its run (notifier/audit/versions.py lets the better
-- row stand for the version in the same way).
CREATE OR REPLACE VIEW superseded_errors AS
SELECT e.phase, e.row_id
FROM phase_rows AS e
WHERE e.estado = 'error' AND e.bucket IS NOT NULL
  AND EXISTS (
      SELECT 1 FROM phase_rows AS s
      WHERE s.phase = e.phase AND s.bucket = e.bucket AND s.object_key = e.object_key
        AND coalesce(nullif(s.version_id, 'null'), '')
            = coalesce(nullif(e.version_id, 'null'), '')
        AND s.etag IS NOT DISTINCT FROM e.etag
        AND s.estado <> 'error'
  );

CREATE OR REPLACE VIEW problems AS
SELECT 'error'::text AS kind, r.event_time AS at, r.phase, m.dataset, r.uri,
       m.pipeline_run_id, NULL::text AS rule, 'critical'::text AS severity,
       coalesce(r.reason, 'error') AS reason, NULL::bigint AS anomaly_id
FROM phase_rows AS r
LEFT JOIN run_members AS m ON m.phase = r.phase AND m.row_id = r.row_id
WHERE r.estado = 'error'
  AND NOT EXISTS (SELECT 1 FROM superseded_errors AS x
                  WHERE x.phase = r.phase AND x.row_id = r.row_id)
UNION ALL
SELECT CASE WHEN a.rule = 'freshness' THEN 'late' ELSE 'anomaly' END, a.observed_at,
       a.phase, a.dataset, r.uri, a.pipeline_run_id, a.rule, a.severity, a.reason, a.id
FROM anomalies AS a
LEFT JOIN phase_rows AS r ON r.phase = a.phase AND r.row_id = a.row_id
WHERE a.resolved_at IS NULL AND a.severity <> 'info'
UNION ALL
SELECT 'run', p.started_at, NULL, NULL, NULL, p.id, NULL,
       CASE WHEN p.status = 'failed' THEN 'critical' ELSE 'warning' END,
       'run ' || p.id || ' ' || p.status || coalesce(': ' || p.reason, '')
       || ' (' || array_to_string(p.phases, ', ') || ')', NULL
FROM pipeline_runs AS p
WHERE p.status IN ('failed', 'anomalous', 'incomplete');

-- A model card's own row repeats the count of the model it describes (README "Model
-- files"): records per phase count the model file, not its sidecar again.
CREATE OR REPLACE VIEW records_per_phase_per_day AS
SELECT r.phase,
       date_trunc('day', r.event_time AT TIME ZONE 'UTC')::date AS day,
       coalesce(m.dataset, r.bucket) AS dataset,
       count(*)               AS objects,
       sum(r.num_registros)   AS records,
       count(*) FILTER (WHERE r.num_registros IS NULL) AS uncounted
FROM phase_rows AS r
LEFT JOIN run_members AS m ON m.phase = r.phase AND m.row_id = r.row_id
WHERE r.deleted_at IS NULL AND r.is_current IS NOT FALSE AND r.estado = 'ok'
  AND r.format IS DISTINCT FROM 'model_card'
GROUP BY 1, 2, 3;
