"""SGD (with and without momentum) against torch.optim.SGD, and one training step by hand."""

from __future__ import annotations

import pytest

from autograd_tiny import Value, nn


def _torch_mlp_step_losses(torch, state, acts, data, lr, momentum, steps):
    """The same 2-3-1 MLP in torch: returns the loss per step and the final parameters."""
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in state.items()}
    opt = torch.optim.SGD(list(params.values()), lr=lr, momentum=momentum)
    act = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.tensor(0.0, dtype=torch.float64)
        for x, y in data:
            h = [act[acts[0]](params[f"layers.0.neurons.{j}.w.0"] * x[0]
                              + params[f"layers.0.neurons.{j}.w.1"] * x[1]
                              + params[f"layers.0.neurons.{j}.b"]) for j in range(3)]
            z = sum(params[f"layers.1.neurons.0.w.{j}"] * h[j] for j in range(3))
            z = z + params["layers.1.neurons.0.b"]
            loss = loss + 0.5 * (y - act[acts[1]](z)) ** 2
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, {k: v.item() for k, v in params.items()}


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_torch_optim_sgd(momentum: float) -> None:
    torch = pytest.importorskip("torch")
    data = [((0.0, 1.0), 1.0), ((1.0, 1.0), 0.0), ((0.5, -0.5), 0.5)]
    acts = ["tanh", "sigmoid"]
    net = nn.MLP(2, [3, 1], activation=acts, seed=5)
    start = net.state_dict()
    opt = nn.SGD(net.parameters(), lr=0.3, momentum=momentum)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = nn.half_squared_error([net(x)[0] for x, _ in data], [y for _, y in data])
        loss.backward()
        opt.step()
        losses.append(loss.data)
    t_losses, t_state = _torch_mlp_step_losses(torch, start, acts, data, 0.3, momentum, 8)
    assert losses == pytest.approx(t_losses, rel=1e-12)
    for name, value in net.state_dict().items():
        assert value == pytest.approx(t_state[name], rel=1e-12, abs=1e-15), name


def test_sgd_step_by_hand_with_momentum() -> None:
    # v = m v + g; p = p - lr v. g = 2 each step (d/dp of 2p), lr 0.1, m 0.5:
    # step 1: v = 2, p = 1 - 0.2 = 0.8; step 2: v = 0.5 * 2 + 2 = 3, p = 0.8 - 0.3 = 0.5
    p = Value(1.0)
    opt = nn.SGD([p], lr=0.1, momentum=0.5)
    for expected in (0.8, 0.5):
        opt.zero_grad()
        (p * 2).backward()
        opt.step()
        assert p.data == pytest.approx(expected, abs=1e-15)


def test_zero_grad_clears_only_its_parameters() -> None:
    a, b = Value(1.0), Value(2.0)
    (a * b).backward()
    nn.SGD([a], lr=0.1).zero_grad()
    assert a.grad == 0.0 and b.grad == 1.0
