"""Jupyter display hooks: the lower layers ask for a picture, the presentation layers answer.

IPython shows an object through its ``_repr_html_``, ``_repr_markdown_``, ``_repr_latex_`` or
``_repr_mimebundle_`` method. The engine, ``nn``, the derivation checker and the chain-rule
explanations have such methods, but they never import the modules that draw (``render``,
``html``, ``display``): each method calls one of the generic functions here, and the
presentation modules register their implementations for the classes they show
(``@hooks.html.register(ClaimResult)``). ``import autograd_tiny`` imports them, so every
object shows as before; a class with nothing registered shows as its plain ``repr``.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any


@singledispatch
def html(obj: object) -> str | None:
    """Return ``obj`` as HTML (None: nothing is registered for its class)."""
    return None


@singledispatch
def markdown(obj: object) -> str | None:
    """Return ``obj`` as Markdown (None: nothing is registered for its class)."""
    return None


@singledispatch
def latex(obj: object) -> str | None:
    """Return ``obj`` as LaTeX (None: nothing is registered for its class)."""
    return None


@singledispatch
def mimebundle(obj: object, include: Any = None, exclude: Any = None) -> dict[str, str]:
    """Return Jupyter's mime bundle for ``obj`` (its plain repr when nothing is registered)."""
    return {"text/plain": repr(obj)}
