"""Hostile input on the command line: one line on stderr and exit status 2, at once.

Devices, named pipes, huge files, TOML nested past the parser's recursion, path names the OS
refuses, empty paths, control characters in paths, argparse's usage errors and --format json's
stderr. Each test would hang, run out of memory, print a traceback or several lines without
the fix.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_tiny import load_derivation
from autograd_tiny._files import MAX_FILE_BYTES
from autograd_tiny._toml import MAX_TOML_DEPTH
from autograd_tiny.cli import main
from autograd_tiny.derivation.format import parse_toml
from autograd_tiny.errors import UsageError

LONG = "a" * 300  # one path component longer than any file system allows (255 bytes)
ERROR = "autograd-tiny: error: "


def _one_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the command; assert exit status 2, nothing on stdout and one line on stderr; return it."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert (status, out, err.count("\n")) == (2, "", 1), (status, out, err)
    assert err.startswith(ERROR) and "Traceback" not in err
    return err[len(ERROR):-1]


def _in_thread(*argv: str) -> int | None:
    """Run the command in a thread that may block; return its status (None if it still runs)."""
    seen: list[int] = []

    def target() -> None:
        seen.append(main(list(argv)))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(60)
    return seen[0] if seen else None


# -- the derivation file: regular files only, up to a size --------------------------------------------
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_without_reading_it(capsys: pytest.CaptureFixture[str], device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    assert _one_line(capsys, "check", device) == (
        f"{device}: is a device, not a derivation file; give the path of a derivation file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    status = _in_thread("check", str(fifo))  # before: open() waits for a writer, for ever
    if status is None:  # unblock the reader so that the thread ends, then fail
        with open(fifo, "w"):
            pass
    assert status == 2
    err = capsys.readouterr().err
    assert err == (f"{ERROR}{fifo}: is a named pipe (FIFO), not a derivation file; give the path of a "
                   "derivation file\n")


def test_a_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _one_line(capsys, "check", str(tmp_path)) == (
        f"{tmp_path}: is a directory, not a derivation file; give the path of a derivation file")


def test_a_file_over_the_limit_is_refused_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.toml"
    with open(big, "wb") as f:  # a sparse file: its size without writing 10 MB
        f.truncate(MAX_FILE_BYTES + 1)
    assert _one_line(capsys, "check", str(big)) == (
        f"{big}: the file is larger than 10,000,000 bytes (10,000,001 bytes); a derivation file is "
        "a few kilobytes of TOML")


@pytest.mark.parametrize(("text", "what"), [
    ("x = " + "[" * 600 + "]" * 600 + "\n", "arrays or inline tables nested more than 32 deep; a "
                                            "derivation file needs 2 or 3 levels"),
    ("x = " + "{a = " * 450 + "1" + "}" * 450 + "\n", "arrays or inline tables nested more than 32 "
                                                      "deep; a derivation file needs 2 or 3 levels"),
    ("# a comment\n" + "x." * 20_000 + "y = 1\n", "a dotted key of more than 32 parts; a derivation "
                                                   "file's keys have 1 or 2"),
])
def test_toml_nested_too_deep_is_refused_before_parsing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        text: str, what: str) -> None:
    # before: RecursionError from tomllib and exit 1, or minutes of parsing a 40 KB key
    path = tmp_path / "deep.toml"
    path.write_text(text)
    line = "2" if text.startswith("#") else "1"
    assert _one_line(capsys, "check", str(path)) == f"{path}: line {line}: {what}"


def test_a_submission_nested_too_deep_is_refused() -> None:
    # before: RecursionError from tomllib (a submission was read without the nesting scan)
    from autograd_tiny.submission import read_claims

    with pytest.raises(UsageError, match=r"^s\.toml: line 2: arrays or inline tables nested more than 32 "
                                         r"deep; a submission needs 2 or 3 levels$"):
        read_claims("[claims]\nx = " + "[" * 5000 + "]" * 5000 + "\n", "s.toml")


def test_nesting_inside_strings_and_comments_is_not_counted() -> None:
    deep = "[" * (MAX_TOML_DEPTH + 5)
    text = (f'title = "{deep}"\n# {deep}\nx = """\n{deep}"""\nactivation = \'{deep}\'\n'
            + "y = " + "[" * MAX_TOML_DEPTH + "]" * MAX_TOML_DEPTH + "\n")
    doc = parse_toml(text, "<text>")  # the nesting scan lets it through: 32 levels are allowed
    assert (doc["title"], doc["x"], doc["activation"]) == (deep, deep, deep)


def test_a_refused_path_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert _one_line(capsys, "check", str(tmp_path / LONG)) == (
        f"{tmp_path / LONG}: cannot read it: File name too long")
    assert _one_line(capsys, "explain", str(tmp_path / LONG), "w1").endswith(": File name too long")
    assert _one_line(capsys, "train", str(tmp_path / LONG), "--steps", "1").endswith(": File name too long")
    assert _one_line(capsys, "explain", "", "w1") == (
        "the derivation FILE is an empty string; give a file's path")


# -- output paths: checked before the work, every OS error one line ------------------------------------
@pytest.mark.parametrize("argv", [
    ["demo", "--out"], ["demo", "--html"], ["check", "--example", "seed003", "--svg"],
    ["check", "--example", "seed003", "--html"], ["worksheet", "--layers", "2,1", "--out"],
    ["train", "--example", "seed003", "--steps", "1", "--plot"],
])
def test_an_output_path_the_os_refuses_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   argv: list[str]) -> None:
    option = argv[-1]
    path = str(tmp_path / LONG / "x.svg")  # before: OSError (File name too long), exit 1
    assert _one_line(capsys, *argv, path) == f"{option} {path!r}: File name too long"
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("argv", "message"), [
    (["demo", "--out"], "--out needs a directory name, got an empty string"),
    (["check", "--example", "seed003", "--svg"], "--svg needs a directory name, got an empty string"),
    (["worksheet", "--layers", "2,1", "--out"], "--out needs a directory name, got an empty string"),
    (["check", "--example", "seed003", "--html"],
     "--html needs the name of the .html file to write, got an empty string"),
    (["train", "--example", "seed003", "--steps", "1", "--plot"],
     "--plot needs the name of the file to draw into, got an empty string"),
])
def test_an_empty_output_path_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str], argv: list[str],
                                         message: str) -> None:
    monkeypatch.chdir(tmp_path)  # before: the files went into the current folder, silently
    assert _one_line(capsys, *argv, "") == message
    assert list(tmp_path.iterdir()) == []


def _has_dot() -> bool:
    from autograd_tiny.render import GraphvizNotFoundError, find_program

    try:
        find_program("dot")
    except GraphvizNotFoundError:
        return False
    return True


def test_wrote_lines_show_control_characters_escaped(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    if not _has_dot():
        pytest.skip("Graphviz is not installed")
    folder = tmp_path / "a\x1b[31mred\nx"
    assert main(["check", "--example", "seed000", "--svg", str(folder)]) == 0
    out = capsys.readouterr().out
    shown = str(tmp_path) + "/a\\x1b[31mred\\nx"
    assert out.splitlines()[-2:] == [f"wrote {shown}/graph.svg", f"wrote {shown}/network.svg"]


def test_json_keeps_stderr_to_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not _has_dot():
        pytest.skip("Graphviz is not installed")
    svg, page = tmp_path / "svg", tmp_path / "p.html"
    assert main(["check", "--example", "seed000", "--format", "json", "--svg", str(svg),
                 "--html", str(page)]) == 0
    err = capsys.readouterr().err
    assert err == f"wrote {svg / 'graph.svg'}, {svg / 'network.svg'}, {page}\n"
    # a failure after the SVGs were written: one line, the error and what was written
    def refuse(*args: object, **kwargs: object) -> Path:
        raise UsageError(f"--html {str(page)!r}: cannot write the page: Permission denied")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("autograd_tiny.commands.check.write_html", refuse)
        assert main(["check", "--example", "seed000", "--format", "json", "--svg", str(svg),
                     "--html", str(page)]) == 2
    out, err = capsys.readouterr()
    assert err == (f"{ERROR}--html {str(page)!r}: cannot write the page: Permission denied "
                   f"(wrote {svg / 'graph.svg'}, {svg / 'network.svg'})\n")


# -- argparse: one line, exit 2 ----------------------------------------------------------------------
@pytest.mark.parametrize(("argv", "line"), [
    (["--bogus"], "autograd-tiny: error: unrecognized arguments: --bogus (autograd-tiny --help shows "
                  "the usage)"),
    (["check", "--format", "xml"], "autograd-tiny check: error: argument --format: invalid choice: "
                                   "'xml' (choose from 'text', 'json') (autograd-tiny check --help "
                                   "shows the usage)"),
    (["worksheet"], "autograd-tiny worksheet: error: the following arguments are required: --layers "
                    "(autograd-tiny worksheet --help shows the usage)"),
    (["check", "--bogus\x1b[2J\nx"], "autograd-tiny: error: unrecognized arguments: --bogus\\x1b[2J\\nx "
                                     "(autograd-tiny --help shows the usage)"),
])
def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], line: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert capsys.readouterr() == ("", line + "\n")  # before: the usage line, then the error


# -- a bounded fuzz: random file names and contents never give more than one line -----------------------
_NAME = st.text(st.characters(codec="utf-8", exclude_characters="\x00/"), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(name=_NAME, body=st.binary(max_size=200))
def test_fuzzed_file_names_and_bytes_give_a_verdict_or_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                                name: str, body: bytes) -> None:
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / name
    with contextlib.suppress(OSError, UnicodeEncodeError):
        path.write_bytes(body)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["check", str(path)])
    assert status in (0, 1, 2)
    if status == 2:
        assert err.getvalue().count("\n") == 1 and err.getvalue().startswith(ERROR)
        assert err.getvalue()[:-1].isprintable()


# -- deep structures: printed in a loop, or refused with a message that says what is too deep ---------
def _chain_network(layers: int) -> str:
    """Return a derivation file of ``layers`` sigmoid layers of one neuron each."""
    names = [f'["n{i}"]' for i in range(layers + 1)]
    lines = ['activation = "sigmoid"', 'loss = "half_squared_error"', "learning_rate = 0.5",
             f"layers = [{', '.join(names)}]", "[inputs]", "n0 = 0.5", "[targets]", f"n{layers} = 0.5",
             "[weights]"]
    lines += [f'w{i + 1} = ["n{i}", "n{i + 1}", 0.5]' for i in range(layers)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex"])
def test_explain_a_175_layer_network_prints_the_product_of_351_factors(fmt: str) -> None:
    from autograd_tiny import explain_gradient, load_derivation
    from autograd_tiny.formula import format_number

    derivation = load_derivation(_chain_network(175))  # before: RecursionError in the printer
    loss = derivation.loss()
    text = explain_gradient(loss, "w1", fmt=fmt)
    loss.backward()
    if fmt == "text":
        product = next(line for line in text.splitlines() if line.lstrip().startswith("product"))
        # dE/dout_n175, dout/dnet of 175 layers, dnet/dout of 174, dnet_n1/dw1
        assert product.count(" * ") == 350
        assert product.endswith(f" = {format_number(derivation.parameters['w1'].grad)}")
    assert text.count("cdot") == (350 if fmt != "text" else 0)


def test_a_product_of_10000_numbers_prints_without_recursion() -> None:
    from autograd_tiny import formula as fm

    node = fm.product(fm.Num(float(k)) for k in range(2, 10_002))
    assert fm.render(node) == " * ".join(str(k) for k in range(2, 10_002))
    total = fm.total(fm.Sym(f"a{k}") for k in range(10_000))
    assert fm.render(total, "latex").count(" + ") == 9_999


def test_a_formula_nested_too_deep_says_so() -> None:
    from autograd_tiny import formula as fm

    node: fm.Node = fm.Sym("x")
    for _ in range(5_000):
        node = fm.Call("exp", node)
    with pytest.raises(fm.FormulaTooDeepError, match=r"^the formula nests too deep to print \(sums and "
                                                     r"products of any length print, but not hundreds "
                                                     r"of nested calls, powers or parentheses\); name "
                                                     r"intermediate quantities$"):
        fm.render(node)
    with pytest.raises(ValueError, match="^the formula nests too deep to simplify; name intermediate"):
        fm.simplify(node)


def test_explain_x_times_x_350_times_in_both_forms(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "power.toml"
    path.write_text('output = "f"\n[values]\nx = 1.001\n[define]\nf = "' + "*".join(["x"] * 350) + '"\n')
    slope = 350 * 1.001 ** 349
    for form in ("delta", "path"):  # before: RecursionError (delta), "too deep to write out" (path)
        assert main(["explain", str(path), "x", "--form", form]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[-1] == f"  check: reverse mode (backward) gives {slope:.6g}, the same"
        if form == "delta":  # the 350 routes from f to x, each the product of the other 349 factors
            assert lines[-2] == "df/dx = " + " + ".join(["x^349"] * 350) + f" = {slope:.6g}"


def test_explain_through_hundreds_of_unlabelled_calls_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from autograd_tiny import Value, explain_gradient

    x = Value(0.3, "x")
    f = x
    for _ in range(1_500):  # a formula of 1,501 terms, nested 1,500 deep
        f = f.sin()
    f.label = "f"
    for form in ("path", "delta"):
        with pytest.raises(ValueError, match=r"^the graph between f and x is too deep to write out; label "
                                             r"intermediate quantities so that each factor stays short$"):
            explain_gradient(f, x, form=form)


def test_size_and_product_walk_a_chain_of_any_depth() -> None:
    from autograd_tiny import formula as fm

    chain: fm.Node = fm.Sym("x")
    for k in range(5_000):
        chain = fm.BinOp("*", fm.Num(float(k)), chain)  # nested to the right: a * (b * (c * x))
    assert fm.size(chain) == 10_001
    # product() lists the factors left to right (and drops the factor 1); before: RecursionError
    expected = [str(k) for k in range(4_999, -1, -1) if k != 1] + ["x"]
    assert fm.render(fm.product([chain])) == " * ".join(expected)


# -- the worksheet search: a time budget, a progress bar, one line when it gives up ---------------------
class _Ticks:
    """A clock that moves one second each time it is read: the budget runs out after a known
    number of checks, however fast the machine is."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_the_worksheet_search_gives_up_when_its_budget_is_spent(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from autograd_tiny.commands import worksheet

    monkeypatch.setattr(worksheet, "_clock", _Ticks())
    # before: 200 seeds of minutes each (5 min 25 s on a fast machine), then exit 2
    assert _one_line(capsys, "worksheet", "--layers", "6,6,6,6,6", "--budget", "3") == (
        "gave up after 3 s (no seed tried, seed 0 unfinished): no numbers found yet for a 6-6-6-6-6 "
        "network for which every slip gives a different figure; allow more time with --budget SECONDS, "
        "or try another --seed or a smaller network")


def test_a_budget_that_is_not_spent_changes_nothing() -> None:
    from autograd_tiny.commands.worksheet import SearchBudget, worksheet

    frozen = SearchBudget(1.0, clock=lambda: 0.0)  # time never passes
    assert worksheet([2, 2, 1], budget=frozen) == worksheet([2, 2, 1])


def test_the_worksheet_search_shows_a_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    from autograd_tiny.commands.worksheet import SearchBudget, choose

    budget = SearchBudget(2.5, progress=True, clock=_Ticks())
    with pytest.raises(UsageError, match=r"^gave up after 2.5 s \(no seed tried, seed 0 unfinished\)"):
        choose([2, 6, 6], "sigmoid", "half_squared_error", 0.5, 0, budget)
    err = capsys.readouterr().err
    assert "worksheet: searching numbers:   0%" in err and "s left" in err


@pytest.mark.parametrize("budget", ["0", "-1", "nan", "inf", "3601", "soon"])
def test_the_budget_must_be_a_number_of_seconds(capsys: pytest.CaptureFixture[str], budget: str) -> None:
    assert _one_line(capsys, "worksheet", "--layers", "2,2", "--budget", budget) == (
        f"--budget must be a number of seconds above 0 and at most 3600, got {budget!r}")


# -- the output's reader goes away, or there is no stdout ---------------------------------------------
def _command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "autograd_tiny", *argv]


def _environment() -> dict[str, str]:
    root = str(Path(__file__).resolve().parent.parent)
    return {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGPIPE and 141 are POSIX conventions")
def test_a_reader_that_goes_away_stops_the_command_quietly() -> None:
    import subprocess

    # the pipe's reading end is closed before the command writes: its first write fails
    process = subprocess.Popen(_command("demo"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=_environment())
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read()
    assert (process.wait(60), err) == (141, b"")  # before: a BrokenPipeError traceback, exit 1


@pytest.mark.skipif(sys.platform == "win32", reason="closing a standard stream is a POSIX shell idiom")
def test_a_closed_stdout_is_one_line() -> None:
    import subprocess

    done = subprocess.run(" ".join(_command("check", "--example", "seed000")) + " >&-", shell=True,
                          capture_output=True, env=_environment(), timeout=60)
    assert (done.returncode, done.stderr) == (2, b"autograd-tiny: error: standard output is closed; "
                                                 b"redirect it to a file or /dev/null instead\n")


# -- bounded fuzzing: TOML made of brackets and quotes, and command lines made of hostile words ----------
_TOML_PIECES = st.sampled_from(["[", "]", "{", "}", "[[", "]]", '"', "'", '"""', "'''", "#", "\n", " = ",
                                "a", "b.c", ".", ",", "1", "1.5", "=", "\\", "x = ", "[" * 40, "a." * 40])


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(_TOML_PIECES, max_size=80))
def test_fuzzed_toml_is_a_derivation_or_one_usage_error(pieces: list[str]) -> None:
    text = "x = 1\n" + "".join(pieces)
    try:
        load_derivation(text)
    except UsageError as exc:  # never RecursionError, nor a crash inside the parser
        assert "\n" not in str(exc).replace("\\n", "")


_WORDS = st.sampled_from([
    "check", "explain", "train", "worksheet", "--example", "seed000", "seed003", "--format", "json",
    "text", "--svg", "--html", "--out", "--plot", "--steps", "1", "2", "--every", "--layers", "2,1",
    "1,1", "--budget", "0.5", "--digits", "--decimals", "--form", "delta", "w1", "net_o1", "--seed",
    "", "-", "--", "/dev/zero", "/dev/null", LONG, "a\nb", "\x1b[2J", "x" * 5000, "--list-examples",
    "--bogus", "nan", "-1", "1e309",
])


@settings(max_examples=120, deadline=None)
@given(argv=st.lists(_WORDS, min_size=1, max_size=7))
def test_fuzzed_command_lines_give_a_result_or_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                        argv: list[str]) -> None:
    import contextlib
    import io

    if "--svg" in argv or "--html" in argv or "--plot" in argv:  # those need Graphviz or matplotlib
        return
    out, err = io.StringIO(), io.StringIO()
    folder = tmp_path_factory.mktemp("cli")
    cwd = os.getcwd()
    os.chdir(folder)  # whatever a command writes goes here
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exc:  # argparse: --help, --version, usage errors
                status = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(cwd)
    assert status in (0, 1, 2), (argv, status)
    if status == 2:
        assert err.getvalue().count("\n") == 1, (argv, err.getvalue())
        assert err.getvalue()[:-1].isprintable()


def test_an_output_path_with_control_characters_is_shown_escaped_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "x"
    a_file.write_text("")
    path = str(a_file / "a\x1b[2J\nb")  # its parent is a file
    assert _one_line(capsys, "demo", "--out", path) == (
        f"--out '{tmp_path}/x/a\\x1b[2J\\nb': Not a directory")


def test_explain_walks_a_1000_layer_network_without_recursion() -> None:
    from autograd_tiny import explain_gradient, load_derivation

    derivation = load_derivation(_chain_network(1000))  # before: "too deep to write out"
    text = explain_gradient(derivation.loss(), "w1")
    path = next(line for line in text.splitlines() if line.startswith("Path 1: "))
    assert path.count(" -> ") == 2001  # E, out and net of 1000 neurons, w1
    product = next(line for line in text.splitlines() if line.lstrip().startswith("product"))
    assert product.count(" * ") == 2000


# -- numbers of any type enter the graph as plain floats (or a micrograd int exponent) --------------------
class _Float(float):
    def __repr__(self) -> str:  # what compile() would have written into its program
        raise AssertionError("a float subclass's repr ran")


def _any_number() -> st.SearchStrategy[object]:
    from fractions import Fraction

    np = pytest.importorskip("numpy")
    small = st.floats(-3.0, 3.0, allow_nan=False)
    return st.one_of(small, st.integers(-3, 3), small.map(np.float64), st.integers(-3, 3).map(np.int64),
                     small.map(np.float32), st.fractions(-3, 3, max_denominator=8).map(Fraction),
                     small.map(_Float))


@settings(max_examples=150, deadline=None)
@given(base=st.floats(0.5, 2.0), exponent=_any_number(), factor=_any_number())
def test_fuzzed_number_types_compile_to_the_eager_numbers(base: float, exponent: object,
                                                          factor: object) -> None:
    from autograd_tiny import compile
    from autograd_tiny.micrograd import Value as MicrogradValue

    x = MicrogradValue(base, label="x")
    y = (x ** exponent) * factor + factor  # type: ignore[operator]
    compiled = compile(y)
    assert compiled() == y.data or (math.isnan(compiled()) and math.isnan(y.data))
    for node in (y, *y._prev):
        assert type(node.data) in (float, int) and type(node._arg) in (float, int, type(None))
