"""ONNX: producer, opsets, inputs and outputs with shapes, ``metadata_props`` and the
parameter count, read from the protobuf wire format by ranged reads.

Field numbers are those of ``onnx/onnx.proto`` (ModelProto, GraphProto, TensorProto,
ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto,
StringStringEntryProto). Only the fields listed below are parsed; everything else,
in particular initializers' ``raw_data`` and typed data, is stepped over without
being fetched (weights stored as external data are never opened either). The
parameter count is the sum of the products of the initializers' ``dims``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from notifier.inspection.errors import NotInspected, Unreadable
from notifier.inspection.fields import clip, metadata_value
from notifier.inspection.guard import SourceGuard
from notifier.inspection.models.card import stated
from notifier.inspection.models.facts import ModelFacts
from notifier.inspection.models.keys import suffix_of
from notifier.inspection.models.ranged import RangedReader

FORMAT: Final = "onnx"

VARINT, I64, LEN, I32 = 0, 1, 2, 5

MAX_STRING_BYTES: Final = 64 * 1024
"""Longest string field read (names, doc strings, metadata values); longer ones are skipped."""
MAX_LISTED: Final = 100
"""Inputs, outputs and initializers listed in details."""
MAX_FIELDS: Final = 5_000_000
"""Protobuf fields walked in one model (nodes, dims...); more is skipped with a reason."""

TENSOR_TYPES: Final = {
    1: "float",
    2: "uint8",
    3: "int8",
    4: "uint16",
    5: "int16",
    6: "int32",
    7: "int64",
    8: "string",
    9: "bool",
    10: "float16",
    11: "double",
    12: "uint32",
    13: "uint64",
    14: "complex64",
    15: "complex128",
    16: "bfloat16",
}
"""TensorProto.DataType names (onnx.proto)."""


def matches(key: str, head: bytes) -> bool:
    return suffix_of(key) == ".onnx"


class _Wire:
    """Protobuf wire-format fields over a RangedReader, within ``[offset, end)``."""

    def __init__(self, reader: RangedReader, guard: SourceGuard) -> None:
        self.reader = reader
        self._guard = guard
        self.fields = 0

    def varint(self) -> int:
        result = shift = 0
        while True:
            byte = self.reader.byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise Unreadable("not an ONNX protobuf: varint longer than 10 bytes")

    def fields_until(self, end: int) -> Iterator[tuple[int, int]]:
        """(field number, wire type) pairs; the caller reads or skips each value."""
        while self.reader.offset < end:
            self.fields += 1
            if self.fields > MAX_FIELDS:
                raise NotInspected(f"ONNX model with more than {MAX_FIELDS} protobuf fields")
            if self.fields % 10_000 == 0:
                self._guard.check_deadline()
            tag = self.varint()
            number, wire = tag >> 3, tag & 7
            if number == 0:
                raise Unreadable("not an ONNX protobuf: field number 0")
            yield number, wire
        if self.reader.offset != end:
            raise Unreadable("not an ONNX protobuf: a field runs past its message")

    def skip(self, wire: int) -> None:
        if wire == VARINT:
            self.varint()
        elif wire == I64:
            self.reader.skip(8)
        elif wire == LEN:
            self.reader.skip(self.varint())
        elif wire == I32:
            self.reader.skip(4)
        else:
            raise Unreadable(f"not an ONNX protobuf: wire type {wire}")

    def end_of_message(self) -> int:
        length = self.varint()
        end = self.reader.offset + length
        if end > self.reader.size:
            raise Unreadable("truncated ONNX file: a message runs past the end")
        return end

    def string(self, wire: int) -> str | None:
        if wire != LEN:
            raise Unreadable("not an ONNX protobuf: a string field is not length-delimited")
        length = self.varint()
        if length > MAX_STRING_BYTES:
            self.reader.skip(length)
            return None
        return self.reader.read(length).decode("utf-8", "replace")

    def int64s(self, wire: int) -> list[int]:
        """A repeated int64, packed or not (two's complement for negatives)."""
        if wire == VARINT:
            return [_signed(self.varint())]
        end = self.end_of_message()
        values: list[int] = []
        while self.reader.offset < end:
            values.append(_signed(self.varint()))
        return values


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass
class _Graph:
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    initializers: list[dict[str, Any]] = field(default_factory=list)
    initializer_count: int = 0
    input_count: int = 0
    output_count: int = 0
    parameters: int = 0
    nodes: int = 0
    ops: Counter[str] = field(default_factory=Counter)
    name: str | None = None


def read(guard: SourceGuard, head: bytes) -> ModelFacts:
    wire = _Wire(RangedReader(guard), guard)
    model: dict[str, Any] = {"opset_import": {}, "metadata_props": {}}
    graph = _Graph()
    for number, kind in wire.fields_until(wire.reader.size):
        if number == 1 and kind == VARINT:
            model["ir_version"] = wire.varint()
        elif number in (2, 3, 4, 6) and kind == LEN:
            name = {2: "producer_name", 3: "producer_version", 4: "domain", 6: "doc_string"}
            model[name[number]] = wire.string(kind)
        elif number == 5 and kind == VARINT:
            model["model_version"] = _signed(wire.varint())
        elif number == 7 and kind == LEN:
            _graph(wire, wire.end_of_message(), graph)
        elif number == 8 and kind == LEN:
            domain, version = _opset(wire, wire.end_of_message())
            model["opset_import"][domain or "ai.onnx"] = version
        elif number == 14 and kind == LEN:
            key, value = _entry(wire, wire.end_of_message())
            if key is not None:
                model["metadata_props"][key] = value
        else:
            wire.skip(kind)
    if "ir_version" not in model:
        raise Unreadable("not an ONNX model: no ir_version")
    return _facts(model, graph)


def _facts(model: dict[str, Any], graph: _Graph) -> ModelFacts:
    parametros: dict[str, Any] = {
        key: metadata_value(value) if isinstance(value, str) else value
        for key, value in model["metadata_props"].items()
    }
    opset = model["opset_import"].get("ai.onnx")
    parametros.update(
        {
            "producer_name": model.get("producer_name"),
            "producer_version": model.get("producer_version"),
            "ir_version": model["ir_version"],
            "opset": opset,
            "num_parameters": graph.parameters,
            "num_initializers": graph.initializer_count,
            "num_nodes": graph.nodes,
            "num_inputs": graph.input_count,
            "num_outputs": graph.output_count,
        }
    )
    details = {
        "opset_import": model["opset_import"],
        "domain": model.get("domain"),
        "model_version": model.get("model_version"),
        "doc_string": clip(model["doc_string"]) if model.get("doc_string") else None,
        "graph_name": graph.name,
        "inputs": graph.inputs,
        "outputs": graph.outputs,
        "initializers": graph.initializers[:MAX_LISTED],
        "ops": dict(graph.ops.most_common(MAX_LISTED)),
        "metadata_props": model["metadata_props"],
    }
    dataset, records = stated(model["metadata_props"])
    return ModelFacts(FORMAT, parametros, details, records, dataset)


def _graph(wire: _Wire, end: int, graph: _Graph) -> None:
    for number, kind in wire.fields_until(end):
        if number == 1 and kind == LEN:
            graph.nodes += 1
            op = _node_op(wire, wire.end_of_message())
            if op is not None:
                graph.ops[op] += 1
        elif number == 2 and kind == LEN:
            graph.name = wire.string(kind)
        elif number == 5 and kind == LEN:
            tensor = _tensor(wire, wire.end_of_message())
            graph.initializer_count += 1
            graph.parameters += math.prod(tensor["shape"])
            if len(graph.initializers) < MAX_LISTED:
                graph.initializers.append(tensor)
        elif number in (11, 12) and kind == LEN:
            value = _value_info(wire, wire.end_of_message())
            if number == 11:
                graph.input_count += 1
                if len(graph.inputs) < MAX_LISTED:
                    graph.inputs.append(value)
            else:
                graph.output_count += 1
                if len(graph.outputs) < MAX_LISTED:
                    graph.outputs.append(value)
        else:
            wire.skip(kind)


def _node_op(wire: _Wire, end: int) -> str | None:
    op: str | None = None
    for number, kind in wire.fields_until(end):
        if number == 4 and kind == LEN:
            op = wire.string(kind)
        else:
            wire.skip(kind)
    return op


def _tensor(wire: _Wire, end: int) -> dict[str, Any]:
    shape: list[int] = []
    tensor: dict[str, Any] = {"name": None, "dtype": None}
    for number, kind in wire.fields_until(end):
        if number == 1:
            shape.extend(wire.int64s(kind))
        elif number == 2 and kind == VARINT:
            code = wire.varint()
            tensor["dtype"] = TENSOR_TYPES.get(code, str(code))
        elif number == 8 and kind == LEN:
            tensor["name"] = wire.string(kind)
        elif number == 14 and kind == VARINT:
            tensor["external"] = wire.varint() == 1
        else:
            wire.skip(kind)  # raw_data, typed data, external_data: never fetched
    if any(n < 0 for n in shape):
        raise Unreadable("not an ONNX model: an initializer has a negative dimension")
    tensor["shape"] = shape
    return tensor


def _value_info(wire: _Wire, end: int) -> dict[str, Any]:
    info: dict[str, Any] = {"name": None, "dtype": None, "shape": None}
    for number, kind in wire.fields_until(end):
        if number == 1 and kind == LEN:
            info["name"] = wire.string(kind)
        elif number == 2 and kind == LEN:
            _type(wire, wire.end_of_message(), info)
        else:
            wire.skip(kind)
    return info


def _type(wire: _Wire, end: int, info: dict[str, Any]) -> None:
    for number, kind in wire.fields_until(end):
        if number == 1 and kind == LEN:  # tensor_type
            tensor_end = wire.end_of_message()
            for inner, inner_kind in wire.fields_until(tensor_end):
                if inner == 1 and inner_kind == VARINT:
                    code = wire.varint()
                    info["dtype"] = TENSOR_TYPES.get(code, str(code))
                elif inner == 2 and inner_kind == LEN:
                    info["shape"] = _shape(wire, wire.end_of_message())
                else:
                    wire.skip(inner_kind)
        else:
            wire.skip(kind)


def _shape(wire: _Wire, end: int) -> list[int | str | None]:
    dims: list[int | str | None] = []
    for number, kind in wire.fields_until(end):
        if number == 1 and kind == LEN:
            dim_end = wire.end_of_message()
            dim: int | str | None = None
            for inner, inner_kind in wire.fields_until(dim_end):
                if inner == 1 and inner_kind == VARINT:
                    dim = _signed(wire.varint())
                elif inner == 2 and inner_kind == LEN:
                    dim = wire.string(inner_kind)
                else:
                    wire.skip(inner_kind)
            dims.append(dim)
        else:
            wire.skip(kind)
    return dims


def _opset(wire: _Wire, end: int) -> tuple[str | None, int | None]:
    domain: str | None = None
    version: int | None = None
    for number, kind in wire.fields_until(end):
        if number == 1 and kind == LEN:
            domain = wire.string(kind)
        elif number == 2 and kind == VARINT:
            version = _signed(wire.varint())
        else:
            wire.skip(kind)
    return domain, version


def _entry(wire: _Wire, end: int) -> tuple[str | None, str | None]:
    key: str | None = None
    value: str | None = None
    for number, kind in wire.fields_until(end):
        if number == 1 and kind == LEN:
            key = wire.string(kind)
        elif number == 2 and kind == LEN:
            value = wire.string(kind)
        else:
            wire.skip(kind)
    return key, value
