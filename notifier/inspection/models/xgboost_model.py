"""XGBoost models saved by ``save_model`` as JSON or UBJSON (the default since 2.1).

Schema: XGBoost's ``doc/model.schema`` ("learner": ``objective``,
``gradient_booster`` (``name``, ``model.gbtree_model_param.num_trees``; for dart
under ``gbtree.model``), ``learner_model_param`` (``num_feature``, ``num_class``,
``base_score``...), ``feature_names``, ``attributes``; "version"). Training
hyperparameters such as ``max_depth`` are not in the model file (they are in
``save_config``'s output), so they are not recorded from it. The document is
streamed (ijson for JSON, :mod:`ubjson` for UBJSON): trees are never held in memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any, Final

import ijson

from notifier.inspection.base import one_line
from notifier.inspection.errors import Unreadable
from notifier.inspection.fields import clip, metadata_value
from notifier.inspection.guard import SourceGuard
from notifier.inspection.json_depth import too_deep
from notifier.inspection.models.card import stated
from notifier.inspection.models.facts import ModelFacts
from notifier.inspection.models.keys import suffix_of
from notifier.inspection.models.ubjson import UBJSONReader

FORMAT: Final = "xgboost"
MAX_FEATURE_NAMES: Final = 1000
"""Feature names listed in details; the count is always exact."""

_TREE_COUNTS: Final = (
    "learner.gradient_booster.model.gbtree_model_param.num_trees",
    "learner.gradient_booster.gbtree.model.gbtree_model_param.num_trees",
)
_SCALARS: Final = ("number", "string", "boolean", "null")


def matches(key: str, head: bytes) -> bool:
    if suffix_of(key) == ".ubj":
        return True
    return head.lstrip()[:1] == b"{" and b"learner" in head[:24]


def read(guard: SourceGuard, head: bytes) -> ModelFacts:
    binary = head[:1] == b"{" and head[1:2] in (b"L", b"l", b"U", b"i", b"I", b"$", b"#")
    raw = guard.open_stream(guard.limits.max_scan_bytes)
    try:
        stream = io.BufferedReader(raw, guard.limits.block_size)
        if binary:
            events: Iterable[tuple[str, str, Any]] = UBJSONReader(
                stream, guard.check_deadline
            ).events()
        else:
            basic = ijson.basic_parse(stream, use_float=True, buf_size=guard.limits.block_size)
            events = _with_prefixes(basic, guard.limits.max_json_depth)
        try:
            return _facts(_collect(events, guard), "ubjson" if binary else "json")
        except ijson.JSONError as exc:
            raise Unreadable(f"invalid XGBoost JSON: {one_line(str(exc))}") from None
    finally:
        raw.close()


def _collect(events: Iterable[tuple[str, str, Any]], guard: SourceGuard) -> dict[str, Any]:
    found: dict[str, Any] = {"features": [], "feature_count": 0, "version": []}
    for count, (prefix, event, value) in enumerate(_scalars(events)):
        if count % 65536 == 0:
            guard.check_deadline()
        if prefix == "learner.feature_names.item" and event == "string":
            found["feature_count"] += 1
            if len(found["features"]) < MAX_FEATURE_NAMES:
                found["features"].append(clip(value) if isinstance(value, str) else value)
        elif prefix == "version.item":
            found["version"].append(value)
        elif prefix in _TREE_COUNTS:
            found["num_trees"] = value
        elif prefix == "learner.gradient_booster.name":
            found["booster"] = value
        elif prefix.startswith(("learner.learner_model_param.", "learner.attributes.")):
            found.setdefault(prefix.split(".")[1], {})[prefix.split(".", 2)[2]] = value
        elif prefix.startswith("learner.objective."):
            found.setdefault("objective", {})[prefix.split(".", 2)[2]] = value
    if "booster" not in found and "objective" not in found:
        raise Unreadable("not an XGBoost model: no learner objective or booster")
    return found


def _with_prefixes(
    events: Iterable[tuple[str, Any]], max_depth: int
) -> Iterator[tuple[str, str, Any]]:
    """The scalar events of ``ijson.parse`` (prefix, event, value) from
    ``ijson.basic_parse``'s, refusing nesting deeper than ``max_depth`` (Unreadable).
    ``ijson.parse`` itself builds the prefixes of a whole buffer before the first is
    seen: memory grows with the square of the depth, so a bound on its events comes
    too late."""
    path: list[str] = []
    for event, value in events:
        if event == "map_key":
            path[-1] = value
        elif event in ("start_map", "start_array"):
            if len(path) >= max_depth:
                raise too_deep("XGBoost JSON", max_depth)
            path.append("item" if event == "start_array" else "")
        elif event in ("end_map", "end_array"):
            path.pop()
        else:
            yield ".".join(path), event, value


def _scalars(events: Iterable[tuple[str, str, Any]]) -> Iterator[tuple[str, str, Any]]:
    for prefix, event, value in events:
        if event in _SCALARS and not prefix.startswith("learner.gradient_booster.model.trees"):
            yield prefix, event, value


def _facts(found: dict[str, Any], encoding: str) -> ModelFacts:
    model_param = {
        key: metadata_value(value) if isinstance(value, str) else value
        for key, value in found.get("learner_model_param", {}).items()
    }
    objective = found.get("objective", {})
    attributes = found.get("attributes", {})
    parametros: dict[str, Any] = {
        key: metadata_value(value) if isinstance(value, str) else value
        for key, value in attributes.items()
    }
    parametros.update(
        {
            "objective": objective.get("name"),
            "booster": found.get("booster"),
            "num_trees": _int(found.get("num_trees")),
            "num_feature": model_param.get("num_feature", found["feature_count"] or None),
            "num_class": model_param.get("num_class"),
            "num_target": model_param.get("num_target"),
            "base_score": model_param.get("base_score"),
        }
    )
    details = {
        "encoding": encoding,
        "xgboost_version": ".".join(str(part) for part in found["version"]) or None,
        "feature_names": found["features"],
        "learner_model_param": model_param,
        "objective": objective,
        "attributes": attributes,
    }
    dataset, records = stated(attributes)
    return ModelFacts(FORMAT, parametros, details, records, dataset)


def _int(value: Any) -> int | None:
    converted = metadata_value(value) if isinstance(value, str) else value
    return converted if isinstance(converted, int) and not isinstance(converted, bool) else None
