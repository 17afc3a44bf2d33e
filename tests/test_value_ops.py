"""Every primitive of the table against PyTorch float64 and against central finite differences.

Each op is checked in every form the engine builds: both operands Values, ``Value op number`` and
``number op Value`` (a constant folded into the node), at ordinary points of its domain.
Special points (overflow, zero, infinities, nan) are in test_numerics.py.
"""

from __future__ import annotations

import itertools
import math

import pytest

from autograd_tiny import Value, gradcheck
from autograd_tiny.ops import OPS

# Ordinary points of each op's domain (away from kinks and singularities).
UNARY_POINTS = {
    "neg": [-1.7, 0.3, 2.5],
    "abs": [-1.7, 0.3, 2.5],
    "exp": [-3.0, -0.4, 0.0, 1.2, 20.0],
    "log": [1e-3, 0.4, 1.0, 7.5, 1e6],
    "tanh": [-2.0, -0.3, 0.0, 0.8, 5.0],
    "sigmoid": [-6.0, -0.3, 0.0, 0.8, 12.0],
    "relu": [-1.5, -0.2, 0.7, 3.0],
    "sqrt": [1e-4, 0.5, 2.0, 1e4],
    "sin": [-2.0, -0.3, 0.0, 1.1, 10.0],
    "cos": [-2.0, -0.3, 0.4, 1.1, 10.0],
}
BINARY_POINTS = {
    "add": list(itertools.product([-1.7, 0.0, 2.5], [-0.6, 3.0])),
    "sub": list(itertools.product([-1.7, 0.0, 2.5], [-0.6, 3.0])),
    "mul": list(itertools.product([-1.7, 0.0, 2.5], [-0.6, 3.0])),
    "div": list(itertools.product([-1.7, 0.0, 2.5], [-0.6, 3.0])),
    # positive base with any exponent, and negative base with integer exponents
    "pow": [(0.5, -1.5), (1.3, 0.7), (2.0, 3.0), (4.0, -0.5), (-1.5, 2.0), (-2.0, 3.0), (-0.7, -1.0)],
}


def test_every_table_op_is_covered() -> None:
    assert set(UNARY_POINTS) | set(BINARY_POINTS) == set(OPS)
    for name in UNARY_POINTS:
        assert OPS[name].arity == 1
    for name in BINARY_POINTS:
        assert OPS[name].arity == 2


@pytest.mark.parametrize("name", sorted(UNARY_POINTS))
def test_unary_op_matches_torch(name, op_functions, agree) -> None:
    torch = pytest.importorskip("torch")
    f = op_functions[name]
    for x in UNARY_POINTS[name]:
        v = Value(x)
        out = f(v)
        out.backward()
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        tout = f(t)
        tout.backward()
        assert agree(out.data, tout.item()), (name, x, out.data, tout.item())
        assert agree(v.grad, t.grad.item(), abs_=1e-300), (name, x, v.grad, t.grad.item())


@pytest.mark.parametrize("name", sorted(BINARY_POINTS))
@pytest.mark.parametrize("form", ["value-value", "value-number", "number-value"])
def test_binary_op_matches_torch(name, form, op_functions, agree) -> None:
    torch = pytest.importorskip("torch")
    f = op_functions[name]
    for x, y in BINARY_POINTS[name]:
        vx, vy = Value(x), Value(y)
        tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        ty = torch.tensor(y, dtype=torch.float64, requires_grad=True)
        if form == "value-value":
            out, tout = f(vx, vy), f(tx, ty)
        elif form == "value-number":
            out, tout = f(vx, y), f(tx, y)
        else:
            out, tout = f(x, vy), f(x, ty)
        assert len(out.parents) == (2 if form == "value-value" else 1)
        out.backward()
        tout.backward()
        assert agree(out.data, tout.item()), (name, form, x, y)
        if form != "number-value":
            assert agree(vx.grad, tx.grad.item(), abs_=1e-300), (name, form, x, y, vx.grad, tx.grad)
        if form != "value-number":
            assert agree(vy.grad, ty.grad.item(), abs_=1e-300), (name, form, x, y, vy.grad, ty.grad)


def _central_difference(f, point: list[float], i: int) -> float:
    h = 1e-6 * max(abs(point[i]), 1e-2)  # a step relative to the point, for 1e-4 and 1e6 alike
    up, down = list(point), list(point)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_gradient_matches_central_differences(name, op_functions) -> None:
    f = op_functions[name]
    points = [(x,) for x in UNARY_POINTS[name]] if name in UNARY_POINTS else BINARY_POINTS[name]
    for point in points:
        leaves = [Value(p) for p in point]
        f(*leaves).backward()

        def on_floats(*xs: float) -> float:
            return f(*[Value(x) for x in xs]).data

        for i, leaf in enumerate(leaves):
            if name == "pow" and i == 1 and point[0] < 0:
                # a negative base gives a real power only at integer y: no d/dy (PyTorch: nan too)
                assert math.isnan(leaf.grad)
                continue
            numeric = _central_difference(on_floats, list(point), i)
            # truncation ~h**2 * f''' / 6, rounding ~1e-16 * |f| / h
            tol = 1e-7 + 1e-6 * abs(numeric) + 1e-9 * abs(on_floats(*point))
            assert abs(leaf.grad - numeric) <= tol, (name, point, i, leaf.grad, numeric)


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_passes_for_every_op(name, op_functions) -> None:
    f = op_functions[name]
    point = (UNARY_POINTS[name][1],) if name in UNARY_POINTS else BINARY_POINTS[name][1]
    result = gradcheck(f, list(point))
    assert result.ok, (name, result)
    assert result.worst < 1e-6


def test_reused_operand_gets_both_contributions(agree) -> None:
    # d(x * x)/dx = 2x, d(x / x)/dx = 0, d(x ** x)/dx = x**x (log x + 1)
    x = 1.7
    for expr, expected in [(lambda a: a * a, 2 * x), (lambda a: a / a, 0.0),
                           (lambda a: a ** a, x ** x * (math.log(x) + 1)),
                           (lambda a: a - a, 0.0), (lambda a: a + a, 2.0)]:
        v = Value(x)
        expr(v).backward()
        assert agree(v.grad, expected, abs_=1e-15), (v.grad, expected)
