-- Batched analysis (notifier/analysis/workspace.py).
-- A run's anomalies are looked up by run (its status; a merged session's anomalies move).
CREATE INDEX IF NOT EXISTS anomalies_run ON anomalies (pipeline_run_id);
-- A dataset's latest member before a time, ties broken by row id, is one index probe
-- (this index also serves every use of run_members_dataset, which it replaces).
CREATE INDEX IF NOT EXISTS run_members_dataset_row ON run_members (dataset, event_time, row_id);
DROP INDEX IF EXISTS run_members_dataset;
