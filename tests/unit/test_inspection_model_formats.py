"""ONNX, safetensors, XGBoost and LightGBM files made by the real libraries, read
without them: exact facts, bounded bytes, clear errors."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pytest
import xgboost
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save as save_safetensors
from sklearn.datasets import load_iris

from notifier.inspection import BytesSource, Inspection, InspectionLimits, Phase, inspect_object

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def inspect(
    data: bytes, key: str, metadata: dict[str, str] | None = None
) -> tuple[Inspection, BytesSource]:
    source = BytesSource(data, key, user_metadata=metadata or {})
    verdict = inspect_object(Phase.TRAINING, source, InspectionLimits())
    json.dumps(verdict.details)
    return verdict, source


def onnx_model(weights: int = 4 * 3) -> bytes:
    rows = weights // 3
    w = numpy_helper.from_array(np.ones((rows, 3), dtype=np.float32), "W")
    b = numpy_helper.from_array(np.zeros((3,), dtype=np.float32), "B")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["X", "W", "B"], ["H"]), helper.make_node("Relu", ["H"], ["Y"])],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", rows])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["batch", 3])],
        [w, b],
    )
    model = helper.make_model(
        graph,
        producer_name="notifier-tests",
        producer_version="2.1",
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
    )
    helper.set_model_props(
        model, {"epochs": "12", "dataset": "silver/iris.parquet", "num_records": "150"}
    )
    return bytes(model.SerializeToString())


def test_onnx_producer_opsets_io_metadata_and_parameter_count() -> None:
    verdict, _ = inspect(onnx_model(), "iris/linear.onnx")
    assert (verdict.estado, verdict.format, verdict.num_registros) == ("ok", "onnx", 150)
    assert verdict.details["parametros"] == {
        "epochs": 12,
        "dataset": "silver/iris.parquet",
        "num_records": 150,
        "producer_name": "notifier-tests",
        "producer_version": "2.1",
        "ir_version": helper.make_model(helper.make_graph([], "g", [], [])).ir_version,
        "opset": 17,
        "num_parameters": 15,
        "num_initializers": 2,
        "num_nodes": 2,
        "num_inputs": 1,
        "num_outputs": 1,
    }
    artifact = verdict.details["artifact"]
    assert artifact["inputs"] == [{"name": "X", "dtype": "float", "shape": ["batch", 4]}]
    assert artifact["outputs"] == [{"name": "Y", "dtype": "float", "shape": ["batch", 3]}]
    assert artifact["opset_import"] == {"ai.onnx": 17, "ai.onnx.ml": 3}
    assert artifact["ops"] == {"Gemm": 1, "Relu": 1}
    assert verdict.details["dataset"] == "silver/iris.parquet"
    assert verdict.details["sources"]["num_registros"] == "artifact"


def test_onnx_weights_are_not_fetched() -> None:
    data = onnx_model(weights=3 * 1_000_000)  # 12 MB of float weights
    verdict, source = inspect(data, "big.onnx")
    assert verdict.details["parametros"]["num_parameters"] == 3_000_003
    assert source.bytes_read < 3 * 1024**2  # the structure, a few windows, no weights


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not an ONNX model: no ir_version"),
        (b"\x08", "truncated file: 1 bytes wanted at byte 1 of 1"),
        (b"\x3a\xff\x01abc", "truncated ONNX file: a message runs past the end"),
    ],
)
def test_corrupt_onnx_is_an_error(data: bytes, reason: str) -> None:
    verdict, _ = inspect(data, "bad.onnx")
    assert (verdict.estado, verdict.reason) == ("error", reason)


def test_safetensors_header_only() -> None:
    tensors = {
        "dense.weight": np.ones((64, 32), dtype=np.float32),
        "dense.bias": np.zeros((32,), dtype=np.float16),
    }
    data = save_safetensors(tensors, metadata={"format": "pt", "n_samples": "5000"})
    verdict, source = inspect(data, "enc/model.safetensors")
    assert (verdict.estado, verdict.format, verdict.num_registros) == ("ok", "safetensors", 5000)
    assert verdict.details["parametros"] == {
        "format": "pt",
        "n_samples": 5000,
        "num_parameters": 64 * 32 + 32,
        "num_tensors": 2,
    }
    artifact = verdict.details["artifact"]
    assert artifact["dtypes"] == {"F32": 1, "F16": 1}
    assert sorted(artifact["tensors"], key=lambda t: t["name"]) == [
        {"name": "dense.bias", "dtype": "F16", "shape": [32]},
        {"name": "dense.weight", "dtype": "F32", "shape": [64, 32]},
    ]
    assert source.bytes_read < 64 + 300  # the head and the JSON header, never the weights


def test_truncated_safetensors_is_an_error() -> None:
    data = save_safetensors({"w": np.ones((100,), dtype=np.float32)})
    verdict, _ = inspect(data[:-10], "w.safetensors")
    assert (verdict.estado, verdict.reason) == (
        "error",
        "truncated safetensors file: tensor 'w' runs past the end",
    )


@pytest.fixture(scope="module")
def iris() -> tuple[Any, Any]:
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def booster(iris) -> xgboost.Booster:
    X, y = iris
    matrix = xgboost.DMatrix(X, label=y, feature_names=FEATURES)
    params = {"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "eta": 0.3}
    trained = xgboost.train(params, matrix, num_boost_round=5)
    trained.set_attr(dataset="silver/iris.parquet", num_records="150")
    return trained


@pytest.mark.parametrize(("suffix", "encoding"), [(".json", "json"), (".ubj", "ubjson")])
def test_xgboost_json_and_ubjson(booster, tmp_path: Path, suffix, encoding) -> None:
    path = tmp_path / f"model{suffix}"
    booster.save_model(path)
    verdict, _ = inspect(path.read_bytes(), f"xgb/model{suffix}")
    assert (verdict.estado, verdict.format, verdict.num_registros) == ("ok", "xgboost", 150)
    assert verdict.details["parametros"] == {
        "dataset": "silver/iris.parquet",
        "num_records": 150,
        "objective": "multi:softprob",
        "booster": "gbtree",
        "num_trees": 15,
        "num_feature": 4,
        "num_class": 3,
        "num_target": 1,
        "base_score": verdict.details["parametros"]["base_score"],
    }
    artifact = verdict.details["artifact"]
    assert artifact["encoding"] == encoding
    assert artifact["feature_names"] == FEATURES
    assert artifact["xgboost_version"] == xgboost.__version__


def test_truncated_xgboost_is_an_error(booster, tmp_path: Path) -> None:
    for suffix in (".json", ".ubj"):
        path = tmp_path / f"model{suffix}"
        booster.save_model(path)
        verdict, _ = inspect(path.read_bytes()[:-40], f"model{suffix}")
        assert verdict.estado == "error", suffix
        assert verdict.reason is not None


def test_lightgbm_text_model(iris, tmp_path: Path) -> None:
    X, y = iris
    data = lightgbm.Dataset(X, label=y, feature_name=FEATURES)
    params = {
        "objective": "multiclass",
        "num_class": 3,
        "num_leaves": 7,
        "learning_rate": 0.1,
        "verbose": -1,
    }
    model = lightgbm.train(params, data, num_boost_round=4)
    path = tmp_path / "model.txt"
    model.save_model(path)
    verdict, _ = inspect(path.read_bytes(), "lgbm/model.txt")
    assert (verdict.estado, verdict.format) == ("ok", "lightgbm")
    parametros = verdict.details["parametros"]
    expected = {
        "objective": "multiclass",
        "num_class": 3,
        "num_trees": 12,
        "num_feature": 4,
        "num_leaves": 7,
        "learning_rate": 0.1,
        "num_iterations": 4,
        "boosting": "gbdt",
    }
    assert {key: parametros[key] for key in expected} == expected
    assert verdict.details["artifact"]["feature_names"] == FEATURES
    assert verdict.details["artifact"]["lightgbm_version"] == "v4"


def test_lightgbm_minimal_header_without_parameters_block() -> None:
    verdict, _ = inspect(b"tree\nversion=\n", "m.txt")
    assert verdict.estado == "ok"  # an empty version is still the LightGBM header
    verdict, _ = inspect(b"tree\nversion=v4\n\nTree=0\n", "m.txt")
    assert (verdict.estado, verdict.details["parametros"]["num_trees"]) == ("ok", 0)
    assert verdict.details["artifact"]["parameters_block"] is False


def test_xgboost_json_nested_too_deep_is_refused_with_little_memory() -> None:
    # ijson.parse builds a prefix per event for a whole buffer at once: its memory grew
    # with the square of the depth (60 KB of '[' took 2 GiB) and no depth bound applied.
    depth = 5_000
    data = b'{"learner": ' + b"[" * depth + b"]" * depth + b"}"
    tracemalloc.start()
    try:
        verdict, _ = inspect(data, "m/model.json")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (verdict.estado, verdict.format) == ("error", "xgboost")
    assert verdict.reason == "XGBoost JSON nests deeper than 512 levels"
    assert peak < 16 * 1024**2
