"""The textbook network's slips, each computed here by hand: the generic misconceptions (edits of
any tape, :mod:`autograd_tiny.derivation.misconceptions`) reproduce every one and name it; a
correct claim gets no hint, and neither does a figure that two stories reproduce."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from autograd_tiny import load_derivation

DATA = Path(__file__).parent / "data"
TEXT = (DATA / "net222.toml").read_text()
#: The seed 004 network (2-2-2 sigmoid, half squared error, lr 0.5, biases fixed), no claims.
SEED004 = TEXT[: TEXT.index("[claims]")] + "[claims]\n"


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# The seed 004 figures, worked by hand (autograd_tiny/examples/seed004.toml's comments):
I1, I2 = 0.05, 0.10
W = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55}
NET_H1 = W["w1"] * I1 + W["w2"] * I2 + 0.35            # 0.3775
NET_H2 = W["w3"] * I1 + W["w4"] * I2 + 0.35            # 0.3925
H1, H2 = sigmoid(NET_H1), sigmoid(NET_H2)              # 0.593269992, 0.596884378
NET_O1 = W["w5"] * H1 + W["w6"] * H2 + 0.60            # 1.105905967
NET_O2 = W["w7"] * H1 + W["w8"] * H2 + 0.60            # 1.224921404
O1, O2 = sigmoid(NET_O1), sigmoid(NET_O2)              # 0.751365070, 0.772928465
E_O1, E_O2 = 0.5 * (0.01 - O1) ** 2, 0.5 * (0.99 - O2) ** 2  # E = 0.298371109
D_O1 = (O1 - 0.01) * O1 * (1 - O1)                     # dE/dnet_o1 = 0.138498562
D_O2 = (O2 - 0.99) * O2 * (1 - O2)                     # dE/dnet_o2 = -0.038098237
DOUT_H1 = D_O1 * W["w5"] + D_O2 * W["w7"]              # 0.036350306
DOUT_H2 = D_O1 * W["w6"] + D_O2 * W["w8"]              # 0.041370323
D_H1, D_H2 = DOUT_H1 * H1 * (1 - H1), DOUT_H2 * H2 * (1 - H2)  # 0.008771355, 0.009954255
GRAD = {"w1": D_H1 * I1, "w2": D_H1 * I2, "w3": D_H2 * I1, "w4": D_H2 * I2,
        "w5": D_O1 * H1, "w6": D_O1 * H2, "w7": D_O2 * H1, "w8": D_O2 * H2}  # dE/dw5 = 0.082167041


def hint(claim: str, value: float, text: str = SEED004, digits: int = 9) -> tuple[str, str | None]:
    """Return the verdict and hint of one claim written to ``digits`` decimals."""
    d = load_derivation(text + f'"{claim}" = {value:.{digits}f}\n')
    (r,) = d.check()
    return r.verdict, r.hint


def test_the_hand_figures_are_the_engines() -> None:
    q = load_derivation(SEED004).quantities()
    assert q["E"] == pytest.approx(0.298371109, abs=5e-10)
    assert q["E"] == pytest.approx(E_O1 + E_O2, rel=1e-14)
    assert q["dE/dw5"] == pytest.approx(0.082167041, abs=5e-10)
    for name, g in GRAD.items():
        assert q[f"dE/d{name}"] == pytest.approx(g, rel=1e-13)


#: (slip, claim, the slipped number, its source, the hint). Every number is computed by hand above.
SLIPS = [
    ("a path left out", "dE/dout_h1", D_O1 * W["w5"],
     "dE/dout_h1 without the path through o2 (dE/dnet_o2 * w7)",
     "dE/dout_h1 leaves out one of the 2 paths through which E depends on out_h1 (the one through "
     "(w7 * out_h1)): it should add -0.01904911826"),
    ("a path left out", "dE/db1", D_H1, "the shared bias b1's gradient counting h1 only",
     "dE/db1 leaves out one of the 2 paths through which E depends on b1 (the one through net_h2): "
     "it should add 0.00995425471"),
    ("net for out", "dE/dw5", D_O1 * NET_H1, "dE/dw5 = delta_o1 * net_h1 instead of * out_h1",
     "reads net_h1, the input of out_h1, where out_h1 belongs in the backward pass "
     "(in d(w5 * out_h1)/dw5)"),
    ("net for out", "net_o1", W["w5"] * NET_H1 + W["w6"] * NET_H2 + 0.60,
     "net_o1 from net_h1, net_h2 instead of out_h1, out_h2",
     "reads net_h2, net_h1, the inputs of sigmoid, where out_h2, out_h1 belong"),
    ("net for out", "net_o1", W["w5"] * NET_H1 + W["w6"] * H2 + 0.60, "net_o1 from net_h1",
     "reads net_h1, the input of out_h1, where out_h1 belongs in (w5 * out_h1)"),
    ("derivative at the input", "dE/dnet_h1", DOUT_H1 * NET_H1 * (1 - NET_H1),
     "out (1 - out) evaluated at net_h1",
     "evaluates sigmoid' at the input instead of the output: dout_h1/dnet_h1 written as "
     "net_h1 * (1 - net_h1) instead of out_h1 * (1 - out_h1)"),
    ("another weight", "dE/dout_h1", D_O1 * W["w5"] + D_O2 * W["w6"], "w6 read for w7",
     "reads w6 where w7 belongs in the backward pass (in d(w7 * out_h1)/dout_h1)"),
    ("another weight", "net_o2", W["w8"] * H1 + W["w8"] * H2 + 0.60, "w8 read for w7 in net_o2",
     "reads w8 where w7 belongs in (w7 * out_h1)"),
    # w4 for w2 in net_h1: 0.15 * 0.05 + 0.30 * 0.10 + 0.35 = 0.3875.
    ("another weight", "net_h1", W["w1"] * I1 + W["w4"] * I2 + 0.35, "w4 read for w2 in net_h1",
     "reads w4 where w2 belongs in (w2 * i2)"),
    ("a term left out", "net_h1", W["w1"] * I1 + W["w2"] * I2, "net_h1 without b1",
     "leaves b1 out of net_h1"),
    ("a term left out", "E", E_O1, "E = E_o1 only", "leaves E_o2 out of E"),
    ("another gradient", "w5+", W["w5"] - 0.5 * GRAD["w1"], "w5 updated with dE/dw1",
     "matches the update of w5 made with another parameter's gradient, dE/dw1 = 0.00043856773447"),
    # dE/dw6 = dE/dnet_o1 * out_h2 is also dE/dw5 with out_h2 read for out_h1: the update's own
    # story (the nearer one) is told.
    ("another gradient", "w5+", W["w5"] - 0.5 * GRAD["w6"], "w5 updated with dE/dw6",
     "matches the update of w5 made with another parameter's gradient, dE/dw6 = 0.082667627848"),
    ("another node's derivative", "dE/dnet_h1", DOUT_H1 * O1 * (1 - O1), "out_o1 (1 - out_o1) at h1",
     "takes out_o1 * (1 - out_o1) (the derivative at out_o1) where dout_h1/dnet_h1 = "
     "out_h1 * (1 - out_h1) belongs"),
    ("the other factor left out", "dE/dw5", D_O1, "dE/dw5 = delta_o1, the factor out_h1 left out",
     "leaves the other factor out: d(w5 * out_h1)/dw5 written as 1 instead of out_h1"),
    ("the other factor left out", "w5+", W["w5"] - 0.5 * D_O1, "w5 updated with delta_o1 for dE/dw5",
     "matches the update with dE/dw5 = 0.13849856163, which leaves the other factor out: "
     "d(w5 * out_h1)/dw5 written as 1 instead of out_h1"),
    # A flipped sign is told as such, although (0.01 - out_o1)'s minus lost would give it too.
    ("a sign", "dE/dw5", -GRAD["w5"], "the sign flipped",
     "the derivative's sign is flipped: the value is 0.08216704056"),
    ("a sign", "w5+", W["w5"] + 0.5 * GRAD["w5"], "w5 + lr * dE/dw5",
     "the gradient's sign is flipped: w5 + lr * dE/dw5 = 0.44108352028"),
    ("a factor", "E", 2 * (E_O1 + E_O2), "squared error without the 1/2",
     "twice the value 0.29837110876: a factor 1/2 is missing"),
    ("a factor", "dE/dout_o1", (O1 - 0.01) / 2, "half of out_o1 - target",
     "half the value 0.74136506955: a factor 2 is missing"),
    ("no update", "w5+", W["w5"], "no update", "matches w5 before the step: the update was left out"),
    ("the learning rate", "w5+", W["w5"] - 0.1 * GRAD["w5"], "lr 0.1 instead of 0.5",
     "matches the update with learning rate 0.1 instead of 0.5"),
    ("another derivative", "dE/dnet_o1", (O1 - 0.01) * (1 - O1 * O1), "tanh's 1 - out^2 at o1",
     "uses tanh's derivative for sigmoid: dout_o1/dnet_o1 written as 1 - out_o1^2 instead of "
     "out_o1 * (1 - out_o1)"),
    ("another derivative", "dE/dnet_o1", O1 - 0.01, "the derivative left out",
     "leaves sigmoid's derivative out (takes it as 1): dout_o1/dnet_o1 written as 1 instead of "
     "out_o1 * (1 - out_o1)"),
]


@pytest.mark.parametrize(("slip", "claim", "value", "source", "expected"), SLIPS,
                         ids=[f"{s[0]}:{s[1]}:{i}" for i, s in enumerate(SLIPS)])
def test_each_slip_gets_its_hint(slip: str, claim: str, value: float, source: str, expected: str) -> None:
    assert hint(claim, value) == ("wrong", expected), source


def test_updated_weights_in_the_backward_pass() -> None:
    # dE/dw1 with w5+ = 0.40 - 0.5 * dE/dw5 and w7+ = 0.50 - 0.5 * dE/dw7 in the backward pass:
    # (D_O1 * w5+ + D_O2 * w7+) * out_h1 (1 - out_h1) * i1 = 0.000364722878.
    w5, w7 = W["w5"] - 0.5 * GRAD["w5"], W["w7"] - 0.5 * GRAD["w7"]
    slip = (D_O1 * w5 + D_O2 * w7) * H1 * (1 - H1) * I1
    assert slip == pytest.approx(0.000364722878, abs=1e-12)
    assert hint("dE/dw1", slip, digits=12) == (
        "wrong", "uses the updated parameters in the backward pass instead of the step's own")


def test_zero_input_and_frozen_bias() -> None:
    zero = SEED004.replace("i1 = 0.05", "i1 = 0")
    assert hint("w1+", 0.1498, zero, digits=4) == (
        "wrong", "the input i1 is 0, so dE/dw1 = 0 and w1 cannot change: it stays 0.15")
    # b1 is fixed; 0.35 - 0.5 * (D_H1 + D_H2) = 0.340637195 updates it anyway.
    assert hint("b1+", 0.35 - 0.5 * (D_H1 + D_H2)) == (
        "wrong", "b1 is not trained (the file keeps it fixed), so it keeps its value 0.35; the claim "
                 "updates it")


#: A 2-2-1 tanh network (our own numbers, shared with test_derivation_checker.py).
TANH_221 = (DATA / "tanh221.toml").read_text()


def test_tanh_derivative_written_as_one_minus_net_squared() -> None:
    # net_h1 = 0.48, net_h2 = 0.39, net_o = 0.8 tanh(0.48) - 0.5 tanh(0.39) + 0.2 = 0.3713148;
    # dE/dnet_o = (out_o - 0.5)(1 - out_o^2); with 1 - net_o^2 instead: -0.1245627.
    net_o = 0.8 * math.tanh(0.48) - 0.5 * math.tanh(0.39) + 0.2
    o = math.tanh(net_o)
    assert hint("dE/dnet_o", (o - 0.5) * (1 - net_o ** 2), TANH_221) == (
        "wrong", "evaluates tanh' at the input instead of the output: dout_o/dnet_o written as "
                 "1 - net_o^2 instead of 1 - out_o^2")


#: The same 2-2-1 network with sigmoid neurons and binary cross-entropy (target 0.8).
BCE_221 = TANH_221.replace('"tanh"', '"sigmoid"').replace('"half_squared_error"', '"binary_cross_entropy"') \
    .replace("o = 0.5", "o = 0.8")


def test_log10_and_sigmoid_derivative_again_after_a_cross_entropy_delta() -> None:
    h1, h2 = sigmoid(0.48), sigmoid(0.39)
    o = sigmoid(0.8 * h1 - 0.5 * h2 + 0.2)
    e = -(0.8 * math.log(o) + 0.2 * math.log(1 - o))
    assert load_derivation(BCE_221).quantities()["E"] == pytest.approx(e, rel=1e-14)
    # E with log10: -(0.8 log10(out) + 0.2 log10(1 - out)).
    assert hint("E", -(0.8 * math.log10(o) + 0.2 * math.log10(1 - o)), BCE_221) == (
        "wrong", "uses log10 where the natural logarithm ln belongs")
    # The cross-entropy delta is out - target; sigmoid's out (1 - out) applied on top of it.
    assert load_derivation(BCE_221).quantities()["dE/dnet_o"] == pytest.approx(o - 0.8, rel=1e-12)
    assert hint("dE/dnet_o", (o - 0.8) * o * (1 - o), BCE_221) == (
        "wrong", "applies dout_o/dnet_o = out_o * (1 - out_o) twice")


def test_correct_claims_get_no_hint() -> None:
    for claim, value in [("dE/dw5", GRAD["w5"]), ("dE/dout_h1", DOUT_H1), ("E", E_O1 + E_O2)]:
        assert hint(claim, value) == ("ok", None)
    # A zero written for a small gradient is never "explained": the slips' numbers all lie
    # within two units of 0.0 (dE/dw4 = 0.000995), so none can be told from a rounding.
    d = load_derivation(SEED004 + '"dE/dw4" = 0.0\n')
    assert d.check()[0].hint is None


def test_ambiguous_figures_get_no_hint() -> None:
    # w1+ = 0.15 - 0.5 * 2 * dE/dw1 = 0.149561432: since i2 = 2 * i1, dE/dw2 = 2 * dE/dw1, so this
    # is the update with dE/dw2 and the one with lr 1.
    assert hint("w1+", W["w1"] - GRAD["w1"]) == ("wrong", None)
    # Written to two decimals, w5+ = 0.40 is the update left out and an update with dE/dw1.
    assert hint("w5+", 0.40, digits=2) == ("wrong", None)
    # w3 read for w2 in net_h1 gives 0.15 * 0.05 + 0.25 * 0.10 + 0.35 = 0.3825, and so does w3
    # read for w1 (0.25 * 0.05 + 0.20 * 0.10 + 0.35).
    assert hint("net_h1", W["w1"] * I1 + W["w3"] * I2 + 0.35) == ("wrong", None)


def test_a_zero_written_for_a_small_gradient_gets_no_hint() -> None:
    # dE/dw4 = 0.000995425 written as 0.000000 (unit 1e-6) is wrong, and no slip gives 0 there
    # (none sets the gradient of w4, whose input is 0.10, to 0).
    assert hint("dE/dw4", 0.0, digits=6) == ("wrong", None)
