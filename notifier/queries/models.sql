-- Models: sidecars merged into the model rows they describe.
-- Named queries; notifier.db.query(name) returns one. Parameters are always bound.

-- name: lock_model_prefix
-- Serialises the model rows and sidecar rows of one bucket prefix, so that a model and
-- a sidecar recorded at the same moment each see the other (READ COMMITTED: the
-- statements after the lock see what the other transaction committed).
SELECT pg_advisory_xact_lock(hashtextextended(%(bucket)s || '/' || %(prefix)s, 0))

-- name: merge_sidecar
-- A sidecar's facts into the model rows it describes: same bucket and prefix (no
-- deeper "directory"), same stem when the sidecar is named after its model, not a
-- card itself, not deleted; all rows when %(model_event_id)s is NULL, else that row.
-- Precedence: a value the model's own metadata set is kept; any other is replaced.
WITH sidecar AS (
    SELECT %(parametros)s::jsonb AS parametros, %(dataset)s::text AS dataset,
           %(num_registros)s::bigint AS num_registros, %(sidecar_key)s::text AS sidecar_key
), candidates AS (
    SELECT m.id, m.details, s.*,
           s.dataset IS NOT NULL
             AND coalesce(m.details -> 'sources' ->> 'dataset', '') <> 'metadata' AS take_dataset,
           s.num_registros IS NOT NULL
             AND coalesce(m.details -> 'sources' ->> 'num_registros', '') <> 'metadata'
             AS take_count
      FROM training_events AS m, sidecar AS s
     WHERE m.bucket = %(bucket)s
       AND m.object_key LIKE %(prefix_pattern)s
       AND strpos(substr(m.object_key, length(%(prefix)s) + 1), '/') = 0
       AND m.object_key <> s.sidecar_key
       AND coalesce(m.format, '') <> 'model_card'
       AND m.deleted_at IS NULL
       AND (%(stem)s::text IS NULL OR regexp_replace(
                regexp_replace(substr(m.object_key, length(%(prefix)s) + 1),
                               '\.(gz|z|bz2|xz|lzma)$', '', 'i'),
                '\.[^.]*$', '') = %(stem)s)
       AND (%(model_event_id)s::bigint IS NULL OR m.intake_event_id = %(model_event_id)s)
), targets AS (
    SELECT c.id, c.dataset, c.num_registros, c.take_dataset, c.take_count,
           coalesce(taken.params, '{}'::jsonb) AS params,
           coalesce(c.details -> 'sources', '{}'::jsonb)
             || coalesce(taken.sources, '{}'::jsonb)
             || CASE WHEN c.take_dataset THEN '{"dataset": "sidecar"}'::jsonb
                     ELSE '{}'::jsonb END
             || CASE WHEN c.take_count THEN '{"num_registros": "sidecar"}'::jsonb
                     ELSE '{}'::jsonb END AS sources,
           (SELECT jsonb_agg(DISTINCT listed.item ORDER BY listed.item)
              FROM jsonb_array_elements(coalesce(c.details -> 'sidecars', '[]'::jsonb)
                                        || jsonb_build_array(c.sidecar_key)) AS listed(item)
           ) AS sidecars
      FROM candidates AS c
      LEFT JOIN LATERAL (
          SELECT jsonb_object_agg(p.name, p.value) AS params,
                 jsonb_object_agg(p.name, 'sidecar') AS sources
            FROM jsonb_each(c.parametros) AS p(name, value)
           WHERE coalesce(c.details -> 'sources' ->> p.name, '') <> 'metadata'
      ) AS taken ON true
)
UPDATE training_events AS m
SET parametros = coalesce(m.parametros, '{}'::jsonb) || t.params,
    num_registros = CASE WHEN t.take_count THEN t.num_registros ELSE m.num_registros END,
    details = coalesce(m.details, '{}'::jsonb)
        || jsonb_build_object(
            'parametros', coalesce(m.parametros, '{}'::jsonb) || t.params,
            'sources', t.sources,
            'sidecars', t.sidecars)
        || CASE WHEN t.take_dataset THEN jsonb_build_object('dataset', t.dataset)
                ELSE '{}'::jsonb END
FROM targets AS t
WHERE m.id = t.id

-- name: recorded_sidecars
-- Sidecar rows already recorded in a model's prefix (for a model recorded after them):
-- the newest row of each sidecar key, oldest key first.
SELECT DISTINCT ON (object_key) object_key, details -> 'sidecar' AS facts,
       details -> 'sidecar_of' ->> 'stem' AS stem
FROM training_events
WHERE bucket = %(bucket)s
  AND object_key LIKE %(prefix_pattern)s
  AND strpos(substr(object_key, length(%(prefix)s) + 1), '/') = 0
  AND format = 'model_card'
  AND details ? 'sidecar'
  AND deleted_at IS NULL
ORDER BY object_key, id DESC
