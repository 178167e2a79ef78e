"""Evaluation results (notifier.inspection.results): metrics, names, row counts."""

from __future__ import annotations

import json

from notifier.inspection import BytesSource, Inspection, InspectionLimits, Phase, inspect_object
from notifier.inspection import results as results_inspection


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


def test_numeric_fields_and_nested_metrics_are_flattened() -> None:
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
            "f1": 0.88,
            "is_best": False,
            "per_class": {"cat": {"precision": 0.9, "recall": 0.8, "deeper": {"x": 1}}},
            "loss": [0.3, 0.2],
        },
    }
    verdict = inspect(json.dumps(document).encode())
    assert verdict == Inspection(
        "ok",
        2000,
        None,
        "results",
        {
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
        },
    )


def test_names_come_from_metadata_when_the_document_has_none() -> None:
    document = {"rmse": 3.2, "model": {"name": "xgb", "version": 2}}
    metadata = {"nombre_dataset": "ventas", "modelo": "ignored-because-the-document-names-it"}
    verdict = inspect(json.dumps(document).encode(), metadata=metadata)
    assert verdict.details == {
        "metrics": {"rmse": 3.2},
        "modelo_nombre": "xgb",
        "nombre_dataset": "ventas",
    }
    assert verdict.num_registros is None


def test_non_finite_numbers_are_not_metrics() -> None:
    verdict = inspect(b'{"loss": NaN, "gain": Infinity, "auc": 0.7}')
    assert verdict.details["metrics"] == {"auc": 0.7}


def test_metrics_are_capped() -> None:
    document = {"metrics": {f"m{i:04d}": i for i in range(results_inspection.MAX_METRICS + 50)}}
    verdict = inspect(json.dumps(document).encode())
    assert len(verdict.details["metrics"]) == results_inspection.MAX_METRICS
    assert verdict.details["metrics_truncated"] is True


def test_invalid_results_document_is_an_error() -> None:
    verdict = inspect(b'{"accuracy": 0.9,')
    assert verdict.estado == "error"
    assert verdict.format == "results"
    assert verdict.reason is not None
    assert verdict.reason.startswith("results document is not valid JSON")


def test_scalar_results_document_is_an_error() -> None:
    verdict = inspect(b"0.93")
    assert verdict.estado == "error"
    assert verdict.reason == "results document is a JSON float, not an object"


def test_results_list_counts_its_entries() -> None:
    verdict = inspect(json.dumps([{"y": 1}, {"y": 0}, {"y": 1}]).encode(), metadata={"model": "m"})
    assert verdict == Inspection(
        "ok",
        3,
        None,
        "results",
        {"metrics": {}, "layout": "array", "modelo_nombre": "m", "nombre_dataset": None},
    )


def test_results_document_over_the_cap_is_skipped_unread() -> None:
    source = BytesSource(json.dumps({"a": "x" * 4000}).encode(), "r.json")
    verdict = inspect_object(
        Phase.EVALUATION, source, InspectionLimits(max_json_document_bytes=1024)
    )
    assert verdict == Inspection(
        "skipped", None, "results document is over the 1 KiB document cap", "results", {}
    )
    assert source.bytes_read == 0


def test_csv_results_table_is_counted_like_a_dataset() -> None:
    data = b"metric,value\naccuracy,0.91\nf1,0.88\n"
    verdict = inspect(data, key="eval/metrics.csv", metadata={"model_name": "rf"})
    details = dict(verdict.details)
    assert details.pop("dialect")["delimiter"] == ","
    assert verdict == Inspection("ok", 2, None, "csv", verdict.details)
    assert details == {
        "columns": ["metric", "value"],
        "num_columns": 2,
        "metrics": {},
        "modelo_nombre": "rf",
        "nombre_dataset": None,
    }


def test_other_result_formats_are_skipped() -> None:
    verdict = inspect(b"\x89PNG....", key="eval/confusion.png")
    assert verdict.estado == "skipped"
    assert verdict.reason == "unsupported format '.png'"
    assert verdict.details["metrics"] == {}
