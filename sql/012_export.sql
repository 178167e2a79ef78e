-- Who wrote it, and the export outbox (issue 10 items 6, 7 and 8).
--
-- principal_id, source_ip, request_id: the writer's identity as the sender reports it
-- (MinIO, AWS, Ceph: userIdentity.principalId, requestParameters.sourceIPAddress,
-- responseElements.x-amz-request-id), the columns Amazon S3 Metadata's journal table
-- calls requester, source_ip_address and request_id. NULL where the sender gives none
-- (SeaweedFS, rescans) or gives a malformed address.

ALTER TABLE intake_events
    ADD COLUMN IF NOT EXISTS principal_id text,
    ADD COLUMN IF NOT EXISTS source_ip inet,
    ADD COLUMN IF NOT EXISTS request_id text;
ALTER TABLE ingestion_events
    ADD COLUMN IF NOT EXISTS principal_id text,
    ADD COLUMN IF NOT EXISTS source_ip inet,
    ADD COLUMN IF NOT EXISTS request_id text;
ALTER TABLE transformation_events
    ADD COLUMN IF NOT EXISTS principal_id text,
    ADD COLUMN IF NOT EXISTS source_ip inet,
    ADD COLUMN IF NOT EXISTS request_id text;
ALTER TABLE training_events
    ADD COLUMN IF NOT EXISTS principal_id text,
    ADD COLUMN IF NOT EXISTS source_ip inet,
    ADD COLUMN IF NOT EXISTS request_id text;
ALTER TABLE evaluation_events
    ADD COLUMN IF NOT EXISTS principal_id text,
    ADD COLUMN IF NOT EXISTS source_ip inet,
    ADD COLUMN IF NOT EXISTS request_id text;

-- The outbox of notifier.export: one row per message a sink (an alert webhook, an
-- OpenLineage endpoint) is to receive, unique per (sink, fingerprint) so each is
-- enqueued, and sent, once. Fingerprints name durable things (a run's run_key and
-- status, an anomaly's fingerprint, a drift digest), never pipeline_runs.id, which
-- `notifier analyze` may renumber. payload is the exact JSON body to POST.
CREATE TABLE IF NOT EXISTS export_outbox (
    id              bigserial   PRIMARY KEY,
    -- a sink's name (notifier.export.SINKS: alert, openlineage); a new sink needs no migration.
    sink            text        NOT NULL,
    fingerprint     text        NOT NULL,
    kind            text        NOT NULL,
    summary         text        NOT NULL,
    payload         jsonb       NOT NULL,
    -- skipped: recorded, never sent (an OpenLineage run without inputs or outputs).
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (sink, fingerprint)
);
CREATE INDEX IF NOT EXISTS export_outbox_due ON export_outbox (sink, next_attempt_at, id)
    WHERE status = 'pending';
