"""Optimizers. :class:`SGD`: plain gradient descent, with optional momentum."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

from .._numeric import short_repr
from ..value import Value, _as_float


def _real(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number, got {type(value).__name__}: {short_repr(value)}")
    return _as_float(value, what)  # raises ValueError beyond the float range


class SGD:
    """Stochastic gradient descent: ``p = p - lr * grad`` for every parameter.

    With ``momentum`` m > 0 it keeps a velocity per parameter, as PyTorch does:
    ``v = m * v + grad`` and ``p = p - lr * v``.

    Args:
        params: the Values to update (``model.parameters()``).
        lr: the learning rate (> 0).
        momentum: in [0, 1).
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0) -> None:
        if isinstance(params, Value) or not isinstance(params, Iterable):
            raise TypeError(
                f"params must be an iterable of Values such as model.parameters(), "
                f"got {type(params).__name__}"
            )
        self.params = list(params)
        if not self.params:
            raise ValueError("SGD got an empty parameter list; pass model.parameters()")
        seen: dict[int, int] = {}
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"params[{i}] must be a Value, got {type(p).__name__}: {p!r}")
            if id(p) in seen:
                raise ValueError(
                    f"params[{i}] is the same Value as params[{seen[id(p)]}] and would be updated "
                    "twice per step; pass each parameter once"
                )
            seen[id(p)] = i
        self.lr = _real(lr, "learning rate")
        self.momentum = _real(momentum, "momentum")
        if not 0 < self.lr < math.inf:
            raise ValueError(f"learning rate must be a finite number > 0, got {self.lr!r}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self._velocity = [0.0] * len(self.params)

    def step(self) -> None:
        """Update every parameter from its current ``grad``; returns None."""
        lr, m = self.lr, self.momentum
        if m == 0.0:
            for p in self.params:
                p.data -= lr * p.grad
            return
        for i, p in enumerate(self.params):
            v = self._velocity[i] = m * self._velocity[i] + p.grad
            p.data -= lr * v

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0."""
        for p in self.params:
            p.grad = 0.0
