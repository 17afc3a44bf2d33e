"""Misconceptions as data: each entry beside an op, each structural and update rule, planted into
an exercise with every later figure carried, gets its own hint; and the verdict rules (float
noise, rounded inputs, hints that agree with the ok figures, one rule for the root of a slip).
Every slipped figure is worked out by hand next to its test."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from autograd_tiny import load_derivation
from autograd_tiny.derivation import ClaimResult
from autograd_tiny.ops import OPS

DATA = Path(__file__).parent / "data"
TEXT = (DATA / "net222.toml").read_text()
#: The seed 004 network (2-2-2 sigmoid, half squared error, lr 0.5, biases fixed), no claims.
SEED004 = TEXT[: TEXT.index("[claims]")] + "[claims]\n"


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def check(text: str) -> dict[str, ClaimResult]:
    return {r.claim: r for r in load_derivation(text).check()}


def expression(values: dict[str, float], define: dict[str, str], claims: dict[str, str],
               output: str = "f", extra: str = "") -> str:
    lines = [f'output = "{output}"', extra, "[values]"]
    lines += [f"{k} = {v!r}" for k, v in values.items()]
    lines.append("[define]")
    lines += [f'{k} = "{v}"' for k, v in define.items()]
    lines.append("[claims]")
    lines += [f'"{k}" = {v}' for k, v in claims.items()]
    return "\n".join(lines) + "\n"


# -- the table's entries ---------------------------------------------------------------------------

def test_every_op_misconception_is_a_table_expression() -> None:
    # Each wrong derivative compiles with the true ones' code and differs from the true one
    # somewhere: at x = 0.7, y = 1.3 (out the op's own forward value).
    from autograd_tiny.derivation.tape import derivative_function, op_forward

    count = 0
    for op in OPS.values():
        for m in op.misconceptions:
            if m.scale:  # a slip of the forward pass (log10 for ln), tested on a network file
                continue
            differ = []
            for x in (0.7, -0.7):
                out = op_forward(op.name)(x, 1.3)
                wrong = derivative_function((op.wrong_derivative(m),) * op.arity)(x, 1.3, out)[m.position]
                right = derivative_function(op.derivatives)(x, 1.3, out)[m.position]
                differ.append(wrong != pytest.approx(right))
            assert any(differ), (op.name, m.says)
            count += 1
    assert count >= 18


# Circuits worked by hand, each with one slip planted and every later figure carried.
# f = (x + y) z at x = -2, y = 5, z = -4: q = 3, f = -12, df/dq = z = -4, df/dz = q = 3,
# df/dx = df/dy = -4.
CIRCUIT = ({"x": -2.0, "y": 5.0, "z": -4.0}, {"q": "x + y", "f": "q * z"})


@pytest.mark.parametrize(("claims", "claim", "hint"), [
    # The product's own factor: df/dq written as q = 3 instead of z; df/dx, df/dy carry 3.
    ({"q": "3", "df/dq": "3", "df/dx": "3", "df/dy": "3"}, "df/dq",
     "takes the factor itself instead of the other factor: df/dq written as q instead of z"),
    # The upstream gradient not multiplied in: df/dx written as dq/dx = 1 (df/dq = -4 is right).
    ({"df/dq": "-4", "df/dx": "1"}, "df/dx",
     "leaves the upstream gradient df/dq out: the local derivative at q is written as the gradient"),
])
def test_circuit_slips(claims: dict[str, str], claim: str, hint: str) -> None:
    r = check(expression(*CIRCUIT, claims))
    assert r[claim].verdict == "wrong" and r[claim].hint == hint
    assert all(x.verdict != "wrong" for name, x in r.items() if name != claim)


@pytest.mark.parametrize(("values", "define", "claim", "written", "hint"), [
    # f = x^3 at x = 2: df/dx = 3 x^2 = 12; without the exponent x^(3-1) = 4.
    ({"x": 2.0}, {"f": "x ** 3"}, "df/dx", "4",
     "leaves the exponent out of the power rule: df/dx written as x^2 instead of 3 * x^2"),
    # f = x^2 at x = 3: df/dx = 6; without the exponent 3, which is also half the value: the
    # power rule explains the missing factor 2, so it is named.
    ({"x": 3.0}, {"f": "x ** 2"}, "df/dx", "3",
     "leaves the exponent out of the power rule: df/dx written as x instead of 2 * x"),
    # f = x / y at x = 3, y = 2: df/dy = -x / y^2 = -0.75; the minus lost: 0.75 (the sign flipped,
    # explained by the quotient rule).
    ({"x": 3.0, "y": 2.0}, {"f": "x / y"}, "df/dy", "0.75",
     "loses the quotient rule's minus sign: df/dy written as f / y instead of -f / y"),
    # f = sigmoid(x) at x = 0.5: f = 0.6224593, f' = f (1 - f) = 0.2350037; sigmoid' as sigmoid:
    # 0.6224593.
    ({"x": 0.5}, {"f": "sigmoid(x)"}, "df/dx", "0.6224593",
     "writes sigmoid' as sigmoid itself: df/dx written as f instead of f * (1 - f)"),
    # f = tanh(a) with a = 2 x at x = 0.3: a = 0.6, tanh' at the input: 1 - 0.36 = 0.64, times
    # da/dx = 2: df/dx = 1.28 (the truth: (1 - tanh(0.6)^2) * 2 = 1.3713).
    ({"x": 0.3}, {"a": "2 * x", "f": "tanh(a)"}, "df/dx", "1.28",
     "evaluates tanh' at the input instead of the output: df/da written as 1 - a^2 instead of "
     "1 - f^2"),
    # f = sqrt(x) at x = 4: f' = 1 / (2 * 2) = 0.25; the 1/2 left out: 0.5. (A factor 2 is the
    # same number, so the search finds two entries, unless a figure tells them apart: none here.)
    # f = m / 4 with m = x + y: d f/dm = 1/4; the mean's 1/N left out: df/dx = 1.
    ({"x": 1.0, "y": 2.0}, {"m": "x + y", "f": "m / 4"}, "df/dm", "1.0",
     "leaves out the division by the denominator (a mean's 1/N): df/dm written as 1 instead of 0.25"),
    # f = x - y: df/dy = -1; the minus sign lost: 1.0 (a sign flip that the subtraction explains).
    ({"x": 1.0, "y": 2.0}, {"f": "x - y"}, "df/dy", "1.0",
     "loses the minus sign of the subtracted term: df/dy written as 1 instead of -1"),
])
def test_op_misconceptions(values: dict[str, float], define: dict[str, str], claim: str, written: str,
                           hint: str | None) -> None:
    r = check(expression(values, define, {claim: written}))
    assert r[claim].verdict == "wrong"
    assert r[claim].hint == hint


def test_two_op_entries_that_give_one_number_get_no_hint() -> None:
    # f = sigmoid(x) at x = 0: f = 0.5, f' = 0.25. sigmoid' written as sigmoid gives 0.5, and
    # tanh's derivative 1 - f^2 gives 0.75; at the input x (1 - x) gives 0. Written 0.5: only the
    # first. But at f = 0.5, 1 - f (tanh' without the square) does not apply to sigmoid: one hint.
    r = check(expression({"x": 0.0}, {"f": "sigmoid(x)"}, {"df/dx": "0.50"}))
    assert r["df/dx"].hint == "writes sigmoid' as sigmoid itself: df/dx written as f instead of f * (1 - f)"
    # f = x * x at x = 1: df/dx = 2; the product's own factor at either use gives 1 + 1 = 2 (no
    # slip), and leaving a path out gives 1, which is also half: the path names it.
    r = check(expression({"x": 1.0}, {"f": "x * x"}, {"df/dx": "1.0"}))
    assert r["df/dx"].verdict == "wrong" and "leaves out one of the 2 paths" in (r["df/dx"].hint or "")


def test_a_path_left_out_at_a_fan_out() -> None:
    # g = x * y + x at x = 3, y = 5: dg/dx = y + 1 = 6; through the product alone 5. (At y = 2 the
    # product's other factor left out, 1 + 1, would give the same number: no hint there.)
    r = check(expression({"x": 3.0, "y": 5.0}, {"p": "x * y", "g": "p + x"}, {"dg/dx": "5.0"},
                         output="g"))
    assert r["dg/dx"].hint == ("dg/dx leaves out one of the 2 paths through which g depends on x "
                               "(the one through g): it should add 1")


# -- network files ------------------------------------------------------------------------------------

def test_sigmoid_as_its_own_derivative_in_a_network() -> None:
    # seed 004: out_o1 = 0.75136507, dE/dout_o1 = out_o1 - 0.01 = 0.74136507. With sigmoid' written
    # as sigmoid (out_o1 instead of out_o1 (1 - out_o1)): dE/dnet_o1 = 0.74136507 * 0.75136507 =
    # 0.55703582.
    o1 = sigmoid(0.40 * sigmoid(0.3775) + 0.45 * sigmoid(0.3925) + 0.60)
    slipped = (o1 - 0.01) * o1
    assert slipped == pytest.approx(0.55703582, abs=5e-9)
    r = check(SEED004 + f'"dE/dout_o1" = 0.74136507\n"dE/dnet_o1" = {slipped:.8f}\n')
    assert r["dE/dnet_o1"].verdict == "wrong"
    assert r["dE/dnet_o1"].hint == ("writes sigmoid' as sigmoid itself: dout_o1/dnet_o1 written as "
                                    "out_o1 instead of out_o1 * (1 - out_o1)")


def test_upstream_left_out_on_a_chain_rule_factor_claim() -> None:
    # dE/dw5 written as the factor dnet_o1/dw5 = out_h1 = 0.59326999 alone: the upstream gradient
    # dE/dnet_o1 = 0.13849856 not multiplied in.
    r = check(SEED004 + '"dE/dnet_o1" = 0.13849856\n"dE/dw5" = 0.59326999\n')
    assert r["dE/dw5"].verdict == "wrong"
    assert "upstream gradient dE/dnet_o1 out" in (r["dE/dw5"].hint or "")


MOMENTUM = (Path(__file__).parents[1] / "autograd_tiny" / "examples" / "momentum.toml").read_text()


@pytest.mark.parametrize(("extra", "written", "hint"), [
    # Momentum 0.9 (torch: v = 0.9 v + g, v = g at the first step). dE/dw5 = 0.082167041 at step 0,
    # 0.083125235 at step 1 (PyTorch float64, the example's comments). w5@2 with the velocity left
    # out: 0.35891648 - 0.5 * 0.083125235 = 0.31735386.
    ("", "0.31735386", "momentum leaves out the old velocity: the step uses this step's gradient alone"),
    # The step's sign flipped at step 1: 0.35891648 + 0.5 * 0.15707557 = 0.43745427.
    ("", "0.43745427",
     "the step's sign is flipped: the update adds what it subtracts from w5, giving 0.4374542657"),
    # Weight decay 0.01: step 0 d = g + 0.01 * 0.4 = 0.086167041, w5+ = 0.35691648; with the sign of
    # the decay flipped d = 0.078167041 and w5+ = 0.36091648.
    ("weight_decay = 0.01\n", None, None),
])
def test_update_rules(extra: str, written: str | None, hint: str | None) -> None:
    if written is None:
        text = MOMENTUM.replace("momentum = 0.9\n", "momentum = 0.9\nweight_decay = 0.01\n")
        start = text.index("[claims]")
        r = check(text[:start] + '[claims]\n"w5+" = 0.36091648\n')
        assert r["w5+"].verdict == "wrong"
        assert r["w5+"].hint == ("weight decay with the wrong sign: the step uses dE/dP - wd * P instead "
                                 "of dE/dP + wd * P")
        return
    text = MOMENTUM.replace('"w5@2" = 0.28037869', f'"w5@2" = {written}')
    r = check(text)
    assert r["w5@2"].verdict == "wrong" and r["w5@2"].hint == hint


def test_dampening_and_nesterov_against_torch() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for the update rules")
    torch.set_default_dtype(torch.float64)
    for options, kwargs in [("dampening = 0.3\n", {"dampening": 0.3}),
                            ("nesterov = true\n", {"nesterov": True}),
                            ("weight_decay = 0.01\n", {"weight_decay": 0.01})]:
        text = MOMENTUM.replace("momentum = 0.9\n", "momentum = 0.9\n" + options)
        d = load_derivation(text[: text.index("[claims]")] + "[claims]\n")
        ours = [d.value(f"w5@{k}") for k in (2, 3)] + [d.value("w1@3")]
        i = torch.tensor([0.05, 0.10])
        t = torch.tensor([0.01, 0.99])
        w1 = torch.tensor([[0.15, 0.20], [0.25, 0.30]], requires_grad=True)
        w2 = torch.tensor([[0.40, 0.45], [0.50, 0.55]], requires_grad=True)
        opt = torch.optim.SGD([w1, w2], lr=0.5, momentum=0.9, **kwargs)
        theirs = []
        for k in range(3):
            opt.zero_grad()
            o = torch.sigmoid(w2 @ torch.sigmoid(w1 @ i + 0.35) + 0.60)
            (0.5 * ((t - o) ** 2).sum()).backward()
            opt.step()
            if k >= 1:
                theirs.append(w2[0, 0].item())
        theirs.append(w1[0, 0].item())
        assert ours == pytest.approx(theirs, rel=1e-13, abs=1e-15), options


# -- the verdict rules -------------------------------------------------------------------------------

SOFTMAX = (DATA / "softmax222.toml").read_text()


def test_a_sum_that_is_exactly_zero_is_ok_despite_float_noise() -> None:
    # With softmax and cross-entropy dE/dnet_o = out - target, and the outputs sum to 1 as the
    # targets do: dE/db2 = (out_o1 - 0) + (out_o2 - 1) = 0 exactly; floats give about 1e-16.
    d = load_derivation(SOFTMAX)
    assert abs(d.value("dE/db2")) < 1e-15
    r = check(SOFTMAX + '"dE/db2" = 0\n')
    assert r["dE/db2"].verdict == "ok" and r["dE/db2"].computed == 0.0
    # A figure that is not 0 is still judged: 0.01 is wrong.
    assert check(SOFTMAX + '"dE/db2" = 0.01\n')["dE/db2"].verdict == "wrong"


def test_a_figure_carried_from_rounded_written_figures_follows() -> None:
    # seed 004: dE/dout_o1 = 0.74136507 (8 digits); written with its sign flipped, dE/dw5 =
    # -0.74136507 * out_o1 (1 - out_o1) * out_h1 = -0.74136507 * 0.186815602 * 0.593269992 =
    # -0.0821670406 (10 digits). One recomputation from -0.74136507 gives -0.08216704043...,
    # which rounds to -0.0821670404; the 8-digit figure is only known to +-5e-9, so dE/dw5 is
    # known to +-5e-9 * 0.1108 = 5.5e-10: -0.0821670406 is within it and follows.
    r = check(SEED004 + '"dE/dout_o1" = -0.74136507\n"dE/dw5" = -0.0821670406\n')
    assert r["dE/dout_o1"].verdict == "wrong"
    assert r["dE/dw5"].verdict == "follows"
    assert r["dE/dw5"].hint == "carried forward from the slip in dE/dout_o1"
    # Two units of the last digit further it no longer follows.
    assert check(SEED004 + '"dE/dout_o1" = -0.74136507\n"dE/dw5" = -0.0821670426\n')["dE/dw5"].verdict \
        == "wrong"


def test_no_hint_contradicts_an_ok_figure() -> None:
    # net_h1 = 0.15 * 0.05 + 0.20 * 0.10 + 0.35 = 0.3775 (ok). out_h1 written as sigmoid(0.38) =
    # 0.59387310, which reading w2 = 0.20 for w1 = 0.15 in net_h1 would give; but the student's own
    # net_h1 = 0.3775 says they did not: no such hint.
    assert sigmoid(0.38) == pytest.approx(0.59387310, abs=5e-9)
    alone = check(SEED004 + '"out_h1" = 0.59387310\n')
    assert "w2" in (alone["out_h1"].hint or "")
    r = check(SEED004 + '"net_h1" = 0.3775\n"out_h1" = 0.59387310\n')
    assert r["net_h1"].verdict == "ok" and r["out_h1"].verdict == "wrong"
    assert "w2" not in (r["out_h1"].hint or "")


def test_an_infinite_gradient_masked_by_relu_is_zero_as_in_backward() -> None:
    # a = relu(-x) = 0 at x = 1, so da/dx = 0 (structurally); f = a * 1e308 * 1e308: df/da = inf.
    # backward() gives df/dx = 0 (the structural zero wins), and so must the checker.
    text = expression({"x": 1.0}, {"a": "relu(-x)", "f": "a * 1e308 * 1e308"}, {"df/dx": "0"})
    r = check(text)
    assert r["df/dx"].computed == 0.0 and r["df/dx"].verdict == "ok"


def test_an_expression_slip_is_named_at_its_root() -> None:
    # a = x + 3 = 6 written 7 (wrong), b = a + 1 = 8 from it, c = 2 b = 16 from b: both follow
    # from the slip in a, and c says so (not "from the other written figures").
    text = expression({"x": 3.0}, {"a": "x + 3", "b": "a + 1", "c": "2 * b"},
                      {"a": "7", "b": "8", "c": "16"}, output="c")
    r = check(text)
    assert [r[n].verdict for n in "abc"] == ["wrong", "follows", "follows"]
    assert r["b"].hint == r["c"].hint == "carried forward from the slip in a"


# -- claims that can now be written -------------------------------------------------------------------

#: The micrograd lecture's first expression: a = 2, b = -3, c = 10, f = -2; e = a b = -6,
#: d = e + c = 4, L = d f = -8. Backward: dL/dd = f = -2, dL/df = d = 4, dd/de = 1 (a local
#: gradient), de/da = b = -3, so dL/da = -2 * 1 * -3 = 6, dL/db = -2 * 1 * 2 = -4. The lecture's
#: nudge a += 0.01 * a.grad is a step with learning rate -0.01: a+ = 2 + 0.01 * 6 = 2.06, b+ =
#: -3.04, c+ = 10 - 0.02 = 9.98, f+ = -2 + 0.04 = -1.96; L+ = (2.06 * -3.04 + 9.98) * -1.96 =
#: (-6.2624 + 9.98) * -1.96 = -7.286496.
LECTURE = expression({"a": 2.0, "b": -3.0, "c": 10.0, "f": -2.0},
                     {"e": "a * b", "d": "e + c", "L": "d * f"},
                     {"L": "-8", "dL/dd": "-2", "dd/de": "1", "de/da": "-3", "dL/da": "6", "a+": "2.06",
                      "c+": "9.98", "L+": "-7.286496", "dL/da+": "5.9584"},
                     output="L", extra="learning_rate = -0.01")


def test_the_lecture_nudge_local_gradients_and_steps() -> None:
    r = check(LECTURE)
    assert {k: v.verdict for k, v in r.items()} == dict.fromkeys(r, "ok")
    assert r["L+"].computed == pytest.approx(-7.286496, abs=1e-12)
    # after the nudge dL/da = f+ * b+ = -1.96 * -3.04 = 5.9584
    assert r["dL/da+"].computed == pytest.approx(5.9584, abs=1e-12)
    assert "a+ = a - lr * dL/da = 2 - (-0.01) * 6 = 2.06" in load_derivation(LECTURE).explain("a")


def test_a_local_gradient_written_as_the_gradient_is_named() -> None:
    # dL/da written as de/da = b = -3: the upstream dL/de = -2 not multiplied in. (The step's
    # figures would carry the slip: a+ = 2 + 0.01 * -3 = 1.97; they are left out here, since an
    # a+ = 2.06 that is ok says the student's dL/da was 6, and no hint may contradict it.)
    steps = ('"a+" = 2.06\n"c+" = 9.98\n"L+" = -7.286496\n"dL/da+" = 5.9584\n')
    assert steps in LECTURE
    r = check(LECTURE.replace(steps, "").replace('"dL/da" = 6', '"dL/da" = -3.0'))
    assert r["dL/da"].verdict == "wrong"
    # (dd/de = 1, so leaving out dL/dd or dL/de gives the same -3: one story, told at e, whose
    # local derivative de/da = b is what was written.)
    assert r["dL/da"].hint == ("leaves the upstream gradient dL/de out: the local derivative at e is "
                               "written as the gradient")
    # A local gradient's own slip: de/da written as a (the product's own factor).
    r = check(LECTURE.replace(steps, "").replace('"de/da" = -3', '"de/da" = 2.0'))
    assert r["de/da"].verdict == "wrong"
    assert r["de/da"].hint == ("takes the factor itself instead of the other factor: de/da written as a "
                               "instead of b")


def test_the_softmax_jacobian_against_torch() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for the softmax Jacobian")
    d = load_derivation(SOFTMAX)
    q = d.quantities()
    net = torch.tensor([q["net_o1"], q["net_o2"]], dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda z: torch.softmax(z, 0), net)
    for i, o in enumerate(("o1", "o2")):
        for j, n in enumerate(("o1", "o2")):
            assert d.value(f"dout_{o}/dnet_{n}") == pytest.approx(jac[i, j].item(), rel=1e-13)
    # By hand: out_o1 (1 - out_o1) and -out_o1 out_o2, with out_o1 = 0.47028121.
    r = check(SOFTMAX + '"dout_o1/dnet_o2" = -0.24911679\n"dout_o1/dnet_o1" = 0.24911679\n')
    assert [x.verdict for x in r.values()] == ["ok", "ok"]


def test_updated_weights_in_a_batchs_backward_pass() -> None:
    # XOR batch (seed 002, identity, every weight 1, lr 0.1): each sample reads the parameters
    # through its own copy P[s] = P * 1, and the backward pass with the updated weights must read
    # the copies' updated values. dE/dW11 = mean over samples of X1 * delta_Z1, delta_Z1 = V01 *
    # (out_D0 - target); the updated V01+ = 1 - 0.1 * 14.5 = -0.45, so with it the samples where
    # X1 = 1 ((1,0): delta 6, (1,1): delta 10) give (-0.45 * 6 - 0.45 * 10) / 4 = -1.8.
    from autograd_tiny.derivation.core import example_text

    text = example_text("seed002_batch")
    r = check(text[: text.index("[claims]")] + '[claims]\n"dE/dW11" = -1.8\n')
    assert r["dE/dW11"].computed == 4.0
    assert r["dE/dW11"].hint == ("uses the updated parameters in the backward pass instead of the "
                                 "step's own")


def test_updates_after_each_sample_against_torch() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for per-sample updates")
    text = (DATA / "xor_each.toml").read_text()
    d = load_derivation(text)
    samples, targets = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)], [0.0, 1.0, 1.0, 0.0]
    w1 = torch.tensor([[0.5, -0.3], [0.2, 0.7]], dtype=torch.float64, requires_grad=True)
    b1 = torch.tensor([0.1, -0.2], dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor([-0.4, 0.6], dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w1, b1, w2, b2], lr=0.5)
    for k in range(6):
        opt.zero_grad()
        x = torch.tensor(samples[k % 4], dtype=torch.float64)
        y = torch.sigmoid(w2 @ torch.sigmoid(w1 @ x + b1) + b2)
        e = 0.5 * (targets[k % 4] - y) ** 2
        e.backward()
        sfx = "" if k == 0 else "+" if k == 1 else f"@{k}"
        assert d.value(f"E{sfx}") == pytest.approx(e.item(), rel=1e-13)
        assert d.value(f"dE/dw5{sfx}") == pytest.approx(w2.grad[0].item(), rel=1e-12)
        opt.step()
        after = "+" if k == 0 else f"@{k + 1}"
        assert d.value(f"w1{after}") == pytest.approx(w1[0, 0].item(), rel=1e-13)
        assert d.value(f"b3{after}") == pytest.approx(b2.item(), rel=1e-13)
    # The checker replays the same steps: a sign slip in step 2's dE/dw5 is named and w5@3,
    # updated with it, follows.
    g, w = d.value("dE/dw5@2"), d.value("w5@2")
    r = check(text + f'"dE/dw5@2" = {-g:.8f}\n"w5@3" = {w + 0.5 * g:.8f}\n')
    assert r["dE/dw5@2"].verdict == "wrong" and "sign is flipped" in (r["dE/dw5@2"].hint or "")
    assert r["w5@3"].verdict == "follows" and r["w5@3"].hint == "carried forward from the slip in dE/dw5@2"


def test_one_outputs_part_of_a_gradient_against_torch() -> None:
    # dE/dout_h1 adds one part per output: dE_o1/dout_h1 = (out_o1 - t1) out_o1 (1 - out_o1) w5 =
    # 0.055399425 and dE_o2/dout_h1 likewise through w7 = -0.019049118 (0.138498562 * 0.40 and
    # -0.038098237 * 0.50; the textbook prints -0.019049119, one unit off in its last digit), which
    # add up to dE/dout_h1 = 0.036350306. Each part is the derivative of that output's loss term.
    torch = pytest.importorskip("torch", reason="PyTorch is the gradient oracle")
    f64 = torch.float64
    i = torch.tensor([0.05, 0.10], dtype=f64)
    w1 = torch.tensor([[0.15, 0.20], [0.25, 0.30]], dtype=f64, requires_grad=True)
    w2 = torch.tensor([[0.40, 0.45], [0.50, 0.55]], dtype=f64)
    h = torch.sigmoid(w1 @ i + 0.35)
    h.retain_grad()
    o = torch.sigmoid(w2 @ h + 0.60)
    terms = 0.5 * (torch.tensor([0.01, 0.99], dtype=f64) - o) ** 2
    d = load_derivation(SEED004)
    for k, name in enumerate(("o1", "o2")):
        h.grad = w1.grad = None
        terms[k].backward(retain_graph=True)
        assert d.value(f"dE_{name}/dout_h1") == pytest.approx(h.grad[0].item(), rel=1e-13)
        assert d.value(f"dE_{name}/dw1") == pytest.approx(w1.grad[0, 0].item(), rel=1e-13)
    assert d.value("dE_o1/dout_h1") == pytest.approx(0.055399425, abs=5e-10)
    assert d.value("dE_o2/dout_h1") == pytest.approx(-0.019049118, abs=5e-10)
    assert d.value("dE_o1/dout_h1") + d.value("dE_o2/dout_h1") == pytest.approx(d.value("dE/dout_h1"),
                                                                                rel=1e-14)
    # A slip in one part gets its hint: sigmoid's derivative left out at o1 gives
    # (out_o1 - t1) w5 = 0.74136507 * 0.40 = 0.29654603.
    o1 = d.value("out_o1")
    r = check(SEED004 + f'"dE_o1/dout_h1" = {(o1 - 0.01) * 0.40:.8f}\n"dE_o2/dout_h1" = -0.019049118\n')
    assert r["dE_o2/dout_h1"].verdict == "ok" and r["dE_o1/dout_h1"].verdict == "wrong"
    assert r["dE_o1/dout_h1"].hint == ("leaves sigmoid's derivative out (takes it as 1): dout_o1/dnet_o1 "
                                       "written as 1 instead of out_o1 * (1 - out_o1)")
    # dE/dout_h1 written as the sum of the written parts follows from the slipped one:
    # 0.29654603 - 0.019049118 = 0.277496912; a sum that is not theirs stays wrong.
    parts = f'"dE_o1/dout_h1" = {(o1 - 0.01) * 0.40:.8f}\n"dE_o2/dout_h1" = -0.019049118\n'
    # dE/dnet_h1 made with it: 0.27749691 * out_h1 (1 - out_h1) = 0.27749691 * 0.241300709 =
    # 0.066960201 (out_h1 = sigmoid(0.3775) = 0.593269992).
    r = check(SEED004 + parts + '"dE/dout_h1" = 0.27749691\n"dE/dnet_h1" = 0.066960201\n')
    assert r["dE/dout_h1"].verdict == "follows"
    assert r["dE/dout_h1"].hint == "carried forward from the slip in dE_o1/dout_h1"
    assert r["dE/dnet_h1"].verdict == "follows"
    assert r["dE/dnet_h1"].hint == "carried forward from the slip in dE_o1/dout_h1"
    assert check(SEED004 + parts + '"dE/dout_h1" = 0.2775\n')["dE/dout_h1"].verdict == "follows"
    assert check(SEED004 + parts + '"dE/dout_h1" = 0.2785\n')["dE/dout_h1"].verdict == "wrong"
    with pytest.raises(Exception, match="'E_h1' is no output's loss term; the terms are E_o1, E_o2"):
        load_derivation(SEED004 + '"dE_h1/dw1" = 0.1\n')


def test_factor_and_input_gradient_claims_get_hints() -> None:
    # seed 004: out_o1 = 0.75136507, so the factor dout_o1/dnet_o1 = out_o1 (1 - out_o1) =
    # 0.18681560; written as out_o1 itself it is sigmoid' as sigmoid. dnet_o1/dw5 = out_h1 =
    # 0.59326999; written as w5 = 0.40 it is the product's own factor.
    o1 = sigmoid(0.40 * sigmoid(0.3775) + 0.45 * sigmoid(0.3925) + 0.60)
    r = check(SEED004 + f'"dout_o1/dnet_o1" = {o1:.8f}\n"dnet_o1/dw5" = 0.40000000\n')
    assert r["dout_o1/dnet_o1"].hint == ("writes sigmoid' as sigmoid itself: dout_o1/dnet_o1 written as "
                                         "out_o1 instead of out_o1 * (1 - out_o1)")
    assert r["dnet_o1/dw5"].hint == ("takes the factor itself instead of the other factor: "
                                     "d(w5 * out_h1)/dw5 written as w5 instead of out_h1")
    # dE/di1 = dE/dnet_h1 w1 + dE/dnet_h2 w3 = 0.0087713547 * 0.15 + 0.0099542547 * 0.25 =
    # 0.0038042669; written with its sign flipped.
    d = load_derivation(SEED004)
    assert d.value("dE/di1") == pytest.approx(0.0087713547 * 0.15 + 0.0099542547 * 0.25, abs=1e-10)
    r = check(SEED004 + '"dE/di1" = -0.0038042669\n')
    assert r["dE/di1"].hint == "the derivative's sign is flipped: the value is 0.00380426688"


def test_velocity_decayed_gradient_and_regularized_loss_against_torch() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for the optimizer's state")
    text = MOMENTUM.replace("momentum = 0.9\n", "momentum = 0.9\nweight_decay = 0.01\n")
    d = load_derivation(text[: text.index("[claims]")] + "[claims]\n")
    i = torch.tensor([0.05, 0.10], dtype=torch.float64)
    t = torch.tensor([0.01, 0.99], dtype=torch.float64)
    w1 = torch.tensor([[0.15, 0.20], [0.25, 0.30]], dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor([[0.40, 0.45], [0.50, 0.55]], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w1, w2], lr=0.5, momentum=0.9, weight_decay=0.01)
    for k in range(3):
        opt.zero_grad()
        o = torch.sigmoid(w2 @ torch.sigmoid(w1 @ i + 0.35) + 0.60)
        e = 0.5 * ((t - o) ** 2).sum()
        e.backward()
        sfx = "" if k == 0 else "+" if k == 1 else f"@{k}"
        reg = e.item() + 0.01 / 2 * float(((w1 ** 2).sum() + (w2 ** 2).sum()).detach())
        assert d.value(f"E_reg{sfx}") == pytest.approx(reg, rel=1e-13)
        assert d.value(f"dE_reg/dw5{sfx}") == pytest.approx(w2.grad[0, 0].item() + 0.01 * w2[0, 0].item(),
                                                           rel=1e-13)
        opt.step()
        after = "+" if k == 0 else f"@{k + 1}"
        assert d.value(f"v_w5{after}") == pytest.approx(opt.state[w2]["momentum_buffer"][0, 0].item(),
                                                        rel=1e-13)
    # Written, they are judged: v_w5@2 = 0.9 v_w5+ + dE_reg/dw5+; a wrong one is wrong, and w5@2
    # computed from it does not hide it.
    v2 = d.value("v_w5@2")
    r = check(text + f'"v_w5@2" = {v2:.8f}\n"E_reg" = {d.value("E_reg"):.8f}\n')
    assert r["v_w5@2"].verdict == "ok" and r["E_reg"].verdict == "ok"
    assert check(text + f'"v_w5@2" = {v2 + 0.01:.8f}\n')["v_w5@2"].verdict == "wrong"
    with pytest.raises(Exception, match="the file has no momentum"):
        load_derivation(SEED004 + '"v_w5+" = 0.1\n')


def test_sigmoid_again_after_a_cross_entropy_delta_in_a_batch() -> None:
    # A 2-1-1 sigmoid network with binary cross-entropy on two samples (mean): the delta at the
    # output is out - target; with sigmoid' applied again it is (out - t) out (1 - out), and
    # dE/dw3 = mean of that times out_h1. By hand, per sample h = sigmoid(0.5 x1 - 0.3 x2),
    # o = sigmoid(0.8 h).
    text = """activation = "sigmoid"
loss = "binary_cross_entropy"
learning_rate = 0.5
layers = [["x1", "x2"], ["h1"], ["o1"]]
[[samples]]
inputs = { x1 = 0.5, x2 = 0.2 }
targets = { o1 = 1.0 }
[[samples]]
inputs = { x1 = 0.1, x2 = 0.9 }
targets = { o1 = 0.0 }
[weights]
w1 = ["x1", "h1", 0.5]
w2 = ["x2", "h1", -0.3]
w3 = ["h1", "o1", 0.8]
[claims]
"""
    total = 0.0
    for (x1, x2), t in [((0.5, 0.2), 1.0), ((0.1, 0.9), 0.0)]:
        h = sigmoid(0.5 * x1 - 0.3 * x2)
        o = sigmoid(0.8 * h)
        total += (o - t) * o * (1 - o) * h
    r = check(text + f'"dE/dw3" = {total / 2:.10f}\n')
    assert r["dE/dw3"].hint == ("applies dout_o1/dnet_o1 = out_o1 * (1 - out_o1) twice, in every "
                                "sample")


def test_misconceptions_that_reuse_the_table_read_it() -> None:
    # tanh' at its input is tanh's own derivative with out read as x; sigmoid's derivative for
    # tanh is sigmoid's table entry: neither is written a second time.
    tanh, sigmoid = OPS["tanh"], OPS["sigmoid"]
    wrong = {m.says: tanh.wrong_derivative(m) for m in tanh.misconceptions}
    assert wrong["evaluates tanh' at the input instead of the output"] == "1 - x * x"
    assert wrong["uses sigmoid's derivative for tanh"] == sigmoid.derivatives[0]
    with pytest.raises(ValueError, match="needs exactly one of derivative, uses, at_input and scale"):
        from autograd_tiny.ops import Misconception, Op

        Op("bad", "bad", 1, "x", ("1",), "", (Misconception(0, "no expression"),))


def test_a_search_stopped_by_its_time_budget_gives_no_hint() -> None:
    # seed 004: dE/dnet_o1 = 0.74136507 * out_o1 (1 - out_o1) = 0.13849856; written with its sign
    # flipped, the one story is the sign. A search that stops before trying every misconception
    # cannot know that no other one gives -0.13849856 as well, so it tells none.
    from autograd_tiny.derivation.checker import tape_problem
    from autograd_tiny.derivation.misconceptions import story

    d = load_derivation(SEED004 + '"dE/dnet_o1" = -0.13849856\n')
    replay, claim = d.replay(), d.claims[0]
    trace = replay.run({}, 0, keep={0, 1})
    problem = tape_problem(replay, trace, 0, {}, replay.key(claim.quantity), claim, "E", [])
    found = story(problem)
    assert found is not None and found[0] == "the derivative's sign is flipped: the value is 0.1384985616"
    assert story(problem, budget=0.0) is None


def test_a_factor_claim_on_the_first_node_of_the_tape_is_its_own_operations_slip() -> None:
    # net_o = w * x with x = 0.25, w = 0.5: the factor dnet_o/dx is w = 0.5. Written as x = 0.25
    # (the product's own factor), it is also half the value; the slip in the claim's own operation
    # tells it, as at every other node. x is the tape's node 0, which once counted as no node.
    text = ('activation = "sigmoid"\nloss = "half_squared_error"\nlearning_rate = 0.5\n'
            'layers = [["x"], ["o"]]\n[inputs]\nx = 0.25\n[targets]\no = 1.0\n'
            '[weights]\nw = ["x", "o", 0.5]\n[claims]\n"dnet_o/dx" = 0.25\n')
    assert load_derivation(text).replay().tape.name(0) == "x"
    assert check(text)["dnet_o/dx"].hint == ("takes the factor itself instead of the other factor: "
                                             "dnet_o/dx written as x instead of w")
