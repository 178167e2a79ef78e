"""The safety verdict of a pickle: every import it would perform, against an allow-list.

An allow-list, not a block-list: scanners that list dangerous names (picklescan,
modelscan) were bypassed repeatedly in 2025-2026 through names nobody had listed
(``pydoc.locate``, ``operator.methodcaller``, ``marshal.loads``...); fickling moved to
an allow-list of ML libraries for that reason. Any import outside
:data:`ALLOWED_MODULES` / :data:`ALLOWED_NAMES`, or inside :data:`DENIED_PREFIXES`,
makes the file ``suspicious``. A suspicious file is still described; it is never loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

ALLOWED: Final = "allowed"
SUSPICIOUS: Final = "suspicious"

ALLOWED_MODULES: Final = (
    "sklearn",
    "numpy",
    "scipy",
    "joblib",
    "xgboost",
    "lightgbm",
    "catboost",
    "pandas",
    "torch",
    "imblearn",
    "category_encoders",
)
"""Top-level packages whose classes model pickles are made of (``module`` or ``module.*``)."""

DENIED_PREFIXES: Final = (
    "numpy.testing",
    "numpy.f2py",
    "numpy.distutils",
    "numpy.ctypeslib",
    "numpy.load",
    "numpy.lib.npyio",
    "numpy.lib._npyio_impl",
    "joblib.load",
    "joblib.numpy_pickle.load",
    "joblib.parallel",
    "pandas.io",
    "pandas.read_",
    "scipy.io",
    "scipy.weave",
    "torch.load",
    "torch.hub",
    "torch.jit",
    "torch.serialization",
    "torch.utils.cpp_extension",
    "torch.package",
    "torch._C._import",
    "torch.ops",
)
"""Names inside allowed packages that read files, compile or run code."""

ALLOWED_NAMES: Final = frozenset(
    {
        "builtins.bool",
        "builtins.bytearray",
        "builtins.bytes",
        "builtins.complex",
        "builtins.dict",
        "builtins.float",
        "builtins.frozenset",
        "builtins.int",
        "builtins.list",
        "builtins.object",
        "builtins.range",
        "builtins.set",
        "builtins.slice",
        "builtins.str",
        "builtins.tuple",
        "__builtin__.set",
        "__builtin__.object",
        "__builtin__.frozenset",
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.Counter",
        "collections.deque",
        "copyreg._reconstructor",
        "copy_reg._reconstructor",
        "copyreg.__newobj__",
        "_codecs.encode",
        "datetime.datetime",
        "datetime.date",
        "datetime.timedelta",
        "datetime.timezone",
        "decimal.Decimal",
        "functools.partial",
    }
)
"""Standard-library names that only build data (containers, numbers, dates)."""


def is_allowed(name: str) -> bool:
    """``module.qualname`` is on the allow-list and not under a denied prefix."""
    if any(name == denied or name.startswith(denied + ".") for denied in DENIED_PREFIXES):
        return False
    if any(name.startswith(denied) for denied in DENIED_PREFIXES if denied.endswith("_")):
        return False
    if name in ALLOWED_NAMES:
        return True
    return any(name.startswith(module + ".") for module in ALLOWED_MODULES)


def verdict(imports: Iterable[str]) -> tuple[str, list[str]]:
    """(``allowed`` or ``suspicious``, the imports outside the allow-list)."""
    offending = [name for name in imports if not is_allowed(name)]
    return (SUSPICIOUS if offending else ALLOWED), offending
