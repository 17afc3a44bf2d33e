"""Explanations in delta form: the textbook recursion gives backward's numbers, stays short where
the paths multiply, and prints in text, Markdown and LaTeX."""

from __future__ import annotations

import pytest

from autograd_tiny import Value, explain_gradient, load_derivation
from autograd_tiny.cli import main
from autograd_tiny.derivation import load_example
from autograd_tiny.derivation.network import Network
from autograd_tiny.explain import gradient_paths
from autograd_tiny.explain_delta import explain_delta, explain_delta_structure, latex_name


def test_delta_form_gives_backwards_numbers_for_every_quantity() -> None:
    d = load_example("seed004")
    net = Network(d.spec)
    for param in d.parameters:
        fw = net.forward()
        fw.loss.backward()
        e = explain_delta_structure(fw.loss, net.parameters[param])
        assert e.gradient == pytest.approx(net.parameters[param].grad, rel=1e-14)
        assert e.agrees
        for n, node in fw.net.items():
            if f"net_{n}" in e.values:
                assert e.values[f"net_{n}"] == pytest.approx(node.grad, rel=1e-14, abs=1e-300)
        for n, node in fw.out.items():
            if f"out_{n}" in e.values:
                assert e.values[f"out_{n}"] == pytest.approx(node.grad, rel=1e-14, abs=1e-300)


def test_seed004_w1_by_hand() -> None:
    # delta_o1 = (out_o1 - 0.01) out_o1 (1 - out_o1) = 0.138498562, delta_o2 = -0.0380982365,
    # dE/dout_h1 = 0.138498562 * 0.40 + (-0.0380982365) * 0.50 = 0.0363503064,
    # delta_h1 = 0.0363503064 * 0.241300709 = 0.00877135469, dE/dw1 = delta_h1 * 0.05 = 0.000438567734.
    text = load_example("seed004").explain("w1", form="delta")
    lines = text.splitlines()
    assert lines[0].startswith("dE/dw1 in delta form")
    assert ("dE/dout_h1 = dE/dnet_o1 * w5 + dE/dnet_o2 * w7 = 0.138499 * 0.4 + (-0.0380982) * 0.5 "
            "= 0.0363503") in lines
    assert ("dE/dnet_h1 = dE/dout_h1 * out_h1 * (1 - out_h1) = 0.0363503 * 0.241301 = 0.00877135"
            in lines)
    assert "dE/dw1     = dE/dnet_h1 * i1 = 0.00877135 * 0.05 = 0.000438568" in lines
    assert "  check: reverse mode (backward) gives 0.000438568, the same" in lines
    assert lines[-1] == "  w1+ = w1 - lr * dE/dw1 = 0.15 - 0.5 * 0.000438568 = 0.149781"


def test_deep_network_stays_short() -> None:
    # A 2-4-4-4-1 network: dE/dw1 has 4 * 4 = 16 paths, but one line per named quantity.
    layers = [["x1", "x2"], ["a1", "a2", "a3", "a4"], ["b1", "b2", "b3", "b4"],
              ["c1", "c2", "c3", "c4"], ["o"]]
    weights = []
    k = 0
    for i in range(len(layers) - 1):
        for dst in layers[i + 1]:
            for src in layers[i]:
                k += 1
                weights.append(f'w{k} = ["{src}", "{dst}", {((k * 37) % 19 - 9) / 10}]')
    text = (f'activation = "tanh"\nloss = "half_squared_error"\nlearning_rate = 0.1\n'
            f"layers = {layers!r}\n".replace("'", '"')
            + "[inputs]\nx1 = 0.5\nx2 = -0.25\n[targets]\no = 0.3\n[weights]\n" + "\n".join(weights) + "\n")
    d = load_derivation(text)
    loss = d.loss()
    assert len(gradient_paths(loss, "w1")) == 16
    e = explain_delta_structure(loss, "w1")
    # E -> out_o -> net_o, then out and net of 4 + 4 neurons and of a1, then w1.
    assert [s.name for s in e.steps][:2] == ["out_o", "net_o"]
    assert len(e.steps) == 2 + 8 + 8 + 2 + 1
    loss = d.loss()
    loss.backward()
    assert e.gradient == pytest.approx(d.parameters["w1"].grad, rel=1e-12)
    assert len(explain_delta(d.loss(), "w1").splitlines()) < len(d.explain("w1").splitlines()) / 4


def test_formats_and_latex_names() -> None:
    latex = load_example("seed004").explain("w5", fmt="latex", form="delta")
    assert latex.startswith("% dE/dw5 in delta form")
    assert (r"\frac{\partial E}{\partial \mathrm{net}_{o1}} &= "
            r"\frac{\partial E}{\partial \mathrm{out}_{o1}} "
            r"\mathrm{out}_{o1} (1 - \mathrm{out}_{o1})") in latex
    assert "\\begin{align*}" in latex and latex.endswith("\\end{align*}\n")
    md = load_example("seed004").explain("w5", fmt="markdown", form="delta")
    assert md.startswith(r"### $\frac{\partial E}{\partial w_{5}}$ in delta form")
    assert latex_name("out_o1") == r"\mathrm{out}_{o1}"
    assert latex_name("w5") == "w_{5}" and latex_name("E") == "E"
    assert latex_name("out_o1[2]") == r"\mathrm{out}_{o1}^{[2]}"
    assert latex_name("a_b#c") == r"a_{b\#c}"


def test_any_labelled_graph_and_errors() -> None:
    x = Value(-2.0, "x")
    y = Value(5.0, "y")
    q = x + y
    q.label = "q"
    f = q * x
    f.label = "f"
    # df/dx = q * 1 + x = 3 - 2 = 1 (two routes into x)
    e = explain_delta_structure(f, x)
    assert e.gradient == 1.0 and e.values == {"q": -2.0, "x": 1.0}
    assert explain_gradient(f, "x", form="delta") == explain_delta(f, "x")
    with pytest.raises(ValueError, match="unknown form"):
        explain_gradient(f, "x", form="tree")
    with pytest.raises(ValueError, match="no quantity named 'z'"):
        explain_delta(f, "z")


def test_cli_form_delta(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--example", "seed004", "w5", "--form", "delta"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dE/dw5 in delta form")
    assert "dE/dw5     = dE/dnet_o1 * out_h1 = 0.138499 * 0.593270 = 0.0821670" in out
    with pytest.raises(SystemExit) as info:
        main(["explain", "--example", "seed004", "w5", "--form", "tree"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_expression_file_in_delta_form() -> None:
    d = load_derivation('output = "f"\n[values]\nx = -2.0\ny = 5.0\nz = -4.0\n'
                        '[define]\nq = "x + y"\nf = "q * z"\n')
    text = d.explain("x", form="delta")
    assert "df/dq = z = -4" in text and "df/dx = df/dq = -4" in text
    assert "delta)" not in text.splitlines()[0]  # no neurons, no deltas


def test_labels_are_escaped_in_every_format() -> None:
    # E = tanh(w * x)^2 with w = 0.5, x = 2: tanh(1) = 0.761594, dE/dh = 2 * 0.761594 = 1.52319.
    w = Value(0.5, label="w\x1b[31m")
    x = Value(2.0, label="x")
    h = (w * x).tanh()
    h.label = "h<b>"
    loss = h * h
    loss.label = "E\n\\input{x}"
    text = explain_delta(loss, w, fmt="text", learning_rate=0.1)
    assert "\x1b" not in text and "w\\x1b[31m+ = w\\x1b[31m - lr" in text
    assert text.splitlines()[0].startswith("dE\\n\\input{x}/dw\\x1b[31m in delta form")
    assert "= h<b> + h<b> = 1.52319" in text
    latex = explain_delta(loss, w, fmt="latex")
    # the header stays one comment line: no live \input after a line break
    assert latex.splitlines()[0].startswith("% dE\\n\\input{x}/dw\\x1b[31m in delta form")
    assert latex.splitlines()[1] == "\\begin{align*}"
    markdown = explain_delta(loss, w, fmt="markdown")
    assert "The derivative of $E\\backslash{}n\\backslash{}input\\{x\\}$ with respect" in markdown
