-- The removals of a key, looked up for every batch that records an event of it
-- (notifier/queries/audit.sql objects_removals): a partial hash index on removal events,
-- so the lookup reads the key's removals only, not every event of a key with many
-- versions. Hash, like every key index since 004: keys of any length.
CREATE INDEX IF NOT EXISTS intake_events_removed_key
    ON intake_events USING hash (object_key) WHERE event_kind = 'removed';
