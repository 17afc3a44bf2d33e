"""micrograd 0.1.0's API on autograd_tiny's engine: change the import line and nothing else.

``from micrograd.engine import Value`` becomes ``from autograd_tiny.micrograd.engine
import Value`` and ``from micrograd.nn import MLP`` becomes ``from
autograd_tiny.micrograd.nn import MLP``; the programs then build the same graphs,
draw the same weights from ``random.seed`` and print the same numbers. See
:mod:`autograd_tiny.micrograd.engine` and :mod:`autograd_tiny.micrograd.nn`.
"""

from .engine import Value
from .nn import MLP, Layer, Module, Neuron

__all__ = ["Value", "Module", "Neuron", "Layer", "MLP"]
