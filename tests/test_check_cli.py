"""``autograd-tiny check``: exit statuses, text and JSON output, examples, errors and --svg."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_tiny.cli import main

DATA = Path(__file__).parent / "data"
GOOD = DATA / "net222.toml"  # E = 0.298371109 and dE/dw5 = 0.082167041: both ok


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["check", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_exit_0_when_every_claim_is_ok(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, str(GOOD))
    assert status == 0 and err == ""
    assert out.splitlines()[0] == "2-2-2 test network"
    assert out.splitlines()[-1] == "All 2 claims ok."


def test_exit_1_when_a_claim_is_not_ok(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "slip.toml"
    bad.write_text(GOOD.read_text().replace("E = 0.298371109", "E = 0.596742218"))
    status, out, _ = run(capsys, str(bad))
    assert status == 1
    row = next(line for line in out.splitlines() if line.startswith("E "))
    assert row.split()[:4] == ["E", "0.596742218", "0.29837110876", "wrong"]
    assert row.endswith("twice the value 0.29837110876: a factor 1/2 is missing")
    assert "First slip: E (written 0.596742218" in out.splitlines()[-1]


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("bad_*.toml")))
def test_exit_2_for_invalid_files_with_one_line_on_stderr(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    status, out, err = run(capsys, str(DATA / name))
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"autograd-tiny: error: {DATA / name}: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(("argv", "message"), [
    (["missing.toml"], "missing.toml: no such file"),
    ([], "check needs a derivation FILE"),
    (["--example", "nope"],
     "no example 'nope'; the examples are circuit, momentum, seed000, seed002, seed002_batch, seed003, "
     "seed004, sigmoid_neuron"),
    ([str(GOOD), "--example", "seed003"], "give either FILE or --example NAME, not both"),
])
def test_exit_2_for_bad_arguments(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith(f"autograd-tiny: error: {message}") and err.count("\n") == 1


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "--example", "seed003", "--format", "json")
    assert status == 1 and err == ""
    rows = json.loads(out)
    assert [r["claim"] for r in rows] == ["net_h1", "net_h2", "out_h1", "out_h2", "net_o1", "net_o2",
                                          "out_o1", "out_o2", "E", "w1+", "E+"]
    for r in rows:
        assert set(r) == {"claim", "written", "computed", "verdict", "hint"}
        assert isinstance(r["written"], str) and isinstance(r["computed"], float)
        assert r["verdict"] in ("ok", "follows", "wrong")
        assert r["hint"] is None or isinstance(r["hint"], str)
    net_o1 = rows[4]
    assert net_o1["written"] == "0.794609" and net_o1["verdict"] == "wrong"
    assert net_o1["computed"] == pytest.approx(0.35 * 0.623633628 + 0.20 * 0.632045013 + 0.5, abs=1e-9)


@pytest.mark.parametrize("argv", [["--example"], ["--list-examples"]])
def test_list_examples(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, out, _ = run(capsys, *argv)
    assert status == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names == ["circuit", "momentum", "seed000", "seed002", "seed002_batch", "seed003", "seed004",
                     "sigmoid_neuron"]
    assert "XOR 2-3-1" in out


@pytest.mark.parametrize(("name", "status"), [("seed000", 0), ("seed002", 1), ("seed002_batch", 1),
                                                   ("seed003", 1), ("seed004", 0), ("circuit", 0),
                                                   ("sigmoid_neuron", 0), ("momentum", 0)])
def test_examples_exit_status(capsys: pytest.CaptureFixture[str], name: str, status: int) -> None:
    assert run(capsys, "--example", name)[0] == status


def test_python_dash_m_in_a_subprocess(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "autograd_tiny", "check", str(GOOD)],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and ok.stdout.endswith("All 2 claims ok.\n")
    slip = subprocess.run([sys.executable, "-m", "autograd_tiny", "check", "--example", "seed002"],
                          capture_output=True, text=True, check=False)
    assert slip.returncode == 1 and "First slip: W10+" in slip.stdout
    bad = subprocess.run([sys.executable, "-m", "autograd_tiny", "check", str(DATA / "bad_loss.toml")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert "loss: unknown loss 'log_loss'" in bad.stderr


def test_svg_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    render = pytest.importorskip("autograd_tiny.render")
    if not hasattr(render, "write_svgs"):
        pytest.skip("autograd_tiny.render.write_svgs is not available")
    status, out, err = run(capsys, str(GOOD), "--svg", str(tmp_path / "pics"))
    if status == 2 and "Graphviz" in err:
        pytest.skip(f"no Graphviz layout program: {err.strip()}")
    assert status == 0
    for name in ("graph.svg", "network.svg"):
        path = tmp_path / "pics" / name
        assert f"wrote {path}" in out
        svg = path.read_text()
        assert svg.lstrip().startswith(("<?xml", "<svg")) and "w5" in svg


def test_svg_into_a_file_is_refused_before_checking(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    a_file = tmp_path / "taken.svg"
    a_file.write_text("x")
    status, out, err = run(capsys, str(GOOD), "--svg", str(a_file))
    assert status == 2 and out == ""
    assert err == (f"autograd-tiny: error: --svg {str(a_file)!r} is a file; give a directory "
                   "(it is created if missing)\n")
    assert a_file.read_text() == "x"
