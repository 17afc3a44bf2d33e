"""Rich display in Jupyter: derivations, the checker's verdicts and explanations as HTML / Markdown / LaTeX.

The mime bundles are what IPython's display formatter builds from the ``_repr_*_`` methods, so
these tests see what a notebook stores. Every user string must arrive escaped.
"""

from __future__ import annotations

import html

import pytest

import autograd_tiny as at
from autograd_tiny.derivation import ClaimResult, Quantity, format_text, load_derivation, load_example
from autograd_tiny.derivation.checker import ClaimResults, summary

EVIL = '<img src=x onerror="alert(1)"> & <script>alert(2)</script>'

EVIL_FILE = f"""
title = {EVIL!r}
activation = "sigmoid"
loss = "half_squared_error"
learning_rate = 0.5
layers = [["x1"], ["o1"]]

[inputs]
x1 = 1.0

[targets]
o1 = 0.0

[weights]
w1 = ["x1", "o1", 0.5]

[claims]
out_o1 = 0.6225
"""


def bundle(obj: object) -> dict[str, object]:
    """Return the mime bundle IPython would put in a notebook for ``obj``."""
    formatters = pytest.importorskip("IPython.core.formatters", reason="IPython is not installed")
    data, _ = formatters.DisplayFormatter().format(obj)
    return data


# -- Derivation -----------------------------------------------------------------------------------
def test_derivation_shows_its_network_and_parameters_as_html() -> None:
    d = load_example("seed004")
    page = bundle(d)["text/html"]
    assert isinstance(page, str)
    assert html.escape(d.title) in page
    # seed004.toml: w5 = 0.40 (h1 -> o1), b2 = 0.60 into o1 and o2, learning rate 0.5
    assert "<td" in page and ">w5<" in page and ">0.4<" in page and "h1 → o1" in page
    assert ">b2<" in page and ">0.6<" in page and "bias of o1, o2" in page
    assert "learning rate 0.5" in page and "39 claimed figures" in page
    assert bundle(d)["text/plain"] == repr(d)  # the plain text stays the repr


def test_derivation_html_escapes_the_title() -> None:
    d = load_derivation(EVIL_FILE)
    page = d._repr_html_()
    assert "<img" not in page and "<script" not in page
    assert html.escape(EVIL) in page


# -- the checker's verdicts -----------------------------------------------------------------------
def test_check_results_are_a_list_shown_as_a_table() -> None:
    d = load_example("seed003")
    results = d.check()
    assert isinstance(results, list) and isinstance(results, ClaimResults)
    assert [r.claim for r in results][:3] == ["net_h1", "net_h2", "out_h1"]
    page = bundle(results)["text/html"]
    assert isinstance(page, str)
    assert page.count("<tr>") == len(results) + 1  # header + one row per claim (11 in seed003.toml)
    assert len(results) == 11
    for r in results:
        assert f">{html.escape(r.claim)}<" in page and f">{r.written}<" in page
    # seed003's article writes net_o1 = 0.794609; the engine computes 0.802 (its first slip)
    assert '">wrong</span>' in page and '">ok</span>' in page
    assert html.escape(summary(results)) in page
    assert html.escape(d.title) in page


def test_check_results_plain_text_in_ipython_is_the_text_report() -> None:
    pretty = pytest.importorskip("IPython.lib.pretty", reason="IPython is not installed")
    d = load_example("seed003")
    results = d.check()
    assert pretty.pretty(results) == format_text(results, d.title).rstrip("\n")


def test_check_results_escape_titles_claims_and_hints() -> None:
    d = load_derivation(EVIL_FILE)
    results = d.check()
    (r,) = results
    # sigmoid(0.5 * 1) = 0.622459..., written 0.6225: within one unit of the last digit
    assert r.verdict == "ok"
    forged = ClaimResult(claim="<b>x</b>", written="1.5", computed=0.5, verdict="wrong",
                         hint=EVIL, quantity=Quantity("E", None, 0))
    for page in (results._repr_html_(), ClaimResults([forged], EVIL)._repr_html_(), forged._repr_html_()):
        assert "<img" not in page and "<script" not in page and "<b>" not in page
    page = ClaimResults([forged], "t")._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and html.escape(EVIL) in page


def test_no_claims_shows_the_summary_only() -> None:
    page = ClaimResults([], "")._repr_html_()
    assert "<table" not in page and "No claims to check" in page


# -- explanations ---------------------------------------------------------------------------------
def test_explanation_displays_as_markdown_and_latex() -> None:
    d = load_example("seed004")
    e = d.explanation("w5")
    data = bundle(e)
    assert data["text/markdown"] == d.explain("w5", "markdown")  # nothing to escape in these names
    latex = data["text/latex"]
    assert isinstance(latex, str)
    assert latex.startswith("\\begin{align*}") and latex.rstrip().endswith("\\end{align*}")
    assert latex in d.explain("w5", "latex")
    # the factor dE_o1/dout_o1 = -(0.01 - 0.751365) = 0.741365 (the README's seed004 figures)
    assert "0.741365" in latex and "0.741365" in data["text/markdown"]
    assert e.render() == d.explain("w5")
    assert data["text/plain"] == d.explain("w5").rstrip("\n")  # not the dataclass's long repr


def test_explanation_markdown_holds_no_html_from_labels() -> None:
    w = at.Value(0.5, label='<img src=x onerror="alert(1)">')
    x = at.Value(2.0, label="x<y&z")
    loss = w * x
    loss.label = "E"
    e = at.explain.explain(loss, w)
    md = e._repr_markdown_()
    assert "<" not in md and ">" not in md
    assert r"\lt img" in md  # the name is still there, as maths
    latex = e._repr_latex_()
    assert latex.startswith("\\begin{align*}") and r"\&" in latex  # LaTeX-escaped: x<y\&z


def test_explanation_of_an_unknown_parameter_is_a_usage_error() -> None:
    from autograd_tiny.errors import UsageError

    with pytest.raises(UsageError, match="no weight or bias 'w99'"):
        load_example("seed004").explanation("w99")
