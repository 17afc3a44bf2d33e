"""Loss functions, each built from Value operations (so ``backward()`` differentiates them).

Every loss takes the network's outputs (one Value or a sequence) and the targets
(numbers, same length) and returns one Value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..value import Value

Outputs = Value | Sequence[Value]
Targets = float | Sequence[float]


def _pairs(outputs: Outputs, targets: Targets) -> list[tuple[Value, float]]:
    outs = [outputs] if isinstance(outputs, Value) else list(outputs)
    tgts = [targets] if isinstance(targets, (int, float)) else list(targets)
    if len(outs) != len(tgts):
        raise ValueError(f"{len(outs)} outputs but {len(tgts)} targets")
    if not outs:
        raise ValueError("a loss needs at least one output")
    for i, o in enumerate(outs):
        if not isinstance(o, Value):
            raise TypeError(f"outputs[{i}] must be a Value, got {type(o).__name__}: {o!r}")
    return [(o, Value(t).data) for o, t in zip(outs, tgts)]


def _sum(terms: list[Value]) -> Value:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def half_squared_error_terms(outputs: Outputs, targets: Targets) -> list[Value]:
    """Return the per-output terms ``1/2 (target - out)^2`` of :func:`half_squared_error`."""
    return [0.5 * (t - o) ** 2 for o, t in _pairs(outputs, targets)]


def half_squared_error(outputs: Outputs, targets: Targets) -> Value:
    """Return ``E = sum of 1/2 (target - out)^2``, the articles' loss (its derivative is ``out - target``)."""
    return _sum(half_squared_error_terms(outputs, targets))


def squared_error(outputs: Outputs, targets: Targets) -> Value:
    """Return ``sum of (target - out)^2``."""
    return _sum([(t - o) ** 2 for o, t in _pairs(outputs, targets)])


def mean_squared_error(outputs: Outputs, targets: Targets) -> Value:
    """Return ``mean of (target - out)^2``."""
    pairs = _pairs(outputs, targets)
    return _sum([(t - o) ** 2 for o, t in pairs]) / len(pairs)


def binary_cross_entropy(outputs: Outputs, targets: Targets) -> Value:
    """Return ``-mean of [t log(out) + (1 - t) log(1 - out)]``; outputs must lie in (0, 1)."""
    pairs = _pairs(outputs, targets)
    terms = [t * o.log() + (1 - t) * (1 - o).log() for o, t in pairs]
    return -_sum(terms) / len(pairs)


def hinge(outputs: Outputs, targets: Targets) -> Value:
    """Return ``mean of max(0, 1 - target * score)``, for targets of -1 and +1."""
    pairs = _pairs(outputs, targets)
    return _sum([(1 - t * o).relu() for o, t in pairs]) / len(pairs)


#: Every loss by the name that derivation files and the command line use.
LOSSES: dict[str, Callable[[Outputs, Targets], Value]] = {
    "half_squared_error": half_squared_error,
    "squared_error": squared_error,
    "mean_squared_error": mean_squared_error,
    "binary_cross_entropy": binary_cross_entropy,
    "hinge": hinge,
}
