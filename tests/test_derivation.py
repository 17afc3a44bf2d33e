"""The network a derivation file builds: labels, shared and frozen biases, loss terms, training,
and its numbers against PyTorch float64 and against the hand-computed seed 004 figures."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from autograd_tiny import Value, load_derivation, nn, topological_order
from autograd_tiny.derivation import Network, Quantity, load_example, parse_spec
from autograd_tiny.derivation.network import loss_terms

DATA = Path(__file__).parent / "data"
TEXT = (DATA / "net222.toml").read_text()
WEIGHTS = ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"]


def test_graph_labels_for_explanations_and_pictures() -> None:
    d = load_derivation(TEXT)
    loss = d.loss()
    labels = {v.label for v in topological_order(loss)}
    assert loss.label == "E"
    assert {"E_o1", "E_o2", "net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1",
            "net_o2", "out_o2", "i1", "i2", *WEIGHTS, "b1", "b2"} <= labels
    # Parameters are the file's Values, labelled with the file's names.
    assert all(p.label == name for name, p in d.parameters.items())
    assert [n for n, _ in d.network.named_parameters(include_frozen=True)] == [
        "w1", "w2", "b1", "w3", "w4", "w5", "w6", "b2", "w7", "w8"]


def test_shared_bias_is_one_value_and_frozen_when_biases_are_fixed() -> None:
    d = load_derivation(TEXT)  # update_biases = false
    h1, h2 = d.network.layers[0].neurons
    o1, o2 = d.network.layers[1].neurons
    assert h1.b is h2.b is d.parameters["b1"]
    assert o1.b is o2.b is d.parameters["b2"]
    assert d.parameters["b1"] not in d.network.parameters()
    trained = load_derivation(TEXT.replace("update_biases = false", "update_biases = true"))
    assert trained.parameters["b1"] in trained.network.parameters()
    # Weights enter each neuron in the order of the layer before: h1 takes w1 (from i1), w2 (from i2).
    assert h1.w == [d.parameters["w1"], d.parameters["w2"]]


def test_seed004_figures_by_hand() -> None:
    # Hand computation (seed 004): net_h1 = 0.15*0.05 + 0.20*0.10 + 0.35 = 0.3775,
    # out_h1 = 1/(1+e^-0.3775) = 0.593269992, out_o1 = 0.75136507, out_o2 = 0.772928465,
    # E = 1/2 (0.01-0.75136507)^2 + 1/2 (0.99-0.772928465)^2 = 0.298371109,
    # dE/dw5 = 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041,
    # w5+ = 0.40 - 0.5*0.082167041 = 0.35891648, w1+ = 0.15 - 0.5*0.000438568 = 0.149780716.
    q = load_derivation(TEXT).quantities()
    assert q["net_h1"] == pytest.approx(0.3775, abs=1e-15)
    assert q["out_h1"] == pytest.approx(0.593269992, abs=5e-10)
    assert q["out_o1"] == pytest.approx(0.75136507, abs=5e-9)
    assert q["E"] == pytest.approx(0.298371109, abs=5e-10)
    assert q["dE/dw5"] == pytest.approx(0.082167041, abs=5e-10)
    assert q["dE/dw1"] == pytest.approx(0.000438568, abs=5e-10)
    assert q["w5+"] == pytest.approx(0.35891648, abs=5e-9)
    assert q["w1+"] == pytest.approx(0.149780716, abs=5e-10)
    assert q["b1+"] == 0.35 and q["b2+"] == 0.60  # frozen
    assert q["E_o1"] + q["E_o2"] == pytest.approx(q["E"], rel=1e-15)


def _torch_seed004(steps: int, train_biases: bool) -> tuple[dict[str, float], dict[str, float], float]:
    """Return PyTorch float64's gradients and parameters after ``steps`` steps, and the loss there."""
    torch = pytest.importorskip("torch")
    start = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45,
             "w7": 0.50, "w8": 0.55, "b1": 0.35, "b2": 0.60}
    p = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in start.items()}
    trained = [n for n in p if train_biases or n.startswith("w")]
    i1, i2 = 0.05, 0.10
    for k in range(steps + 1):
        h1 = torch.sigmoid(p["w1"] * i1 + p["w2"] * i2 + p["b1"])
        h2 = torch.sigmoid(p["w3"] * i1 + p["w4"] * i2 + p["b1"])
        o1 = torch.sigmoid(p["w5"] * h1 + p["w6"] * h2 + p["b2"])
        o2 = torch.sigmoid(p["w7"] * h1 + p["w8"] * h2 + p["b2"])
        loss = 0.5 * (0.01 - o1) ** 2 + 0.5 * (0.99 - o2) ** 2
        grads = torch.autograd.grad(loss, list(p.values()))
        if k == steps:
            break
        with torch.no_grad():
            for (name, t), g in zip(p.items(), grads):
                if name in trained:
                    t -= 0.5 * g
    return ({n: g.item() for n, g in zip(p, grads)}, {n: t.item() for n, t in p.items()}, loss.item())


@pytest.mark.parametrize("train_biases", [False, True])
def test_gradients_and_training_match_pytorch_float64(train_biases: bool) -> None:
    text = TEXT if not train_biases else TEXT.replace("update_biases = false", "update_biases = true")
    d = load_derivation(text)
    torch_grads, _, torch_loss = _torch_seed004(0, train_biases)
    loss = d.loss()
    loss.backward()
    assert loss.data == pytest.approx(torch_loss, rel=1e-14)
    for name, g in torch_grads.items():
        assert d.parameters[name].grad == pytest.approx(g, rel=1e-12, abs=1e-17), name
    # Three steps of training: the same parameters and gradients as PyTorch.
    losses = d.train(3)
    torch_grads, torch_params, torch_loss = _torch_seed004(3, train_biases)
    assert len(losses) == 3 and losses[0] == pytest.approx(0.298371109, abs=5e-10)
    assert losses == sorted(losses, reverse=True)
    for name, v in torch_params.items():
        assert d.parameters[name].data == pytest.approx(v, rel=1e-13), name
    loss = d.loss()
    loss.backward()
    assert loss.data == pytest.approx(torch_loss, rel=1e-13)
    for name, g in torch_grads.items():
        assert d.parameters[name].grad == pytest.approx(g, rel=1e-11, abs=1e-17), name


def test_deltas_match_pytorch_float64() -> None:
    torch = pytest.importorskip("torch")
    d = load_derivation(TEXT)
    q = d.quantities()
    w = {n: p.data for n, p in d.parameters.items()}
    t = {n: torch.tensor(v, dtype=torch.float64) for n, v in w.items()}
    net_h1 = t["w1"] * 0.05 + t["w2"] * 0.10 + t["b1"]
    net_h2 = t["w3"] * 0.05 + t["w4"] * 0.10 + t["b1"]
    nets = [net_h1.requires_grad_(), net_h2.requires_grad_()]
    out_h1, out_h2 = torch.sigmoid(nets[0]), torch.sigmoid(nets[1])
    net_o1 = t["w5"] * out_h1 + t["w6"] * out_h2 + t["b2"]
    net_o2 = t["w7"] * out_h1 + t["w8"] * out_h2 + t["b2"]
    net_o1.retain_grad()
    net_o2.retain_grad()
    out_h1.retain_grad()
    loss = 0.5 * (0.01 - torch.sigmoid(net_o1)) ** 2 + 0.5 * (0.99 - torch.sigmoid(net_o2)) ** 2
    loss.backward()
    assert q["dE/dnet_o1"] == pytest.approx(net_o1.grad.item(), rel=1e-13)
    assert q["dE/dnet_o2"] == pytest.approx(net_o2.grad.item(), rel=1e-13)
    assert q["dE/dout_h1"] == pytest.approx(out_h1.grad.item(), rel=1e-13)
    assert q["dE/dnet_h1"] == pytest.approx(nets[0].grad.item(), rel=1e-13)
    assert q["dE/dnet_h2"] == pytest.approx(nets[1].grad.item(), rel=1e-13)


def test_loss_zeroes_gradients_and_reset_restores_the_file() -> None:
    d = load_derivation(TEXT)
    d.loss().backward()
    first = d.parameters["w5"].grad
    d.loss().backward()  # a fresh pass: no accumulation across calls of loss()
    assert d.parameters["w5"].grad == first == pytest.approx(0.082167041, abs=5e-10)
    d.train(5)
    assert d.parameters["w5"].data != 0.40
    assert d.parameters["b1"].data == 0.35  # frozen
    d.reset()
    assert d.parameters["w5"].data == 0.40 and d.parameters["w5"].grad == 0.0
    with pytest.raises(ValueError, match="steps must be an int >= 0"):
        d.train(-1)


def test_training_one_step_at_a_time_keeps_the_velocities() -> None:
    # `autograd-tiny train` calls train(1) once per step: momentum must carry over between calls,
    # as one torch.optim.SGD kept across steps does (dropping the velocities gave E = 0.27594 after
    # 3 single steps instead of 0.25614). The interpreter's E@3 is the third figure to agree.
    whole, single = load_example("momentum"), load_example("momentum")
    losses = whole.train(3)
    assert [single.train(1)[0] for _ in range(3)] == losses
    assert single.loss().data == whole.loss().data == pytest.approx(whole.value("E@3"), rel=1e-12)
    assert whole.loss().data == pytest.approx(0.256138475, abs=5e-10)
    single.reset()  # the velocities start anew
    assert single.train(1) == losses[:1] and single.train(1) == losses[1:2]


def test_check_and_quantities_leave_the_parameters_alone() -> None:
    d = load_derivation(TEXT + '"E@3" = 0.1\n')
    d.train(2)
    before = {n: p.data for n, p in d.parameters.items()}
    d.check()
    d.quantities(step=1)
    d.value("w1@4")
    assert {n: p.data for n, p in d.parameters.items()} == before


@pytest.mark.parametrize("loss", sorted(nn.LOSSES))
def test_loss_terms_add_up_to_the_named_loss(loss: str) -> None:
    # Each output's term is its share: for mean losses, its own loss divided by the outputs' number.
    outs = [Value(0.3), Value(0.8), Value(0.6)]
    targets = [0.0, 1.0, 1.0] if loss != "hinge" else [-1.0, 1.0, 1.0]
    terms = loss_terms(loss, outs, targets)
    assert len(terms) == 3
    assert math.fsum(t.data for t in terms) == pytest.approx(nn.LOSSES[loss](outs, targets).data, rel=1e-14)
    if loss == "squared_error":
        assert terms[0].data == pytest.approx(0.09, rel=1e-14)  # (0 - 0.3)^2
    if loss == "mean_squared_error":
        assert terms[0].data == pytest.approx(0.03, rel=1e-14)  # (0 - 0.3)^2 / 3


def test_single_output_loss_is_its_term_and_identity_net_is_out() -> None:
    d = load_example("seed002")
    fw = Network(d.spec).forward()
    assert fw.terms["D0"] is fw.loss and fw.loss.label == "E"
    assert fw.out["Z1"] is fw.net["Z1"] and fw.net["Z1"].label == "net_Z1"
    q = d.quantities()
    assert q["out_D0"] == 4.0 and q["E"] == 8.0  # 1/2 (0 - 4)^2
    assert q["dE/dout_D0"] == 4.0 == q["dE/dnet_D0"]  # out - target, identity activation
    assert q["dE/dW11"] == 0.0  # the input X1 is 0
    assert q["W10+"] == pytest.approx(0.6, abs=1e-15)  # 1 - 0.1 * 4 * V01 (= 1)


def test_replay_without_replacements_gives_the_engines_numbers() -> None:
    # The checker's replay must agree with the engine (same table, same order).
    for name in ("seed003", "seed002", "seed000"):
        spec = load_example(name).spec
        replay = Network(spec).replay()
        trace = replay.run({}, until=2, keep={0, 1, 2})
        for k in (0, 1, 2):  # the eager engine and nn.SGD, k steps on
            net, after = Network(spec), Network(spec)
            net.train(k)
            after.train(k + 1)
            fw = net.forward()
            fw.loss.backward()
            engine = {Quantity("E", None, k): fw.loss.data}
            engine |= {Quantity(kind, s, k): fw.nodes[Quantity(kind, s, k).label].data
                       for kind, subjects in (("net", spec.layers[1]), ("out", spec.layers[-1]))
                       for s in subjects}
            engine |= {Quantity("dnet", s, k): fw.net[s].grad for s in spec.layers[1]}
            engine |= {Quantity("grad", p, k): net.parameters[p].grad for p in spec.parameter_names}
            engine |= {Quantity("param", p, k + 1): after.parameters[p].data for p in spec.parameter_names}
            for q, value in engine.items():
                assert trace.get(replay.key(q)) == pytest.approx(value, rel=1e-14, abs=1e-300), (name, q)


def test_relu_and_tanh_networks_match_finite_differences() -> None:
    # A network mixing activations: dE/dP against central differences of the loss.
    text = TEXT.replace('activation = "sigmoid"', 'activation = ["relu", "tanh"]')
    d = load_derivation(text)
    d.loss().backward()
    grads = {n: p.grad for n, p in d.parameters.items()}
    eps = 1e-6
    for name, p in d.parameters.items():
        p.data += eps
        up = d.loss().data
        p.data -= 2 * eps
        down = d.loss().data
        p.data += eps
        assert grads[name] == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-10), name


def test_explain_delegates_to_the_explanation_module() -> None:
    pytest.importorskip("autograd_tiny.explain")
    d = load_derivation(TEXT)
    text = d.explain("w5")
    assert "w5" in text and "0.0821" in text
    with pytest.raises(ValueError, match="no weight or bias 'w9'"):
        d.explain("w9")


def test_spec_source_name_in_messages() -> None:
    spec = parse_spec(TEXT, "my.toml")
    assert spec.source == "my.toml" and spec.parameter_names[-2:] == ["b1", "b2"]


def test_loss_under_no_grad_still_builds_the_labelled_graph() -> None:
    from autograd_tiny import no_grad

    d = load_example("seed004")
    with no_grad():
        loss = d.loss()
    loss.backward()
    # seed 004 by hand: E = 0.298371109, dE/dw5 = 0.082167041 (same figures as above)
    assert loss.label == "E" and round(loss.data, 9) == 0.298371109
    assert round(d.parameters["w5"].grad, 9) == 0.082167041
