"""PyTorch, Keras, MLflow and GGUF model files: facts read without the libraries."""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from pathlib import Path

import gguf
import numpy as np
import pytest

from notifier.inspection import BytesSource, Inspection, InspectionLimits, Phase, inspect_object

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def inspect(data: bytes, key: str) -> tuple[Inspection, BytesSource]:
    source = BytesSource(data, key)
    verdict = inspect_object(Phase.TRAINING, source, InspectionLimits())
    json.dumps(verdict.details)
    return verdict, source


TINY_MLP_TENSORS = [
    ("0.weight", [8, 4], "float32"),
    ("0.bias", [8], "float32"),
    ("2.weight", [3, 8], "float32"),
    ("2.bias", [3], "float32"),
    ("3.weight", [3], "float32"),
    ("3.bias", [3], "float32"),
    ("3.running_mean", [3], "float32"),
    ("3.running_var", [3], "float32"),
    ("3.num_batches_tracked", [], "int64"),
]


def test_pytorch_checkpoint_made_by_torch() -> None:
    verdict, _ = inspect((FIXTURES / "tiny_checkpoint.pt").read_bytes(), "mlp/ckpt.pt")
    assert (verdict.estado, verdict.format) == ("ok", "pytorch")
    assert verdict.details["parametros"] == {
        "epoch": 7,
        "lr": 0.01,
        "arch": "mlp",
        "num_parameters": 80,
        "num_tensors": 9,
    }
    artifact = verdict.details["artifact"]
    assert [(t["name"], t["shape"], t["dtype"]) for t in artifact["tensors"]] == [
        (f"model.{name}", shape, dtype) for name, shape, dtype in TINY_MLP_TENSORS
    ]
    assert artifact["safety"] == "allowed"
    assert artifact["archive_version"] == "3"


def test_pytorch_whole_module_made_by_torch() -> None:
    verdict, _ = inspect((FIXTURES / "tiny_module.pt").read_bytes(), "mlp/model.pth")
    assert verdict.details["parametros"] == {
        "model_class": "torch.nn.modules.container.Sequential",
        "num_parameters": 80,
        "num_tensors": 9,
    }
    tensors = verdict.details["artifact"]["tensors"]
    assert [(t["name"], t["shape"], t["dtype"]) for t in tensors] == TINY_MLP_TENSORS
    assert "torch.nn.modules.linear.Linear" in verdict.details["artifact"]["imports"]


def test_pytorch_archive_with_a_malicious_data_pkl_is_flagged(tmp_path: Path) -> None:
    class Trap:
        def __reduce__(self) -> tuple[object, tuple[object, ...]]:
            return (Path.touch, (tmp_path / "created",))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model/data.pkl", pickle.dumps({"state": Trap()}))
        archive.writestr("model/version", "3\n")
    verdict, _ = inspect(buffer.getvalue(), "evil.pt")
    assert verdict.details["artifact"]["safety"] == "suspicious"
    assert verdict.details["artifact"]["suspicious_imports"] == [
        "pathlib.Path.touch",
        "pathlib.PosixPath",
    ]
    assert not (tmp_path / "created").exists()


def test_a_zip_without_data_pkl_is_an_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    verdict, _ = inspect(buffer.getvalue(), "m.pt")
    assert (verdict.estado, verdict.reason) == (
        "error",
        "not a PyTorch archive: 0 data.pkl members",
    )
    verdict, _ = inspect(b"PK\x03\x04" + b"\x00" * 40, "m.pt")
    assert verdict.estado == "error"
    assert verdict.reason.startswith("not a valid zip archive")


MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.9.1
mlflow_version: 3.17.2
model_size_bytes: 8123
model_uuid: 3f1d2c0e9b8a4f7e8d6c5b4a39281706
run_id: 8a7b6c5d4e3f40a1b2c3d4e5f6a7b8c9
signature:
  inputs: '[{"type": "double", "name": "sepal_length", "required": true}, {"type":
    "double", "name": "petal_length", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
utc_time_created: '2026-11-29 10:15:42.123456'
"""


def test_mlflow_mlmodel() -> None:
    verdict, _ = inspect(MLMODEL.encode(), "mlruns/1/8a7b/artifacts/model/MLmodel")
    assert (verdict.estado, verdict.format, verdict.num_registros) == ("ok", "mlflow", None)
    assert verdict.details["parametros"] == {
        "flavors": ["python_function", "sklearn"],
        "loader_module": "mlflow.sklearn",
        "python_version": "3.11.7",
        "serialization_format": "cloudpickle",
        "sklearn_version": "1.9.1",
        "run_id": "8a7b6c5d4e3f40a1b2c3d4e5f6a7b8c9",
        "model_uuid": "3f1d2c0e9b8a4f7e8d6c5b4a39281706",
        "mlflow_version": "3.17.2",
        "artifact_path": "model",
        "utc_time_created": "2026-11-29 10:15:42.123456",
        "num_inputs": 2,
    }
    artifact = verdict.details["artifact"]
    assert artifact["run_id"] == "8a7b6c5d4e3f40a1b2c3d4e5f6a7b8c9"
    assert artifact["signature"]["inputs"] == [
        {"name": "sepal_length", "type": "double"},
        {"name": "petal_length", "type": "double"},
    ]


def test_mlmodel_that_is_not_one() -> None:
    verdict, _ = inspect(b"just: text\n", "model/MLmodel")
    assert (verdict.estado, verdict.reason) == ("error", "not an MLmodel file: no flavors")


def test_gguf_header_made_by_gguf_py(tmp_path: Path) -> None:
    path = tmp_path / "tiny.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama")
    writer.add_context_length(2048)
    writer.add_embedding_length(64)
    writer.add_block_count(2)
    writer.add_file_type(15)  # Q4_K_M, as llama.cpp names it
    writer.add_token_list([f"tok{i}" for i in range(5000)])
    writer.add_tensor("token_embd.weight", np.ones((1000, 64), dtype=np.float16))
    writer.add_tensor("output.weight", np.ones((64, 10), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    verdict, _ = inspect(path.read_bytes(), "llm/tiny.gguf")
    assert (verdict.estado, verdict.format) == ("ok", "gguf")
    assert verdict.details["parametros"] == {
        "architecture": "llama",
        "name": "tiny-llama",
        "file_type": "Q4_K_M",
        "num_parameters": 1000 * 64 + 64 * 10,
        "num_tensors": 2,
        "context_length": 2048,
        "embedding_length": 64,
        "block_count": 2,
    }
    artifact = verdict.details["artifact"]
    assert artifact["tensor_types"] == {"F16": 1, "F32": 1}
    assert artifact["metadata"]["tokenizer.ggml.tokens"] == "<array of 5000>"


@pytest.mark.parametrize(
    ("data", "estado", "reason"),
    [
        (b"GGUF\x09\x00\x00\x00" + b"\x00" * 16, "skipped", "GGUF version 9 is not supported"),
        (b"GGUF\x03\x00\x00\x00\x01", "error", "truncated file"),
    ],
)
def test_gguf_bad_headers(data: bytes, estado: str, reason: str) -> None:
    verdict, _ = inspect(data, "m.gguf")
    assert verdict.estado == estado
    assert verdict.reason is not None
    assert verdict.reason.startswith(reason)


def test_keras_archive_made_by_keras() -> None:
    verdict, _ = inspect((FIXTURES / "tiny_model.keras").read_bytes(), "iris/mlp.keras")
    assert (verdict.estado, verdict.format) == ("ok", "keras")
    parametros = verdict.details["parametros"]
    expected = {
        "model_class": "keras.Sequential",
        "name": "iris_mlp",
        "num_layers": 4,
        "keras_version": "3.15.1",
        "optimizer": "Adam",
        "optimizer__beta_1": 0.9,
        "optimizer__amsgrad": False,
        "loss": "sparse_categorical_crossentropy",
        "metrics": ["accuracy"],
    }
    assert {key: parametros[key] for key in expected} == expected
    assert parametros["optimizer__learning_rate"] == pytest.approx(0.005)
    artifact = verdict.details["artifact"]
    assert artifact["layers"] == [
        {"class": "InputLayer", "name": "input_layer", "settings": {}},
        {"class": "Dense", "name": "hidden", "settings": {"units": 8, "activation": "relu"}},
        {"class": "Dropout", "name": "dropout", "settings": {"rate": 0.1}},
        {"class": "Dense", "name": "out", "settings": {"units": 3, "activation": "softmax"}},
    ]
    assert (parametros["hidden__units"], parametros["dropout__rate"]) == (8, 0.1)
    assert artifact["weights_file"] is True


def test_a_huge_central_directory_is_not_read_into_memory() -> None:
    # zipfile reads the whole central directory in one read: an end record claiming
    # one as large as the object made the reader hold the object (twice) in memory.
    claimed = 80 * 1024**2
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, claimed, 4, 0)
    verdict, source = inspect(b"PK\x03\x04" + bytes(claimed) + end, "m/model.pt")
    assert (verdict.estado, verdict.reason) == (
        "skipped",
        "zip central directory larger than 64 MiB",
    )
    assert source.bytes_read < 2 * 1024**2
