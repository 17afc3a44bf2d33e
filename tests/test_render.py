"""Computation graphs as SVG: rendered with dot and graphviz-pure, parsed as XML, numbers checked.

The two articles' 2-2-2 networks (seeds 003 and 004) are drawn after backward();
every gradient printed in the picture is compared with PyTorch in float64, and a
few with figures worked out by hand.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

import pytest

import autograd_tiny
from autograd_tiny import Value
from autograd_tiny.errors import UsageError
from autograd_tiny.nn import MLP, Layer, Neuron, half_squared_error
from autograd_tiny.render import (
    AUTO_COLLAPSE,
    DOT_ENV,
    GraphvizNotFoundError,
    RenderError,
    _program,
    draw_graph,
    find_program,
    render_svg,
    to_svg,
)
from autograd_tiny.value import topological_order

SVG = "{http://www.w3.org/2000/svg}"


# -- the two articles' networks --------------------------------------------------------------

def build_net(weights: dict[str, float], wiring: dict[str, list[str]], biases: dict[str, float],
              bias_of: dict[str, str]) -> tuple[MLP, dict[str, Value]]:
    """Return a 2-2-2 sigmoid MLP whose parameters are Values labelled as in the article."""
    params = {k: Value(v, k) for k, v in {**weights, **biases}.items()}
    layers = []
    for names in (["h1", "h2"], ["o1", "o2"]):
        layers.append(Layer.from_neurons([
            Neuron(2, "sigmoid", weights=[params[w] for w in wiring[n]], bias=params[bias_of[n]], name=n)
            for n in names
        ]))
    return MLP.from_layers(layers), params


def seed004() -> tuple[MLP, dict[str, Value], list[float], list[float]]:
    """Seed 004: inputs 0.05, 0.10; targets 0.01, 0.99 (figures of the article's images)."""
    net, params = build_net(
        dict(w1=0.15, w2=0.20, w3=0.25, w4=0.30, w5=0.40, w6=0.45, w7=0.50, w8=0.55),
        {"h1": ["w1", "w2"], "h2": ["w3", "w4"], "o1": ["w5", "w6"], "o2": ["w7", "w8"]},
        dict(b1=0.35, b2=0.60), {"h1": "b1", "h2": "b1", "o1": "b2", "o2": "b2"},
    )
    return net, params, [0.05, 0.10], [0.01, 0.99]


def seed003() -> tuple[MLP, dict[str, Value], list[float], list[float]]:
    """Seed 003: h1 = w1*x1 + w4*x2 + b1, h2 = w3*x1 + w2*x2 + b1, o = w5.. w8, b2; targets 0.05, 0.95."""
    net, params = build_net(
        dict(w1=0.25, w4=0.15, w3=0.35, w2=0.28, w5=0.35, w6=0.20, w7=0.45, w8=0.40),
        {"h1": ["w1", "w4"], "h2": ["w3", "w2"], "o1": ["w5", "w6"], "o2": ["w7", "w8"]},
        dict(b1=0.45, b2=0.5), {"h1": "b1", "h2": "b1", "o1": "b2", "o2": "b2"},
    )
    return net, params, [0.1, 0.2], [0.05, 0.95]


def loss_of(net: MLP, x: list[float], targets: list[float]) -> tuple[Value, list[Value]]:
    """Return the articles' loss E = sum 1/2 (target - out)^2 after backward(), and the input Values."""
    xs = [Value(v, f"x{i + 1}") for i, v in enumerate(x)]
    loss = half_squared_error(net(xs), targets)
    loss.label = "E"
    net.zero_grad()
    loss.backward()
    return loss, xs


def torch_grads(params: dict[str, Value], wiring: dict[str, list[str]], x: list[float],
                targets: list[float]) -> tuple[float, dict[str, float]]:
    """Return E and dE/dparam computed by PyTorch in float64 for a 2-2-2 sigmoid net."""
    torch = pytest.importorskip("torch")
    p = {k: torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    bias = {"h1": "b1", "h2": "b1", "o1": "b2", "o2": "b2"}
    h = [torch.sigmoid(p[wiring[n][0]] * x[0] + p[wiring[n][1]] * x[1] + p[bias[n]]) for n in ("h1", "h2")]
    o = [torch.sigmoid(p[wiring[n][0]] * h[0] + p[wiring[n][1]] * h[1] + p[bias[n]]) for n in ("o1", "o2")]
    e = sum(0.5 * (t - out) ** 2 for t, out in zip(targets, o))
    e.backward()
    return float(e.detach()), {k: float(v.grad) for k, v in p.items()}


WIRING_004 = {"h1": ["w1", "w2"], "h2": ["w3", "w4"], "o1": ["w5", "w6"], "o2": ["w7", "w8"]}
WIRING_003 = {"h1": ["w1", "w4"], "h2": ["w3", "w2"], "o1": ["w5", "w6"], "o2": ["w7", "w8"]}


# -- reading the SVG ---------------------------------------------------------------------------

class Picture:
    """The nodes, edges and clusters of an SVG written by dot or graphviz-pure."""

    def __init__(self, svg: str) -> None:
        self.root = ET.fromstring(svg)
        assert self.root.tag == SVG + "svg"
        self.nodes: dict[str, list[str]] = {}
        self.shapes: dict[str, ET.Element] = {}
        self.boxes: dict[str, tuple[float, float, float, float]] = {}
        self.edges: list[tuple[str, str]] = []
        self.edge_labels: dict[tuple[str, str], list[str]] = {}
        self.clusters: dict[str, tuple[float, float, float, float]] = {}
        for g in self.root.iter(SVG + "g"):
            kind = g.get("class")
            title = g.findtext(SVG + "title") or ""
            texts = [t.text or "" for t in g.iter(SVG + "text")]
            if kind == "node":
                self.nodes[title] = texts
                shape = next(e for e in g.iter() if e.tag in (SVG + "polygon", SVG + "ellipse", SVG + "path"))
                self.shapes[title] = shape
                self.boxes[title] = _bbox(shape)
            elif kind == "edge":
                tail, head = title.split("->")
                self.edges.append((tail, head))
                self.edge_labels[(tail, head)] = texts
            elif kind == "cluster":
                label = texts[0] if texts else title
                shape = next(e for e in g if e.tag in (SVG + "polygon", SVG + "path"))
                self.clusters[label] = _bbox(shape)

    def find(self, first_line: str) -> str:
        """Return the id of the one node whose first text line is ``first_line``."""
        hits = [k for k, texts in self.nodes.items() if texts and texts[0] == first_line]
        assert len(hits) == 1, f"{first_line!r}: {hits} in {sorted(t[0] for t in self.nodes.values() if t)}"
        return hits[0]

    def texts(self, node: str) -> list[str]:
        return self.nodes[node]

    def with_text(self, text: str) -> list[str]:
        """Return the ids of the nodes whose only text is ``text`` (operation nodes)."""
        return [k for k, t in self.nodes.items() if t == [text]]

    def into(self, node: str) -> list[str]:
        return [t for t, h in self.edges if h == node]

    def out_of(self, node: str) -> list[str]:
        return [h for t, h in self.edges if t == node]

    def inside(self, node: str, cluster: str) -> bool:
        x0, y0, x1, y1 = self.boxes[node]
        c0, d0, c1, d1 = self.clusters[cluster]
        return c0 <= x0 and x1 <= c1 and d0 <= y0 and y1 <= d1


def _bbox(shape: ET.Element) -> tuple[float, float, float, float]:
    if shape.tag == SVG + "ellipse":
        cx, cy = float(shape.get("cx", 0)), float(shape.get("cy", 0))
        rx, ry = float(shape.get("rx", 0)), float(shape.get("ry", 0))
        return cx - rx, cy - ry, cx + rx, cy + ry
    raw = shape.get("points") or shape.get("d") or ""
    nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", raw)]
    xs, ys = nums[0::2], nums[1::2]
    return min(xs), min(ys), max(xs), max(ys)


# -- the layout programs -----------------------------------------------------------------------

@pytest.fixture(params=["dot", "graphviz-pure"])
def program(request: pytest.FixtureRequest) -> str:
    """Each layout program in turn; skipped when it is not installed."""
    name: str = request.param
    if _program._which(name) is None:
        hint = "apt-get install graphviz" if name == "dot" else "pip install graphviz-pure"
        pytest.skip(f"{name} is not installed ({hint})")
    return name


def picture(graph_or_root: object, program: str) -> Picture:
    return Picture(to_svg(graph_or_root, program=program))


# -- seed 004 -------------------------------------------------------------------------------------

def test_seed004_graph_numbers_match_torch_and_hand_figures(program: str) -> None:
    net, params, x, targets = seed004()
    loss, xs = loss_of(net, x, targets)
    pic = picture(draw_graph(loss, params=net, inputs=xs), program)
    e, grads = torch_grads(params, WIRING_004, x, targets)

    # Every parameter's record: role, data and grad (torch, 4 decimals).
    for name, p in params.items():
        texts = pic.texts(pic.find(f"parameter {name}"))
        assert texts == [f"parameter {name}", f"data {p.data:.4f}", f"grad {grads[name]:.4f}"]
    # Hand figures (the article's worked example): dE/dw5 = 0.082167, E = 0.298371.
    assert pic.texts(pic.find("parameter w5"))[2] == "grad 0.0822"
    assert pic.texts(pic.find("E")) == ["E", f"data {e:.4f}", "grad 1.0000"]
    assert pic.texts(pic.find("E"))[1] == "data 0.2984"
    # net_h1 = 0.15*0.05 + 0.20*0.10 + 0.35 = 0.3775; out_h1 = sigmoid(0.3775) = 0.593270.
    assert pic.texts(pic.find("net_h1"))[1] == "data 0.3775"
    assert pic.texts(pic.find("out_h1"))[1] == "data 0.5933"
    # out_o1 = 0.751365 and dE/dout_o1 = out - target = 0.741365.
    assert pic.texts(pic.find("out_o1")) == ["out_o1", "data 0.7514", "grad 0.7414"]
    assert pic.texts(pic.find("input x1"))[1] == "data 0.0500"


def test_seed004_graph_has_an_operation_node_between_inputs_and_result(program: str) -> None:
    net, params, x, targets = seed004()
    loss, xs = loss_of(net, x, targets)
    pic = picture(draw_graph(loss, params=net, inputs=xs), program)

    assert len(pic.with_text("sigmoid")) == 4
    assert len(pic.with_text("*")) == 8  # one per weight
    # The targets and the 1/2 and the square were folded into their operations.
    assert len(pic.with_text("0.01 -")) == 1 and len(pic.with_text("0.99 -")) == 1
    assert len(pic.with_text("** 2")) == 2 and len(pic.with_text("0.5 *")) == 2
    # w5 -> (*) -> product, and x... out_h1 feeds the same (*).
    w5 = pic.find("parameter w5")
    (mul,) = pic.out_of(w5)
    assert pic.texts(mul) == ["*"]
    assert pic.find("out_h1") in pic.into(mul)
    (product,) = pic.out_of(mul)
    assert pic.texts(product) == ["data 0.2373", "grad 0.1385"]  # 0.40 * 0.593270; dE/dnet_o1
    # out_o1 = sigmoid(net_o1): net_o1 -> (sigmoid) -> out_o1.
    (sig,) = pic.into(pic.find("out_o1"))
    assert pic.texts(sig) == ["sigmoid"] and pic.into(sig) == [pic.find("net_o1")]
    # E = (+) of the two halves.
    (plus,) = pic.into(pic.find("E"))
    assert pic.texts(plus) == ["+"] and len(pic.into(plus)) == 2
    # The shared bias b1 feeds both hidden neurons' sums.
    assert len(pic.out_of(pic.find("parameter b1"))) == 2


def test_neurons_are_boxed_and_shared_values_stay_outside(program: str) -> None:
    net, params, x, targets = seed004()
    loss, xs = loss_of(net, x, targets)
    pic = picture(draw_graph(loss, params=net, inputs=xs), program)

    assert set(pic.clusters) == {"neuron h1", "neuron h2", "neuron o1", "neuron o2"}
    assert pic.inside(pic.find("parameter w5"), "neuron o1")
    assert pic.inside(pic.find("net_o1"), "neuron o1")
    assert pic.inside(pic.find("out_o1"), "neuron o1")
    assert not pic.inside(pic.find("parameter w5"), "neuron o2")
    for shared in ("parameter b1", "parameter b2", "input x1", "E"):
        assert not any(pic.inside(pic.find(shared), c) for c in pic.clusters), shared


def test_tiny_numbers_are_not_drawn_as_zero(program: str) -> None:
    # micrograd's classic ((a*b + c) * f).tanh() at a=2, b=-3, c=10, f=-2: L = -8, and
    # dtanh/dL = 1 - tanh(-8)^2 = 4.5014e-07 (PyTorch float64: 4.501405976853e-07), so
    # grad a = 4.5014e-07 * f * b = 2.7008e-06; four decimals would print all of them as 0.0000.
    a, b, c, f = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "f")
    L = (a * b + c) * f
    L.label = "L"
    o = L.tanh()
    o.label = "o"
    o.backward()
    pic = picture(draw_graph(o), program)
    assert pic.texts(pic.find("L")) == ["L", "data -8.0000", "grad 4.501e-07"]
    assert pic.texts(pic.find("a"))[2] == "grad 2.701e-06"
    assert pic.texts(pic.find("c"))[2] == "grad -9.003e-07"
    assert pic.texts(pic.find("o")) == ["o", "data -1.0000", "grad 1.0000"]
    # A gradient that is 0 stays 0.0000, without a sign.
    z = Value(-1.0, "z") * 0.0
    z.label = "out"
    z.backward()
    zpic = picture(draw_graph(z), program)
    assert zpic.texts(zpic.find("z"))[2] == "grad 0.0000"


def test_leaves_look_different_by_role(program: str) -> None:
    w = Value(0.5, "w")
    x = Value(2.0, "x")
    c = Value(3.0)
    out = (w * x + c).tanh()
    out.backward()
    pic = picture(draw_graph(out, params=[w]), program)
    param, inp, const = pic.find("parameter w"), pic.find("input x"), pic.find("constant")
    fills = {pic.shapes[n].get("fill") for n in (param, inp, const)}
    assert len(fills) == 3
    # d tanh(w x + c)/dw = x (1 - tanh^2) with tanh(4) = 0.999329; so grad w = 2 * 0.001341 = 0.0027.
    assert pic.texts(param)[1:] == ["data 0.5000", "grad 0.0027"]
    # Without params nothing claims a role.
    plain = picture(draw_graph(out), program)
    assert plain.find("w") and plain.find("x")
    assert not any(t and t[0].startswith(("parameter", "input", "constant")) for t in plain.nodes.values())


# -- seed 003 -------------------------------------------------------------------------------------

def test_seed003_graph_numbers_match_torch(program: str) -> None:
    net, params, x, targets = seed003()
    loss, xs = loss_of(net, x, targets)
    pic = picture(draw_graph(loss, params=params, inputs=["x1", "x2"]), program)
    e, grads = torch_grads(params, WIRING_003, x, targets)
    for name in params:
        assert pic.texts(pic.find(f"parameter {name}"))[2] == f"grad {grads[name]:.4f}"
    # The article's forward figures: net h1 = 0.505, net h2 = 0.541, out h1 = 0.623633.
    assert pic.texts(pic.find("net_h1"))[1] == "data 0.5050"
    assert pic.texts(pic.find("net_h2"))[1] == "data 0.5410"
    assert pic.texts(pic.find("out_h1"))[1] == "data 0.6236"
    # net o1 = 0.35*0.623634 + 0.20*0.632045 + 0.5 = 0.844681; the article's 0.794609 (and the
    # out o1 = 0.6888201 and E = 0.22661423 that follow from it) is an arithmetic slip.
    assert pic.texts(pic.find("net_o1"))[1] == "data 0.8447"
    assert pic.texts(pic.find("E"))[1] == f"data {e:.4f}" == "data 0.2335"
    assert pic.texts(pic.find("input x2"))[1] == "data 0.2000"


# -- small expressions ------------------------------------------------------------------------

def test_folded_constants_are_written_in_the_operation(program: str) -> None:
    x = Value(3.0, "x")
    y = ((x * 2) ** 2 - 1) / 4 + (1 - x)
    y.label = "y"
    y.backward()
    pic = picture(draw_graph(y), program)
    for op in ("* 2", "** 2", "- 1", "/ 4", "1 -", "+"):
        assert len(pic.with_text(op)) == 1, op
    # y = ((2x)^2 - 1)/4 + 1 - x: dy/dx = 2x - 1 = 5 at x = 3; y = 35/4 - 2 = 6.75.
    assert pic.texts(pic.find("x")) == ["x", "data 3.0000", "grad 5.0000"]
    assert pic.texts(pic.find("y"))[1] == "data 6.7500"
    # x feeds both "* 2" and "1 -".
    assert sorted(pic.texts(n)[0] for n in pic.out_of(pic.find("x"))) == ["* 2", "1 -"]


def test_operands_of_non_symmetric_operations_are_marked(program: str) -> None:
    a, b = Value(6.0, "a"), Value(3.0, "b")
    q = a / b
    q.backward()
    pic = picture(draw_graph(q), program)
    (div,) = pic.with_text("/")
    labels = {pic.texts(t)[0]: pic.edge_labels[(t, div)] for t in pic.into(div)}
    assert labels == {"a": ["x"], "b": ["y"]}
    # d(a/b)/da = 1/b = 0.3333, d(a/b)/db = -a/b^2 = -0.6667.
    assert pic.texts(pic.find("a"))[2] == "grad 0.3333"
    assert pic.texts(pic.find("b"))[2] == "grad -0.6667"


def test_a_value_used_twice_has_two_edges(program: str) -> None:
    x = Value(-1.5, "x")
    y = x * x
    y.backward()
    pic = picture(draw_graph(y), program)
    (mul,) = pic.with_text("*")
    assert pic.into(mul) == [pic.find("x")] * 2
    assert pic.texts(pic.find("x"))[2] == "grad -3.0000"  # d(x^2)/dx = 2x


def test_unlabelled_and_odd_labels_are_escaped(program: str) -> None:
    a = Value(1.0, "a|b {c} <d>")
    out = (a * 2.5e-9).exp()
    pic = picture(draw_graph(out, rankdir="TB"), program)
    assert pic.find("a|b {c} <d>")
    assert pic.with_text("* 2.5e-09") and pic.with_text("exp")


def test_collapsed_view_draws_one_node_per_neuron(program: str) -> None:
    net, params, x, targets = seed004()
    loss, xs = loss_of(net, x, targets)
    pic = picture(draw_graph(loss, params=net, inputs=xs, collapse=True), program)
    h1 = pic.find("neuron h1 (sigmoid)")
    # dE/dout_h1 = 0.741365*0.186816*0.40 + (-0.217072)*0.175102*0.50 = 0.036350 (by hand).
    assert pic.texts(h1) == ["neuron h1 (sigmoid)", "out 0.5933", "grad 0.0364"]
    o1 = pic.find("neuron o1 (sigmoid)")
    assert pic.texts(o1)[1:] == ["out 0.7514", "grad 0.7414"]
    assert not [n for n, t in pic.nodes.items() if t and t[0].startswith("parameter w")]
    b1 = pic.find("parameter b1")
    assert sorted(pic.texts(n)[0] for n in pic.out_of(b1)) == ["neuron h1 (sigmoid)", "neuron h2 (sigmoid)"]
    assert set(pic.into(o1)) == {h1, pic.find("neuron h2 (sigmoid)"), pic.find("parameter b2")}
    assert pic.clusters == {}


# -- size limits ----------------------------------------------------------------------------------

def chain(n: int) -> Value:
    """Return the last of ``n`` Values x, x + 1, (x + 1) * 1, ... (a graph of exactly n Values)."""
    v = Value(0.0, "x")
    for i in range(n - 1):
        v = v + 1 if i % 2 == 0 else v * 1
    return v


def test_ten_thousand_values_are_cut_not_handed_to_graphviz() -> None:
    root = chain(10_000)
    assert len(topological_order(root)) == 10_000
    g = draw_graph(root)  # max_nodes=1000 by default
    records = re.findall(r"^\s*v\d+ \[label=", g.source, flags=re.M)
    assert len(records) == autograd_tiny.render.MAX_NODES == 1000
    assert "9,000 more values" in g.source
    assert "showing the 1,000 values nearest the output of 10,000" in g.source
    # With no limit every Value would be drawn.
    assert len(re.findall(r"^\s*v\d+ \[label=", draw_graph(chain(50), max_nodes=None).source, re.M)) == 50


def test_cut_graph_renders_with_a_note_and_the_output(program: str) -> None:
    root = chain(10_000)
    root.label = "out"
    root.backward()
    pic = picture(draw_graph(root, max_nodes=40), program)
    assert pic.texts(pic.find("out")) == ["out", "data 5000.0000", "grad 1.0000"]
    (more,) = [n for n, t in pic.nodes.items() if t == ["... 9,960 more values"]]
    assert len(pic.out_of(more)) == 1
    assert sum(1 for t in pic.nodes.values() if t and t[-1].startswith("grad")) == 40


def test_large_network_graph_is_collapsed_automatically() -> None:
    net = MLP(3, [8, 8, 1], "tanh", seed=0)
    for li, layer in enumerate(net.layers):
        for j, n in enumerate(layer.neurons):
            n.name = f"L{li}N{j}"
    out = net([0.1, -0.2, 0.3])[0]
    n = len(topological_order(out))
    auto = draw_graph(out, params=net, max_nodes=n - 1)
    assert "each neuron drawn as one node" in auto.source
    assert "neuron L2N0 (tanh)" in auto.source and "parameter" not in auto.source
    full = draw_graph(out, params=net, max_nodes=n, collapse=False)
    assert "neuron L2N0 (tanh)" not in full.source and "cluster_" in full.source
    assert n > AUTO_COLLAPSE, "big enough to be collapsed by default, as Jupyter shows it"
    shown = draw_graph(out, params=net)
    assert "neuron L2N0 (tanh)" in shown.source and f"{n:,} values: each neuron" in shown.source
    never = draw_graph(out, params=net, max_nodes=n - 1, collapse=False)
    assert "more values" in never.source


def test_draw_graph_rejects_bad_arguments() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match="draw_graph needs a Value, got float"):
        draw_graph(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown rankdir 'XY'"):
        draw_graph(x, "XY")
    with pytest.raises(ValueError, match="max_nodes must be a positive int or None, got 0"):
        draw_graph(x, max_nodes=0)
    with pytest.raises(ValueError, match="collapse must be True, False or 'auto'"):
        draw_graph(x, collapse="yes")
    with pytest.raises(TypeError, match=r"params\[1\] must be a Value or a label, got int"):
        draw_graph(x, params=[x, 3])


def test_drawing_is_deterministic() -> None:
    net, params, x, targets = seed004()
    loss, xs = loss_of(net, x, targets)
    assert draw_graph(loss, params=net).source == draw_graph(loss, params=net).source


# -- choosing the program and missing Graphviz -------------------------------------------------

def test_program_can_be_chosen_by_argument_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("dot", "graphviz-pure"):
        if _program._which(name) is None:
            pytest.skip(f"{name} is not installed")
    monkeypatch.delenv(DOT_ENV, raising=False)
    assert os.path.basename(find_program()) == "dot"  # system Graphviz first
    assert os.path.basename(find_program("graphviz-pure")) == "graphviz-pure"
    monkeypatch.setenv(DOT_ENV, "graphviz-pure")
    assert os.path.basename(find_program()) == "graphviz-pure"
    assert os.path.basename(find_program("dot")) == "dot"  # the argument wins


def test_missing_program_writes_dot_file_and_says_how_to_install(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(DOT_ENV, raising=False)
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(_program, "_script_dirs", lambda: [])
    x = Value(2.0, "x")
    target = tmp_path / "pics" / "graph.svg"
    with pytest.raises(GraphvizNotFoundError) as info:
        render_svg(x ** 2, target)
    message = str(info.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "pip install graphviz-pure",
                 DOT_ENV, "'dot'", "'graphviz-pure'", str(target.with_suffix(".dot"))):
        assert hint in message, hint
    assert "\n" not in message
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, UsageError)
    assert info.value.dot_path == target.with_suffix(".dot")
    source = target.with_suffix(".dot").read_text()
    assert source.startswith("digraph") and "** 2" in source and "data 2.0000" in source
    assert not target.exists()


def test_missing_chosen_program_is_named(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(DOT_ENV, "no-such-dot-program")
    with pytest.raises(GraphvizNotFoundError, match="'no-such-dot-program' \\(from the environment "
                       f"variable {DOT_ENV}\\) was not found") as info:
        render_svg(Value(1.0), tmp_path / "a.svg")
    assert "apt-get install graphviz" in str(info.value)
    assert (tmp_path / "a.dot").read_text().startswith("digraph")
    with pytest.raises(GraphvizNotFoundError, match="'/nowhere/dot' \\(from the program argument\\)"):
        find_program("/nowhere/dot")


def test_failing_program_raises_render_error(tmp_path) -> None:
    false = _program._which("false")
    if false is None:
        pytest.skip("no 'false' program")
    with pytest.raises(RenderError, match="failed with exit status 1"):
        render_svg(Value(1.0), tmp_path / "a.svg", program=false)


def test_render_svg_writes_the_file(program: str, tmp_path) -> None:
    x = Value(0.5, "x")
    y = x.sigmoid()
    y.backward()
    path = render_svg(y, tmp_path / "sub" / "y.svg", program=program)
    assert path == tmp_path / "sub" / "y.svg"
    pic = Picture(path.read_text())
    # sigmoid'(0.5) = s (1 - s) with s = 0.622459: 0.235004.
    assert pic.texts(pic.find("x"))[1:] == ["data 0.5000", "grad 0.2350"]
    with pytest.raises(TypeError, match="expected a Value, a graphviz.Digraph"):
        render_svg(42, tmp_path / "n.svg")


def test_graphs_and_values_show_inline_in_jupyter(program: str, monkeypatch) -> None:
    monkeypatch.setenv(DOT_ENV, program)
    x = Value(1.0, "x")
    y = x.tanh()
    for obj in (y, draw_graph(y)):
        bundle = obj._repr_mimebundle_()
        assert set(bundle) == {"image/svg+xml"}
        assert Picture(bundle["image/svg+xml"]).with_text("tanh")


def test_jupyter_without_graphviz_shows_the_reason(monkeypatch) -> None:
    monkeypatch.setenv(DOT_ENV, "no-such-dot-program")
    bundle = draw_graph(Value(1.0))._repr_mimebundle_()
    assert "no-such-dot-program" in bundle["text/plain"]


def test_package_exports() -> None:
    assert autograd_tiny.draw_graph is draw_graph
    assert autograd_tiny.render_svg is render_svg
    assert autograd_tiny.draw_network is autograd_tiny.render.draw_network
