"""pickle and joblib model files, read statically from real scikit-learn artifacts."""

from __future__ import annotations

import io
import json
import os
import pickle
import pickletools
from pathlib import Path
from typing import Any

import joblib
import lightgbm
import numpy as np
import pytest
import sklearn
import xgboost
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from notifier.inspection import BytesSource, Inspection, InspectionLimits, Phase, inspect_object
from notifier.inspection.models import pickled
from notifier.inspection.models.pickle_vm import PickleLimits


def inspect(data: bytes, key: str, metadata: dict[str, str] | None = None) -> Inspection:
    source = BytesSource(data, key, user_metadata=metadata or {})
    verdict = inspect_object(Phase.TRAINING, source, InspectionLimits())
    json.dumps(verdict.details)  # JSON-ready, as the audit row needs
    return verdict


@pytest.fixture(scope="module")
def iris() -> tuple[Any, Any]:
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def forest(iris: tuple[Any, Any]) -> RandomForestClassifier:
    X, y = iris
    return RandomForestClassifier(n_estimators=7, max_depth=3, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def pipeline(iris: tuple[Any, Any]) -> Pipeline:
    X, y = iris
    steps = [("scaler", StandardScaler()), ("clf", LogisticRegression(C=0.5, max_iter=200))]
    return Pipeline(steps).fit(X, y)


def dumped(model: object, compress: Any = 0) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=compress)
    return buffer.getvalue()


def test_joblib_random_forest_yields_class_hyperparameters_and_counts(forest) -> None:
    verdict = inspect(dumped(forest), "rf/model.joblib")
    assert verdict.estado == "ok"
    assert verdict.format == "joblib"
    assert verdict.num_registros is None  # a forest does not state its training-set size
    parametros = verdict.details["parametros"]
    expected = {
        "model_class": "sklearn.ensemble._forest.RandomForestClassifier",
        "n_estimators": 7,
        "max_depth": 3,
        "random_state": 0,
        "criterion": "gini",
        "max_features": "sqrt",
        "bootstrap": True,
        "class_weight": None,
        "estimator": "sklearn.tree._classes.DecisionTreeClassifier",
        "estimator__splitter": "best",
        "sklearn_version": sklearn.__version__,
        "n_features_in": 4,
        "n_classes": 3,
    }
    assert {key: parametros[key] for key in expected} == expected
    assert not any(key.endswith("_") or key.startswith("_") for key in parametros)
    assert verdict.details["sources"]["n_estimators"] == "artifact"
    artifact = verdict.details["artifact"]
    assert artifact["safety"] == "allowed"
    assert artifact["suspicious_imports"] == []
    assert "sklearn.ensemble._forest.RandomForestClassifier" in artifact["imports"]
    assert "joblib.numpy_pickle.NumpyArrayWrapper" in artifact["imports"]
    assert artifact["estimator"] == "sklearn.ensemble._forest.RandomForestClassifier"
    assert artifact["arrays"] > 7  # every tree's node and value arrays were stepped over


@pytest.mark.parametrize(
    ("compress", "compression"),
    [(0, None), (3, "zlib"), ("gzip", "gzip"), ("bz2", "bz2"), ("xz", "xz"), ("lzma", "lzma")],
)
def test_joblib_pipeline_plain_and_compressed(pipeline, compress, compression) -> None:
    verdict = inspect(dumped(pipeline, compress), "pipe/model.joblib")
    assert verdict.estado == "ok", verdict.reason
    assert verdict.format == "joblib"
    parametros = verdict.details["parametros"]
    expected = {
        "model_class": "sklearn.pipeline.Pipeline",
        "steps": ["scaler", "clf"],
        "scaler": "sklearn.preprocessing._data.StandardScaler",
        "scaler__with_mean": True,
        "scaler__with_std": True,
        "clf": "sklearn.linear_model._logistic.LogisticRegression",
        "clf__C": 0.5,
        "clf__max_iter": 200,
        "clf__solver": "lbfgs",
        "memory": None,
        "verbose": False,
        "n_features_in": 4,
        "n_classes": 3,
        "sklearn_version": sklearn.__version__,
    }
    assert {key: parametros[key] for key in expected} == expected
    artifact = verdict.details["artifact"]
    assert artifact.get("compression") == compression
    assert artifact["steps"] == [
        {"name": "scaler", "class": "sklearn.preprocessing._data.StandardScaler"},
        {"name": "clf", "class": "sklearn.linear_model._logistic.LogisticRegression"},
    ]
    assert artifact["safety"] == "allowed"


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_plain_pickle_of_every_protocol(forest, protocol) -> None:
    verdict = inspect(pickle.dumps(forest, protocol=protocol), "rf.pkl")
    assert verdict.estado == "ok", verdict.reason
    assert verdict.format == "pickle"
    parametros = verdict.details["parametros"]
    assert parametros["model_class"] == "sklearn.ensemble._forest.RandomForestClassifier"
    assert (parametros["n_estimators"], parametros["max_depth"]) == (7, 3)
    assert (parametros["n_features_in"], parametros["n_classes"]) == (4, 3)
    assert verdict.details["artifact"]["pickle_protocol"] == (protocol if protocol >= 2 else None)


def test_numpy_scalars_and_object_arrays_are_read_without_numpy(iris) -> None:
    X, y = iris
    model = LogisticRegression(C=np.float64(0.25), max_iter=np.int64(500)).fit(X, y)
    model.feature_names_in_ = np.array(["a", "b", "c", "d"], dtype=object)
    verdict = inspect(dumped(model), "lr.joblib")
    assert verdict.estado == "ok", verdict.reason
    parametros = verdict.details["parametros"]
    assert (parametros["C"], parametros["max_iter"]) == (0.25, 500)
    assert parametros["n_classes"] == 3


def test_xgboost_lightgbm_wrappers_and_a_grid_search(iris) -> None:
    X, y = iris
    models = {
        "xgb": xgboost.XGBClassifier(n_estimators=5, max_depth=2, learning_rate=0.3),
        "lgbm": lightgbm.LGBMClassifier(n_estimators=5, num_leaves=7, verbose=-1),
        "search": GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.1, 1.0]}, cv=3),
    }
    found = {}
    for name, model in models.items():
        verdict = inspect(dumped(model.fit(X, y)), f"{name}.joblib")
        assert verdict.details["artifact"]["safety"] == "allowed", name
        found[name] = verdict.details["parametros"]
    assert found["xgb"]["model_class"] == "xgboost.sklearn.XGBClassifier"
    assert (found["xgb"]["n_estimators"], found["xgb"]["max_depth"]) == (5, 2)
    assert found["xgb"]["learning_rate"] == 0.3
    assert found["lgbm"]["model_class"] == "lightgbm.sklearn.LGBMClassifier"
    assert (found["lgbm"]["n_estimators"], found["lgbm"]["num_leaves"]) == (5, 7)
    search = found["search"]
    assert search["model_class"] == "sklearn.model_selection._search.GridSearchCV"
    assert search["param_grid"] == {"C": [0.1, 1.0]}
    assert search["estimator__max_iter"] == 500
    assert search["best_params"] == {"C": models["search"].best_params_["C"]}
    assert search["best_score"] == pytest.approx(models["search"].best_score_)
    assert search["best_estimator"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert (search["n_features_in"], search["n_classes"]) == (4, 3)


class _Trap:
    """Unpickling this would create a file: proof that the model was loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.touch, (self.path,))


class _Shell:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (os.system, (f"touch {self.path}",))


def test_pickle_that_would_create_a_file_is_read_and_flagged(tmp_path: Path) -> None:
    trap, shell = tmp_path / "touched", tmp_path / "shell"
    payload = {"model": _Trap(trap), "helper": _Shell(shell)}
    verdict = inspect(pickle.dumps(payload), "evil.pkl")
    assert verdict.estado == "ok"
    artifact = verdict.details["artifact"]
    assert artifact["safety"] == "suspicious"
    assert artifact["suspicious_imports"] == [
        "pathlib.Path.touch",
        "pathlib.PosixPath",
        f"{os.system.__module__}.system",
    ]
    assert artifact["root"] == "dict"
    assert not trap.exists()
    assert not shell.exists()


def test_suspicious_import_inside_a_real_model_is_flagged(tmp_path: Path, forest) -> None:
    marker = tmp_path / "created"
    forest_copy = pickle.loads(pickle.dumps(forest))
    forest_copy.verbose = _Trap(marker)
    verdict = inspect(dumped(forest_copy), "rf.joblib")
    artifact = verdict.details["artifact"]
    assert artifact["safety"] == "suspicious"
    assert artifact["suspicious_imports"] == ["pathlib.Path.touch", "pathlib.PosixPath"]
    assert verdict.details["parametros"]["verbose"] == "<pathlib.Path.touch>"
    assert not marker.exists()


def test_long_values_are_stepped_over_not_held() -> None:
    data = pickle.dumps({"weights": b"\x00" * 3_000_000, "name": "n" * 5000, "k": 3})
    verdict = inspect(data, "blob.pkl")
    assert verdict.estado == "ok"
    assert verdict.details["artifact"]["root"] == "dict"


def test_opcode_cap_skips_with_a_reason(forest, monkeypatch) -> None:
    monkeypatch.setattr(pickled, "LIMITS", PickleLimits(max_opcodes=100))
    verdict = inspect(pickle.dumps(forest), "rf.pkl", {"n_estimators": "7"})
    assert verdict.estado == "skipped"
    assert verdict.reason == "pickle longer than 100 opcodes"
    assert verdict.details["parametros"] == {"n_estimators": 7}  # metadata still recorded


def test_stack_and_memo_caps(monkeypatch) -> None:
    monkeypatch.setattr(pickled, "LIMITS", PickleLimits(max_stack=50))
    deep: list[Any] = []
    for _ in range(60):
        deep = [deep]
    verdict = inspect(pickle.dumps(deep), "deep.pkl")
    assert (verdict.estado, verdict.reason) == ("skipped", "pickle stack deeper than 50")
    monkeypatch.setattr(pickled, "LIMITS", PickleLimits(max_memo=20))
    verdict = inspect(pickle.dumps([[i] for i in range(30)]), "wide.pkl")
    assert (verdict.estado, verdict.reason) == ("skipped", "pickle memo larger than 20 entries")


def test_import_and_text_caps(monkeypatch) -> None:
    many = b"\x80\x02" + b"".join(b"cmod%d\nname\n0" % i for i in range(30)) + b"N."
    monkeypatch.setattr(pickled, "LIMITS", PickleLimits(max_imports=20))
    verdict = inspect(many, "imports.pkl")
    assert (verdict.estado, verdict.reason) == ("skipped", "pickle imports more than 20 names")
    monkeypatch.setattr(pickled, "LIMITS", PickleLimits(max_kept_text_bytes=1000))
    verdict = inspect(
        pickle.dumps(["x" * 200] * 3 + [f"s{i}" * 100 for i in range(20)], 0), "t.pkl"
    )
    assert verdict.estado == "ok"  # strings past the budget are counted, not kept
    verdict = inspect(b"(" + b"Vaaaaaaaaaaaaaaaaaaaa\n0" * 60 + b"cos\nsystem\n.", "p0.pkl")
    assert (verdict.estado, verdict.reason) == (
        "skipped",
        "pickle text budget exhausted before a GLOBAL name",
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x80\x04not-to-be-unpickled", "not a pickle stream: unknown opcode b'n' at byte 2"),
        (pickle.dumps({"a": 1})[:-1], "truncated pickle: no STOP opcode"),
        (pickle.dumps({"a": 1})[:-3], "truncated pickle: it ends inside the argument of BININT1"),
        (b"\x80\x04\x95", "truncated pickle: it ends inside the argument of FRAME"),
        (b"\x80\x02bogus", "invalid pickle: pop from an empty stack"),
    ],
)
def test_corrupt_pickles_are_errors(data, reason) -> None:
    verdict = inspect(data, "m.pkl", {"epochs": "3"})
    assert (verdict.estado, verdict.reason) == ("error", reason)
    assert verdict.format == "pickle"
    assert verdict.details["parametros"] == {"epochs": 3}


def test_lz4_and_corrupt_compressed_files(pipeline) -> None:
    verdict = inspect(b"\x04\x22\x4d\x18" + b"\x00" * 20, "m.joblib")
    assert verdict.estado == "skipped"
    assert verdict.reason == "lz4-compressed file: lz4 is not in the Python standard library"
    verdict = inspect(b"ZF0x00000010" + b"\x00" * 20, "m.pkl")
    assert verdict.estado == "skipped"
    assert verdict.reason == "joblib file from before joblib 0.9.3 (ZF header): not read"
    verdict = inspect(dumped(pipeline, 3)[:200], "m.joblib")
    assert (verdict.estado, verdict.reason) == ("error", "truncated zlib stream")


def test_reader_never_calls_pickle_loading_functions() -> None:
    """The runtime package names no loading function (a review aid that can fail)."""
    package = Path(pickled.__file__).parent
    for module in package.glob("*.py"):
        text = module.read_text()
        for forbidden in (
            "pickle.load(",
            "pickle.loads(",
            "joblib.load(",
            "torch.load(",
            "import joblib",
            "import torch",
            "import pickle\n",
            "from pickle ",
            "eval(",
            "exec(",
            "importlib",
        ):
            assert forbidden not in text, (module.name, forbidden)
    ops = {op.name for op in pickletools.opcodes}
    assert ops  # the opcode table the reader is built on is present
