"""Neural networks on top of :class:`autograd_tiny.Value`: modules, losses, SGD, a training helper."""

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
from .training import History, train

__all__ = [
    "ACTIVATIONS",
    "BIAS_MODES",
    "LOSSES",
    "MLP",
    "Layer",
    "Module",
    "Neuron",
    "SGD",
    "History",
    "train",
    "binary_cross_entropy",
    "half_squared_error",
    "half_squared_error_terms",
    "hinge",
    "mean_squared_error",
    "squared_error",
]
