"""A symbolic pickle machine: what a pickle stream would build, without building it.

The opcodes are read with the standard library's opcode table (``pickletools.opcodes``,
the table ``pickletools.genops`` walks) and replayed on a stack and a memo of
*descriptions*: a ``GLOBAL`` becomes a :class:`Global` naming ``module.qualname``
(nothing is imported), a ``REDUCE``/``NEWOBJ``/``INST``/``OBJ`` becomes a :class:`Call`
recording the callable and its arguments (nothing is called), ``BUILD`` stores the
state on that description, and ``BINPERSID`` becomes a :class:`Persistent` record.
No code path here imports, calls or unpickles anything the stream names.

Format source: the pickle opcode definitions in CPython's ``Lib/pickletools.py`` and
``Lib/pickle.py`` (protocols 0-5). joblib's ``NumpyArrayWrapper`` layout (array bytes
written raw right after the wrapper's ``BUILD``, preceded by one padding-length byte
and that many padding bytes when ``numpy_array_alignment_bytes`` is set; object arrays
as a nested pickle stream) is from ``joblib/numpy_pickle.py`` (joblib 1.6).

Bounds: opcodes, stack depth, memo entries, kept text bytes and the length of a single
argument are all capped (:class:`PickleLimits`); long strings and byte strings are
replaced by :class:`Blob` (their length only) and skipped without being held.
"""

from __future__ import annotations

import io
import math
import pickletools
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from notifier.inspection.errors import NotInspected, Unreadable

__all__ = [
    "Blob",
    "Call",
    "Global",
    "Persistent",
    "PickleLimits",
    "PickleRun",
    "read_pickle",
]

JOBLIB_WRAPPERS: Final = frozenset(
    {
        "joblib.numpy_pickle.NumpyArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
    }
)
"""Classes after whose ``BUILD`` joblib writes an array's bytes into the stream."""

NUMPY_DTYPES: Final = frozenset({"numpy.dtype", "numpy.core.multiarray.dtype"})

_UNICODE_ITEM_BYTES: Final = 4
"""numpy pickles a ``U<n>`` dtype by characters; each takes 4 bytes (UCS-4)."""


@dataclass(frozen=True)
class PickleLimits:
    """Caps on one symbolic run (all streams of one object together)."""

    max_opcodes: int = 2_000_000
    """Opcodes replayed; a joblib scikit-learn forest of 2,051 trees (45 MiB) takes 349k
    (bench/bench_model_pickle.py). Each opcode makes at most one small description, so
    this also bounds memory (a few hundred MB for an adversarial stream)."""
    max_stack: int = 100_000
    max_memo: int = 1_000_000
    max_imports: int = 10_000
    """Distinct names imported; a real model imports a few dozen."""
    max_container_items: int = 100_000
    """Items kept per list, dict or set; further items are counted, not kept."""
    max_kept_text_bytes: int = 32 * 1024**2
    """Total bytes of strings kept; past this every string becomes a Blob."""
    max_kept_value_bytes: int = 1024
    """Longest single string kept; longer ones become a Blob (length only)."""
    max_kept_bytes_value: int = 64
    """Longest byte string kept (enough for a numpy scalar); longer ones become a Blob."""
    max_line_bytes: int = 4096
    """Longest text-protocol argument line (GLOBAL, INT, STRING...)."""
    max_nested_streams: int = 10_000
    """Nested pickle streams (joblib object arrays) followed in one object."""


@dataclass(frozen=True)
class Global:
    """A name the stream would import: ``module`` and ``name`` (a qualname)."""

    module: str
    name: str

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(eq=False)
class Call:
    """What ``REDUCE``/``NEWOBJ``/``INST``/``OBJ`` would produce: ``func(*args)``, then
    ``BUILD(state)``. Identity-hashed, so it can be a dict key or a memo value."""

    func: Any
    args: Any
    state: Any = None
    items: list[Any] = field(default_factory=list)
    """``APPEND``ed or ``SETITEM``ed content, for list and dict subclasses."""
    array: ArrayInfo | None = None
    """For a joblib ``NumpyArrayWrapper``: the array written after it."""

    @property
    def func_name(self) -> str | None:
        return self.func.dotted if isinstance(self.func, Global) else None


@dataclass(frozen=True)
class Blob:
    """A string or byte string too long to keep (or an out-of-band buffer)."""

    kind: str
    length: int | None


@dataclass(frozen=True)
class Persistent:
    """A persistent id (``PERSID``/``BINPERSID``): PyTorch uses it for tensor storages."""

    pid: Any


@dataclass(frozen=True)
class ArrayInfo:
    """A numpy array's header: ``dtype`` as numpy pickles it (``f8``, ``U5``) and shape."""

    dtype: str | None
    shape: tuple[int, ...] | None


@dataclass(eq=False)
class _Dict:
    """A dict under construction; keys a dict cannot hold are stored by identity."""

    entries: dict[Any, Any] = field(default_factory=dict)


class _Mark:
    pass


_MARK: Final = _Mark()

_OPCODES: Final = {op.code: op for op in pickletools.opcodes}


@dataclass
class PickleRun:
    """The result of replaying one stream (and the nested streams it carries)."""

    root: Any = None
    protocol: int | None = None
    imports: list[str] = field(default_factory=list)
    """Every ``module.name`` the stream would import, in first-seen order."""
    opcodes: int = 0
    nested_streams: int = 0
    arrays: int = 0
    array_bytes: int = 0
    dropped_items: int = 0
    persistent_ids: list[Any] = field(default_factory=list)
    kept_text_bytes: int = 0

    def note_import(self, name: str) -> None:
        if name not in self._seen:
            self._seen.add(name)
            self.imports.append(name)

    def __post_init__(self) -> None:
        self._seen: set[str] = set()


class OpStream:
    """Exact reads from a buffered stream, with a bounded ``readline`` for the text
    opcodes; a short read is a truncated pickle."""

    def __init__(self, stream: io.BufferedIOBase, limits: PickleLimits) -> None:
        self._stream = stream
        self._limits = limits
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            raise Unreadable("pickle reader asked for an unbounded read")
        data = self._stream.read(size)
        self.position += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        line = self._stream.readline(self._limits.max_line_bytes)
        self.position += len(line)
        if not line.endswith(b"\n"):
            if len(line) >= self._limits.max_line_bytes:
                raise NotInspected(
                    f"pickle text argument longer than {self._limits.max_line_bytes} bytes"
                )
            raise Unreadable("truncated pickle: it ends inside an argument")
        return line

    def exact(self, size: int) -> bytes:
        data = self.read(size)
        if len(data) != size:
            raise Unreadable(f"truncated pickle: it ends {size - len(data)} bytes short")
        return data

    def skip(self, size: int, block: int = 1 << 20) -> None:
        """Read and drop ``size`` bytes (never holding more than ``block``)."""
        left = size
        while left > 0:
            chunk = self.read(min(left, block))
            if not chunk:
                raise Unreadable(f"truncated pickle: it ends {left} bytes into a {size}-byte value")
            left -= len(chunk)


# Length-prefixed arguments: (bytes of the length, struct format, kind).
_SIZED: Final[dict[str, tuple[int, str, str]]] = {
    "bytes1": (1, "<B", "bytes"),
    "bytes4": (4, "<I", "bytes"),
    "bytes8": (8, "<Q", "bytes"),
    "bytearray8": (8, "<Q", "bytes"),
    "string1": (1, "<B", "str8"),
    "string4": (4, "<i", "str8"),
    "unicodestring1": (1, "<B", "str"),
    "unicodestring4": (4, "<I", "str"),
    "unicodestring8": (8, "<Q", "str"),
    "long4": (4, "<i", "long"),
}


class Machine:
    """Replays one pickle stream; ``run`` returns when it reads ``STOP``."""

    def __init__(
        self,
        stream: OpStream,
        limits: PickleLimits,
        run: PickleRun,
        check: Callable[[], None],
        block_size: int,
    ) -> None:
        self._in = stream
        self._limits = limits
        self._run = run
        self._check = check
        self._block = block_size
        self._stack: list[Any] = []
        self._memo: dict[int, Any] = {}

    def run(self) -> Any:
        while True:
            code = self._in.read(1)
            if not code:
                raise Unreadable("truncated pickle: no STOP opcode")
            op = _OPCODES.get(code.decode("latin-1"))
            if op is None:
                raise Unreadable(
                    f"not a pickle stream: unknown opcode {code!r} at byte {self._in.position - 1}"
                )
            self._count()
            arg = self._argument(op)
            if op.name == "STOP":
                return self._pop()
            self._apply(op.name, arg)
            if len(self._stack) > self._limits.max_stack:
                raise NotInspected(f"pickle stack deeper than {self._limits.max_stack}")

    def _count(self) -> None:
        self._run.opcodes += 1
        if self._run.opcodes > self._limits.max_opcodes:
            raise NotInspected(f"pickle longer than {self._limits.max_opcodes} opcodes")
        if self._run.opcodes % 4096 == 0:
            self._check()

    def _argument(self, op: pickletools.OpcodeInfo) -> Any:
        if op.arg is None:
            return None
        sized = _SIZED.get(op.arg.name)
        if sized is None:
            try:
                value = op.arg.reader(self._in)  # type: ignore[arg-type]
                return self._text_budget(value) if isinstance(value, (str, bytes)) else value
            except ValueError as exc:
                if "not enough data" in str(exc):
                    raise Unreadable(
                        f"truncated pickle: it ends inside the argument of {op.name}"
                    ) from None
                raise Unreadable(f"invalid pickle argument of {op.name}: {exc}") from None
        width, fmt, kind = sized
        (length,) = struct.unpack(fmt, self._in.exact(width))
        if length < 0:
            raise Unreadable(f"negative length in {op.name}")
        return self._sized_value(kind, length)

    def _text_budget(self, value: str | bytes) -> str | bytes | Blob:
        """Text-protocol arguments (STRING, UNICODE, GLOBAL...) count against the budget."""
        if self._run.kept_text_bytes + len(value) > self._limits.max_kept_text_bytes:
            return Blob("str" if isinstance(value, str) else "bytes", len(value))
        self._run.kept_text_bytes += len(value)
        return value

    def _sized_value(self, kind: str, length: int) -> Any:
        if kind == "long":
            if length > self._limits.max_kept_bytes_value:
                self._in.skip(length, self._block)
                return Blob("long", length)
            return int.from_bytes(self._in.exact(length), "little", signed=True)
        cap = (
            self._limits.max_kept_bytes_value
            if kind == "bytes"
            else self._limits.max_kept_value_bytes
        )
        if length > cap or self._run.kept_text_bytes + length > self._limits.max_kept_text_bytes:
            self._in.skip(length, self._block)
            return Blob(kind, length)
        raw = self._in.exact(length)
        self._run.kept_text_bytes += length
        if kind == "bytes":
            return raw
        if kind == "str8":
            return raw.decode("latin-1")
        try:
            return raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise Unreadable("invalid UTF-8 in a pickle string") from None

    # -- stack helpers -------------------------------------------------------------

    def _pop(self) -> Any:
        if not self._stack:
            raise Unreadable("invalid pickle: pop from an empty stack")
        value = self._stack.pop()
        if value is _MARK:
            raise Unreadable("invalid pickle: a MARK where a value was expected")
        return value

    def _pop_mark(self) -> list[Any]:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index] is _MARK:
                items = self._stack[index + 1 :]
                del self._stack[index:]
                return items
        raise Unreadable("invalid pickle: no MARK on the stack")

    def _top(self) -> Any:
        if not self._stack or self._stack[-1] is _MARK:
            raise Unreadable("invalid pickle: no value on the stack")
        return self._stack[-1]

    def _push(self, value: Any) -> None:
        self._stack.append(value)

    def _memo_put(self, index: int, value: Any) -> None:
        if index not in self._memo and len(self._memo) >= self._limits.max_memo:
            raise NotInspected(f"pickle memo larger than {self._limits.max_memo} entries")
        self._memo[index] = value

    def _global(self, module: Any, name: Any) -> Global:
        if not isinstance(module, str) or not isinstance(name, str):
            raise Unreadable("invalid pickle: a global named by a non-string")
        found = Global(module, name)
        self._run.note_import(found.dotted)
        if len(self._run.imports) > self._limits.max_imports:
            raise NotInspected(f"pickle imports more than {self._limits.max_imports} names")
        return found

    # -- opcodes -------------------------------------------------------------------

    def _apply(self, name: str, arg: Any) -> None:
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(self, arg)
            return
        raise Unreadable(f"unsupported pickle opcode {name}")

    def _add_items(self, target: Any, items: list[Any]) -> None:
        container = target.items if isinstance(target, Call) else target
        if not isinstance(container, list):
            raise Unreadable("invalid pickle: APPEND to something that is not a list")
        room = self._limits.max_container_items - len(container)
        container.extend(items[: max(room, 0)])
        self._run.dropped_items += max(len(items) - max(room, 0), 0)

    def _set_items(self, target: Any, flat: list[Any]) -> None:
        if len(flat) % 2:
            raise Unreadable("invalid pickle: SETITEMS with an odd number of values")
        pairs = list(zip(flat[::2], flat[1::2], strict=True))
        if isinstance(target, Call):
            self._add_items(target, [list(pair) for pair in pairs])
            return
        if not isinstance(target, _Dict):
            raise Unreadable("invalid pickle: SETITEM on something that is not a dict")
        for key, value in pairs:
            if len(target.entries) >= self._limits.max_container_items:
                self._run.dropped_items += 1
                continue
            target.entries[_dict_key(key)] = value

    def _build(self, state: Any) -> None:
        target = self._top()
        if not isinstance(target, Call):
            raise Unreadable("invalid pickle: BUILD on a value that is not an object")
        target.state = state
        if target.func_name in JOBLIB_WRAPPERS:
            target.array = self._joblib_array(state)

    def _joblib_array(self, state: Any) -> ArrayInfo:
        """Step over the array joblib wrote after its wrapper (NumpyArrayWrapper)."""
        fields = state.entries if isinstance(state, _Dict) else {}
        info = ArrayInfo(dtype_code(fields.get("dtype")), shape_of(fields.get("shape")))
        self._run.arrays += 1
        if info.dtype is None or info.shape is None:
            raise Unreadable("joblib array wrapper without a readable dtype and shape")
        if info.dtype.startswith("O"):
            self._nested_stream()
            return info
        if fields.get("numpy_array_alignment_bytes") is not None:
            (padding,) = self._in.exact(1)
            self._in.skip(padding, self._block)
        size = item_bytes(info.dtype) * math.prod(info.shape)
        self._run.array_bytes += size
        self._in.skip(size, self._block)
        return info

    def _nested_stream(self) -> None:
        self._run.nested_streams += 1
        if self._run.nested_streams > self._limits.max_nested_streams:
            raise NotInspected(f"more than {self._limits.max_nested_streams} nested pickles")
        Machine(self._in, self._limits, self._run, self._check, self._block).run()


def _global_arg(arg: Any) -> str:
    if not isinstance(arg, str):
        raise NotInspected("pickle text budget exhausted before a GLOBAL name")
    return arg


def _dict_key(key: Any) -> Any:
    try:
        hash(key)
    except TypeError:
        return ("<unhashable>", id(key))
    return key


def _tuple(items: list[Any]) -> tuple[Any, ...]:
    return tuple(items)


def _handlers() -> dict[str, Callable[[Machine, Any], None]]:
    def push_arg(m: Machine, arg: Any) -> None:
        m._push(arg)

    def push(value_factory: Callable[[], Any]) -> Callable[[Machine, Any], None]:
        return lambda m, _arg: m._push(value_factory())

    def tuple_n(count: int) -> Callable[[Machine, Any], None]:
        def handler(m: Machine, _arg: Any) -> None:
            items = [m._pop() for _ in range(count)][::-1]
            m._push(tuple(items))

        return handler

    def get(m: Machine, arg: Any) -> None:
        if arg not in m._memo:
            raise Unreadable(f"invalid pickle: memo entry {arg} read before it was written")
        m._push(m._memo[arg])

    def put(m: Machine, arg: Any) -> None:
        m._memo_put(int(arg), m._top())

    def memoize(m: Machine, _arg: Any) -> None:
        m._memo_put(len(m._memo), m._top())

    def global_(m: Machine, arg: Any) -> None:
        module, _, name = _global_arg(arg).partition(" ")
        m._push(m._global(module, name))

    def stack_global(m: Machine, _arg: Any) -> None:
        name = m._pop()
        module = m._pop()
        m._push(m._global(module, name))

    def inst(m: Machine, arg: Any) -> None:
        module, _, name = _global_arg(arg).partition(" ")
        m._push(Call(m._global(module, name), tuple(m._pop_mark())))

    def obj(m: Machine, _arg: Any) -> None:
        items = m._pop_mark()
        if not items:
            raise Unreadable("invalid pickle: OBJ without a class")
        m._push(Call(items[0], tuple(items[1:])))

    def reduce(m: Machine, _arg: Any) -> None:
        args = m._pop()
        m._push(Call(m._pop(), args))

    def newobj(m: Machine, _arg: Any) -> None:
        args = m._pop()
        m._push(Call(m._pop(), args))

    def newobj_ex(m: Machine, _arg: Any) -> None:
        kwargs = m._pop()
        args = m._pop()
        m._push(Call(m._pop(), args, state=None, items=[["**kwargs", kwargs]]))

    def build(m: Machine, _arg: Any) -> None:
        m._build(m._pop())

    def append(m: Machine, _arg: Any) -> None:
        value = m._pop()
        m._add_items(m._top(), [value])

    def appends(m: Machine, _arg: Any) -> None:
        items = m._pop_mark()
        m._add_items(m._top(), items)

    def setitem(m: Machine, _arg: Any) -> None:
        value = m._pop()
        key = m._pop()
        m._set_items(m._top(), [key, value])

    def setitems(m: Machine, _arg: Any) -> None:
        flat = m._pop_mark()
        m._set_items(m._top(), flat)

    def additems(m: Machine, _arg: Any) -> None:
        items = m._pop_mark()
        m._add_items(m._top(), items)

    def to_list(m: Machine, _arg: Any) -> None:
        m._push(m._pop_mark()[: m._limits.max_container_items])

    def to_tuple(m: Machine, _arg: Any) -> None:
        m._push(_tuple(m._pop_mark()))

    def to_dict(m: Machine, _arg: Any) -> None:
        flat = m._pop_mark()
        target = _Dict()
        m._set_items(target, flat)
        m._push(target)

    def frozenset_(m: Machine, _arg: Any) -> None:
        m._push(m._pop_mark()[: m._limits.max_container_items])

    def pop(m: Machine, _arg: Any) -> None:
        if not m._stack:
            raise Unreadable("invalid pickle: pop from an empty stack")
        m._stack.pop()

    def pop_mark(m: Machine, _arg: Any) -> None:
        m._pop_mark()

    def dup(m: Machine, _arg: Any) -> None:
        m._push(m._top())

    def mark(m: Machine, _arg: Any) -> None:
        m._push(_MARK)

    def persid(m: Machine, arg: Any) -> None:
        if len(m._run.persistent_ids) < m._limits.max_container_items:
            m._run.persistent_ids.append(arg)
        m._push(Persistent(arg))

    def binpersid(m: Machine, _arg: Any) -> None:
        pid = m._pop()
        if len(m._run.persistent_ids) < m._limits.max_container_items:
            m._run.persistent_ids.append(pid)
        m._push(Persistent(pid))

    def ext(m: Machine, arg: Any) -> None:
        m._push(m._global("copyreg.extension", str(arg)))

    def proto(m: Machine, arg: Any) -> None:
        if m._run.protocol is None:
            m._run.protocol = int(arg)

    def nothing(_m: Machine, _arg: Any) -> None:
        return None

    def buffer(m: Machine, _arg: Any) -> None:
        m._push(Blob("buffer", None))

    def readonly(_m: Machine, _arg: Any) -> None:
        return None

    constants = {
        name: push_arg
        for name in (
            "INT",
            "BININT",
            "BININT1",
            "BININT2",
            "LONG",
            "LONG1",
            "LONG4",
            "FLOAT",
            "BINFLOAT",
            "STRING",
            "BINSTRING",
            "SHORT_BINSTRING",
            "BINBYTES",
            "SHORT_BINBYTES",
            "BINBYTES8",
            "BYTEARRAY8",
            "UNICODE",
            "BINUNICODE",
            "SHORT_BINUNICODE",
            "BINUNICODE8",
        )
    }
    return {
        **constants,
        "NONE": push(lambda: None),
        "NEWTRUE": push(lambda: True),
        "NEWFALSE": push(lambda: False),
        "EMPTY_LIST": push(list),
        "EMPTY_TUPLE": push(tuple),
        "EMPTY_DICT": push(_Dict),
        "EMPTY_SET": push(list),
        "MARK": mark,
        "LIST": to_list,
        "TUPLE": to_tuple,
        "TUPLE1": tuple_n(1),
        "TUPLE2": tuple_n(2),
        "TUPLE3": tuple_n(3),
        "DICT": to_dict,
        "FROZENSET": frozenset_,
        "APPEND": append,
        "APPENDS": appends,
        "SETITEM": setitem,
        "SETITEMS": setitems,
        "ADDITEMS": additems,
        "POP": pop,
        "POP_MARK": pop_mark,
        "DUP": dup,
        "GET": get,
        "BINGET": get,
        "LONG_BINGET": get,
        "PUT": put,
        "BINPUT": put,
        "LONG_BINPUT": put,
        "MEMOIZE": memoize,
        "GLOBAL": global_,
        "STACK_GLOBAL": stack_global,
        "INST": inst,
        "OBJ": obj,
        "REDUCE": reduce,
        "NEWOBJ": newobj,
        "NEWOBJ_EX": newobj_ex,
        "BUILD": build,
        "PERSID": persid,
        "BINPERSID": binpersid,
        "EXT1": ext,
        "EXT2": ext,
        "EXT4": ext,
        "PROTO": proto,
        "FRAME": nothing,
        "NEXT_BUFFER": buffer,
        "READONLY_BUFFER": readonly,
    }


_HANDLERS: Final = _handlers()


def read_pickle(
    stream: io.BufferedIOBase,
    limits: PickleLimits,
    check: Callable[[], None],
    block_size: int = 1 << 20,
) -> PickleRun:
    """Replay the pickle stream at the start of ``stream`` up to its ``STOP``.

    ``check`` is called every few thousand opcodes (the inspection deadline).
    Raises Unreadable for a stream that is not a valid pickle and NotInspected when
    a cap in ``limits`` is reached. Bytes after ``STOP`` are not read.
    """
    run = PickleRun()
    ops = OpStream(stream, limits)
    run.root = Machine(ops, limits, run, check, block_size).run()
    return run


# -- reading values back -----------------------------------------------------------


def entries(value: Any) -> dict[Any, Any] | None:
    """The entries of a dict value (None when ``value`` is not a dict)."""
    return value.entries if isinstance(value, _Dict) else None


def dtype_code(value: Any) -> str | None:
    """``numpy.dtype('f8', False, True)`` as pickled -> ``'f8'``."""
    if isinstance(value, Call) and value.func_name in NUMPY_DTYPES:
        args = value.args
        if isinstance(args, tuple) and args and isinstance(args[0], str):
            return args[0]
    return None


def byte_order(value: Any) -> str:
    """A pickled dtype's byte order (its BUILD state's second item), ``<`` by default."""
    if isinstance(value, Call) and isinstance(value.state, tuple) and len(value.state) > 1:
        order = value.state[1]
        if order in ("<", ">", "|", "="):
            return str(order)
    return "<"


def shape_of(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, tuple) and all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value
    ):
        return tuple(value)
    return None


def item_bytes(code: str) -> int:
    """Bytes per element of a numpy dtype as pickled: ``f8`` -> 8, ``U5`` -> 20, ``b1`` -> 1.

    Raises Unreadable for a code without a size (numpy always writes one, except ``O``).
    """
    kind = code[:1]
    digits = "".join(ch for ch in code[1:] if ch.isdigit())
    if not digits:
        raise Unreadable(f"numpy dtype {code!r} has no item size")
    size = int(digits)
    return size * _UNICODE_ITEM_BYTES if kind == "U" else size
