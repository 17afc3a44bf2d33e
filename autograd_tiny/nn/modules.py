"""Modules: :class:`Module`, :class:`Neuron`, :class:`Layer`, :class:`MLP`.

A network here is plain autodiff: a neuron computes
``out = activation(w1*x1 + w2*x2 + ... + b)`` with Values, and ``backward()`` on a
loss gives every weight's gradient. Nothing in this module knows a derivative.

Biases can be one per neuron, one Value shared by several neurons of a layer (as
the articles draw ``b1`` and ``b2``), absent, or frozen (kept out of
``parameters()`` so that optimizers leave them unchanged).

Layers and MLPs name what they make, counting from 1 like the inputs ``x1, x2``:
neurons ``h1, h2 ...`` (one hidden layer) or ``h<layer>_<j>`` (several) and ``o1, o2 ...``
(the output layer), so that graphs label their nodes ``net_h1_2``/``out_h1_2`` and can
box, collapse and explain neurons; weights ``w[<layer>][<neuron>,<input>]`` and biases
``b[<layer>][<neuron>]`` (``b[<layer>]`` for a bias shared by the layer). These names are
labels only: ``named_parameters()`` and ``state_dict()`` keep the module paths
(``layers.0.neurons.1.w.0``) for them, and numbers are unchanged.
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Iterator, Mapping, Sequence

from .. import _display_hooks
from .._numeric import short_repr
from ..value import Value, _as_float

#: Activation names accepted by :class:`Neuron`, :class:`Layer` and :class:`MLP`.
ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")

#: How :class:`Layer` and :class:`MLP` give neurons their bias.
BIAS_MODES = ("neuron", "layer", "none")


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}"
        )
    return activation


def _check_count(value: object, what: str) -> int:
    """Return ``value`` if it is a positive int; raise TypeError / ValueError naming it otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be a positive int, got {type(value).__name__}: {value!r}")
    if value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return int(value)


def _as_parameter(value: float | Value, label: str, what: str) -> Value:
    """Return ``value`` if it is a Value (given ``label`` if it has none), else a new leaf.

    Raises:
        TypeError: ``value`` is neither a Value nor a real number (``what`` names it).
    """
    if isinstance(value, Value):
        if not value.label:
            value.label = label
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number or a Value, got {type(value).__name__}: "
                        f"{short_repr(value)}")
    return Value(_as_float(value, what), label)


def _length(x: object, nin: int, module: Module) -> int:
    """Return ``len(x)``, or raise TypeError saying that ``module`` expects a list of inputs."""
    try:
        return len(x)  # type: ignore[arg-type]
    except TypeError:
        if isinstance(module, Neuron):
            who = f"neuron {module.name!r}" if module.name else "the neuron"
        else:
            who = "the network"
        raise TypeError(f"{who} expects a list of {nin} inputs (numbers or Values), "
                        f"got {type(x).__name__}: {short_repr(x)}") from None


def default_neuron_names(nouts: Sequence[int], layer: int) -> list[str]:
    """Return the default names of the neurons of layer ``layer`` (0-based) of an MLP with ``nouts``.

    ``o1, o2 ...`` for the last layer, ``h1, h2 ...`` for the hidden layer of a network with
    one, ``h<layer>_<j>`` (layer and neuron counted from 1) with several hidden layers.
    """
    if layer == len(nouts) - 1:
        return [f"o{j + 1}" for j in range(nouts[layer])]
    if len(nouts) == 2:
        return [f"h{j + 1}" for j in range(nouts[layer])]
    return [f"h{layer + 1}_{j + 1}" for j in range(nouts[layer])]


def _name_layer(layer: Layer, number: int, names: Sequence[str]) -> None:
    """Name the neurons of ``layer`` and label their parameters with layer ``number`` (1-based)."""
    first = layer.neurons[0].b
    shared = len(layer.neurons) > 1 and first is not None and all(n.b is first for n in layer.neurons)
    for j, (n, name) in enumerate(zip(layer.neurons, names), 1):
        n.name = name
        n._set_default_labels([f"w[{number}][{j},{i}]" for i in range(1, len(n.w) + 1)],
                              f"b[{number}]" if shared else f"b[{number}][{j}]")


class Module:
    """Base class: anything that owns parameters (Values to train).

    Subclasses implement :meth:`named_parameters` (every parameter once, frozen ones
    included, with a flag) and ``__call__``.
    """

    def _all_parameters(self) -> Iterator[tuple[str, Value, bool]]:
        """Yield ``(name, parameter, frozen)``, possibly repeating shared parameters."""
        return iter(())

    def _default_labels(self) -> dict[int, str]:
        """Return the labels this module gave its parameters by default, by ``id`` of the parameter."""
        return {}

    def named_parameters(self, include_frozen: bool = False) -> list[tuple[str, Value]]:
        """Return ``(name, parameter)`` pairs, each parameter once, in a stable order.

        A parameter's name is its label when it has one that no earlier parameter
        took (and that is not a default label such as ``w[1][2,1]``), else its path
        (``"layers.0.neurons.1.w.0"``), so names are unique.
        Frozen parameters are left out unless ``include_frozen`` is True.
        """
        defaults = self._default_labels()
        seen: set[int] = set()
        names: set[str] = set()
        out: list[tuple[str, Value]] = []
        for path, p, frozen in self._all_parameters():
            if id(p) in seen:
                continue
            seen.add(id(p))
            own = p.label and p.label not in names and defaults.get(id(p)) != p.label
            name = p.label if own else path
            names.add(name)
            if include_frozen or not frozen:
                out.append((name, p))
        return out

    def get_parameter(self, name: str) -> Value:
        """Return the parameter called ``name`` in :meth:`named_parameters` (frozen ones included).

        Raises:
            KeyError: no parameter has that name (the message lists the names there are).
        """
        params = dict(self.named_parameters(include_frozen=True))
        if name not in params:  # a default label (w[1][2,1]) names its parameter too
            labelled = [p for p in params.values() if p.label == name]
            if len(labelled) == 1:
                return labelled[0]
            raise KeyError(f"no parameter named {name!r}; the parameters are {', '.join(params)}")
        return params[name]

    def parameters(self, include_frozen: bool = False) -> list[Value]:
        """Return the trainable parameters (and frozen ones with ``include_frozen``)."""
        return [p for _, p in self.named_parameters(include_frozen)]

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """Show the network as a layered diagram (SVG) in Jupyter."""
        return _display_hooks.mimebundle(self, include, exclude)  # registered by the render layer

    def zero_grad(self) -> None:
        """Set the ``grad`` of every parameter, frozen ones included, to 0."""
        for p in self.parameters(include_frozen=True):
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """Return every parameter's value by name, as a JSON-compatible dict."""
        return {name: p.data for name, p in self.named_parameters(include_frozen=True)}

    def load_state_dict(self, state: Mapping[str, float], strict: bool = True) -> None:
        """Set parameters from a dict made by :meth:`state_dict`.

        Raises:
            ValueError: with ``strict``, a name is missing or unknown.
            TypeError: a value is not a real number.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"state must be a dict of parameter name -> number (as state_dict() makes), "
                f"got {type(state).__name__}"
            )
        params = dict(self.named_parameters(include_frozen=True))
        if strict:
            missing = sorted(set(params) - set(state))
            unknown = sorted(map(str, set(state) - set(params)))
            if missing or unknown:
                raise ValueError(
                    f"state dict does not match the model: missing {missing}, unknown {unknown}; "
                    "load a dict made by state_dict() of a model of the same shape, or pass strict=False"
                )
        values: dict[str, float] = {}
        for name, value in state.items():
            if name in params:
                if isinstance(value, bool) or not isinstance(value, numbers.Real):
                    raise TypeError(
                        f"state[{name!r}] must be a number, got {type(value).__name__}: {short_repr(value)}"
                    )
                values[name] = _as_float(value, f"state[{name!r}]")
        for name, value in values.items():  # nothing changes unless every value is good
            params[name].data = value


class Neuron(Module):
    """One neuron: ``activation(sum(w_i * x_i) + b)``.

    Args:
        nin: number of inputs.
        activation: one of :data:`ACTIVATIONS`.
        weights: initial weights (numbers or Values, which are used as they are);
            random in [-1, 1) when omitted.
        bias: the bias: a number, a Value (share one Value between neurons to share
            the bias) or None for no bias.
        freeze_bias: keep the bias out of :meth:`parameters` (not trained).
        name: the neuron's name; when given, its net input and output are labelled
            ``net_<name>`` and ``out_<name>`` in the graph and its unlabelled weights and
            bias ``<name>.w1``, ``<name>.w2`` ... (counting from 1, like the inputs
            ``x1, x2``) and ``<name>.b``.
        rng: random source for omitted weights.
    """

    def __init__(
        self,
        nin: int,
        activation: str = "tanh",
        *,
        weights: Sequence[float | Value] | None = None,
        bias: float | Value | None = 0.0,
        freeze_bias: bool = False,
        name: str = "",
        rng: random.Random | None = None,
    ) -> None:
        nin = _check_count(nin, "nin")
        self.activation = _check_activation(activation)
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}: {name!r}")
        self.name = name
        prefix = f"{name}." if name else None
        who = f"neuron {name!r}" if name else "the neuron"
        if weights is None:
            r = rng or random.Random()
            weights = [r.uniform(-1, 1) for _ in range(nin)]
        if isinstance(weights, (str, bytes, Value)) or not isinstance(weights, Sequence):
            raise TypeError(f"weights of {who} must be a list of {nin} numbers or Values, "
                            f"got {type(weights).__name__}: {short_repr(weights)}")
        if len(weights) != nin:
            raise ValueError(
                f"{who} has {nin} inputs but {len(weights)} weights were given; pass one weight per input"
            )
        self.w = [_as_parameter(w, f"{prefix}w{i + 1}" if prefix else "", f"weight {i} of {who}")
                  for i, w in enumerate(weights)]
        self.b = None if bias is None else _as_parameter(bias, f"{prefix}b" if prefix else "",
                                                         f"the bias of {who}")
        self.freeze_bias = freeze_bias
        #: labels this neuron gave from its name, and labels its layer gave by default (by id)
        self._own: dict[int, str] = {id(p): p.label for p in self._params() if prefix and
                                     p.label.startswith(prefix) and p.label[len(prefix):] in
                                     {*(f"w{i + 1}" for i in range(nin)), "b"}}
        self._defaults: dict[int, str] = {}

    def _params(self) -> list[Value]:
        return [*self.w, *([self.b] if self.b is not None else [])]

    def _set_default_labels(self, weights: Sequence[str], bias: str) -> None:
        """Give the default labels to parameters that are unlabelled or carry a label made here."""
        for p, label in zip(self._params(), [*weights, bias]):
            if not p.label or self._own.get(id(p)) == p.label or self._defaults.get(id(p)) == p.label:
                p.label = label
                self._defaults[id(p)] = label

    def _default_labels(self) -> dict[int, str]:
        return dict(getattr(self, "_defaults", {}))

    def _all_parameters(self) -> Iterator[tuple[str, Value, bool]]:
        for i, w in enumerate(self.w):
            yield f"w.{i}", w, False
        if self.b is not None:
            yield "b", self.b, self.freeze_bias

    def __call__(self, x: Sequence[Value | float]) -> Value:
        """Return the neuron's output for inputs ``x`` (Values or numbers)."""
        if _length(x, len(self.w), self) != len(self.w):
            who = f"neuron {self.name!r}" if self.name else "the neuron"
            raise ValueError(f"{who} expects {len(self.w)} inputs, got {len(x)}: {list(x)!r}")
        net = self.w[0] * x[0]
        for wi, xi in zip(self.w[1:], x[1:]):
            net = net + wi * xi
        if self.b is not None:
            net = net + self.b
        out = net if self.activation == "identity" else getattr(net, self.activation)()
        if self.name:
            net.label = f"net_{self.name}"
            if out is not net:
                out.label = f"out_{self.name}"
        return out

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, {self.activation!r}, name={self.name!r})"


class Layer(Module):
    """A row of neurons that all see the same inputs.

    Args:
        nin, nout: inputs per neuron, number of neurons.
        activation: one of :data:`ACTIVATIONS`.
        bias: ``"neuron"`` (one bias each, default), ``"layer"`` (one Value shared by
            every neuron, as the articles draw b1 and b2) or ``"none"``.
        freeze_bias: keep biases out of :meth:`parameters`.
        bias_value: the initial bias (0 by default).
        names: a name per neuron (see :class:`Neuron`); by default ``o1, o2 ...`` with
            weights ``w[1][<neuron>,<input>]`` and biases ``b[1][<neuron>]`` (``b[1]`` when
            shared), as the only layer of a network (an :class:`MLP` renames its layers).
        rng: random source for the weights.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "tanh",
        *,
        bias: str = "neuron",
        freeze_bias: bool = False,
        bias_value: float = 0.0,
        names: Sequence[str] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if bias not in BIAS_MODES:
            raise ValueError(f"unknown bias mode {bias!r}; choose one of {', '.join(BIAS_MODES)}")
        nout = _check_count(nout, "nout")
        if isinstance(names, str) or (names is not None and not isinstance(names, Sequence)):
            raise TypeError(f"names must be a list of {nout} neuron names, got {type(names).__name__}: "
                            f"{short_repr(names)}")
        if names is not None and len(names) != nout:
            raise ValueError(f"{len(names)} names given for {nout} neurons; pass one name per neuron")
        shared = Value(bias_value) if bias == "layer" else None
        self.neurons = [
            Neuron(
                nin,
                activation,
                bias=None if bias == "none" else (shared if shared is not None else bias_value),
                freeze_bias=freeze_bias,
                name=names[j] if names else f"o{j + 1}",
                rng=rng,
            )
            for j in range(nout)
        ]
        if names is None:
            _name_layer(self, 1, [n.name for n in self.neurons])

    @classmethod
    def from_neurons(cls, neurons: Sequence[Neuron]) -> Layer:
        """Return a layer made of the given neurons (which may share bias Values)."""
        if not neurons:
            raise ValueError("a layer needs at least one neuron")
        for j, n in enumerate(neurons):
            if not isinstance(n, Neuron):
                raise TypeError(f"neurons[{j}] must be a Neuron, got {type(n).__name__}: {n!r}")
            if len(n.w) != len(neurons[0].w):
                raise ValueError(
                    f"neurons[{j}] has {len(n.w)} inputs but neurons[0] has {len(neurons[0].w)}; "
                    "every neuron of a layer sees the same inputs"
                )
        layer = cls.__new__(cls)
        layer.neurons = list(neurons)
        return layer

    def _default_labels(self) -> dict[int, str]:
        return {k: v for n in self.neurons for k, v in n._default_labels().items()}

    def _all_parameters(self) -> Iterator[tuple[str, Value, bool]]:
        for j, n in enumerate(self.neurons):
            for name, p, frozen in n._all_parameters():
                yield f"neurons.{j}.{name}", p, frozen

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        """Return the outputs of every neuron for inputs ``x``."""
        return [n(x) for n in self.neurons]

    def __repr__(self) -> str:
        return f"Layer([{', '.join(map(repr, self.neurons))}])"


class MLP(Module):
    """A multi-layer perceptron: layers applied one after another.

    Neurons are named ``h1, h2 ...`` (one hidden layer) or ``h<layer>_<j>`` (several
    hidden layers) and ``o1, o2 ...`` (output layer); weights ``w[<layer>][<neuron>,<input>]``
    and biases ``b[<layer>][<neuron>]`` (``b[<layer>]`` when shared), all counting from 1
    (see :func:`default_neuron_names`).

    Args:
        nin: number of inputs.
        nouts: neurons per layer, e.g. ``[2, 2]`` for the articles' 2-2-2 network.
        activation: one name for every layer, or a list with one per layer.
        bias, freeze_bias, bias_value: as for :class:`Layer`, for every layer.
        seed: seed for the random initial weights (reproducible networks).
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | Sequence[str] = "tanh",
        *,
        bias: str = "neuron",
        freeze_bias: bool = False,
        bias_value: float = 0.0,
        seed: int | None = None,
    ) -> None:
        nin = _check_count(nin, "nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence):
            raise TypeError(f"nouts must be a list of layer sizes such as [2, 1], got {nouts!r}")
        if not nouts:
            raise ValueError("nouts must list at least one layer size, e.g. [2, 1]")
        for i, n in enumerate(nouts):
            _check_count(n, f"nouts[{i}]")
        acts = [activation] * len(nouts) if isinstance(activation, str) else list(activation)
        if len(acts) != len(nouts):
            raise ValueError(
                f"{len(acts)} activations given for {len(nouts)} layers; pass one name, or one per layer"
            )
        rng = random.Random(seed)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], acts[i], bias=bias, freeze_bias=freeze_bias,
                  bias_value=bias_value, rng=rng)
            for i in range(len(nouts))
        ]
        for i, layer in enumerate(self.layers):
            _name_layer(layer, i + 1, default_neuron_names(nouts, i))

    @classmethod
    def from_layers(cls, layers: Sequence[Layer]) -> MLP:
        """Return a network made of the given layers, checking that their sizes fit."""
        if not layers:
            raise ValueError("an MLP needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a Layer, got {type(layer).__name__}: {layer!r}")
        for i in range(1, len(layers)):
            width, nin = len(layers[i - 1].neurons), len(layers[i].neurons[0].w)
            if width != nin:
                raise ValueError(f"layer {i} expects {nin} inputs but layer {i - 1} has {width} neurons")
        net = cls.__new__(cls)
        net.layers = list(layers)
        return net

    def _default_labels(self) -> dict[int, str]:
        return {k: v for layer in self.layers for k, v in layer._default_labels().items()}

    def _all_parameters(self) -> Iterator[tuple[str, Value, bool]]:
        for i, layer in enumerate(self.layers):
            for name, p, frozen in layer._all_parameters():
                yield f"layers.{i}.{name}", p, frozen

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        """Return the outputs of the last layer for inputs ``x``."""
        nin = len(self.layers[0].neurons[0].w)
        if _length(x, nin, self) != nin:
            raise ValueError(f"the network expects {nin} inputs, got {len(x)}: {list(x)!r}")
        out: Sequence[Value | float] = x
        for layer in self.layers:
            out = layer(out)
        return list(out)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"MLP([{', '.join(map(repr, self.layers))}])"
