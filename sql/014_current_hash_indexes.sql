-- The partial indexes of current rows (003) were btree indexes on (bucket, object_key),
-- which a key of about 3 KB overflows (PostgreSQL refuses the row). Like the other key
-- indexes since 004, they become hash indexes on object_key: every lookup of a key's
-- current row is an equality, and a hash index takes keys of any length.
DROP INDEX IF EXISTS ingestion_events_current;
DROP INDEX IF EXISTS transformation_events_current;
DROP INDEX IF EXISTS training_events_current;
DROP INDEX IF EXISTS evaluation_events_current;
CREATE INDEX IF NOT EXISTS ingestion_events_current
    ON ingestion_events USING hash (object_key) WHERE is_current;
CREATE INDEX IF NOT EXISTS transformation_events_current
    ON transformation_events USING hash (object_key) WHERE is_current;
CREATE INDEX IF NOT EXISTS training_events_current
    ON training_events USING hash (object_key) WHERE is_current;
CREATE INDEX IF NOT EXISTS evaluation_events_current
    ON evaluation_events USING hash (object_key) WHERE is_current;

-- The same for 008's btree indexes on object_key (lookups of a bare-key reference are
-- equalities: 004's hash index on object_key serves them) and 006's prefix index on
-- training keys (sidecar merges then filter the bucket's training rows, 004's btree on
-- bucket; training tables hold models, not data files).
DROP INDEX IF EXISTS ingestion_events_key;
DROP INDEX IF EXISTS transformation_events_key;
DROP INDEX IF EXISTS training_events_key;
DROP INDEX IF EXISTS training_events_prefix;
