"""Derivation files beyond one sample and plain SGD: batches ([[samples]]), momentum and weight
decay, softmax with cross-entropy, sparse networks, claims on one chain-rule factor and on
dE/dINPUT. Every number is checked against PyTorch float64 (torch.nn.functional and
torch.optim.SGD), written independently of the package; a few against hand figures."""

from __future__ import annotations

import math
from typing import Any

import pytest

from autograd_tiny import load_derivation
from autograd_tiny.derivation import ClaimResult, summary
from autograd_tiny.errors import UsageError

torch = pytest.importorskip("torch", reason="the oracle for these tests is PyTorch")
F = torch.nn.functional

#: A 2-2-2 network (the seed 004 numbers) trained on three samples at once.
HEAD = """
title = "batch"
activation = {activation}
loss = "{loss}"
learning_rate = 0.5
update_biases = true
layers = [["i1", "i2"], ["h1", "h2"], ["o1", "o2"]]
{options}

[weights]
w1 = ["i1", "h1", 0.15]
w2 = ["i2", "h1", 0.20]
w3 = ["i1", "h2", 0.25]
w4 = ["i2", "h2", 0.30]
w5 = ["h1", "o1", 0.40]
w6 = ["h2", "o1", 0.45]
w7 = ["h1", "o2", 0.50]
w8 = ["h2", "o2", 0.55]

[biases]
b1 = [0.35, "h1", "h2"]
b2 = [0.60, "o1", "o2"]
"""
SAMPLES = [((0.05, 0.10), (0.01, 0.99)), ((1.0, 0.0), (1.0, 0.0)), ((-0.5, 2.0), (0.25, 0.75))]
WEIGHTS = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45,
           "w7": 0.50, "w8": 0.55, "b1": 0.35, "b2": 0.60}
INTO = {"h1": ("w1", "w2", "b1"), "h2": ("w3", "w4", "b1"), "o1": ("w5", "w6", "b2"),
        "o2": ("w7", "w8", "b2")}


def batch_file(activation: str = '"sigmoid"', loss: str = "half_squared_error", options: str = "",
               samples: list[Any] = SAMPLES, claims: str = "") -> str:
    text = HEAD.format(activation=activation, loss=loss, options=options)
    for (x1, x2), (t1, t2) in samples:
        text += f"\n[[samples]]\ninputs = {{ i1 = {x1}, i2 = {x2} }}\ntargets = {{ o1 = {t1}, o2 = {t2} }}\n"
    return text + "\n[claims]\n" + claims


def single_file() -> str:
    """The same network on the first sample alone, written with [inputs] and [targets]."""
    return (batch_file(samples=SAMPLES[:1]).replace("[[samples]]", "").replace(
            "inputs = { i1 = 0.05, i2 = 0.1 }", "[inputs]\ni1 = 0.05\ni2 = 0.1\n").replace(
            "targets = { o1 = 0.01, o2 = 0.99 }", "[targets]\no1 = 0.01\no2 = 0.99\n"))


def torch_pass(p: dict[str, Any], samples: list[Any], hidden: str = "sigmoid", output: str = "sigmoid",
               loss: str = "half_squared_error", batch: str = "mean") -> dict[str, Any]:
    """The network in torch: per sample the nets, outputs and loss, and the batch loss."""
    nets, outs, losses = [], [], []
    for (x1, x2), (t1, t2) in samples:
        x = torch.tensor([x1, x2], dtype=torch.float64, requires_grad=True)
        h_net = torch.stack([p["w1"] * x[0] + p["w2"] * x[1] + p["b1"],
                             p["w3"] * x[0] + p["w4"] * x[1] + p["b1"]])
        h = getattr(torch, hidden)(h_net)
        o_net = torch.stack([p["w5"] * h[0] + p["w6"] * h[1] + p["b2"],
                             p["w7"] * h[0] + p["w8"] * h[1] + p["b2"]])
        t = torch.tensor([t1, t2], dtype=torch.float64)
        if output == "softmax":
            o = torch.softmax(o_net, 0)
            e = F.cross_entropy(o_net.unsqueeze(0), t.unsqueeze(0))
        else:
            o = getattr(torch, output)(o_net)
            e = 0.5 * ((t - o) ** 2).sum()
        for v in (h_net, h, o_net, o):
            v.retain_grad()
        nets.append((h_net, o_net, x))
        outs.append((h, o))
        losses.append(e)
    total = torch.stack(losses).sum()
    if batch == "mean":
        total = total / len(samples)
    return {"nets": nets, "outs": outs, "losses": losses, "E": total}


def params(values: dict[str, float] = WEIGHTS) -> dict[str, Any]:
    return {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in values.items()}


def results(text: str) -> dict[str, ClaimResult]:
    return {r.claim: r for r in load_derivation(text).check()}


# -- batches -------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch", ["mean", "sum"])
def test_batch_loss_gradients_and_per_sample_deltas_match_pytorch(batch: str) -> None:
    d = load_derivation(batch_file(options=f'batch = "{batch}"'))
    p = params()
    ref = torch_pass(p, SAMPLES, batch=batch)
    grads = torch.autograd.grad(ref["E"], list(p.values()), retain_graph=True)
    d_names = list(p)
    assert d.value("E") == pytest.approx(ref["E"].item(), rel=1e-14)
    for name, g in zip(d_names, grads):
        assert d.value(f"dE/d{name}") == pytest.approx(g.item(), rel=1e-12, abs=1e-17)
    for s, ((h_net, o_net, x), (h, o), e) in enumerate(zip(ref["nets"], ref["outs"], ref["losses"]), 1):
        assert d.value(f"E[{s}]") == pytest.approx(e.item(), rel=1e-14)
        assert d.value(f"net_h2[{s}]") == pytest.approx(h_net[1].item(), rel=1e-14)
        assert d.value(f"out_o1[{s}]") == pytest.approx(o[0].item(), rel=1e-14)
        # A sample's derivatives are of its own loss E[s], as a hand derivation's deltas are.
        own = torch.autograd.grad(e, [o_net, h_net, x, *p.values()], retain_graph=True)
        assert d.value(f"dE/dnet_o2[{s}]") == pytest.approx(own[0][1].item(), rel=1e-12)
        assert d.value(f"dE/dnet_h1[{s}]") == pytest.approx(own[1][0].item(), rel=1e-12)
        assert d.value(f"dE/di2[{s}]") == pytest.approx(own[2][1].item(), rel=1e-12)
        for name, g in zip(d_names, own[3:]):
            assert d.value(f"dE/d{name}[{s}]") == pytest.approx(g.item(), rel=1e-12, abs=1e-17)


@pytest.mark.parametrize(("momentum", "weight_decay", "batch"), [
    (0.0, 0.0, "mean"), (0.9, 0.0, "mean"), (0.0, 0.01, "sum"), (0.9, 0.01, "mean")])
def test_training_matches_torch_optim_sgd(momentum: float, weight_decay: float, batch: str) -> None:
    options = f'batch = "{batch}"\nmomentum = {momentum}\nweight_decay = {weight_decay}'
    d = load_derivation(batch_file(options=options))
    p = params()
    opt = torch.optim.SGD(list(p.values()), lr=0.5, momentum=momentum, weight_decay=weight_decay)
    losses = []
    for _ in range(4):
        opt.zero_grad()
        e = torch_pass(p, SAMPLES, batch=batch)["E"]
        e.backward()
        losses.append(e.item())
        opt.step()
    # E is the data loss alone (no wd/2 * p^2 term), as the loss PyTorch reports.
    assert [d.value(f"E@{k}") for k in range(4)] == pytest.approx(losses, rel=1e-12)
    for name, value in p.items():
        assert d.value(f"{name}@4") == pytest.approx(value.item(), rel=1e-12)
    # The Derivation's own training (the eager engine) agrees with the replay's claims.
    assert d.train(4) == pytest.approx(losses, rel=1e-12)


def test_batch_checker_verdicts_follow_per_sample_slips() -> None:
    d = load_derivation(batch_file())
    q = {n: d.value(n) for n in ("dE/dnet_o1[1]", "dE/dnet_o1[2]", "dE/dnet_o1[3]", "out_h1[1]",
                                 "out_h1[2]", "out_h1[3]", "dE/dw5")}
    # A slip in sample 2's delta; dE/dw5 written as the mean of delta * out_h1 with that slip
    # carried forward is "follows", the true one would be "wrong" next to it.
    slipped = -q["dE/dnet_o1[2]"]
    carried = (q["dE/dnet_o1[1]"] * q["out_h1[1]"] + slipped * q["out_h1[2]"]
               + q["dE/dnet_o1[3]"] * q["out_h1[3]"]) / 3
    claims = (f'"dE/dnet_o1[2]" = {slipped:.10f}\n"dE/dw5" = {carried:.10f}\n'
              f'"dE/dnet_o1[1]" = {q["dE/dnet_o1[1]"]:.10f}\n')
    r = results(batch_file(claims=claims))
    assert r["dE/dnet_o1[2]"].verdict == "wrong"
    assert r["dE/dnet_o1[1]"].verdict == "ok"
    assert r["dE/dw5"].verdict == "follows"
    assert r["dE/dw5"].hint == "carried forward from the slip in dE/dnet_o1[2]"


def test_single_sample_files_need_no_sample_and_batches_need_one() -> None:
    with pytest.raises(UsageError, match=r"claims.out_o1: out_o1 belongs to one sample of the batch; "
                                         r"name it, e.g. out_o1\[1\] for the first of 3"):
        load_derivation(batch_file(claims="out_o1 = 0.5\n"))
    with pytest.raises(UsageError, match=r"sample 4 does not exist; the samples are numbered 1 to 3"):
        load_derivation(batch_file(claims='"out_o1[4]" = 0.5\n'))
    with pytest.raises(UsageError, match=r"w1 is shared by every sample; leave out \[2\]"):
        load_derivation(batch_file(claims='"w1[2]+" = 0.5\n'))
    with pytest.raises(UsageError, match=r"samples\[1\].targets: missing|samples\[1\]: missing targets"):
        load_derivation(batch_file().replace("targets = { o1 = 1.0, o2 = 0.0 }", ""))


# -- momentum and weight decay, by hand ----------------------------------------------------------

def test_momentum_and_weight_decay_by_hand() -> None:
    # One sample (0.05, 0.10) of the 2-2-2 network with lr 0.5, momentum 0.9, weight decay 0.1.
    # dE/dw5 = 0.0821670406 (seed 004's figure). Step 1: d = 0.0821670406 + 0.1 * 0.40 =
    # 0.1221670406, v = d, w5+ = 0.40 - 0.5 * 0.1221670406 = 0.3389164797.
    text = batch_file(options="momentum = 0.9\nweight_decay = 0.1", samples=SAMPLES[:1])
    r = results(text + '"w5+" = 0.3389164797\n"dE/dw5" = 0.0821670406\n')
    assert r["w5+"].verdict == "ok" and r["dE/dw5"].verdict == "ok"
    # Step 2 carries 0.9 of the first velocity: w5@2 = w5+ - 0.5 * (0.9 * 0.1221670406 + d2).
    d = load_derivation(text)
    d2 = d.value("dE/dw5+") + 0.1 * d.value("w5+")
    assert d.value("w5@2") == pytest.approx(d.value("w5+") - 0.5 * (0.9 * 0.1221670406 + d2), rel=1e-9)


# -- softmax and cross-entropy -------------------------------------------------------------------

SOFTMAX_SAMPLES = [((0.05, 0.10), (1.0, 0.0)), ((1.0, -2.0), (0.0, 1.0)), ((0.3, 0.3), (0.25, 0.75))]


def test_softmax_cross_entropy_matches_pytorch() -> None:
    text = batch_file(activation='["tanh", "softmax"]', loss="cross_entropy", samples=SOFTMAX_SAMPLES)
    d = load_derivation(text)
    p = params()
    ref = torch_pass(p, SOFTMAX_SAMPLES, hidden="tanh", output="softmax")
    # F.cross_entropy with probability targets: -sum t log softmax(net); mean over the batch.
    assert d.value("E") == pytest.approx(ref["E"].item(), rel=1e-14)
    grads = torch.autograd.grad(ref["E"], list(p.values()), retain_graph=True)
    for name, g in zip(p, grads):
        assert d.value(f"dE/d{name}") == pytest.approx(g.item(), rel=1e-12, abs=1e-15)
    for s, ((h_net, o_net, _), (_, o), e) in enumerate(zip(ref["nets"], ref["outs"], ref["losses"]), 1):
        assert d.value(f"out_o2[{s}]") == pytest.approx(o[1].item(), rel=1e-14)
        own = torch.autograd.grad(e, [o_net, h_net], retain_graph=True)
        # The softmax-with-cross-entropy delta is out - target.
        assert d.value(f"dE/dnet_o1[{s}]") == pytest.approx(own[0][0].item(), rel=1e-12, abs=1e-15)
        assert d.value(f"dE/dnet_h2[{s}]") == pytest.approx(own[1][1].item(), rel=1e-12, abs=1e-15)
    opt = torch.optim.SGD(list(p.values()), lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        torch_pass(p, SOFTMAX_SAMPLES, hidden="tanh", output="softmax")["E"].backward()
        opt.step()
    assert d.value("w8@3") == pytest.approx(p["w8"].item(), rel=1e-12)


def test_softmax_does_not_overflow_with_large_net_inputs() -> None:
    # net_o = 1000 and 999 (w5 = w7 = 0 ...): exp(1000) overflows, the shifted softmax does not:
    # out_o1 = 1 / (1 + e^-1) = 0.7310585786.
    text = batch_file(activation='["identity", "softmax"]', loss="cross_entropy",
                      samples=SOFTMAX_SAMPLES[:1]).replace("b2 = [0.60, ", "b2 = [1000, ")
    text = text.replace('w5 = ["h1", "o1", 0.40]', 'w5 = ["h1", "o1", 0.0]').replace(
        'w6 = ["h2", "o1", 0.45]', 'w6 = ["h2", "o1", 0.0]').replace(
        'w7 = ["h1", "o2", 0.50]', 'w7 = ["h1", "o2", 0.0]').replace(
        'w8 = ["h2", "o2", 0.55]', 'w8 = ["h2", "o2", 0.0]').replace(
        'b2 = [1000, "o1", "o2"]', 'b2 = [1000, "o1"]\nb3 = [999, "o2"]')
    d = load_derivation(text)
    assert d.value("out_o1[1]") == pytest.approx(1 / (1 + math.exp(-1)), rel=1e-15)
    assert d.value("dE/dnet_o1[1]") == pytest.approx(1 / (1 + math.exp(-1)) - 1.0, rel=1e-14)


# -- sparse networks -----------------------------------------------------------------------------

def test_sparse_network_matches_pytorch() -> None:
    text = batch_file(options="dense = false", samples=SAMPLES[:1])
    for w in ("w2", "w3", "w7"):  # i2 -/-> h1, i1 -/-> h2, h1 -/-> o2
        text = "\n".join(line for line in text.splitlines() if not line.startswith(w + " "))
    d = load_derivation(text)
    values = {**WEIGHTS, "w2": 0.0, "w3": 0.0, "w7": 0.0}
    p = params(values)
    e = torch_pass(p, SAMPLES[:1])["E"]
    grads = dict(zip(p, torch.autograd.grad(e, list(p.values()))))
    assert d.value("E") == pytest.approx(e.item(), rel=1e-14)
    for name in ("w1", "w4", "w5", "w6", "w8", "b1", "b2"):
        assert d.value(f"dE/d{name}") == pytest.approx(grads[name].item(), rel=1e-12)
    with pytest.raises(UsageError, match="missing weight from i2 to h1; .* dense = false"):
        load_derivation(text.replace("dense = false", ""))
    lonely = "\n".join(line for line in text.splitlines() if not line.startswith(("w5 ", "w6 ")))
    with pytest.raises(UsageError, match="neuron h1 feeds no neuron of the next layer"):
        load_derivation(lonely)


# -- chain-rule factors and input gradients ------------------------------------------------------

def test_factor_claims_and_input_gradients_match_pytorch() -> None:
    d = load_derivation(single_file())
    p = params()
    ref = torch_pass(p, SAMPLES[:1])
    h_net, o_net, x = ref["nets"][0]
    h, o = ref["outs"][0]
    # dout_o1/dnet_o1 = sigmoid'(net_o1); dnet_o1/dw5 = out_h1; dnet_o1/dout_h1 = w5; dnet_h1/di2 = w2.
    assert d.value("dout_o1/dnet_o1") == pytest.approx(
        torch.autograd.grad(o[0], o_net, retain_graph=True)[0][0].item(), rel=1e-14)
    assert d.value("dnet_o1/dw5") == pytest.approx(
        torch.autograd.grad(o_net[0], p["w5"], retain_graph=True)[0].item(), rel=1e-15)
    assert d.value("dnet_o1/dout_h1") == torch.autograd.grad(o_net[0], h, retain_graph=True)[0][0].item()
    assert d.value("dnet_h1/di2") == 0.20
    assert d.value("dnet_o2/db2") == 1.0
    grads = torch.autograd.grad(ref["E"], x)[0]
    assert d.value("dE/di1") == pytest.approx(grads[0].item(), rel=1e-13)
    assert d.value("dE/di2") == pytest.approx(grads[1].item(), rel=1e-13)


def test_a_slipped_factor_is_carried_into_the_delta() -> None:
    # dout_o1/dnet_o1 = out_o1 (1 - out_o1) = 0.7513650696 * 0.2486349304 = 0.1868156018.
    # Written as 0.25 (a slip), dE/dnet_o1 = (out_o1 - t) * 0.25 = 0.7413650696 * 0.25 = 0.1853412674.
    r = results(single_file() + '"dE/dnet_o1" = 0.1853412674\n"dout_o1/dnet_o1" = 0.25\n'
                                '"dnet_o1/dw5" = 0.5932699921\n')
    assert r["dout_o1/dnet_o1"].verdict == "wrong"
    assert r["dout_o1/dnet_o1"].computed == pytest.approx(0.1868156018, abs=1e-10)
    assert r["dE/dnet_o1"].verdict == "follows"
    assert r["dnet_o1/dw5"].verdict == "ok"
    assert "First slip: dout_o1/dnet_o1" in summary(list(r.values()))


def test_bad_factor_names() -> None:
    base = batch_file(samples=SAMPLES[:1])
    with pytest.raises(UsageError, match=r"w1 goes into h1, not o1"):
        load_derivation(base + '"dnet_o1/dw1[1]" = 1\n')
    with pytest.raises(UsageError, match=r"out_o1 depends on net_o1 alone"):
        load_derivation(base + '"dout_o1/dnet_h1[1]" = 1\n')


def test_claim_names_round_trip_with_samples_steps_and_factors() -> None:
    from autograd_tiny.derivation.format import Quantity, parse_quantity

    spec = load_derivation(batch_file()).spec
    for name, q in [("out_o1[3]@2", Quantity("out", "o1", 2, 3)),
                    ("dE/dnet_h1[1]+", Quantity("dnet", "h1", 1, 1)),
                    ("dE/di2[2]", Quantity("dx", "i2", 0, 2)),
                    ("dE/dw5", Quantity("grad", "w5", 0)),
                    ("dE/dw5[2]", Quantity("grad", "w5", 0, 2)),
                    ("dout_o1/dnet_o1[1]", Quantity("factor", "out_o1/net_o1", 0, 1)),
                    ("dnet_o1/dout_h2[2]@3", Quantity("factor", "net_o1/out_h2", 3, 2)),
                    ("dnet_h1/di1[1]", Quantity("factor", "net_h1/i1", 0, 1)),
                    ("E[2]", Quantity("E", None, 0, 2)), ("E@4", Quantity("E", None, 4))]:
        assert parse_quantity(name, spec) == q
        assert q.name == name


def test_diverged_binary_cross_entropy_gives_nan_not_an_error() -> None:
    d = load_derivation(single_file().replace("half_squared_error", "binary_cross_entropy"))
    d.parameters["w5"].data, d.parameters["w6"].data = math.inf, -math.inf  # net_o1 = inf - inf
    assert math.isnan(d.loss().data)


def test_progress_bar_only_for_long_runs_when_asked() -> None:
    from tqdm import tqdm

    from autograd_tiny.derivation.interpreter import PROGRESS_STEPS, step_range

    assert isinstance(step_range(PROGRESS_STEPS, True, "training"), tqdm)
    assert step_range(PROGRESS_STEPS, False, "training") == range(PROGRESS_STEPS)
    assert step_range(PROGRESS_STEPS - 1, True, "training") == range(PROGRESS_STEPS - 1)
