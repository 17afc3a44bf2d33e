"""The network of a derivation file, built with :mod:`autograd_tiny.nn`.

:class:`Network` turns a :class:`~autograd_tiny.derivation.format.Spec` into an
:class:`autograd_tiny.nn.MLP` whose neurons carry the file's names (so the graph's
nodes are labelled ``net_<N>`` and ``out_<N>``), whose parameters are Values
labelled with the file's names (``w1``, ``b1``; a shared bias is one Value used by
every neuron it feeds) and whose inputs are leaves labelled with the input names.
It runs the forward pass, builds the loss with its per-output terms, and trains
with :class:`autograd_tiny.nn.SGD`.

Loss terms ``E_N`` (one per output neuron) add up to the loss ``E``:

* ``half_squared_error``: ``E_N = 1/2 (target_N - out_N)^2`` (:func:`nn.half_squared_error_terms`);
* ``squared_error``: ``E_N = (target_N - out_N)^2``;
* ``mean_squared_error``, ``binary_cross_entropy``, ``hinge`` (means over the
  outputs): ``E_N`` is the loss of output ``N`` alone divided by the number of
  outputs, i.e. that output's share of the mean.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .. import nn
from ..value import Value, enable_grad, topological_order
from .format import Quantity, Spec

#: Losses that average over the outputs: each output's term is its own loss divided by their number.
MEAN_LOSSES = frozenset({"mean_squared_error", "binary_cross_entropy", "hinge"})


@dataclass
class Forward:
    """One forward pass: the loss ``E`` and the labelled nodes of its graph.

    Attributes:
        loss: ``E``, labelled ``"E"``.
        terms: output neuron name -> its loss term ``E_N`` (labelled ``"E_<N>"``; with a
            single output the term is ``loss`` itself).
        net, out: neuron name -> its net input / output node (the same node for the
            identity activation).
    """

    loss: Value
    terms: dict[str, Value]
    net: dict[str, Value]
    out: dict[str, Value]


#: Runs of at least this many steps show a progress bar when asked to.
PROGRESS_STEPS = 2_000


def step_range(count: int, progress: bool, what: str) -> Iterable[int]:
    """Return ``range(count)``, wrapped in a tqdm bar on stderr when ``progress`` and the run is long."""
    if not progress or count < PROGRESS_STEPS:
        return range(count)
    from tqdm import tqdm

    bar: Iterable[int] = tqdm(range(count), desc=what, unit="step", file=sys.stderr, leave=False)
    return bar


def loss_terms(loss: str, outputs: list[Value], targets: list[float]) -> list[Value]:
    """Return one term per output whose sum is the loss ``loss`` (a name in :data:`nn.LOSSES`)."""
    if loss == "half_squared_error":
        return nn.half_squared_error_terms(outputs, targets)
    fn = nn.LOSSES[loss]
    terms = [fn([o], [t]) for o, t in zip(outputs, targets)]
    if loss in MEAN_LOSSES and len(terms) > 1:
        terms = [term / len(terms) for term in terms]
    return terms


class Network:
    """The network of a derivation file, with the file's names and numbers.

    Attributes:
        spec: the parsed file.
        mlp: the :class:`autograd_tiny.nn.MLP`.
        parameters: every weight and bias by its name (frozen biases included).
        inputs: the input leaves by name (labelled with the input names).
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.parameters: dict[str, Value] = {
            name: Value(w.value, name) for name, w in spec.weights.items()
        }
        self.parameters.update({name: Value(b.value, name) for name, b in spec.biases.items()})
        self.inputs = {name: Value(value, name) for name, value in spec.inputs.items()}
        weight_of = {(w.source, w.target): name for name, w in spec.weights.items()}
        bias_of = {n: name for name, b in spec.biases.items() for n in b.neurons}
        layers = []
        for i in range(1, len(spec.layers)):
            neurons = [
                nn.Neuron(
                    len(spec.layers[i - 1]),
                    spec.activations[i - 1],
                    weights=[self.parameters[weight_of[(src, n)]] for src in spec.layers[i - 1]],
                    bias=self.parameters[bias_of[n]] if n in bias_of else None,
                    freeze_bias=not spec.update_biases,
                    name=n,
                )
                for n in spec.layers[i]
            ]
            layers.append(nn.Layer.from_neurons(neurons))
        self.mlp = nn.MLP.from_layers(layers)

    # -- state ------------------------------------------------------------------------------
    def trainable(self) -> list[Value]:
        """Return the parameters gradient descent changes (biases only with ``update_biases``)."""
        return self.mlp.parameters()

    def state(self) -> dict[str, float]:
        """Return every parameter's current value by name."""
        return {name: p.data for name, p in self.parameters.items()}

    def load(self, values: Mapping[str, float]) -> None:
        """Set parameters from ``values`` (name -> number) and zero every gradient."""
        for name, value in values.items():
            self.parameters[name].data = float(value)
        self.zero_grad()

    def reset(self) -> None:
        """Set every parameter back to the file's number and zero every gradient."""
        self.load({n: w.value for n, w in self.spec.weights.items()})
        self.load({n: b.value for n, b in self.spec.biases.items()})

    def zero_grad(self) -> None:
        """Set every parameter's and input's gradient to 0."""
        self.mlp.zero_grad()
        for x in self.inputs.values():
            x.grad = 0.0

    # -- computing ----------------------------------------------------------------------------
    def forward(self) -> Forward:
        """Return a fresh forward pass (zeroing gradients first, so ``loss.backward()`` gives them)."""
        spec = self.spec
        loss, terms = self._loss()
        net: dict[str, Value] = {}
        out: dict[str, Value] = {}
        neurons = {n for layer in spec.layers[1:] for n in layer}
        for v in topological_order(loss):
            if v.is_leaf:
                continue
            for prefix, into in (("net_", net), ("out_", out)):
                if v.label.startswith(prefix) and v.label[len(prefix):] in neurons:
                    into[v.label[len(prefix):]] = v
        for n in neurons:
            if n not in out:  # identity activation: the net input is the output
                out[n] = net[n]
        return Forward(loss=loss, terms=dict(zip(spec.layers[-1], terms)), net=net, out=out)

    def _loss(self) -> tuple[Value, list[Value]]:
        """Return the loss of a fresh forward pass and its terms (gradients zeroed first)."""
        self.zero_grad()
        spec = self.spec
        with enable_grad():  # the named quantities are found in the graph, so always record it
            outputs = self.mlp([self.inputs[n] for n in spec.layers[0]])
            terms = loss_terms(spec.loss, outputs, [spec.targets[n] for n in spec.layers[-1]])
            for name, term in zip(spec.layers[-1], terms):
                term.label = f"E_{name}"
            loss = terms[0]
            for term in terms[1:]:
                loss = loss + term
            loss.label = "E"
        return loss, terms

    def step(self, optimizer: nn.SGD | None = None) -> float:
        """Take one gradient-descent step; return the loss before it."""
        loss, _ = self._loss()
        loss.backward()
        (optimizer or nn.SGD(self.trainable(), self.spec.learning_rate)).step()
        return loss.data

    def train(self, steps: int) -> list[float]:
        """Take ``steps`` gradient-descent steps with the file's learning rate; return each step's loss."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be an int >= 0, got {steps!r}")
        optimizer = nn.SGD(self.trainable(), self.spec.learning_rate)
        return [self.step(optimizer) for _ in range(steps)]

    def quantities(self, wanted: set[Quantity], progress: bool = False) -> dict[Quantity, float]:
        """Return each wanted quantity as this engine computes it, training from the file's numbers.

        The network is reset to the file's numbers first and left after the last
        step needed. ``progress`` shows a bar on stderr for a long run.
        """
        self.reset()
        last = max((q.step for q in wanted), default=-1)
        found: dict[Quantity, float] = {}
        optimizer = nn.SGD(self.trainable(), self.spec.learning_rate)
        wanted_steps = {q.step for q in wanted}
        for k in step_range(last + 1, progress, "training"):
            if k not in wanted_steps:
                self.step(optimizer)
                continue
            fw = self.forward()
            fw.loss.backward()
            for q in wanted:
                if q.step == k:
                    found[q] = read_quantity(q, fw, self.parameters)
            if k < last:
                optimizer.step()
        return found

    def all_quantities(self, step: int = 0) -> dict[str, float]:
        """Return every quantity at ``step`` (forward values, loss, gradients, deltas, parameters).

        Keys are claim names (``"net_h1"``, ``"dE/dw5"``, ``"w1+"`` for the parameters
        after the step ...), in the order a hand derivation goes.
        """
        spec = self.spec
        names: list[Quantity] = []
        for layer in spec.layers[1:]:
            for n in layer:
                names += [Quantity("net", n, step), Quantity("out", n, step)]
        if len(spec.layers[-1]) > 1:
            names += [Quantity("E_term", n, step) for n in spec.layers[-1]]
        names.append(Quantity("E", None, step))
        for layer in reversed(spec.layers[1:]):
            for n in layer:
                names += [Quantity("dout", n, step), Quantity("dnet", n, step)]
        names += [Quantity("grad", p, step) for p in spec.parameter_names]
        names += [Quantity("param", p, step + 1) for p in spec.parameter_names]
        values = self.quantities(set(names))
        return {q.name: values[q] for q in names}


def read_quantity(q: Quantity, fw: Forward, parameters: Mapping[str, Value]) -> float:
    """Return quantity ``q`` from a forward pass after ``backward()`` (its step is not checked).

    Parameters (``kind == "param"``) give their current value: read them before the update.
    """
    if q.kind == "E":
        return fw.loss.data
    s = q.subject
    assert s is not None
    if q.kind == "net":
        return fw.net[s].data
    if q.kind == "out":
        return fw.out[s].data
    if q.kind == "E_term":
        return fw.terms[s].data
    if q.kind == "dout":
        return fw.out[s].grad
    if q.kind == "dnet":
        return fw.net[s].grad
    if q.kind == "grad":
        return parameters[s].grad
    assert q.kind == "param"
    return parameters[s].data
