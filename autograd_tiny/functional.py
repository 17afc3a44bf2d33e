"""The functional API: :func:`grad` (like ``torch.autograd.grad``) and :func:`gradcheck`.

:func:`grad` evaluates the table's derivative expressions through small
functions generated from :mod:`autograd_tiny.ops`. On floats they give numbers;
on Values (``create_graph=True``) they build a new graph, so the gradients can be
differentiated again.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from . import codegen
from .value import KINDS, Kind, Value, _as_float, is_grad_enabled, no_grad, topological_order

Number = float | Value


def _lift(name: str, float_fn: Callable[..., float]) -> Callable[..., Number]:
    """Return a function that applies the Value method ``name`` to Values and ``float_fn`` to floats."""
    def fn(*args: Number) -> Number:
        if any(isinstance(a, Value) for a in args):
            if name in ("div", "pow"):
                a, b = args
                return a / b if name == "div" else a ** b
            (a,) = args
            return getattr(a if isinstance(a, Value) else Value(a), name)()  # type: ignore[no-any-return]
        return float_fn(*args)
    return fn


_NAMESPACE: dict[str, object] = {
    key: _lift(key[1:], fn) for key, fn in codegen.float_namespace().items()  # type: ignore[arg-type]
}


def _number(a: Number) -> float:
    """Return the float in ``a`` (a Value's data), for the conditions of table expressions."""
    return a.data if isinstance(a, Value) else a


_NAMESPACE["_number"] = _number


class _CompareNumbers(ast.NodeTransformer):
    """Make every comparison compare numbers: ``x <= 0`` becomes ``_number(x) <= 0``.

    On Values ``<`` and ``>`` compare data but ``==`` is identity, so a condition such
    as ``y == 0`` would otherwise be False for every Value.
    """

    def visit_Compare(self, node: ast.Compare) -> ast.Compare:
        def wrap(e: ast.expr) -> ast.expr:
            if isinstance(e, ast.Constant):
                return e
            return ast.Call(ast.Name("_number", ast.Load()), [self.visit(e)], [])

        return ast.Compare(wrap(node.left), node.ops, [wrap(c) for c in node.comparators])


def _numbers_compared(source: str) -> str:
    """Return generated source with every comparison comparing numbers (see :class:`_CompareNumbers`)."""
    tree = _CompareNumbers().visit(ast.parse(source, mode="eval").body)
    return ast.unparse(ast.fix_missing_locations(tree))


def _derivative_source(expr: str) -> str:
    """Return the source of a table derivative over ``x``, ``y``, ``out`` for floats or Values."""
    return _numbers_compared(codegen.substitute(expr, {"x": "x", "y": "y", "out": "out"}))


def _local_derivatives(kind: Kind) -> Callable[[Number, Number, Number], tuple[Number, ...]]:
    """Return ``f(x, y, out)`` giving d out / d operand for each parent operand of ``kind``."""
    terms = [_derivative_source(kind.op.derivatives[i]) for i in kind.variable_positions()]
    return codegen.table_function(  # type: ignore[return-value]
        "x, y, out", terms, _NAMESPACE, f"derivative of {kind.name}")


#: d out / d parent for every kind of node, evaluated on floats or on Values.
LOCAL_DERIVATIVES = {name: _local_derivatives(kind) for name, kind in KINDS.items()}


def _contributions(kind: Kind) -> Callable[[Number, Number, Number, Number], tuple[Number, ...]]:
    """Return ``f(g, x, y, out)`` giving what each parent operand of ``kind`` receives from the
    gradient ``g``: the chain rule's product as :func:`autograd_tiny.codegen.contribution` writes
    it, the same as ``backward()`` computes (a structural zero gives 0, a quotient divides)."""
    operands = {"x": "x", "y": "y", "out": "out"}
    terms = [_numbers_compared(codegen.contribution("g", kind.op.derivatives[i], operands))
             for i in kind.variable_positions()]
    return codegen.table_function(  # type: ignore[return-value]
        "g, x, y, out", terms, _NAMESPACE, f"contributions of {kind.name}")


#: g * d out / d parent for every kind of node, evaluated on floats or on Values.
CONTRIBUTIONS = {name: _contributions(kind) for name, kind in KINDS.items()}


def local_derivatives(node: Value, create_graph: bool = False) -> tuple[Number, ...]:
    """Return d node / d parent for each of ``node.parents``, in order.

    With ``create_graph`` the results are Values built from the parents (so they
    can be differentiated); otherwise floats.
    """
    kind = node._kind
    if kind is None:
        return ()
    return LOCAL_DERIVATIVES[kind.name](*_operands(node, create_graph))


def _operands(node: Value, create_graph: bool) -> tuple[Number, Number, Number]:
    """Return ``x``, ``y`` (0 for a unary op) and ``out`` of a node: Values with ``create_graph``."""
    if create_graph:
        operands: list[Number] = list(node.operands)
        out: Number = node
    else:
        operands = [o.data if isinstance(o, Value) else o for o in node.operands]
        out = node.data
    return operands[0], (operands[1] if len(operands) > 1 else 0.0), out


def grad(
    output: Value,
    inputs: Value | Sequence[Value],
    grad_output: float = 1.0,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Value, ...]:
    """Return d output / d input for each input, without touching any ``.grad``.

    Args:
        output: the Value to differentiate.
        inputs: one Value or a sequence of Values of ``output``'s graph.
        grad_output: the seed gradient (d final / d output), 1 by default.
        create_graph: build the gradients as a graph of Values, so that they can be
            differentiated again (second derivatives); otherwise they are leaves.
        allow_unused: give 0 for an input that ``output`` does not depend on,
            instead of raising ``ValueError``.

    Returns:
        A tuple with one Value per input, in order.

    Raises:
        TypeError: ``output`` or an input is not a Value, or ``grad_output`` is not a number.
        ValueError: an input is not in ``output``'s graph (unless ``allow_unused``).
    """
    if not isinstance(output, Value):
        raise TypeError(f"output must be a Value, got {type(output).__name__}: {output!r}")
    targets = [inputs] if isinstance(inputs, Value) else list(inputs)
    for i, t in enumerate(targets):
        if not isinstance(t, Value):
            raise TypeError(f"inputs[{i}] must be a Value, got {type(t).__name__}: {t!r}")
    seed_value = _as_float(grad_output, "grad_output")
    seed: Number = Value(seed_value) if create_graph else seed_value
    grads: dict[Value, Number] = {output: seed}
    for node in reversed(topological_order(output)):
        g = grads.get(node)
        if g is None or node._kind is None:
            continue
        assert node._kind is not None
        contributions = CONTRIBUTIONS[node._kind.name](g, *_operands(node, create_graph))
        for parent, contribution in zip(node.parents, contributions):
            previous = grads.get(parent)
            grads[parent] = contribution if previous is None else previous + contribution
    result: list[Value] = []
    for i, t in enumerate(targets):
        g = grads.get(t)
        if g is None:
            if not allow_unused:
                raise ValueError(
                    f"inputs[{i}] ({t!r}) is not part of the output's graph; "
                    "pass allow_unused=True to get 0 for it"
                )
            g = 0.0
        result.append(g if isinstance(g, Value) else Value(g))
    return tuple(result)


@dataclass
class GradcheckResult:
    """What :func:`gradcheck` found, one entry per input.

    Attributes:
        analytic: gradients from ``backward()``.
        numeric: central finite-difference estimates.
        relative_errors: ``|analytic - numeric| / max(|analytic|, |numeric|)`` (0 when both are 0).
        ok: True when every input is within ``atol + rtol * |numeric|``.
    """

    analytic: list[float] = field(default_factory=list)
    numeric: list[float] = field(default_factory=list)
    relative_errors: list[float] = field(default_factory=list)
    ok: bool = True

    @property
    def worst(self) -> float:
        """The largest relative error over all inputs (0 for none)."""
        return max(self.relative_errors, default=0.0)

    def __bool__(self) -> bool:
        return self.ok


def gradcheck(
    fn: Callable[..., Value],
    inputs: Sequence[float | Value],
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
) -> GradcheckResult:
    """Compare ``backward()`` gradients of ``fn(*inputs)`` with central finite differences.

    Args:
        fn: takes one Value per input and returns a Value.
        inputs: the point to check at (numbers or Values; only their data is used).
        eps: the finite-difference step; the estimate is (f(x+eps) - f(x-eps)) / (2 eps).
        atol, rtol: an input passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.

    Returns:
        A :class:`GradcheckResult` (truthy when every input passes).

    Raises:
        TypeError: an input is not a number or Value, or ``fn`` does not return a Value.
        ValueError: ``eps`` is not positive.
        RuntimeError: called inside :func:`no_grad` (there would be no graph to check).
    """
    if not isinstance(inputs, Sequence) or isinstance(inputs, str):
        raise TypeError(f"inputs must be a list of numbers or Values, got {type(inputs).__name__}")
    point = [i.data if isinstance(i, Value) else _as_float(i, f"gradcheck inputs[{n}]")
             for n, i in enumerate(inputs)]
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    if not is_grad_enabled():
        raise RuntimeError("gradcheck needs a graph to differentiate; call it outside no_grad()")

    def evaluate(xs: list[float]) -> float:
        with no_grad():  # only the number is needed here, not a graph
            out = fn(*[Value(x) for x in xs])
        if not isinstance(out, Value):
            raise TypeError(f"fn must return a Value, got {type(out).__name__}: {out!r}")
        return out.data

    leaves = [Value(x) for x in point]
    out = fn(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"fn must return a Value, got {type(out).__name__}: {out!r}")
    out.backward()
    result = GradcheckResult()
    for i, leaf in enumerate(leaves):
        up, down = list(point), list(point)
        up[i] += eps
        down[i] -= eps
        numeric = (evaluate(up) - evaluate(down)) / (2 * eps)
        analytic = leaf.grad
        scale = max(abs(analytic), abs(numeric))
        err = abs(analytic - numeric) / scale if scale > 0 else 0.0
        if math.isnan(err):
            err = math.inf
        result.analytic.append(analytic)
        result.numeric.append(numeric)
        result.relative_errors.append(err)
        if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
            result.ok = False
    return result
