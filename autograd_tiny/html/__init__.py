"""The stepper page: :func:`to_html` writes one self-contained HTML file that replays a graph's
forward and backward pass node by node, with every number recomputed in the page when a leaf is
edited (by JavaScript generated from the operation table, :mod:`autograd_tiny.html.jscode`)."""

from .page import MAX_NODES, StepperPage, to_html

__all__ = ["MAX_NODES", "StepperPage", "to_html"]
