"""What the practice page (``autograd-tiny site``) runs in the browser: a file and typed figures in,
the checker's verdicts out as JSON.

The page runs this module in Pyodide, so it needs nothing outside the standard library
(:mod:`autograd_tiny.derivation` and :mod:`autograd_tiny.submission` do not either). The
verdicts are those of ``autograd-tiny check --format json`` on the same file with the same
claims: :func:`check_json` returns that very list (``results``), plus the summary line and
the first slip.
"""

from __future__ import annotations

import json
from typing import Any

from .derivation import (
    ClaimResult,
    Spec,
    format_json,
    from_text,
    summary,
)
from .errors import UsageError
from .submission import read_claims, with_claims


def _first_slip(results: list[ClaimResult]) -> str | None:
    """Return the name of the wrong claim computed first (the summary's first slip), or None."""
    wrong = [(r.order, i) for i, r in enumerate(results) if r.verdict == "wrong"]
    return results[min(wrong)[1]].claim if wrong else None


def check(file_text: str, figures_text: str = "", source: str = "<text>") -> dict[str, Any]:
    """Return the check of a derivation file, with the figures typed in ``figures_text`` if any.

    Args:
        file_text: the derivation file's TOML text (a shipped example, a worksheet, a pasted file).
        figures_text: figures that replace the file's claims: plain lines such as
            ``dE/dw5 = 0.0822``, or a ``[claims]`` table; blank to check the file's own claims.
        source: the file's name, for messages.

    Returns:
        ``{"title", "results", "summary", "first_slip"}``, where ``results`` is the list that
        ``autograd-tiny check --format json`` prints; or ``{"error": message}`` (one line) when
        the file or the figures cannot be read.
    """
    try:
        if figures_text.strip():
            submission = read_claims(figures_text, "the figures", key_text=file_text)
            from_text(file_text, source)  # the file's own problems are named as the file's
            derivation = with_claims(file_text, submission.figures, "the figures")
        else:
            derivation = from_text(file_text, source)
        results = list(derivation.check())
    except UsageError as exc:
        return {"error": str(exc)}
    return {"title": derivation.title, "results": json.loads(format_json(results)),
            "summary": summary(results), "first_slip": _first_slip(results)}


def fields(file_text: str, source: str = "<text>") -> dict[str, Any]:
    """Return the names of the figures of one step of a derivation file, laid out like its network.

    Returns:
        ``{"layers", "neurons", "loss", "parameters", "other"}``: ``layers`` the neuron names per
        layer (input layer first), ``neurons`` each neuron's names (``net_N``, ``out_N``,
        ``dE/dout_N``, ``dE/dnet_N``), ``loss`` the loss's names (``E_N``, ``E``),
        ``parameters`` one ``[P, "dE/dP", "P+"]`` per weight and bias, ``other`` every name not
        placed (all of them for an expression file or a batch, ``layers`` then empty); or
        ``{"error": message}`` when the file cannot be read.
    """
    try:
        derivation = from_text(file_text, source)
    except UsageError as exc:
        return {"error": str(exc)}
    names = list(derivation.quantities())
    layout: dict[str, Any] = {"layers": [], "neurons": {}, "loss": [], "parameters": [], "other": []}
    spec = getattr(derivation, "spec", None)  # an expression file has none: no network to lay out
    if not isinstance(spec, Spec) or spec.batched:
        layout["other"] = names
        return layout
    placed: set[str] = set()
    layout["layers"] = [list(layer) for layer in derivation.layers]
    for layer in derivation.layers[1:]:
        for n in layer:
            own = [q for q in (f"net_{n}", f"out_{n}", f"dE/dout_{n}", f"dE/dnet_{n}") if q in names]
            layout["neurons"][n] = own
            placed.update(own)
    layout["loss"] = [q for q in names if q == "E" or (q.startswith("E_") and q not in placed)]
    placed.update(layout["loss"])
    for p in derivation.parameters:
        row = [p, f"dE/d{p}" if f"dE/d{p}" in names else "", f"{p}+" if f"{p}+" in names else ""]
        layout["parameters"].append(row)
        placed.update(row[1:])
    layout["other"] = [q for q in names if q not in placed]
    return layout


def fields_json(file_text: str, source: str = "<text>") -> str:
    """Return :func:`fields` as JSON text (what the page's script reads)."""
    return json.dumps(fields(file_text, source))


def check_json(file_text: str, figures_text: str = "", source: str = "<text>") -> str:
    """Return :func:`check` as JSON text (what the page's script reads)."""
    return json.dumps(check(file_text, figures_text, source))
