"""``autograd-tiny grade``: a class of 40 submissions checked against a worksheet's answer key.

The class: correct files in the three forms a submission may take (plain lines, a [claims]
table, the whole derivation file), one file per misconception (each figure worked
out here from the key's true numbers: the slipped one only, every other figure right), a
file that is not text, one with a line that is not a figure, and one for another network.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from autograd_tiny import load_derivation
from autograd_tiny.cli import main
from autograd_tiny.commands.worksheet import worksheet
from autograd_tiny.derivation import example_text
from autograd_tiny.errors import UsageError
from autograd_tiny.grading import (
    CSV_COLUMNS,
    UNEXPLAINED,
    csv_cell,
    grade_folder,
    grade_text,
    histogram,
    load_key,
    misconception,
)
from autograd_tiny.html.report import grade_report
from autograd_tiny.submission import Figure, parse_plain, read_claims, with_claims


def _fmt(v: float) -> str:
    return f"{v:.9e}"  # ten significant digits, trailing zeros kept: the slip is told from a rounding


@pytest.fixture(scope="module")
def key_text() -> str:
    return worksheet([2, 2, 2], "sigmoid", "half_squared_error", 0.5, 0)[1]


@pytest.fixture(scope="module")
def truth(key_text: str) -> dict[str, float]:
    return load_derivation(key_text).quantities()


def _slips(q: dict[str, float], spec: Any) -> dict[str, tuple[str, float, str]]:
    """Return student -> (claim, slipped number, misconception) for one slip of each kind."""
    w5, lr = spec.weights["w5"].value, spec.learning_rate
    return {
        "slip-sign": ("dE/dw5", -q["dE/dw5"], "the sign flipped"),
        "slip-half": ("E", 2 * q["E"], "a factor 1/2 missing"),
        "slip-two": ("dE/dout_o1", q["dE/dout_o1"] / 2, "a factor 2 missing"),
        "slip-left-out": ("w5+", w5, "the update left out"),
        "slip-plus": ("w5+", w5 + lr * q["dE/dw5"], "the sign flipped"),
        "slip-input-factor": ("dE/dw5", q["dE/dnet_o1"], "leaves the other factor out"),
        "slip-net-for-out": ("dE/dw5", q["dE/dnet_o1"] * q["net_h1"], "a net input used for the output"),
        "slip-one-term": ("E", q["E_o1"], "a term left out of a sum"),
        "slip-no-derivative": ("dE/dnet_o1", q["dE/dout_o1"],
                               "leaves sigmoid's derivative out (takes it as 1)"),
        "slip-shared-bias": ("dE/db2", q["dE/dnet_o1"], "a path of the backward pass forgotten"),
        "slip-derivative-at-net": ("dE/dnet_o1", q["dE/dout_o1"] * q["net_o1"] * (1 - q["net_o1"]),
                                   "evaluates sigmoid' at the input instead of the output"),
        "slip-other-rate": ("w5+", w5 - 2 * lr * q["dE/dw5"], "the update made with another learning rate"),
    }


def _claims_lines(key_text: str, replace: dict[str, float] | None = None) -> list[str]:
    body = key_text.split("[claims]\n", 1)[1]
    lines = []
    for line in body.splitlines():
        name, number = (part.strip() for part in line.split("=", 1))
        name = name.strip('"')
        if replace and name in replace:
            number = _fmt(replace[name])
        lines.append(f"{name} = {number}")
    return lines


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory, key_text: str, truth: dict[str, float]) -> Path:
    """Write the key and a folder of 40 submissions; return the folder (the key is ../key.toml)."""
    root = tmp_path_factory.mktemp("class")
    (root / "key.toml").write_text(key_text)
    subs = root / "subs"
    subs.mkdir()
    spec = load_derivation(key_text).spec
    plain = _claims_lines(key_text)
    for i in range(1, 12):  # plain text, as typed
        (subs / f"plain{i:02d}.txt").write_text("# my figures\n" + "\n".join(plain) + "\n")
    for i in range(1, 11):  # a [claims] table, with the student's name
        table = "\n".join(f'"{n}" = {v}' for n, v in (ln.split(" = ") for ln in plain))
        (subs / f"table{i:02d}.toml").write_text(f'student = "Student {i}"\n[claims]\n{table}\n')
    for i in range(1, 5):  # the whole worksheet, filled in
        (subs / f"whole{i}.toml").write_text(key_text)
    for student, (claim, value, _) in _slips(truth, spec).items():
        (subs / f"{student}.txt").write_text("\n".join(_claims_lines(key_text, {claim: value})) + "\n")
    (subs / "broken.txt").write_text("net_h1 = -0.3493\nI could not do the rest\n")
    (subs / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    (subs / "other-network.toml").write_text(example_text("seed003"))
    (subs / ".hidden").write_text("not a submission")
    assert len([p for p in subs.iterdir() if not p.name.startswith(".")]) == 40
    return subs


@pytest.fixture(scope="module")
def graded(klass: Path) -> tuple[int, str, Path, Path]:
    """Run ``autograd-tiny grade`` on the class; return its status, what it printed, the CSV and the HTML."""
    out_csv, out_html = klass.parent / "grades.csv", klass.parent / "report.html"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["grade", str(klass.parent / "key.toml"), str(klass), "--csv", str(out_csv),
                       "--html", str(out_html)])
    return status, printed.getvalue(), out_csv, out_html


def test_grade_a_class_of_forty(graded: tuple[int, str, Path, Path], key_text: str,
                                truth: dict[str, float]) -> None:
    status, printed, out_csv, out_html = graded
    assert status == 1  # three files could not be graded
    assert printed.count("\n") == 42  # 40 students, then the two files written
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 40
    by_file = {r["file"]: r for r in rows}
    correct = [r for name, r in by_file.items() if re.match(r"(plain|table|whole)", name)]
    assert len(correct) == 25
    for r in correct:
        assert (r["graded"], r["claims"], r["ok"], r["follows"], r["wrong"], r["missing"]) == \
            ("yes", "39", "39", "0", "0", "0")
        assert r["first_slip"] == r["hint"] == r["reason"] == ""
    assert by_file["table07.toml"]["student"] == "Student 7"
    assert by_file["plain03.txt"]["student"] == "plain03"
    spec = load_derivation(key_text).spec
    for student, (claim, value, kind) in _slips(truth, spec).items():
        r = by_file[f"{student}.txt"]
        assert (r["graded"], r["claims"], r["ok"], r["wrong"]) == ("yes", "39", "38", "1"), student
        assert r["first_slip"] == claim and float(r["written"]) == pytest.approx(value, rel=1e-9)
        assert float(r["computed"]) == pytest.approx(truth[claim], rel=1e-9)
        assert r["misconception"] == kind, (student, r["hint"])
        assert r["hint"]
    for name, reason in [("broken.txt", "broken.txt: line 2: expected NAME = NUMBER"),
                         ("photo.jpg", "photo.jpg: not UTF-8 text (byte 0)"),
                         ("other-network.toml", "other-network.toml: a file for another network")]:
        r = by_file[name]
        assert r["graded"] == "no" and r["reason"].startswith(reason) and r["claims"] == ""
    assert ".hidden" not in by_file
    report = out_html.read_text()
    assert report.count('<rect class="bar"') == 11  # twelve slips, two of them the sign flipped
    assert 'data-count="2"' in report and "the sign flipped" in report


def test_report_renders_in_chromium(graded: tuple[int, str, Path, Path], chromium: Any) -> None:
    report = graded[3]
    chromium.get(report.as_uri())
    bars = chromium.find_elements("css selector", "#histogram rect.bar")
    assert len(bars) == 11
    widths = [float(b.get_attribute("width")) for b in bars]
    assert widths[0] == 380 and widths[1] == 190  # 2 students, then 1: half as long
    assert bars[0].size["width"] == pytest.approx(380, abs=1)  # laid out, not only in the source
    assert len(chromium.find_elements("css selector", "section")) == 40
    assert not chromium.find_elements("css selector", "script")


def test_plain_text_form() -> None:
    figures = parse_plain("# Anna\n\n dE/dw5 = .0822  # from the table\n'w1+' = 5.\nnet_h1 = \u22120.5\n")
    assert figures == [Figure("dE/dw5", "0.0822"), Figure("w1+", "5"), Figure("net_h1", "-0.5")]
    with pytest.raises(UsageError, match=r"a\.txt: line 2: dE/dw5 is given twice \(first on line 1\)"):
        parse_plain("dE/dw5 = 1\ndE/dw5 = 2\n", "a.txt")
    with pytest.raises(UsageError, match=r"line 1: expected NAME = NUMBER .* got '0,5'"):
        parse_plain("0,5\n")
    with pytest.raises(UsageError, match=r"line 1: expected NAME = NUMBER"):
        parse_plain("E = 1,5\n")


def test_a_claim_the_key_does_not_have_is_a_row(key_text: str) -> None:
    with pytest.raises(UsageError, match=r"s\.txt: claims\.\"dE/dw9\": .*w9"):
        with_claims(key_text, [Figure("dE/dw9", "0.5")], "s.txt")
    key = load_key_from_text(key_text)
    grade = grade_text(key, "dE/dw9 = 0.5\n", "s.txt")
    assert not grade.graded and "dE/dw9" in grade.reason
    grade = grade_text(key, "E = 0.07844\n", "t.txt")
    assert grade.graded and grade.count("ok") == 1 and len(grade.missing) == 38


def test_figures_keep_their_digits(key_text: str, truth: dict[str, float]) -> None:
    # 0.0784 is E rounded to its 3 significant digits: ok; 0.078 is two units off at its digit
    d = with_claims(key_text, [Figure("E", "0.0784"), Figure("net_h1", "-0.35")], "x")
    assert [r.verdict for r in d.check()] == ["ok", "ok"]
    d = with_claims(key_text, [Figure("E", "0.0787")], "x")
    assert [r.verdict for r in d.check()] == ["wrong"]
    with pytest.raises(UsageError, match="is not a number"):
        with_claims(key_text, [Figure("E", "1\nlayers = 3")], "x")


def load_key_from_text(key_text: str) -> Any:
    import tempfile

    folder = Path(tempfile.mkdtemp())
    (folder / "key.toml").write_text(key_text)
    return load_key(folder / "key.toml")


def test_a_key_with_a_slip_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "subs").mkdir()
    (tmp_path / "key.toml").write_text(example_text("seed003"))  # the article's slips
    assert main(["grade", str(tmp_path / "key.toml"), str(tmp_path / "subs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the key's answer net_o1 = 0.794609 is not what its network gives (0.84468077)" in err
    (tmp_path / "nokey.toml").write_text(example_text("seed003").split("[claims]")[0])
    assert main(["grade", str(tmp_path / "nokey.toml"), str(tmp_path / "subs")]) == 2
    assert "the key has no [claims]" in capsys.readouterr().err
    assert main(["grade", str(tmp_path / "key.toml"), str(tmp_path / "missing")]) == 2


def test_whole_file_for_the_keys_network_compares_numbers_by_value(key_text: str) -> None:
    same = key_text.replace("learning_rate = 0.5", "learning_rate = 0.50")
    assert read_claims(same, "s", key_text).form == "derivation"
    other = key_text.replace("learning_rate = 0.5", "learning_rate = 0.25")
    with pytest.raises(UsageError, match=r"another network than the key's \(it differs in learning_rate\)"):
        read_claims(other, "s", key_text)


def test_csv_cells_cannot_be_formulas() -> None:
    assert csv_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert [csv_cell(t) for t in ("+1+2", "@SUM(A1)", "-1-1", "\tx")] == ["'+1+2", "'@SUM(A1)", "'-1-1",
                                                                         "\\tx"]
    assert csv_cell("-0.0822") == "-0.0822" and csv_cell("a\nb") == "a\\nb"


def test_report_escapes_what_students_write(key_text: str) -> None:
    key = load_key_from_text(key_text)
    grades = [grade_text(key, 'student = "<script>alert(1)</script>"\n[claims]\nE = 0.1\n', "<b>.toml"),
              grade_text(key, "<img src=x onerror=alert(1)> = 1\n", "x.txt")]
    page = grade_report(grades, "<key>")
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;key&gt;" in page


def test_misconception_names() -> None:
    assert misconception(None) == UNEXPLAINED
    # The name comes with the checker's verdict, from the rule that made the hint.
    d = load_derivation(example_text("seed004").split("[claims]")[0] + '[claims]\n"dE/dw5" = 0.052283207\n')
    (r,) = d.check()  # dE/dnet_o1 * net_h1 = 0.138498562 * 0.3775: net_h1 read for out_h1
    assert r.hint is not None and r.hint.startswith("reads net_h1, the input of out_h1")
    assert misconception(r) == "a net input used for the output"
    r.misconception = None  # a hint without a name: its words, numbers aside
    r.hint = "something new 0.25 and 3"
    assert misconception(r) == "something new # and #"
    assert histogram([]) == []


@pytest.mark.parametrize("name", ["seed000", "seed002", "seed002_batch", "seed003", "seed004"])
def test_the_key_written_again_checks_as_the_file_does(name: str) -> None:
    # The key's document without its claims, written out again with the same claims, gives the
    # same verdicts and hints: batches, shared biases and the written digits survive.
    from autograd_tiny.derivation import load_example

    original = load_example(name)
    figures = [Figure(c.name, c.written) for c in original.spec.claims]
    again = with_claims(example_text(name), figures, name)
    assert [r.to_dict() for r in again.check()] == [r.to_dict() for r in original.check()]


def test_progress_bar_on_request(klass: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = load_key(klass.parent / "key.toml")
    grades = grade_folder(key, klass, progress=True)
    err = capsys.readouterr().err
    assert len(grades) == 40 and "grading:   0%" in err and "0/40" in err  # the bar starts at 0 of 40


def test_a_toml_file_of_top_level_figures(key_text: str) -> None:
    sub = read_claims('student = "Anna"\nE = 0.07844\n"dE/dw5" = 0.01511\n', "a.toml", key_text)
    assert (sub.form, sub.student) == ("claims", "Anna")
    assert sub.figures == [Figure("E", "0.07844"), Figure("dE/dw5", "0.01511")]
    key = load_key_from_text(key_text)
    grade = grade_text(key, 'student = "Anna"\nE = 0.07844\n"dE/dw5" = 0.01511\n', "a.toml")
    assert grade.student == "Anna" and grade.count("ok") == 2


def test_a_fault_of_the_checker_is_a_row(key_text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import autograd_tiny.grading as grading

    def broken(*args: object, **kwargs: object) -> object:
        raise KeyError("w5")

    key = load_key_from_text(key_text)
    monkeypatch.setattr(grading, "with_claims", broken)
    grade = grade_text(key, "E = 0.07844\n", "a.txt")
    assert grade.reason == ("a.txt: the checker failed on this file (KeyError: 'w5'); check it alone "
                            "with autograd-tiny check and report the problem")
