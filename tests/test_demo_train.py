"""The ``demo`` and ``train`` commands: numbers checked against PyTorch float64 and hand figures."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import pytest

from autograd_tiny.cli import main
from autograd_tiny.commands.train import train
from autograd_tiny.derivation import example_text, load_example

# Seed 004's 2-2-2 network, as shipped in autograd_tiny/examples/seed004.toml: inputs
# 0.05, 0.10; w1, w2 into h1, w3, w4 into h2, b1 shared; w5, w6 into o1, w7, w8 into o2,
# b2 shared; sigmoid; targets 0.01, 0.99; half squared error; lr 0.5; biases fixed.
INPUTS = (0.05, 0.10)
TARGETS = (0.01, 0.99)
PARAMS = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45,
          "w7": 0.50, "w8": 0.55, "b1": 0.35, "b2": 0.60}
LR = 0.5


def torch_seed004(steps: int = 0):
    """Return (forward values, E, gradients, losses after 0..steps steps) of seed 004 in PyTorch float64."""
    torch = pytest.importorskip("torch")
    t = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in PARAMS.items()}
    x1, x2 = (torch.tensor(v, dtype=torch.float64) for v in INPUTS)

    def forward():
        v = {}
        v["net_h1"] = t["w1"] * x1 + t["w2"] * x2 + t["b1"]
        v["net_h2"] = t["w3"] * x1 + t["w4"] * x2 + t["b1"]
        v["out_h1"], v["out_h2"] = torch.sigmoid(v["net_h1"]), torch.sigmoid(v["net_h2"])
        v["net_o1"] = t["w5"] * v["out_h1"] + t["w6"] * v["out_h2"] + t["b2"]
        v["net_o2"] = t["w7"] * v["out_h1"] + t["w8"] * v["out_h2"] + t["b2"]
        v["out_o1"], v["out_o2"] = torch.sigmoid(v["net_o1"]), torch.sigmoid(v["net_o2"])
        v["E_o1"] = 0.5 * (TARGETS[0] - v["out_o1"]) ** 2
        v["E_o2"] = 0.5 * (TARGETS[1] - v["out_o2"]) ** 2
        v["E"] = v["E_o1"] + v["E_o2"]
        return v

    values = forward()
    values["E"].backward()
    first = {k: val.item() for k, val in values.items()}
    grads = {n: p.grad.item() for n, p in t.items()}
    losses = [first["E"]]
    for _ in range(steps):
        with torch.no_grad():
            for n, p in t.items():
                if n.startswith("w"):  # the biases stay fixed in this example
                    p -= LR * p.grad
                p.grad = None
        v = forward()
        v["E"].backward()
        losses.append(v["E"].item())
    return first, first["E"], grads, losses


def _close(text: str, want: float, digits: int = 9) -> bool:
    """True when ``text`` (printed with ``digits`` significant digits) is within one unit of its
    last digit of ``want``."""
    unit = 10.0 ** (math.floor(math.log10(abs(want))) - digits + 1) if want else 1e-300
    return abs(float(text) - want) <= unit


def _error_line(capsys) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


# -- demo -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_output():
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        status = main(["demo"])
    assert status == 0
    return buf.getvalue()


def test_demo_forward_table_matches_pytorch(demo_output):
    values, _, _, _ = torch_seed004()
    for n in ("h1", "h2", "o1", "o2"):
        m = re.search(rf"^  {n}\s+(\S+)\s+(\S+)$", demo_output, re.M)
        assert m, n
        assert _close(m.group(1), values[f"net_{n}"]) and _close(m.group(2), values[f"out_{n}"])
    # hand figures: net_h1 = 0.15 * 0.05 + 0.20 * 0.10 + 0.35 = 0.3775; out_o1 = 0.75136507
    assert re.search(r"^  h1\s+0\.3775\s+0\.593269992$", demo_output, re.M)
    assert re.search(r"^  o1\s+1\.10590597\s+0\.75136507$", demo_output, re.M)


def test_demo_loss_matches_pytorch_and_the_hand_figure(demo_output):
    values, e, _, _ = torch_seed004()
    for term in ("E_o1", "E_o2"):
        m = re.search(rf"^  {term} = (\S+)$", demo_output, re.M)
        assert m and _close(m.group(1), values[term])
    m = re.search(r"^  E = E_o1 \+ E_o2 = (\S+)$", demo_output, re.M)
    assert m and _close(m.group(1), e)
    assert m.group(1) == "0.298371109"  # hand figure for seed 004


def test_demo_gradients_and_updates_match_pytorch(demo_output):
    _, _, grads, _ = torch_seed004()
    for name, value in PARAMS.items():
        m = re.search(rf"^  {name}\s+(\S+)\s+(\S+)\s+(\S+)( \(kept fixed\))?$", demo_output, re.M)
        assert m, name
        assert float(m.group(1)) == value
        assert _close(m.group(2), grads[name])
        if name.startswith("b"):
            assert m.group(4) and float(m.group(3)) == value
        else:
            assert not m.group(4) and _close(m.group(3), value - LR * grads[name])
    # seed-004 figures: w5+ = 0.35891648, w1+ = 0.149780716
    assert re.search(r"^  w5\s+0\.4\s+0\.0821670406\s+0\.35891648$", demo_output, re.M)
    assert re.search(r"^  w1\s+0\.15\s+0\.000438567734\s+0\.149780716$", demo_output, re.M)


def test_demo_derives_dE_dw5(demo_output):
    section = demo_output.split("Chain rule for dE/dw5", 1)[1].split("Checking", 1)[0]
    assert "Path 1: E -> E_o1 -> out_o1 -> net_o1 -> w5" in section
    # 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041 (seed-004 hand figures)
    assert "product         = 1 * 0.741365 * 0.186816 * 0.593270 = 0.0821670" in section
    assert "w5+ = w5 - lr * dE/dw5 = 0.4 - 0.5 * 0.0821670 = 0.358916" in section


def test_demo_shows_the_checkers_verdicts_on_seed_003(demo_output):
    section = demo_output.split("Checking the hand calculation of example seed003", 1)[1]
    # By hand: net_h1 = 0.25 * 0.1 + 0.15 * 0.2 + 0.45 = 0.505 (ok);
    # net_o1 = 0.35 * 0.623633 + 0.20 * 0.632045 + 0.5 = 0.84468, not 0.794609 (wrong).
    assert re.search(r"net_h1\s+0\.505\s+0\.505\S*\s+ok", section)
    assert re.search(r"net_o1\s+0\.794609\s+0\.84468\d*\s+wrong", section)
    assert "First slip: net_o1" in section


def test_demo_out_that_is_a_file_or_cannot_be_made_is_one_line(tmp_path, capsys):
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    assert main(["demo", "--out", str(a_file)]) == 2
    assert _error_line(capsys) == (f"autograd-tiny: error: --out {str(a_file)!r} is a file; "
                                   "give a directory (it is created if missing)")
    assert capsys.readouterr().out == ""
    inside_a_file = a_file / "pictures"  # its parent is a file: refused before the demo runs
    assert main(["demo", "--out", str(inside_a_file)]) == 2
    assert _error_line(capsys) == f"autograd-tiny: error: --out {str(inside_a_file)!r}: Not a directory"
    assert capsys.readouterr().out == ""


def test_demo_writes_svgs_when_asked(tmp_path, capsys):
    from autograd_tiny.render import GraphvizNotFoundError, find_program

    try:
        find_program(None)
    except GraphvizNotFoundError:
        pytest.skip("no Graphviz layout program (dot or graphviz-pure) installed")
    out = tmp_path / "pictures"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"SVG files written to {out}:" in text
    for name in ("graph.svg", "network.svg"):
        path = out / name
        assert str(path) in text
        assert "<svg" in path.read_text(encoding="utf-8")


def test_demo_out_must_not_be_a_file(tmp_path, capsys):
    f = tmp_path / "taken"
    f.write_text("x")
    assert main(["demo", "--out", str(f)]) == 2
    line = _error_line(capsys)
    assert str(f) in line and "directory" in line


def test_python_dash_m_demo():
    result = subprocess.run([sys.executable, "-m", "autograd_tiny", "demo"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Forward pass" in result.stdout
    assert "E = E_o1 + E_o2 = 0.298371109" in result.stdout


# -- train ------------------------------------------------------------------------------------------
def test_train_prints_losses_that_match_pytorch(capsys):
    _, _, _, losses = torch_seed004(steps=5)
    assert main(["train", "--example", "seed004", "--steps", "5", "--every", "2"]) == 0
    out = capsys.readouterr().out
    rows = re.findall(r"^\s+(\d+)\s+(\S+)$", out, re.M)
    assert [int(k) for k, _ in rows] == [0, 2, 4, 5]
    for k, text in rows:
        assert _close(text, losses[int(k)]), k
    assert rows[0][1] == "0.298371109"  # E before training, the hand figure
    assert "5 steps of gradient descent, learning rate 0.5" in out


def test_train_without_every_prints_start_and_end(capsys):
    _, _, _, losses = torch_seed004(steps=300)
    assert main(["train", "--example", "seed004", "--steps", "300"]) == 0
    rows = re.findall(r"^\s+(\d+)\s+(\S+)$", capsys.readouterr().out, re.M)
    assert [int(k) for k, _ in rows] == [0, 300]
    assert _close(rows[1][1], losses[300])
    assert losses[300] < losses[0]


def test_train_a_file_that_updates_its_biases(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    text = example_text("seed004").replace("update_biases = false", "update_biases = true")
    path = tmp_path / "net.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["train", str(path), "--steps", "2"]) == 0
    rows = re.findall(r"^\s+(\d+)\s+(\S+)$", capsys.readouterr().out, re.M)
    # the same two steps in PyTorch, biases included
    t = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in PARAMS.items()}

    def loss():
        h1 = torch.sigmoid(t["w1"] * INPUTS[0] + t["w2"] * INPUTS[1] + t["b1"])
        h2 = torch.sigmoid(t["w3"] * INPUTS[0] + t["w4"] * INPUTS[1] + t["b1"])
        o1 = torch.sigmoid(t["w5"] * h1 + t["w6"] * h2 + t["b2"])
        o2 = torch.sigmoid(t["w7"] * h1 + t["w8"] * h2 + t["b2"])
        return 0.5 * (TARGETS[0] - o1) ** 2 + 0.5 * (TARGETS[1] - o2) ** 2

    opt = torch.optim.SGD(list(t.values()), lr=LR)
    for _ in range(2):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert int(rows[-1][0]) == 2 and _close(rows[-1][1], loss().item())


def test_train_helper_returns_one_loss_per_step_and_the_last(capsys):
    d = load_example("seed004")
    losses = train(d, 3, progress=True).losses
    assert len(losses) == 4
    assert losses[0] == pytest.approx(0.298371109, abs=5e-10)  # E of seed 004 by hand
    assert losses == sorted(losses, reverse=True)
    assert "training" in capsys.readouterr().err  # the progress bar went to stderr


def test_train_plots_the_loss_curve(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    svg, png = tmp_path / "loss.svg", tmp_path / "loss.png"
    assert main(["train", "--example", "seed004", "--steps", "20", "--plot", str(svg)]) == 0
    assert f"loss curve written to {svg}" in capsys.readouterr().out
    assert "<svg" in svg.read_text(encoding="utf-8")
    assert main(["train", "--example", "seed004", "--steps", "2", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_without_matplotlib_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    assert main(["train", "--example", "seed004", "--steps", "2", "--plot", "loss.svg"]) == 2
    line = _error_line(capsys)
    assert 'pip install "autograd-tiny[plot]"' in line


@pytest.mark.parametrize(("argv", "needle"), [
    (["--steps", "0"], "--steps must be >= 1, got 0"),
    (["--steps", "-3"], "--steps must be >= 1, got -3"),
    (["--steps", "ten"], "--steps must be a whole number >= 1, got 'ten'"),
    (["--steps", "2", "--every", "0"], "--every must be >= 1, got 0"),
    (["--steps", "99999999999999999999999"], "--steps must be at most 10000000, got 99999999999999999999999"),
    (["--steps", "1" * 50], "--steps must be at most 10000000, got a 50-digit number"),
    (["--steps", "2", "--plot", "loss.unknown"], "cannot plot to 'loss.unknown'"),
])
def test_train_rejects_bad_options(argv, needle, capsys):
    assert main(["train", "--example", "seed004", *argv]) == 2
    assert needle in _error_line(capsys)
    assert capsys.readouterr().out == ""


def test_train_rejects_a_missing_file_and_unknown_example(tmp_path, capsys):
    missing = tmp_path / "nope.toml"
    assert main(["train", str(missing), "--steps", "1"]) == 2
    assert str(missing) in _error_line(capsys)
    assert main(["train", "--example", "seed999", "--steps", "1"]) == 2
    assert "seed999" in _error_line(capsys)
    assert main(["train", "--steps", "1"]) == 2
    assert "FILE" in _error_line(capsys)
    assert main(["train", str(missing), "--example", "seed004", "--steps", "1"]) == 2
    assert "not both" in _error_line(capsys)
