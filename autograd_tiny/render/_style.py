"""Shared look of the pictures: number formatting, escaping and the Digraph class."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .._numeric import printable

#: The font the layout measures labels with. Graphviz asks fontconfig for it, which gives Arial or
#: one of its metric-compatible clones (Liberation Sans, Arimo); graphviz-pure knows its widths.
#: (``Helvetica`` is no good here: Graphviz maps it to its own alias for ``sans-Serif``, often
#: DejaVu Sans, wider than the Helvetica that browsers and rsvg-convert draw.)
FONT = "Arial"

#: The ``font-family`` written into the SVG: fonts with Arial's widths, so a label drawn with
#: any of them fits the box measured for it, then the generic family as the last resort.
SVG_FONT_FAMILY = "Arial,Liberation Sans,Arimo,Helvetica,sans-serif"


def svg_font_family(svg: bytes) -> bytes:
    """Return Graphviz's SVG output with :data:`FONT` widened to :data:`SVG_FONT_FAMILY`.

    Graphviz writes ``font-family`` as the one name it measured with; a viewer
    without Arial would then pick its own default sans font, whose widths may not
    fit the boxes. Only the exact attribute ``font-family="Arial"`` is rewritten.
    """
    return svg.replace(f'font-family="{FONT}"'.encode(), f'font-family="{SVG_FONT_FAMILY}"'.encode())

#: Fill colours by role; the role is also written in the node, so no legend is needed.
COLORS = {
    "parameter": "#fff2cc",  # light yellow: trained
    "input": "#dae8fc",      # light blue: given data
    "constant": "#eeeeee",   # grey: a fixed number
    "leaf": "#ffffff",
    "value": "#ffffff",
    "output": "#d5e8d4",     # light green: what backward() started from
    "op": "#f5f5f5",
    "neuron": "#e1d5e7",     # light purple: a collapsed neuron
    "more": "#f8cecc",       # light red: nodes left out
}


#: Border colours of marked nodes, by verdict (the verdict is also written in the node).
MARK_COLORS = {"wrong": "#d62728", "follows": "#ff7f0e", "ok": "#2ca02c"}

#: The most digits after the point a picture shows (a float has 17 significant digits).
MAX_DECIMALS = 17


@dataclass(frozen=True)
class Mark:
    """A verdict on a number shown in a picture, e.g. a derivation check's claim.

    Attributes:
        verdict: ``"wrong"`` (red border), ``"follows"`` (orange: carried forward from an
            earlier slip) or ``"ok"`` (green).
        text: what to write in the node, e.g. ``"net_o1: written 0.794609, computed 0.84468077"``.
    """

    verdict: str
    text: str

    def __post_init__(self) -> None:
        if self.verdict not in MARK_COLORS:
            raise ValueError(f"unknown verdict {self.verdict!r}; choose one of {', '.join(MARK_COLORS)}")
        if not isinstance(self.text, str):
            raise TypeError(f"Mark text must be a str, got {type(self.text).__name__}")


def mark_attrs(marks: Sequence[Mark]) -> dict[str, str]:
    """Return the Graphviz attributes of a node with ``marks``: the worst verdict's border."""
    for verdict, width in (("wrong", "3"), ("follows", "2.5"), ("ok", "2")):
        if any(m.verdict == verdict for m in marks):
            return {"color": MARK_COLORS[verdict], "penwidth": width}
    return {}


def check_decimals(decimals: object) -> int:
    """Return ``decimals`` if it is an int from 0 to :data:`MAX_DECIMALS`; raise ValueError otherwise."""
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"decimals must be an int from 0 to {MAX_DECIMALS}, got {decimals!r}")
    return decimals


def fmt(x: float, decimals: int = 4) -> str:
    """Return ``x`` with ``decimals`` digits after the point (no ``-0.0000``; ``inf``/``nan`` kept).

    A number that is not 0 but would print as 0 that way (a vanishing gradient,
    4.5e-07) is written with ``decimals`` significant digits instead (``4.501e-07``):
    a picture must not show a gradient of 0 that is not 0.
    """
    if math.isnan(x) or math.isinf(x):
        return str(x)
    s = f"{x:.{decimals}f}"
    if not s.strip("-0."):
        return f"{x:.{max(decimals, 1)}g}" if x != 0 else s.lstrip("-")
    return s


def fmt_const(c: float) -> str:
    """Return a constant the short way it would be typed (``2``, ``0.5``, ``1e-08``)."""
    return f"{c:g}"


def record_escape(text: str) -> str:
    """Return ``text`` safe inside a Graphviz record label (``{}|<>`` and backslashes escaped)."""
    out = printable(text).replace("\\", "\\\\").replace('"', '\\"')
    for ch in "{}|<>":
        out = out.replace(ch, "\\" + ch)
    return out


def html_escape(text: str) -> str:
    """Return ``text`` safe inside a Graphviz HTML-like label."""
    return (printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def dot_escape(text: str) -> str:
    """Return ``text`` to show as it is in a plain Graphviz label (a title, a node's text).

    Graphviz reads backslashes in labels as escapes (``\\n`` a line break, ``\\N`` the
    node's name, ``\\G`` the graph's); here every backslash is doubled, so it shows
    as one, and other unprintable characters are written as their escapes. Quotes
    are left to the ``graphviz`` package, which escapes them. Join escaped lines with
    ``"\\n"`` and pass the result through :func:`dot_label`.
    """
    return printable(text).replace("\\", "\\\\")


def dot_label(text: str) -> str:
    """Return an escaped label that the ``graphviz`` package will quote as a plain string.

    A label that starts with ``<`` and ends with ``>`` would otherwise be taken for an
    HTML-like label and its markup would be drawn, not shown.
    """
    from graphviz import nohtml

    return nohtml(text)  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def graph_class() -> type:
    """Return the ``graphviz.Digraph`` subclass the drawing functions return.

    It shows itself in Jupyter through :func:`autograd_tiny.render.to_svg`, so the
    ``dot``/``graphviz-pure`` choice applies there too. ``graphviz`` is imported here,
    on first use, to keep ``import autograd_tiny`` fast.
    """
    import graphviz

    class Digraph(graphviz.Digraph):  # type: ignore[misc]
        """A ``graphviz.Digraph`` that Jupyter shows with autograd-tiny's choice of program."""

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                              **_: Any) -> dict[str, str]:
            from ._program import GraphvizNotFoundError
            from .api import to_svg

            try:
                return {"image/svg+xml": to_svg(self)}
            except GraphvizNotFoundError as exc:
                return {"text/plain": f"(cannot draw the graph: {exc})"}

    Digraph.__module__ = "autograd_tiny.render"
    Digraph.__qualname__ = "Digraph"
    return Digraph


def new_digraph(name: str, rankdir: str, **graph_attr: str) -> Any:
    """Return an empty Digraph with the package's look."""
    cls = graph_class()
    g = cls(name=name, graph_attr={
        "rankdir": rankdir, "fontname": FONT, "fontsize": "12", "bgcolor": "white",
        "nodesep": "0.25", "ranksep": "0.35", "pad": "0.2", **graph_attr,
    }, node_attr={"fontname": FONT, "fontsize": "11", "color": "#555555", "penwidth": "1"},
        edge_attr={"fontname": FONT, "fontsize": "10", "color": "#555555", "arrowsize": "0.6"})
    return g
