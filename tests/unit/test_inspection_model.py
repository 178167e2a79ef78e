"""Training artifacts (notifier.inspection.models): metadata and model cards, never the model."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

from notifier.inspection import BytesSource, Inspection, InspectionLimits, Phase, inspect_object
from notifier.inspection import models as model_inspection
from notifier.inspection.models import registry


def inspect(
    data: bytes,
    key: str,
    metadata: dict[str, str] | None = None,
    limits: InspectionLimits | None = None,
) -> tuple[Inspection, BytesSource]:
    source = BytesSource(data, key, user_metadata=metadata or {})
    verdict = inspect_object(Phase.TRAINING, source, limits or InspectionLimits())
    json.dumps(verdict.details)
    return verdict, source


class _Trap:
    """Unpickling this creates a file: proof that the model was loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.touch, (self.path,))


def test_metadata_outranks_the_artifact_and_a_trap_is_never_run(tmp_path: Path) -> None:
    trap = tmp_path / "unpickled"
    metadata = {
        "learning_rate": "0.1",
        "epochs": "10",
        "early_stopping": "true",
        "optimizer": "adam",
        "num_records": "1500",
        "dataset": "ventas-2024",
    }
    verdict, _ = inspect(pickle.dumps(_Trap(trap)), "models/rf.pkl", metadata)
    assert not trap.exists()
    assert (verdict.estado, verdict.num_registros, verdict.format) == ("ok", 1500, "pickle")
    assert verdict.details["parametros"] == {
        "learning_rate": 0.1,
        "epochs": 10,
        "early_stopping": True,
        "optimizer": "adam",
        "num_records": 1500,
        "dataset": "ventas-2024",
    }
    assert verdict.details["dataset"] == "ventas-2024"
    assert verdict.details["sources"] == {
        **{key: "metadata" for key in metadata},
        "num_registros": "metadata",
    }
    assert verdict.details["artifact"]["safety"] == "suspicious"
    assert verdict.details["artifact"]["suspicious_imports"] == [
        "pathlib.Path.touch",
        "pathlib.PosixPath",
    ]


def test_unknown_model_format_is_skipped_with_metadata_kept() -> None:
    verdict, source = inspect(b"\x00\x01binary", "m.bin", {"epochs": "3", "rows": "12"})
    assert verdict.estado == "skipped"
    assert verdict.reason == (
        "not a recognised model format (see the README's table of model formats)"
    )
    assert verdict.details["parametros"] == {"epochs": 3, "rows": 12}
    assert verdict.num_registros == 12
    assert source.bytes_read == len(b"\x00\x01binary")


def test_metadata_values_that_only_look_numeric_stay_text() -> None:
    metadata = {"version": "1.2.3", "seed": "007x", "threshold": "NaN", "big": "1e999"}
    verdict, _ = inspect(b"", "m.bin", metadata)
    assert verdict.details["parametros"] == metadata
    assert verdict.num_registros is None
    assert "dataset" not in verdict.details


def test_hyphenated_metadata_names_are_understood() -> None:
    verdict, _ = inspect(b"", "m.bin", {"training-rows": "42", "source-dataset": "clientes"})
    assert verdict.num_registros == 42
    assert verdict.details["dataset"] == "clientes"


def test_model_card_fields_and_nested_parameters_are_merged() -> None:
    card = {
        "name": "churn-rf",
        "framework": "sklearn",
        "training_rows": 12_000,
        "training_dataset": "clientes-v3",
        "learning_rate": 0.05,
        "hyperparameters": {"max_depth": 8, "layers": [64, 32], "class_weight": None},
        "params": {"n_estimators": 300},
        "evaluation": {"accuracy": 0.91},
        "history": list(range(1000)),
    }
    metadata = {"learning_rate": "0.1", "owner": "data-team"}
    verdict, source = inspect(json.dumps(card).encode(), "cards/churn.json", metadata)
    assert verdict.estado == "ok"
    assert verdict.format == "model_card"
    assert verdict.num_registros == 12_000
    assert verdict.details == {
        "parametros": {
            "learning_rate": 0.1,  # the object's metadata outranks the card
            "owner": "data-team",
            "name": "churn-rf",
            "framework": "sklearn",
            "training_rows": 12_000,
            "training_dataset": "clientes-v3",
            "max_depth": 8,
            "layers": [64, 32],
            "class_weight": None,
            "n_estimators": 300,
        },
        "dataset": "clientes-v3",
        "model_card": True,
        "sources": {
            **{key: "sidecar" for key in verdict.details["parametros"]},
            "owner": "metadata",
            "learning_rate": "metadata",
            "dataset": "sidecar",
            "num_registros": "sidecar",
        },
        "sidecar_of": {"prefix": "cards/", "stem": "churn"},
        "sidecar": {
            "parametros": {**verdict.details["sidecar"]["parametros"], "learning_rate": 0.05},
            "dataset": "clientes-v3",
            "num_registros": 12_000,
        },
    }
    assert len(verdict.details["sidecar"]["parametros"]) == 9
    assert source.bytes_read == source.size + registry.HEAD_BYTES


def test_invalid_model_card_still_records_the_model() -> None:
    verdict, _ = inspect(b"{not json", "m.json", {"epochs": "3"})
    assert verdict.estado == "ok"
    assert verdict.details["parametros"] == {"epochs": 3}
    assert verdict.details["model_card_error"].startswith("model card is not valid JSON")


def test_model_card_that_is_not_an_object() -> None:
    verdict, _ = inspect(b"[1, 2]", "m.json")
    assert verdict.estado == "ok"
    assert verdict.details["model_card_error"] == "model card is a JSON list, not an object"


def test_model_card_over_the_cap_is_not_read() -> None:
    card = json.dumps({"blob": "x" * 5000}).encode()
    limits = InspectionLimits(max_json_document_bytes=1024)
    verdict, source = inspect(card, "m.json", {"epochs": "2"}, limits)
    assert verdict.estado == "ok"
    assert verdict.details["model_card_error"] == "model card is over the 1 KiB document cap"
    assert source.bytes_read == registry.HEAD_BYTES  # the format check only


def test_model_card_of_unknown_size_is_read_only_up_to_the_cap() -> None:
    source = BytesSource(json.dumps({"blob": "x" * 50_000}).encode(), "m.json")
    source.size = None
    limits = InspectionLimits(max_json_document_bytes=1024, block_size=512)
    verdict = inspect_object(Phase.TRAINING, source, limits)
    assert verdict.details["model_card_error"] == "model card is over the 1 KiB document cap"
    assert source.bytes_read < 4096


def test_long_strings_are_clipped_and_parameters_capped() -> None:
    card: dict[str, object] = {f"p{i:03d}": i for i in range(model_inspection.MAX_PARAMETERS + 20)}
    card["notes"] = "n" * 5000
    verdict, _ = inspect(json.dumps(card).encode(), "m.json")
    parametros = verdict.details["parametros"]
    assert len(parametros) == model_inspection.MAX_PARAMETERS
    assert verdict.details["parametros_truncated"] is True
    assert parametros["p000"] == 0
    verdict, _ = inspect(json.dumps({"notes": "n" * 5000}).encode(), "m.json")
    assert verdict.details["parametros"]["notes"] == "n" * 1024
