-- One view over the four phase tables, with common column names, for readers that ask
-- across phases (the dashboard, reports). Each branch keeps its table's indexes: a
-- filter or ORDER BY on event_time reaches the timestamp_* index of every table.
CREATE OR REPLACE VIEW audit_rows AS
SELECT 'ingestion'::text AS phase, id, timestamp_ingesta AS event_time, ruta_minio AS uri,
       bucket, object_key, num_registros, estado, reason, format, etag, version_id,
       size_bytes, deleted_at, is_current, modelo_nombre, nombre_dataset, run_id, processed_at,
       origin
FROM ingestion_events
UNION ALL
SELECT 'transformation', id, timestamp_transformacion, ruta_minio,
       bucket, object_key, num_registros, estado, reason, format, etag, version_id,
       size_bytes, deleted_at, is_current, modelo_nombre, nombre_dataset, run_id, processed_at,
       origin
FROM transformation_events
UNION ALL
SELECT 'training', id, timestamp_entrenamiento, ruta_modelo,
       bucket, object_key, num_registros, estado, reason, format, etag, version_id,
       size_bytes, deleted_at, is_current, modelo_nombre, nombre_dataset, run_id, processed_at,
       origin
FROM training_events
UNION ALL
SELECT 'evaluation', id, timestamp_eval, ruta_resultados,
       bucket, object_key, num_registros, estado, reason, format, etag, version_id,
       size_bytes, deleted_at, is_current, modelo_nombre, nombre_dataset, run_id, processed_at,
       origin
FROM evaluation_events;
