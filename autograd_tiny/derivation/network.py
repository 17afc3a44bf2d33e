"""The network of a derivation file, built with :mod:`autograd_tiny.nn`.

:class:`Network` holds a :class:`~autograd_tiny.derivation.format.Spec`'s parameters as
Values labelled with the file's names (``w1``, ``b1``; a shared bias is one Value used by every
neuron it feeds) and its inputs as leaves labelled with the input names. It builds the forward
pass (nodes labelled ``net_<N>``, ``out_<N>``) and the loss with its per-output terms, and trains
with :class:`autograd_tiny.nn.SGD`.

Loss terms ``E_N`` (one per output neuron) add up to the loss ``E``:

* ``half_squared_error``: ``E_N = 1/2 (target_N - out_N)^2`` (:func:`nn.half_squared_error_terms`);
* ``squared_error``: ``E_N = (target_N - out_N)^2``;
* ``mean_squared_error``, ``binary_cross_entropy``, ``hinge`` (means over the outputs): ``E_N`` is
  the loss of output ``N`` alone divided by the number of outputs, its share of the mean;
* ``cross_entropy`` (over a softmax output layer): ``E_N = -target_N log(out_N)`` (0 when the
  target is 0), as ``torch.nn.functional.cross_entropy`` with probabilities as targets.

A softmax layer computes ``out_N = exp(net_N - m) / sum_M exp(net_M - m)`` from the table's
``sub``, ``exp``, ``add`` and ``div`` (so its derivative is the table's too), ``m`` being the
largest net input of that forward pass, taken as a constant: shifting every net input by one
number does not change a softmax, and keeps ``exp`` from overflowing.

A batch (``[[samples]]``) builds every sample's forward pass and loss ``E[s]`` on the same
parameters and makes ``E`` their mean (``batch = "mean"``) or sum. Its nodes are labelled with the
sample (``net_h1[2]``, ``E[2]``, ``x1[2]``), and each sample reads every parameter through a node
``P[s] = P * 1`` of its own, whose gradient is the sample's part of dE/dP.

Weight decay and momentum update as ``torch.optim.SGD`` does: ``d = dE/dP + wd * P``,
``v = momentum * v + (1 - dampening) * d`` (``v = d`` at the first step), ``P = P - lr * v``
(``P - lr * (d + momentum * v)`` with ``nesterov = true``). So the step goes down the gradient of
``E + wd/2 * (sum of the trained parameters' squares)``; ``E`` and ``dE/dP`` are always the loss
without that term, as PyTorch's loss and ``.grad``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce
from operator import add

from .. import nn
from ..value import Value, enable_grad, topological_order
from .format import Spec
from .interpreter import Optimizer, Replay
from .tape import Tape

#: Losses that average over the outputs: each output's term is its own loss divided by their number.
MEAN_LOSSES = frozenset({"mean_squared_error", "binary_cross_entropy", "hinge"})


@dataclass
class Forward:
    """One forward pass: the loss ``E`` and the labelled nodes of its graph.

    Attributes:
        loss: ``E``.
        terms, net, out: output neuron name -> its loss term ``E_N``, neuron name -> its net
            input ``net_N`` / output ``out_N``; the first sample's in a batch.
        nodes: every named node by its label (``"net_h1"``, ``"out_o1[2]"``, ``"E[2]"``,
            ``"w1[2]"``, ``"x1"``), the aliases included: ``out_N`` of an identity neuron is its
            ``net_N``, ``E_N`` of a single output is ``E`` (or ``E[s]``).
    """

    loss: Value
    terms: dict[str, Value]
    net: dict[str, Value]
    out: dict[str, Value]
    nodes: dict[str, Value]


def loss_terms(loss: str, outputs: list[Value], targets: list[float]) -> list[Value]:
    """Return one term per output whose sum is the loss ``loss`` (a name in :data:`nn.LOSSES`
    or ``"cross_entropy"``)."""
    if loss == "cross_entropy":
        return [(-(o.log()) if t == 1.0 else -(o.log() * t)) if t else o * 0.0
                for o, t in zip(outputs, targets)]
    if loss == "half_squared_error":
        return nn.half_squared_error_terms(outputs, targets)
    terms = [nn.LOSSES[loss]([o], [t]) for o, t in zip(outputs, targets)]
    return [term / len(terms) for term in terms] if loss in MEAN_LOSSES and len(terms) > 1 else terms


class Network:
    """The network of a derivation file, with the file's names and numbers.

    Attributes:
        spec: the parsed file.
        mlp: an :class:`autograd_tiny.nn.MLP` with the file's parameters, for drawing (a
            sparse network's missing weights are constant zeros there, a softmax layer is
            drawn as identity).
        parameters: every weight and bias by its name (frozen biases included).
        inputs: the input leaves by name; the first sample's in a batch.
        sample_inputs: every sample's input leaves.
        sample_scale: d E / d E[s] (1 / number of samples for a mean, else 1): a sample's own
            derivative is the batch's divided by it.
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        numbers = [(name, w.value) for name, w in spec.weights.items()]
        numbers += [(name, b.value) for name, b in spec.biases.items()]
        self.parameters = {name: Value(value, name) for name, value in numbers}
        self._start = {name: p.data for name, p in self.parameters.items()}  # the file's numbers
        self.sample_inputs = [
            {name: Value(value, name + self._suffix(i)) for name, value in sample.inputs.items()}
            for i, sample in enumerate(spec.samples)
        ]
        self.inputs = self.sample_inputs[0]
        n = len(spec.samples)
        self.sample_scale = 1.0 / n if spec.batched and spec.batch == "mean" else 1.0
        #: with ``batch = "each"`` (an update after each sample in turn) the loss is
        #: ``turn[1] * E[1] + turn[2] * E[2] + ...``, each ``turn[s]`` a leaf that is 1 at the steps of
        #: sample s and 0 at the others: one graph for every step, the step's sample selected.
        self.turns = ([Value(1.0 if i == 0 else 0.0, f"turn[{i + 1}]") for i in range(n)]
                      if spec.batched and spec.batch == "each" else [])
        self._turn = 0
        self._optimizer: nn.SGD | None = None
        self._weight_of = {(w.source, w.target): name for name, w in spec.weights.items()}
        self._bias_of = {n: name for name, b in spec.biases.items() for n in b.neurons}
        layers = []
        for previous, layer, activation in zip(spec.layers, spec.layers[1:], spec.activations):
            neurons = [nn.Neuron(len(previous), "identity" if activation == "softmax" else activation,
                                 weights=[self.parameters[self._weight_of[(src, n)]]
                                          if (src, n) in self._weight_of else Value(0.0) for src in previous],
                                 bias=self.parameters[self._bias_of[n]] if n in self._bias_of else None,
                                 freeze_bias=not spec.update_biases, name=n)
                       for n in layer]
            layers.append(nn.Layer.from_neurons(neurons))
        self.mlp = nn.MLP.from_layers(layers)

    def _suffix(self, i: int) -> str:
        return f"[{i + 1}]" if self.spec.batched else ""

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Set every parameter back to the file's number and zero every gradient."""
        self._turn = 0
        self._optimizer = None
        for name, p in self.parameters.items():
            p.data = self._start[name]
        self.zero_grad()

    def zero_grad(self) -> None:
        """Set every parameter's and input's gradient to 0."""
        for v in [*self.parameters.values(), *(x for inputs in self.sample_inputs for x in inputs.values())]:
            v.grad = 0.0

    # -- computing ----------------------------------------------------------------------------
    def forward(self) -> Forward:
        """Return a fresh forward pass (zeroing gradients first, so ``loss.backward()`` gives them)."""
        spec = self.spec
        loss = self._loss()
        nodes: dict[str, Value] = {}
        for v in topological_order(loss):
            if v.label:
                nodes.setdefault(v.label, v)
        neurons = [n for layer in spec.layers[1:] for n in layer]
        for i in range(len(spec.samples)):
            sfx = self._suffix(i)
            for n in neurons:
                nodes.setdefault(f"out_{n}{sfx}", nodes[f"net_{n}{sfx}"])
            for n in spec.layers[-1]:
                nodes.setdefault(f"E_{n}{sfx}", nodes[f"E{sfx}"])
        first = self._suffix(0)
        return Forward(loss=loss, terms={n: nodes[f"E_{n}{first}"] for n in spec.layers[-1]},
                       net={n: nodes[f"net_{n}{first}"] for n in neurons},
                       out={n: nodes[f"out_{n}{first}"] for n in neurons}, nodes=nodes)

    def _sample_loss(self, i: int) -> Value:
        """Return sample ``i``'s loss (labelled ``E`` or ``E[s]``), building its forward pass."""
        spec = self.spec
        sfx = self._suffix(i)
        params = self.parameters
        if spec.batched:
            params = {name: p * 1.0 for name, p in self.parameters.items()}
            for name, p in params.items():
                p.label = name + sfx
        values: dict[str, Value] = dict(self.sample_inputs[i])
        for previous, layer, activation in zip(spec.layers, spec.layers[1:], spec.activations):
            nets: dict[str, Value] = {}
            for n in layer:
                parts = [params[self._weight_of[(src, n)]] * values[src]
                         for src in previous if (src, n) in self._weight_of]
                if n in self._bias_of:
                    b = params[self._bias_of[n]]
                    parts.append(b if parts else b + 0.0)  # a bias alone: net_N is a node of its own
                nets[n] = reduce(add, parts)
                nets[n].label = f"net_{n}{sfx}"
            if activation == "softmax":
                shift = max(v.data for v in nets.values())
                exps = {n: (net - shift).exp() for n, net in nets.items()}
                total = reduce(add, exps.values())
                outs = {n: e / total for n, e in exps.items()}
            elif activation == "identity":
                outs = dict(nets)
            else:
                outs = {n: getattr(net, activation)() for n, net in nets.items()}
            for n, out in outs.items():
                if out is not nets[n]:
                    out.label = f"out_{n}{sfx}"
            values.update(outs)
        outputs = spec.layers[-1]
        targets = spec.samples[i].targets
        predicted = [values[n] for n in outputs]
        try:
            terms = loss_terms(spec.loss, predicted, [targets[n] for n in outputs])
        except ValueError:  # binary_cross_entropy refuses a nan output (a diverged training)
            if not any(math.isnan(o.data) for o in predicted):
                raise
            terms = [o * math.nan for o in predicted]
        for name, term in zip(outputs, terms):
            term.label = f"E_{name}{sfx}"
        loss = reduce(add, terms)
        loss.label = f"E{sfx}"
        return loss

    def _loss(self) -> Value:
        """Return the loss of a fresh forward pass (gradients zeroed first)."""
        self.zero_grad()
        with enable_grad():  # the named quantities are found in the graph, so always record it
            if not self.spec.batched:
                return self._sample_loss(0)
            losses = [self._sample_loss(i) for i in range(len(self.spec.samples))]
            if self.turns:  # the sample whose turn it is
                for i, turn in enumerate(self.turns):
                    turn.data = 1.0 if self._turn % len(self.turns) == i else 0.0
                losses = [turn * term for turn, term in zip(self.turns, losses)]
            loss = reduce(add, losses)
            loss = loss / len(losses) if self.spec.batch == "mean" else loss * 1.0
            loss.label = "E"
        return loss

    def train(self, steps: int) -> list[float]:
        """Take ``steps`` gradient-descent steps with the file's update rule, continuing from the
        steps taken before (momentum's velocities and the sample whose turn it is are kept until
        :meth:`reset`); return the loss before each step."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be an int >= 0, got {steps!r}")
        spec = self.spec
        if self._optimizer is None:
            trained = [p for name, p in self.parameters.items() if spec.is_trainable(name)]
            self._optimizer = nn.SGD(trained, spec.learning_rate, momentum=spec.momentum,
                                     dampening=spec.dampening, nesterov=spec.nesterov,
                                     weight_decay=spec.weight_decay)
        losses = []
        for _ in range(steps):
            loss = self._loss()
            loss.backward()
            self._optimizer.step()
            self._turn += 1
            losses.append(loss.data)
        return losses

    def replay(self) -> Replay:
        """Return the interpreter's :class:`~autograd_tiny.derivation.interpreter.Replay` of this
        network, from the file's numbers: the tape of one forward pass with the file's names on it."""
        spec = self.spec
        self.reset()
        fw = self.forward()
        tape = Tape([fw.loss], self.parameters, fw.nodes)
        return Replay(tape, self._start, [n for n in self.parameters if spec.is_trainable(n)],
                      Optimizer(spec.learning_rate, spec.momentum, spec.dampening, spec.nesterov,
                                spec.weight_decay),
                      self.sample_scale, [tape.index[t] for t in self.turns])
