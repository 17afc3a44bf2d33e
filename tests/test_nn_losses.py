"""Losses against PyTorch float64: value and gradient with respect to every output."""

from __future__ import annotations

import math

import pytest

from autograd_tiny import Value, nn

OUTS = [0.2, 0.85, 0.6]
TARGETS = [0.0, 1.0, 0.3]


def _ours(loss_fn, outs, targets):
    values = [Value(o) for o in outs]
    loss = loss_fn(values, targets)
    loss.backward()
    return loss.data, [v.grad for v in values]


def _torch(torch, fn, outs, targets):
    o = torch.tensor(outs, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(targets, dtype=torch.float64)
    loss = fn(o, t)
    loss.backward()
    return loss.item(), o.grad.tolist()


def _torch_losses(torch):
    F = torch.nn.functional
    return {
        "half_squared_error": lambda o, t: 0.5 * F.mse_loss(o, t, reduction="sum"),
        "squared_error": lambda o, t: F.mse_loss(o, t, reduction="sum"),
        "mean_squared_error": lambda o, t: F.mse_loss(o, t),
        "binary_cross_entropy": lambda o, t: F.binary_cross_entropy(o, t),
        # torch has no plain hinge loss on scores; this is its definition, mean(max(0, 1 - t * o))
        "hinge": lambda o, t: torch.clamp(1 - t * o, min=0).mean(),
    }


@pytest.mark.parametrize("name", sorted(nn.LOSSES))
def test_loss_matches_torch(name) -> None:
    torch = pytest.importorskip("torch")
    outs, targets = (OUTS, TARGETS) if name != "hinge" else ([0.2, -1.5, 0.7, -0.3], [1.0, -1.0, -1.0, 1.0])
    ours, our_grads = _ours(nn.LOSSES[name], outs, targets)
    theirs, their_grads = _torch(torch, _torch_losses(torch)[name], outs, targets)
    assert ours == pytest.approx(theirs, rel=1e-14)
    assert our_grads == pytest.approx(their_grads, rel=1e-13, abs=1e-16)


def test_losses_table_names_every_loss() -> None:
    assert set(nn.LOSSES) == {"half_squared_error", "squared_error", "mean_squared_error",
                              "binary_cross_entropy", "hinge"}


def test_half_squared_error_by_hand() -> None:
    # E = 1/2 (0.01 - 0.75)**2 + 1/2 (0.99 - 0.77)**2 = 0.27380 + 0.02420 = 0.298;
    # dE/dout = out - target: 0.74 and -0.22
    o1, o2 = Value(0.75), Value(0.77)
    E = nn.half_squared_error([o1, o2], [0.01, 0.99])
    E.backward()
    assert E.data == pytest.approx(0.298, abs=1e-15)
    assert (o1.grad, o2.grad) == (pytest.approx(0.74, abs=1e-15), pytest.approx(-0.22, abs=1e-15))
    terms = nn.half_squared_error_terms([o1, o2], [0.01, 0.99])
    assert [t.data for t in terms] == [pytest.approx(0.2738, abs=1e-15), pytest.approx(0.0242, abs=1e-15)]


def test_single_output_and_target_forms() -> None:
    o = Value(0.5)
    assert nn.squared_error(o, 1.0).data == 0.25
    assert nn.squared_error([o], [Value(1.0)]).data == 0.25, "a Value target is used as a constant"
    np = pytest.importorskip("numpy")
    assert nn.mean_squared_error(o, np.int64(1)).data == 0.25


def test_binary_cross_entropy_at_confident_outputs() -> None:
    # target 0 with output 0 and target 1 with output 1: the loss is 0 (no 0 * log 0 = nan)
    a, b = Value(0.0), Value(1.0)
    loss = nn.binary_cross_entropy([a, b], [0.0, 1.0])
    assert loss.data == 0.0
    # a confident wrong answer: -log(0) = inf (PyTorch clamps log at -100 and gives 100)
    assert nn.binary_cross_entropy(Value(0.0), 1.0).data == math.inf


def test_binary_cross_entropy_on_a_sigmoid_matches_torch_with_logits() -> None:
    torch = pytest.importorskip("torch")
    z = Value(-2.3)
    loss = nn.binary_cross_entropy(z.sigmoid(), 0.8)
    loss.backward()
    tz = torch.tensor(-2.3, dtype=torch.float64, requires_grad=True)
    t_loss = torch.nn.functional.binary_cross_entropy_with_logits(tz, torch.tensor(0.8, dtype=torch.float64))
    t_loss.backward()
    assert loss.data == pytest.approx(t_loss.item(), rel=1e-14)
    assert z.grad == pytest.approx(tz.grad.item(), rel=1e-13)  # sigmoid(z) - t


def test_hinge_is_zero_past_the_margin() -> None:
    o = Value(2.0)
    loss = nn.hinge(o, 1.0)
    loss.backward()
    assert loss.data == 0.0 and o.grad == 0.0
    o = Value(0.25)
    loss = nn.hinge(o, -1.0)  # 1 - (-1)(0.25) = 1.25
    loss.backward()
    assert loss.data == 1.25 and o.grad == 1.0


def test_losses_flow_into_the_network() -> None:
    net = nn.MLP(2, [3, 1], activation=["tanh", "sigmoid"], seed=4)
    for name, loss_fn in nn.LOSSES.items():
        net.zero_grad()
        target = 1.0
        loss = loss_fn(net([0.5, -0.5]), [target])
        loss.backward()
        assert any(p.grad != 0.0 for p in net.parameters()), name
