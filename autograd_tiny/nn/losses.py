"""Loss functions, each built from Value operations (so ``backward()`` differentiates them).

Every loss takes the network's outputs (one Value or a sequence) and the targets
(numbers, same length) and returns one Value.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence

from .._numeric import short_repr
from ..value import Value, _as_float

Outputs = Value | Sequence[Value]
Targets = float | Value | Sequence[float | Value]


def _target(t: object, i: int) -> float:
    if isinstance(t, Value):
        return t.data
    if isinstance(t, bool) or not isinstance(t, numbers.Real):
        raise TypeError(f"targets[{i}] must be a number, got {type(t).__name__}: {short_repr(t)}")
    return _as_float(t, f"targets[{i}]")


def _as_list(items: object, what: str, one: str) -> list[object]:
    """Return ``items`` as a list, or raise TypeError naming ``what`` when it is no sequence."""
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise TypeError(f"{what} must be a {one} or a list of them, got {type(items).__name__}: "
                        f"{short_repr(items)}")
    return list(items)


def _pairs(outputs: Outputs, targets: Targets) -> list[tuple[Value, float]]:
    """Return (output, target) pairs, after checking types and lengths.

    A target may be a number or a Value (its ``data`` is used: targets are constants).
    """
    outs: list[Value] = [outputs] if isinstance(outputs, Value) else _as_list(outputs, "outputs", "Value")  # type: ignore[assignment]
    single = isinstance(targets, (numbers.Real, Value)) and not isinstance(targets, bool)
    tgts: list[object] = [targets] if single else _as_list(targets, "targets", "number")
    if len(outs) != len(tgts):
        raise ValueError(f"{len(outs)} outputs but {len(tgts)} targets; pass one target per output")
    if not outs:
        raise ValueError("a loss needs at least one output")
    for i, o in enumerate(outs):
        if not isinstance(o, Value):
            raise TypeError(f"outputs[{i}] must be a Value, got {type(o).__name__}: {o!r}")
    return [(o, _target(t, i)) for i, (o, t) in enumerate(zip(outs, tgts))]


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
    """Return ``-mean of [t log(out) + (1 - t) log(1 - out)]`` for outputs in [0, 1].

    A term whose weight is 0 is left out (for t = 1 only ``log(out)`` is built), so
    ``out = 0`` with ``t = 0`` gives 0 rather than ``0 * log 0 = nan``. Unlike
    PyTorch, which clamps each log at -100, a confident wrong answer (``out = 0``
    with ``t = 1``) gives ``inf``.

    Raises:
        ValueError: an output is outside [0, 1] (use a sigmoid output layer), or a
            target is outside [0, 1].
    """
    pairs = _pairs(outputs, targets)
    terms: list[Value] = []
    for i, (o, t) in enumerate(pairs):
        if not 0.0 <= o.data <= 1.0:
            raise ValueError(
                f"binary_cross_entropy needs outputs in [0, 1], outputs[{i}] is {o.data!r}; "
                "use a sigmoid activation on the output layer"
            )
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"binary_cross_entropy needs targets in [0, 1], targets[{i}] is {t!r}")
        if t == 1.0:
            terms.append(o.log())
        elif t == 0.0:
            terms.append((1 - o).log())
        else:
            terms.append(t * o.log() + (1 - t) * (1 - o).log())
    return -_sum(terms) / len(pairs)


def hinge(outputs: Outputs, targets: Targets) -> Value:
    """Return ``mean of max(0, 1 - target * score)``, for targets of -1 and +1.

    Raises:
        ValueError: a target is neither -1 nor +1 (map 0/1 labels with ``2 * y - 1``).
    """
    pairs = _pairs(outputs, targets)
    for i, (_, t) in enumerate(pairs):
        if t not in (-1.0, 1.0):
            raise ValueError(
                f"hinge needs targets -1 or +1, targets[{i}] is {t!r}; map 0/1 labels with 2 * y - 1"
            )
    return _sum([(1 - t * o).relu() for o, t in pairs]) / len(pairs)


#: Every loss by the name that derivation files and the command line use.
LOSSES: dict[str, Callable[[Outputs, Targets], Value]] = {
    "half_squared_error": half_squared_error,
    "squared_error": squared_error,
    "mean_squared_error": mean_squared_error,
    "binary_cross_entropy": binary_cross_entropy,
    "hinge": hinge,
}
