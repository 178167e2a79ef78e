"""A small, realistic pipeline run uploaded through the S3 API, for ``notifier dev --sample``."""

from __future__ import annotations

import io
import json
import pickle
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from minio import Minio

from notifier.phases import Phase

RUN_ROWS: Final = 1000
AUDIT_QUERY: Final = """
SELECT 'ingestion' AS phase, ruta_minio AS object, num_registros, estado, NULL AS extra
  FROM ingestion_events WHERE ruta_minio LIKE %(pattern)s
UNION ALL
SELECT 'transformation', ruta_minio, num_registros, estado, NULL
  FROM transformation_events WHERE ruta_minio LIKE %(pattern)s
UNION ALL
SELECT 'training', ruta_modelo, num_registros, estado, parametros::text
  FROM training_events WHERE ruta_modelo LIKE %(pattern)s
UNION ALL
SELECT 'evaluation', ruta_resultados, num_registros, estado, metrics::text
  FROM evaluation_events WHERE ruta_resultados LIKE %(pattern)s
"""


def _raw_csv(run: str) -> bytes:
    lines = ["event_id,src_ip,dst_port,label,payload_note"]
    for i in range(RUN_ROWS):
        note = '"multi-line\nnote, quoted"' if i % 100 == 0 else "plain"
        lines.append(f"{run}-{i},10.0.{i % 255}.{i % 7},{443 if i % 3 else 22},{i % 2},{note}")
    return ("\n".join(lines) + "\n").encode()


def _silver_parquet() -> bytes:
    kept = RUN_ROWS - RUN_ROWS // 10
    table = pa.table({"dst_port": [443] * kept, "label": [i % 2 for i in range(kept)]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _model_pickle() -> bytes:
    """A pickle shaped exactly like scikit-learn's (class by reference, NEWOBJ, BUILD of
    the state dict), written by hand so the sample needs no scikit-learn."""
    state = {
        "n_estimators": 200,
        "max_depth": 12,
        "random_state": 0,
        "n_features_in_": 2,
        "_sklearn_version": "1.9.1",
    }
    head = b"\x80\x02csklearn.ensemble._forest\nRandomForestClassifier\n)\x81"
    return head + pickle.dumps(state, protocol=2)[2:-1] + b"b."


def upload_sample_run(client: Minio, buckets: Mapping[Phase, str]) -> str:
    """Upload one run (raw CSV, silver Parquet, model, evaluation); returns its run id."""
    run = datetime.now(UTC).strftime("run-%Y%m%dT%H%M%S")
    silver_key = f"{run}/flows_clean.parquet"
    objects: list[tuple[Phase, str, bytes, str, dict[str, Any]]] = [
        (Phase.INGESTION, f"{run}/flows raw.csv", _raw_csv(run), "text/csv", {}),
        (Phase.TRANSFORMATION, silver_key, _silver_parquet(), "application/octet-stream", {}),
        (
            Phase.TRAINING,
            f"{run}/model.joblib",
            _model_pickle(),
            "application/octet-stream",
            {"dataset": silver_key, "num_records": str(RUN_ROWS - RUN_ROWS // 10)},
        ),
        (
            Phase.EVALUATION,
            f"{run}/metrics.json",
            json.dumps(
                {
                    "model": f"{run}/model.joblib",
                    "dataset": silver_key,
                    "metrics": {"accuracy": 0.94, "f1": 0.91},
                }
            ).encode(),
            "application/json",
            {},
        ),
    ]
    for phase, key, data, content_type, metadata in objects:
        client.put_object(
            buckets[phase],
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type,
            metadata=metadata or None,
        )
    return run


def wait_for_rows(
    database_url: str, run: str, expected: int, timeout: float
) -> list[tuple[Any, ...]]:
    """The audit rows of a run, once ``expected`` of them exist (or what there is at timeout)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while True:
            rows = conn.execute(AUDIT_QUERY, {"pattern": f"%/{run}/%"}).fetchall()
            if len(rows) >= expected or time.monotonic() > deadline:
                return rows
            time.sleep(0.1)
