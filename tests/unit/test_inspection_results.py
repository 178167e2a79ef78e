"""Evaluation results (notifier.inspection.results): one test per layout, exact values."""

from __future__ import annotations

import dataclasses
import json
import struct
import zlib
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from notifier.inspection import BytesSource, Inspection, InspectionLimits, Phase, inspect_object
from notifier.inspection.results import MAX_METRICS
from notifier.inspection.results.tables import MAX_TABLE_BYTES


def inspect(
    data: bytes,
    key: str = "eval/results.json",
    metadata: dict[str, str] | None = None,
    limits: InspectionLimits | None = None,
) -> Inspection:
    source = BytesSource(data, key, user_metadata=metadata or {})
    verdict = inspect_object(Phase.EVALUATION, source, limits or InspectionLimits())
    json.dumps(verdict.details, allow_nan=False)
    return verdict


def inspect_json(document: Any, key: str = "eval/results.json", **kw: Any) -> Inspection:
    return inspect(json.dumps(document).encode(), key, **kw)


def names(verdict: Inspection) -> tuple[Any, Any]:
    return verdict.details.get("modelo_nombre"), verdict.details.get("nombre_dataset")


# --- JSON layouts -------------------------------------------------------------------


def test_flat_document_with_a_metrics_object() -> None:
    document = {
        "model_name": "churn-rf",
        "dataset": "clientes-v3",
        "accuracy": 0.5,  # overridden by metrics.accuracy
        "epoch": 12,
        "passed": True,
        "notes": "ok",
        "config": {"seed": 1},
        "n_samples": 2000,
        "metrics": {
            "accuracy": 0.91,
            "f1": "0.88",
            "is_best": False,
            "per_class": {"cat": {"precision": 0.9, "recall": 0.8, "deeper": {"x": 1}}},
            "loss": [0.3, 0.2],
        },
    }
    verdict = inspect_json(document)
    assert verdict == Inspection(
        "ok",
        2000,
        None,
        "json",
        {
            "layout": "metrics_object",
            "metrics": {
                "accuracy": 0.91,
                "epoch": 12,
                "n_samples": 2000,
                "f1": 0.88,
                "per_class.cat.precision": 0.9,
                "per_class.cat.recall": 0.8,
            },
            "modelo_nombre": "churn-rf",
            "nombre_dataset": "clientes-v3",
            "sources": {"modelo_nombre": "content", "nombre_dataset": "content"},
        },
    )


def test_flat_document_with_string_numbers() -> None:
    verdict = inspect_json({"accuracy": "0.95", "f1": " 0.9 ", "support": "120", "x": "0.9.1"})
    assert verdict.details["layout"] == "flat"
    assert verdict.details["metrics"] == {"accuracy": 0.95, "f1": 0.9, "support": 120}
    assert verdict.num_registros is None
    assert names(verdict) == (None, None)


def test_names_come_from_metadata_when_the_document_has_none() -> None:
    document = {"rmse": 3.2, "model": {"name": "xgb", "version": 2}}
    metadata = {"nombre_dataset": "ventas", "modelo": "ignored-because-the-document-names-it"}
    verdict = inspect_json(document, metadata=metadata)
    assert verdict.details["metrics"] == {"rmse": 3.2}
    assert names(verdict) == ("xgb", "ventas")
    assert verdict.details["sources"] == {"modelo_nombre": "content", "nombre_dataset": "metadata"}
    assert verdict.num_registros is None


def test_grouped_per_split_case() -> None:
    # ../shared/cases/realworld/results-metrics-grouped-per-split
    document = {
        "model": "rf_v3",
        "dataset": "cicids2017",
        "test": {"accuracy": 0.97, "f1": 0.95, "roc_auc": 0.99},
        "validation": {"accuracy": 0.96, "f1": 0.94},
    }
    verdict = inspect_json(document, "eval/rf_v3/metrics.json")
    assert verdict.estado == "ok"
    assert verdict.details["layout"] == "splits"
    assert verdict.details["metrics"] == {
        "test.accuracy": 0.97,
        "test.f1": 0.95,
        "test.roc_auc": 0.99,
        "validation.accuracy": 0.96,
        "validation.f1": 0.94,
    }
    assert verdict.num_registros is None
    assert names(verdict) == ("rf_v3", "cicids2017")


def test_grouped_per_split_counts_the_test_split_not_train() -> None:
    document = {
        "train": {"loss": 0.1, "n_samples": 8000},
        "test": {"loss": 0.2, "n_samples": "2000"},
    }
    verdict = inspect_json(document)
    assert verdict.details["metrics"] == {
        "train.loss": 0.1,
        "train.n_samples": 8000,
        "test.loss": 0.2,
        "test.n_samples": 2000,
    }
    assert verdict.num_registros == 2000


CLASSIFICATION_REPORT = {
    "BENIGN": {"precision": 0.99, "recall": 0.98, "f1-score": 0.985, "support": 900},
    "DDoS": {"precision": 0.9, "recall": 0.95, "f1-score": 0.924, "support": 100},
    "accuracy": 0.977,
    "macro avg": {"precision": 0.945, "recall": 0.965, "f1-score": 0.954, "support": 1000},
    "weighted avg": {"precision": 0.981, "recall": 0.977, "f1-score": 0.979, "support": 1000},
}
CLASSIFICATION_METRICS = {
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


def test_sklearn_classification_report_case() -> None:
    # ../shared/cases/realworld/results-sklearn-classification-report
    verdict = inspect_json(CLASSIFICATION_REPORT, "eval/rf_v3/classification_report.json")
    assert verdict == Inspection(
        "ok",
        1000,
        None,
        "json",
        {
            "layout": "classification_report",
            "metrics": CLASSIFICATION_METRICS,
            "classes": ["BENIGN", "DDoS"],
        },
    )


def test_classification_report_wrapped_with_names() -> None:
    document = {"model": "rf", "dataset": "ids", "report": CLASSIFICATION_REPORT}
    verdict = inspect_json(document)
    assert verdict.details["metrics"] == CLASSIFICATION_METRICS
    assert verdict.num_registros == 1000
    assert names(verdict) == ("rf", "ids")


def test_keras_history() -> None:
    history = {
        "loss": [0.9, 0.5, 0.4],
        "accuracy": [0.6, 0.8, 0.85],
        "val_loss": [0.8, 0.45, 0.5],
        "val_accuracy": [0.65, 0.82, 0.81],
        "lr": [0.001, 0.001, 0.0005],
    }
    verdict = inspect_json(history, metadata={"model": "cnn", "dataset": "mnist"})
    assert verdict.estado == "ok"
    assert verdict.details["layout"] == "history"
    assert verdict.details["metrics"] == {
        "epochs": 3,
        "loss": 0.4,
        "accuracy": 0.85,
        "val_loss": 0.5,
        "val_accuracy": 0.81,
        "lr": 0.0005,
        "best.loss": 0.4,
        "best.accuracy": 0.85,
        "best.val_loss": 0.45,
        "best.val_accuracy": 0.82,
    }
    assert verdict.details["best_epoch"] == {
        "loss": 3,
        "accuracy": 3,
        "val_loss": 2,
        "val_accuracy": 2,
    }
    assert verdict.num_registros is None
    assert names(verdict) == ("cnn", "mnist")


def test_history_wrapped_with_names_and_a_nan() -> None:
    document = {"model": "lstm", "history": {"loss": [0.5, float("nan")], "auc": [0.7, 0.8]}}
    verdict = inspect(json.dumps(document).encode())
    assert verdict.details["metrics"] == {
        "epochs": 2,
        "auc": 0.8,
        "best.loss": 0.5,
        "best.auc": 0.8,
    }
    assert names(verdict) == ("lstm", None)


def test_per_epoch_list() -> None:
    document = [
        {"epoch": 1, "loss": 0.7, "val_f1": 0.6},
        {"epoch": 2, "loss": 0.5, "val_f1": 0.7},
        {"epoch": 3, "loss": 0.55, "val_f1": 0.69},
    ]
    verdict = inspect_json(document)
    assert verdict.details["layout"] == "epochs"
    assert verdict.details["metrics"] == {
        "epochs": 3,
        "loss": 0.55,
        "val_f1": 0.69,
        "best.loss": 0.5,
        "best.val_f1": 0.7,
    }
    assert verdict.num_registros is None
    assert names(verdict) == (None, None)


def test_hugging_face_log_history_counts_fractional_epochs() -> None:
    document = {
        "best_metric": 0.91,
        "log_history": [
            {"epoch": 0.5, "step": 500, "loss": 0.6, "learning_rate": 4e-5},
            {"epoch": 1.0, "step": 1000, "eval_loss": 0.4, "eval_accuracy": 0.88},
            {"epoch": 1.5, "step": 1500, "loss": 0.3, "learning_rate": 2e-5},
            {"epoch": 2.0, "step": 2000, "eval_loss": 0.42, "eval_accuracy": 0.91},
        ],
    }
    verdict = inspect_json(document, "run/trainer_state.json")
    assert verdict.details["metrics"] == {
        "epochs": 2,
        "loss": 0.3,
        "learning_rate": 2e-5,
        "eval_loss": 0.42,
        "eval_accuracy": 0.91,
        "best.loss": 0.3,
        "best.eval_loss": 0.4,
        "best.eval_accuracy": 0.91,
    }


def test_kubeflow_metrics_file() -> None:
    document = {
        "metrics": [
            {"name": "accuracy-score", "numberValue": 0.92, "format": "PERCENTAGE"},
            {"name": "roc-auc", "numberValue": "0.97"},
        ]
    }
    verdict = inspect_json(document, "out/mlpipeline-metrics.json", metadata={"model": "km"})
    assert verdict.details["layout"] == "kubeflow"
    assert verdict.details["metrics"] == {"accuracy-score": 0.92, "roc-auc": 0.97}
    assert verdict.details["metric_formats"] == {"accuracy-score": "PERCENTAGE"}
    assert verdict.num_registros is None
    assert names(verdict) == ("km", None)


def test_mlflow_run_takes_each_metrics_latest_step_and_the_run_id() -> None:
    document = {
        "run": {
            "info": {"run_id": "8f1c2a", "experiment_id": "1"},
            "data": {
                "metrics": [
                    {"key": "rmse", "value": 3.1, "timestamp": 1700000000000, "step": 2},
                    {"key": "rmse", "value": 3.5, "timestamp": 1700000001000, "step": 1},
                    {"key": "r2", "value": 0.8, "timestamp": 1700000000000, "step": 0},
                ],
                "params": [{"key": "alpha", "value": "0.5"}],
            },
        }
    }
    verdict = inspect_json(document, metadata={"dataset": "housing"})
    assert verdict.details["layout"] == "mlflow"
    assert verdict.details["metrics"] == {"rmse": 3.1, "r2": 0.8}
    assert verdict.details["run_id"] == "8f1c2a"
    assert names(verdict) == (None, "housing")
    assert verdict.num_registros is None


def test_hugging_face_all_results() -> None:
    document = {
        "epoch": 3.0,
        "eval_accuracy": 0.8603,
        "eval_loss": 0.3779,
        "eval_samples": 408,
        "train_samples": 3668,
        "eval_runtime": 1.2,
    }
    verdict = inspect_json(document, "glue/all_results.json")
    assert verdict.details["layout"] == "huggingface"
    assert verdict.details["metrics"] == document
    assert verdict.num_registros == 408


def test_dvc_metrics_show_json() -> None:
    document = {
        "workspace": {
            "data": {
                "eval/metrics.json": {"data": {"avg_prec": 0.92, "roc": {"auc": 0.97}}},
                "eval/train.json": {"data": {"loss": 0.1}},
            }
        }
    }
    verdict = inspect_json(document)
    assert verdict.details["layout"] == "dvc"
    assert verdict.details["metrics"] == {
        "eval/metrics.json.avg_prec": 0.92,
        "eval/metrics.json.roc.auc": 0.97,
        "eval/train.json.loss": 0.1,
    }
    assert verdict.num_registros is None


def test_confusion_matrix_json() -> None:
    document = {"model": "rf", "labels": ["cat", "dog"], "confusion_matrix": [[50, 2], [3, 45]]}
    verdict = inspect_json(document)
    assert verdict == Inspection(
        "ok",
        100,
        None,
        "json",
        {
            "layout": "confusion_matrix",
            "metrics": {},
            "num_classes": 2,
            "classes": ["cat", "dog"],
            "confusion_matrix": [[50, 2], [3, 45]],
            "modelo_nombre": "rf",
            "sources": {"modelo_nombre": "content"},
        },
    )


def test_bare_confusion_matrix_and_kubeflow_v2_rows() -> None:
    bare = inspect_json([[5, 1, 0], [0, 7, 1], [1, 0, 9]])
    assert (bare.num_registros, bare.details["layout"]) == (24, "confusion_matrix")
    v2 = inspect_json(
        {
            "annotationSpecs": [{"displayName": "no"}, {"displayName": "yes"}],
            "rows": [{"row": [10, 2]}, {"row": [1, 7]}],
        }
    )
    assert v2.num_registros == 20
    assert v2.details["classes"] == ["no", "yes"]


def test_predictions_array_counts_its_entries() -> None:
    verdict = inspect_json([{"y": 1}, {"y": 0}, {"y": 1}], metadata={"model": "m"})
    assert verdict == Inspection(
        "ok",
        3,
        None,
        "json",
        {
            "layout": "predictions",
            "metrics": {},
            "modelo_nombre": "m",
            "sources": {"modelo_nombre": "metadata"},
        },
    )


def test_non_finite_numbers_are_not_metrics() -> None:
    verdict = inspect(b'{"loss": NaN, "gain": Infinity, "auc": 0.7}')
    assert verdict.details["metrics"] == {"auc": 0.7}


def test_metrics_are_capped() -> None:
    document = {"metrics": {f"m{i:04d}": i for i in range(MAX_METRICS + 50)}}
    verdict = inspect_json(document)
    assert len(verdict.details["metrics"]) == MAX_METRICS
    assert verdict.details["metrics_truncated"] is True


def test_document_without_metrics_or_count_is_skipped() -> None:
    verdict = inspect_json({"model": "rf", "notes": "all good", "params": {"depth": 3}})
    assert verdict.estado == "skipped"
    assert verdict.reason == "results document holds no metric and no record count"
    assert verdict.details["modelo_nombre"] == "rf"


def test_invalid_results_document_is_an_error() -> None:
    verdict = inspect(b'{"accuracy": 0.9,')
    assert verdict.estado == "error"
    assert verdict.format == "json"
    assert verdict.reason is not None
    assert verdict.reason.startswith("results document is not valid JSON")


def test_scalar_results_document_is_an_error() -> None:
    verdict = inspect(b"0.93")
    assert verdict.estado == "error"
    assert verdict.reason == "results document is a JSON float, not an object"


def test_results_document_over_the_cap_is_skipped_unread() -> None:
    source = BytesSource(json.dumps({"a": "x" * 4000}).encode(), "r.json")
    verdict = inspect_object(
        Phase.EVALUATION, source, InspectionLimits(max_json_document_bytes=1024)
    )
    assert verdict == Inspection(
        "skipped", None, "results document is over the 1 KiB document cap", "json", {}
    )
    assert source.bytes_read == 0


# --- CSV tables and predictions ---------------------------------------------------------


def test_csv_metric_value_pairs() -> None:
    data = b"metric,value\naccuracy,0.91\nf1,0.88\nn_samples,500\n"
    verdict = inspect(data, key="eval/metrics.csv", metadata={"model_name": "rf"})
    assert verdict == Inspection(
        "ok",
        500,
        None,
        "csv",
        {
            "layout": "metric_pairs",
            "metrics": {"accuracy": 0.91, "f1": 0.88, "n_samples": 500},
            "modelo_nombre": "rf",
            "sources": {"modelo_nombre": "metadata"},
        },
    )


def test_csv_wide_metrics_per_split_with_semicolons() -> None:
    data = b"split;accuracy;f1\ntest;0.9;0.8\nvalidation;0.88;0.79\n"
    verdict = inspect(data, key="eval/scores.csv")
    assert verdict.details["layout"] == "metric_table"
    assert verdict.details["metrics"] == {
        "test.accuracy": 0.9,
        "test.f1": 0.8,
        "validation.accuracy": 0.88,
        "validation.f1": 0.79,
    }
    assert verdict.num_registros is None


def test_csv_classification_report_as_pandas_writes_it() -> None:
    # pandas.DataFrame(classification_report(..., output_dict=True)).transpose().to_csv()
    data = (
        b",precision,recall,f1-score,support\n"
        b"BENIGN,0.99,0.98,0.985,900.0\n"
        b"DDoS,0.9,0.95,0.924,100.0\n"
        b"accuracy,0.977,0.977,0.977,0.977\n"
        b"macro avg,0.945,0.965,0.954,1000.0\n"
        b"weighted avg,0.981,0.977,0.979,1000.0\n"
    )
    verdict = inspect(data, key="eval/report.csv")
    assert verdict.details["layout"] == "classification_report"
    expected = dict(CLASSIFICATION_METRICS)
    for name in expected:
        if name.endswith("support"):
            expected[name] = float(expected[name])
    assert verdict.details["metrics"] == expected
    assert verdict.num_registros == 1000


def test_csv_confusion_matrices() -> None:
    square = inspect(b",cat,dog\ncat,50,2\ndog,3,45\n", key="eval/cm.csv")
    assert (square.estado, square.num_registros) == ("ok", 100)
    assert square.details["classes"] == ["cat", "dog"]
    assert square.details["confusion_matrix"] == [[50, 2], [3, 45]]
    long = inspect(
        b"cat,cat,50\ncat,dog,2\ndog,cat,3\ndog,dog,45\n", key="kfp/confusion_matrix.csv"
    )
    assert (long.num_registros, long.details["confusion_matrix"]) == (100, [[50, 2], [3, 45]])
    assert long.details["classes"] == ["cat", "dog"]


def test_keras_csv_logger() -> None:
    data = b"epoch,accuracy,loss,val_accuracy,val_loss\n0,0.6,0.9,0.65,0.8\n1,0.8,0.5,0.7,0.6\n"
    verdict = inspect(data, key="logs/training.log.csv")
    assert verdict.details["layout"] == "epochs"
    assert verdict.details["metrics"] == {
        "epochs": 2,
        "accuracy": 0.8,
        "loss": 0.5,
        "val_accuracy": 0.7,
        "val_loss": 0.6,
        "best.accuracy": 0.8,
        "best.loss": 0.5,
        "best.val_accuracy": 0.7,
        "best.val_loss": 0.6,
    }


def test_csv_predictions_are_counted_like_a_dataset() -> None:
    data = b"id,y_true,y_pred\n1,cat,cat\n2,dog,cat\n3,dog,dog\n"
    verdict = inspect(data, key="eval/predictions.csv", metadata={"dataset": "pets"})
    details = dict(verdict.details)
    assert details.pop("dialect")["header"] == "present"
    assert dataclasses.replace(verdict, details=details) == Inspection(
        "ok",
        3,
        None,
        "csv",
        {
            "columns": ["id", "y_true", "y_pred"],
            "num_columns": 3,
            "layout": "predictions",
            "metrics": {},
            "nombre_dataset": "pets",
            "sources": {"nombre_dataset": "metadata"},
        },
    )


def test_large_csv_predictions_are_counted_without_table_parsing() -> None:
    rows = MAX_TABLE_BYTES // 10 + 10
    data = b"y_true,y_pred\n" + b"0.1234,1\n" * rows
    verdict = inspect(data, key="eval/predictions.csv")
    assert (verdict.estado, verdict.num_registros) == ("ok", rows)
    assert verdict.details["layout"] == "predictions"


def test_parquet_predictions() -> None:
    import io

    sink = io.BytesIO()
    pq.write_table(pa.table({"y": list(range(321)), "p": [0.5] * 321}), sink)
    verdict = inspect(sink.getvalue(), key="eval/preds.parquet", metadata={"model": "rf"})
    assert (verdict.estado, verdict.format, verdict.num_registros) == ("ok", "parquet", 321)
    assert verdict.details["layout"] == "predictions"
    assert verdict.details["metrics"] == {}
    assert names(verdict) == ("rf", None)


# --- images ------------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    exif = b"\xff\xe1" + struct.pack(">H", 2 + 5000) + b"\x00" * 5000
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + exif + sof + b"\xff\xda\x00\x02" + b"\x00" * 10 + b"\xff\xd9"


def webp_lossless(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    chunk = b"VP8L" + struct.pack("<I", 5) + b"\x2f" + struct.pack("<I", bits)
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk + b"\x00" * 8


def webp_extended(width: int, height: int) -> bytes:
    size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + size
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


@pytest.mark.parametrize(
    ("data", "key", "fmt"),
    [
        (png(640, 480), "eval/confusion_matrix.png", "png"),
        (jpeg(640, 480), "eval/roc.jpg", "jpeg"),
        (b"GIF89a" + struct.pack("<HH", 640, 480) + b"\x00" * 8, "eval/a.gif", "gif"),
        (webp_lossless(640, 480), "eval/a.webp", "webp"),
        (webp_extended(640, 480), "eval/b.webp", "webp"),
    ],
)
def test_images_record_format_and_dimensions(data: bytes, key: str, fmt: str) -> None:
    verdict = inspect(data, key=key, metadata={"model": "rf"})
    assert verdict == Inspection(
        "ok",
        None,
        None,
        fmt,
        {
            "layout": "image",
            "metrics": {},
            "width": 640,
            "height": 480,
            "modelo_nombre": "rf",
            "sources": {"modelo_nombre": "metadata"},
        },
    )


def test_image_reading_is_bounded() -> None:
    source = BytesSource(png(10, 20) + b"\x00" * 5_000_000, "eval/cm.png")
    verdict = inspect_object(Phase.EVALUATION, source, InspectionLimits())
    assert (verdict.details["width"], verdict.details["height"]) == (10, 20)
    assert source.bytes_read <= InspectionLimits().block_size


def test_truncated_jpeg_is_an_error() -> None:
    verdict = inspect(jpeg(640, 480)[:2000], key="eval/roc.jpg")
    assert verdict.estado == "error"
    assert verdict.reason == "truncated JPEG: it ends before its frame header"


def test_broken_image_is_an_error() -> None:
    verdict = inspect(b"\x89PNG....", key="eval/confusion.png")
    assert verdict.estado == "error"
    assert verdict.reason == "not a PNG, JPEG, GIF or WebP image (unknown signature)"


def test_other_result_formats_are_skipped() -> None:
    verdict = inspect(b"\x80\x04K\x01.", key="eval/scores.pkl")
    assert verdict.estado == "skipped"
    assert verdict.reason == "a Python pickle (never unpickled) is not a countable dataset format"


def test_confusion_matrix_beside_metrics_keeps_both() -> None:
    document = {"accuracy": 0.95, "labels": ["a", "b"], "confusion_matrix": [[50, 2], [3, 45]]}
    verdict = inspect_json(document)
    assert verdict.details["layout"] == "flat"
    assert verdict.details["metrics"] == {"accuracy": 0.95}
    assert verdict.details["confusion_matrix"] == [[50, 2], [3, 45]]
    assert verdict.details["classes"] == ["a", "b"]
    assert verdict.num_registros == 100


def test_large_confusion_matrix_keeps_its_total_not_its_cells() -> None:
    size = 101
    matrix = [[1] * size for _ in range(size)]
    verdict = inspect_json({"labels": list(range(size)), "matrix": matrix})
    assert verdict.num_registros == size * size
    assert verdict.details["num_classes"] == size
    assert "confusion_matrix" not in verdict.details
    assert "classes" not in verdict.details


def test_normalised_confusion_matrix_is_not_a_count() -> None:
    verdict = inspect_json({"confusion_matrix": [[0.9, 0.1], [0.2, 0.8]]})
    assert verdict.estado == "skipped"
    assert verdict.reason == "results document holds no metric and no record count"


def test_classification_report_as_text() -> None:
    # print(classification_report(y, p)) with scikit-learn's default digits=2
    text = (
        "              precision    recall  f1-score   support\n"
        "\n"
        "      BENIGN       0.99      0.98      0.98       900\n"
        "   DDoS port       0.90      0.95      0.92       100\n"
        "\n"
        "    accuracy                           0.98      1000\n"
        "   macro avg       0.94      0.96      0.95      1000\n"
        "weighted avg       0.98      0.98      0.98      1000\n"
    )
    verdict = inspect(text.encode(), key="eval/report.txt", metadata={"model": "rf"})
    assert (verdict.estado, verdict.format, verdict.num_registros) == ("ok", "text", 1000)
    assert verdict.details["metrics"] == {
        "accuracy": 0.98,
        "macro avg.precision": 0.94,
        "macro avg.recall": 0.96,
        "macro avg.f1-score": 0.95,
        "macro avg.support": 1000,
        "weighted avg.precision": 0.98,
        "weighted avg.recall": 0.98,
        "weighted avg.f1-score": 0.98,
        "weighted avg.support": 1000,
        "BENIGN.precision": 0.99,
        "BENIGN.recall": 0.98,
        "BENIGN.f1-score": 0.98,
        "BENIGN.support": 900,
        "DDoS port.precision": 0.9,
        "DDoS port.recall": 0.95,
        "DDoS port.f1-score": 0.92,
        "DDoS port.support": 100,
    }
    assert verdict.details["classes"] == ["BENIGN", "DDoS port"]
    assert names(verdict) == ("rf", None)


def test_other_text_is_skipped() -> None:
    verdict = inspect(b"training went fine\n", key="eval/notes.txt")
    assert verdict.estado == "skipped"
    assert verdict.reason == "text file is not a scikit-learn classification report"
