"""Numerical soundness: overflow, zero, infinities and nan give what PyTorch float64 gives.

Values AND gradients are compared with torch at special points (nan == nan counts as agreement),
and no point may raise (no OverflowError, ZeroDivisionError or math domain error).

Deliberate difference, decided in the table (autograd_tiny/ops.py, pow): d(x ** y)/dy at x = 0 is
0 for every y. PyTorch gives 0 for y >= 0 too, but -inf (or +inf for x = -0.0 and odd y) for y < 0
and nan for y = nan. Along x = 0 the power is constant in y (0, or inf for y < 0), so 0 is the
derivative there; the forward value (inf or nan) already shows the trouble.
"""

from __future__ import annotations

import itertools
import math

import pytest

from autograd_tiny import Value
from autograd_tiny.ops import OPS

INF, NAN = math.inf, math.nan
SPECIAL = [-INF, -1e308, -1000.0, -710.0, -2.0, -1.0, -0.5, -1e-310, -0.0, 0.0, 1e-310, 0.5, 1.0, 2.0,
           3.0, 710.0, 1000.0, 1e308, INF, NAN]
SPECIAL_PAIRS = list(itertools.product(
    [-INF, -1e300, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 1e300, INF, NAN],
    [-INF, -1e300, -3.0, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 3.0, 1e300, INF, NAN],
))


def _is_documented_div_difference(x: float, y: float) -> bool:
    """d(x / y)/dy with x infinite and y ** 2 out of range: we give ±inf, torch nan.

    Our rule is -out / y; torch computes -x / y ** 2, and inf / inf = nan when y ** 2
    overflows (-inf / 1e300 is -inf mathematically, and that is what -out / y gives).
    """
    return math.isinf(x) and math.isfinite(y) and abs(y) > 1e154


def _is_documented_pow_difference(x: float, y: float) -> bool:
    """d(x ** y)/dy at x = 0 with y < 0 or y = nan: we give 0 (see the module docstring)."""
    return x == 0.0 and (y < 0 or math.isnan(y))


def _torch_value_and_grads(torch, f, args):
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    out = f(*ts)
    out.backward()
    return out.item(), [t.grad.item() for t in ts]


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.arity == 1))
def test_unary_ops_at_special_points_match_torch(name, op_functions, agree) -> None:
    torch = pytest.importorskip("torch")
    f = op_functions[name]
    for x in SPECIAL:
        v = Value(x)
        out = f(v)
        out.backward()
        t_out, (t_grad,) = _torch_value_and_grads(torch, f, [x])
        # abs 1e-300: sigmoid(-710) is the subnormal 4.5e-309 here, 1 / (1 + inf) = 0 in torch
        assert agree(out.data, t_out, abs_=1e-300), (name, x, out.data, t_out)
        assert agree(v.grad, t_grad, abs_=1e-300), (name, x, v.grad, t_grad)


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.arity == 2))
def test_binary_ops_at_special_points_match_torch(name, op_functions, agree) -> None:
    torch = pytest.importorskip("torch")
    f = op_functions[name]
    for x, y in SPECIAL_PAIRS:
        a, b = Value(x), Value(y)
        out = f(a, b)
        out.backward()
        t_out, (t_ga, t_gb) = _torch_value_and_grads(torch, f, [x, y])
        assert agree(out.data, t_out, abs_=1e-300), (name, x, y, out.data, t_out)
        assert agree(a.grad, t_ga, abs_=1e-300), (name, x, y, "d/dx", a.grad, t_ga)
        if name == "pow" and _is_documented_pow_difference(x, y):
            assert b.grad == 0.0
            continue
        if name == "div" and _is_documented_div_difference(x, y):
            assert b.grad == -x  # -x / y ** 2 with x infinite and y ** 2 > 0
            continue
        assert agree(b.grad, t_gb, rel=1e-12, abs_=1e-300), (name, x, y, "d/dy", b.grad, t_gb)


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.arity == 2))
def test_constant_operand_forms_at_special_points_match_torch(name, op_functions, agree) -> None:
    # The constant is a 0-d tensor on the torch side: with a Python number as exponent torch
    # takes shortcuts (t ** -0.5 is rsqrt(t), nan at -inf) where C's pow, and we, give 0.
    torch = pytest.importorskip("torch")
    f = op_functions[name]
    for x, y in SPECIAL_PAIRS:
        a = Value(x)
        out = f(a, y)  # Value op number
        out.backward()
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        t_out = f(t, torch.tensor(y, dtype=torch.float64))
        t_out.backward()
        assert agree(out.data, t_out.item()), (name, x, y)
        assert agree(a.grad, t.grad.item(), abs_=1e-300), (name, x, y, a.grad, t.grad.item())

        b = Value(y)
        out = f(x, b)  # number op Value
        out.backward()
        t = torch.tensor(y, dtype=torch.float64, requires_grad=True)
        t_out = f(torch.tensor(x, dtype=torch.float64), t)
        t_out.backward()
        assert agree(out.data, t_out.item()), (name, x, y)
        if name == "pow" and _is_documented_pow_difference(x, y):
            assert b.grad == 0.0
            continue
        if name == "div" and _is_documented_div_difference(x, y):
            assert b.grad == -x  # -x / y ** 2 with x infinite and y ** 2 > 0
            continue
        assert agree(b.grad, t.grad.item(), abs_=1e-300), (name, x, y, b.grad, t.grad.item())


# The figures the specification names, written out (these hold with or without torch).
@pytest.mark.parametrize("make, value, grad", [
    (lambda v: v.sigmoid(), 0.0, 0.0),  # at -1000: e**-1000 underflows; out (1 - out) = 0
    (lambda v: v.tanh(), -1.0, 0.0),
    (lambda v: v.exp(), 0.0, 0.0),
])
def test_saturation_at_minus_1000(make, value, grad) -> None:
    v = Value(-1000.0)
    out = make(v)
    out.backward()
    assert out.data == value and v.grad == grad


@pytest.mark.parametrize("make, value, grad", [
    (lambda v: v.sigmoid(), 1.0, 0.0),
    (lambda v: v.tanh(), 1.0, 0.0),
    (lambda v: v.exp(), INF, INF),  # math.exp(1000) raises OverflowError; we give inf like torch
])
def test_saturation_at_plus_1000(make, value, grad) -> None:
    v = Value(1000.0)
    out = make(v)
    out.backward()
    assert out.data == value and v.grad == grad


def test_sigmoid_keeps_tiny_values_instead_of_rounding_to_zero() -> None:
    # sigmoid(-700) = e**-700 / (1 + e**-700) ~= 9.86e-305; 1 / (1 + e**700) would too, but
    # sigmoid(-745) must stay a subnormal (~5e-324) rather than raise in exp(745).
    assert Value(-700.0).sigmoid().data == pytest.approx(math.exp(-700.0), rel=1e-15)
    assert Value(-745.0).sigmoid().data > 0.0


def test_ieee_division_and_logarithm() -> None:
    assert (Value(1.0) / 0.0).data == INF
    assert (Value(-1.0) / 0.0).data == -INF
    assert (Value(1.0) / -0.0).data == -INF
    assert math.isnan((Value(0.0) / 0.0).data)
    assert (1.0 / Value(0.0)).data == INF
    assert Value(0.0).log().data == -INF
    assert math.isnan(Value(-1.0).log().data)
    assert math.isnan(Value(-1.0).sqrt().data)
    assert (Value(0.0) ** -1).data == INF
    assert (Value(-0.0) ** -1).data == -INF
    assert (Value(10.0) ** 400).data == INF
    assert (Value(-10.0) ** 401).data == -INF
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)  # Python would give a complex number
    assert math.isnan(Value(INF).sin().data) and math.isnan(Value(-INF).cos().data)


def test_gradients_at_zero_of_log_and_division() -> None:
    x = Value(0.0)
    x.log().backward()
    assert x.grad == INF  # 1 / x at 0
    y = Value(0.0)
    (Value(1.0) / y).backward()
    assert y.grad == -INF  # -out / y = -inf / 0


def test_pow_decisions_at_zero() -> None:
    # d(x ** 0)/dx = 0 everywhere, x = 0 included (the general rule would give 0 * 0 ** -1 = nan)
    x = Value(0.0)
    (x ** 0).backward()
    assert x.grad == 0.0
    # d(x ** y)/dy at x = 0 is 0 (the general rule would give 0 * log 0 = nan)
    for y0 in (0.0, 0.5, 2.0, -1.0):
        b = Value(y0)
        (0.0 ** b).backward()
        assert b.grad == 0.0, y0
    # d(x ** y)/dx at x = 0: y x ** (y - 1) gives 1 for y = 1, 0 for y = 2, inf for y = 1/2
    for y0, expected in [(1.0, 1.0), (2.0, 0.0), (0.5, INF)]:
        a = Value(0.0)
        (a ** y0).backward()
        assert a.grad == expected, y0


def test_relu_and_abs_at_their_kinks_and_at_nan() -> None:
    for make, at_zero in [(lambda v: v.relu(), 0.0), (lambda v: abs(v), 0.0)]:
        v = Value(0.0)
        make(v).backward()
        assert v.grad == at_zero  # subgradient 0 at the kink, like PyTorch
    assert math.isnan(Value(NAN).relu().data), "relu must not hide a nan"
    assert math.copysign(1.0, abs(Value(-0.0)).data) == 1.0


def test_no_special_point_raises_in_any_form(op_functions) -> None:
    """Every op, forward and backward, on every pair of special points: IEEE results, no exception."""
    for name, op in OPS.items():
        f = op_functions[name]
        if op.arity == 1:
            for x in SPECIAL:
                v = Value(x)
                f(v).backward()
            continue
        for x, y in itertools.product(SPECIAL, SPECIAL):
            for left, right in [(Value(x), Value(y)), (Value(x), y), (x, Value(y))]:
                f(left, right).backward()


def test_nan_propagates_through_a_graph() -> None:
    x = Value(NAN)
    w = Value(2.0)
    out = ((x * w).tanh() + 1).sigmoid()
    out.backward()
    assert math.isnan(out.data) and math.isnan(w.grad)
