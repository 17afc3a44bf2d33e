"""The lesson page: :func:`to_html` writes one self-contained HTML file that steps through a
graph's forward pass, loss, backward pass and update as a textbook does
(:mod:`autograd_tiny.html.lesson`), on a picture of the network (or a circuit, or the
operation graph), with every number recomputed in the page when a leaf is edited (by
JavaScript generated from the operation table, :mod:`autograd_tiny.html.jscode`)."""

from .page import MAX_NODES, StepperPage, to_html

__all__ = ["MAX_NODES", "StepperPage", "to_html"]
