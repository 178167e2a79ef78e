-- Analysis: datasets, runs, lineage and anomalies derived from the four phase tables,
-- and the views that answer the four audit questions.
--
-- Everything here is derived: `notifier analyze` rebuilds it from the phase tables.
-- Phases are named by their short name (ingestion, transformation, training,
-- evaluation); lineage names the phase tables themselves (from_table / to_table).

-- Current-object flag of the versions migration (003); a no-op once it has run.
ALTER TABLE ingestion_events ADD COLUMN IF NOT EXISTS is_current boolean DEFAULT true;
ALTER TABLE transformation_events ADD COLUMN IF NOT EXISTS is_current boolean DEFAULT true;
ALTER TABLE training_events ADD COLUMN IF NOT EXISTS is_current boolean DEFAULT true;
ALTER TABLE evaluation_events ADD COLUMN IF NOT EXISTS is_current boolean DEFAULT true;

-- A pipeline run: the rows one execution wrote, grouped by their run_id column, or
-- else by a session in time (rows less than NOTIFIER_RUN_GAP_MINUTES apart).
-- run_key is stable across recomputes, so is id: an alert sender or an OpenLineage
-- exporter can key on either.
CREATE TABLE IF NOT EXISTS pipeline_runs (
    id          bigserial   PRIMARY KEY,
    run_key     text        NOT NULL UNIQUE,
    grouped_by  text        NOT NULL CHECK (grouped_by IN ('run_id', 'session')),
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz NOT NULL,
    phases      text[]      NOT NULL DEFAULT '{}',
    status      text        NOT NULL DEFAULT 'in_progress'
                CHECK (status IN ('complete', 'in_progress', 'incomplete', 'failed', 'anomalous')),
    reason      text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS pipeline_runs_started ON pipeline_runs (started_at);

-- Each analysed audit row: its dataset identity, key pattern and run.
CREATE TABLE IF NOT EXISTS run_members (
    phase           text        NOT NULL
                    CHECK (phase IN ('ingestion', 'transformation', 'training', 'evaluation')),
    row_id          bigint      NOT NULL,
    pipeline_run_id bigint      NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
    dataset         text        NOT NULL,
    key_pattern     text        NOT NULL,
    event_time      timestamptz NOT NULL,
    PRIMARY KEY (phase, row_id)
);
CREATE INDEX IF NOT EXISTS run_members_run ON run_members (pipeline_run_id);
CREATE INDEX IF NOT EXISTS run_members_dataset ON run_members (dataset, event_time);
CREATE INDEX IF NOT EXISTS run_members_time ON run_members (event_time);

-- Lineage: from an input row to the row that used it (a dataset object to a model,
-- a model to its evaluation, a transformation's input to its output). from_id is NULL
-- when a declared reference names nothing audited (reference keeps its text).
CREATE TABLE IF NOT EXISTS lineage_links (
    id          bigserial   PRIMARY KEY,
    from_table  text        CHECK (from_table IN ('ingestion_events', 'transformation_events',
                                                  'training_events', 'evaluation_events')),
    from_id     bigint,
    to_table    text        NOT NULL CHECK (to_table IN ('transformation_events',
                                                         'training_events', 'evaluation_events')),
    to_id       bigint      NOT NULL,
    method      text        NOT NULL CHECK (method IN ('declared', 'run_id', 'inferred')),
    confidence  real        NOT NULL CHECK (confidence > 0 AND confidence <= 1),
    reference   text,
    reason      text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS lineage_links_to ON lineage_links (to_table, to_id);
CREATE INDEX IF NOT EXISTS lineage_links_from ON lineage_links (from_table, from_id);

-- One anomaly per rule and subject (fingerprint): recomputing updates it in place, so
-- its id and detected_at stay; one no longer found is resolved, not deleted.
CREATE TABLE IF NOT EXISTS anomalies (
    id              bigserial   PRIMARY KEY,
    fingerprint     text        NOT NULL UNIQUE,
    rule            text        NOT NULL,
    phase           text        NOT NULL,
    row_id          bigint,
    dataset         text,
    pipeline_run_id bigint      REFERENCES pipeline_runs (id) ON DELETE SET NULL,
    -- info: recorded but explained (e.g. a count that follows its flagged input);
    -- not a problem, and not used to train later verdicts.
    severity        text        NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    reason          text        NOT NULL,
    score           double precision,
    details         jsonb       NOT NULL DEFAULT '{}',
    observed_at     timestamptz NOT NULL,
    detected_at     timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz
);
CREATE INDEX IF NOT EXISTS anomalies_row ON anomalies (phase, row_id);
CREATE INDEX IF NOT EXISTS anomalies_open ON anomalies (observed_at) WHERE resolved_at IS NULL;

-- Declared references may be bare keys (no bucket): find them without a scan.
CREATE INDEX IF NOT EXISTS ingestion_events_key ON ingestion_events (object_key);
CREATE INDEX IF NOT EXISTS transformation_events_key ON transformation_events (object_key);
CREATE INDEX IF NOT EXISTS training_events_key ON training_events (object_key);

-- The four phase tables as one relation, for analysis, the views below and the dashboard.
-- A filter or ORDER BY on event_time reaches each table's timestamp index.
CREATE OR REPLACE VIEW phase_rows AS
SELECT 'ingestion'::text AS phase, 'ingestion_events'::text AS phase_table, id AS row_id,
       timestamp_ingesta AS event_time, ruta_minio AS uri, bucket, object_key,
       num_registros, estado, reason, details, run_id, modelo_nombre, nombre_dataset,
       deleted_at, is_current, intake_event_id, etag, version_id, size_bytes, format,
       processed_at, origin
FROM ingestion_events
UNION ALL
SELECT 'transformation', 'transformation_events', id, timestamp_transformacion, ruta_minio,
       bucket, object_key, num_registros, estado, reason, details, run_id, modelo_nombre,
       nombre_dataset, deleted_at, is_current, intake_event_id, etag, version_id, size_bytes,
       format, processed_at, origin
FROM transformation_events
UNION ALL
SELECT 'training', 'training_events', id, timestamp_entrenamiento, ruta_modelo, bucket,
       object_key, num_registros, estado, reason, details, run_id, modelo_nombre,
       nombre_dataset, deleted_at, is_current, intake_event_id, etag, version_id, size_bytes,
       format, processed_at, origin
FROM training_events
UNION ALL
SELECT 'evaluation', 'evaluation_events', id, timestamp_eval, ruta_resultados, bucket,
       object_key, num_registros, estado, reason, details, run_id, modelo_nombre,
       nombre_dataset, deleted_at, is_current, intake_event_id, etag, version_id, size_bytes,
       format, processed_at, origin
FROM evaluation_events;

-- Q1. When did each phase last run?
CREATE OR REPLACE VIEW last_run_per_phase AS
SELECT DISTINCT ON (r.phase)
       r.phase,
       r.event_time AS last_at,
       r.uri        AS last_uri,
       r.estado     AS last_estado,
       m.dataset    AS last_dataset,
       ok.last_ok_at,
       p.id         AS pipeline_run_id,
       p.status     AS pipeline_run_status
FROM phase_rows AS r
LEFT JOIN run_members AS m ON m.phase = r.phase AND m.row_id = r.row_id
LEFT JOIN pipeline_runs AS p ON p.id = m.pipeline_run_id
LEFT JOIN LATERAL (
    SELECT max(o.event_time) AS last_ok_at FROM phase_rows AS o
    WHERE o.phase = r.phase AND o.estado = 'ok'
) AS ok ON true
ORDER BY r.phase, r.event_time DESC, r.row_id DESC;

-- Q2. Which dataset(s) trained each model, how that is known, and how sure it is.
CREATE OR REPLACE VIEW model_lineage AS
SELECT t.id                AS training_id,
       t.ruta_modelo       AS model_uri,
       coalesce(t.modelo_nombre, mm.dataset) AS model,
       t.timestamp_entrenamiento AS trained_at,
       t.estado            AS model_estado,
       l.method,
       l.confidence,
       l.reference,
       l.reason,
       l.from_table        AS input_table,
       l.from_id           AS input_id,
       i.uri               AS input_uri,
       im.dataset          AS input_dataset,
       i.num_registros     AS input_records,
       i.event_time        AS input_at
FROM training_events AS t
LEFT JOIN run_members AS mm ON mm.phase = 'training' AND mm.row_id = t.id
LEFT JOIN lineage_links AS l ON l.to_table = 'training_events' AND l.to_id = t.id
LEFT JOIN phase_rows AS i ON i.phase_table = l.from_table AND i.row_id = l.from_id
LEFT JOIN run_members AS im ON im.phase = i.phase AND im.row_id = i.row_id;

-- Q3. Records per phase, day and dataset, over the objects that exist now.
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
GROUP BY 1, 2, 3;

-- Q4. What went wrong: failed rows, open anomalies (lateness included) and runs
-- that failed, looked anomalous or never completed.
CREATE OR REPLACE VIEW problems AS
SELECT 'error'::text AS kind, r.event_time AS at, r.phase, m.dataset, r.uri,
       m.pipeline_run_id, NULL::text AS rule, 'critical'::text AS severity,
       coalesce(r.reason, 'error') AS reason, NULL::bigint AS anomaly_id
FROM phase_rows AS r
LEFT JOIN run_members AS m ON m.phase = r.phase AND m.row_id = r.row_id
WHERE r.estado = 'error'
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
