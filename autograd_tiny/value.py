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

import numbers
import types
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Union

from . import _numeric, codegen
from .ops import OPS, Op

#: What the arithmetic operators accept on the other side of a Value.
Operand = Union["Value", float, int]

_grad_enabled = True


@contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = enabled
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad() -> AbstractContextManager[None]:
    """Return a context manager inside which operations record no graph (results are leaves).

    Use it for parameter updates and evaluation, like ``torch.no_grad()``; it also
    works as a decorator.
    """
    return _grad_mode(False)


def enable_grad() -> AbstractContextManager[None]:
    """Return a context manager that records the graph again, even inside :func:`no_grad`.

    Like ``torch.enable_grad()``: for code that needs a graph whatever its caller chose.
    """
    return _grad_mode(True)


def is_grad_enabled() -> bool:
    """Return True unless called inside :func:`no_grad` (and not inside :func:`enable_grad` within it)."""
    return _grad_enabled


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
    if reflected:  # number OP self
        fwd = codegen.substitute(op.forward, {"x": "c", "y": "self.data"})
        return (f"def {method}(self, other):\n"
                f"    c = other if type(other) is float else "
                f"_as_float(other, 'left operand of {op.symbol}')\n"
                f"    return _node({fwd}, _K_{op.name}_cv, self, None, c)")
    both = codegen.substitute(op.forward, {"x": "self.data", "y": "other.data"})
    right = codegen.substitute(op.forward, {"x": "self.data", "y": "c"})
    return (f"def {method}(self, other):\n"
            f"    if isinstance(other, Value):\n"
            f"        return _node({both}, _K_{op.name}, self, other, None)\n"
            f"    c = other if type(other) is float else _as_float(other, 'right operand of {op.symbol}')\n"
            f"    return _node({right}, _K_{op.name}_vc, self, None, c)")


#: Method names of the binary operators, plain and reflected.
_DUNDERS = {
    "add": ("__add__", "__radd__"),
    "sub": ("__sub__", "__rsub__"),
    "mul": ("__mul__", "__rmul__"),
    "div": ("__truediv__", "__rtruediv__"),
    "pow": ("__pow__", "__rpow__"),
    "neg": ("__neg__",),
    "abs": ("__abs__",),
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
    namespace.update(_node=_node, _as_float=_as_float)
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
    v.label = ""
    if _grad_enabled:
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
    __slots__ = ("data", "grad", "label", "_kind", "_a", "_b", "_arg")

    data: float
    grad: float
    label: str
    _kind: Kind | None
    _a: Value | None
    _b: Value | None
    _arg: float | None

    def __init__(self, data: float, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}: {label!r}")
        self.data = _as_float(data, "Value data")
        self.grad = 0.0
        self.label = label
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
        return self.data < _data(other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _data(other)

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """Show the Value's computation graph as SVG in Jupyter."""
        from .render import draw_graph  # rendering is optional; import it only when shown

        bundle: dict[str, str] = draw_graph(self)._repr_mimebundle_(include, exclude)
        return bundle

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self._kind.op.symbol!r}" if self._kind is not None else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label}{op})"


def _data(other: object) -> float:
    return other.data if isinstance(other, Value) else _as_float(other, "comparison operand")


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
    seen: set[Value] = set()
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
    return order


_NAMESPACE["Value"] = Value
del _op, _const, _k

