"""Sidecars read with a model, and the order of precedence of the facts."""

from __future__ import annotations

import json
import pickle

from notifier.inspection import BytesSource, InspectionLimits, Phase, inspect_object
from notifier.inspection.models import sidecars
from notifier.inspection.models.keys import base_suffix, stem_of


def model_pickle() -> bytes:
    """A scikit-learn-shaped pickle (class by reference, NEWOBJ, BUILD of a state dict)."""
    state = {"n_estimators": 100, "max_depth": 5, "n_features_in_": 3}
    head = b"\x80\x02csklearn.ensemble._forest\nRandomForestClassifier\n)\x81"
    return head + pickle.dumps(state, protocol=2)[2:-1] + b"b."


def test_sidecar_names_for_a_model_key() -> None:
    assert sidecars.sidecar_keys("runs/7/rf.v2.joblib.gz") == [
        "runs/7/rf.v2.json",
        "runs/7/rf.v2.yaml",
        "runs/7/rf.v2.yml",
        "runs/7/model_card.json",
        "runs/7/params.json",
        "runs/7/metadata.json",
    ]
    assert (stem_of("rf.v2.joblib.gz"), base_suffix("rf.v2.joblib.gz")) == ("rf.v2", ".joblib")
    assert sidecars.target_of("runs/7/params.json") == sidecars.SidecarTarget("runs/7/", None)
    assert sidecars.target_of("runs/7/rf.yaml") == sidecars.SidecarTarget("runs/7/", "rf")
    assert sidecars.target_of("runs/7/rf.txt") is None


def test_precedence_metadata_then_stem_sidecar_then_prefix_sidecar_then_artifact() -> None:
    siblings = {
        "m/rf.yaml": BytesSource(
            b"max_depth: 9\nlearning_rate: 0.2\ndataset: silver/a\n", "m/rf.yaml"
        ),
        "m/params.json": BytesSource(
            json.dumps({"learning_rate": 0.5, "seed": 1, "num_records": 800}).encode(),
            "m/params.json",
        ),
    }
    source = BytesSource(model_pickle(), "m/rf.pkl", user_metadata={"seed": "7"}, siblings=siblings)
    verdict = inspect_object(Phase.TRAINING, source, InspectionLimits())
    assert (verdict.estado, verdict.num_registros) == ("ok", 800)
    assert verdict.details["parametros"] == {
        "model_class": "sklearn.ensemble._forest.RandomForestClassifier",
        "n_estimators": 100,
        "max_depth": 9,
        "n_features_in": 3,
        "learning_rate": 0.2,
        "dataset": "silver/a",
        "seed": 7,
        "num_records": 800,
    }
    assert verdict.details["sources"] == {
        "model_class": "artifact",
        "n_estimators": "artifact",
        "max_depth": "sidecar",
        "n_features_in": "artifact",
        "learning_rate": "sidecar",
        "dataset": "sidecar",
        "seed": "metadata",
        "num_records": "sidecar",
        "num_registros": "sidecar",
    }
    assert verdict.details["dataset"] == "silver/a"
    assert verdict.details["sidecars"] == ["m/rf.yaml", "m/params.json"]


def test_bad_and_oversized_sidecars_are_noted_and_the_model_still_recorded() -> None:
    big = BytesSource(b"{" + b" " * (sidecars.MAX_SIDECAR_BYTES + 1) + b"}", "m/metadata.json")
    siblings = {
        "m/rf.json": BytesSource(b"{not json", "m/rf.json"),
        "m/model_card.json": BytesSource(b"[1, 2]", "m/model_card.json"),
        "m/metadata.json": big,
    }
    source = BytesSource(model_pickle(), "m/rf.pkl", siblings=siblings)
    verdict = inspect_object(Phase.TRAINING, source, InspectionLimits())
    assert verdict.estado == "ok"
    errors = verdict.details["sidecar_errors"]
    assert errors["m/rf.json"].startswith("model card is not valid JSON")
    assert errors["m/model_card.json"] == "model card is a JSON list, not an object"
    assert errors["m/metadata.json"] == "sidecar is larger than 1048576 bytes; not read"
    assert big.bytes_read == 0
    assert "sidecars" not in verdict.details
    assert verdict.details["parametros"]["n_estimators"] == 100


def test_an_unrecognised_model_still_gets_its_sidecar() -> None:
    siblings = {"m/model.json": BytesSource(b'{"epochs": 4, "rows": 10}', "m/model.json")}
    source = BytesSource(b"\x00opaque", "m/model.bin", siblings=siblings)
    verdict = inspect_object(Phase.TRAINING, source, InspectionLimits())
    assert (verdict.estado, verdict.num_registros) == ("skipped", 10)
    assert verdict.details["parametros"] == {"epochs": 4, "rows": 10}
    assert verdict.details["sidecars"] == ["m/model.json"]
