"""Gradient graphs and network diagrams (to be written)."""

from __future__ import annotations

from typing import Any


def draw_graph(root: Any, rankdir: str = "LR") -> Any:
    """Return a ``graphviz.Digraph`` of ``root``'s computation graph."""
    raise NotImplementedError
