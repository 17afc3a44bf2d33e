"""Shared fixtures for the engine and nn tests: float comparison that treats nan == nan."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings

# CI draws the same property-test examples on every run, so that a result can be reproduced;
# elsewhere every run draws new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _agree(ours: float, theirs: float, rel: float = 1e-12, abs_: float = 0.0) -> bool:
    """True when both are nan, both the same infinity, or within ``abs_ + rel * |theirs|``."""
    ours, theirs = float(ours), float(theirs)
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    if math.isinf(ours) or math.isinf(theirs):
        return ours == theirs
    return abs(ours - theirs) <= abs_ + rel * abs(theirs)


@pytest.fixture
def agree() -> Callable[..., bool]:
    """``agree(ours, theirs, rel=1e-12, abs_=0.0)``: nan-aware closeness of two floats."""
    return _agree


def _unary(method: str) -> Callable[[Any], Any]:
    return lambda a: getattr(a, method)()


#: Every primitive of the table as one function that works on Values, numbers and torch tensors
#: alike (they share the operator and method names), so one recipe builds both graphs.
OP_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "neg": lambda a: -a,
    "abs": lambda a: abs(a),
    **{m: _unary(m) for m in ("exp", "log", "tanh", "sigmoid", "relu", "sqrt", "sin", "cos")},
}


@pytest.fixture
def op_functions() -> dict[str, Callable[..., Any]]:
    """Every table op by name, as a function of Values or torch tensors (see :data:`OP_FUNCTIONS`)."""
    return OP_FUNCTIONS


def _seed004_network() -> tuple[Any, dict[str, Any]]:
    """The 2-2-2 network of seed 004, with its labels: w1, w2 into h1; w3, w4 into h2; b1 shared
    by h1 and h2; w5, w6 into o1; w7, w8 into o2; b2 shared by o1 and o2; sigmoid everywhere.

    Returns the network and its parameters by label.
    """
    from autograd_tiny import Value, nn

    p = {name: Value(v, name) for name, v in [
        ("w1", 0.15), ("w2", 0.20), ("w3", 0.25), ("w4", 0.30), ("b1", 0.35),
        ("w5", 0.40), ("w6", 0.45), ("w7", 0.50), ("w8", 0.55), ("b2", 0.60)]}
    h1 = nn.Neuron(2, "sigmoid", weights=[p["w1"], p["w2"]], bias=p["b1"], name="h1")
    h2 = nn.Neuron(2, "sigmoid", weights=[p["w3"], p["w4"]], bias=p["b1"], name="h2")
    o1 = nn.Neuron(2, "sigmoid", weights=[p["w5"], p["w6"]], bias=p["b2"], name="o1")
    o2 = nn.Neuron(2, "sigmoid", weights=[p["w7"], p["w8"]], bias=p["b2"], name="o2")
    net = nn.MLP.from_layers([nn.Layer.from_neurons([h1, h2]), nn.Layer.from_neurons([o1, o2])])
    return net, p


@pytest.fixture
def seed004_network() -> Callable[[], tuple[Any, dict[str, Any]]]:
    """A function that builds a fresh seed-004 network: ``net, params = seed004_network()``."""
    return _seed004_network


# The session's headless Chromium for the stepper page's tests (tests/browser.py).
from browser import chromium  # noqa: E402, F401
