"""grad() (first and higher derivatives), local_derivatives(), no_grad(), detach(), gradcheck()."""

from __future__ import annotations

import math

import pytest

from autograd_tiny import Value, enable_grad, grad, gradcheck, is_grad_enabled, no_grad, topological_order
from autograd_tiny.functional import local_derivatives
from autograd_tiny.ops import OPS
from autograd_tiny.value import KINDS

# Ordinary points where every op is twice differentiable (no kinks, positive bases).
UNARY_AT = {"neg": 0.7, "abs": -0.7, "exp": 0.4, "log": 1.7, "tanh": -0.6, "sigmoid": 0.9,
            "relu": 1.3, "sqrt": 2.2, "sin": 0.8, "cos": -1.1}
BINARY_AT = {"add": (0.7, -1.9), "sub": (0.7, -1.9), "mul": (0.7, -1.9), "div": (0.7, -1.9),
             "pow": (1.6, 2.3)}

# -- grad() ------------------------------------------------------------------------------------


def test_grad_returns_gradients_and_leaves_every_grad_untouched() -> None:
    a, b = Value(2.0), Value(-3.0)
    a.grad, b.grad = 0.25, 0.5  # left over from an earlier step
    c = a * b + a.tanh()
    ga, gb = grad(c, [a, b])
    assert ga.data == pytest.approx(-3.0 + 1 - math.tanh(2.0) ** 2, rel=1e-15)
    assert gb.data == 2.0
    assert (a.grad, b.grad) == (0.25, 0.5)
    assert all(v.grad == 0.0 for v in topological_order(c) if v not in (a, b))


def test_grad_results_are_leaves_without_create_graph() -> None:
    x = Value(3.0)
    (g,) = grad(x * x, x)  # a single Value is accepted and gives a 1-tuple
    assert g.data == 6.0 and g.is_leaf


def test_grad_output_scales_the_result() -> None:
    x = Value(3.0)
    (g,) = grad(x * x, [x], grad_output=0.5)
    assert g.data == 3.0


def test_grad_with_respect_to_an_interior_node() -> None:
    x = Value(2.0)
    h = x * 3
    y = h * h  # dy/dh = 2h = 12
    (gh,) = grad(y, [h])
    assert gh.data == 12.0


def test_grad_of_an_unused_input() -> None:
    x, unused = Value(1.0), Value(5.0)
    y = x * 2
    with pytest.raises(ValueError, match="allow_unused=True"):
        grad(y, [x, unused])
    gx, gu = grad(y, [x, unused], allow_unused=True)
    assert gx.data == 2.0 and gu.data == 0.0


def test_grad_agrees_with_backward_on_a_network_like_graph() -> None:
    w = [Value(0.1 * i - 0.3) for i in range(6)]
    x = [0.5, -1.5, 2.0]
    h = [(w[0] * x[0] + w[1] * x[1] + w[2] * x[2]).tanh(),
         (w[3] * x[0] + w[4] * x[1] + w[5] * x[2]).sigmoid()]
    loss = (h[0] - 0.2) ** 2 + (h[1] * h[0] - 0.9) ** 2
    grads = grad(loss, w)
    loss.backward()
    for g, p in zip(grads, w):
        assert g.data == pytest.approx(p.grad, rel=1e-14, abs=1e-300)


def _torch_hessian(torch, f, point, const_position=None):
    """Value, gradient and Hessian of ``f`` in PyTorch float64 (zeros where torch has no graph)."""
    ts = [torch.tensor(p, dtype=torch.float64, requires_grad=i != const_position)
          for i, p in enumerate(point)]
    variables = [t for t in ts if t.requires_grad]
    out = f(*ts)
    firsts = torch.autograd.grad(out, variables, create_graph=True)
    hessian = []
    for g in firsts:
        if g.requires_grad:
            row = torch.autograd.grad(g, variables, allow_unused=True, retain_graph=True)
            hessian.append([0.0 if r is None else r.item() for r in row])
        else:  # the first derivative is a constant (add, relu ...)
            hessian.append([0.0] * len(variables))
    return [g.item() for g in firsts], hessian


def _our_hessian(f, point, const_position=None):
    args: list[Value | float] = [p if i == const_position else Value(p) for i, p in enumerate(point)]
    variables = [a for a in args if isinstance(a, Value)]
    out = f(*args)
    firsts = grad(out, variables, create_graph=True)
    hessian = [[h.data for h in grad(g, variables, allow_unused=True)] for g in firsts]
    return [g.data for g in firsts], hessian


# every op in every form: both operands Values, or one of them a constant (position 0 or 1)
FORMS = [(name, None) for name in sorted(OPS)] + [
    (name, position) for name in sorted(BINARY_AT) for position in (0, 1)
]


@pytest.mark.parametrize("name, const_position", FORMS)
def test_second_derivatives_of_every_op_match_torch(name, const_position, op_functions, agree) -> None:
    torch = pytest.importorskip("torch")
    point = (UNARY_AT[name],) if OPS[name].arity == 1 else BINARY_AT[name]
    f = op_functions[name]
    ours_first, ours_h = _our_hessian(f, point, const_position)
    torch_first, torch_h = _torch_hessian(torch, f, point, const_position)
    assert len(ours_first) == len(torch_first)
    for o, t in zip(ours_first, torch_first):
        assert agree(o, t, abs_=1e-15), (name, const_position, ours_first, torch_first)
    for orow, trow in zip(ours_h, torch_h):
        for o, t in zip(orow, trow):
            assert agree(o, t, abs_=1e-15), (name, const_position, ours_h, torch_h)


def test_second_derivatives_of_a_composite_match_torch(agree) -> None:
    torch = pytest.importorskip("torch")

    def f(x, y):
        return ((x * y).sigmoid() * (x / (y + 3)).tanh() + (x ** 2).exp() * (y.sin() - 2 ** x)
                + (y * y).sqrt().log())

    point = (0.3, -0.8)
    ours_first, ours_h = _our_hessian(f, point)
    torch_first, torch_h = _torch_hessian(torch, f, point)
    for o, t in zip(ours_first + sum(ours_h, []), torch_first + sum(torch_h, [])):
        assert agree(o, t, rel=1e-12, abs_=1e-15), (o, t)


def test_third_derivative_matches_the_closed_form() -> None:
    # f = sin(x) * exp(x): f''' = 2 exp(x) (cos x - sin x)
    x = Value(0.4)
    (g1,) = grad((x.sin() * x.exp()), x, create_graph=True)
    (g2,) = grad(g1, x, create_graph=True)
    (g3,) = grad(g2, x)
    assert g3.data == pytest.approx(2 * math.exp(0.4) * (math.cos(0.4) - math.sin(0.4)), rel=1e-13)


def test_second_derivative_of_pow_at_a_zero_exponent() -> None:
    # The table's conditions (here y == 0) are evaluated on numbers when the graph is built.
    # At y = 0 the table takes the branch d/dx = 0 (so that x = 0 gives 0 rather than 0 * inf),
    # and that branch is a constant: d/dy (d/dx) comes out 0, whereas y x ** (y - 1) would give
    # x ** -1 = 1/2 at x = 2. PyTorch makes the same choice (torch.where in pow's backward);
    # the point y = 0 exactly is the only one affected.
    x, y = Value(2.0), Value(0.0)
    gx, gy = grad(x ** y, [x, y], create_graph=True)
    assert gx.data == 0.0
    assert gy.data == pytest.approx(math.log(2.0), rel=1e-15)  # out * log(x) = ln 2
    gxx, gxy = grad(gx, [x, y], allow_unused=True)
    assert gxx.data == 0.0 and gxy.data == 0.0
    # one step away from y = 0 the mixed derivative is the analytic one
    x, y = Value(2.0), Value(1e-9)
    gx, _ = grad(x ** y, [x, y], create_graph=True)
    (gxy,) = grad(gx, [y])
    assert gxy.data == pytest.approx(0.5, rel=1e-6)


def test_create_graph_gradients_are_differentiable_values() -> None:
    x = Value(1.5)
    (g,) = grad(x ** 3, x, create_graph=True)  # 3 x**2
    assert not g.is_leaf
    g.backward()  # d/dx 3 x**2 = 6x
    assert x.grad == 9.0


def test_local_derivatives_match_torch_first_derivatives(op_functions, agree) -> None:
    torch = pytest.importorskip("torch")
    for name, op in OPS.items():
        point = (UNARY_AT[name],) if op.arity == 1 else BINARY_AT[name]
        leaves = [Value(p) for p in point]
        node = op_functions[name](*leaves)
        ours = local_derivatives(node)
        first, _ = _torch_hessian(torch, op_functions[name], point)
        assert len(ours) == len(node.parents) == op.arity
        for o, t in zip(ours, first):
            assert agree(float(o), t, abs_=1e-15), (name, ours, first)


def test_local_derivatives_of_a_constant_form_and_of_a_leaf() -> None:
    w = Value(3.0)
    assert local_derivatives(w * 2.5) == (2.5,)
    assert local_derivatives(2.0 - w) == (-1.0,)
    assert local_derivatives(w) == ()


# -- no_grad and detach ------------------------------------------------------------------------------


def test_no_grad_records_no_graph() -> None:
    a = Value(2.0)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        b = (a * 3).tanh() + a
    assert is_grad_enabled()
    assert b.is_leaf and b.parents == () and b.op is None
    assert b.data == pytest.approx(math.tanh(6.0) + 2.0, rel=1e-15)
    b.backward()
    assert a.grad == 0.0


def test_no_grad_nests() -> None:
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled(), "leaving the inner block keeps the outer one in force"
        assert (Value(1.0) * 2).is_leaf
    assert is_grad_enabled()
    assert not (Value(1.0) * 2).is_leaf


def test_no_grad_is_restored_after_an_exception() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with no_grad():
            raise RuntimeError("boom")
    assert is_grad_enabled()
    assert not (Value(1.0) * 2).is_leaf


def test_no_grad_as_a_decorator() -> None:
    @no_grad()
    def update(p: Value) -> Value:
        return p * 2

    assert update(Value(1.0)).is_leaf
    assert is_grad_enabled()


def test_parameter_update_under_no_grad_keeps_the_graph_small() -> None:
    w = Value(1.0)
    for _ in range(3):
        loss = (w * 2 - 1) ** 2
        w.grad = 0.0
        loss.backward()
        with no_grad():
            w_new = w - 0.1 * w.grad
        w.data = w_new.data
    # d/dw (2w - 1)**2 = 4(2w - 1); w: 1 - 0.1 * 4 = 0.6, 0.6 - 0.1 * 0.8 = 0.52, 0.52 - 0.1 * 0.16 = 0.504
    assert w.data == pytest.approx(0.504, rel=1e-14)


# -- gradcheck ---------------------------------------------------------------------------------------


def test_gradcheck_passes_for_correct_gradients() -> None:
    result = gradcheck(lambda a, b: (a * b).tanh() + a.exp() / b, [0.3, Value(1.7)])
    assert result.ok and bool(result)
    assert len(result.analytic) == len(result.numeric) == len(result.relative_errors) == 2
    assert result.worst < 1e-7
    assert result.analytic[1] == pytest.approx(result.numeric[1], rel=1e-7)


def test_gradcheck_catches_a_wrong_gradient_from_a_composition() -> None:
    # x * detach(x): backward sees only one of the two paths, giving x instead of 2x
    result = gradcheck(lambda x, y: x * x.detach() + y, [1.5, 0.5])
    assert not result.ok and not bool(result)
    assert result.analytic[0] == pytest.approx(1.5)
    assert result.numeric[0] == pytest.approx(3.0, rel=1e-8)
    assert result.relative_errors[0] == pytest.approx(0.5, rel=1e-6)
    assert result.relative_errors[1] < 1e-8, "the correct input is reported as correct"
    assert result.worst == result.relative_errors[0]


def test_gradcheck_catches_a_broken_backward_rule(monkeypatch) -> None:
    kind = KINDS["tanh"]
    right_rule = kind.vjp

    def applied_twice(v: Value) -> None:
        right_rule(v)
        right_rule(v)

    monkeypatch.setattr(kind, "vjp", applied_twice)
    result = gradcheck(lambda x: x.tanh() * 3, [0.4])
    assert not result.ok
    assert result.analytic[0] == pytest.approx(2 * result.numeric[0], rel=1e-7)
    monkeypatch.undo()
    assert gradcheck(lambda x: x.tanh() * 3, [0.4]).ok


def test_gradcheck_reports_nan_gradients_as_failures() -> None:
    result = gradcheck(lambda x: x.log(), [-1.0])
    assert not result.ok
    assert result.worst == math.inf


def test_enable_grad_records_the_graph_inside_no_grad() -> None:
    x = Value(3.0)
    with no_grad():
        with enable_grad():
            assert is_grad_enabled()
            y = x * x
        z = x * x
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert not y.is_leaf and z.is_leaf
    y.backward()
    assert x.grad == 6.0  # d(x*x)/dx = 2x = 6


def test_no_grad_works_as_a_decorator() -> None:
    @no_grad()
    def double(v: Value) -> Value:
        return v * 2

    assert double(Value(1.5)).is_leaf
    assert is_grad_enabled()
