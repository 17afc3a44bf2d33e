"""Rich display in Jupyter: the HTML, Markdown and LaTeX that notebooks show for our objects.

IPython shows an object through its ``_repr_html_``, ``_repr_markdown_`` or ``_repr_latex_``
method when it has one. :class:`~autograd_tiny.derivation.Derivation`, the checker's results
(:class:`~autograd_tiny.derivation.checker.ClaimResults`, one
:class:`~autograd_tiny.derivation.checker.ClaimResult`) and chain-rule explanations
(:class:`~autograd_tiny.explain.Explanation`) have one-line methods that call the generic
functions of :mod:`autograd_tiny._display_hooks`; this module registers the functions here
for those classes (the classes never import it: presentation registers itself from above).

Every string that comes from a user (a title, a file name, a name, a written number, a hint
that quotes them) is escaped where it is put in: :func:`html.escape` for HTML, and for the
Markdown and LaTeX of explanations the LaTeX escaping of :mod:`autograd_tiny.formula`; the
Markdown then contains no ``<`` at all (it is written ``\\lt`` inside the maths), so no HTML
tag can be made from a name.
"""

from __future__ import annotations

from html import escape

from . import _display_hooks as hooks
from .derivation.checker import ClaimResult, ClaimResults
from .derivation.core import Derivation
from .explain import Explanation

#: Colours of the checker's verdicts (text colour; the verdict word is always written too).
VERDICT_COLOURS = {"ok": "#1a7f37", "follows": "#9a6700", "wrong": "#cf222e"}

_TABLE = 'style="border-collapse: collapse; font-variant-numeric: tabular-nums"'
_CELL = 'style="text-align: left; padding: 2px 10px 2px 0; vertical-align: top"'


def _row(cells: list[str], header: bool = False) -> str:
    """Return one table row; ``cells`` are HTML already escaped."""
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag} {_CELL}>{c}</{tag}>" for c in cells) + "</tr>"


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Return an HTML table; ``header`` and ``rows`` are HTML already escaped."""
    body = "".join(_row(r) for r in rows)
    return f"<table {_TABLE}><thead>{_row(header, header=True)}</thead><tbody>{body}</tbody></table>"


def _number(value: float) -> str:
    return escape(f"{value:.10g}")


def derivation_html(d: Derivation) -> str:
    """Return the HTML of a derivation: its title, network, inputs and targets, parameters, claims.

    Every name, number and the title are escaped with :func:`html.escape`.
    """
    spec = d.spec
    title = d.title or spec.source
    layers = [", ".join(d.layers[0])]
    layers += [f"{', '.join(layer)} ({act})" for layer, act in zip(d.layers[1:], d.activations)]
    shape = "-".join(str(len(layer)) for layer in d.layers)
    facts = [
        f"network {shape}: {' → '.join(layers)}",
        f"loss {d.loss_name}, learning rate {d.learning_rate:.10g}, "
        + ("biases trained" if d.update_biases else "biases kept fixed"),
        "inputs " + ", ".join(f"{n} = {x.data:.10g}" for n, x in d.inputs.items()),
        "targets " + ", ".join(f"{n} = {t:.10g}" for n, t in d.targets.items()),
    ]
    rows = [[escape(name), _number(w.value), escape(f"{w.source} → {w.target}")]
            for name, w in spec.weights.items()]
    rows += [[escape(name), _number(b.value), escape("bias of " + ", ".join(b.neurons))]
             for name, b in spec.biases.items()]
    n = len(spec.claims)
    claims = (f"{n} claimed figure{'s' if n != 1 else ''}: <code>.check()</code> judges them"
              if n else "no claimed figures")
    return (
        '<div class="autograd-tiny-derivation">'
        f"<p><strong>{escape(title)}</strong></p>"
        "<p>" + "<br>".join(escape(f) for f in facts) + "</p>"
        + _table(["parameter", "value", "connects"], rows)
        + f"<p>{claims}</p></div>"
    )


def _verdict(verdict: str) -> str:
    colour = VERDICT_COLOURS.get(verdict, "inherit")
    return f'<span style="color: {colour}; font-weight: bold">{escape(verdict)}</span>'


def claim_rows(results: list[ClaimResult]) -> list[list[str]]:
    """Return the checker's table rows as escaped HTML cells: claim, written, computed, verdict, hint."""
    from .derivation.checker import _computed_text

    return [[escape(r.claim), escape(r.written), escape(_computed_text(r)), _verdict(r.verdict),
             escape(r.hint or "")] for r in results]


def claims_html(results: list[ClaimResult], title: str = "") -> str:
    """Return the checker's report as HTML: an optional title, a table of verdicts and the summary.

    The same rows and summary as :func:`autograd_tiny.derivation.format_text`, every cell escaped.
    """
    from .derivation.checker import summary

    head = f"<p><strong>{escape(title)}</strong></p>" if title else ""
    table = _table(["claim", "written", "computed", "verdict", "hint"], claim_rows(results)) \
        if results else ""
    return f'<div class="autograd-tiny-check">{head}{table}<p>{escape(summary(results))}</p></div>'


def claim_html(result: ClaimResult) -> str:
    """Return one verdict as a one-row HTML table."""
    return _table(["claim", "written", "computed", "verdict", "hint"], claim_rows([result]))


def explanation_markdown(e: Explanation) -> str:
    """Return an explanation as Markdown: tables of factors with ``$...$`` maths.

    Names are LaTeX-escaped by :mod:`autograd_tiny.formula`; ``<`` and ``>`` (which appear
    only inside the maths) are written ``\\lt`` and ``\\gt``, so the Markdown holds no HTML.
    """
    return e.render("markdown").replace("<", r"\lt ").replace(">", r"\gt ")


def explanation_latex(e: Explanation) -> str:
    """Return an explanation as a LaTeX ``align*`` environment (without the comment line)."""
    text = e.render("latex")
    return text[text.index("\\begin{align*}"):]


# -- registered for the classes they show ------------------------------------------------------

@hooks.html.register
def _(d: Derivation) -> str:
    return derivation_html(d)


@hooks.html.register
def _(r: ClaimResult) -> str:
    return claim_html(r)


@hooks.html.register
def _(rs: ClaimResults) -> str:
    return claims_html(rs, rs.title)


@hooks.markdown.register
def _(e: Explanation) -> str:
    return explanation_markdown(e)


@hooks.latex.register
def _(e: Explanation) -> str:
    return explanation_latex(e)
