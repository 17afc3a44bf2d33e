"""``autograd-tiny worksheet``: a blank exercise and its answer key, with numbers for which every
misconception gives a figure of its own, so that any single slip is named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograd_tiny import load_derivation
from autograd_tiny.cli import main
from autograd_tiny.commands.worksheet import collisions, worksheet
from autograd_tiny.errors import UsageError


def _shape(phrase: str) -> str:
    return re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", phrase)


@pytest.fixture(scope="module")
def sheet() -> tuple[str, str]:
    return worksheet([2, 2, 2], "sigmoid", "mse", 0.5, 0)


def test_blank_and_answer_key(sheet: tuple[str, str]) -> None:
    blank, answers = sheet
    d = load_derivation(blank)
    assert d.spec.claims == [] and d.layers == [["x1", "x2"], ["h1", "h2"], ["o1", "o2"]]
    assert d.loss_name == "mean_squared_error" and d.activations == ["sigmoid", "sigmoid"]
    todo = re.findall(r"^# (\S+) = $", blank, re.M)
    assert len(todo) == 39 and todo[0] == "net_h1" and todo[-1] == '"b2+"'
    key = load_derivation(answers)
    results = key.check()
    assert len(results) == 39 and all(r.verdict == "ok" for r in results)
    # The key's figures are the engine's own, to ten significant digits (checked against
    # PyTorch in the next test).
    q = key.quantities()
    for r in results:
        name = r.claim.strip('"')
        assert name in q
        assert float(r.written) == pytest.approx(q[name], rel=1e-9)


def test_the_answer_key_agrees_with_pytorch(sheet: tuple[str, str]) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for the answer key")
    _, answers = sheet
    spec = load_derivation(answers).spec
    f64 = torch.float64
    w = {n: torch.tensor(ws.value, dtype=f64, requires_grad=True) for n, ws in spec.weights.items()}
    b = {n: torch.tensor(bs.value, dtype=f64, requires_grad=True) for n, bs in spec.biases.items()}
    out = {x: torch.tensor(v, dtype=f64) for x, v in spec.inputs.items()}
    net = {}
    for layer in spec.layers[1:]:
        for n in layer:
            net[n] = sum(w[k] * out[ws.source] for k, ws in spec.weights.items() if ws.target == n)
            net[n] = net[n] + sum(b[k] for k, bs in spec.biases.items() if n in bs.neurons)
            out[n] = torch.sigmoid(net[n])
    E = sum(0.5 * (t - out[o]) ** 2 for o, t in spec.targets.items())
    E.backward()
    written = {c.name: c.value for c in spec.claims}
    assert written["E"] == pytest.approx(E.item(), rel=1e-9)
    for n in ("h1", "h2", "o1", "o2"):
        assert written[f"net_{n}"] == pytest.approx(net[n].item(), rel=1e-9, abs=1e-12)
        assert written[f"out_{n}"] == pytest.approx(out[n].item(), rel=1e-9)
    for name, p in {**w, **b}.items():
        assert written[f"dE/d{name}"] == pytest.approx(p.grad.item(), rel=1e-9)
        expected = p.item() - spec.learning_rate * p.grad.item()
        assert written[f"{name}+"] == pytest.approx(expected, rel=1e-9)


def test_every_slip_gives_a_figure_of_its_own(sheet: tuple[str, str]) -> None:
    _, answers = sheet
    assert collisions(answers[: answers.index("[claims]")]) == []


def test_every_single_slip_is_named_by_the_checker(sheet: tuple[str, str]) -> None:
    # Every misconception that applies anywhere in the answer key is made once, every later figure
    # carried (tests/planting.py): the checker locates each as the first slip and names it (in
    # its own words, or told as the number rule or the same slip at the place it first shows).
    from planting import plant, table

    _, answers = sheet
    outcomes = plant("worksheet", text=answers)
    c = table(outcomes)
    assert c["planted"] >= 200 and c["located"] == c["planted"], c
    assert c["no hint"] == 0, [(o.rule, o.target) for o in outcomes if o.hint is None]
    assert c["hinted"] >= 0.8 * c["planted"], c
    rules = {o.rule.split(":")[0] for o in outcomes if o.hinted}
    assert {"sign", "half-missing", "two-missing", "left-out", "other-gradient", "drop-path",
            "neighbour", "term-left-out", "input-for-output", "upstream", "twice", "other-node", "mul",
            "sigmoid", "updated-params"} <= rules, rules


def test_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["worksheet", "--layers", "2,2,2", "--activation", "sigmoid", "--loss", "mse"]) == 0
    blank = capsys.readouterr().out
    assert blank.startswith("# A 2-2-2 sigmoid network with mean_squared_error")
    assert main(["worksheet", "--layers", "2,2,2", "--loss", "mse", "--out", str(tmp_path / "w")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [f"wrote {tmp_path / 'w' / 'worksheet.toml'}",
                                f"wrote {tmp_path / 'w' / 'answers.toml'}"]
    assert (tmp_path / "w" / "worksheet.toml").read_text() == blank
    assert main(["check", str(tmp_path / "w" / "answers.toml")]) == 0
    capsys.readouterr()
    for argv, message in [
        (["--layers", "2,x"], "--layers must be whole numbers"),
        (["--layers", "2"], "--layers needs 2 to 5 layers"),
        (["--layers", "2,2", "--loss", "nope"], "unknown loss 'nope'"),
        (["--layers", "2,2", "--learning-rate", "-1"], "--learning-rate must be greater than 0"),
        (["--layers", "2,2", "--activation", "tanh", "--loss", "bce"], "does not fit"),
    ]:
        assert main(["worksheet", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)


def test_library_errors() -> None:
    with pytest.raises(UsageError, match="unknown loss"):
        worksheet([2, 2], loss="cross")


def test_deeper_and_other_networks() -> None:
    blank, answers = worksheet([3, 2, 2, 1], "tanh", "half", 0.25, 0)
    d = load_derivation(answers)
    assert d.layers == [["x1", "x2", "x3"], ["h1", "h2"], ["g1", "g2"], ["o1"]]
    assert d.learning_rate == 0.25 and all(r.verdict == "ok" for r in d.check())
    assert collisions(answers[: answers.index("[claims]")]) == []


def test_user_text_reaches_the_terminal_escaped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # float() takes "200\n", which is out of range: the error names it on one line.
    assert main(["worksheet", "--layers", "2,2,1", "--learning-rate", "200\n"]) == 2
    err = capsys.readouterr().err
    assert err == ("autograd-tiny: error: --learning-rate must be greater than 0 (and below 100), "
                   "got 200\\n\n")
    out = tmp_path / "a\x1b[31m"
    assert main(["worksheet", "--layers", "2,2,1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and printed.count("\n") == 2 and "a\\x1b[31m" in printed
    assert (out / "worksheet.toml").is_file()
