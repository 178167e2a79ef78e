"""Evaluation results and key-path templates through the live path: store, webhook, worker."""

from __future__ import annotations

import dataclasses
import io
import json
import struct
import zlib

import pytest
from psycopg.rows import dict_row

from notifier.inspection.paths import parse_path_templates
from notifier.processing import Processor
from notifier.storage import ObjectStore, make_client
from tests.support import minio_body, record_for_stat


def put(s3_client, bucket, key, data: bytes, content_type="application/octet-stream", **kw):
    s3_client.put_object(bucket, key, io.BytesIO(data), len(data), content_type=content_type, **kw)


def deliver(client, auth, s3_client, bucket, key):
    response = client.post(
        "/events", data=minio_body(record_for_stat(s3_client, bucket, key)), headers=auth
    )
    assert response.status_code == 200, response.json


def rows(db, table):
    db.row_factory = dict_row
    return db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def upload(
    client, auth, s3_client, bucket, key, data, content_type="application/octet-stream", **kw
):
    put(s3_client, bucket, key, data, content_type, **kw)
    deliver(client, auth, s3_client, bucket, key)


@pytest.fixture
def templated(settings, pool, buckets) -> Processor:
    """A processor whose settings carry key-path templates for the test's buckets."""
    templates = parse_path_templates(
        f"{buckets.models}=models/{{modelo_nombre}}/{{run_id}}/{{file}};"
        f"{buckets.results}={{modelo_nombre}}/{{nombre_dataset}}/{{file}}"
    )
    with_templates = dataclasses.replace(settings, path_templates=templates)
    return Processor(with_templates, pool, ObjectStore(make_client(settings.s3)))


def test_sklearn_classification_report_case(client, auth, s3_client, buckets, processor, db):
    # ../shared/cases/realworld/results-sklearn-classification-report
    report = {
        "BENIGN": {"precision": 0.99, "recall": 0.98, "f1-score": 0.985, "support": 900},
        "DDoS": {"precision": 0.9, "recall": 0.95, "f1-score": 0.924, "support": 100},
        "accuracy": 0.977,
        "macro avg": {"precision": 0.945, "recall": 0.965, "f1-score": 0.954, "support": 1000},
        "weighted avg": {"precision": 0.981, "recall": 0.977, "f1-score": 0.979, "support": 1000},
    }
    key = "eval/rf_v3/classification_report.json"
    upload(
        client,
        auth,
        s3_client,
        buckets.results,
        key,
        json.dumps(report).encode(),
        "application/json",
    )
    assert processor.drain() == 1
    (row,) = rows(db, "evaluation_events")
    assert (row["estado"], row["format"], row["num_registros"]) == ("ok", "json", 1000)
    assert row["metrics"] == {
        "accuracy": 0.977,
        "macro avg.precision": 0.945,
        "macro avg.recall": 0.965,
        "macro avg.f1-score": 0.954,
        "macro avg.support": 1000,
        "weighted avg.precision": 0.981,
        "weighted avg.recall": 0.977,
        "weighted avg.f1-score": 0.979,
        "weighted avg.support": 1000,
        "BENIGN.precision": 0.99,
        "BENIGN.recall": 0.98,
        "BENIGN.f1-score": 0.985,
        "BENIGN.support": 900,
        "DDoS.precision": 0.9,
        "DDoS.recall": 0.95,
        "DDoS.f1-score": 0.924,
        "DDoS.support": 100,
    }
    assert (row["modelo_nombre"], row["nombre_dataset"]) == (None, None)
    assert row["details"]["classes"] == ["BENIGN", "DDoS"]


def test_metrics_grouped_per_split_case(client, auth, s3_client, buckets, processor, db):
    # ../shared/cases/realworld/results-metrics-grouped-per-split
    document = {
        "model": "rf_v3",
        "dataset": "cicids2017",
        "test": {"accuracy": 0.97, "f1": 0.95, "roc_auc": 0.99},
        "validation": {"accuracy": 0.96, "f1": 0.94},
    }
    key = "eval/rf_v3/metrics.json"
    upload(
        client,
        auth,
        s3_client,
        buckets.results,
        key,
        json.dumps(document).encode(),
        "application/json",
    )
    assert processor.drain() == 1
    (row,) = rows(db, "evaluation_events")
    assert row["estado"] == "ok"
    assert row["metrics"] == {
        "test.accuracy": 0.97,
        "test.f1": 0.95,
        "test.roc_auc": 0.99,
        "validation.accuracy": 0.96,
        "validation.f1": 0.94,
    }
    assert row["num_registros"] is None
    assert (row["modelo_nombre"], row["nombre_dataset"]) == ("rf_v3", "cicids2017")
    assert row["details"]["sources"] == {"modelo_nombre": "content", "nombre_dataset": "content"}


def test_confusion_matrix_image_records_its_dimensions(
    client, auth, s3_client, buckets, processor, db
):
    ihdr = struct.pack(">IIBBBBB", 800, 600, 8, 6, 0, 0, 0)
    image = (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + ihdr
        + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
        + b"\x00" * 100_000
    )
    key = "eval/confusion_matrix.png"
    metadata = {"model": "rf_v3"}
    upload(client, auth, s3_client, buckets.results, key, image, "image/png", metadata=metadata)
    processor.drain()
    (row,) = rows(db, "evaluation_events")
    assert (row["estado"], row["format"], row["num_registros"]) == ("ok", "png", None)
    assert (row["details"]["width"], row["details"]["height"]) == (800, 600)
    assert row["modelo_nombre"] == "rf_v3"
    assert row["metrics"] == {}


def test_templates_fill_names_and_run_ids(client, auth, s3_client, buckets, templated, db):
    upload(client, auth, s3_client, buckets.models, "models/rf/run-42/model.joblib", b"\x80\x04N.")
    upload(
        client,
        auth,
        s3_client,
        buckets.raw,
        "exports/dt=2026-11-29/ventas.csv",
        b"a,b\n1,2\n",
        "text/csv",
    )
    predictions = b"y_true,y_pred\n1,1\n0,1\n1,1\n"
    key, metadata = "rf/ventas/predictions.csv", {"dataset": "ventas-v2"}
    upload(
        client, auth, s3_client, buckets.results, key, predictions, "text/csv", metadata=metadata
    )
    assert templated.drain() == 3
    (training,) = rows(db, "training_events")
    assert (training["modelo_nombre"], training["run_id"]) == ("rf", "run-42")
    assert training["details"]["sources"]["run_id"] == "path"
    assert training["details"]["path_template"] == "models/{modelo_nombre}/{run_id}/{file}"
    (ingestion,) = rows(db, "ingestion_events")
    assert (ingestion["num_registros"], ingestion["modelo_nombre"]) == (1, None)
    assert ingestion["details"]["partition_date"] == "2026-11-29"
    assert ingestion["details"]["path_fields"] == {"dt": "2026-11-29"}
    (evaluation,) = rows(db, "evaluation_events")
    assert (evaluation["num_registros"], evaluation["metrics"]) == (3, {})
    assert (evaluation["modelo_nombre"], evaluation["nombre_dataset"]) == ("rf", "ventas-v2")
    assert evaluation["details"]["sources"] == {
        "modelo_nombre": "path",
        "nombre_dataset": "metadata",
    }
