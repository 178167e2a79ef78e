-- Report: the four audit questions, read from the views of sql/008_analysis.sql.

-- name: report_last_run
SELECT p.phase, l.last_at, l.last_ok_at, l.last_estado, l.last_dataset, l.last_uri,
       l.pipeline_run_id, l.pipeline_run_status
FROM unnest(ARRAY['ingestion', 'transformation', 'training', 'evaluation'])
     WITH ORDINALITY AS p (phase, position)
LEFT JOIN last_run_per_phase AS l ON l.phase = p.phase
ORDER BY p.position

-- name: report_last_pipeline_run
SELECT id, run_key, grouped_by, started_at, ended_at, phases, status, reason
FROM pipeline_runs ORDER BY started_at DESC, id DESC LIMIT 1

-- name: report_models
-- Training rows a target names: a model name, its dataset identity (or a segment of
-- it), an object key, bucket/key, or an s3:// URI. Newest first. A model card's own
-- row (a sidecar such as <stem>.json next to its model) is not a model: its facts are
-- merged into the model's row (notifier/audit/model_sidecars.py).
SELECT t.id, t.ruta_modelo, t.timestamp_entrenamiento, t.estado,
       coalesce(t.modelo_nombre, m.dataset) AS model
FROM training_events AS t
LEFT JOIN run_members AS m ON m.phase = 'training' AND m.row_id = t.id
WHERE t.format IS DISTINCT FROM 'model_card'
  AND (t.ruta_modelo = %(target)s OR t.object_key = %(target)s
       OR t.bucket || '/' || t.object_key = %(target)s
       OR t.modelo_nombre = %(target)s OR m.dataset = %(target)s
       OR %(target)s = ANY(string_to_array(m.dataset, '/')))
ORDER BY t.timestamp_entrenamiento DESC, t.id DESC
LIMIT %(limit)s

-- name: report_model_inputs
SELECT input_table, input_id, input_uri, input_dataset, input_records, input_at, method,
       confidence, reference, reason
FROM model_lineage WHERE training_id = %(id)s AND method IS NOT NULL
ORDER BY confidence DESC, input_at DESC NULLS LAST

-- name: report_upstream
-- The inputs of one row (one more step up the lineage).
SELECT l.from_table, l.from_id, r.uri, m.dataset, r.num_registros, l.method, l.confidence
FROM lineage_links AS l
LEFT JOIN phase_rows AS r ON r.phase_table = l.from_table AND r.row_id = l.from_id
LEFT JOIN run_members AS m ON m.phase = r.phase AND m.row_id = r.row_id
WHERE l.to_table = %(table)s AND l.to_id = %(id)s
ORDER BY r.event_time

-- name: report_model_evaluations
SELECT e.id, e.ruta_resultados, e.timestamp_eval, e.estado, e.metrics, l.method, l.confidence
FROM lineage_links AS l
JOIN evaluation_events AS e ON e.id = l.to_id
WHERE l.from_table = 'training_events' AND l.from_id = %(id)s
  AND l.to_table = 'evaluation_events'
ORDER BY e.timestamp_eval

-- name: report_records_by_day
SELECT phase, day, sum(objects)::bigint AS objects, sum(records)::bigint AS records,
       sum(uncounted)::bigint AS uncounted
FROM records_per_phase_per_day
WHERE day >= %(since)s
GROUP BY phase, day
ORDER BY day, array_position(
    ARRAY['ingestion', 'transformation', 'training', 'evaluation'], phase)

-- name: report_records_by_dataset
SELECT phase, dataset, sum(objects)::bigint AS objects, sum(records)::bigint AS records,
       sum(uncounted)::bigint AS uncounted, min(day) AS first_day, max(day) AS last_day
FROM records_per_phase_per_day
WHERE day >= %(since)s
GROUP BY phase, dataset
ORDER BY array_position(
    ARRAY['ingestion', 'transformation', 'training', 'evaluation'], phase), dataset

-- name: report_problems
SELECT kind, at, phase, dataset, uri, pipeline_run_id, rule, severity, reason, anomaly_id
FROM problems
WHERE at >= %(since)s
ORDER BY at, kind
