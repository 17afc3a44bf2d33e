"""nn modules: Module API, Neuron, Layer, MLP, bias modes, state dicts, and the articles' networks."""

from __future__ import annotations

import json
import math

import pytest

from autograd_tiny import Value, nn


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# -- the articles' networks --------------------------------------------------------------------------


def test_seed004_network_forward_pass_matches_the_hand_calculation(seed004_network) -> None:
    net, p = seed004_network()
    out_o1, out_o2 = net([0.05, 0.10])
    E = nn.half_squared_error([out_o1, out_o2], [0.01, 0.99])
    nodes = {v.label: v for v in _graph(E) if v.label}
    # net_h1 = w1 i1 + w2 i2 + b1 = 0.15 * 0.05 + 0.20 * 0.10 + 0.35 = 0.0075 + 0.02 + 0.35 = 0.3775
    assert nodes["net_h1"].data == pytest.approx(0.3775, abs=1e-15)
    # out_h1 = 1 / (1 + e**-0.3775) = 0.593269992
    assert nodes["out_h1"].data == pytest.approx(0.593269992, abs=5e-10)
    # net_h2 = 0.25 * 0.05 + 0.30 * 0.10 + 0.35 = 0.3925; out_h2 = 1 / (1 + e**-0.3925) = 0.596884378
    assert nodes["net_h2"].data == pytest.approx(0.3925, abs=1e-15)
    assert nodes["out_h2"].data == pytest.approx(0.596884378, abs=5e-10)
    # net_o1 = w5 out_h1 + w6 out_h2 + b2 = 0.40 * 0.593269992 + 0.45 * 0.596884378 + 0.60
    #        = 0.237307997 + 0.268597970 + 0.60 = 1.105905967; out_o1 = sigmoid(1.105905967) = 0.75136507
    assert nodes["net_o1"].data == pytest.approx(1.105905967, abs=5e-9)
    assert out_o1.data == pytest.approx(0.75136507, abs=5e-9)
    # net_o2 = 0.50 * 0.593269992 + 0.55 * 0.596884378 + 0.60 = 1.224921404; out_o2 = 0.772928465
    assert out_o2.data == pytest.approx(0.772928465, abs=5e-9)
    # E = 1/2 (0.01 - 0.75136507)**2 + 1/2 (0.99 - 0.772928465)**2 = 0.274811083 + 0.023560026
    #   = 0.298371109
    assert E.data == pytest.approx(0.298371109, abs=5e-9)
    assert out_o1.label == "out_o1" and nodes["net_o2"].label == "net_o2"


def test_seed004_network_gradients_match_the_hand_calculation_and_torch(seed004_network) -> None:
    net, p = seed004_network()
    E = nn.half_squared_error(net([0.05, 0.10]), [0.01, 0.99])
    E.backward()
    # dE/dw5 = (out_o1 - t1) * out_o1 (1 - out_o1) * out_h1
    #        = 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041
    assert p["w5"].grad == pytest.approx(0.082167041, abs=5e-10)
    # dE/dw1 = [delta_o1 w5 + delta_o2 w7] * out_h1 (1 - out_h1) * i1, with
    # delta_o1 = 0.74136507 * 0.186815602 = 0.138498562,
    # delta_o2 = (0.772928465 - 0.99) * 0.772928465 * 0.227071535 = -0.038098236:
    # (0.138498562 * 0.40 - 0.038098236 * 0.50) * 0.241300709 * 0.05 = 0.000438568
    assert p["w1"].grad == pytest.approx(0.000438568, abs=5e-10)

    torch = pytest.importorskip("torch")
    t = {name: torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for name, v in p.items()}
    i1, i2 = 0.05, 0.10
    h1 = torch.sigmoid(t["w1"] * i1 + t["w2"] * i2 + t["b1"])
    h2 = torch.sigmoid(t["w3"] * i1 + t["w4"] * i2 + t["b1"])
    o1 = torch.sigmoid(t["w5"] * h1 + t["w6"] * h2 + t["b2"])
    o2 = torch.sigmoid(t["w7"] * h1 + t["w8"] * h2 + t["b2"])
    tE = 0.5 * (0.01 - o1) ** 2 + 0.5 * (0.99 - o2) ** 2
    tE.backward()
    assert E.data == pytest.approx(tE.item(), rel=1e-14)
    for name, v in p.items():
        assert v.grad == pytest.approx(t[name].grad.item(), rel=1e-12), name


def test_seed004_shared_biases_are_single_parameters(seed004_network) -> None:
    net, p = seed004_network()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["w1", "w2", "b1", "w3", "w4", "w5", "w6", "b2", "w7", "w8"]
    assert len(net.parameters()) == 10
    assert net.get_parameter("b1") is p["b1"]
    assert net.layers[0].neurons[0].b is net.layers[0].neurons[1].b
    # b1 feeds h1 and h2, so its gradient is the sum of the two neurons' contributions:
    # compare with a copy of the network where h2 has a bias of its own with the same value
    nn.half_squared_error(net([0.05, 0.10]), [0.01, 0.99]).backward()
    split, q = seed004_network()
    own = split.layers[0].neurons[1].b = Value(0.35)
    nn.half_squared_error(split([0.05, 0.10]), [0.01, 0.99]).backward()
    assert q["b1"].grad != 0.0 and own.grad != 0.0
    assert p["b1"].grad == pytest.approx(q["b1"].grad + own.grad, rel=1e-14)


def test_seed004_one_training_step_matches_the_hand_calculation(seed004_network) -> None:
    net, p = seed004_network()
    # the article updates weights only; keep b1 and b2 out of the optimizer
    weights = [v for name, v in p.items() if name.startswith("w")]
    opt = nn.SGD(weights, lr=0.5)
    E = nn.half_squared_error(net([0.05, 0.10]), [0.01, 0.99])
    E.backward()
    opt.step()
    # w5+ = 0.40 - 0.5 * 0.082167041 = 0.358916480
    assert p["w5"].data == pytest.approx(0.358916480, abs=5e-10)
    # w1+ = 0.15 - 0.5 * 0.000438568 = 0.149780716
    assert p["w1"].data == pytest.approx(0.149780716, abs=5e-10)
    assert p["b1"].data == 0.35 and p["b2"].data == 0.60
    E_after = nn.half_squared_error(net([0.05, 0.10]), [0.01, 0.99])
    assert E_after.data < E.data


def seed003_network() -> tuple[nn.MLP, dict[str, Value]]:
    """The 2-2-2 network of seed 003 with its labels: h1 = w1 x1 + w4 x2 + b1,
    h2 = w3 x1 + w2 x2 + b1, o1 = w5 H1 + w6 H2 + b2, o2 = w7 H1 + w8 H2 + b2; sigmoid."""
    p = {name: Value(v, name) for name, v in [
        ("w1", 0.25), ("w4", 0.15), ("w3", 0.35), ("w2", 0.28), ("b1", 0.45),
        ("w5", 0.35), ("w6", 0.20), ("w7", 0.45), ("w8", 0.40), ("b2", 0.5)]}
    h1 = nn.Neuron(2, "sigmoid", weights=[p["w1"], p["w4"]], bias=p["b1"], name="h1")
    h2 = nn.Neuron(2, "sigmoid", weights=[p["w3"], p["w2"]], bias=p["b1"], name="h2")
    o1 = nn.Neuron(2, "sigmoid", weights=[p["w5"], p["w6"]], bias=p["b2"], name="o1")
    o2 = nn.Neuron(2, "sigmoid", weights=[p["w7"], p["w8"]], bias=p["b2"], name="o2")
    return nn.MLP.from_layers([nn.Layer.from_neurons([h1, h2]), nn.Layer.from_neurons([o1, o2])]), p


def test_seed003_network_forward_pass_matches_the_hand_calculation() -> None:
    net, _ = seed003_network()
    outs = net([0.1, 0.2])
    E = nn.half_squared_error(outs, [0.05, 0.95])
    nodes = {v.label: v for v in _graph(E) if v.label}
    # net_h1 = 0.25 * 0.1 + 0.15 * 0.2 + 0.45 = 0.505; out_h1 = sigmoid(0.505) = 0.623633628
    assert nodes["net_h1"].data == pytest.approx(0.505, abs=1e-15)
    assert nodes["out_h1"].data == pytest.approx(0.623633628, abs=5e-10)
    # net_h2 = 0.35 * 0.1 + 0.28 * 0.2 + 0.45 = 0.541; out_h2 = sigmoid(0.541) = 0.632045013
    assert nodes["net_h2"].data == pytest.approx(0.541, abs=1e-15)
    assert nodes["out_h2"].data == pytest.approx(0.632045013, abs=5e-10)
    # net_o1 = 0.35 * 0.623633628 + 0.20 * 0.632045013 + 0.5 = 0.218271770 + 0.126409003 + 0.5
    #        = 0.844680773 (the article prints 0.794609: a slip, and its out_o1 0.6888201 follows it)
    assert nodes["net_o1"].data == pytest.approx(0.844680773, abs=5e-9)
    # out_o1 = sigmoid(0.844680773) = 0.699450124
    assert outs[0].data == pytest.approx(0.699450124, abs=5e-9)
    # net_o2 = 0.45 * 0.623633628 + 0.40 * 0.632045013 + 0.5 = 1.033453138 (article: 1.0334528)
    # out_o2 = sigmoid(1.033453138) = 0.737584811 (article: 0.7375445)
    assert nodes["net_o2"].data == pytest.approx(1.033453138, abs=5e-9)
    assert outs[1].data == pytest.approx(0.737584811, abs=5e-9)
    # E = 1/2 (0.05 - 0.699450124)**2 + 1/2 (0.95 - 0.737584811)**2 = 0.210892732 + 0.022560106
    #   = 0.233452838 (article: 0.22661423, from its wrong out_o1)
    assert E.data == pytest.approx(0.233452838, abs=5e-9)


def seed000_style_network() -> tuple[nn.MLP, dict[str, Value]]:
    """A 2-2-1 network labelled like seed 000 (w1..w4 into h1, h2; w5, w6 into o; biases of 1,
    not trained). The article's inputs and weights were lost, so these numbers are our own."""
    p = {name: Value(v, name) for name, v in [
        ("w1", 0.1), ("w2", 0.2), ("w3", 0.3), ("w4", 0.4), ("w5", -0.5), ("w6", -0.6),
        ("b1", 1.0), ("b2", 1.0)]}
    h1 = nn.Neuron(2, "sigmoid", weights=[p["w1"], p["w2"]], bias=p["b1"], freeze_bias=True, name="h1")
    h2 = nn.Neuron(2, "sigmoid", weights=[p["w3"], p["w4"]], bias=p["b1"], freeze_bias=True, name="h2")
    o = nn.Neuron(2, "sigmoid", weights=[p["w5"], p["w6"]], bias=p["b2"], freeze_bias=True, name="o")
    return nn.MLP.from_layers([nn.Layer.from_neurons([h1, h2]), nn.Layer.from_neurons([o])]), p


def test_seed000_style_221_network_forward_and_gradient_by_hand() -> None:
    net, p = seed000_style_network()
    (out,) = net([0.5, 0.25])
    E = nn.half_squared_error(out, 0.99)
    E.backward()
    # net_h1 = 0.1 * 0.5 + 0.2 * 0.25 + 1 = 1.1, out_h1 = sigmoid(1.1) = 0.750260106
    # net_h2 = 0.3 * 0.5 + 0.4 * 0.25 + 1 = 1.25, out_h2 = sigmoid(1.25) = 0.777299861
    h1, h2 = sigmoid(1.1), sigmoid(1.25)
    assert (h1, h2) == (pytest.approx(0.750260106, abs=5e-10), pytest.approx(0.777299861, abs=5e-10))
    # net_o = -0.5 * 0.750260106 - 0.6 * 0.777299861 + 1 = -0.375130053 - 0.466379917 + 1
    #       = 0.158490030, out_o = sigmoid(0.158490030) = 0.539539775
    assert out.data == pytest.approx(sigmoid(-0.5 * h1 - 0.6 * h2 + 1), rel=1e-15)
    assert out.data == pytest.approx(0.539539775, abs=5e-10)
    # dE/dw5 = (out_o - 0.99) * out_o (1 - out_o) * out_h1  (the seed-000 chain: E, out_o, in_o, w5)
    o = out.data
    assert p["w5"].grad == pytest.approx((o - 0.99) * o * (1 - o) * h1, rel=1e-14)
    # biases of 1 are frozen: present in the state dict, absent from parameters()
    assert set(net.state_dict()) == {"w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2"}
    assert [n for n, _ in net.named_parameters()] == ["w1", "w2", "w3", "w4", "w5", "w6"]


def _graph(root: Value) -> list[Value]:
    from autograd_tiny import topological_order

    return topological_order(root)


# -- Neuron --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation, fn", [
    ("sigmoid", sigmoid), ("tanh", math.tanh), ("relu", lambda z: max(z, 0.0)), ("identity", lambda z: z),
])
def test_neuron_output_for_every_activation(activation: str, fn) -> None:
    n = nn.Neuron(3, activation, weights=[0.5, -1.0, 0.25], bias=0.1)
    for x in ([1.0, 2.0, -3.0], [0.2, -0.4, 4.0]):
        z = 0.5 * x[0] - 1.0 * x[1] + 0.25 * x[2] + 0.1
        assert n(x).data == pytest.approx(fn(z), rel=1e-15, abs=1e-15)


def test_neuron_labels_its_nodes_and_parameters() -> None:
    n = nn.Neuron(2, "tanh", weights=[0.5, Value(-1.0, "wx")], bias=0.2, name="h1")
    out = n([1.0, 2.0])
    assert out.label == "out_h1"
    assert out.parents[0].label == "net_h1"
    assert [p.label for p in n.parameters()] == ["h1.w1", "wx", "h1.b"], "1-based, like inputs x1, x2"
    ident = nn.Neuron(2, "identity", weights=[1.0, 1.0], name="o")([1.0, 2.0])
    assert ident.label == "net_o", "with identity the net input is the output"


def test_neuron_without_bias_and_with_random_weights() -> None:
    n = nn.Neuron(4, bias=None)
    assert n.b is None and len(n.parameters()) == 4
    assert all(-1.0 <= w.data < 1.0 for w in n.w)


def test_neuron_accepts_value_inputs_and_backpropagates_into_them() -> None:
    x = [Value(1.0), Value(2.0)]
    out = nn.Neuron(2, "identity", weights=[3.0, 4.0], bias=None)(x)
    out.backward()
    assert (x[0].grad, x[1].grad) == (3.0, 4.0)


# -- Layer and bias modes ---------------------------------------------------------------------------------


def test_layer_bias_per_neuron() -> None:
    layer = nn.Layer(2, 3, bias="neuron", bias_value=0.5)
    biases = [n.b for n in layer.neurons]
    assert len({id(b) for b in biases}) == 3
    assert all(b is not None and b.data == 0.5 for b in biases)
    assert len(layer.parameters()) == 9


def test_layer_bias_shared() -> None:
    layer = nn.Layer(2, 3, bias="layer", bias_value=0.35)
    biases = {id(n.b) for n in layer.neurons}
    assert len(biases) == 1
    assert len(layer.parameters()) == 7  # 6 weights + 1 shared bias
    outs = layer([1.0, 1.0])
    sum(outs, Value(0.0)).backward()
    # the shared bias collects the gradient of all three neurons
    expected = sum(1 - o.data ** 2 for o in outs)  # tanh' = 1 - out**2
    assert layer.neurons[0].b.grad == pytest.approx(expected, rel=1e-14)


def test_layer_without_bias() -> None:
    layer = nn.Layer(2, 2, bias="none")
    assert all(n.b is None for n in layer.neurons) and len(layer.parameters()) == 4


def test_frozen_biases_are_kept_out_of_parameters_and_training() -> None:
    net = nn.MLP(2, [2, 1], activation="sigmoid", bias_value=0.5, freeze_bias=True, seed=1)
    assert len(net.parameters()) == 6
    assert len(net.parameters(include_frozen=True)) == 9
    assert len(net.state_dict()) == 9
    opt = nn.SGD(net.parameters(), lr=1.0)
    E = nn.half_squared_error(net([1.0, -1.0]), [1.0])
    E.backward()
    biases = [n.b for layer in net.layers for n in layer.neurons]
    assert all(b is not None and b.grad != 0.0 for b in biases), "frozen biases still get gradients"
    before = [w.data for w in net.parameters()]
    opt.step()
    assert all(b is not None and b.data == 0.5 for b in biases)
    assert [w.data for w in net.parameters()] != before
    net.zero_grad()
    assert all(p.grad == 0.0 for p in net.parameters(include_frozen=True))


# -- MLP ---------------------------------------------------------------------------------------------


def test_mlp_shape_and_parameter_count() -> None:
    net = nn.MLP(3, [4, 4, 1], seed=0)
    assert [len(layer.neurons) for layer in net.layers] == [4, 4, 1]
    assert len(net.parameters()) == (3 + 1) * 4 + (4 + 1) * 4 + (4 + 1) * 1
    assert len(net([1.0, 2.0, 3.0])) == 1


def test_mlp_seed_makes_weights_reproducible() -> None:
    a, b, c = nn.MLP(2, [3, 1], seed=7), nn.MLP(2, [3, 1], seed=7), nn.MLP(2, [3, 1], seed=8)
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != c.state_dict()


@pytest.mark.parametrize("acts", [["sigmoid", "tanh"], ["relu", "identity"], ["tanh", "sigmoid"],
                                  ["identity", "relu"]])
def test_mlp_activation_per_layer_matches_torch(acts) -> None:
    torch = pytest.importorskip("torch")
    net = nn.MLP(3, [4, 2], activation=acts, bias_value=0.1, seed=3)
    x = [0.5, -1.2, 2.0]
    outs = net(x)
    loss = nn.squared_error(outs, [0.3, -0.7])
    loss.backward()
    torch_act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}
    h = torch.tensor(x, dtype=torch.float64)
    weights = []
    for layer, act in zip(net.layers, acts):
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        weights.append((W, b))
        h = torch_act[act](W @ h + b)
    t_loss = ((torch.tensor([0.3, -0.7], dtype=torch.float64) - h) ** 2).sum()
    t_loss.backward()
    assert loss.data == pytest.approx(t_loss.item(), rel=1e-13)
    for layer, (W, b) in zip(net.layers, weights):
        for j, n in enumerate(layer.neurons):
            for i, w in enumerate(n.w):
                assert w.grad == pytest.approx(W.grad[j, i].item(), rel=1e-12, abs=1e-15)
            assert n.b.grad == pytest.approx(b.grad[j].item(), rel=1e-12, abs=1e-15)


def test_named_parameters_use_paths_when_unlabelled() -> None:
    net = nn.MLP(2, [1], seed=0)
    assert [n for n, _ in net.named_parameters()] == [
        "layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]


def test_named_parameters_are_unique_even_with_repeated_labels() -> None:
    n1 = nn.Neuron(1, weights=[Value(1.0, "w")])
    n2 = nn.Neuron(1, weights=[Value(2.0, "w")])
    net = nn.MLP.from_layers([nn.Layer.from_neurons([n1, n2])])
    names = [n for n, _ in net.named_parameters()]
    assert len(names) == len(set(names)) == 4
    assert names[0] == "w" and names[2] == "layers.0.neurons.1.w.0"


def test_get_parameter_by_name(seed004_network) -> None:
    net, p = seed004_network()
    net.get_parameter("w5").data = 0.41
    assert p["w5"].data == 0.41
    with pytest.raises(KeyError, match="'w9'.*w1, w2, b1"):
        net.get_parameter("w9")


def test_state_dict_json_round_trip() -> None:
    net = nn.MLP(2, [3, 2], activation=["tanh", "sigmoid"], seed=11)
    text = json.dumps(net.state_dict())
    state = json.loads(text)
    assert all(type(v) is float for v in state.values())
    other = nn.MLP(2, [3, 2], activation=["tanh", "sigmoid"], seed=12)
    assert [o.data for o in other([0.3, 0.9])] != [o.data for o in net([0.3, 0.9])]
    other.load_state_dict(state)
    assert [o.data for o in other([0.3, 0.9])] == [o.data for o in net([0.3, 0.9])]
    assert other.state_dict() == net.state_dict()


def test_state_dict_with_labels_and_shared_biases(seed004_network) -> None:
    net, p = seed004_network()
    state = json.loads(json.dumps(net.state_dict()))
    assert state == {"w1": 0.15, "w2": 0.20, "b1": 0.35, "w3": 0.25, "w4": 0.30,
                     "w5": 0.40, "w6": 0.45, "b2": 0.60, "w7": 0.50, "w8": 0.55}
    state["b1"] = 0.5
    net.load_state_dict(state)
    assert net.layers[0].neurons[0].b.data == net.layers[0].neurons[1].b.data == 0.5


def test_load_state_dict_non_strict_and_atomic(seed004_network) -> None:
    net, p = seed004_network()
    net.load_state_dict({"w1": 1.0, "unknown": 2.0}, strict=False)
    assert p["w1"].data == 1.0
    with pytest.raises(TypeError, match="state\\['w3'\\]"):
        net.load_state_dict({"w2": 9.0, "w3": "x"}, strict=False)
    assert p["w2"].data == 0.20, "a failed load changes nothing"


def test_zero_grad_clears_every_parameter() -> None:
    net = nn.MLP(2, [2, 1], seed=0)
    nn.half_squared_error(net([1.0, 1.0]), [0.0]).backward()
    assert any(p.grad != 0.0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad == 0.0 for p in net.parameters())


def test_delta_rule_of_seed001_gives_the_same_gradients_as_backward(seed004_network) -> None:
    # Seed 001's delta rule with the logistic function and E = sum 1/2 (t - o)**2:
    #   output neuron j:  delta_j = (o_j - t_j) o_j (1 - o_j)
    #   hidden neuron j:  delta_j = (sum over l fed by j of delta_l w_jl) o_j (1 - o_j)
    #   dE/dw_ij = o_i delta_j, and a bias gets the deltas of every neuron it feeds.
    net, p = seed004_network()
    x, t = [0.05, 0.10], [0.01, 0.99]
    E = nn.half_squared_error(net(x), t)
    E.backward()
    h = [sigmoid(p["w1"].data * x[0] + p["w2"].data * x[1] + p["b1"].data),
         sigmoid(p["w3"].data * x[0] + p["w4"].data * x[1] + p["b1"].data)]
    o = [sigmoid(p["w5"].data * h[0] + p["w6"].data * h[1] + p["b2"].data),
         sigmoid(p["w7"].data * h[0] + p["w8"].data * h[1] + p["b2"].data)]
    d_o = [(o[k] - t[k]) * o[k] * (1 - o[k]) for k in range(2)]
    d_h = [(d_o[0] * p["w5"].data + d_o[1] * p["w7"].data) * h[0] * (1 - h[0]),
           (d_o[0] * p["w6"].data + d_o[1] * p["w8"].data) * h[1] * (1 - h[1])]
    expected = {
        "w1": x[0] * d_h[0], "w2": x[1] * d_h[0], "w3": x[0] * d_h[1], "w4": x[1] * d_h[1],
        "w5": h[0] * d_o[0], "w6": h[1] * d_o[0], "w7": h[0] * d_o[1], "w8": h[1] * d_o[1],
        "b1": d_h[0] + d_h[1], "b2": d_o[0] + d_o[1],
    }
    for name, value in expected.items():
        assert p[name].grad == pytest.approx(value, rel=1e-13), name
