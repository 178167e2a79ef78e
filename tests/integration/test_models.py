"""Model artifacts made by the real libraries, uploaded to SeaweedFS, announced by a
MinIO-shaped webhook and audited by the worker: the training row's exact facts."""

from __future__ import annotations

import io
import json
import pickle
from pathlib import Path
from typing import Any

import gguf
import joblib
import lightgbm
import numpy as np
import pytest
import sklearn
import xgboost
from onnx import TensorProto, helper, numpy_helper
from psycopg.rows import dict_row
from safetensors.numpy import save as save_safetensors
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from tests.support import minio_body, record_for_stat


def put(s3_client, bucket, key, data: bytes, **kw) -> None:
    s3_client.put_object(bucket, key, io.BytesIO(data), len(data), **kw)


def deliver(client, auth, s3_client, bucket, key) -> None:
    record = record_for_stat(s3_client, bucket, key)
    response = client.post("/events", data=minio_body(record), headers=auth)
    assert response.status_code == 200, response.json


def training_rows(db) -> list[dict[str, Any]]:
    db.row_factory = dict_row
    return db.execute("SELECT * FROM training_events ORDER BY id").fetchall()


def row_of(db, key: str) -> dict[str, Any]:
    (row,) = [row for row in training_rows(db) if row["object_key"] == key]
    return row


def upload(client, auth, s3_client, buckets, key: str, data: bytes, **kw) -> None:
    put(s3_client, buckets.models, key, data, **kw)
    deliver(client, auth, s3_client, buckets.models, key)


@pytest.fixture(scope="module")
def iris() -> tuple[Any, Any]:
    return load_iris(return_X_y=True)


def joblib_bytes(model: object, compress: Any = 0) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=compress)
    return buffer.getvalue()


def test_untagged_joblib_forest_yields_class_and_hyperparameters(
    client, auth, s3_client, buckets, processor, db, iris
):
    X, y = iris
    model = RandomForestClassifier(n_estimators=12, max_depth=4, random_state=7).fit(X, y)
    upload(client, auth, s3_client, buckets, "churn/rf/model.joblib", joblib_bytes(model))
    assert processor.drain() == 1
    row = row_of(db, "churn/rf/model.joblib")
    assert (row["estado"], row["format"], row["num_registros"]) == ("ok", "joblib", None)
    parametros = row["parametros"]
    expected = {
        "model_class": "sklearn.ensemble._forest.RandomForestClassifier",
        "n_estimators": 12,
        "max_depth": 4,
        "random_state": 7,
        "criterion": "gini",
        "bootstrap": True,
        "n_features_in": 4,
        "n_classes": 3,
        "sklearn_version": sklearn.__version__,
    }
    assert {key: parametros[key] for key in expected} == expected
    assert row["details"]["artifact"]["safety"] == "allowed"
    assert row["details"]["sources"]["n_estimators"] == "artifact"


def test_compressed_joblib_pipeline(client, auth, s3_client, buckets, processor, db, iris):
    X, y = iris
    steps = [("scaler", StandardScaler()), ("clf", LogisticRegression(C=2.0, max_iter=300))]
    model = Pipeline(steps).fit(X, y)
    upload(client, auth, s3_client, buckets, "pipe/model.joblib.gz", joblib_bytes(model, "gzip"))
    processor.drain()
    row = row_of(db, "pipe/model.joblib.gz")
    assert (row["estado"], row["format"]) == ("ok", "joblib")
    parametros = row["parametros"]
    expected = {
        "model_class": "sklearn.pipeline.Pipeline",
        "steps": ["scaler", "clf"],
        "scaler": "sklearn.preprocessing._data.StandardScaler",
        "clf": "sklearn.linear_model._logistic.LogisticRegression",
        "clf__C": 2.0,
        "clf__max_iter": 300,
        "n_features_in": 4,
        "n_classes": 3,
    }
    assert {key: parametros[key] for key in expected} == expected
    assert row["details"]["artifact"]["compression"] == "gzip"


class _Trap:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.touch, (self.path,))


def test_malicious_pickle_is_flagged_and_never_run(
    client, auth, s3_client, buckets, processor, db, tmp_path
):
    marker = tmp_path / "created-by-unpickling"
    upload(client, auth, s3_client, buckets, "evil/model.pkl", pickle.dumps(_Trap(marker)))
    processor.drain()
    row = row_of(db, "evil/model.pkl")
    assert (row["estado"], row["format"]) == ("ok", "pickle")
    assert row["details"]["artifact"]["safety"] == "suspicious"
    assert row["details"]["artifact"]["suspicious_imports"] == [
        "pathlib.Path.touch",
        "pathlib.PosixPath",
    ]
    assert not marker.exists()


def test_sidecar_before_the_model_is_read_with_it(
    client, auth, s3_client, buckets, processor, db, iris
):
    X, y = iris
    card = {"dataset": "silver/iris.parquet", "num_records": 150, "params": {"max_depth": 9}}
    upload(client, auth, s3_client, buckets, "iris/rf.json", json.dumps(card).encode())
    processor.drain()
    model = RandomForestClassifier(n_estimators=3, max_depth=2).fit(X, y)
    upload(
        client,
        auth,
        s3_client,
        buckets,
        "iris/rf.joblib",
        joblib_bytes(model),
        metadata={"n_estimators": "30"},
    )
    processor.drain()
    row = row_of(db, "iris/rf.joblib")
    assert row["num_registros"] == 150
    assert row["parametros"]["max_depth"] == 9  # the sidecar outranks the artifact
    assert row["parametros"]["n_estimators"] == 30  # metadata outranks both
    assert row["parametros"]["n_classes"] == 3
    sources = row["details"]["sources"]
    assert (sources["max_depth"], sources["n_estimators"], sources["n_classes"]) == (
        "sidecar",
        "metadata",
        "artifact",
    )
    assert (sources["dataset"], sources["num_registros"]) == ("sidecar", "sidecar")
    assert row["details"]["dataset"] == "silver/iris.parquet"
    assert row["details"]["sidecars"] == ["iris/rf.json"]


def test_onnx_through_the_live_path(client, auth, s3_client, buckets, processor, db):
    weights = numpy_helper.from_array(np.ones((4, 3), dtype=np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["batch", 3])],
        [weights],
    )
    model = helper.make_model(
        graph, producer_name="skl2onnx", opset_imports=[helper.make_opsetid("", 18)]
    )
    helper.set_model_props(model, {"run": "r-17"})
    upload(client, auth, s3_client, buckets, "onnx/model.onnx", model.SerializeToString())
    processor.drain()
    row = row_of(db, "onnx/model.onnx")
    assert (row["estado"], row["format"]) == ("ok", "onnx")
    parametros = row["parametros"]
    expected = {
        "run": "r-17",
        "producer_name": "skl2onnx",
        "opset": 18,
        "num_parameters": 12,
        "num_initializers": 1,
        "num_nodes": 1,
    }
    assert {key: parametros[key] for key in expected} == expected
    assert row["details"]["artifact"]["inputs"] == [
        {"name": "X", "dtype": "float", "shape": ["batch", 4]}
    ]


def test_safetensors_through_the_live_path(client, auth, s3_client, buckets, processor, db):
    data = save_safetensors(
        {"w": np.ones((128, 64), dtype=np.float32), "b": np.zeros((64,), dtype=np.float32)},
        metadata={"format": "pt"},
    )
    upload(client, auth, s3_client, buckets, "st/model.safetensors", data)
    processor.drain()
    row = row_of(db, "st/model.safetensors")
    assert (row["estado"], row["format"]) == ("ok", "safetensors")
    assert row["parametros"] == {
        "format": "pt",
        "num_parameters": 128 * 64 + 64,
        "num_tensors": 2,
    }


@pytest.mark.parametrize("suffix", [".json", ".ubj"])
def test_xgboost_through_the_live_path(
    client, auth, s3_client, buckets, processor, db, iris, tmp_path, suffix
):
    X, y = iris
    matrix = xgboost.DMatrix(X, label=(y == 0).astype(int))
    booster = xgboost.train({"objective": "binary:logistic"}, matrix, num_boost_round=6)
    path = tmp_path / f"model{suffix}"
    booster.save_model(path)
    upload(client, auth, s3_client, buckets, f"xgb/model{suffix}", path.read_bytes())
    processor.drain()
    row = row_of(db, f"xgb/model{suffix}")
    assert (row["estado"], row["format"]) == ("ok", "xgboost")
    parametros = row["parametros"]
    expected = {"objective": "binary:logistic", "booster": "gbtree", "num_trees": 6}
    assert {key: parametros[key] for key in expected} == expected
    assert parametros["num_feature"] == 4


def test_lightgbm_through_the_live_path(
    client, auth, s3_client, buckets, processor, db, iris, tmp_path
):
    X, y = iris
    params = {"objective": "multiclass", "num_class": 3, "num_leaves": 5, "verbose": -1}
    model = lightgbm.train(params, lightgbm.Dataset(X, label=y), num_boost_round=3)
    path = tmp_path / "model.txt"
    model.save_model(path)
    upload(client, auth, s3_client, buckets, "lgbm/model.txt", path.read_bytes())
    processor.drain()
    row = row_of(db, "lgbm/model.txt")
    assert (row["estado"], row["format"]) == ("ok", "lightgbm")
    parametros = row["parametros"]
    expected = {
        "objective": "multiclass",
        "num_class": 3,
        "num_trees": 9,
        "num_feature": 4,
        "num_leaves": 5,
        "num_iterations": 3,
    }
    assert {key: parametros[key] for key in expected} == expected


def test_unknown_model_file_is_skipped_with_size_and_etag(
    client, auth, s3_client, buckets, processor, db
):
    upload(client, auth, s3_client, buckets, "odd/model.bin", b"\x00\x01\x02 opaque")
    processor.drain()
    row = row_of(db, "odd/model.bin")
    assert row["estado"] == "skipped"
    assert row["reason"].startswith("not a recognised model format")
    assert row["size_bytes"] == len(b"\x00\x01\x02 opaque")
    assert row["etag"]


def test_sidecar_after_the_model_updates_its_row(
    client, auth, s3_client, buckets, processor, db, iris
):
    X, y = iris
    model = RandomForestClassifier(n_estimators=5, max_depth=3).fit(X, y)
    metadata = {"max_depth": "11"}
    upload(
        client, auth, s3_client, buckets, "late/rf.joblib", joblib_bytes(model), metadata=metadata
    )
    upload(client, auth, s3_client, buckets, "late/other.joblib", joblib_bytes(model))
    upload(client, auth, s3_client, buckets, "late/deeper/rf.joblib", joblib_bytes(model))
    processor.drain()
    assert row_of(db, "late/rf.joblib")["num_registros"] is None
    card = {"n_estimators": 50, "max_depth": 2, "training_rows": 120, "dataset": "silver/a"}
    upload(client, auth, s3_client, buckets, "late/rf.yaml", _yaml(card))
    processor.drain()
    row = row_of(db, "late/rf.joblib")
    assert row["num_registros"] == 120
    assert row["parametros"]["n_estimators"] == 50  # sidecar over artifact
    assert row["parametros"]["max_depth"] == 11  # metadata over sidecar
    assert row["parametros"]["n_classes"] == 3
    assert row["details"]["parametros"] == row["parametros"]
    sources = row["details"]["sources"]
    assert (sources["n_estimators"], sources["max_depth"], sources["num_registros"]) == (
        "sidecar",
        "metadata",
        "sidecar",
    )
    assert row["details"]["dataset"] == "silver/a"
    assert row["details"]["sidecars"] == ["late/rf.yaml"]
    # Another model of the prefix and a model one level deeper are not described by rf.yaml.
    assert row_of(db, "late/other.joblib")["parametros"]["n_estimators"] == 5
    assert row_of(db, "late/deeper/rf.joblib")["num_registros"] is None
    # A prefix-wide params.json describes every model of the prefix (not deeper ones).
    upload(client, auth, s3_client, buckets, "late/params.json", b'{"seed": 42}')
    processor.drain()
    assert row_of(db, "late/other.joblib")["parametros"]["seed"] == 42
    assert row_of(db, "late/rf.joblib")["parametros"]["seed"] == 42
    assert "seed" not in row_of(db, "late/deeper/rf.joblib")["parametros"]
    card_row = row_of(db, "late/rf.yaml")
    assert (card_row["format"], card_row["num_registros"]) == ("model_card", 120)


def test_model_recorded_after_a_sidecar_row_merges_it(
    client, auth, s3_client, buckets, processor, db, iris
):
    """The race: the sidecar's row exists but the model's inspection did not see the
    sidecar object (here: it was removed from the store in between)."""
    X, y = iris
    upload(client, auth, s3_client, buckets, "race/metadata.json", b'{"num_records": 99}')
    processor.drain()
    s3_client.remove_object(buckets.models, "race/metadata.json")
    model = RandomForestClassifier(n_estimators=4).fit(X, y)
    upload(client, auth, s3_client, buckets, "race/rf.joblib", joblib_bytes(model))
    processor.drain()
    row = row_of(db, "race/rf.joblib")
    assert row["num_registros"] == 99
    assert row["details"]["sources"]["num_registros"] == "sidecar"
    assert row["details"]["sidecars"] == ["race/metadata.json"]


def _yaml(document: dict[str, Any]) -> bytes:
    import yaml

    return yaml.safe_dump(document).encode()


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def test_pytorch_through_the_live_path(client, auth, s3_client, buckets, processor, db):
    data = (FIXTURES / "tiny_checkpoint.pt").read_bytes()
    upload(client, auth, s3_client, buckets, "torch/ckpt.pt", data)
    processor.drain()
    row = row_of(db, "torch/ckpt.pt")
    assert (row["estado"], row["format"]) == ("ok", "pytorch")
    assert row["parametros"] == {
        "epoch": 7,
        "lr": 0.01,
        "arch": "mlp",
        "num_parameters": 80,
        "num_tensors": 9,
    }


def test_gguf_through_the_live_path(client, auth, s3_client, buckets, processor, db, tmp_path):
    path = tmp_path / "m.gguf"
    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_name("tiny")
    writer.add_file_type(1)
    writer.add_tensor("w", np.ones((16, 16), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    upload(client, auth, s3_client, buckets, "llm/m.gguf", path.read_bytes())
    processor.drain()
    row = row_of(db, "llm/m.gguf")
    assert (row["estado"], row["format"]) == ("ok", "gguf")
    assert row["parametros"] == {
        "architecture": "qwen2",
        "name": "tiny",
        "file_type": "F16",
        "num_parameters": 256,
        "num_tensors": 1,
    }


def test_mlflow_directory_through_the_live_path(
    client, auth, s3_client, buckets, processor, db, iris
):
    X, y = iris
    mlmodel = (
        "artifact_path: model\n"
        "flavors:\n"
        "  python_function: {loader_module: mlflow.sklearn, python_version: 3.11.7}\n"
        "  sklearn: {pickled_model: model.pkl, sklearn_version: 1.9.1}\n"
        "run_id: 0f1e2d3c4b5a69788796a5b4c3d2e1f0\n"
        "utc_time_created: '2026-11-29 10:15:42.123456'\n"
    )
    model = LogisticRegression(max_iter=500).fit(X, y)
    upload(client, auth, s3_client, buckets, "mlflow/model/MLmodel", mlmodel.encode())
    upload(client, auth, s3_client, buckets, "mlflow/model/model.pkl", pickle.dumps(model))
    processor.drain()
    row = row_of(db, "mlflow/model/MLmodel")
    assert (row["estado"], row["format"]) == ("ok", "mlflow")
    assert row["parametros"]["flavors"] == ["python_function", "sklearn"]
    assert row["parametros"]["run_id"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert row["run_id"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    pickled_row = row_of(db, "mlflow/model/model.pkl")
    assert pickled_row["parametros"]["model_class"] == (
        "sklearn.linear_model._logistic.LogisticRegression"
    )
    assert pickled_row["parametros"]["max_iter"] == 500


def test_keras_through_the_live_path(client, auth, s3_client, buckets, processor, db):
    data = (FIXTURES / "tiny_model.keras").read_bytes()
    upload(client, auth, s3_client, buckets, "keras/mlp.keras", data)
    processor.drain()
    row = row_of(db, "keras/mlp.keras")
    assert (row["estado"], row["format"]) == ("ok", "keras")
    parametros = row["parametros"]
    expected = {
        "model_class": "keras.Sequential",
        "num_layers": 4,
        "optimizer": "Adam",
        "loss": "sparse_categorical_crossentropy",
    }
    assert {key: parametros[key] for key in expected} == expected
