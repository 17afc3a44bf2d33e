"""backward(): seeding, topological order, accumulation, reuse, deep graphs."""

from __future__ import annotations

import math

import pytest

from autograd_tiny import Value, topological_order


def test_backward_seeds_the_output_with_one() -> None:
    x = Value(3.0)
    y = x * 2
    y.backward()
    assert y.grad == 1.0
    assert x.grad == 2.0


def test_backward_with_an_explicit_seed() -> None:
    x = Value(3.0)
    y = x * x  # dy/dx = 2x = 6
    y.backward(0.5)
    assert y.grad == 0.5 and x.grad == 3.0


def test_backward_on_a_leaf() -> None:
    x = Value(3.0)
    x.backward()
    assert x.grad == 1.0


def test_chain_rule_through_a_small_graph(agree) -> None:
    # f = tanh(a * b + c); df/da = (1 - f**2) * b, df/db = (1 - f**2) * a, df/dc = 1 - f**2
    a, b, c = Value(0.5), Value(-1.5), Value(0.25)
    f = (a * b + c).tanh()
    f.backward()
    s = 1 - math.tanh(0.5 * -1.5 + 0.25) ** 2
    assert agree(a.grad, s * -1.5) and agree(b.grad, s * 0.5) and agree(c.grad, s)


def test_a_node_used_twice_gets_both_contributions() -> None:
    x = Value(3.0)
    h = x * 2  # used twice below
    y = h * h + h  # dy/dh = 2h + 1 = 13, dy/dx = 26
    y.backward()
    assert h.grad == 13.0
    assert x.grad == 26.0


def test_diamond() -> None:
    # a feeds b and c, both feed d: b = 3a, c = 5a, d = b * c = 15 a**2,
    # dd/da = 3 * dd/db + 5 * dd/dc = 3c + 5b = 30a = 60 at a = 2
    a = Value(2.0)
    b, c = a * 3, a * 5
    d = b * c
    d.backward()
    assert a.grad == 60.0 and b.grad == 10.0 and c.grad == 6.0


def test_wide_fan_in_to_one_leaf() -> None:
    x = Value(1.5)
    total = Value(0.0)
    for _ in range(10_000):
        total = total + x
    total.backward()
    assert x.grad == 10_000.0
    assert total.data == 15_000.0


def test_calling_backward_twice_accumulates_leaf_grads_like_pytorch() -> None:
    x = Value(2.0)
    y = x ** 3  # dy/dx = 3x**2 = 12
    y.backward()
    assert x.grad == 12.0
    y.backward()
    assert x.grad == 24.0, "leaves accumulate over calls (zero_grad between steps)"
    assert y.grad == 1.0, "interior nodes hold the gradient of the latest call"


def test_accumulation_matches_torch_when_two_losses_share_a_parameter() -> None:
    torch = pytest.importorskip("torch")
    w = Value(0.7)
    h = (w * 1.3).sigmoid()
    loss1, loss2 = h * 2, (h * 3).tanh()
    loss1.backward()
    loss2.backward()
    tw = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    th = torch.sigmoid(tw * 1.3)
    (th * 2).backward(retain_graph=True)
    torch.tanh(th * 3).backward()
    assert w.grad == pytest.approx(tw.grad.item(), rel=1e-14)


def test_interior_gradients_are_those_of_the_latest_backward() -> None:
    w = Value(1.0)
    h = w * 4
    (h * 2).backward()
    assert h.grad == 2.0
    (h * 3).backward()
    assert h.grad == 3.0, "h.grad is reset before the second pass, not 2 + 3"
    assert w.grad == 4 * 2 + 4 * 3


def test_grad_can_be_reset_by_hand_between_steps() -> None:
    x = Value(2.0)
    (x * 5).backward()
    x.grad = 0.0
    (x * 5).backward()
    assert x.grad == 5.0


def test_a_million_node_chain_is_differentiated_without_recursion() -> None:
    # y = x * c * c * ... (10**6 factors c = 1 + 1e-6): dy/dx = c ** 1e6 ~= e (within 1e-6).
    n, c = 1_000_000, 1.0 + 1e-6
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * c
    y.backward()
    expected = c ** n  # 1e6 roundings of ~1e-16 each: rel error below 1e-9
    assert x.grad == pytest.approx(expected, rel=1e-9)
    assert y.data == pytest.approx(expected, rel=1e-9)
    assert x.grad == pytest.approx(math.e, rel=1e-6)


def test_deep_chain_of_mixed_ops_matches_the_recurrence(agree) -> None:
    # v_{k+1} = sin(v_k) * 0.5 + tanh(v_k); d v_{k+1}/d v_k = 0.5 cos(v_k) + 1 - tanh(v_k)**2
    x = Value(0.3)
    v, value, deriv = x, 0.3, 1.0
    for _ in range(5_000):
        deriv *= 0.5 * math.cos(value) + 1 - math.tanh(value) ** 2
        value = math.sin(value) * 0.5 + math.tanh(value)
        v = v.sin() * 0.5 + v.tanh()
    v.backward()
    assert agree(v.data, value)
    assert agree(x.grad, deriv, rel=1e-10)


def test_topological_order_puts_inputs_first_and_each_node_once() -> None:
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert order[-1] is e
    assert len(order) == len(set(order)) == 5
    position = {v: i for i, v in enumerate(order)}
    for v in order:
        for p in v.parents:
            assert position[p] < position[v]


def test_topological_order_of_a_deep_chain() -> None:
    x = Value(0.0)
    v = x
    for _ in range(200_000):
        v = v + 1
    order = topological_order(v)
    assert order[0] is x and order[-1] is v and len(order) == 200_001


def test_backward_does_not_touch_values_outside_the_graph() -> None:
    a, b = Value(1.0), Value(2.0)
    unrelated = b * 3
    (a * 2).backward()
    assert b.grad == 0.0 and unrelated.grad == 0.0
