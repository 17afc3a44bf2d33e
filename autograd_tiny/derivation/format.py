"""Reading derivation files: TOML in, a validated :class:`Spec` out.

A derivation file describes a small layered network with its numbers (inputs, targets, weights,
biases, activation, loss, learning rate; optionally several samples trained as a batch, momentum,
weight decay, a softmax output layer with cross-entropy, and weights that leave pairs of neurons
unconnected) and the figures a hand derivation arrived at (``[claims]``). The TOML is parsed with
:mod:`tomllib` (nothing is evaluated), every float is kept exactly as written (the checker reads
each claim's precision from it) and every problem raises :class:`autograd_tiny.errors.UsageError`
with a one-line message that names the file, the key and what to do.

Claim names (``N`` a neuron, ``P`` a weight or bias, ``K`` a number of steps):

* ``net_N``, ``out_N``: a neuron's net input and output;
* ``E`` (the loss) and ``E_N`` (the term of output neuron ``N``);
* ``dE/dP``, ``dE/dout_N``, ``dE/dnet_N`` (the neuron's delta), ``dE/dX`` (``X`` an input);
* one factor of the chain rule: ``dout_N/dnet_N`` (the activation's derivative),
  ``dnet_N/dP`` (``P`` a weight or bias into ``N``), ``dnet_N/dout_M`` or ``dnet_N/dX``
  (the weight from ``M`` or input ``X`` into ``N``);
* one output's part of a gradient: ``dE_N/dout_M``, ``dE_N/dnet_M``, ``dE_N/dP``, ``dE_N/dX``
  (the derivative of output ``N``'s loss term; the parts add up to ``dE/d...``);
* ``P+``: ``P`` after one gradient-descent step; ``net_N+``, ``out_N+``, ``E+``,
  ``E_N+``, ``dE/d...+``: the same quantities after that step;
* ``X@K``: quantity ``X`` after ``K`` steps (``X+`` is ``X@1``, ``X@0`` is ``X``);
* with momentum, ``v_P+`` and ``v_P@K``: ``P``'s velocity after one or ``K`` steps
  (``P@K = P@(K-1) - lr * v_P@K``); with weight decay, ``E_reg`` (the loss plus
  ``weight_decay / 2`` times the trained parameters' squares) and ``dE_reg/dP``.

A file with ``[[samples]]`` (a batch) names the sample of a per-sample quantity, from 1:
``out_o1[2]``, ``dE/dnet_h1[3]@5``. With ``[s]``, ``E`` is sample ``s``'s own loss and
every derivative is of that loss (the delta a hand derivation computes per sample); without
it ``E`` and ``dE/dP`` are the batch's (the mean of the samples', or their sum).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import product
from typing import TYPE_CHECKING, Any

from .._numeric import short_repr
from .._toml import Literal, check_keys
from .._toml import fail as _fail
from .._toml import flag as _flag
from .._toml import kind_of as _kind_of
from .._toml import number as _number
from .._toml import read_toml as parse_toml
from .._toml import string as _string
from .._toml import table as _table
from ..nn import ACTIVATIONS, LOSSES

if TYPE_CHECKING:
    from .expression import ExpressionSpec

#: Keys a derivation file may have at its top level, and whether each is required.
TOP_LEVEL_KEYS: dict[str, bool] = {
    "title": False,
    "activation": True,
    "loss": True,
    "learning_rate": True,
    "update_biases": False,
    "layers": True,
    "inputs": False,
    "targets": False,
    "samples": False,
    "batch": False,
    "momentum": False,
    "dampening": False,
    "nesterov": False,
    "weight_decay": False,
    "dense": False,
    "weights": True,
    "biases": False,
    "claims": False,
}

#: The losses a derivation file may name: :data:`autograd_tiny.nn.LOSSES` and cross-entropy
#: over a softmax output layer.
LOSS_NAMES = (*LOSSES, "cross_entropy")

#: The activations of a derivation file: :data:`autograd_tiny.nn.ACTIVATIONS`, and softmax
#: for the output layer.
ACTIVATION_NAMES = (*ACTIVATIONS, "softmax")

#: The largest ``K`` a claim ``X@K`` may ask for, whatever the network.
MAX_STEPS = 10_000_000

#: How many graph nodes times steps the checker trains through for the claims (about a
#: minute on a laptop: the eager engine takes some 10 microseconds per node and step, and
#: the replay of a wrong claim some 3 more). A claim ``X@K`` beyond it is refused.
STEP_BUDGET = 4_000_000

#: What a neuron or parameter name may look like.
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

#: Every quantity kind: what it is, its claim name and the label of the node whose value or gradient
#: it is, from its subject ``s`` (``a`` and ``b`` the two sides of a subject ``"A/B"``; an expression
#: file's derivative is named after its output).
KINDS: dict[str, tuple[str, str, str]] = {
    "net": ("net input of a neuron", "net_{s}", "net_{s}"),
    "out": ("output of a neuron", "out_{s}", "out_{s}"),
    "E": ("the loss", "E", "E"),
    "E_term": ("one output's term of the loss", "E_{s}", "E_{s}"),
    "grad": ("gradient of the loss with respect to a weight or bias", "dE/d{s}", "{s}"),
    "dout": ("gradient of the loss with respect to a neuron's output", "dE/dout_{s}", "out_{s}"),
    "dnet": ("gradient of the loss with respect to a neuron's net input (its delta)", "dE/dnet_{s}",
             "net_{s}"),
    "param": ("a weight or bias", "{s}", "{s}"),
    "dx": ("gradient of the loss with respect to an input", "dE/d{s}", "{s}"),
    "factor": ("one factor of the chain rule (the derivative of a neuron's net input or output), or "
               "one output's part of a gradient (the derivative of its loss term E_N)", "d{a}/d{b}", "{a}"),
    "local": ("a local gradient dA/dB of an expression file (through every path from B to A)",
              "d{a}/d{b}", "{a}"),
    "velocity": ("a parameter's momentum velocity after K steps (v_P@K: P@K = P@(K-1) - lr * v_P@K)",
                 "v_{s}", "{s}"),
    "rgrad": ("the gradient of the regularized loss, dE/dP + weight_decay * P", "dE_reg/d{s}", "{s}"),
    "Ereg": ("the regularized loss E + weight_decay / 2 * (sum of the trained parameters' squares)",
             "E_reg", "E"),
    "value": ("a defined quantity of an expression file", "{s}", "{s}"),
    "deriv": ("the output's derivative with respect to a name of an expression file (subject "
              "\"OUT/NAME\")", "d{a}/d{b}", "{b}"),
}

CLAIM_FORMS = (
    "net_N, out_N, E, E_N, dE/dP, dE/dout_N, dE/dnet_N, dE/dX, dout_N/dnet_N, dnet_N/dP, "
    "dnet_N/dout_M, dE_N/dout_M (one output's part), P+, v_P+, E_reg, dE_reg/dP (X+ or X@K: "
    "after 1 or K steps; X[s]: sample s), N, M neurons, X an input, P a weight or bias"
)


@dataclass(frozen=True)
class Quantity:
    """One number of a derivation: what it is (``kind``, one of :data:`KINDS`), whose (``subject``:
    a neuron's, parameter's, input's or expression file's name, ``"A/B"`` for a derivative dA/dB
    such as ``"out_o1/net_o1"``, None for the loss), when (``step``, the number of gradient-descent
    steps taken before it) and, in a batch, which sample's (``sample``, from 1; None for the batch's).
    """

    kind: str
    subject: str | None
    step: int
    sample: int | None = None

    def _fill(self, template: str) -> str:
        """Return a :data:`KINDS` template filled with this quantity's subject and sample."""
        subject = str(self.subject)
        a, _, b = subject.partition("/")
        return template.format(s=subject, a=a, b=b) + (f"[{self.sample}]" if self.sample is not None else "")

    @property
    def name(self) -> str:
        """Return the canonical claim name (``"w1+"`` for step 1, ``"E@10"``, ``"net_h1"``)."""
        return self._fill(KINDS[self.kind][1]) + {0: "", 1: "+"}.get(self.step, f"@{self.step}")

    @property
    def label(self) -> str:
        """Return the label of the node whose value (or gradient) this is: ``"out_o1[2]"``, ``"w1"``
        for dE/dw1, ``"w1[2]"`` for a sample's part, ``A``'s for a factor ``dA/dB``."""
        return self._fill(KINDS[self.kind][2])

    @property
    def below(self) -> str:
        """Return the label of the node a factor or local gradient ``dA/dB`` differentiates by (``B``)."""
        return self._fill("{b}")

    def at(self, step: int) -> Quantity:
        """Return the same quantity at another step."""
        return Quantity(self.kind, self.subject, step, self.sample)


@dataclass(frozen=True)
class Claim:
    """One entry of ``[claims]``: its ``name`` and number as ``written`` (``"w1+"``, ``"0.249921"``),
    the number as a float (``value``) and exactly (``exact``), and the ``quantity`` it is about."""

    name: str
    written: str
    value: float
    exact: Decimal
    quantity: Quantity

    @property
    def unit(self) -> Decimal:
        """Return one unit of the claim's last written digit (``0.001`` for ``0.505``, 1 for ``4``)."""
        exponent = self.exact.as_tuple().exponent
        assert isinstance(exponent, int)
        return Decimal(1).scaleb(exponent)


@dataclass(frozen=True)
class WeightSpec:
    """A weight: the connection ``source -> target`` and its value."""

    source: str
    target: str
    value: float


@dataclass(frozen=True)
class BiasSpec:
    """A bias: its value and the neurons it feeds (one bias Value shared by all of them)."""

    value: float
    neurons: tuple[str, ...]


@dataclass(frozen=True)
class Sample:
    """One sample of a batch: a number per input neuron and per output neuron."""

    inputs: dict[str, float]
    targets: dict[str, float]


@dataclass
class Spec:
    """A parsed and validated derivation file: its keys as attributes (absent options at their
    defaults, an absent title ``''``), with:

    Attributes:
        source: where it came from (a path, or ``"<text>"``), for messages.
        layers: neuron names per layer, input layer first (``activations``: one per later layer).
        inputs, targets: the first sample's.
        weights, biases, claims: in file order (weights and biases by name).
        samples: every sample (one for a file without ``[[samples]]``).
        batched: True when the file has ``[[samples]]`` (claims then name the sample).
        batch: ``"mean"`` or ``"sum"`` of the samples' losses, or ``"each"`` (one update after
            each sample in turn: step k is sample k mod N + 1's).
        momentum, dampening, nesterov, weight_decay: as ``torch.optim.SGD`` takes them.
    """

    source: str
    title: str
    layers: list[list[str]]
    activations: list[str]
    loss: str
    learning_rate: float
    update_biases: bool
    inputs: dict[str, float]
    targets: dict[str, float]
    weights: dict[str, WeightSpec]
    biases: dict[str, BiasSpec]
    claims: list[Claim] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    batched: bool = False
    batch: str = "mean"
    momentum: float = 0.0
    weight_decay: float = 0.0
    dense: bool = True
    dampening: float = 0.0
    nesterov: bool = False

    @property
    def neuron_layer(self) -> dict[str, int]:
        """Return the layer index of every neuron (0 for inputs)."""
        return {n: i for i, layer in enumerate(self.layers) for n in layer}

    @property
    def parameter_names(self) -> list[str]:
        """Return the weights' names then the biases' names, in file order."""
        return [*self.weights, *self.biases]

    def is_trainable(self, parameter: str) -> bool:
        """Return True when gradient descent changes ``parameter`` (biases only with update_biases)."""
        return parameter in self.weights or self.update_biases


# -- the small pieces ---------------------------------------------------------------------------

def _check_name(source: str, key: str, name: str, what: str) -> None:
    if not NAME_PATTERN.match(name):
        raise _fail(source, key, f"{what} name {name!r} must be letters, digits and '_', "
                                 "starting with a letter or '_'")
    if what != "neuron" and (name == "E" or name.startswith(("E_", "net_", "out_"))):
        raise _fail(source, key, f"{what} name {name!r} would read like a claim about a neuron "
                                 "or the loss; rename it (e.g. w1, b1)")


def parse_file(text: str, source: str = "<text>") -> Spec | ExpressionSpec:
    """Return the validated spec of a derivation file: a network's :class:`Spec`, or an
    :class:`~autograd_tiny.derivation.expression.ExpressionSpec` for a file with ``define``
    and no ``layers``; raise UsageError on anything wrong with it."""
    from .expression import parse_expression

    doc = parse_toml(text, source)
    return parse_expression(doc, source) if "define" in doc and "layers" not in doc else _spec(doc, source)


def parse_spec(text: str, source: str = "<text>") -> Spec:
    """Return the validated :class:`Spec` of a derivation file's TOML ``text`` (``source``, its
    name, starts every error message); raise UsageError on anything wrong with it."""
    return _spec(parse_toml(text, source), source)


def _spec(doc: dict[str, Any], source: str) -> Spec:
    check_keys(source, doc, TOP_LEVEL_KEYS, "a derivation file", "every derivation file")

    title = _string(source, "title", doc["title"]) if "title" in doc else ""
    layers, neuron_layer = _layers(source, doc["layers"])
    activations = _activations(source, doc["activation"], len(layers) - 1)

    loss = _string(source, "loss", doc["loss"])
    if loss not in LOSS_NAMES:
        raise _fail(source, "loss", f"unknown loss {loss!r}; choose one of {', '.join(LOSS_NAMES)}")
    _check_softmax(source, loss, activations)

    learning_rate, lr_written, _ = _number(source, "learning_rate", doc["learning_rate"])
    if not learning_rate > 0:
        raise _fail(source, "learning_rate", f"must be greater than 0, got {lr_written}")

    update_biases = _flag(source, "update_biases", doc.get("update_biases", True))

    samples, batched = _samples(source, doc, layers)
    dense = _flag(source, "dense", doc.get("dense", True))
    weights = _weights(source, _table(source, "weights", doc["weights"]), layers, neuron_layer, dense)
    biases = _biases(source, _table(source, "biases", doc.get("biases", {})), neuron_layer, weights)
    if not dense:
        _check_connected(source, layers, weights, biases)
    batch = _string(source, "batch", doc.get("batch", "mean"))
    if batch not in ("mean", "sum", "each"):
        raise _fail(source, "batch", f"expected \"mean\", \"sum\" or \"each\" (an update after each "
                                     f"sample in turn), got {short_repr(batch, 30)}")
    if "batch" in doc and not batched:
        raise _fail(source, "batch", "only a file with [[samples]] has a batch; add the samples "
                                     "or leave batch out")
    momentum = _option(source, doc, "momentum", upper=1.0)
    dampening = _option(source, doc, "dampening", upper=1.0 + 1e-12)
    nesterov = _flag(source, "nesterov", doc.get("nesterov", False))
    if (dampening or nesterov) and not momentum:
        key = "dampening" if dampening else "nesterov"
        raise _fail(source, key, "applies to momentum only; add momentum > 0 or leave it out")
    if nesterov and dampening:
        raise _fail(source, "nesterov", "Nesterov momentum needs dampening 0, as torch.optim.SGD")
    weight_decay = _option(source, doc, "weight_decay")

    _check_loss(source, loss, activations[-1], samples, batched)

    spec = Spec(source=source, title=title, layers=layers, activations=activations, loss=loss,
                learning_rate=learning_rate, update_biases=update_biases,
                inputs=samples[0].inputs, targets=samples[0].targets, weights=weights,
                biases=biases, samples=samples, batched=batched, batch=batch,
                momentum=momentum, dampening=dampening, nesterov=nesterov,
                weight_decay=weight_decay, dense=dense)
    spec.claims = read_claims(source, doc, lambda n: parse_quantity(n, spec), estimated_nodes(spec))
    return spec


def estimated_nodes(spec: Spec) -> int:
    """Return about how many nodes the graph of one forward pass of ``spec`` has.

    Counts each neuron's products, sums, bias and activation, a few nodes per output for
    the loss, and the leaves; the checker's cost per step is proportional to it.
    """
    into = Counter(w.target for w in spec.weights.values())
    biased = {n for b in spec.biases.values() for n in b.neurons}
    per_sample = sum(2 * into[n] + (n in biased) + (spec.activations[i] != "identity")
                     for i, layer in enumerate(spec.layers[1:]) for n in layer)
    per_sample += 4 * len(spec.layers[-1]) + len(spec.layers[0])
    return per_sample + len(spec.weights) + len(spec.biases)


def _samples(source: str, doc: dict[str, Any], layers: list[list[str]]) -> tuple[list[Sample], bool]:
    """Return the samples (``[inputs]``/``[targets]``, or every ``[[samples]]`` table) and
    whether the file is a batch."""
    batched = "samples" in doc
    for key in ("inputs", "targets"):
        if batched and key in doc:
            raise _fail(source, key, "a file with [[samples]] gives each sample's inputs and "
                                     "targets in its [[samples]] table; remove this one")
        if not batched and key not in doc:
            raise _fail(source, key, "missing; give [inputs] and [targets], or one "
                                     "[[samples]] table per sample of a batch")
    tables = doc["samples"] if batched else [{"inputs": doc["inputs"], "targets": doc["targets"]}]
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise _fail(source, "samples", "expected [[samples]] tables, each with inputs = {...} "
                                       "and targets = {...}")
    samples: list[Sample] = []
    for i, table in enumerate(tables):
        key = f"samples[{i}]"
        for name in table:
            if name not in ("inputs", "targets"):
                raise _fail(source, f"{key}.{name}", "unknown key; a sample has inputs and targets")
        for name in ("inputs", "targets"):
            if name not in table:
                raise _fail(source, key, f"missing {name}; write {name} = {{...}} in every [[samples]]")
        prefix = f"{key}." if batched else ""
        samples.append(Sample(
            _values_for(source, f"{prefix}inputs", table["inputs"], layers[0], "input"),
            _values_for(source, f"{prefix}targets", table["targets"], layers[-1], "output")))
    return samples, batched


def _option(source: str, doc: dict[str, Any], key: str, upper: float | None = None) -> float:
    """Return an optional number >= 0 (below ``upper`` when given), 0 when absent."""
    if key not in doc:
        return 0.0
    value, written, _ = _number(source, key, doc[key])
    if value < 0 or (upper is not None and value >= upper):
        bound = f"from 0 up to (not including) {upper:g}" if upper is not None else ">= 0"
        raise _fail(source, key, f"must be {bound}, got {written}")
    return value


def _check_softmax(source: str, loss: str, activations: list[str]) -> None:
    """Raise unless softmax is only on the output layer and cross-entropy only over softmax."""
    if "softmax" in activations[:-1]:
        raise _fail(source, "activation", "softmax is for the output layer only; give the hidden "
                                          "layers another activation")
    if loss == "cross_entropy" and activations[-1] != "softmax":
        raise _fail(source, "loss", "cross_entropy takes probabilities from a softmax output "
                                    "layer; make the last activation softmax")
    if activations[-1] == "softmax" and loss in ("binary_cross_entropy", "hinge"):
        raise _fail(source, "loss", f"{loss} does not go with a softmax output layer; use "
                                    "cross_entropy")


def _check_connected(source: str, layers: list[list[str]], weights: dict[str, WeightSpec],
                     biases: dict[str, BiasSpec]) -> None:
    """Raise when a sparse network has a neuron with no input or a hidden neuron with no use."""
    into = {w.target for w in weights.values()} | {n for b in biases.values() for n in b.neurons}
    out_of = {w.source for w in weights.values()}
    for i, layer in enumerate(layers):
        for n in layer:
            if i and n not in into:
                raise _fail(source, "weights", f"neuron {n} takes no weight and no bias; "
                                               "connect it to the layer before")
            if i < len(layers) - 1 and n not in out_of:
                raise _fail(source, "weights", f"neuron {n} feeds no neuron of the next layer, so "
                                               "the loss does not depend on it; connect it or "
                                               "remove it")


def _check_loss(source: str, loss: str, output_activation: str, samples: list[Sample],
                batched: bool) -> None:
    """Raise when the loss cannot take the samples' targets or the output layer's values."""
    if loss == "binary_cross_entropy" and output_activation != "sigmoid":
        raise _fail(source, "loss", f"binary_cross_entropy needs outputs in [0, 1], which the "
                                    f"output layer's {output_activation} activation does not keep; "
                                    "use a sigmoid output layer")
    for i, sample in enumerate(samples):
        key = f"samples[{i}].targets" if batched else "targets"
        for name, t in sample.targets.items():
            if loss == "hinge" and t not in (-1.0, 1.0):
                raise _fail(source, f"{key}.{name}", f"hinge needs targets -1 or +1, got {t:g}; "
                                                      "write 0/1 labels as -1/+1")
            if loss in ("binary_cross_entropy", "cross_entropy") and not 0.0 <= t <= 1.0:
                raise _fail(source, f"{key}.{name}", f"{loss} needs targets from 0 to 1, got {t:g}")


def _layers(source: str, value: object) -> tuple[list[list[str]], dict[str, int]]:
    """Return the neuron names per layer and the layer of each neuron."""
    example = 'layers = [["x1", "x2"], ["h1", "h2"], ["o1"]]'
    if not isinstance(value, list) or not all(isinstance(layer, list) for layer in value):
        raise _fail(source, "layers", f"expected a list of lists of neuron names, like {example}")
    if len(value) < 2:
        raise _fail(source, "layers", f"needs at least an input and an output layer, like {example}; "
                                      f"got {len(value)} layer(s)")
    layers: list[list[str]] = []
    layer_of: dict[str, int] = {}
    for i, layer in enumerate(value):
        key = f"layers[{i}]"
        if not layer:
            raise _fail(source, key, "is empty; every layer needs at least one neuron")
        layers.append([])
        for written in layer:
            name = _neuron(source, key, written, "(strings)")
            _check_name(source, key, name, "neuron")
            if name in layer_of:
                raise _fail(source, key, f"neuron {name!r} is already in layer {layer_of[name]}; "
                                         "neuron names must be unique")
            layer_of[name] = i
            layers[i].append(name)
    return layers, layer_of


def _activations(source: str, value: object, count: int) -> list[str]:
    names = [value] if isinstance(value, str) and not isinstance(value, Literal) else value
    if not isinstance(names, list):
        raise _fail(source, "activation", f"expected a name or a list of names, got {_kind_of(value)}")
    for name in names:
        if not isinstance(name, str) or name not in ACTIVATION_NAMES:
            shown = repr(name) if isinstance(name, str) else _kind_of(name)
            raise _fail(source, "activation", f"unknown activation {shown}; "
                                              f"choose one of {', '.join(ACTIVATION_NAMES)}")
    if isinstance(value, list) and len(names) != count:
        raise _fail(source, "activation", f"{len(names)} activations listed but the network has {count} "
                                          "layers after the input layer; give one per layer or a single name")
    return list(names) * (count if isinstance(value, str) else 1)


def _values_for(source: str, key: str, value: object, neurons: list[str], what: str) -> dict[str, float]:
    table = _table(source, key, value)
    for name in table:
        if name not in neurons:
            raise _fail(source, f"{key}.{name}", f"{name!r} is not an {what} neuron; "
                                                 f"the {what} layer is {', '.join(neurons)}")
    missing = [n for n in neurons if n not in table]
    if missing:
        raise _fail(source, key, f"no value for {what} neuron(s) {', '.join(missing)}; "
                                 f"give one per {what} neuron ({', '.join(neurons)})")
    return {n: _number(source, f"{key}.{n}", table[n])[0] for n in neurons}


def _neuron(source: str, key: str, name: object, where: str, known: dict[str, int] | None = None) -> str:
    """Return a neuron name written at ``key`` (one of ``known`` when given), or raise."""
    if not isinstance(name, str) or isinstance(name, Literal):
        raise _fail(source, key, f"expected neuron names {where}, got {_kind_of(name)}")
    if known is not None and name not in known:
        raise _fail(source, key, f"unknown neuron {name!r}; the neurons are {', '.join(known)}")
    return name


def _weights(source: str, table: dict[str, Any], layers: list[list[str]],
             neuron_layer: dict[str, int], dense: bool) -> dict[str, WeightSpec]:
    weights: dict[str, WeightSpec] = {}
    pairs: dict[tuple[str, str], str] = {}
    for name, value in table.items():
        key = f"weights.{name}"
        _check_name(source, key, name, "weight")
        if not isinstance(value, list) or len(value) != 3:
            raise _fail(source, key, f'expected [from, to, value], like {name} = ["x1", "h1", 0.15]')
        src, dst = (_neuron(source, key, end, "in [from, to, value]", neuron_layer) for end in value[:2])
        if neuron_layer[dst] != neuron_layer[src] + 1:
            raise _fail(source, key, f"connects {src} (layer {neuron_layer[src]}) to {dst} "
                                     f"(layer {neuron_layer[dst]}); a weight goes from one layer "
                                     "to the next")
        if (src, dst) in pairs:
            raise _fail(source, key, f"duplicate weight: {pairs[(src, dst)]} already connects "
                                     f"{src} to {dst}")
        pairs[(src, dst)] = name
        weights[name] = WeightSpec(src, dst, _number(source, key, value[2])[0])
    for before, after in zip(layers, layers[1:]) if dense else ():
        for dst, src in product(after, before):
            if (src, dst) not in pairs:
                raise _fail(source, "weights", f"missing weight from {src} to {dst}; every neuron takes "
                                               "one weight from each neuron of the layer before, "
                                               f'e.g. w_{src}_{dst} = ["{src}", "{dst}", 0.1] '
                                               "(or write dense = false for a sparse network)")
    return weights


def _biases(source: str, table: dict[str, Any], neuron_layer: dict[str, int],
            weights: dict[str, WeightSpec]) -> dict[str, BiasSpec]:
    biases: dict[str, BiasSpec] = {}
    fed: dict[str, str] = {}
    for name, value in table.items():
        key = f"biases.{name}"
        _check_name(source, key, name, "bias")
        if name in weights:
            raise _fail(source, key, f"{name!r} is already a weight's name; "
                                     "weights and biases need different names")
        if not isinstance(value, list) or len(value) < 2:
            raise _fail(source, key, f'expected [value, neuron, ...], like {name} = [0.35, "h1", "h2"]')
        number = _number(source, key, value[0])[0]
        neurons: list[str] = []
        for written in value[1:]:
            n = _neuron(source, key, written, "after the value", neuron_layer)
            if neuron_layer[n] == 0:
                raise _fail(source, key, f"{n!r} is an input neuron; biases feed hidden and output neurons")
            if n in fed:
                raise _fail(source, key, f"neuron {n!r} already has bias {fed[n]}; "
                                         "a neuron takes at most one")
            fed[n] = name
            neurons.append(n)
        if len({neuron_layer[n] for n in neurons}) > 1:
            raise _fail(source, key, "feeds neurons of different layers; one bias may be shared "
                                     "by neurons of one layer only")
        biases[name] = BiasSpec(number, tuple(neurons))
    return biases


# -- claims -----------------------------------------------------------------------------------

_STEP = re.compile(r"(?P<base>.*?)(?:\[(?P<sample>[0-9]+)\])?(?:(?P<plus>\+)|@(?P<k>[0-9]+))?\Z",
                   re.DOTALL)

#: The claims about one hidden or output neuron, by the prefix before its name: their kind and
#: what a message calls them.
_NEURON_CLAIMS = {"E_": ("E_term", "a loss term"), "dE/dout_": ("dout", "dE/dout"),
                  "dE/dnet_": ("dnet", "dE/dnet"), "net_": ("net", "a net input"), "out_": ("out", "out_N")}


def step_count(digits: str) -> int:
    """Return the number of steps written after ``@`` (``digits``, decimal digits).

    Raises:
        ValueError: more than :data:`MAX_STEPS`.
    """
    if len(digits.lstrip("0")) > 20:  # int() of more than 4300 digits would raise
        raise ValueError(f"{len(digits.lstrip('0'))}-digit step counts are more than the {MAX_STEPS} "
                         "this checker trains for")
    if int(digits) > MAX_STEPS:
        raise ValueError(f"{int(digits)} steps is more than the {MAX_STEPS} this checker trains for")
    return int(digits)


def parse_quantity(name: str, spec: Spec) -> Quantity:
    """Return the :class:`Quantity` a claim name refers to.

    Raises:
        ValueError: the name does not name anything in ``spec`` (the message says why).
    """
    m = _STEP.match(name.strip())
    assert m is not None
    base, k, written = m.group("base", "k", "sample")
    step = 1 if m.group("plus") else step_count(k) if k is not None else 0
    sample = None
    if written is not None:  # a sample number [s]
        if not spec.batched:
            raise ValueError("only a file with [[samples]] names samples; leave out the [...]")
        if len(written.lstrip("0")) > 20 or not 1 <= int(written) <= len(spec.samples):
            raise ValueError(f"sample {short_repr(written, 20).strip(chr(39))} does not exist; the "
                             f"samples are numbered 1 to {len(spec.samples)}")
        sample = int(written)
    q = _base_quantity(base, k is not None, step, spec)
    shared = q.kind in ("param", "velocity", "rgrad", "Ereg")  # one number for the whole batch
    if spec.batched and sample is None and not shared and q.kind not in ("E", "grad"):
        raise ValueError(f"{base} belongs to one sample of the batch; name it, e.g. "
                         f"{base}[1] for the first of {len(spec.samples)}")
    if shared and sample is not None:
        raise ValueError(f"{base} is shared by every sample; leave out [{sample}]")
    return Quantity(q.kind, q.subject, step, sample)


def _base_quantity(base: str, has_k: bool, step: int, spec: Spec) -> Quantity:
    """Return the quantity named by ``base`` (a claim name without sample and step)."""
    layer_of, params = spec.neuron_layer, {**spec.weights, **spec.biases}
    if base == "E":
        return Quantity("E", None, step)
    if base == "E_reg" and "reg" not in layer_of:
        return Quantity("Ereg", None, step)
    if base.startswith("dE_reg/d") and base[8:] in params:
        return Quantity("rgrad", base[8:], step)
    if base.startswith("v_") and base[2:] in params and base not in params:
        if not spec.momentum:
            raise ValueError(f"{base} is a momentum velocity; the file has no momentum")
        if not spec.is_trainable(base[2:]):
            raise ValueError(f"{base[2:]} is not trained (update_biases = false): it has no velocity")
        if step == 0:
            raise ValueError(f"{base} is the velocity after a step: claim {base}+ or {base}@K")
        return Quantity("velocity", base[2:], step)
    if base.startswith("E_") and base[2:] in layer_of and base[2:] not in spec.layers[-1]:
        raise ValueError(f"{base[2:]} is not an output neuron; loss terms E_N exist for "
                         f"{', '.join(spec.layers[-1])}")
    for prefix, (kind, what) in _NEURON_CLAIMS.items():
        if base.startswith(prefix):
            return Quantity(kind, _claimed_neuron(base[len(prefix):], what, spec), step)
    if base.startswith("dE/d"):
        p = base[4:]
        if p in spec.layers[0]:
            return Quantity("dx", p, step)
        if p in layer_of:
            raise ValueError(f"{p} is a neuron, not a weight or bias; write dE/dout_{p} or dE/dnet_{p}")
        if p not in params:
            raise ValueError(f"no weight or bias {short_repr(p, 40)}; the parameters are {', '.join(params)}")
        return Quantity("grad", p, step)
    top, slash, bottom = base[1:].partition("/d")  # dA/dB: A and B
    if slash and base.startswith("dE_"):
        return Quantity("factor", _term_part(top, bottom, spec), step)
    if slash and base.startswith(("dnet_", "dout_")):
        return Quantity("factor", _factor(top, bottom, spec), step)
    if base in params:
        if step == 0 and not has_k:
            raise ValueError(f"{base} alone is the file's own value; claim {base}+ or {base}@K "
                             "for its value after one or K steps")
        return Quantity("param", base, step)
    raise ValueError(f"names nothing; claims are {CLAIM_FORMS}")


def _claimed_neuron(n: str, what: str, spec: Spec) -> str:
    """Return ``n`` after checking that it is a hidden or output neuron (``what`` is the claim)."""
    if n not in spec.neuron_layer:
        raise ValueError(f"no neuron {short_repr(n, 40)}; the neurons are {', '.join(spec.neuron_layer)}")
    if n in spec.layers[0]:
        raise ValueError(f"{n} is an input neuron; {what} exists for hidden and output neurons")
    return n


def _term_part(top: str, bottom: str, spec: Spec) -> str:
    """Return the subject ``"E_N/B"`` of ``dE_N/dB`` (``top`` is ``E_N``): output ``N``'s loss term
    differentiated by a neuron's ``out_M`` or ``net_M``, a parameter or an input (its part of ``dE/dB``)."""
    outputs = spec.layers[-1]
    if top[2:] not in outputs or len(outputs) < 2:
        terms = ", ".join(f"E_{o}" for o in outputs) if len(outputs) > 1 else "none: E is the one term"
        raise ValueError(f"{short_repr(top, 30)} is no output's loss term; the terms are {terms}")
    kind, _, m = bottom.partition("_")
    if not (bottom in spec.weights or bottom in spec.biases or bottom in spec.layers[0]
            or (kind in ("out", "net") and spec.neuron_layer.get(m, 0) > 0)):
        raise ValueError(f"{top} cannot be differentiated by {short_repr(bottom, 30)}: write "
                         f"d{top}/dout_M, d{top}/dnet_M, d{top}/dP or d{top}/dX")
    return f"{top}/{bottom}"


def _factor(top: str, bottom: str, spec: Spec) -> str:
    """Return the subject ``"A/B"`` of a chain-rule factor ``dA/dB`` (``top`` is ``A``, ``out_N`` or
    ``net_N``) after checking it is one."""
    n = _claimed_neuron(top[4:], "a factor", spec)
    layer = spec.neuron_layer[n]
    activation = spec.activations[layer - 1]
    into = {w.source: name for name, w in spec.weights.items() if w.target == n}
    bias = [name for name, b in spec.biases.items() if n in b.neurons]
    source = bottom.removeprefix("out_")
    if top.startswith("out_") and activation == "softmax":
        if not bottom.startswith("net_") or spec.neuron_layer.get(bottom[4:]) != layer:
            raise ValueError(f"out_{n} is a softmax of its layer's net inputs; the factors are "
                             f"dout_{n}/dnet_M for M in {', '.join(spec.layers[layer])}")
    elif top.startswith("out_"):
        if bottom != f"net_{n}":
            raise ValueError(f"out_{n} depends on net_{n} alone (through its activation); "
                             f"the factor is dout_{n}/dnet_{n}")
        if activation == "identity":
            raise ValueError(f"{n}'s activation is identity: out_{n} is net_{n}, the factor is 1")
    elif bottom in spec.weights and spec.weights[bottom].target != n:
        raise ValueError(f"{bottom} goes into {spec.weights[bottom].target}, not {n}; "
                         f"net_{n} does not depend on it")
    elif not (bottom in spec.weights or bottom in bias
              or (source in into and (bottom.startswith("out_") or source in spec.layers[0]))):
        choices = [f"d{'out_' if spec.neuron_layer[m] else ''}{m}" for m in into]
        choices += [f"d{p}" for p in [*into.values(), *bias]]
        raise ValueError(f"net_{n} does not depend directly on {short_repr(bottom, 40)}; its factors "
                         f"are dnet_{n}/ with {', '.join(choices)}")
    return f"{top}/{bottom}"


def read_claims(source: str, doc: dict[str, Any], quantity_of: Callable[[str], Quantity], nodes: int,
                what: str = "network") -> list[Claim]:
    """Return the claims of a file's ``[claims]`` table, in file order, each quantity named by
    ``quantity_of`` (a grammar's name reader, raising ValueError with the problem).

    Raises:
        UsageError: a name names nothing, a value is no number a float can tell apart, or the
            claims ask for more steps than the checker trains through in about a minute
            (:data:`STEP_BUDGET`) for a ``what`` of about ``nodes`` graph nodes.
    """
    claims: list[Claim] = []
    for name, value in _table(source, "claims", doc.get("claims", {})).items():
        key = f'claims."{name}"' if not NAME_PATTERN.match(name) else f"claims.{name}"
        if not name.isprintable():
            raise _fail(source, key, "a claim name cannot hold control characters such as a "
                                     "newline or an escape; write the name on one line")
        try:
            quantity = quantity_of(name)
        except ValueError as exc:
            raise _fail(source, key, str(exc)) from None
        number, written, exact = _number(source, key, value)
        exponent = exact.as_tuple().exponent
        assert isinstance(exponent, int)
        if not -1100 <= exponent <= 308:  # the last digit from below the smallest float to 10^308
            raise _fail(source, key, f"{short_repr(written, 40).strip(chr(39))} puts its last digit "
                                     f"at 10^{exponent}, beyond what a float can tell apart; write "
                                     "the number with ordinary digits (e.g. 0.0 or 1.5e-30)")
        claims.append(Claim(name=name, written=written, value=number, exact=exact, quantity=quantity))
    last = max(claims, key=lambda c: c.quantity.step, default=None)
    if last is not None and (steps := last.quantity.step) * nodes > STEP_BUDGET:
        raise _fail(source, f'claims."{last.name}"',
                    f"{steps} steps of this {what} (about {nodes} graph nodes per step) would take "
                    f"about {steps * nodes / STEP_BUDGET:.0f} minutes to check; claim at most about "
                    f"{STEP_BUDGET // nodes} steps, or train it with autograd-tiny train and write "
                    "the figure you get")
    return claims
