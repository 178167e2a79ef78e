"""scikit-learn-style estimators, described from a symbolic pickle (never built).

scikit-learn pickles an estimator as its class (``NEWOBJ`` or
``copyreg._reconstructor``) plus a ``BUILD`` state, the dict of
``BaseEstimator.__getstate__``: constructor parameters under their own names, fitted
attributes ending in ``_`` (``classes_``, ``n_features_in_``), private ones starting
with ``_`` and ``_sklearn_version`` (scikit-learn PR #22094). Parameters that hold
estimators, and lists of ``(name, estimator, ...)`` steps (Pipeline ``steps``,
ColumnTransformer ``transformers``, FeatureUnion ``transformer_list``), are flattened
with scikit-learn's own ``get_params(deep=True)`` names: ``clf__C``. The xgboost and
lightgbm scikit-learn wrappers follow the same convention.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any, Final

from notifier.inspection.fields import MAX_LIST_LENGTH, clip
from notifier.inspection.models.pickle_vm import (
    Blob,
    Call,
    Global,
    byte_order,
    dtype_code,
    entries,
    shape_of,
)

RECONSTRUCTORS: Final = frozenset({"copyreg._reconstructor", "copy_reg._reconstructor"})
NUMPY_SCALARS: Final = frozenset({"numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar"})
NUMPY_ARRAYS: Final = frozenset(
    {"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct"}
)
NOT_PARAMETERS: Final = frozenset({"estimator_params"})
"""Public attributes set in ``__init__`` that are not constructor parameters."""

MAX_DEPTH: Final = 4
"""Levels of nested estimators flattened (``outer__inner__param``)."""

_STRUCT_CODES: Final = {
    "f8": "d",
    "f4": "f",
    "f2": "e",
    "i8": "q",
    "i4": "i",
    "i2": "h",
    "i1": "b",
    "u8": "Q",
    "u4": "I",
    "u2": "H",
    "u1": "B",
    "b1": "?",
}


@dataclass
class Estimator:
    """What a pickled estimator says about itself."""

    cls: str
    params: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    sklearn_version: str | None = None
    n_features_in: int | None = None
    n_classes: int | None = None


def class_of(value: Any) -> str | None:
    """``module.qualname`` of the object a Call would create, if it names a class."""
    if not isinstance(value, Call):
        return None
    if value.func_name in RECONSTRUCTORS and isinstance(value.args, tuple) and value.args:
        first = value.args[0]
        return first.dotted if isinstance(first, Global) else None
    return value.func_name


def state_of(value: Any) -> dict[str, Any] | None:
    """The object's ``__getstate__`` dict (string keys only), if it has one."""
    if not isinstance(value, Call):
        return None
    state = value.state
    if isinstance(state, tuple) and len(state) == 2:  # (dict state, slot state)
        state = state[0]
    found = entries(state)
    if found is None:
        return None
    return {key: item for key, item in found.items() if isinstance(key, str)}


def is_estimator(value: Any) -> bool:
    state = state_of(value)
    cls = class_of(value)
    return state is not None and cls is not None and not cls.startswith(("numpy.", "builtins."))


def describe(value: Any, depth: int = 0) -> Estimator | None:
    """The estimator ``value`` would unpickle to, or None when it is not one."""
    state = state_of(value)
    cls = class_of(value)
    if state is None or cls is None or not is_estimator(value):
        return None
    found = Estimator(cls)
    version = state.get("_sklearn_version")
    found.sklearn_version = version if isinstance(version, str) else None
    found.n_features_in = as_int(state.get("n_features_in_"))
    found.n_classes = class_count(state)
    for name, item in state.items():
        if name.startswith("_") or name.endswith("_") or name in NOT_PARAMETERS:
            continue
        _add_param(found, name, item, depth)
    _add_search_results(found, state, depth)
    if found.steps:
        first, last = found.steps[0]["estimator"], found.steps[-1]["estimator"]
        if found.n_features_in is None and first is not None:
            found.n_features_in = first.n_features_in
        if found.n_classes is None and last is not None:
            found.n_classes = last.n_classes
    return found


def _add_search_results(found: Estimator, state: dict[str, Any], depth: int) -> None:
    """A hyperparameter search (GridSearchCV...): the best parameters, score and model."""
    if "best_params_" in state:
        found.params["best_params"] = plain_value(state["best_params_"])
    score = state.get("best_score_")
    scalar = numpy_scalar(score)
    if isinstance(score, float) or isinstance(scalar, float):
        found.params["best_score"] = plain_value(score)
    best = state.get("best_estimator_")
    if is_estimator(best):
        found.params["best_estimator"] = class_of(best)
        nested = describe(best, depth + 1) if depth < MAX_DEPTH else None
        if nested is not None:
            found.n_features_in = found.n_features_in or nested.n_features_in
            found.n_classes = found.n_classes or nested.n_classes


def _add_param(found: Estimator, name: str, item: Any, depth: int) -> None:
    steps = named_steps(item)
    if steps is not None:
        found.params[name] = [step_name for step_name, _ in steps]
        for step_name, step in steps:
            nested = describe(step, depth + 1) if depth < MAX_DEPTH else None
            cls = nested.cls if nested else plain_value(step)
            found.steps.append({"name": step_name, "class": cls, "estimator": nested})
            found.params[step_name] = cls
            if nested is not None:
                for key, value in nested.params.items():
                    found.params[f"{step_name}__{key}"] = value
        return
    if is_estimator(item):
        nested = describe(item, depth + 1) if depth < MAX_DEPTH else None
        found.params[name] = class_of(item)
        if nested is not None:
            for key, value in nested.params.items():
                found.params[f"{name}__{key}"] = value
        return
    found.params[name] = plain_value(item)


def named_steps(value: Any) -> list[tuple[str, Any]] | None:
    """``[(name, estimator, ...), ...]`` -> ``[(name, estimator)]``; None otherwise."""
    if not isinstance(value, list) or not value:
        return None
    steps: list[tuple[str, Any]] = []
    for item in value:
        if not (isinstance(item, tuple) and len(item) >= 2 and isinstance(item[0], str)):
            return None
        if not (is_estimator(item[1]) or item[1] in ("drop", "passthrough", None)):
            return None
        steps.append((item[0], item[1]))
    return steps


def plain_value(value: Any, depth: int = 0) -> Any:
    """A parameter value as JSON: scalars, short lists, class names, numpy scalars."""
    if depth > MAX_DEPTH:
        return "<nested too deep>"
    if value is None or isinstance(value, (bool, int, str)):
        return clip(value) if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Global):
        return value.dotted
    if isinstance(value, Blob):
        return f"<{value.kind} of {value.length} bytes>"
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_LIST_LENGTH:
            return f"<{len(value)} items>"
        return [plain_value(item, depth + 1) for item in value]
    scalar = numpy_scalar(value)
    if scalar is not None:
        return scalar
    found = entries(value)
    if found is not None:
        if len(found) > MAX_LIST_LENGTH:
            return f"<{len(found)} entries>"
        return {
            str(plain_value(key, depth + 1)): plain_value(item, depth + 1)
            for key, item in found.items()
        }
    shape = array_shape(value)
    if shape is not None:
        return f"<array of shape {list(shape)}>"
    cls = class_of(value)
    return f"<{cls}>" if cls else None


def numpy_scalar(value: Any) -> int | float | bool | None:
    """``numpy.float64(0.5)`` as pickled (dtype + raw bytes) -> 0.5."""
    if not (isinstance(value, Call) and value.func_name in NUMPY_SCALARS):
        return None
    args = value.args
    if not (isinstance(args, tuple) and len(args) == 2 and isinstance(args[1], bytes)):
        return None
    code = dtype_code(args[0])
    fmt = _STRUCT_CODES.get(code or "")
    if fmt is None or struct.calcsize(fmt) != len(args[1]):
        return None
    order = ">" if byte_order(args[0]) == ">" else "<"
    (number,) = struct.unpack(order + fmt, args[1])
    if isinstance(number, float) and not math.isfinite(number):
        return None
    return number  # type: ignore[no-any-return]


def array_shape(value: Any) -> tuple[int, ...] | None:
    """The shape of a pickled numpy array (plain pickle or joblib wrapper)."""
    if not isinstance(value, Call):
        return None
    if value.array is not None:
        return value.array.shape
    if value.func_name in NUMPY_ARRAYS and isinstance(value.state, tuple) and len(value.state) > 1:
        return shape_of(value.state[1])
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    scalar = numpy_scalar(value)
    return scalar if isinstance(scalar, int) and not isinstance(scalar, bool) else None


def class_count(state: dict[str, Any]) -> int | None:
    """Classes seen in fit: ``classes_``'s length (array or list), else ``n_classes_``."""
    classes = state.get("classes_")
    if isinstance(classes, list):
        return len(classes)
    shape = array_shape(classes)
    if shape is not None and len(shape) == 1:
        return shape[0]
    return as_int(state.get("n_classes_"))
