"""Network diagrams and a derivation's pictures, rendered with both layout programs."""

from __future__ import annotations

import pytest
from test_render import WIRING_004, Picture, picture, program, seed004, torch_grads

from autograd_tiny import Value
from autograd_tiny.nn import MLP, Layer, Module, Neuron, half_squared_error
from autograd_tiny.render import DOT_ENV, GraphvizNotFoundError, _program, draw_network, write_svgs

__all__ = ["program"]  # the fixture, imported so that pytest finds it here


class SeedDerivation:
    """What write_svgs needs of a derivation, built like the seed 004 derivation file would be."""

    def __init__(self) -> None:
        self.network, self.parameters, self.x, self.targets = seed004()
        self.input_names = ["i1", "i2"]
        self.layers = [["i1", "i2"], ["h1", "h2"], ["o1", "o2"]]

    def loss(self) -> Value:
        """A fresh forward pass; like Derivation.loss() it zeroes the parameters' gradients first."""
        self.network.zero_grad()
        xs = [Value(v, name) for v, name in zip(self.x, self.input_names)]
        loss = half_squared_error(self.network(xs), self.targets)
        loss.label = "E"
        return loss


def weight_box(pic: Picture, name: str) -> str:
    hits = [n for n, t in pic.nodes.items() if t and t[0].startswith(f"{name} = ")]
    assert len(hits) == 1, name
    return hits[0]


def test_seed004_network_before_backward_shows_weights_not_grads(program: str) -> None:
    net, params, x, targets = seed004()
    pic = picture(draw_network(net, x=x), program)
    assert pic.texts(pic.find("x1")) == ["x1", "0.0500"]
    assert pic.texts(pic.find("x2")) == ["x2", "0.1000"]
    # out_h1 = sigmoid(0.3775) = 0.593270, out_o1 = 0.751365 (the article's forward pass).
    assert pic.texts(pic.find("h1")) == ["h1", "sigmoid", "0.5933"]
    assert pic.texts(pic.find("o1")) == ["o1", "sigmoid", "0.7514"]
    assert pic.texts(pic.find("o2")) == ["o2", "sigmoid", "0.7729"]
    for name, p in params.items():
        if name.startswith("w"):
            assert pic.texts(weight_box(pic, name)) == [f"{name} = {p.data:.4f}"]
    assert not any("grad" in t for texts in pic.nodes.values() for t in texts)


def test_seed004_network_edges_follow_the_wiring(program: str) -> None:
    net, params, x, targets = seed004()
    pic = picture(draw_network(net), program)
    for neuron, weights in WIRING_004.items():
        sources = ["x1", "x2"] if neuron.startswith("h") else ["h1", "h2"]
        for source, w in zip(sources, weights):
            box = weight_box(pic, w)
            assert pic.into(box) == [pic.find(source)], w
            assert pic.out_of(box) == [pic.find(neuron)], w
    # One node per shared bias, with an edge to each neuron it feeds.
    b1, b2 = pic.find("b1"), pic.find("b2")
    assert sorted(pic.texts(n)[0] for n in pic.out_of(b1)) == ["h1", "h2"]
    assert sorted(pic.texts(n)[0] for n in pic.out_of(b2)) == ["o1", "o2"]
    assert pic.texts(b1) == ["b1", "= 0.3500"]


def test_seed004_network_after_backward_shows_torch_gradients(program: str) -> None:
    net, params, x, targets = seed004()
    loss = half_squared_error(net(x), targets)
    loss.backward()
    _, grads = torch_grads(params, WIRING_004, x, targets)
    pic = picture(draw_network(net), program)
    for name in params:
        if name.startswith("w"):
            assert pic.texts(weight_box(pic, name))[1] == f"grad {grads[name]:.4f}"
    assert pic.texts(weight_box(pic, "w5")) == ["w5 = 0.4000", "grad 0.0822"]  # the article's figure
    assert pic.texts(pic.find("b1")) == ["b1", "= 0.3500", f"grad {grads['b1']:.4f}"]
    assert pic.texts(pic.find("b2"))[2] == f"grad {grads['b2']:.4f}"
    hidden = draw_network(net, show_grad=False).source
    assert "grad" not in hidden


def test_default_names_frozen_and_separate_biases(program: str) -> None:
    net = MLP(2, [3, 3, 1], "tanh", seed=1)
    frozen = Layer(2, 2, "relu", bias="layer", freeze_bias=True, bias_value=0.25)
    pic = picture(draw_network(net, show_grad=True), program)
    for name in ("x1", "x2", "h1_1", "h2_3", "o1", "b[1][1]", "b[1][3]", "b[3][1]"):
        assert pic.find(name), name
    assert pic.texts(pic.find("o1")) == ["o1", "tanh"]
    w = net.layers[1].neurons[2].w[0]  # layer 2, neuron 3, input 1, counted from 1
    assert w.label == "w[2][3,1]"
    assert pic.texts(weight_box(pic, "w[2][3,1]")) == [f"w[2][3,1] = {w.data:.4f}", "grad 0.0000"]
    fpic = picture(draw_network(frozen, x=[1.0, -2.0]), program)
    assert fpic.texts(fpic.find("b[1]")) == ["b[1]", "= 0.2500", "frozen"]
    assert len(fpic.out_of(fpic.find("b[1]"))) == 2
    bare = MLP.from_layers([Layer.from_neurons([Neuron(2, name=""), Neuron(2, name="")])])
    assert [n.name for n in bare.layers[0].neurons] == ["", ""]  # unnamed: the picture names them
    bpic = picture(draw_network(bare), program)
    assert bpic.find("o2") and weight_box(bpic, "w[1][2,1]") and bpic.find("b[1][2]")
    single = picture(draw_network(Neuron(3, "sigmoid", bias=None, name="n")), program)
    assert single.find("n") and not [k for k, t in single.nodes.items() if t and t[0].startswith("b")]


def test_draw_network_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match="draw_network needs a Neuron, Layer, MLP or derivation, got str"):
        draw_network("net")
    with pytest.raises(ValueError, match="x has 3 values but the network has 2 inputs"):
        draw_network(MLP(2, [1]), x=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="unknown rankdir"):
        draw_network(MLP(2, [1]), rankdir="up")


def test_networks_show_inline_in_jupyter(program: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DOT_ENV, program)
    net, params, x, targets = seed004()
    bundle = net._repr_mimebundle_()
    assert Picture(bundle["image/svg+xml"]).find("o2")

    class Custom(Module):
        def __repr__(self) -> str:
            return "Custom()"

    assert Custom()._repr_mimebundle_() == {"text/plain": "Custom()"}


# -- a derivation's pictures ---------------------------------------------------------------------

def test_derivation_network_uses_its_names_and_loss(program: str) -> None:
    d = SeedDerivation()
    pic = picture(draw_network(d), program)
    assert pic.texts(pic.find("i1")) == ["i1", "0.0500"]
    assert pic.texts(pic.find("h2")) == ["h2", "sigmoid", "0.5969"]  # sigmoid(0.3925)
    title = [t.text for t in pic.root.iter("{http://www.w3.org/2000/svg}text") if t.text and "E =" in t.text]
    assert title == ["E = 0.2984"]  # E = 0.298371 (the article's total error)


def test_write_svgs_writes_graph_and_network(program: str, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(DOT_ENV, program)
    d = SeedDerivation()
    _, grads = torch_grads(d.parameters, WIRING_004, d.x, d.targets)
    for _ in range(2):  # gradients are zeroed first, so a second call draws the same numbers
        paths = write_svgs(d, tmp_path / "out")
        assert paths == [tmp_path / "out" / "graph.svg", tmp_path / "out" / "network.svg"]
        graph, network = (Picture(p.read_text()) for p in paths)
        assert graph.texts(graph.find("parameter w5")) == ["parameter w5", "data 0.4000", "grad 0.0822"]
        assert graph.texts(graph.find("input i1"))[1] == "data 0.0500"
        assert graph.texts(graph.find("E"))[1:] == ["data 0.2984", "grad 1.0000"]
        assert graph.clusters.keys() == {"neuron h1", "neuron h2", "neuron o1", "neuron o2"}
        for name in ("w1", "w4", "w8"):
            assert network.texts(weight_box(network, name))[1] == f"grad {grads[name]:.4f}"
        assert d.parameters["w5"].grad == pytest.approx(grads["w5"], abs=1e-12)


def test_write_svgs_without_graphviz_writes_both_dot_files(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(DOT_ENV, raising=False)
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(_program, "_script_dirs", lambda: [])
    with pytest.raises(GraphvizNotFoundError) as info:
        write_svgs(SeedDerivation(), tmp_path)
    graph_dot, network_dot = tmp_path / "graph.dot", tmp_path / "network.dot"
    assert str(graph_dot) in str(info.value) and str(network_dot) in str(info.value)
    assert "pip install graphviz-pure" in str(info.value)
    assert "parameter w5" in graph_dot.read_text() and "w5 = 0.4000" in network_dot.read_text()
    assert not list(tmp_path.glob("*.svg"))


def test_drawing_a_derivation_keeps_its_gradients(program: str) -> None:
    d = SeedDerivation()
    d.loss().backward()
    before = {name: p.grad for name, p in d.parameters.items()}
    pic = picture(draw_network(d), program)
    assert {name: p.grad for name, p in d.parameters.items()} == before
    assert pic.texts(weight_box(pic, "w5")) == ["w5 = 0.4000", "grad 0.0822"]


def test_write_svgs_with_a_shipped_derivation(program: str, tmp_path, monkeypatch) -> None:
    from autograd_tiny.derivation import load_example

    monkeypatch.setenv(DOT_ENV, program)
    d = load_example("seed004")
    graph, network = (Picture(p.read_text()) for p in write_svgs(d, tmp_path))
    _, grads = torch_grads(seed004()[1], WIRING_004, [0.05, 0.10], [0.01, 0.99])
    for name in ("w1", "w5", "w8"):
        assert graph.texts(graph.find(f"parameter {name}"))[2] == f"grad {grads[name]:.4f}"
        assert network.texts(weight_box(network, name))[1] == f"grad {grads[name]:.4f}"
    for name in d.input_names:
        assert graph.find(f"input {name}")
    assert graph.texts(graph.find("E"))[1] == "data 0.2984"
