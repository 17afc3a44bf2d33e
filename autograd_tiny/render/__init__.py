"""Gradient graphs and network diagrams, as Graphviz graphs and SVG files.

* :func:`draw_graph` - a Value's computation graph: a record ``label | data | grad``
  per Value and an oval per operation, neurons boxed or collapsed.
* :func:`draw_network` - the layered picture of a small MLP or derivation, with
  weights (and gradients) on the edges and biases as nodes.
* :func:`render_svg` / :func:`to_svg` - lay a graph out and write / return SVG.
* :func:`write_svgs` - a derivation's ``graph.svg`` and ``network.svg``.

The layout program is ``dot`` from Graphviz, or ``graphviz-pure`` (``pip install
graphviz-pure``) when ``dot`` is not installed; choose one with the ``program``
argument or the ``AUTOGRAD_TINY_DOT`` environment variable. Without either,
:func:`render_svg` writes the DOT source next to the requested file and raises
:class:`GraphvizNotFoundError`, whose message says how to install Graphviz.
"""

from __future__ import annotations

from ._program import (
    DOT_ENV,
    PROGRAMS,
    GraphvizNotFoundError,
    RenderError,
    find_program,
)
from ._style import MAX_DECIMALS, Mark
from .api import render_svg, to_svg, write_svgs
from .graph import AUTO_COLLAPSE, GHOST_SPAN, MAX_NODES, draw_graph
from .network import draw_network

__all__ = [
    "AUTO_COLLAPSE",
    "DOT_ENV",
    "GHOST_SPAN",
    "MAX_DECIMALS",
    "MAX_NODES",
    "Mark",
    "PROGRAMS",
    "GraphvizNotFoundError",
    "RenderError",
    "draw_graph",
    "draw_network",
    "find_program",
    "render_svg",
    "to_svg",
    "write_svgs",
]
