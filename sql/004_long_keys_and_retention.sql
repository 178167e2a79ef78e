-- Long object keys, and raw-event retention.
--
-- A btree index entry may not exceed about 2.7 KB (a third of a page), so the btree
-- indexes on (bucket, object_key) refused any event or audit row whose key was longer:
-- PostgreSQL raised "index row size exceeds btree version 4 maximum", and the event
-- could never be stored. Every query looks keys up by equality (object_key = x or
-- = ANY(x)), which a hash index serves for keys of any length (it stores 4-byte hash
-- codes). The phase tables keep a btree on bucket alone for reconcile's per-bucket scan.

DROP INDEX IF EXISTS intake_events_object;
CREATE INDEX IF NOT EXISTS intake_events_object_key ON intake_events USING hash (object_key);

DROP INDEX IF EXISTS ingestion_events_object;
CREATE INDEX IF NOT EXISTS ingestion_events_object_key ON ingestion_events USING hash (object_key);
CREATE INDEX IF NOT EXISTS ingestion_events_bucket ON ingestion_events (bucket);

DROP INDEX IF EXISTS transformation_events_object;
CREATE INDEX IF NOT EXISTS transformation_events_object_key
    ON transformation_events USING hash (object_key);
CREATE INDEX IF NOT EXISTS transformation_events_bucket ON transformation_events (bucket);

DROP INDEX IF EXISTS training_events_object;
CREATE INDEX IF NOT EXISTS training_events_object_key ON training_events USING hash (object_key);
CREATE INDEX IF NOT EXISTS training_events_bucket ON training_events (bucket);

DROP INDEX IF EXISTS evaluation_events_object;
CREATE INDEX IF NOT EXISTS evaluation_events_object_key
    ON evaluation_events USING hash (object_key);
CREATE INDEX IF NOT EXISTS evaluation_events_bucket ON evaluation_events (bucket);

-- Retention (`notifier events prune`): the verbatim payload of a processed event may be
-- dropped after a set age. The row stays, with every field de-duplication and the
-- audit rows need (dedup_key, bucket, object_key, etag, version_id, sequencer, ...).
ALTER TABLE intake_events ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE intake_events ADD COLUMN IF NOT EXISTS payload_pruned_at timestamptz;
