"""``Value`` with micrograd 0.1.0's behaviour, built on autograd_tiny's engine.

:class:`Value` here is an :class:`autograd_tiny.Value` (every node is made by the
core engine, and every backward rule comes from the operation table in
:mod:`autograd_tiny.ops`); what it adds is micrograd's view of the graph and
micrograd's choices where the two engines differ:

* a number on either side of an operator becomes a leaf ``Value`` of its own, as in
  micrograd (``x * 2`` has two parents, ``x`` and ``Value(2)``);
* ``-x`` is ``x * -1``, ``x - y`` is ``x + (-y)`` and ``x / y`` is ``x * y**-1``,
  so the graph has micrograd's nodes, the forward pass gives micrograd's numbers to
  the bit, and gradients too up to the order in which a node's contributions are
  added (micrograd's follows Python's set iteration, which varies between runs);
* ``_prev`` is the set of a node's parents and ``_op`` micrograd's name of the
  operation that made it (``'+'``, ``'*'``, ``'**2'``, ``'ReLU'``; ``''`` for a leaf);
* ``grad`` starts as ``0`` and ``backward()`` sets the output's ``grad`` to ``1``
  and adds into every other node's ``grad`` (micrograd resets nothing: call
  ``zero_grad()`` between steps);
* ``repr`` reads ``Value(data=-4.0, grad=0)``.

Beyond micrograd 0.1.0, ``exp``, ``log``, ``tanh``, ``sigmoid``, ``sqrt``, ``sin``,
``cos`` and ``abs`` work too (``_op`` is the operation's name, e.g. ``'tanh'``), and a
``label`` can be given, as in the version of micrograd built in Karpathy's lecture.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable

from .. import value as _core
from .._numeric import short_repr

__all__ = ["Value"]

#: micrograd's names for the operations whose name in the table differs.
_MICROGRAD_OP = {"add": "+", "mul": "*", "relu": "ReLU"}

_HAND_MADE = (
    "micrograd-style hand-made nodes (Value(data, _children, _op) with a _backward closure) are "
    "not supported: every node's derivative comes from autograd_tiny's operation table. Build the "
    "expression from Value operations instead (+ - * / **, relu, exp, log, tanh, sigmoid, sqrt, "
    "sin, cos, abs)"
)


def _adopt(out: _core.Value) -> Value:
    """Return the node ``out`` (just made by the core engine) as a micrograd :class:`Value`.

    The class has the core's memory layout (no slots of its own), so this only
    relabels the object; ``grad`` starts at ``0`` as in micrograd.
    """
    out.__class__ = Value
    out.grad = 0
    return out  # type: ignore[return-value]  # its class is Value now


class Value(_core.Value):
    """A scalar and its gradient, with micrograd 0.1.0's interface and numbers.

    Args:
        data: the number (int, float or numpy scalar; ints are kept as ints, other
            numbers are stored as floats).
        _children, _op: accepted for micrograd's signature; must be left empty, since
            nodes are made by operations only.
        label: an optional name shown in graphs (``"w1"``).

    Raises:
        TypeError: ``data`` is not a real number, or ``_children`` / ``_op`` is given.
    """

    __slots__ = ()

    def __init__(self, data: float, _children: Iterable[Value] = (), _op: str = "",
                 label: str = "") -> None:
        if _children or _op:
            raise TypeError(f"{_HAND_MADE}; got _children={short_repr(_children)}, _op={_op!r}")
        super().__init__(data, label)
        if type(data) is int:
            self.data = data  # micrograd keeps an int as given: Value(0) shows data=0
        self.grad = 0

    # -- micrograd's graph -----------------------------------------------------------------------
    @property
    def _prev(self) -> set[_core.Value]:  # type: ignore[override]
        """The set of Values this one was computed from (empty for a leaf), as in micrograd."""
        return set(self.parents)

    @property
    def _op(self) -> str:
        """micrograd's name of the operation that made this Value: ``'+'``, ``'*'``,
        ``'**2'``, ``'ReLU'`` (or the table's name, e.g. ``'tanh'``); ``''`` for a leaf."""
        kind = self._kind
        if kind is None:
            return ""
        if kind.const is not None:  # a power with a number exponent, the only constant kind made here
            return f"{kind.op.symbol}{self._arg}"
        return _MICROGRAD_OP.get(kind.op.name, kind.op.symbol)

    @property
    def _backward(self) -> Callable[[], None]:
        """A function that adds this node's ``grad`` times its local derivatives into its
        parents' ``grad`` (the rule comes from the operation table); does nothing for a leaf."""
        kind = self._kind
        if kind is None:
            return _nothing
        vjp = kind.vjp
        return lambda: vjp(self)

    @_backward.setter
    def _backward(self, fn: object) -> None:
        raise TypeError(f"{_HAND_MADE}; got an assignment to _backward")

    def backward(self, gradient: float = 1) -> None:
        """Compute the gradient of this Value with respect to every Value it depends on.

        As in micrograd: sets this Value's ``grad`` to 1 (or ``gradient``), then walks
        the graph from here back to the leaves and adds each node's contribution into
        its parents' ``grad``. Nothing is reset, so call ``zero_grad()`` (or set
        ``grad = 0``) before calling it again.

        Returns:
            None; the results are in the ``grad`` attributes.
        """
        # micrograd's default 1 stays an int; any other number enters as a plain float
        seed = gradient if type(gradient) is int else _core._as_float(gradient, "backward's gradient")
        order = _core.topological_order(self)
        self.grad = seed
        for v in reversed(order):
            kind = v._kind
            if kind is not None:
                kind.vjp(v)

    # -- arithmetic: micrograd's operations, each node made by the core engine ----------------------
    # (a number wrapped as a leaf and the node adopted inline in the two hottest methods: a third
    # less time than calls)
    def __add__(self, other: _core.Operand) -> Value:
        out = _core_add(self, other if isinstance(other, _CoreValue) else Value(other))
        out.__class__ = Value
        out.grad = 0
        return out  # type: ignore[return-value]  # its class is Value now

    def __mul__(self, other: _core.Operand) -> Value:
        out = _core_mul(self, other if isinstance(other, _CoreValue) else Value(other))
        out.__class__ = Value
        out.grad = 0
        return out  # type: ignore[return-value]  # its class is Value now

    def __pow__(self, other: _core.Operand) -> Value:
        if isinstance(other, (_core.Value, bool)) or not isinstance(other, numbers.Real):
            raise TypeError(
                "micrograd's Value takes an int or float exponent, got "
                f"{type(other).__name__}: {short_repr(other)}; for a Value exponent use "
                "autograd_tiny.Value"
            )
        out = _adopt(_core_pow(self, other))  # checks the exponent; the node holds it as a float
        if out._kind is not None and isinstance(other, numbers.Integral):
            # A whole-number type stays a plain int, so that _op reads '**2' for x**2 and '**2.0'
            # for x**2.0 as in micrograd (int and float exponents give the same bits). Anything
            # else (numpy scalars, Fraction, float subclasses) is the plain float the core made:
            # the object given never reaches compile(), draw_graph() or the formulas.
            out._arg = int(other)
        return out

    def relu(self) -> Value:
        """Return max(self, 0), micrograd's ``'ReLU'`` node; its derivative at 0 is 0."""
        return _adopt(_core_relu(self))

    def __neg__(self) -> Value:  # micrograd: self * -1
        return self * -1

    def __radd__(self, other: _core.Operand) -> Value:  # other + self
        return self + other

    def __sub__(self, other: _core.Operand) -> Value:  # self + (-other)
        return self + (-other)

    def __rsub__(self, other: _core.Operand) -> Value:  # other + (-self)
        return other + (-self)

    def __rmul__(self, other: _core.Operand) -> Value:  # other * self
        return self * other

    def __truediv__(self, other: _core.Operand) -> Value:  # self * other**-1
        return self * other**-1

    def __rtruediv__(self, other: _core.Operand) -> Value:  # other * self**-1
        return other * self**-1

    def __rpow__(self, other: object) -> Value:
        return NotImplemented  # as in micrograd: a Value cannot be an exponent

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"


def _nothing() -> None:
    return None


_CoreValue = _core.Value
_core_add = _core.Value.__add__
_core_mul = _core.Value.__mul__
_core_pow = _core.Value.__pow__
_core_relu = _core.Value.relu


def _unary(name: str) -> Callable[[Value], Value]:
    core = getattr(_core.Value, name)

    def method(self: Value) -> Value:
        return _adopt(core(self))

    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = core.__doc__
    return method


# The table's other operations, returning this Value (not micrograd 0.1.0's, but the lecture's).
for _name in ("exp", "log", "tanh", "sigmoid", "sqrt", "sin", "cos", "__abs__"):
    setattr(Value, _name, _unary(_name))
del _name
