"""Optimizers. :class:`SGD`: gradient descent with optional momentum, dampening, Nesterov
momentum and weight decay, as ``torch.optim.SGD`` has them.

The update rule is written once, as expressions (:func:`autograd_tiny.codegen.sgd_rule`):
:class:`SGD`'s loop over the parameters, :func:`sgd_direction` (the rule on plain floats, which
the derivation checker's interpreter, :mod:`autograd_tiny.derivation.interpreter`, steps
with) and the compiled training step (``autograd_tiny.compile(..., params=...).step``) are
generated from them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

from .._numeric import short_repr
from ..codegen import sgd_function, sgd_loop
from ..value import Value, _as_float


def _real(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number, got {type(value).__name__}: {short_repr(value)}")
    return _as_float(value, what)  # raises ValueError beyond the float range


def sgd_direction(grad: float, value: float, velocity: float | None, momentum: float = 0.0,
                  dampening: float = 0.0, nesterov: bool = False,
                  weight_decay: float = 0.0) -> tuple[float, float | None]:
    """Return ``(d, velocity)``: the step direction (the parameter becomes ``value - lr * d``)
    and the new momentum velocity, computed as ``torch.optim.SGD`` does.

    ``g = grad + weight_decay * value``; without momentum ``d = g`` (velocity stays None).
    With momentum m the velocity starts at ``g`` (``velocity`` None: the first step) and is
    then ``m * v + (1 - dampening) * g``; ``d`` is the velocity, or with Nesterov
    ``g + m * v``. The rule is :func:`autograd_tiny.codegen.sgd_rule`, the one the compiled
    training step is written from too.
    """
    rule = sgd_function(bool(momentum), bool(weight_decay), nesterov)
    return rule(grad, value, velocity, momentum, 1.0 - dampening, weight_decay)


class SGD:
    """Stochastic gradient descent: ``p = p - lr * grad`` for every parameter.

    With ``momentum`` m > 0 it keeps a velocity per parameter, as PyTorch does:
    ``v = m * v + (1 - dampening) * grad`` (``v = grad`` at the first step) and
    ``p = p - lr * v`` (``p = p - lr * (grad + m * v)`` with ``nesterov``). With
    ``weight_decay`` wd the gradient is ``grad + wd * p`` first. See :func:`sgd_direction`.

    Args:
        params: the Values to update (``model.parameters()``).
        lr: the learning rate (> 0).
        momentum: in [0, 1).
        dampening: in [0, 1].
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0, as in PyTorch).
        weight_decay: >= 0, the L2 penalty's coefficient.
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0) -> None:
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
        self.dampening = _real(dampening, "dampening")
        if not 0 <= self.dampening <= 1:
            raise ValueError(f"dampening must be in [0, 1], got {dampening!r}")
        self.weight_decay = _real(weight_decay, "weight decay")
        if not 0 <= self.weight_decay < math.inf:
            raise ValueError(f"weight decay must be a finite number >= 0, got {weight_decay!r}")
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be True or False, got {short_repr(nesterov)}")
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening 0")
        self.nesterov = nesterov
        self._velocity: list[float | None] = [None] * len(self.params)

    def step(self) -> None:
        """Update every parameter from its current ``grad``; returns None."""
        m, wd = self.momentum, self.weight_decay
        update = sgd_loop(m != 0.0, wd != 0.0, self.nesterov)  # one loop, written from the rule
        update(self.params, self._velocity, self.lr, m, 1.0 - self.dampening, wd)

    def velocity(self, param: Value) -> float | None:
        """Return ``param``'s momentum velocity (None before its first step, or without momentum)."""
        for i, p in enumerate(self.params):
            if p is param:
                return self._velocity[i]
        raise ValueError(f"{param!r} is not one of this optimizer's parameters")

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0."""
        for p in self.params:
            p.grad = 0.0
