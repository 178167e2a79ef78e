-- notifier's audit schema.
--
-- The four phase tables keep the seed's Spanish column names (existing users query
-- them); the provenance columns every table adds are in English.
--
-- The pipeline's database may already hold the four seed tables, with rows. They are
-- adopted, not replaced: created only when missing, then given the columns notifier
-- needs (nullable there, since old rows have no provenance).

-- Every event a store sent, kept verbatim, with a natural de-duplication key.
-- It is the durable queue the workers claim from.
CREATE TABLE intake_events (
    id               bigserial PRIMARY KEY,
    dedup_key        text        NOT NULL UNIQUE,
    sender           text        NOT NULL,
    origin           text        NOT NULL CHECK (origin IN ('webhook', 'rescan')),
    event_name       text        NOT NULL,
    event_kind       text        NOT NULL CHECK (event_kind IN ('created', 'removed')),
    bucket           text        NOT NULL,
    object_key       text        NOT NULL,
    event_time       timestamptz NOT NULL,
    etag             text,
    version_id       text,
    size_bytes       bigint,
    content_type     text,
    sequencer        text,
    user_metadata    jsonb       NOT NULL DEFAULT '{}',
    payload          jsonb       NOT NULL,
    -- pending: waiting for a worker; processing: claimed until next_attempt_at;
    -- done: its audit row is written; ignored: nothing to audit (see note).
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'processing', 'done', 'ignored')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    note             text,
    received_at      timestamptz NOT NULL DEFAULT now(),
    processed_at     timestamptz
);

CREATE INDEX intake_events_claimable ON intake_events (next_attempt_at, id)
    WHERE status IN ('pending', 'processing');
CREATE INDEX intake_events_object ON intake_events (bucket, object_key);

-- Authenticated bodies that are not an object event notifier understands.
-- Kept verbatim so nothing is lost; answered 2xx so the sender's queue moves on.
CREATE TABLE dead_letters (
    id           bigserial   PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    reason        text        NOT NULL,
    content_type  text,
    body          text        NOT NULL,
    remote_addr   text,
    retried_at    timestamptz
);

CREATE TABLE IF NOT EXISTS ingestion_events (
    id                bigserial   PRIMARY KEY,
    timestamp_ingesta timestamptz NOT NULL,
    nombre_archivo    text        NOT NULL,
    ruta_minio        text        NOT NULL,
    num_registros     bigint,
    estado            text        NOT NULL CHECK (estado IN ('ok', 'error', 'skipped')),
    reason            text,
    format            text,
    details           jsonb       DEFAULT '{}',
    bucket            text        NOT NULL,
    object_key        text        NOT NULL,
    etag              text,
    version_id        text,
    size_bytes        bigint,
    content_type      text,
    event_name        text        NOT NULL,
    origin            text        NOT NULL CHECK (origin IN ('webhook', 'rescan')),
    intake_event_id   bigint      NOT NULL REFERENCES intake_events (id),
    processed_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz
);
ALTER TABLE ingestion_events
    ADD COLUMN IF NOT EXISTS timestamp_ingesta timestamptz,
    ADD COLUMN IF NOT EXISTS nombre_archivo text,
    ADD COLUMN IF NOT EXISTS ruta_minio text,
    ADD COLUMN IF NOT EXISTS num_registros bigint,
    ADD COLUMN IF NOT EXISTS estado text,
    ADD COLUMN IF NOT EXISTS reason text,
    ADD COLUMN IF NOT EXISTS format text,
    ADD COLUMN IF NOT EXISTS details jsonb DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS bucket text,
    ADD COLUMN IF NOT EXISTS object_key text,
    ADD COLUMN IF NOT EXISTS etag text,
    ADD COLUMN IF NOT EXISTS version_id text,
    ADD COLUMN IF NOT EXISTS size_bytes bigint,
    ADD COLUMN IF NOT EXISTS content_type text,
    ADD COLUMN IF NOT EXISTS event_name text,
    ADD COLUMN IF NOT EXISTS origin text,
    ADD COLUMN IF NOT EXISTS intake_event_id bigint,
    ADD COLUMN IF NOT EXISTS processed_at timestamptz DEFAULT now(),
    ADD COLUMN IF NOT EXISTS deleted_at timestamptz;
CREATE UNIQUE INDEX IF NOT EXISTS ingestion_events_intake_event ON ingestion_events (intake_event_id);
CREATE INDEX IF NOT EXISTS ingestion_events_object ON ingestion_events (bucket, object_key);
CREATE INDEX IF NOT EXISTS ingestion_events_time ON ingestion_events (timestamp_ingesta);

CREATE TABLE IF NOT EXISTS transformation_events (
    id                       bigserial   PRIMARY KEY,
    timestamp_transformacion timestamptz NOT NULL,
    nombre_archivo           text        NOT NULL,
    ruta_minio               text        NOT NULL,
    num_registros            bigint,
    estado                   text        NOT NULL CHECK (estado IN ('ok', 'error', 'skipped')),
    reason                   text,
    format                   text,
    details                  jsonb       DEFAULT '{}',
    bucket                   text        NOT NULL,
    object_key               text        NOT NULL,
    etag                     text,
    version_id               text,
    size_bytes               bigint,
    content_type             text,
    event_name               text        NOT NULL,
    origin                   text        NOT NULL CHECK (origin IN ('webhook', 'rescan')),
    intake_event_id          bigint      NOT NULL REFERENCES intake_events (id),
    processed_at             timestamptz NOT NULL DEFAULT now(),
    deleted_at               timestamptz
);
ALTER TABLE transformation_events
    ADD COLUMN IF NOT EXISTS timestamp_transformacion timestamptz,
    ADD COLUMN IF NOT EXISTS nombre_archivo text,
    ADD COLUMN IF NOT EXISTS ruta_minio text,
    ADD COLUMN IF NOT EXISTS num_registros bigint,
    ADD COLUMN IF NOT EXISTS estado text,
    ADD COLUMN IF NOT EXISTS reason text,
    ADD COLUMN IF NOT EXISTS format text,
    ADD COLUMN IF NOT EXISTS details jsonb DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS bucket text,
    ADD COLUMN IF NOT EXISTS object_key text,
    ADD COLUMN IF NOT EXISTS etag text,
    ADD COLUMN IF NOT EXISTS version_id text,
    ADD COLUMN IF NOT EXISTS size_bytes bigint,
    ADD COLUMN IF NOT EXISTS content_type text,
    ADD COLUMN IF NOT EXISTS event_name text,
    ADD COLUMN IF NOT EXISTS origin text,
    ADD COLUMN IF NOT EXISTS intake_event_id bigint,
    ADD COLUMN IF NOT EXISTS processed_at timestamptz DEFAULT now(),
    ADD COLUMN IF NOT EXISTS deleted_at timestamptz;
CREATE UNIQUE INDEX IF NOT EXISTS transformation_events_intake_event ON transformation_events (intake_event_id);
CREATE INDEX IF NOT EXISTS transformation_events_object ON transformation_events (bucket, object_key);
CREATE INDEX IF NOT EXISTS transformation_events_time ON transformation_events (timestamp_transformacion);

CREATE TABLE IF NOT EXISTS training_events (
    id                      bigserial   PRIMARY KEY,
    timestamp_entrenamiento timestamptz NOT NULL,
    ruta_modelo             text        NOT NULL,
    num_registros           bigint,
    parametros              jsonb       DEFAULT '{}',
    estado                  text        NOT NULL CHECK (estado IN ('ok', 'error', 'skipped')),
    reason                  text,
    format                  text,
    details                 jsonb       DEFAULT '{}',
    bucket                  text        NOT NULL,
    object_key              text        NOT NULL,
    etag                    text,
    version_id              text,
    size_bytes              bigint,
    content_type            text,
    event_name              text        NOT NULL,
    origin                  text        NOT NULL CHECK (origin IN ('webhook', 'rescan')),
    intake_event_id         bigint      NOT NULL REFERENCES intake_events (id),
    processed_at            timestamptz NOT NULL DEFAULT now(),
    deleted_at              timestamptz
);
ALTER TABLE training_events
    ADD COLUMN IF NOT EXISTS timestamp_entrenamiento timestamptz,
    ADD COLUMN IF NOT EXISTS ruta_modelo text,
    ADD COLUMN IF NOT EXISTS num_registros bigint,
    ADD COLUMN IF NOT EXISTS parametros jsonb DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS estado text,
    ADD COLUMN IF NOT EXISTS reason text,
    ADD COLUMN IF NOT EXISTS format text,
    ADD COLUMN IF NOT EXISTS details jsonb DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS bucket text,
    ADD COLUMN IF NOT EXISTS object_key text,
    ADD COLUMN IF NOT EXISTS etag text,
    ADD COLUMN IF NOT EXISTS version_id text,
    ADD COLUMN IF NOT EXISTS size_bytes bigint,
    ADD COLUMN IF NOT EXISTS content_type text,
    ADD COLUMN IF NOT EXISTS event_name text,
    ADD COLUMN IF NOT EXISTS origin text,
    ADD COLUMN IF NOT EXISTS intake_event_id bigint,
    ADD COLUMN IF NOT EXISTS processed_at timestamptz DEFAULT now(),
    ADD COLUMN IF NOT EXISTS deleted_at timestamptz;
CREATE UNIQUE INDEX IF NOT EXISTS training_events_intake_event ON training_events (intake_event_id);
CREATE INDEX IF NOT EXISTS training_events_object ON training_events (bucket, object_key);
CREATE INDEX IF NOT EXISTS training_events_time ON training_events (timestamp_entrenamiento);

CREATE TABLE IF NOT EXISTS evaluation_events (
    id              bigserial   PRIMARY KEY,
    timestamp_eval  timestamptz NOT NULL,
    modelo_nombre   text,
    nombre_dataset  text,
    ruta_resultados text        NOT NULL,
    metrics         jsonb       DEFAULT '{}',
    estado          text        NOT NULL CHECK (estado IN ('ok', 'error', 'skipped')),
    num_registros   bigint,
    reason          text,
    format          text,
    details         jsonb       DEFAULT '{}',
    bucket          text        NOT NULL,
    object_key      text        NOT NULL,
    etag            text,
    version_id      text,
    size_bytes      bigint,
    content_type    text,
    event_name      text        NOT NULL,
    origin          text        NOT NULL CHECK (origin IN ('webhook', 'rescan')),
    intake_event_id bigint      NOT NULL REFERENCES intake_events (id),
    processed_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);
ALTER TABLE evaluation_events
    ADD COLUMN IF NOT EXISTS timestamp_eval timestamptz,
    ADD COLUMN IF NOT EXISTS modelo_nombre text,
    ADD COLUMN IF NOT EXISTS nombre_dataset text,
    ADD COLUMN IF NOT EXISTS ruta_resultados text,
    ADD COLUMN IF NOT EXISTS metrics jsonb DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS estado text,
    ADD COLUMN IF NOT EXISTS num_registros bigint,
    ADD COLUMN IF NOT EXISTS reason text,
    ADD COLUMN IF NOT EXISTS format text,
    ADD COLUMN IF NOT EXISTS details jsonb DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS bucket text,
    ADD COLUMN IF NOT EXISTS object_key text,
    ADD COLUMN IF NOT EXISTS etag text,
    ADD COLUMN IF NOT EXISTS version_id text,
    ADD COLUMN IF NOT EXISTS size_bytes bigint,
    ADD COLUMN IF NOT EXISTS content_type text,
    ADD COLUMN IF NOT EXISTS event_name text,
    ADD COLUMN IF NOT EXISTS origin text,
    ADD COLUMN IF NOT EXISTS intake_event_id bigint,
    ADD COLUMN IF NOT EXISTS processed_at timestamptz DEFAULT now(),
    ADD COLUMN IF NOT EXISTS deleted_at timestamptz;
CREATE UNIQUE INDEX IF NOT EXISTS evaluation_events_intake_event ON evaluation_events (intake_event_id);
CREATE INDEX IF NOT EXISTS evaluation_events_object ON evaluation_events (bucket, object_key);
CREATE INDEX IF NOT EXISTS evaluation_events_time ON evaluation_events (timestamp_eval);
