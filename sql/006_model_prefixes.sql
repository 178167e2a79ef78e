-- Sidecars are merged into the model rows of their prefix (notifier/queries/models.sql):
-- a prefix match (LIKE 'prefix%') on training rows needs a pattern-ops index.
CREATE INDEX IF NOT EXISTS training_events_prefix
    ON training_events (bucket, object_key text_pattern_ops);
