"""``Module``, ``Neuron``, ``Layer`` and ``MLP`` with micrograd 0.1.0's behaviour.

The same networks as micrograd's, weight for weight:

* a weight is ``Value(random.uniform(-1, 1))`` drawn from the :mod:`random`
  module's shared generator, neuron by neuron and layer by layer in micrograd's
  order, so ``random.seed(1337)`` gives micrograd's initial weights; a bias starts
  at ``Value(0)``;
* a neuron computes ``b + w0*x0 + w1*x1 + ...`` (that order, so the sums round as
  micrograd's do) and applies ReLU unless it is linear;
* ``MLP(nin, nouts)``: ReLU on every layer except the last, which is linear;
* a layer of one neuron (so an ``MLP`` whose last size is 1) returns that Value,
  not a list of one;
* ``parameters()`` lists every neuron's weights then its bias, layer by layer,
  and ``zero_grad()`` sets their ``grad`` to 0.

For activations other than ReLU, named parameters, frozen biases and network
diagrams, use :mod:`autograd_tiny.nn`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from .engine import Value

__all__ = ["Module", "Neuron", "Layer", "MLP"]


class Module:
    """Base class: something with parameters. Subclasses override :meth:`parameters`."""

    def zero_grad(self) -> None:
        """Set the ``grad`` of every parameter to 0."""
        for p in self.parameters():
            p.grad = 0

    def parameters(self) -> list[Value]:
        """Return the parameters (Values to train); none for the base class."""
        return []


class Neuron(Module):
    """One neuron: ``relu(b + sum(w_i * x_i))``, or without the ReLU when ``nonlin`` is False.

    Args:
        nin: the number of inputs; each weight is drawn from ``random.uniform(-1, 1)``.
        nonlin: apply ReLU (True) or return the weighted sum as is (False).
    """

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Value | float]) -> Value:
        """Return the neuron's output for the inputs ``x`` (numbers or Values)."""
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        """Return the weights, then the bias."""
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons that all see the same inputs.

    Args:
        nin: inputs of each neuron.
        nout: the number of neurons.
        **kwargs: passed to every :class:`Neuron` (``nonlin=False`` for a linear layer).
    """

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """Return the neurons' outputs: a list, or the Value itself for a layer of one neuron."""
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        """Return every neuron's parameters, neuron by neuron."""
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A multi-layer perceptron: ReLU layers, then a linear output layer.

    Args:
        nin: the number of inputs.
        nouts: the size of each layer; the last is the output layer (linear).
    """

    def __init__(self, nin: int, nouts: list[int]) -> None:
        sizes = [nin] + list(nouts)
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != last) for i in range(len(nouts))]

    def __call__(self, x: Sequence[Value | float]) -> Any:
        """Return the network's output: a Value when the last layer has one neuron, else a list."""
        out: Any = x
        for layer in self.layers:
            out = layer(out)
        return out

    def parameters(self) -> list[Value]:
        """Return every layer's parameters, layer by layer."""
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
