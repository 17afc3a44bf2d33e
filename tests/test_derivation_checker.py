"""The checker: the precision rule, the three verdicts, every hint, X@K claims and the
verdicts on the shipped examples (each justified by a hand computation)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from autograd_tiny import load_derivation
from autograd_tiny.derivation import ClaimResult, format_json, format_text, load_example, summary
from autograd_tiny.derivation.core import example_text

DATA = Path(__file__).parent / "data"
TEXT = (DATA / "net222.toml").read_text()
#: The seed 004 network without claims; tests append their own.
BARE = TEXT[: TEXT.index("[claims]")] + "[claims]\n"


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def hand_pass(w: dict[str, float]) -> dict[str, float]:
    """The 2-2-2 seed 004 network worked by hand (written independently of the package):
    forward values, loss, deltas, gradients and the parameters after one step (biases fixed)."""
    i1, i2, t1, t2 = 0.05, 0.10, 0.01, 0.99
    h1 = sigmoid(w["w1"] * i1 + w["w2"] * i2 + w["b1"])
    h2 = sigmoid(w["w3"] * i1 + w["w4"] * i2 + w["b1"])
    o1 = sigmoid(w["w5"] * h1 + w["w6"] * h2 + w["b2"])
    o2 = sigmoid(w["w7"] * h1 + w["w8"] * h2 + w["b2"])
    d1 = (o1 - t1) * o1 * (1 - o1)  # dE/dnet_o1 for E = 1/2 (t - out)^2
    d2 = (o2 - t2) * o2 * (1 - o2)
    dh1 = (d1 * w["w5"] + d2 * w["w7"]) * h1 * (1 - h1)
    dh2 = (d1 * w["w6"] + d2 * w["w8"]) * h2 * (1 - h2)
    g = {"w1": dh1 * i1, "w2": dh1 * i2, "w3": dh2 * i1, "w4": dh2 * i2,
         "w5": d1 * h1, "w6": d1 * h2, "w7": d2 * h1, "w8": d2 * h2}
    out = {"out_h1": h1, "out_o1": o1, "E": 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2}
    out |= {f"dE/d{k}": v for k, v in g.items()}
    out |= {f"{k}+": w[k] - 0.5 * g[k] for k in g}
    return out


START = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45,
         "w7": 0.50, "w8": 0.55, "b1": 0.35, "b2": 0.60}


def after_step(w: dict[str, float]) -> dict[str, float]:
    p = hand_pass(w)
    return {**w, **{k: p[f"{k}+"] for k in w if k.startswith("w")}}


def check(claims: str, text: str = BARE) -> dict[str, ClaimResult]:
    return {r.claim: r for r in load_derivation(text + claims).check()}


# -- the precision rule -------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "verdict"), [
    # out_h1 = 1/(1 + e^-0.3775) = 0.5932699921...; ok = the value rounded or truncated to the
    # written digits.
    ("0.59327", "ok"),        # rounded
    ("0.59326", "ok"),        # truncated (0.0000099921 below)
    ("0.59327000", "wrong"),  # 0.0000000079 away, written to 1e-8: rounded it is 0.59326999
    ("0.59326999", "ok"),     # rounded and truncated
    ("0.59328", "wrong"),     # 0.0000100079 above: more than one unit
    ("0.5932699921", "ok"),
    ("0.5933", "ok"),         # rounded to 4 places
    ("0.5932", "ok"),         # truncated to 4 places
    ("0.59325", "wrong"),     # one more unit off: 0.0000199921 away
    ("0.59329", "wrong"),     # 0.0000200079 away
    ("0.5932699931", "wrong"),  # 1.0e-9 away, written to 1e-10
    ("5.9327e-1", "ok"),      # exponent notation: the last digit is 1e-5
    ("5.9325e-1", "wrong"),
    ("0.6", "ok"),            # one decimal: 0.593 rounds to 0.6
    ("0.5", "ok"),            # ... and truncates to 0.5
    ("0.7", "wrong"),
    ("1", "ok"),              # an integer: 0.593 rounds to 1
    ("0", "ok"),              # ... and truncates to 0
    ("2", "wrong"),
    ("-0.59327", "wrong"),    # the other sign
])
def test_precision_rule(written: str, verdict: str) -> None:
    assert check(f"out_h1 = {written}\n")["out_h1"].verdict == verdict


def test_integer_claims_have_unit_one() -> None:
    # seed 002: out_D0 = 1+1+1+1 = 4 exactly.
    r = {x.claim: x for x in load_example("seed002").check()}
    assert r["out_D0"].verdict == "ok" and r["out_D0"].unit == 1.0
    text = load_example("seed002").spec
    assert text.claims[1].written == "4"
    seed002 = (Path(__file__).parents[1] / "autograd_tiny" / "examples" / "seed002.toml").read_text()
    assert check("", seed002.replace("out_D0 = 4", "out_D0 = 5"))["out_D0"].verdict == "wrong"
    assert check("", seed002.replace("out_D0 = 4", "out_D0 = 4.0"))["out_D0"].verdict == "ok"
    assert check("", seed002.replace("out_D0 = 4", "out_D0 = 4.1"))["out_D0"].verdict == "wrong"


# -- verdicts ----------------------------------------------------------------------------------

def test_ok_follows_wrong_and_where_the_slip_came_from() -> None:
    # A slip in out_h1 (0.600000 instead of 0.593270) carried forward correctly:
    # net_o1 = 0.40*0.6 + 0.45*0.596884378 + 0.60 = 1.1085979702 and
    # out_o1 = sigmoid(1.108598) = 0.7518676429. The true net_o1 is 1.105905967.
    r = check("net_h1 = 0.3775\nout_h1 = 0.600000\nnet_o1 = 1.108598\nout_o1 = 0.7518676\n")
    assert [x.verdict for x in r.values()] == ["ok", "wrong", "follows", "follows"]
    assert r["net_o1"].recomputed == pytest.approx(1.1085979702, abs=1e-10)
    assert r["net_o1"].hint == "carried forward from the slip in out_h1"
    assert r["out_o1"].hint == "carried forward from the slip in out_h1"  # via net_o1
    assert r["out_o1"].based_on == ["out_h1"]
    assert r["out_h1"].computed == pytest.approx(0.5932699921, abs=1e-10)
    # Without the slip upstream the same net_o1 is simply wrong.
    assert check("net_o1 = 1.108598\n")["net_o1"].verdict == "wrong"


def test_follows_from_rounded_figures() -> None:
    # seed 003: net_o2 = 0.45*0.623633 + 0.40*0.632045 + 0.5 = 1.03345285 from the rounded
    # out_h1, out_h2 as written; the exact value is 1.0334531378, so 1.0334528 is not ok.
    r = {x.claim: x for x in load_example("seed003").check()}
    assert r["net_o2"].verdict == "follows"
    assert r["net_o2"].recomputed == pytest.approx(1.03345285, abs=1e-12)
    assert r["net_o2"].hint == "follows from the rounded out_h1, out_h2"


def test_gradients_are_recomputed_with_the_claimed_forward_values() -> None:
    # dE/dw5 = (out_o1 - 0.01) * out_o1 (1 - out_o1) * out_h1. With the claimed out_o1 = 0.7600
    # (true 0.7513650696) and the true out_h1: 0.75 * 0.76 * 0.24 * 0.5932699921 = 0.0811593349.
    r = check("out_o1 = 0.7600\n\"dE/dw5\" = 0.08115933\n")
    assert r["out_o1"].verdict == "wrong"
    assert r["dE/dw5"].verdict == "follows"
    assert r["dE/dw5"].recomputed == pytest.approx(0.75 * 0.76 * 0.24 * 0.5932699921071872, rel=1e-12)


def test_updates_use_the_claimed_gradient_and_next_step_uses_claimed_weights() -> None:
    # A wrong dE/dw5 = 0.09000 (true 0.0821670406) gives w5+ = 0.40 - 0.5*0.09 = 0.35500: follows.
    # E+ computed by hand with that w5+ and every other weight updated correctly: follows too.
    w = after_step(START) | {"w5": 0.355}
    e_plus = hand_pass(w)["E"]
    r = check(f'"dE/dw5" = 0.09000\n"w5+" = 0.35500\n"E+" = {e_plus:.10f}\n')
    assert [x.verdict for x in r.values()] == ["wrong", "follows", "follows"]
    assert r["E+"].hint == "carried forward from the slip in dE/dw5"
    assert r["E+"].computed == pytest.approx(hand_pass(after_step(START))["E"], rel=1e-12)


def test_claims_after_k_steps() -> None:
    # Two and three steps worked by hand (hand_pass); X+ is X@1.
    w2 = after_step(after_step(START))
    w3 = after_step(w2)
    r = check(f'"E@2" = {hand_pass(w2)["E"]:.10f}\n"w5@3" = {w3["w5"]:.10f}\n'
              f'"out_o1@3" = {hand_pass(w3)["out_o1"]:.10f}\n"dE/dw1@2" = {hand_pass(w2)["dE/dw1"]:.12f}\n'
              f'"w1@1" = {hand_pass(START)["w1+"]:.9f}\n"E@0" = 0.298371109\n"b1@3" = 0.35\n')
    assert all(x.verdict == "ok" for x in r.values()), [(x.claim, x.computed) for x in r.values()]
    assert r["E@2"].computed < r["E@0"].computed
    off = check(f'"E@2" = {hand_pass(w2)["E"] + 1e-6:.10f}\n')["E@2"]
    assert off.verdict == "wrong"


def test_claim_after_many_steps_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    p = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in START.items()}
    for _ in range(300):
        h1 = torch.sigmoid(p["w1"] * 0.05 + p["w2"] * 0.10 + p["b1"])
        h2 = torch.sigmoid(p["w3"] * 0.05 + p["w4"] * 0.10 + p["b1"])
        o1 = torch.sigmoid(p["w5"] * h1 + p["w6"] * h2 + p["b2"])
        o2 = torch.sigmoid(p["w7"] * h1 + p["w8"] * h2 + p["b2"])
        loss = 0.5 * (0.01 - o1) ** 2 + 0.5 * (0.99 - o2) ** 2
        names = [n for n in p if n.startswith("w")]
        grads = torch.autograd.grad(loss, [p[n] for n in names])
        with torch.no_grad():
            for n, g in zip(names, grads):
                p[n] -= 0.5 * g
    r = check(f'"w5@300" = {p["w5"].item():.12f}\n')["w5@300"]
    assert r.verdict == "ok"
    assert r.computed == pytest.approx(p["w5"].item(), rel=1e-12)


# -- hints ------------------------------------------------------------------------------------

def test_hint_sign_flipped() -> None:
    r = check('"dE/dw5" = -0.082167041\n')["dE/dw5"]
    assert r.verdict == "wrong" and "sign is flipped" in r.hint
    # An update that adds the gradient: 0.40 + 0.5*0.082167041 = 0.4410835205.
    r = check('"w5+" = 0.44108352\n')["w5+"]
    assert r.verdict == "wrong" and r.hint.startswith("the gradient's sign is flipped: w5 + lr * dE/dw5")


def test_hint_factor_half_missing() -> None:
    # Squared error without the 1/2: (0.01-0.75136507)^2 + (0.99-0.772928465)^2 = 0.596742218.
    r = check("E = 0.596742218\n")["E"]
    assert r.verdict == "wrong" and "a factor 1/2 is missing" in r.hint


def test_hint_factor_two_missing() -> None:
    # dE/dout_o1 = out_o1 - target = 0.74136507; half of it: 0.370682535.
    r = check('"dE/dout_o1" = 0.370682535\n')["dE/dout_o1"]
    assert r.verdict == "wrong" and "a factor 2 is missing" in r.hint


def test_hint_other_learning_rate() -> None:
    # w5+ with lr 0.1 instead of 0.5: 0.40 - 0.1 * 0.082167041 = 0.3917832959.
    r = check('"w5+" = 0.3917833\n')["w5+"]
    assert r.verdict == "wrong" and r.hint == "matches the update with learning rate 0.1 instead of 0.5"


def test_no_learning_rate_hint_from_loose_matches() -> None:
    # seed 003's w1+ = 0.249921: the implied rate 0.115 only "matches" because the gradient is
    # tiny (any rate within 0.0015 would); a hint must not claim it.
    r = {x.claim: x for x in load_example("seed003").check()}
    assert r["w1+"].verdict == "wrong" and r["w1+"].hint is None


def test_no_learning_rate_hint_that_any_nearby_rate_would_give() -> None:
    # dE/dw5 = 0.0821670406, so w5+ = 0.39972 (unit 1e-5) lets the rate be anything in
    # (0.4 - 0.39973) / 0.0821670406 = 0.00329 .. 0.00353: 0.0033, 0.0034 and 0.0035 all match,
    # so naming one of them would be a guess. Written to 1e-7 the rate is pinned down.
    r = check('"w5+" = 0.39972\n')["w5+"]
    assert r.verdict == "wrong" and r.hint is None
    # 0.4 - 0.0034 * 0.0821670406 = 0.39972063
    r = check('"w5+" = 0.3997206\n')["w5+"]
    assert r.hint == "matches the update with learning rate 0.0034 instead of 0.5"


def test_learning_rate_hint_uses_the_slipped_gradient_the_update_was_made_with() -> None:
    # The student's dE/dw5 = 0.0411 misses the factor 2 (true 0.0821670406); their update used
    # lr 0.1 with it: 0.40 - 0.1 * 0.0411 = 0.39589. The same number is 0.40 - 0.05 * 0.0821670406
    # = 0.3958916, but the update was made with the written gradient, so the hint names 0.1.
    r = check('"dE/dw5" = 0.0411\n"w5+" = 0.39589\n')
    assert r["dE/dw5"].hint == "half the value 0.082167: a factor 2 is missing"
    assert r["w5+"].verdict == "wrong"
    assert r["w5+"].hint == ("matches the update with learning rate 0.1 instead of 0.5 "
                             "(recomputed from the written figures)")
    # Without the gradient claimed, the true gradient is all there is to go on.
    r = check('"w5+" = 0.39589\n')
    assert r["w5+"].hint == "matches the update with learning rate 0.05 instead of 0.5"


def test_hint_updated_weights_in_the_backward_pass() -> None:
    # dE/dw1 = (d_o1 * w5 + d_o2 * w7) * out_h1 (1 - out_h1) * i1 with d_o1 = 0.1384985616,
    # d_o2 = -0.0380982365; using w5+ = 0.3589164797 and w7+ = 0.5113012702 instead of the
    # original 0.40 and 0.50 gives 0.000364722878 (true: 0.000438567734), and
    # w1+ = 0.15 - 0.5 * 0.000364722878 = 0.149817638561.
    r = check('"dE/dw1" = 0.00036472288\n')["dE/dw1"]
    assert r.verdict == "wrong" and "updated parameters in the backward pass" in r.hint
    r = check('"w1+" = 0.14981763856\n')["w1+"]
    assert r.verdict == "wrong" and "updated parameters in the backward pass" in r.hint
    # The same hint when a later claim makes the checker replay more steps.
    r = check('"dE/dw1" = 0.00036472288\n"E@2" = 1.0000\n')["dE/dw1"]
    assert "updated parameters in the backward pass" in r.hint
    # With the slipped gradient claimed too, the update follows from it.
    r = check('"dE/dw1" = 0.00036472288\n"w1+" = 0.14981763856\n')["w1+"]
    assert r.verdict == "follows" and r.hint == "carried forward from the slip in dE/dw1"


def test_hint_zero_input_cannot_change_the_weight() -> None:
    text = BARE.replace("i1 = 0.05", "i1 = 0")
    r = check('"dE/dw1" = 0.0004\n', text)
    assert r["dE/dw1"].verdict == "wrong"
    assert r["dE/dw1"].hint == "the input i1 is 0, so dE/dw1 = 0"
    r = check('"w1+" = 0.1498\n"w2+" = 0.1995\n', text)
    assert r["w1+"].verdict == "wrong" and r["w1+"].computed == 0.15
    assert r["w1+"].hint == "the input i1 is 0, so dE/dw1 = 0 and w1 cannot change: it stays 0.15"
    assert r["w2+"].hint is None or "i1" not in r["w2+"].hint  # w2 comes from i2 = 0.10


def test_hint_update_left_out_and_frozen_bias_updated() -> None:
    r = check('"w5+" = 0.4000000\n"b1+" = 0.340637195\n')
    assert r["w5+"].hint == "matches w5 before the step: the update was left out"
    # Written as 0.40 (unit 0.01) it is just as much an update made with dE/dw1 = 0.00043857
    # (0.40 - 0.5 * 0.00043857 = 0.39978): two misconceptions match, so no hint.
    assert check('"w5+" = 0.40\n')["w5+"].hint is None
    # b1 is fixed (update_biases = false); 0.35 - 0.5 * dE/db1 (0.0187256094) = 0.3406371953.
    assert r["b1+"].verdict == "wrong"
    assert r["b1+"].hint.startswith("b1 is not trained (the file keeps it fixed), so it keeps its value 0.35")
    trained = check('"b1+" = 0.340637195\n', BARE.replace("update_biases = false", "update_biases = true"))
    assert trained["b1+"].verdict == "ok"


#: A 2-2-1 tanh network (our own numbers) for the hints about another activation's derivative.
TANH_221 = (DATA / "tanh221.toml").read_text()

SIGMOID_IN_TANH = ("uses sigmoid's derivative for tanh: dout_{0}/dnet_{0} written as out_{0} * (1 - out_{0}) "
                   "instead of 1 - out_{0}^2")
SIGMOID_IN_TANH_EVERYWHERE = "uses sigmoid's derivative for tanh, at every tanh on the way ({})"


def test_hint_sigmoid_derivative_in_a_tanh_network() -> None:
    # By hand: net_h1 = 0.4*0.5 - 0.6*(-0.3) + 0.1 = 0.48, net_h2 = 0.7*0.5 + 0.2*(-0.3) + 0.1 = 0.39,
    # out_h = tanh(net_h), net_o = 0.8 out_h1 - 0.5 out_h2 + 0.2 = 0.3713148, out_o = tanh(net_o)
    # = 0.3551412. The delta dE/dnet_o = (out_o - 0.5)(1 - out_o^2) = -0.1265884; with sigmoid's
    # out_o (1 - out_o) instead it is -0.0331750.
    h1, h2 = math.tanh(0.48), math.tanh(0.39)
    o = math.tanh(0.8 * h1 - 0.5 * h2 + 0.2)
    slip = (o - 0.5) * o * (1 - o)
    assert slip == pytest.approx(-0.0331750, abs=1e-7)
    r = check(f'"dE/dnet_o" = {slip:.6f}\n', TANH_221)["dE/dnet_o"]
    assert r.verdict == "wrong"
    assert r.computed == pytest.approx((o - 0.5) * (1 - o * o), rel=1e-13)
    assert r.hint == SIGMOID_IN_TANH.format("o")
    # dE/dw5 = delta_o * out_h1 made with that delta follows from it.
    r = check(f'"dE/dnet_o" = {slip:.6f}\n"dE/dw5" = {slip * h1:.6f}\n', TANH_221)
    assert r["dE/dw5"].verdict == "follows"
    assert r["dE/dw5"].hint == "carried forward from the slip in dE/dnet_o"
    # Claimed alone, the gradient and the update made with it get the hint themselves:
    # dE/dw5 = -0.0331750 * 0.4462436 = -0.0148041, w5+ = 0.8 - 0.25 * (-0.0148041) = 0.8037010.
    r = check(f'"dE/dw5" = {slip * h1:.6f}\n"w5+" = {0.8 - 0.25 * slip * h1:.6f}\n', TANH_221)
    assert r["dE/dw5"].hint == SIGMOID_IN_TANH.format("o")
    r = check(f'"w5+" = {0.8 - 0.25 * slip * h1:.6f}\n', TANH_221)["w5+"]
    assert r.verdict == "wrong"
    assert r.hint == ("matches the update with dE/dw5 = -0.01480412, which "
                      + SIGMOID_IN_TANH.format("o"))
    # A hidden neuron: dE/dout_h1 = delta_o * w5 with the slipped delta; dE/dnet_h1 with the
    # right delta_o but sigmoid's out_h1 (1 - out_h1) at h1; dE/dw1 with the slip at both.
    right = (o - 0.5) * (1 - o * o)
    r = check(f'"dE/dout_h1" = {slip * 0.8:.6f}\n"dE/dnet_h1" = {right * 0.8 * h1 * (1 - h1):.6f}\n'
              f'"dE/dw1" = {slip * 0.8 * h1 * (1 - h1) * 0.5:.6f}\n', TANH_221)
    assert r["dE/dout_h1"].hint == SIGMOID_IN_TANH.format("o")
    assert r["dE/dnet_h1"].hint == SIGMOID_IN_TANH.format("h1")
    assert r["dE/dw1"].hint == SIGMOID_IN_TANH_EVERYWHERE.format("out_h1, out_o")


def test_hint_derivative_left_out_in_a_sigmoid_network() -> None:
    # The seed 000 network (sigmoid): out_o = sigmoid(-0.9 sigmoid(1.08) - 0.6 sigmoid(1.52) + 1)
    # = 0.4590500; leaving out out_o (1 - out_o) makes the delta out_o - 0.99 = -0.5309500
    # (true: -0.1318471) and dE/dw5 = -0.5309500 * sigmoid(1.08) = -0.3963513.
    seed000 = (Path(__file__).parents[1] / "autograd_tiny" / "examples" / "seed000.toml").read_text()
    bare = seed000[: seed000.index("[claims]")] + "[claims]\n"
    h1 = sigmoid(1.08)
    o = sigmoid(-0.9 * h1 - 0.6 * sigmoid(1.52) + 1)
    left_out = ("leaves sigmoid's derivative out (takes it as 1): dout_{0}/dnet_{0} written as 1 "
                "instead of out_{0} * (1 - out_{0})")
    everywhere = "leaves sigmoid's derivative out (takes it as 1), at every sigmoid on the way ({})"
    r = check(f'"dE/dnet_o" = {o - 0.99:.7f}\n"dE/dw1" = {(o - 0.99) * -0.9 * 0.6:.6f}\n', bare)
    assert r["dE/dnet_o"].verdict == "wrong"
    assert r["dE/dnet_o"].hint == left_out.format("o")
    # dE/dw1 = delta_o * w5 * i1 = 0.2867130 with the derivative left out at o and at h1 as well:
    # from the written delta_o the remaining slip is at h1; claimed alone, it is at both.
    assert r["dE/dw1"].verdict == "wrong"
    assert r["dE/dw1"].hint == left_out.format("h1") + " (recomputed from the written figures)"
    r = check(f'"dE/dw1" = {(o - 0.99) * -0.9 * 0.6:.6f}\n', bare)
    assert r["dE/dw1"].hint == everywhere.format("out_h1, out_o")
    r = check(f'"dE/dw5" = {(o - 0.99) * h1:.7f}\n', bare)["dE/dw5"]
    assert r.verdict == "wrong" and r.hint == left_out.format("o")
    # tanh's 1 - out_o^2 in this sigmoid network: (out_o - 0.99)(1 - out_o^2) = -0.4190645.
    r = check(f'"dE/dnet_o" = {(o - 0.99) * (1 - o * o):.7f}\n', bare)["dE/dnet_o"]
    assert r.hint == ("uses tanh's derivative for sigmoid: dout_o/dnet_o written as 1 - out_o^2 "
                      "instead of out_o * (1 - out_o)")


def test_no_derivative_hint_when_the_claim_cannot_tell() -> None:
    # In the tanh network dE/dnet_o = -0.1265884, and with the derivative left out
    # out_o - 0.5 = -0.1448588. Written as -0.14 (unit 0.01) the claim is wrong but both numbers
    # lie within two units of it: no hint. Written as -0.14486 it is the left-out derivative.
    r = check('"dE/dnet_o" = -0.14\n', TANH_221)["dE/dnet_o"]
    assert r.verdict == "wrong" and r.hint is None
    r = check('"dE/dnet_o" = -0.14486\n', TANH_221)["dE/dnet_o"]
    assert r.hint == ("leaves tanh's derivative out (takes it as 1): dout_o/dnet_o written as 1 "
                      "instead of 1 - out_o^2")


def test_no_hint_when_nothing_matches() -> None:
    r = check("out_o1 = 0.5\n")["out_o1"]
    assert r.verdict == "wrong" and r.hint is None


# -- the shipped examples -----------------------------------------------------------------------

def verdicts(name: str) -> dict[str, str]:
    return {r.claim: r.verdict for r in load_example(name).check()}


def test_seed003_verdicts() -> None:
    # Hand computation, x1 = 0.1, x2 = 0.2:
    #   net_h1 = 0.25*0.1 + 0.15*0.2 + 0.45 = 0.505 (ok); net_h2 = 0.35*0.1 + 0.28*0.2 + 0.45 = 0.541 (ok)
    #   out_h1 = sigmoid(0.505) = 0.6236336 (0.623633 ok, truncated); out_h2 = 0.6320450 (ok)
    #   net_o1 = 0.35*0.623633 + 0.20*0.632045 + 0.5 = 0.84468 (the article's 0.794609 is wrong;
    #     it is not what the article's own out_h figures give either)
    #   net_o2 = 0.45*0.6236336 + 0.40*0.6320450 + 0.5 = 1.0334531; 1.0334528 is what the rounded
    #     out_h figures give (1.03345285): follows
    #   out_o1 = sigmoid(0.794609) = 0.6888201: follows from the slip in net_o1 (true 0.6994501)
    #   out_o2 = sigmoid(1.0334528) = 0.7375847, not 0.7375445: wrong (true 0.7375848)
    #   E = 1/2 (0.05-0.6888201)^2 + 1/2 (0.95-0.7375445)^2 = 0.22661423: follows from the
    #     article's out_o figures (true 0.2334528)
    #   w1+ = 0.25 - 0.5 * 0.000687323 = 0.2496563 (article 0.249921): wrong; recomputed from the
    #     article's figures it is 0.2496547, still not 0.249921
    #   E+ (weights updated, biases fixed) = 0.2254326; from the article's figures 0.2254109;
    #     the article's 0.224991003 is neither: wrong
    assert verdicts("seed003") == {
        "net_h1": "ok", "net_h2": "ok", "out_h1": "ok", "out_h2": "ok",
        "net_o1": "wrong", "net_o2": "follows", "out_o1": "follows", "out_o2": "wrong",
        "E": "follows", "w1+": "wrong", "E+": "wrong",
    }
    r = {x.claim: x for x in load_example("seed003").check()}
    assert r["net_o1"].computed == pytest.approx(0.35 * 0.623633628 + 0.20 * 0.632045013 + 0.5, abs=1e-9)
    assert r["E"].hint == "carried forward from the slip in net_o1, out_o2"
    assert r["E+"].computed == pytest.approx(0.2254326344, abs=1e-10)


def test_seed002_verdicts() -> None:
    # Sample (0, 0), every weight and bias 1, identity activation, target 0:
    #   out_Z1 = 1*0 + 1*0 + 1 = 1 (ok); out_D0 = 1 + 1 + 1 + 1 = 4 (ok)
    #   dE/dout_D0 = out - target = 4, so dE/dV00 = 4, dE/dV01 = 4 * out_Z1 = 4,
    #   dE/dW10 = 4 * V01 = 4, dE/dW11 = 4 * V01 * X1 = 0.
    #   W10+ = 1 - 0.1*4 = 0.6, V00+ = V01+ = 0.6: the article's 1.4 adds the gradient (wrong,
    #   sign flipped); W11+ = 1 (its input X1 is 0), so 1.4 is wrong.
    r = {x.claim: x for x in load_example("seed002").check()}
    assert {k: v.verdict for k, v in r.items()} == {
        "out_Z1": "ok", "out_D0": "ok", "W10+": "wrong", "W11+": "wrong", "V00+": "wrong", "V01+": "wrong"}
    assert r["W10+"].computed == pytest.approx(0.6, abs=1e-15)
    for name in ("W10+", "V00+", "V01+"):
        assert "sign is flipped" in r[name].hint
    assert r["W11+"].hint == "the input X1 is 0, so dE/dW11 = 0 and W11 cannot change: it stays 1"


def test_seed002_batch_verdicts() -> None:
    # All four XOR samples, every weight and bias 1, identity: out_Zj = 1 + X1 + X2 and
    # out_D0 = 1 + 3 (1 + X1 + X2): 4, 7, 7, 10 for (0,0), (0,1), (1,0), (1,1), targets 0, 1, 1, 0.
    # Per-sample deltas out - target: 4, 6, 6, 10 (the same for every Zj, the weights being 1).
    # Mean gradients: dE/dV00 = 26/4 = 6.5, dE/dV01 = (4*1 + 6*2 + 6*2 + 10*3)/4 = 14.5,
    # dE/dW10 = 6.5, dE/dW11 = (6 + 10)/4 = 4. Updates with lr 0.1: V00+ = W10+ = 0.35,
    # V01+ = -0.45, W11+ = 0.6. The article's -4 delta has the wrong sign, its 1.4 updates too.
    r = {x.claim: x for x in load_example("seed002_batch").check()}
    assert {k: v.verdict for k, v in r.items()} == {
        "out_Z1[1]": "ok", "out_D0[1]": "ok", "dE/dnet_D0[1]": "wrong", "dE/dnet_Z1[1]": "follows",
        "W10+": "wrong", "W11+": "wrong", "V00+": "wrong", "V01+": "wrong"}
    assert [r[n].computed for n in ("W10+", "W11+", "V00+", "V01+")] == pytest.approx(
        [0.35, 0.6, 0.35, -0.45], abs=1e-14)
    assert r["dE/dnet_D0[1]"].computed == 4.0
    # X1 is 1 in samples 3 and 4, so W11 can move: not the zero-input hint but the sign's,
    # W11 + lr * dE/dW11 = 1.0 + 0.1 * 4 = 1.4. The written delta of sample 1 (where X1 = 0) does
    # not reach dE/dW11, so the slip is the same from the true and the written figures: no
    # "(recomputed from the written figures)".
    assert r["W11+"].hint == "the gradient's sign is flipped: W11 + lr * dE/dW11 = 1.4"
    # With the written delta -4 for sample 1, dE/dW10 = (-4 + 6 + 6 + 10) / 4 = 4.5, and the
    # sign-flipped update 1 + 0.1 * 4.5 = 1.45 is the written 1.4 cut off: the sign
    # rule names it. Sample 1's own delta is out - target
    # = 4 - 0 = 4 (not the batch's 4 / 4 = 1): the written -4 is its sign flipped.
    assert r["W10+"].hint == ("the gradient's sign is flipped: W10 + lr * dE/dW10 = 1.45 "
                              "(recomputed from the written figures)")
    assert r["dE/dnet_D0[1]"].hint == ("loses the minus sign of the subtracted term: "
                                       "d(0 - net_D0[1])/dnet_D0[1] written as 1 instead of -1")


def test_shipped_examples_get_no_derivative_hint() -> None:
    # The articles' slips are not another activation's derivative: seed 003's wrong claims keep
    # their hints (none for w1+ and E+), seed 002's are all about the sign and the zero input.
    for name in ("seed000", "seed002", "seed002_batch", "seed003", "seed004"):
        for r in load_example(name).check():
            assert r.hint is None or "derivative" not in r.hint, (name, r.claim, r.hint)
    hints = {r.claim: r.hint for r in load_example("seed003").check() if r.verdict == "wrong"}
    assert hints == {"net_o1": None, "out_o2": None, "w1+": None, "E+": None}


def test_seed004_and_seed000_are_all_ok_and_match_the_hand_figures() -> None:
    r = {x.claim: x for x in load_example("seed004").check()}
    assert all(x.verdict == "ok" for x in r.values())
    assert len(r) == 39
    # The known figures: E = 0.298371109, dE/dw5 = 0.082167041, w5+ = 0.35891648, w1+ = 0.149780716.
    assert r["E"].computed == pytest.approx(0.298371109, abs=5e-10)
    assert r["dE/dw5"].computed == pytest.approx(0.082167041, abs=5e-10)
    assert r["w5+"].computed == pytest.approx(0.35891648, abs=5e-9)
    assert r["w1+"].computed == pytest.approx(0.149780716, abs=5e-10)
    assert r["E@10000"].computed < 1e-4
    r0 = load_example("seed000").check()
    assert r0 and all(x.verdict == "ok" for x in r0)


def test_seed000_by_hand() -> None:
    # Our own figures (the article's are lost): net_h1 = 0.3*0.6 - 0.5*0.2 + 1 = 1.08,
    # net_h2 = 0.8*0.6 + 0.2*0.2 + 1 = 1.52, net_o = -0.9*sigmoid(1.08) - 0.6*sigmoid(1.52) + 1.
    q = load_example("seed000").quantities()
    assert q["net_h1"] == pytest.approx(1.08, abs=1e-15)
    assert q["net_h2"] == pytest.approx(1.52, abs=1e-15)
    assert q["net_o"] == pytest.approx(-0.9 * sigmoid(1.08) - 0.6 * sigmoid(1.52) + 1, rel=1e-14)
    out = sigmoid(q["net_o"])
    assert q["dE/dw5"] == pytest.approx((out - 0.99) * out * (1 - out) * sigmoid(1.08), rel=1e-13)
    assert q["w5+"] == pytest.approx(-0.9 - 0.4 * q["dE/dw5"], rel=1e-14)


# -- reports ------------------------------------------------------------------------------------

def test_text_report_rows_in_file_order_and_summary() -> None:
    results = load_example("seed003").check()
    text = format_text(results, "T")
    lines = text.splitlines()
    assert lines[0] == "T"
    assert lines[1].split() == ["claim", "written", "computed", "verdict", "hint"]
    assert [line.split()[0] for line in lines[2:13]] == [r.claim for r in results]
    assert lines[6].split()[:4] == ["net_o1", "0.794609", "0.84468077", "wrong"]
    assert lines[-1] == ("11 claims: 4 ok, 3 follow from earlier figures, 4 wrong. "
                         "First slip: net_o1 (written 0.794609, computed 0.84468077).")
    assert summary([]) == "No claims to check: add a [claims] table."
    assert summary(load_example("seed004").check()) == "All 39 claims ok."


def test_json_report_keys() -> None:
    import json

    rows = json.loads(format_json(load_example("seed002").check()))
    assert [set(row) for row in rows] == [{"claim", "written", "computed", "verdict", "hint"}] * 6
    assert rows[2] == {"claim": "W10+", "written": "1.4", "computed": pytest.approx(0.6, abs=1e-15),
                       "verdict": "wrong", "hint": "the gradient's sign is flipped: W10 + lr * dE/dW10 = 1.4"}
    assert rows[0]["hint"] is None


# -- ok means rounded or truncated, never "within one unit" -------------------------------------

def test_coarse_claims_are_judged_by_rounding_and_truncation() -> None:
    # hand_pass(START): E = 0.2983711, dE/dw5 = 0.0821670, dE/dw7 = -0.0226025, dE/dw4 = 0.000995.
    p = hand_pass(START)
    assert p["E"] == pytest.approx(0.2983711088, abs=1e-9)
    r = check('E = 1\n"dE/dw5" = 0.2\n"dE/dw7" = 0\n"dE/dw4" = 0.0\n"dE/dw8" = -0.0\n')
    assert r["E"].verdict == "wrong"          # 0.298 rounds and truncates to 0, not 1
    assert r["E"].hint is None                # a one-digit 1 cannot tell a factor 2 from a slip
    assert r["dE/dw5"].verdict == "wrong"     # 0.082 rounds and truncates to 0.1 / 0.0, not 0.2
    assert r["dE/dw7"].verdict == "wrong"     # -0.0226 has the other sign than a written 0
    assert r["dE/dw4"].verdict == "ok"        # 0.000995 rounds to 0.0
    assert r["dE/dw4"].hint is None
    assert r["dE/dw8"].verdict == "ok"        # -0.0227 rounds to -0.0
    # E after 2000 steps is 0.000445 (PyTorch float64 in test_claim_after_many_steps_matches_pytorch
    # checks the replay's training); 0.001 is more than half a unit above it.
    assert check('"E@2000" = 0.001\n')["E@2000"].verdict == "wrong"
    assert check('"E@2000" = 0.0004\n')["E@2000"].verdict == "ok"


def test_first_slip_is_the_first_in_computation_order() -> None:
    # Written last but computed first: net_h1 (forward) before E, E before dE/dw5 (backward),
    # dE/dw5 before w5+ (update).
    text = BARE + '"w5+" = 0.9\n"dE/dw5" = 0.5\nE = 0.9\nnet_h1 = 0.9\n'
    results = load_derivation(text).check()
    assert [r.verdict for r in results] == ["wrong"] * 4
    assert "First slip: net_h1 (written 0.9" in summary(results)
    assert "First slip: E (written 0.9" in summary(results[:3])
    assert "First slip: dE/dw5 (written 0.5" in summary(results[:2])
    # The hidden layer's forward values come before the output layer's, whatever the file says.
    results = load_derivation(BARE + "out_o1 = 0.9\nout_h2 = 0.9\n").check()
    assert "First slip: out_h2" in summary(results)
    # Backward: the output delta before dE/dw5, dE/dw5 before the hidden delta.
    results = load_derivation(BARE + '"dE/dnet_h1" = 0.9\n"dE/dw5" = 0.9\n"dE/dnet_o1" = 0.9\n').check()
    orders = {r.claim: r.order for r in results}
    assert orders["dE/dnet_o1"] < orders["dE/dw5"] < orders["dE/dnet_h1"]


def test_diverging_training_gets_a_hint_not_a_traceback() -> None:
    # An identity network with learning rate 50 overflows long before 1100 steps.
    text = BARE.replace('"sigmoid"', '"identity"').replace("learning_rate = 0.5", "learning_rate = 50")
    r = check('"w1@1100" = 1.0\n"dE/dw1@1100" = 1.0\n', text)
    for name in ("w1@1100", "dE/dw1@1100"):
        assert r[name].verdict == "wrong"
        assert r[name].hint == "the training diverged: values are nan or infinite by then"


def test_title_control_characters_are_escaped_in_the_report() -> None:
    results = check("E = 0.3\n")
    text = format_text(list(results.values()), "a\x1b[31mred\u202e")
    assert text.splitlines()[0] == "a\\x1b[31mred\\u202e"


def test_update_hints_under_momentum_and_weight_decay() -> None:
    # seed 004 with momentum 0.9 and weight decay 0.01 (torch.optim.SGD's rule: d = dE/dP + wd P,
    # v = 0.9 v + d, a first v being d; P+ = P - lr v). w5 = 0.4, dE/dw5 = 0.0821670405642 (the
    # article's figure, checked elsewhere), so v0 = 0.0861670405642 and w5+ = 0.4 - 0.5 v0
    # = 0.3569164797179; the step's sign flipped gives 0.4 + 0.5 v0 = 0.4430835202821 and a
    # rate of 0.1 gives 0.3913832959436.
    text = example_text("seed004")
    head = text[: text.index("[claims]")].replace(
        "learning_rate", "momentum = 0.9\nweight_decay = 0.01\nlearning_rate", 1)

    def hint(claim: str) -> str | None:
        (r,) = load_derivation(head + "[claims]\n" + claim + "\n").check()
        assert r.verdict == "wrong", claim
        return r.hint

    d = load_derivation(head + '[claims]\n"w5+" = 1\n')
    assert d.value("w5+") == pytest.approx(0.3569164797179, abs=1e-12)
    assert hint('"w5+" = 0.4000000000') == "matches w5 before the step: the update was left out"
    assert hint('"w5+" = 0.4430835203') == ("the step's sign is flipped: the update adds what it "
                                             "subtracts from w5, giving 0.443083520282")
    assert hint('"w5+" = 0.3913832959') == "matches the update with learning rate 0.1 instead of 0.5"
    # Step 2 keeps the velocity: v1 = 0.9 v0 + dE/dw5@1 + 0.01 w5@1, w5@2 = w5@1 - 0.5 v1.
    w1, g1 = d.value("w5@1"), d.value("dE/dw5@1")
    v1 = 0.9 * 0.0861670405642 + g1 + 0.01 * w1
    assert d.value("w5@2") == pytest.approx(w1 - 0.5 * v1, abs=1e-12)
    assert hint(f'"w5@2" = {w1 - 0.1 * v1:.10f}') == ("matches the update with learning rate 0.1 "
                                                      "instead of 0.5")
    assert hint(f'"w5@2" = {w1 + 0.5 * v1:.10f}').startswith("the step's sign is flipped")
