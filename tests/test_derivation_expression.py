"""Expression files: backpropagation as general autodiff (``[values]``, ``[define]``, ``[claims]``
without ``layers``), checked against hand figures and PyTorch; definitions are parsed against
the operation table's whitelist, never evaluated."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from autograd_tiny import load_derivation
from autograd_tiny.cli import main
from autograd_tiny.derivation.expression import UNARY_FUNCTIONS, ExpressionDerivation
from autograd_tiny.errors import UsageError

#: The classic circuit f = (x + y) * z at x = -2, y = 5, z = -4. By hand: q = x + y = 3,
#: f = q * z = -12; df/dq = z = -4, df/dz = q = 3, df/dx = df/dy = df/dq * 1 = -4.
CIRCUIT = """\
title = "f = (x + y) * z"
output = "f"
[values]
x = -2.0
y = 5.0
z = -4.0
[define]
q = "x + y"
f = "q * z"
[claims]
"""


def check(claims: str, text: str = CIRCUIT) -> dict[str, object]:
    return {r.claim: r for r in load_derivation(text + claims).check()}


def test_circuit_by_hand() -> None:
    d = load_derivation(CIRCUIT)
    assert isinstance(d, ExpressionDerivation)
    assert d.quantities() == {"q": 3.0, "f": -12.0, "df/dx": -4.0, "df/dy": -4.0, "df/dz": 3.0,
                              "df/dq": -4.0, "df/df": 1.0}
    r = check('q = 3\n"df/dx" = -4\n"df/dy" = -4\n"df/dz" = 3\n"df/dq" = -4\nf = -12\n')
    assert [x.verdict for x in r.values()] == ["ok"] * 6  # type: ignore[attr-defined]
    assert d.value("df/dz") == 3.0
    assert d.value("dq/dx") == 1.0  # any claim name: q = x + y, a local gradient
    with pytest.raises(UsageError, match="'g': names nothing"):
        d.value("g")


def test_circuit_slips_follow_and_hints() -> None:
    # q written as 4 (true 3): df/dz = q = 4 follows from it, f = 4 * -4 = -16 as well.
    r = check('q = 4\n"df/dz" = 4\nf = -16\n')
    assert [x.verdict for x in r.values()] == ["wrong", "follows", "follows"]  # type: ignore[attr-defined]
    assert r["df/dz"].hint == "carried forward from the slip in q"  # type: ignore[attr-defined]
    # df/dx written +4: the sign flipped (true -4).
    r = check('"df/dx" = 4\n')
    assert r["df/dx"].verdict == "wrong"  # type: ignore[attr-defined]
    assert r["df/dx"].hint == "the derivative's sign is flipped: the value is -4"  # type: ignore[attr-defined]
    # df/dx = -4 written as -8 from a written df/dq = -8: follows.
    r = check('"df/dq" = -8\n"df/dx" = -8\n')
    assert [x.verdict for x in r.values()] == ["wrong", "follows"]  # type: ignore[attr-defined]


def test_a_path_left_out() -> None:
    # g = x * y + x at x = 3, y = 5: dg/dx = y + 1 = 6 (two paths: through x * y and directly).
    # Leaving out the direct path gives y = 5; leaving out the product's gives 1.
    text = 'output = "g"\n[values]\nx = 3.0\ny = 5.0\n[define]\np = "x * y"\ng = "p + x"\n[claims]\n'
    # (Written as 5, with unit 1, it could be a rounding of... no: 6 is two units away; written
    # as 6 it is ok.)
    r = check('"dg/dx" = 5.0\n', text)["dg/dx"]
    assert r.verdict == "wrong"  # type: ignore[attr-defined]
    assert r.hint == ("dg/dx leaves out one of the 2 paths through which g depends on x (the one "  # type: ignore[attr-defined]
                      "through g): it should add 1")
    assert check('"dg/dx" = 6\n', text)["dg/dx"].verdict == "ok"  # type: ignore[attr-defined]


#: A sigmoid neuron as a circuit: f = sigmoid(w0 x0 + w1 x1 + w2), written with the table's
#: functions and with exp (1 / (1 + exp(-z)) gives the same number).
NEURON = """\
output = "f"
[values]
w0 = 2.0
x0 = -1.0
w1 = -3.0
x1 = -2.0
w2 = -3.0
[define]
z = "w0 * x0 + w1 * x1 + w2"
f = "sigmoid(z)"
g = "1 / (1 + exp(-z))"
h = "tanh(z) ** 2 + log(abs(z) + 1) - relu(-z) / sqrt(4.0) + sin(z) * cos(z)"
[claims]
"""


def test_sigmoid_neuron_against_pytorch() -> None:
    torch = pytest.importorskip("torch")
    leaves = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in leaves.items()}
    z = t["w0"] * t["x0"] + t["w1"] * t["x1"] + t["w2"]
    f = torch.sigmoid(z)
    grads = torch.autograd.grad(f, list(t.values()))
    q = load_derivation(NEURON).quantities()
    # By hand: z = -2 + 6 - 3 = 1, f = sigmoid(1) = 0.7310585786, df/dz = f (1 - f) = 0.1966119332,
    # df/dw0 = x0 * 0.19661 = -0.19661, df/dx0 = w0 * 0.19661 = 0.39322.
    assert q["z"] == 1.0 and q["f"] == pytest.approx(1 / (1 + math.e ** -1), rel=1e-15)
    for name, g in zip(leaves, grads):
        assert q[f"df/d{name}"] == pytest.approx(g.item(), rel=1e-14, abs=1e-16)
    assert q["df/dz"] == pytest.approx(0.1966119332, abs=1e-10)
    assert q["g"] == pytest.approx(q["f"], rel=1e-15)
    # Every table function, against torch.
    zt = t["w0"] * t["x0"] + t["w1"] * t["x1"] + t["w2"]
    h = torch.tanh(zt) ** 2 + torch.log(zt.abs() + 1) - torch.relu(-zt) / math.sqrt(4.0) \
        + torch.sin(zt) * torch.cos(zt)
    d = load_derivation(NEURON.replace('output = "f"', 'output = "h"'))
    qh = d.quantities()
    assert qh["h"] == pytest.approx(h.item(), rel=1e-14)
    for name, g in zip(leaves, torch.autograd.grad(h, list(t.values()))):
        assert qh[f"dh/d{name}"] == pytest.approx(g.item(), rel=1e-13, abs=1e-15)
    claims = "".join(f'"df/d{n}" = {g.item():.10f}\n' for n, g in zip(leaves, grads))
    assert all(r.verdict == "ok" for r in load_derivation(NEURON + claims).check())


def test_explain_and_backward_agree() -> None:
    d = load_derivation(NEURON)
    text = d.explain("w0")
    assert text.startswith("df/dw0 by the chain rule: 1 path from f to w0")
    assert "dz/dw0 = x0 = -1" in text
    assert "df/dw0 = -0.196612" in text
    loss = d.loss()
    loss.backward()
    assert d.parameters["w0"].grad == pytest.approx(-0.1966119332, abs=1e-10)
    with pytest.raises(UsageError, match="no quantity 'v'"):
        d.explain("v")


@pytest.mark.parametrize(("formula", "message"), [
    ("__import__('os')", "define.q: calls '__import__', which is no function of the operation table"),
    ("x.real", "define.q: attribute access (a.b) not allowed"),
    ("open(x)", "define.q: calls 'open', which is no function of the operation table"),
    ("(lambda: x)()", "define.q: calls 'lambda: x', which is no function"),
    ("lambda: x", "define.q: lambda not allowed"),
    ("x[0]", "define.q: subscripts (a[i]) not allowed"),
    ("x if y else z", "define.q: if ... else not allowed"),
    ("x < y", "define.q: comparisons not allowed"),
    ("'a'", "define.q: the constant 'a' is not allowed"),
    ("x +", "define.q: 'x +' is not a formula"),
    ("x // y", "define.q: the operator 'x // y' is not allowed"),
    ("exp(x, y)", "define.q: exp() takes exactly one argument"),
    ("w + 1", "define.q: uses 'w', which is not defined; the names are x, y, z, q, f"),
    ("exp", "define.q: exp is a function; call it"),
    ("x", "define.q: is just x"),
    ("2 * 3", "define.q: uses no name"),
    ("f + 1", "define.q: depends on itself: q -> f -> q"),
])
def test_bad_definitions_are_one_line_errors(formula: str, message: str) -> None:
    text = CIRCUIT.replace('q = "x + y"', f"q = {formula!r}".replace("'", '"') if "'" not in formula
                           else f"q = {chr(39) * 3}{formula}{chr(39) * 3}")
    with pytest.raises(UsageError) as info:
        load_derivation(text)
    assert message in str(info.value)
    assert str(info.value).startswith("<text>: ")
    assert "\n" not in str(info.value)


def test_other_file_errors() -> None:
    for text, message in [
        (CIRCUIT.replace('q = "x + y"', 'q = "q + 1"'), "define.q: depends on itself: q -> q"),
        (CIRCUIT.replace('output = "f"', 'output = "x"'), "output: 'x' is a leaf in [values]"),
        (CIRCUIT.replace('output = "f"', 'output = "nope"'), "output: 'nope' is not defined"),
        (CIRCUIT + 'x = 1\n', "claims.x: x is a leaf"),
        (CIRCUIT + '"df/dw" = 1\n', "no quantity 'w'"),
        (CIRCUIT + '"dx/dq" = 1\n', "a local gradient dA/dB needs A a definition, got 'x'"),
        (CIRCUIT + '"dq/dw" = 1\n', "no quantity 'w' below q"),
        (CIRCUIT + '"q@x" = 1\n', "the step after @ must be a whole number"),
        (CIRCUIT + '"q@\u00b2" = 1\n', "the step after @ must be a whole number, got '\u00b2'"),
        (CIRCUIT + '"q+" = 1\n', "q+ is q after one gradient-descent step: give the file a learning_rate"),
        (CIRCUIT.replace("z = -4.0", "z = -4.0\nq = 1.0"), "define.q: 'q' is already a leaf"),
        (CIRCUIT.replace('f = "q * z"', 'f = "q * z"\nexp = "q"'), "define.exp: 'exp' is a function"),
        (CIRCUIT + "q = \"3\"\n", "claims.q: expected a number"),
        # the claim reader is the network files': a digit no float can tell apart is refused
        (CIRCUIT + "q = 1e-2000\n", "claims.q: 1e-2000 puts its last digit at 10^-2000"),
        ("layer = 3\n" + CIRCUIT, "layer: unknown key"),
        (CIRCUIT.replace("[values]", "[valuez]"), "valuez: unknown key"),
    ]:
        with pytest.raises(UsageError, match=None) as info:
            load_derivation(text)
        assert message in str(info.value), (message, str(info.value))
        assert "\n" not in str(info.value)


def test_whitelist_is_the_tables_unary_operations() -> None:
    from autograd_tiny.ops import OPS

    # the table's unary operations today, written out: a new one must show up in the whitelist
    assert set(UNARY_FUNCTIONS) == {"neg", "exp", "log", "tanh", "sigmoid", "relu", "sqrt", "abs",
                                    "sin", "cos"}
    assert set(UNARY_FUNCTIONS) == {n for n, op in OPS.items() if op.arity == 1}


def test_cli_check_explain_and_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = tmp_path / "circuit.toml"
    good.write_text(CIRCUIT + '"df/dx" = -4\n"df/dz" = 3\n')
    assert main(["check", str(good)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "f = (x + y) * z" and out.splitlines()[-1] == "All 2 claims ok."
    assert main(["explain", str(good), "x"]) == 0
    out = capsys.readouterr().out
    assert "df/dx = -4" in out and "kept fixed" not in out
    bad = tmp_path / "bad.toml"
    bad.write_text(CIRCUIT.replace('q = "x + y"', 'q = "__import__(\\"os\\").system(\\"echo hi\\")"'))
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "define.q" in err and "__import__" in err


def test_svg_of_an_expression_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from autograd_tiny.render import GraphvizNotFoundError, find_program

    try:
        find_program(None)
    except GraphvizNotFoundError:
        pytest.skip("no Graphviz layout program")
    good = tmp_path / "circuit.toml"
    good.write_text(CIRCUIT + '"df/dx" = -4\n')
    assert main(["check", str(good), "--svg", str(tmp_path / "pics")]) == 0
    svg = (tmp_path / "pics" / "graph.svg").read_text()
    assert "<svg" in svg and ">q<" in svg.replace(" ", "")
    assert not (tmp_path / "pics" / "network.svg").exists()


def test_learning_rate_and_updated_leaves(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # With lr 0.1: x+ = -2 - 0.1 * (-4) = -1.6, y+ = 5 - 0.1 * (-4) = 5.4, z+ = -4 - 0.1 * 3 = -4.3.
    text = CIRCUIT.replace('output = "f"', 'output = "f"\nlearning_rate = 0.1')
    d = load_derivation(text)
    q = d.quantities()
    assert (q["x+"], q["y+"], q["z+"]) == (pytest.approx(-1.6), pytest.approx(5.4), pytest.approx(-4.3))
    r = check('"x+" = -1.6\n"y+" = 4.6\n"z+" = -4.0\n"df/dz" = 4\n', text)
    assert [x.verdict for x in r.values()] == ["ok", "wrong", "wrong", "wrong"]  # type: ignore[attr-defined]
    # y + lr * df/dy = 5 + 0.1 * (-4) = 4.6: the sign flipped.
    assert r["y+"].hint == "the gradient's sign is flipped: y + lr * df/dy = 4.6"  # type: ignore[attr-defined]
    # z+ = -4.0 is z before the step; with df/dz written as 4, -4.4 would follow.
    assert r["z+"].hint == "matches z before the step: the update was left out"  # type: ignore[attr-defined]
    assert check('"df/dz" = 4\n"z+" = -4.4\n', text)["z+"].verdict == "follows"  # type: ignore[attr-defined]
    assert "x+ = x - lr * df/dx = -2 - 0.1 * (-4) = -1.6" in d.explain("x")
    with pytest.raises(UsageError, match=r"claims\.\"x\+\": x\+ is x after one gradient-descent step: "
                                         "give the file a learning_rate"):
        load_derivation(CIRCUIT + '"x+" = -1.6\n')
    with pytest.raises(UsageError, match="learning_rate: must not be 0"):
        load_derivation(CIRCUIT.replace('output = "f"', 'output = "f"\nlearning_rate = 0'))
    f = tmp_path / "lr.toml"
    f.write_text(text)
    assert main(["explain", str(f), "z"]) == 0
    assert capsys.readouterr().out.endswith("z+ = z - lr * df/dz = -4 - 0.1 * 3 = -4.3\n")


def test_training_an_expression() -> None:
    # Gradient descent on f = (x + y) z with lr 0.1, by hand: x, y -= 0.1 z and z -= 0.1 q.
    # Step 1: x = -1.6, y = 5.4, z = -4.3 (f = 3.8 * -4.3 = -16.34); step 2: x = -1.17, y = 5.83,
    # z = -4.68 (f = -21.8088); after step 3: x = -0.702, y = 6.298, z = -5.146, f = -28.797016.
    d = load_derivation(CIRCUIT.replace('output = "f"', 'output = "f"\nlearning_rate = 0.1'))
    assert d.train(3) == pytest.approx([-12.0, -16.34, -21.8088], rel=1e-12)
    assert d.loss().data == pytest.approx(-28.797016, rel=1e-12)
    assert d.parameters["z"].data == pytest.approx(-5.146, rel=1e-12)
    d.reset()
    assert d.loss().data == -12.0
    with pytest.raises(UsageError, match="only with a learning_rate"):
        load_derivation(CIRCUIT).train(1)


def test_the_first_slip_is_the_first_in_computation_order_not_in_the_file() -> None:
    # q = x + y = 3 is computed before f = q * z; written q = 4 is the slip, and f = 4 * -4 = -16
    # follows from it, while f = -13 (written first in the file) matches neither 3 * -4 nor -16
    from autograd_tiny.derivation.checker import summary

    results = load_derivation(CIRCUIT + "f = -13\nq = 4\n").check()
    assert [(r.claim, r.verdict) for r in results] == [("f", "wrong"), ("q", "wrong")]
    assert summary(results).endswith("First slip: q (written 4, computed 3).")


def test_steps_are_bounded_by_the_graphs_size() -> None:
    # f = x*y + x*y is 3 operations on 2 leaves: 5 graph nodes. The checker trains through at most
    # 4,000,000 node-steps (format.STEP_BUDGET), so 800,000 steps are allowed and 999,999
    # (4,999,995 node-steps) are refused with that advice. Before, an expression file could ask for
    # 999,999 steps of any size of graph: 8001 nodes took hours to check.
    text = ('output = "f"\nlearning_rate = 0.001\n[values]\nx = 0.5\ny = 0.25\n'
            '[define]\nf = "x*y + x*y"\n[claims]\n')
    with pytest.raises(UsageError, match=r'claims."f@999999": 999999 steps of this graph \(about 5 '
                                         r"graph nodes per step\) .* claim at most about 800000 steps"):
        load_derivation(text + '"f@999999" = 0.0\n')
    assert load_derivation(text + '"f@800000" = 0.0\n').claims[0].quantity.step == 800000


def test_the_first_slip_of_an_expression_file_follows_the_files_order() -> None:
    # a = sin(sin(sin(x))) lies deeper in the graph than b = x*y, but the file defines a first, and
    # a hand derivation goes through the definitions in that order: a wrong a is the first slip (a
    # network file goes a layer at a time instead). On the way back, y (defined after x) comes first.
    text = ('output = "f"\n[values]\nx = 0.5\ny = 2.0\n[define]\na = "sin(sin(sin(x)))"\n'
            'b = "x*y"\nf = "a + b"\n[claims]\nb = 2.0\na = 1.0\n')
    assert "First slip: a (written 1.0" in load_derivation(text).report()
    text = ('output = "f"\n[values]\nx = 0.5\ny = 2.0\n[define]\nq = "x*y"\nf = "q*q - 2*x"\n'
            '[claims]\n"df/dx" = 9.0\n"df/dy" = 9.0\n')  # true: 2 q y - 2 = 2, 2 q x = 1
    assert "First slip: df/dy (written 9.0" in load_derivation(text).report()


def test_value_reads_any_claim_name_and_names_the_problem() -> None:
    d = load_derivation(CIRCUIT)
    q = d.quantity("df/dx")
    assert q.name == "df/dx" and [p.name for p in d.named_quantities()][2:4] == ["df/dx", "df/dy"]
    with pytest.raises(UsageError, match="'E\\+': names nothing"):  # not "give the file a learning_rate"
        d.value("E+")
    with pytest.raises(UsageError, match="x@0 is a leaf: its value is the file's own \\(claim x\\+ for it"):
        d.value("x@0")
    with pytest.raises(TypeError, match="expected a claim name .* got int: 5"):
        d.value(5)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="12345678 steps is more than the 10000000"):
        trained = load_derivation(CIRCUIT.replace('output = "f"', 'output = "f"\nlearning_rate = 0.1'))
        trained.value("f@12345678")
