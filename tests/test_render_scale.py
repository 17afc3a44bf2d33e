"""Pictures at lecture scale: named MLPs, decimals, weight edges, big and recurrent graphs, check marks.

Every picture is laid out by each installed program and read back as XML; the numbers in
it are compared with the engine's (rounded the way the picture says) and, for the deep
MLP's chain rule, with PyTorch in float64.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_render import SVG, Picture, picture, program

from autograd_tiny import Value, explain_gradient
from autograd_tiny.cli import main
from autograd_tiny.derivation import load_example
from autograd_tiny.explain import explain
from autograd_tiny.nn import MLP, Layer, Neuron, half_squared_error
from autograd_tiny.render import Mark, draw_graph, draw_network, to_svg
from autograd_tiny.render.network import WEIGHT_COLORS
from autograd_tiny.value import topological_order

__all__ = ["program"]  # the fixture, imported so that pytest finds it here

ROOT = Path(__file__).resolve().parents[1]
RED, ORANGE = "#d62728", "#ff7f0e"


def mlp_loss(sizes: list[int], seed: int = 0, x: tuple[float, ...] = (0.5, -1.0)) -> tuple[MLP, Value]:
    net = MLP(len(x), sizes, seed=seed)
    loss = half_squared_error(net(list(x)), [1.0] * sizes[-1])
    loss.label = "E"
    loss.backward()
    return net, loss


# -- names ---------------------------------------------------------------------------------------

def test_mlp_names_neurons_and_parameters_by_layer_and_index() -> None:
    net = MLP(2, [3, 3, 1], seed=0)
    assert [[n.name for n in layer.neurons] for layer in net.layers] == [
        ["h1_1", "h1_2", "h1_3"], ["h2_1", "h2_2", "h2_3"], ["o1"]]
    second = net.layers[0].neurons[1]  # neuron 2 of layer 1; its weight from input 1
    assert second.w[0].label == "w[1][2,1]" and second.b is not None and second.b.label == "b[1][2]"
    assert net.get_parameter("w[1][2,1]") is second.w[0]
    # one hidden layer: the articles' h1, h2 and o1, o2; a shared bias is b[<layer>]
    small = MLP(2, [2, 2], "sigmoid", bias="layer", seed=0)
    assert [[n.name for n in layer.neurons] for layer in small.layers] == [["h1", "h2"], ["o1", "o2"]]
    assert small.layers[1].neurons[0].b is not None and small.layers[1].neurons[0].b.label == "b[2]"
    # a standalone layer is the only layer of a network
    assert [n.name for n in Layer(2, 2).neurons] == ["o1", "o2"]
    # the names are labels only: saved state keeps its module paths
    assert list(MLP(2, [1], seed=0).state_dict()) == [
        "layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]


def test_names_do_not_change_the_numbers() -> None:
    """Naming only labels Values: the same seed gives the same weights and outputs as plain Neurons."""
    net = MLP(2, [3, 1], seed=7)
    import random
    rng = random.Random(7)
    w1 = [[rng.uniform(-1, 1) for _ in range(2)] for _ in range(3)]
    w2 = [rng.uniform(-1, 1) for _ in range(3)]
    assert [[w.data for w in n.w] for n in net.layers[0].neurons] == w1
    assert [w.data for w in net.layers[1].neurons[0].w] == w2
    x = [0.3, -0.7]
    h = [math.tanh(sum(w * xi for w, xi in zip(ws, x)) + 0.0) for ws in w1]
    out = math.tanh(sum(w * hi for w, hi in zip(w2, h)) + 0.0)
    assert net(x)[0].data == pytest.approx(out, rel=1e-15)


def test_named_neuron_counts_weights_from_one() -> None:
    n = Neuron(2, weights=[0.1, 0.2], name="h1")
    assert [w.label for w in n.w] == ["h1.w1", "h1.w2"]


# -- grouping and collapsing an nn.MLP --------------------------------------------------------------

def test_mlp_graph_has_neuron_boxes_and_collapses(program: str) -> None:
    net, loss = mlp_loss([3, 3, 1])
    full = picture(draw_graph(loss, params=net, collapse=False), program)
    names = [n.name for layer in net.layers for n in layer.neurons]
    assert sorted(full.clusters) == sorted(f"neuron {n}" for n in names)
    w = net.layers[1].neurons[2].w[0]
    node = full.find("parameter w[2][3,1]")
    assert full.texts(node) == ["parameter w[2][3,1]", f"data {w.data:.4f}", f"grad {w.grad:.4f}"]
    assert full.inside(node, "neuron h2_3") and full.inside(full.find("out_h2_3"), "neuron h2_3")

    collapsed = picture(draw_graph(loss, params=net, collapse=True), program)
    assert not collapsed.clusters
    out = next(v for v in topological_order(loss) if v.label == "out_h2_3")
    node = collapsed.find("neuron h2_3 (tanh)")
    assert collapsed.texts(node)[1:] == [f"out {out.data:.4f}", f"grad {out.grad:.4f}"]
    assert not any(t and t[0].startswith("parameter") for t in collapsed.nodes.values())
    # one edge from each neuron of layer 1 into each neuron of layer 2
    assert sorted(collapsed.texts(t)[0] for t in collapsed.into(node)) == [
        "neuron h1_1 (tanh)", "neuron h1_2 (tanh)", "neuron h1_3 (tanh)"]


def test_large_loss_is_collapsed_by_default_as_jupyter_shows_it(program: str) -> None:
    net, loss = mlp_loss([16, 16, 1])
    svg = loss._repr_mimebundle_()["image/svg+xml"] if program == "dot" else to_svg(loss, program=program)
    pic = Picture(svg)
    neurons = [t for t in pic.nodes.values() if t and t[0].startswith("neuron ")]
    assert len(neurons) == 33
    assert len(pic.nodes) < 100, "one node per neuron, not one per Value"


# -- decimals -------------------------------------------------------------------------------------

def test_decimals_6_shows_the_engines_numbers_rounded_to_6(program: str) -> None:
    net, loss = mlp_loss([2, 1], x=(0.000439, 2.0))
    pic = picture(draw_graph(loss, params=net, inputs=[], collapse=False, decimals=6), program)
    by_label = {v.label: v for v in topological_order(loss) if v.label}
    checked = 0
    for texts in pic.nodes.values():
        if len(texts) == 3 and texts[1].startswith("data "):
            label = texts[0].split(" ", 1)[-1]
            if label in by_label:
                v = by_label[label]
                assert texts[1:] == [f"data {v.data:.6f}", f"grad {v.grad:.6f}"], label
                checked += 1
    assert checked == len(by_label) == 16  # E, 3 net_, 3 out_, 6 weights, 3 biases
    # the input 0.000439 (not a labelled Value here: folded into w * 0.000439) shows in full
    assert any(t == ["* 0.000439"] for t in pic.nodes.values())
    six = picture(draw_network(net, x=[0.000439, 2.0], decimals=6), program)
    assert six.texts(six.find("x1")) == ["x1", "0.000439"]
    four = picture(draw_network(net, x=[0.000439, 2.0]), program)
    assert four.texts(four.find("x1")) == ["x1", "0.0004"]


# -- network diagrams without weight boxes ---------------------------------------------------------

def test_network_without_weight_boxes_draws_weights_as_edges(program: str) -> None:
    net, _ = mlp_loss([8, 8, 1])
    weights = [w for layer in net.layers for n in layer.neurons for w in n.w]
    boxed = picture(draw_network(net, weight_boxes=True), program)
    assert sum(1 for t in boxed.nodes.values() if t and t[0].startswith("w[")) == len(weights) == 88
    default = draw_network(net)
    assert default.source == draw_network(net, weight_boxes=False).source, "88 > 40 weights: edges"
    pic = Picture(to_svg(default, program=program))
    assert not any(t and t[0].startswith("w[") for t in pic.nodes.values())
    assert len(pic.edges) == len(weights)
    widths: list[tuple[float, float]] = []
    for g in pic.root.iter(SVG + "g"):
        if g.get("class") != "edge":
            continue
        tooltip = next(a.get("{http://www.w3.org/1999/xlink}title") for a in g.iter(SVG + "a"))
        name, value = re.match(r"(w\[\d\]\[\d,\d\]) = (-?\d+\.\d+)", tooltip).groups()
        w = net.get_parameter(name)
        assert value == f"{w.data:.4f}"
        path = next(g.iter(SVG + "path"), None)
        assert path is not None
        colour = WEIGHT_COLORS["positive" if w.data > 0 else "negative"]
        assert path.get("stroke") == colour
        widths.append((abs(w.data), float(path.get("stroke-width", "1"))))
    widths.sort()
    assert all(a[1] <= b[1] for a, b in zip(widths, widths[1:])), "wider edge for a larger |w|"
    assert widths[-1][1] > 3 * widths[0][1]


# -- graphs that dot lays out slowly ----------------------------------------------------------------

_LAYOUT = """
import json, sys
from autograd_tiny import Value
from autograd_tiny.render import draw_graph, to_svg
from autograd_tiny.value import topological_order
kind, steps = sys.argv[1], int(sys.argv[2])
w, u, h = Value(0.5, "w"), Value(-0.3, "u"), Value(0.0, "h0")
if kind == "rnn":
    for t in range(steps):
        h = (w * h + u * (0.1 * (t % 7))).tanh()
elif kind == "shared":  # one computed Value used at every step
    s = (w * 2).tanh()
    for t in range(steps):
        h = (h + s * (0.01 * t)).tanh()
else:  # each new Value uses the last one and a random earlier one
    import random
    r = random.Random(1)
    made = [w, u, h]
    while len(made) < steps:
        a, b = made[-1], r.choice(made)
        made.append((a * b).tanh() if r.random() < 0.3 else a + b)
    h = made[-1]
h.label = "h"
h.backward()
svg = to_svg(draw_graph(h, params=[w, u]), program=sys.argv[3])
shared = [s.data, s.grad] if kind == "shared" else []
total = len(topological_order(h))
print(json.dumps({"svg": svg, "w": [w.data, w.grad], "u": [u.data, u.grad], "h": [h.data, h.grad],
                  "s": shared, "total": [total]}))
"""


def _layout(kind: str, steps: int, program: str) -> tuple[Picture, dict[str, list[float]]]:
    """Lay out the graph in a child process; the timeout only guards against a hang."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", _LAYOUT, kind, str(steps), program], env=env,
                          capture_output=True, text=True, timeout=900, check=True)
    found = json.loads(done.stdout)
    return Picture(found.pop("svg")), found


@pytest.mark.parametrize("steps", [100, 249])
def test_recurrent_graph_lays_out(program: str, steps: int) -> None:
    """``h = tanh(w*h + u*x)``: 403 Values for 100 steps, 999 for 249 (w and u used at every step)."""
    pic, got = _layout("rnn", steps, program)
    for name in ("w", "u"):
        copies = [t for t in pic.nodes.values() if t and t[0] == f"parameter {name}"]
        data, grad = got[name]
        assert len(copies) == steps, "drawn once per use"
        assert all(t == [f"parameter {name}", f"data {data:.4f}", f"grad {grad:.4f}"] for t in copies)
    records = [t for t in pic.nodes.values() if any(x.startswith("data ") for x in t)]
    values = 3 + 4 * steps
    assert len(records) == values - 2 + 2 * steps
    assert pic.texts(pic.find("h"))[1] == f"data {got['h'][0]:.4f}"
    assert len([e for e in pic.edges]) >= 4 * steps


def test_value_reused_far_apart_is_copied_and_lays_out(program: str) -> None:
    pic, got = _layout("shared", 200, program)
    data, grad = got["s"]  # s = tanh(w * 2), used at each of the 200 steps
    assert data == math.tanh(1.0)
    copies = [t for t in pic.nodes.values() if t == [f"data {data:.4f}", f"grad {grad:.4f}"]]
    assert len(copies) == 200, "the first use keeps the node, each other use gets a copy"
    assert len(pic.with_text("tanh")) == 201, "its operation is drawn once (and the 200 steps' tanh)"
    assert pic.texts(pic.find("h"))[1] == f"data {got['h'][0]:.4f}"


# -- explaining a deep MLP ----------------------------------------------------------------------------

def test_explain_gradient_on_a_2_8_8_8_8_1_mlp_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    net, loss = mlp_loss([8, 8, 8, 8, 1], seed=3)
    # the same network in torch, float64
    x = torch.tensor([0.5, -1.0], dtype=torch.float64)
    params = []
    h = x
    for layer in net.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        params.append((W, b))
        h = torch.tanh(W @ h + b)
    e = (0.5 * (1.0 - h) ** 2).sum()
    e.backward()
    assert loss.data == pytest.approx(float(e.detach()), rel=1e-13)
    for name, (layer, j, i) in {"w[1][3,2]": (0, 2, 1), "w[3][8,1]": (2, 7, 0)}.items():
        expl = explain(loss, name)
        want = float(params[layer][0].grad[j, i])
        assert len(expl.paths) == 8 ** (4 - layer - 1)
        assert expl.gradient == pytest.approx(want, rel=1e-10, abs=1e-15)
        assert expl.agrees and expl.reverse_mode == pytest.approx(want, rel=1e-12, abs=1e-15)
    text = explain_gradient(loss, "w[1][3,2]")
    assert text.startswith("dE/dw[1][3,2] by the chain rule: 512 paths from E to w[1][3,2]")
    assert "Path 1: E -> out_o1 -> net_o1 -> out_h4_1 -> net_h4_1" in text


# -- check --svg --------------------------------------------------------------------------------------

def _stroke(pic: Picture, node: str) -> str | None:
    return pic.shapes[node].get("stroke")


def test_check_svg_marks_wrong_claims(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = {r.claim: r for r in load_example("seed003").check()}
    wrong = sorted(c for c, r in results.items() if r.verdict == "wrong")
    follows = sorted(c for c, r in results.items() if r.verdict == "follows")
    assert wrong == ["E+", "net_o1", "out_o2", "w1+"] and follows == ["E", "net_o2", "out_o1"]
    status = main(["check", "--example", "seed003", "--svg", str(tmp_path), "--decimals", "6"])
    out, _ = capsys.readouterr()
    assert status == 1 and "First slip: net_o1" in out
    graph = Picture((tmp_path / "graph.svg").read_text())
    seen: dict[str, str] = {}
    for node, texts in graph.nodes.items():
        for t in texts:
            m = re.fullmatch(r"(WRONG|FOLLOWS) (\S+): written (\S+), computed (\S+)", t)
            if m is None:
                continue
            verdict, claim, written, computed = m.groups()
            r = results[claim]
            assert (verdict.lower(), written) == (r.verdict, r.written)
            assert float(computed) == pytest.approx(r.computed, rel=1e-6)
            seen[claim] = node
            if verdict == "WRONG":
                assert _stroke(graph, node) == RED
            elif not any(x.startswith("WRONG") for x in texts):
                assert _stroke(graph, node) == ORANGE
    # every claim about the first pass is on its node: net_o1 on net_o1, w1+ on parameter w1
    assert sorted(seen) == ["E", "net_o1", "net_o2", "out_o1", "out_o2", "w1+"]
    assert graph.texts(seen["net_o1"])[0] == "net_o1"
    assert graph.texts(seen["w1+"])[0] == "parameter w1"
    assert graph.texts(seen["w1+"])[1] == "data 0.250000"
    # E+ (after the step) has no node: it is written above the picture
    title = [t.text for t in graph.root.iter(SVG + "text") if t.text and t.text.startswith("WRONG E+")]
    assert title == [f"WRONG E+: written {results['E+'].written}, computed 0.22543263437"]
    # unmarked ok claims keep the plain border
    assert _stroke(graph, graph.find("net_h1")) != RED
    network = Picture((tmp_path / "network.svg").read_text())
    assert _stroke(network, network.find("o1")) == RED
    assert any(t.startswith("WRONG net_o1: written 0.794609") for t in network.texts(network.find("o1")))


def test_decimals_option_of_the_drawing_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--example", "seed003", "--svg", str(tmp_path), "--decimals", "6"])
    graph = Picture((tmp_path / "graph.svg").read_text())
    assert graph.texts(graph.find("net_h1"))[1] == "data 0.505000"
    main(["check", "--example", "seed003", "--svg", str(tmp_path), "--decimals", "2"])
    assert Picture((tmp_path / "graph.svg").read_text()).texts(graph.find("net_h1"))[1] == "data 0.51"
    capsys.readouterr()
    for bad in ("18", "-1", "x"):
        assert main(["demo", "--decimals", bad]) == 2
        assert capsys.readouterr().err.strip().endswith(
            f"--decimals must be a whole number from 0 to 17, got '{bad}'")


def test_marks_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown verdict 'bad'"):
        Mark("bad", "x")
    with pytest.raises(TypeError, match="marks must be a mapping"):
        draw_graph(Value(1.0), marks=[Mark("wrong", "x")])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="decimals must be an int from 0 to 17, got 18"):
        draw_graph(Value(1.0), decimals=18)


def test_to_svg_draws_values_and_networks_with_decimals(program: str) -> None:
    x = Value(0.000439, "x")
    y = (x * 3).tanh()
    y.label = "y"
    y.backward()
    pic = Picture(to_svg(y, program=program, decimals=6))
    assert pic.texts(pic.find("x")) == ["x", "data 0.000439", f"grad {x.grad:.6f}"]
    assert x.grad == pytest.approx(3 * (1 - math.tanh(3 * 0.000439) ** 2), rel=1e-15)
    net = MLP(2, [1], seed=0)
    pic = Picture(to_svg(net, program=program, decimals=6))
    w = net.layers[0].neurons[0].w[0]
    assert any(t == [f"w[1][1,1] = {w.data:.6f}"] for t in pic.nodes.values())
    with pytest.raises(ValueError, match="decimals applies when a Value or a network is drawn here"):
        to_svg(draw_graph(y), program=program, decimals=6)


def test_graph_cut_to_max_nodes_lays_out(program: str) -> None:
    """A random graph of about 1,280 Values, cut to the 1,000 nearest the output: one node says how
    many were left out, and each other cut gets a stub of its own (not an edge into one node)."""
    pic, got = _layout("dag", 995, program)
    (total,) = got["total"]
    assert total > 1000, "more than max_nodes"
    more = [k for k, t in pic.nodes.items() if t == [f"... {total - 1000:,} more values"]]
    stubs = [k for k, t in pic.nodes.items() if t == ["..."]]
    assert len(more) == 1 and len(stubs) > 10
    assert all(len(pic.out_of(k)) == 1 for k in more + stubs)
    assert pic.texts(pic.find("h"))[1] == f"data {got['h'][0]:.4f}"


def test_a_batch_claims_marks_go_to_that_samples_node() -> None:
    # seed002_batch: the article's dE/dnet_D0[1] = -4 is wrong (the true delta is +4), and
    # sample 1's node is net_D0[1]: the mark belongs there, not above the picture
    from autograd_tiny.derivation import load_example
    from autograd_tiny.render.api import claim_marks

    d = load_example("seed002_batch")
    marks = claim_marks(d.check())
    assert [m.verdict for m in marks["net_D0[1]"]] == ["wrong"]
    assert marks["net_D0[1]"][0].text == "dE/dnet_D0[1]: written -4, computed 4"
    assert "net_D0" not in marks


def test_a_network_title_and_marks_above_it_are_escaped_for_dot() -> None:
    from autograd_tiny.nn import MLP
    from autograd_tiny.render import draw_network
    from autograd_tiny.render._style import Mark

    source = draw_network(MLP(2, [2, 1], seed=0), title='<b>T\\N "q"</b>',
                          marks={"E": [Mark("wrong", "E: written 1, computed 0.3>")]}).source
    label = next(line for line in source.splitlines() if line.strip().startswith("label="))
    # a plain (quoted) label, backslashes doubled so \N shows as written, never an HTML label
    expected = 'label="<b>T\\\\N \\"q\\"</b>\\nWRONG E: written 1, computed 0.3>"'
    assert label.strip().startswith(expected), label
