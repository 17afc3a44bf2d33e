"""The scalar :class:`Value` and reverse-mode differentiation (``backward``).

A ``Value`` holds a float (``data``), the gradient of the last ``backward()`` call
with respect to it (``grad``), and, when an operation produced it, that
operation (``op``) and its inputs (``parents``). Expressions of Values therefore
build a computation graph, and ``backward()`` walks it from the output back to
the leaves, applying the chain rule at every node.

The arithmetic methods and the backward rules of every node are generated from
the operation table in :mod:`autograd_tiny.ops` when this module is imported
(see :func:`_generate`); print ``autograd_tiny.value.GENERATED_SOURCE`` to read
them. A number combined with a Value (``w * 2``) is stored inside the result node
as a constant operand instead of becoming a node of its own.
"""

from __future__ import annotations

import copy
import functools
import inspect
import numbers
import threading
import types
from collections.abc import Callable, Generator
from typing import Any, SupportsIndex, TypeVar, Union, cast, overload

from . import _numeric, codegen
from .ops import OPS, Op

#: What the arithmetic operators accept on the other side of a Value.
Operand = Union["Value", float, int]

_F = TypeVar("_F", bound=Callable[..., Any])


# -- grad mode --------------------------------------------------------------------------------------
class _GradMode(threading.local):
    """Whether operations record the graph, per thread (new threads start recording, like PyTorch)."""

    enabled = True  # the class attribute is every thread's starting value

    def __init__(self) -> None:
        self.saved: list[bool] = []  # the modes to go back to, innermost block last
        self.off: _Off | None = None  # held while recording is off


_mode = _GradMode()

# How many threads have recording switched off. While it is 0, which is almost always
# outside no_grad() blocks, _node need not look at the (slower) thread-local flag; a
# thread counts here from before its flag goes off until after it is back on.
_threads_without_grad = 0
_count_lock = threading.Lock()


class _Off:
    """Counts its thread in ``_threads_without_grad`` while it exists.

    It lives in the thread's grad mode, so a thread that ends with recording off
    (after ``set_grad_enabled(False)``) is taken off the count with its other data.
    """

    __slots__ = ()

    def __init__(self) -> None:
        global _threads_without_grad
        with _count_lock:
            _threads_without_grad += 1

    def __del__(self) -> None:
        global _threads_without_grad
        with _count_lock:
            _threads_without_grad -= 1


def _set_grad_mode(enabled: bool) -> None:
    """Switch recording on or off for the calling thread."""
    mode = _mode
    if mode.enabled is enabled:
        return
    if enabled:
        mode.enabled = True
        mode.off = None  # the token's __del__ takes the thread off the count
    else:
        mode.off = _Off()
        mode.enabled = False


class GradMode:
    """A grad mode to switch to: what :func:`no_grad`, :func:`enable_grad` and
    :func:`set_grad_enabled` return.

    Use it as a context manager (``with no_grad():``) or as a decorator of a
    function, including a generator function (each step of the generator then
    runs in the mode, like ``torch.no_grad``). The mode belongs to the calling
    thread: a block in one thread does not change what another thread records.
    """

    __slots__ = ("enabled", "_restore")

    def __init__(self, enabled: bool, _restore: bool | None = None) -> None:
        self.enabled = enabled
        self._restore = _restore  # set_grad_enabled: the mode from before it switched at once

    def __enter__(self) -> None:
        restore, self._restore = self._restore, None
        _mode.saved.append(_mode.enabled if restore is None else restore)
        _set_grad_mode(self.enabled)

    def __exit__(self, *exc_info: object) -> None:
        _set_grad_mode(_mode.saved.pop())

    def __call__(self, func: _F) -> _F:
        """Return ``func`` wrapped so that it runs in this mode (each step, for a generator)."""
        if not callable(func):
            raise TypeError(f"a grad mode decorates a function, got {type(func).__name__}: "
                            f"{_numeric.short_repr(func)}")
        if self._restore is not None:  # @set_grad_enabled(...): undo the switch made at the call
            _set_grad_mode(self._restore)
            self._restore = None
        enabled = self.enabled
        if inspect.isgeneratorfunction(func):
            return cast(_F, _wrap_generator(func, enabled))

        @functools.wraps(func)
        def run_in_mode(*args: Any, **kwargs: Any) -> Any:
            with GradMode(enabled):
                return func(*args, **kwargs)

        return cast(_F, run_in_mode)

    def __repr__(self) -> str:
        return f"GradMode(enabled={self.enabled})"


def _wrap_generator(func: Callable[..., Generator[Any, Any, Any]], enabled: bool) -> Callable[..., Any]:
    """Return a generator function that runs every step of ``func``'s generators in the mode."""

    @functools.wraps(func)
    def generate_in_mode(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        gen = func(*args, **kwargs)
        try:
            with GradMode(enabled):
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with GradMode(enabled):
                        gen.close()
                    raise
                except BaseException as exc:
                    with GradMode(enabled):
                        response = gen.throw(exc)
                else:
                    with GradMode(enabled):
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return generate_in_mode


@overload
def no_grad() -> GradMode: ...
@overload
def no_grad(func: _F) -> _F: ...
def no_grad(func: _F | None = None) -> GradMode | _F:
    """Switch off recording: operations compute their results but make leaves, no graph.

    Use it for parameter updates and evaluation, like ``torch.no_grad``: as
    ``with no_grad():``, or as a decorator, ``@no_grad`` or ``@no_grad()`` (on a
    generator function too). The mode is per thread.

    Returns:
        A :class:`GradMode` (context manager and decorator); with ``func``, ``func`` decorated.
    """
    mode = GradMode(False)
    return mode if func is None else mode(func)


@overload
def enable_grad() -> GradMode: ...
@overload
def enable_grad(func: _F) -> _F: ...
def enable_grad(func: _F | None = None) -> GradMode | _F:
    """Switch recording back on, even inside :func:`no_grad`, like ``torch.enable_grad``.

    For code that needs a graph whatever its caller chose; used like :func:`no_grad`.

    Returns:
        A :class:`GradMode` (context manager and decorator); with ``func``, ``func`` decorated.
    """
    mode = GradMode(True)
    return mode if func is None else mode(func)


def set_grad_enabled(mode: bool) -> GradMode:
    """Switch recording on (True) or off (False) for the calling thread, at once.

    Like ``torch.set_grad_enabled``: called on its own the switch stays; as
    ``with set_grad_enabled(mode):`` the previous mode comes back at the end of the
    block; as ``@set_grad_enabled(mode)`` it decorates a function instead.

    Returns:
        A :class:`GradMode` for the ``with`` and decorator forms.

    Raises:
        TypeError: ``mode`` is not a bool.
    """
    if not isinstance(mode, bool):
        raise TypeError(f"set_grad_enabled needs True or False, got {type(mode).__name__}: "
                        f"{_numeric.short_repr(mode)}")
    previous = _mode.enabled
    _set_grad_mode(mode)
    return GradMode(mode, previous)


def is_grad_enabled() -> bool:
    """Return True when operations in the calling thread record the graph (outside :func:`no_grad`)."""
    return _mode.enabled


def _as_float(value: object, what: str) -> float:
    """Return ``value`` as a float.

    Raises:
        TypeError: ``value`` is not a real number (the message names ``what`` and its type).
        ValueError: ``value`` is beyond the float range (e.g. ``10 ** 400``).
    """
    if type(value) is float:
        return value
    if type(value) is int:  # the common case, without the slow numbers.Real check
        try:
            return float(value)
        except OverflowError:
            raise _too_large(value, what) from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{what} must be a real number (int, float or numpy scalar), "
            f"got {type(value).__name__}: {_numeric.short_repr(value)}"
        )
    try:
        return float(value)
    except OverflowError:
        raise _too_large(value, what) from None


def _operand(value: object, what: str) -> float:
    """Return the number on the other side of an operator, or ``NotImplemented``.

    ``NotImplemented`` (typed as a float here, to keep the generated code simple)
    is for an object of a type from outside Python's builtins that is not a real
    number, such as a numpy array: Python then asks that object, and numpy
    applies the operation to each element. Builtins that are not numbers (bool,
    str, None, complex, list ...) get the TypeError of :func:`_as_float`.
    """
    if type(value) is int:  # the common case (x ** 2), without the slow numbers.Real check
        try:
            return float(value)
        except OverflowError:
            raise _too_large(value, what) from None
    if isinstance(value, numbers.Real) or type(value).__module__ == "builtins":
        return _as_float(value, what)
    return NotImplemented  # type: ignore[no-any-return]


def _too_large(value: object, what: str) -> ValueError:
    """Return the error for a number beyond the float range, showing it briefly."""
    return ValueError(
        f"{what} is too large for a float: got {_numeric.short_repr(value)} (floats go up to "
        "about 1.8e308); scale it down"
    )


class Kind:
    """How one node was made: an :class:`Op`, and which operand (if any) is a constant.

    ``const`` is None when every operand is a Value, 1 for ``value OP number`` and
    0 for ``number OP value``. ``vjp`` is the generated backward rule: it adds
    ``node.grad * d node / d parent`` to each parent's ``grad``.
    """

    __slots__ = ("op", "const", "vjp", "name")

    def __init__(self, op: Op, const: int | None) -> None:
        self.op = op
        self.const = const
        self.name = op.name + {None: "", 0: "_cv", 1: "_vc"}[const]
        self.vjp: Callable[[Value], None] = _unset_vjp

    def variable_positions(self) -> tuple[int, ...]:
        """Return the operand positions that hold parent Values (not constants)."""
        return tuple(i for i in range(self.op.arity) if i != self.const)

    def __repr__(self) -> str:
        return f"Kind({self.name})"

    def __reduce__(self) -> tuple[Callable[[str], Kind], tuple[str]]:
        # Pickled (and deep-copied) by name: the one Kind of that name comes back, with
        # its generated backward rule, which itself cannot be pickled.
        return _kind, (self.name,)


def _kind(name: str) -> Kind:
    """Return the kind of node called ``name`` (how pickles refer to kinds)."""
    return KINDS[name]


def _unset_vjp(node: Value) -> None:  # pragma: no cover - replaced at import
    raise AssertionError("backward rule not generated")


#: Every kind of node, by name (``"mul"``, ``"mul_vc"``, ``"mul_cv"``, ``"exp"`` ...).
KINDS: dict[str, Kind] = {}
for _op in OPS.values():
    for _const in ((None, 1, 0) if _op.arity == 2 else (None,)):
        _k = Kind(_op, _const)
        KINDS[_k.name] = _k

_OPERAND = ("x", "y")


def _operand_sources(kind: Kind, parent_names: tuple[str, ...], const_src: str) -> dict[str, str]:
    """Return where each of ``x``/``y`` comes from for a node of this kind."""
    src: dict[str, str] = {}
    parents = iter(parent_names)
    for i in range(kind.op.arity):
        src[_OPERAND[i]] = const_src if i == kind.const else f"{next(parents)}.data"
    return src


def _vjp_source(kind: Kind) -> str:
    """Return the source of the backward rule of one kind of node."""
    positions = kind.variable_positions()
    pnames = tuple(f"p{_OPERAND[i]}" for i in positions)
    src = _operand_sources(kind, pnames, "v._arg")
    src["out"] = "v.data"
    lines = [f"def _vjp_{kind.name}(v):"]
    lines += [f"    {pname} = v.{slot}" for pname, slot in zip(pnames, ("_a", "_b"))]
    lines.append("    g = v.grad")
    for i, pname in zip(positions, pnames):
        lines.append("    " + codegen.accumulate(f"{pname}.grad", "g", kind.op.derivatives[i], src))
    return "\n".join(lines)


def _method_source(kind: Kind, method: str) -> str:
    """Return the source of the arithmetic method that builds nodes of this kind (and its const kinds)."""
    op = kind.op
    if op.arity == 1:
        fwd = codegen.substitute(op.forward, {"x": "self.data"})
        return (f"def {method}(self):\n"
                f"    return _node({fwd}, _K_{op.name}, self, None, None)")
    reflected = method.startswith("__r")
    # A number other than a float is converted by _operand, which gives NotImplemented
    # for an operand it does not know (a numpy array), so that Python asks the operand.
    if reflected:  # number OP self
        fwd = codegen.substitute(op.forward, {"x": "c", "y": "self.data"})
        return (f"def {method}(self, other):\n"
                f"    c = other\n"
                f"    if type(c) is not float:\n"
                f"        c = _operand(c, 'left operand of {op.symbol}')\n"
                f"        if c is NotImplemented:\n"
                f"            return c\n"
                f"    return _node({fwd}, _K_{op.name}_cv, self, None, c)")
    both = codegen.substitute(op.forward, {"x": "self.data", "y": "other.data"})
    right = codegen.substitute(op.forward, {"x": "self.data", "y": "c"})
    return (f"def {method}(self, other):\n"
            f"    if isinstance(other, Value):\n"
            f"        return _node({both}, _K_{op.name}, self, other, None)\n"
            f"    c = other\n"
            f"    if type(c) is not float:\n"
            f"        c = _operand(c, 'right operand of {op.symbol}')\n"
            f"        if c is NotImplemented:\n"
            f"            return c\n"
            f"    return _node({right}, _K_{op.name}_vc, self, None, c)")


#: Method names of the binary operators, plain and reflected.
_DUNDERS = {
    "add": ("__add__", "__radd__"),
    "sub": ("__sub__", "__rsub__"),
    "mul": ("__mul__", "__rmul__"),
    "div": ("__truediv__", "__rtruediv__"),
    "pow": ("__pow__", "__rpow__"),
    "neg": ("__neg__",),
    "abs": ("__abs__", "abs"),
}


def _generate() -> tuple[str, dict[str, object]]:
    """Generate every arithmetic method and backward rule from the operation table.

    Returns:
        The generated source, and the methods by their name in :class:`Value`.
    """
    namespace = codegen.float_namespace()
    namespace.update({f"_K_{name}": kind for name, kind in KINDS.items()})
    chunks = [_vjp_source(kind) for kind in KINDS.values()]
    methods: list[str] = []
    for op in OPS.values():
        for method in _DUNDERS.get(op.name, (op.name,)):
            chunks.append(_method_source(KINDS[op.name], method))
            methods.append(method)
    source = "\n\n".join(chunks) + "\n"
    namespace.update(_node=_node, _operand=_operand)
    exec(compile(source, "<autograd_tiny generated>", "exec"), namespace)  # noqa: S102 - our table
    for kind in KINDS.values():
        kind.vjp = namespace[f"_vjp_{kind.name}"]  # type: ignore[assignment]
    generated: dict[str, object] = {}
    for method in methods:
        fn = namespace[method]
        assert isinstance(fn, types.FunctionType)
        op = next(o for o in OPS.values() if method in _DUNDERS.get(o.name, (o.name,)))
        fn.__doc__ = op.doc
        fn.__qualname__ = f"Value.{method}"
        generated[method] = fn
    namespace.update(generated)
    return source, namespace


def _node(data: float, kind: Kind, a: Value, b: Value | None, arg: float | None) -> Value:
    """Return a new node: the result of ``kind`` on parents ``a`` (and ``b``) and constant ``arg``.

    Inside :func:`no_grad` the result is a leaf instead. Every generated method
    ends here, so this is the one place where graph nodes are made.
    """
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v._label = ""
    if not _threads_without_grad or _mode.enabled:
        v._kind = kind
        v._a = a
        v._b = b
        v._arg = arg
    else:
        v._kind = None
        v._a = v._b = None
        v._arg = None
    return v


_new = object.__new__

GENERATED_SOURCE, _NAMESPACE = _generate()


def _binary(method: str) -> Callable[[Value, Operand], Value]:
    return _NAMESPACE[method]  # type: ignore[return-value]


def _unary(method: str) -> Callable[[Value], Value]:
    return _NAMESPACE[method]  # type: ignore[return-value]


class Value:
    """A scalar that remembers how it was computed, so that gradients can flow back.

    Args:
        data: the number (int, float or numpy scalar; stored as float).
        label: an optional name shown in graphs and explanations (``"w1"``).

    Raises:
        TypeError: ``data`` is not a real number (bool, str, None, complex, list ...).

    Operators ``+ - * / **`` and unary ``-`` accept Values and numbers on either side.
    ``<``, ``<=``, ``>``, ``>=`` compare ``data`` and return a bool (they are not
    graph nodes); ``==`` is identity, so Values can be dict keys and set members.
    """

    # Parents live in two slots (``_a``, and ``_b`` for a second Value operand)
    # rather than in a tuple: one object per node instead of two halves both the
    # memory and the work of Python's cyclic garbage collector on big graphs.
    __slots__ = ("data", "grad", "_label", "_kind", "_a", "_b", "_arg")

    data: float
    grad: float
    _label: str
    _kind: Kind | None
    _a: Value | None
    _b: Value | None
    _arg: float | None

    def __init__(self, data: float, label: str = "") -> None:
        self.data = _as_float(data, "Value data")
        self.grad = 0.0
        self._label = _plain_label(label)
        self._kind = None
        self._a = self._b = None
        self._arg = None

    # -- arithmetic, generated from the operation table ------------------------------------
    __add__ = _binary("__add__")
    __radd__ = _binary("__radd__")
    __sub__ = _binary("__sub__")
    __rsub__ = _binary("__rsub__")
    __mul__ = _binary("__mul__")
    __rmul__ = _binary("__rmul__")
    __truediv__ = _binary("__truediv__")
    __rtruediv__ = _binary("__rtruediv__")
    __pow__ = _binary("__pow__")
    __rpow__ = _binary("__rpow__")
    __neg__ = _unary("__neg__")
    __abs__ = _unary("__abs__")
    abs = _unary("abs")
    exp = _unary("exp")
    log = _unary("log")
    tanh = _unary("tanh")
    sigmoid = _unary("sigmoid")
    relu = _unary("relu")
    sqrt = _unary("sqrt")
    sin = _unary("sin")
    cos = _unary("cos")

    # -- the graph --------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """The name shown in graphs and explanations (``""`` for none); always a plain ``str``.

        A ``str`` subclass is stored as the plain string it holds, so that its own
        ``__repr__``/``__str__``/``__format__`` never run when the label is written
        into generated code, LaTeX, DOT or a terminal.
        """
        return self._label

    @label.setter
    def label(self, label: str) -> None:
        self._label = _plain_label(label)

    @property
    def op(self) -> Op | None:
        """The operation that produced this Value, or None for a leaf."""
        return self._kind.op if self._kind is not None else None

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in operand order (empty for a leaf)."""
        a, b = self._a, self._b
        if a is None:
            return ()
        return (a,) if b is None else (a, b)

    # The tuple spelling of ``parents`` that code inside the package may use.
    _prev = parents

    @property
    def operands(self) -> tuple[Value | float, ...]:
        """The inputs of ``op`` in order: parent Values, and numbers where a constant was used."""
        kind = self._kind
        if kind is None:
            return ()
        if kind.const is None:
            return self.parents
        assert self._a is not None and self._arg is not None
        return (self._a, self._arg) if kind.const == 1 else (self._arg, self._a)

    @property
    def is_leaf(self) -> bool:
        """True when no operation produced this Value (an input, parameter or constant)."""
        return self._kind is None

    def detach(self) -> Value:
        """Return a new leaf with the same data and label, cut off from the graph."""
        return Value(self.data, self.label)

    def backward(self, gradient: float = 1.0) -> None:
        """Compute d self / d v for every Value v in the graph, by the chain rule.

        Seeds ``self.grad`` with ``gradient`` (1 by default), visits the graph in
        reverse topological order (iteratively, so depth is not limited by Python's
        recursion limit) and adds each node's contribution to its parents' ``grad``.
        Leaf gradients accumulate over calls, as in PyTorch: call ``zero_grad()``
        (or set ``grad = 0``) between steps. Interior nodes hold the gradient of the
        latest call.

        Returns:
            None; the results are in the ``grad`` attributes.
        """
        gradient = _as_float(gradient, "backward gradient")
        topo = topological_order(self)
        for v in topo:
            if v._kind is not None:
                v.grad = 0.0
        self.grad += gradient
        for v in reversed(topo):
            kind = v._kind
            if kind is not None:
                kind.vjp(v)

    # -- conveniences -------------------------------------------------------------------------
    def __float__(self) -> float:
        return self.data

    def __lt__(self, other: Operand) -> bool:
        c = _data(other)
        return c if c is NotImplemented else self.data < c

    def __le__(self, other: Operand) -> bool:
        c = _data(other)
        return c if c is NotImplemented else self.data <= c

    def __gt__(self, other: Operand) -> bool:
        c = _data(other)
        return c if c is NotImplemented else self.data > c

    def __ge__(self, other: Operand) -> bool:
        c = _data(other)
        return c if c is NotImplemented else self.data >= c

    # -- pickling and copying ---------------------------------------------------------------
    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        """Return how to pickle this Value: its fields, its kind by name, its parents by reference.

        A node pickled on its own (not as a parent) first has every Value it depends
        on pickled, in topological order; each of them then finds its parents already
        written and refers to them. So pickling needs no deeper recursion for a graph
        of any depth, and nodes shared in the graph, or pickled alongside it, come
        back shared.
        """
        state = self.__getstate__()
        ordered = _pickling.ordered
        if self._a is None or ordered.get(id(self)) is self:
            return _empty_value, (type(self),), state
        ancestors = topological_order(self)[:-1]
        ids = [id(v) for v in ancestors]
        ordered.update(zip(ids, ancestors))
        return _after_ancestors, (type(self), ancestors, _Unmark(ids)), state

    def __getstate__(self) -> tuple[Any, ...]:
        state: tuple[Any, ...] = (self.data, self.grad, self._label, self._kind, self._a, self._b, self._arg)
        if hasattr(self, "__dict__"):  # a subclass's own attributes
            state += (self.__dict__,)
        return state

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.data, self.grad, label, self._kind, self._a, self._b, self._arg = state[:7]
        self._label = _plain_label(label)
        if len(state) > 7:
            self.__dict__.update(state[7])

    def __copy__(self) -> Value:
        """Return a new Value with the same fields, sharing this one's parents."""
        new = _new(type(self))
        new.__setstate__(self.__getstate__())  # a subclass's __dict__ is copied entry by entry
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """Return a copy of this Value's whole graph (iteratively: any depth works).

        Nodes are copied in topological order, each parent before its consumers, and
        ``memo`` maps every original to its copy, so shared nodes stay shared and
        Values copied together (``deepcopy([loss, w])``) keep referring to one graph.
        """
        keep = memo.setdefault(id(memo), [])  # originals must outlive memo's ids, as copy does
        new: Value | None = None
        for v in topological_order(self):
            new = memo.get(id(v))
            if new is not None:
                continue
            cls = type(v)
            new = _new(cls)
            new.data = v.data
            new.grad = v.grad
            new._label = v._label
            new._kind = v._kind  # a Kind is shared, never copied
            new._a = None if v._a is None else memo[id(v._a)]
            new._b = None if v._b is None else memo[id(v._b)]
            new._arg = v._arg
            if cls is not Value and hasattr(v, "__dict__"):  # a subclass's own attributes
                new.__dict__.update(copy.deepcopy(v.__dict__, memo))
            memo[id(v)] = new
            keep.append(v)
        assert new is not None
        return new

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """Show the Value's computation graph as SVG in Jupyter."""
        from . import _display_hooks  # the picture is registered by the render layer, above

        return _display_hooks.mimebundle(self, include, exclude)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self._kind.op.symbol!r}" if self._kind is not None else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label}{op})"


class _Pickling(threading.local):
    def __init__(self) -> None:
        # the nodes being pickled after their ancestors (their parents come earlier), by id;
        # kept with the node itself, so that an entry a failed pickle left behind can never
        # be taken for another Value that gets the same id later
        self.ordered: dict[int, Value] = {}


_pickling = _Pickling()


class _Unmark:
    """Pickled right after the ancestors of a node: ends their special treatment."""

    __slots__ = ("ids",)

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def __reduce__(self) -> tuple[Callable[[], None], tuple[()]]:
        ordered = _pickling.ordered
        for i in self.ids:
            ordered.pop(i, None)
        return _nothing, ()


def _nothing() -> None:
    return None


def _empty_value(cls: type[Value]) -> Value:
    """Return a Value whose fields its pickled state will fill in."""
    return _new(cls)


def _after_ancestors(cls: type[Value], ancestors: list[Value], unmark: None) -> Value:
    """Return a Value to fill in; ``ancestors`` were only in the pickle to come before it."""
    return _new(cls)


def _data(other: object) -> float:
    return other.data if isinstance(other, Value) else _operand(other, "comparison operand")


def _plain_label(label: object) -> str:
    """Return ``label`` as a plain ``str``, without running any code of a ``str`` subclass.

    Raises:
        TypeError: ``label`` is not a str.
    """
    if type(label) is str:
        return label
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}: {_numeric.short_repr(label)}")
    return str.__str__(label)  # str's own method: an exact copy of the characters


def topological_order(root: Value) -> list[Value]:
    """Return every Value that ``root`` depends on, inputs first and ``root`` last.

    Iterative depth-first search, so a chain of millions of nodes needs no
    recursion, in time linear in the number of nodes. When a node is first
    taken off the stack it goes back on with a ``None`` above it, then its
    unseen parents; by the time that ``None`` comes off, all of the node's
    parents are in the order, so the node follows them.
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}: {root!r}")
    order: list[Value] = []
    _extend_order(root, set(), order)
    return order


def _extend_order(root: Value, seen: set[Value], order: list[Value]) -> None:
    """Append to ``order`` every Value ``root`` depends on that is not in ``seen``, inputs
    first (the search of :func:`topological_order`), and add each to ``seen``.

    Returns:
        None: ``order`` and ``seen`` are extended in place, so that the compiler can order
        several outputs in one pass with exactly the eager engine's order for the first.
    """
    stack: list[Value | None] = [root]
    push, pop, mark, append = stack.append, stack.pop, seen.add, order.append
    while stack:
        v = pop()
        if v is None:
            append(pop())  # type: ignore[arg-type]  # below a None there is always a node
            continue
        if v in seen:
            continue
        mark(v)
        push(v)
        push(None)
        a = v._a
        if a is not None:
            if a not in seen:
                push(a)
            b = v._b
            if b is not None and b not in seen:
                push(b)


_NAMESPACE["Value"] = Value
del _op, _const, _k

