"""Shared fixtures for the engine and nn tests: float comparison that treats nan == nan."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest


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
