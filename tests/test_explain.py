"""Chain-rule explanations (autograd_tiny.explain) on labelled graphs."""

from __future__ import annotations

import math
import random
import re

import pytest

from autograd_tiny import Value, nn
from autograd_tiny import explain as explain_module
from autograd_tiny.explain import explain, explain_gradient, gradient_paths
from autograd_tiny.formula import evaluate

# The 2-2-2 network of seed 004: inputs 0.05, 0.10; w1, w2 into h1, w3, w4 into h2, one
# bias b1 shared by h1 and h2; w5, w6 into o1, w7, w8 into o2, b2 shared; sigmoid;
# targets 0.01, 0.99; E = sum of 1/2 (target - out)^2; learning rate 0.5.
INPUTS = (0.05, 0.10)
TARGETS = (0.01, 0.99)
WEIGHTS = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30,
           "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55}
BIASES = {"b1": 0.35, "b2": 0.60}
LR = 0.5


def seed004(labelled_inputs: bool = False):
    """Return (E, parameters by name) for the seed-004 network, labelled like a derivation."""
    p = {n: Value(v, n) for n, v in {**WEIGHTS, **BIASES}.items()}
    neurons = {
        "h1": nn.Neuron(2, "sigmoid", weights=[p["w1"], p["w2"]], bias=p["b1"], name="h1"),
        "h2": nn.Neuron(2, "sigmoid", weights=[p["w3"], p["w4"]], bias=p["b1"], name="h2"),
        "o1": nn.Neuron(2, "sigmoid", weights=[p["w5"], p["w6"]], bias=p["b2"], name="o1"),
        "o2": nn.Neuron(2, "sigmoid", weights=[p["w7"], p["w8"]], bias=p["b2"], name="o2"),
    }
    net = nn.MLP.from_layers([nn.Layer.from_neurons([neurons["h1"], neurons["h2"]]),
                              nn.Layer.from_neurons([neurons["o1"], neurons["o2"]])])
    x = [Value(v, f"x{i}") for i, v in enumerate(INPUTS, 1)] if labelled_inputs else list(INPUTS)
    outs = net(x)
    terms = nn.half_squared_error_terms(outs, list(TARGETS))
    for t, name in zip(terms, ("o1", "o2")):
        t.label = f"E_{name}"
    loss = terms[0] + terms[1]
    loss.label = "E"
    return loss, p


def torch_gradients():
    """Return d E / d parameter for every parameter of seed 004, from PyTorch in float64."""
    torch = pytest.importorskip("torch")
    t = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for n, v in {**WEIGHTS, **BIASES}.items()}
    x1, x2 = (torch.tensor(v, dtype=torch.float64) for v in INPUTS)
    h1 = torch.sigmoid(t["w1"] * x1 + t["w2"] * x2 + t["b1"])
    h2 = torch.sigmoid(t["w3"] * x1 + t["w4"] * x2 + t["b1"])
    o1 = torch.sigmoid(t["w5"] * h1 + t["w6"] * h2 + t["b2"])
    o2 = torch.sigmoid(t["w7"] * h1 + t["w8"] * h2 + t["b2"])
    e = 0.5 * (TARGETS[0] - o1) ** 2 + 0.5 * (TARGETS[1] - o2) ** 2
    e.backward()
    return {n: v.grad.item() for n, v in t.items()}


# -- the structure --------------------------------------------------------------------------------
def test_w5_has_one_path_with_the_known_factors():
    loss, _ = seed004()
    (path,) = gradient_paths(loss, "w5")
    assert path.nodes == ("E", "E_o1", "out_o1", "net_o1", "w5")
    assert [f.symbol for f in path.factors] == ["dE/dE_o1", "dE_o1/dout_o1", "dout_o1/dnet_o1", "dnet_o1/dw5"]
    # Hand figures for seed 004 (the article's images, recomputed): dE/dout_o1 = out_o1 - target
    # = 0.75136507 - 0.01; dout/dnet = out (1 - out) = 0.186815602; dnet_o1/dw5 = out_h1 = 0.593269992.
    values = [f.value for f in path.factors]
    assert values == pytest.approx([1.0, 0.74136507, 0.186815602, 0.593269992], abs=5e-9)
    assert path.value == pytest.approx(0.082167041, abs=5e-10)
    formulas = [f.formula for f in path.factors]
    # The table gives 0.5 * 2 * (0.01 - out_o1)^1 * (-1) (mul, pow, sub); it is written simplified.
    assert formulas == ["1", "-(0.01 - out_o1)", "out_o1 * (1 - out_o1)", "out_h1"]
    assert path.factors[2].arithmetic == "0.751365 * (1 - 0.751365)"
    assert path.factors[1].arithmetic == "-(0.01 - 0.751365)"
    assert path.factors[1].formula_as("latex") == "-(0.01 - out_{o1})"
    assert path.factors[1].arithmetic_as("markdown") == "$-(0.01 - 0.751365)$"


def test_w1_sums_two_paths_through_o1_and_o2():
    loss, _ = seed004()
    paths = gradient_paths(loss, "w1")
    assert [p.nodes for p in paths] == [
        ("E", "E_o1", "out_o1", "net_o1", "out_h1", "net_h1", "w1"),
        ("E", "E_o2", "out_o2", "net_o2", "out_h1", "net_h1", "w1"),
    ]
    assert [f.formula for f in paths[0].factors][3:] == ["w5", "out_h1 * (1 - out_h1)", "0.05"]
    assert [f.formula for f in paths[1].factors][3:] == ["w7", "out_h1 * (1 - out_h1)", "0.05"]
    # seed-004 figure: dE/dw1 = 0.000438568
    assert sum(p.value for p in paths) == pytest.approx(0.000438568, abs=5e-10)


def test_shared_bias_has_four_paths():
    loss, _ = seed004()
    paths = gradient_paths(loss, "b1")
    assert len(paths) == 4
    assert {p.nodes[-3] for p in paths} == {"out_h1", "out_h2"}
    assert all(p.factors[-1].formula == "1" for p in paths)


def test_labelled_inputs_appear_as_symbols():
    loss, _ = seed004(labelled_inputs=True)
    (path,) = gradient_paths(loss, "w5")
    paths = gradient_paths(loss, "w1")
    assert path.factors[-1].formula == "out_h1"
    assert paths[0].factors[-1].formula == "x1"
    assert paths[0].factors[-1].value == 0.05


@pytest.mark.parametrize("name", sorted({**WEIGHTS, **BIASES}))
def test_every_gradient_matches_pytorch_and_reverse_mode(name):
    want = torch_gradients()[name]
    loss, params = seed004()
    e = explain(loss, name, learning_rate=LR)
    assert e.gradient == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert e.reverse_mode == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert e.agrees
    assert e.updated == pytest.approx(params[name].data - LR * want, rel=1e-12)
    # explaining must not touch any .grad
    assert all(p.grad == 0.0 for p in params.values())


def test_updates_match_the_seed_figures():
    loss, _ = seed004()
    # seed-004 figures: w5+ = 0.35891648, w1+ = 0.149780716
    assert explain(loss, "w5", learning_rate=LR).updated == pytest.approx(0.35891648, abs=5e-9)
    assert explain(loss, "w1", learning_rate=LR).updated == pytest.approx(0.149780716, abs=5e-10)
    assert explain(loss, "w1").updated is None


def test_every_factor_formula_evaluates_to_its_number():
    """The printed arithmetic and the number come from the same table entries."""
    loss, _ = seed004()
    for name in [*WEIGHTS, *BIASES]:
        for factor in explain(loss, name).factors():
            assert evaluate(factor.arithmetic_tree()) == pytest.approx(factor.value, rel=1e-12), factor


def test_derivative_by_an_interior_named_node_is_the_delta():
    loss, _ = seed004()
    # delta of o1: (out_o1 - target) * out_o1 (1 - out_o1) = 0.74136507 * 0.186815602
    e = explain(loss, "net_o1")
    assert e.gradient == pytest.approx(0.74136507 * 0.186815602, rel=1e-8)
    assert e.param == "net_o1"


def test_param_may_be_the_value_itself():
    loss, params = seed004()
    assert explain(loss, params["w6"]).gradient == explain(loss, "w6").gradient


def _tanh_net(w1: float):
    """Return E = 0.5 * (0.3 - out_o1)^2 for the chain w1 -> net_h1 -> out_h1 (tanh) -> net_o1
    -> out_o1 (sigmoid), with input 0.5, so that net_h1 = 0.5 * w1."""
    h = nn.Neuron(1, "tanh", weights=[Value(w1, "w1")], bias=Value(0.0, "b1"), name="h1")
    o = nn.Neuron(1, "sigmoid", weights=[Value(0.8, "w2")], bias=Value(0.1, "b2"), name="o1")
    out = o([h([0.5])])
    (loss,) = nn.half_squared_error_terms([out], [0.3])
    loss.label = "E"
    return loss


def test_tanh_factor_is_written_with_a_square():
    # The table's tanh derivative is 1 - out * out; out * out is written out^2 and still
    # computed as out * out, so its number is the engine's to the last bit.
    # out_h1 = tanh(0.5) = 0.462117157, 1 - out_h1^2 = 0.786447733.
    e = explain(_tanh_net(1.0), "w1")
    factor = next(f for f in e.factors() if f.symbol == "dout_h1/dnet_h1")
    assert factor.formula == "1 - out_h1^2"
    assert factor.arithmetic == "1 - 0.462117^2"
    assert factor.formula_as("latex") == "1 - out_{h1}^{2}"
    assert factor.arithmetic_as("markdown") == "$1 - 0.462117^{2}$"
    assert evaluate(factor.expression) == factor.value == 1 - math.tanh(0.5) * math.tanh(0.5)
    assert factor.value == pytest.approx(0.786447733, abs=5e-10)
    assert "dout_h1/dnet_h1 = 1 - out_h1^2 = 1 - 0.462117^2 = 0.786448" in e.render()


def test_tanh_factor_at_a_negative_output_puts_the_number_in_parentheses():
    e = explain(_tanh_net(-1.0), "w1")
    factor = next(f for f in e.factors() if f.symbol == "dout_h1/dnet_h1")
    assert factor.arithmetic == "1 - (-0.462117)^2"
    assert factor.arithmetic_as("latex") == "1 - (-0.462117)^{2}"
    assert evaluate(factor.arithmetic_tree()) == factor.value == 1 - math.tanh(-0.5) * math.tanh(-0.5)


def test_no_factor_formula_keeps_the_noise_of_the_raw_table_product():
    """Leading numbers folded, ^1 and factors 1 or -1 gone, in every factor of seed 004."""
    noise = re.compile(r"\^\{?1(?![\d.])|\(-1\)|\b0\.5 (\*|\\cdot) 2\b|\* 1(?![\d.])")
    assert noise.search("0.5 * 2 * (0.01 - out_o1)^1 * (-1)")  # what the raw table product reads
    loss, _ = seed004()
    for name in [*WEIGHTS, *BIASES, "net_o1", "out_h2"]:
        for factor in explain(loss, name).factors():
            for fmt in ("text", "latex"):
                for text in (factor.formula_as(fmt), factor.arithmetic_as(fmt)):
                    assert not noise.search(text), text


# -- general graphs -------------------------------------------------------------------------------
def test_several_unlabelled_routes_are_summed_in_one_factor():
    w = Value(3.0, "w")
    loss = w * w + w  # d/dw = 2 w + 1 = 7
    loss.label = "L"
    (path,) = gradient_paths(loss, "w")
    (factor,) = path.factors
    assert factor.routes == 3
    assert factor.value == 7.0
    assert factor.formula == "w + w + 1"
    assert path.nodes == ("L", "w")


def test_unlabelled_loss_and_parameter_get_names():
    p = Value(2.0)
    loss = (p * 3.0).exp()
    e = explain(loss, p)
    assert (e.loss, e.param) == ("loss", "param")
    (factor,) = e.paths[0].factors
    assert factor.formula == "loss * 3"
    assert factor.value == pytest.approx(3 * math.exp(6.0))


def test_loss_is_its_own_parameter():
    v = Value(1.5, "v")
    e = explain(v, "v", learning_rate=0.1)
    assert e.gradient == 1.0 and e.paths[0].nodes == ("v",)
    assert "dv/dv = 1" in e.render()


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "identity"])
def test_random_named_mlp_matches_pytorch(activation):
    torch = pytest.importorskip("torch")
    rng = random.Random(11)
    sizes = [3, 4, 3, 2]
    layers = []
    for i in range(1, len(sizes)):
        layers.append(nn.Layer.from_neurons([
            nn.Neuron(sizes[i - 1], activation if i < len(sizes) - 1 else "sigmoid",
                      weights=[Value(rng.uniform(-1, 1), f"w{i}{j}{k}") for k in range(sizes[i - 1])],
                      bias=Value(rng.uniform(-0.5, 0.5), f"b{i}{j}"), name=f"n{i}{j}")
            for j in range(sizes[i])
        ]))
    net = nn.MLP.from_layers(layers)
    x = [0.3, -0.7, 0.9]
    outs = net(x)
    targets = [0.2, 0.8]
    terms = nn.half_squared_error_terms(outs, targets)
    for j, t in enumerate(terms):
        t.label = f"E_{j}"
    loss = terms[0] + terms[1]
    loss.label = "E"

    params = dict(net.named_parameters())
    tparams = {n: torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for n, p in params.items()}
    act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda z: z}
    h = [torch.tensor(v, dtype=torch.float64) for v in x]
    for i in range(1, len(sizes)):
        f = act[activation] if i < len(sizes) - 1 else torch.sigmoid
        h = [f(sum(tparams[f"w{i}{j}{k}"] * h[k] for k in range(sizes[i - 1])) + tparams[f"b{i}{j}"])
             for j in range(sizes[i])]
    e = sum(0.5 * (t - o) ** 2 for o, t in zip(h, targets))
    e.backward()
    for name in ["w111", "w100", "b10", "w211", "w301", "b31"]:
        got = explain(loss, name)
        assert got.gradient == pytest.approx(tparams[name].grad.item(), rel=1e-10, abs=1e-14), name
        assert got.agrees
    # first-layer weights pass through every hidden neuron of layers 2 and 3: 3 * 2 paths
    assert len(gradient_paths(loss, "w100")) == 3 * 2


# -- printed forms --------------------------------------------------------------------------------
def test_text_form_for_w5():
    loss, _ = seed004()
    text = explain_gradient(loss, "w5", learning_rate=LR)
    assert "Path 1: E -> E_o1 -> out_o1 -> net_o1 -> w5" in text
    assert "dout_o1/dnet_o1 = out_o1 * (1 - out_o1) = 0.751365 * (1 - 0.751365) = 0.186816" in text
    assert "dnet_o1/dw5     = out_h1 = 0.593270" in text
    assert "product         = 1 * 0.741365 * 0.186816 * 0.593270 = 0.0821670" in text
    assert "dE/dw5 = 0.0821670" in text
    assert "reverse mode (backward) gives 0.0821670, the same" in text
    assert "w5+ = w5 - lr * dE/dw5 = 0.4 - 0.5 * 0.0821670 = 0.358916" in text
    assert text.endswith("\n")


def test_text_form_for_w1_sums_the_paths():
    loss, _ = seed004()
    text = explain_gradient(loss, "w1", learning_rate=LR)
    assert "2 paths from E to w1" in text
    assert "dE/dw1 = path 1 + path 2 = 0.000668396 + (-0.000229828) = 0.000438568" in text
    assert "w1+ = w1 - lr * dE/dw1 = 0.15 - 0.5 * 0.000438568 = 0.149781" in text


def test_markdown_form():
    loss, _ = seed004()
    md = explain_gradient(loss, "w1", learning_rate=LR, fmt="markdown")
    assert md.startswith(r"### $\frac{\partial E}{\partial w_{1}}$ by the chain rule")
    assert md.count("| factor | formula | with numbers | value |") == 2
    assert r"| $\frac{\partial out_{o1}}{\partial net_{o1}}$ | $out_{o1} (1 - out_{o1})$ | " \
           r"$0.751365 (1 - 0.751365)$ | $0.186816$ |" in md
    assert r"$w_{1}^{+} = w_{1} - \eta \frac{\partial E}{\partial w_{1}} = 0.15 - 0.5 \cdot 0.000438568" \
           r" = 0.149781$" in md
    # every table row has the same number of cells
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert {len(re.findall(r"(?<!\\)\|", line)) for line in rows} == {5}


def test_markdown_maths_is_accepted_by_a_tex_math_parser():
    mathtext = pytest.importorskip("matplotlib.mathtext")
    loss, _ = seed004()
    md = explain_gradient(loss, "b1", learning_rate=LR, fmt="markdown")
    parser = mathtext.MathTextParser("path")
    segments = re.findall(r"\$[^$]+\$", md)
    assert len(segments) > 40
    for segment in segments:
        parser.parse(segment.replace(r"\|", "|"))


def test_latex_form_is_one_align_environment():
    loss, _ = seed004()
    tex = explain_gradient(loss, "w1", learning_rate=LR, fmt="latex")
    body = tex[tex.index(r"\begin{align*}"):]
    assert body.count(r"\begin{align*}") == 1 and body.rstrip().endswith(r"\end{align*}")
    # the shared factors d out_h1 / d net_h1 and d net_h1 / d w1 are written once
    assert body.count(r"\frac{\partial out_{h1}}{\partial net_{h1}} &=") == 1
    assert r"\frac{\partial out_{o1}}{\partial net_{o1}} &= out_{o1} (1 - out_{o1}) = " \
           r"0.751365 (1 - 0.751365) = 0.186816 \\" in body
    assert r"w_{1}^{+} &= w_{1} - \eta \frac{\partial E}{\partial w_{1}} = 0.15 - 0.5 \cdot 0.000438568 " \
           r"= 0.149781" in body
    depth = 0
    for ch in body:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    # every row but the last ends with \\ and has exactly one alignment point
    rows = body.split("\n")[1:-2]
    assert all(r.count("&") == 1 for r in rows)


def test_digits_option():
    loss, _ = seed004()
    assert "0.74136507 * 0.18681560 * 0.59326999" in explain_gradient(loss, "w5", digits=8)


# -- errors ---------------------------------------------------------------------------------------
def test_unknown_name_is_named_with_the_known_ones():
    loss, _ = seed004()
    with pytest.raises(ValueError, match=r"no quantity named 'w9'.*w1, w2"):
        explain_gradient(loss, "w9")


def test_value_outside_the_graph_is_named():
    loss, _ = seed004()
    with pytest.raises(ValueError, match=r"'w5'.*not in the graph of E"):
        gradient_paths(loss, Value(0.4, "w5"))


def test_ambiguous_name():
    a, b = Value(1.0, "w"), Value(2.0, "w")
    loss = a * b
    with pytest.raises(ValueError, match="2 different nodes are named 'w'"):
        explain(loss, "w")


def test_bad_arguments():
    loss, _ = seed004()
    with pytest.raises(ValueError, match="'html'"):
        explain_gradient(loss, "w5", fmt="html")
    with pytest.raises(TypeError, match="loss must be a Value"):
        explain(1.0, "w5")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="param must be a Value or a name"):
        explain(loss, 5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        explain(loss, "w5", learning_rate=math.inf)


def test_too_many_paths_is_refused(monkeypatch):
    loss, _ = seed004()
    monkeypatch.setattr(explain_module, "MAX_PATHS", 3)
    assert len(gradient_paths(loss, "w1")) == 2
    with pytest.raises(ValueError, match="more than 3 paths"):
        gradient_paths(loss, "b1")


# -- the explain command --------------------------------------------------------------------------
def _cli(argv, capsys):
    from autograd_tiny.cli import main

    status = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.out, captured.err


def test_cli_explains_w1_of_the_shipped_seed004(capsys):
    status, out, err = _cli(["explain", "--example", "seed004", "w1"], capsys)
    assert status == 0 and err == ""
    # the shipped file labels the inputs i1, i2
    assert "dnet_h1/dw1     = i1 = 0.05" in out
    assert "dE/dw1 = path 1 + path 2 = 0.000668396 + (-0.000229828) = 0.000438568" in out
    assert "w1+ = w1 - lr * dE/dw1 = 0.15 - 0.5 * 0.000438568 = 0.149781" in out


def test_cli_explains_a_file(tmp_path, capsys):
    from autograd_tiny.derivation import example_text

    path = tmp_path / "seed004.toml"
    path.write_text(example_text("seed004"), encoding="utf-8")
    status, out, _ = _cli(["explain", str(path), "w5", "--format", "latex"], capsys)
    assert status == 0
    assert r"w_{5}^{+} &= w_{5} - \eta \frac{\partial E}{\partial w_{5}} = 0.4 - 0.5 \cdot 0.0821670 " \
           r"= 0.358916" in out
    status, out, _ = _cli(["explain", str(path), "w5", "--format", "markdown", "--digits", "9"], capsys)
    assert status == 0 and "$0.0821670406$" in out


def test_cli_frozen_bias_gets_no_update(capsys):
    status, out, _ = _cli(["explain", "--example", "seed004", "b1"], capsys)
    assert status == 0
    assert "b1+" not in out
    assert "b1 is kept fixed" in out
    # 4 paths summed; the same number as PyTorch gives (0.0187256094)
    assert re.search(r"dE/db1 = path 1 \+ path 2 \+ path 3 \+ path 4 = .* = 0\.0187256$", out, re.M)


def test_cli_explains_a_neuron_quantity(capsys):
    status, out, _ = _cli(["explain", "--example", "seed004", "net_o1"], capsys)
    # the delta of o1: 0.74136507 * 0.186815602 = 0.138498562
    assert status == 0 and "dE/dnet_o1 = 0.138499" in out


@pytest.mark.parametrize(("argv", "needle"), [
    (["explain", "--example", "seed004", "w9"], "'w9'"),
    (["explain", "--example", "seed999", "w1"], "seed999"),
    (["explain", "/no/such/file.toml", "w1"], "/no/such/file.toml"),
    (["explain", "w1"], "give a derivation FILE before 'w1'"),
    (["explain", "--example", "seed004", "x.toml", "w1"], "not both"),
    (["explain", "--example", "seed004", "w1", "--digits", "0"], "--digits must be >= 1"),
    (["explain", "--example", "seed004", "w1", "--digits", "18"], "--digits must be at most 17, got 18"),
    (["explain", "--example", "seed004", "w1", "--digits", "9" * 30], "--digits must be at most 17"),
])
def test_cli_errors_are_one_line_with_status_2(argv, needle, capsys):
    status, out, err = _cli(argv, capsys)
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]


def test_cli_passes_on_why_a_quantity_cannot_be_explained(capsys, monkeypatch):
    # net_h1 exists; when its graph has too many paths, the advice reaches the user instead of
    # a claim that net_h1 is no quantity of the file.
    monkeypatch.setattr(explain_module, "MAX_PATHS", 1)
    status, out, err = _cli(["explain", "--example", "seed004", "net_h1"], capsys)
    assert status == 2 and out == ""
    assert err.count("\n") == 1
    assert "cannot explain 'net_h1': more than 1 routes lead from E through unlabelled nodes; label" in err
    assert "no named quantity" not in err


def test_digits_and_learning_rate_are_checked():
    loss, _ = seed004()
    with pytest.raises(ValueError, match="digits must be from 1 to 17.*got 0"):
        explain_gradient(loss, "w5", digits=0)
    with pytest.raises(ValueError, match="digits must be from 1 to 17.*got 1000000000"):
        explain_gradient(loss, "w5", digits=10**9)
    with pytest.raises(TypeError, match="digits must be an int from 1 to 17, got float: 3.5"):
        explain_gradient(loss, "w5", digits=3.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="learning_rate must be a real number.*got str: 'a'"):
        explain(loss, "w5", learning_rate="a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"learning_rate must be a finite number other than 0 \(negative: "
                                         r"a step up the gradient\), got 0.0"):
        explain(loss, "w5", learning_rate=0.0)
    # 17 digits: dE/dw5 = 0.082167041 (seed 004 by hand), shown to all its digits
    assert "0.082167040" in explain_gradient(loss, "w5", digits=17)


def test_deep_or_exploding_unlabelled_graphs_are_refused_with_advice():
    w = Value(0.5, "w")
    x = w
    for _ in range(5000):  # deeper than Python's recursion limit, nothing labelled
        x = x * 1.0001
    with pytest.raises(ValueError, match="label intermediate quantities"):
        explain(x, "w")
    x = w
    for _ in range(30):  # 2**30 routes through unlabelled nodes
        x = x * 1.0 + x * 1.0
    with pytest.raises(ValueError, match="label intermediate quantities"):
        explain(x, "w")
    # labelled, the same graph explains at once: one path, each factor summing two routes
    x = w
    for i in range(30):
        x = x * 1.0 + x * 1.0
        x.label = f"n{i}"
    (path,) = gradient_paths(x, "w")
    assert len(path.factors) == 30 and all(f.routes == 2 and f.value == 2.0 for f in path.factors)
    assert path.factors[0].formula == "1 + 1"


def test_a_structural_zero_after_an_infinite_derivative_is_explained_as_backward_gives_it() -> None:
    # o = sqrt(relu(-w)) + 3 w at w = 1: relu(-1) = 0, d sqrt/dx at 0 is inf, relu's derivative
    # below 0 is a structural 0, so that path passes 0 (as in PyTorch) and do/dw = 3
    w = Value(1.0, "w")
    o = (-w).relu().sqrt() + w * 3
    o.label = "o"
    o.backward()
    assert w.grad == 3.0
    text = explain_gradient(o, w)
    assert text.splitlines()[-2:] == ["do/dw = 3", "  check: reverse mode (backward) gives 3, the same"]
