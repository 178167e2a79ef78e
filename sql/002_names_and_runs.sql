-- Names every phase row can carry, filled from the object itself, its metadata, a
-- sidecar or a key-path template (NOTIFIER_PATH_TEMPLATES): the model's name, the
-- dataset's name and the pipeline run the object belongs to. evaluation_events
-- already had the first two (seed columns).

ALTER TABLE ingestion_events
    ADD COLUMN IF NOT EXISTS modelo_nombre text,
    ADD COLUMN IF NOT EXISTS nombre_dataset text,
    ADD COLUMN IF NOT EXISTS run_id text;
ALTER TABLE transformation_events
    ADD COLUMN IF NOT EXISTS modelo_nombre text,
    ADD COLUMN IF NOT EXISTS nombre_dataset text,
    ADD COLUMN IF NOT EXISTS run_id text;
ALTER TABLE training_events
    ADD COLUMN IF NOT EXISTS modelo_nombre text,
    ADD COLUMN IF NOT EXISTS nombre_dataset text,
    ADD COLUMN IF NOT EXISTS run_id text;
ALTER TABLE evaluation_events
    ADD COLUMN IF NOT EXISTS run_id text;

CREATE INDEX IF NOT EXISTS ingestion_events_run ON ingestion_events (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS transformation_events_run ON transformation_events (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS training_events_run ON training_events (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS evaluation_events_run ON evaluation_events (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS training_events_model ON training_events (modelo_nombre) WHERE modelo_nombre IS NOT NULL;
CREATE INDEX IF NOT EXISTS evaluation_events_model ON evaluation_events (modelo_nombre) WHERE modelo_nombre IS NOT NULL;
