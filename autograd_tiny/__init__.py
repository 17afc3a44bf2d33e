"""autograd-tiny: scalar reverse-mode automatic differentiation you can read and check."""

from . import (
    collector,  # noqa: F401 - raises the GC's generation-2 threshold: see collector.py
    display,  # noqa: F401 - registers the Jupyter HTML, Markdown and LaTeX of our objects
)
from .compiler import CompiledGraph
from .compiler import compile as compile  # not in __all__: `import *` must not hide the builtin
from .derivation import Derivation, load_derivation
from .explain import explain_gradient
from .functional import GradcheckResult, grad, gradcheck
from .html import StepperPage, to_html
from .render import draw_graph, draw_network, render_svg  # also registers the SVG of Values and nets
from .value import Value, enable_grad, is_grad_enabled, no_grad, set_grad_enabled, topological_order

__version__ = "0.1.0"

__all__ = [
    "Value",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "set_grad_enabled",
    "topological_order",
    "grad",
    "gradcheck",
    "GradcheckResult",
    "explain_gradient",
    "CompiledGraph",
    "draw_graph",
    "draw_network",
    "render_svg",
    "to_html",
    "StepperPage",
    "Derivation",
    "load_derivation",
    "__version__",
]
