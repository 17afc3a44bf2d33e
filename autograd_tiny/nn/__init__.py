"""Neural networks on top of :class:`autograd_tiny.Value`: modules, losses, SGD."""

from .losses import (
    LOSSES,
    binary_cross_entropy,
    half_squared_error,
    half_squared_error_terms,
    hinge,
    mean_squared_error,
    squared_error,
)
from .modules import ACTIVATIONS, BIAS_MODES, MLP, Layer, Module, Neuron
from .optim import SGD

__all__ = [
    "ACTIVATIONS",
    "BIAS_MODES",
    "LOSSES",
    "MLP",
    "Layer",
    "Module",
    "Neuron",
    "SGD",
    "binary_cross_entropy",
    "half_squared_error",
    "half_squared_error_terms",
    "hinge",
    "mean_squared_error",
    "squared_error",
]
