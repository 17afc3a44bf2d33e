"""Reading derivation files: TOML in, a validated :class:`Spec` out.

A derivation file describes a small fully connected network with its numbers
(inputs, targets, weights, biases, activation, loss, learning rate) and the
figures a hand derivation arrived at (``[claims]``). This module parses the TOML
with :mod:`tomllib` (never evaluating anything), keeps every float exactly as it
was written (so the checker knows each claim's precision) and checks the file
thoroughly. Every problem raises :class:`autograd_tiny.errors.UsageError` with a
one-line message that names the file, the key and what to do.

Claim names (``N`` a neuron, ``P`` a weight or bias, ``K`` a number of steps):

* ``net_N``, ``out_N``: a neuron's net input and output;
* ``E`` (the loss) and ``E_N`` (the term of output neuron ``N``);
* ``dE/dP``, ``dE/dout_N``, ``dE/dnet_N`` (the neuron's delta);
* ``P+``: ``P`` after one gradient-descent step; ``net_N+``, ``out_N+``, ``E+``,
  ``E_N+``, ``dE/d...+``: the same quantities after that step;
* ``X@K``: quantity ``X`` after ``K`` steps (``X+`` is ``X@1``, ``X@0`` is ``X``).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .._numeric import short_repr
from ..errors import UsageError
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
    "inputs": True,
    "targets": True,
    "weights": True,
    "biases": False,
    "claims": False,
}

#: The largest ``K`` a claim ``X@K`` may ask for (training that long takes about a minute).
MAX_STEPS = 200_000

#: What a neuron or parameter name may look like.
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

#: What the quantity kinds mean, for messages and documentation.
KINDS = {
    "net": "net input of a neuron",
    "out": "output of a neuron",
    "E": "the loss",
    "E_term": "one output's term of the loss",
    "grad": "gradient of the loss with respect to a weight or bias",
    "dout": "gradient of the loss with respect to a neuron's output",
    "dnet": "gradient of the loss with respect to a neuron's net input (its delta)",
    "param": "a weight or bias",
}

CLAIM_FORMS = (
    "net_N, out_N, E, E_N, dE/dP, dE/dout_N, dE/dnet_N, P+ (and X+ or X@K for any of them "
    "after one or K steps), with N a neuron and P a weight or bias"
)


class Literal(str):
    """The text of a TOML float exactly as written (``tomllib`` gives it via ``parse_float``)."""


@dataclass(frozen=True)
class Quantity:
    """One number of a derivation: what it is (``kind``), whose (``subject``), and when (``step``).

    ``kind`` is one of :data:`KINDS`; ``subject`` is the neuron name (``net``, ``out``,
    ``E_term``, ``dout``, ``dnet``), the parameter name (``grad``, ``param``) or None
    (``E``); ``step`` is the number of gradient-descent steps taken before it.
    """

    kind: str
    subject: str | None
    step: int

    @property
    def base_name(self) -> str:
        """Return the quantity's name without its step (``"dE/dw5"``, ``"out_h1"``, ``"w1"``)."""
        s = self.subject
        return {
            "net": f"net_{s}",
            "out": f"out_{s}",
            "E": "E",
            "E_term": f"E_{s}",
            "grad": f"dE/d{s}",
            "dout": f"dE/dout_{s}",
            "dnet": f"dE/dnet_{s}",
            "param": f"{s}",
        }[self.kind]

    @property
    def name(self) -> str:
        """Return the canonical claim name (``"w1+"`` for step 1, ``"E@10"``, ``"net_h1"``)."""
        if self.step == 0:
            return self.base_name
        if self.step == 1:
            return self.base_name + "+"
        return f"{self.base_name}@{self.step}"

    def at(self, step: int) -> Quantity:
        """Return the same quantity at another step."""
        return Quantity(self.kind, self.subject, step)


@dataclass(frozen=True)
class Claim:
    """One entry of ``[claims]``.

    Attributes:
        name: the key as written (``"w1+"``).
        written: the number as written (``"0.249921"``).
        value: the number as a float.
        exact: the number as a Decimal (exactly what was written).
        quantity: what the claim is about.
    """

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


@dataclass
class Spec:
    """A parsed and validated derivation file.

    Attributes:
        source: where it came from (a path, or ``"<text>"``), for messages.
        title: the file's title ('' when it has none).
        layers: neuron names per layer, input layer first.
        activations: one activation name per non-input layer.
        loss: a name from :data:`autograd_tiny.nn.LOSSES`.
        learning_rate: the gradient-descent step size.
        update_biases: whether training changes the biases.
        inputs, targets: one number per input neuron / output neuron.
        weights, biases: by name, in file order.
        claims: the claimed figures, in file order.
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

def _fail(source: str, key: str, problem: str) -> UsageError:
    """Return the error for a problem at ``key`` (a dotted TOML path such as ``weights.w1``)."""
    if len(key) > 80:  # a key is the user's text: keep the one-line message short
        key = f"{key[:70]}... ({len(key)} characters)"
    return UsageError(f"{source}: {key}: {problem}")


def _kind_of(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, Literal):
        return f"the number {value}"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def _number(source: str, key: str, value: object) -> tuple[float, str, Decimal]:
    """Return ``(float, text as written, Decimal)`` for a TOML number, or raise naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, (int, Literal)):
        hint = " (write numbers without quotes)" if isinstance(value, str) else ""
        raise _fail(source, key, f"expected a number, got {_kind_of(value)}{hint}")
    written = str(value)
    if isinstance(value, int):
        exact = Decimal(value)
    else:
        try:
            exact = Decimal(written)
        except InvalidOperation:  # pragma: no cover - tomllib only passes valid floats
            raise _fail(source, key, f"{written!r} is not a number") from None
    if not exact.is_finite():
        raise _fail(source, key, f"expected a finite number, got {written}")
    as_float = float(exact)
    if math.isinf(as_float):
        shown = short_repr(value) if isinstance(value, int) else short_repr(written).strip("'")
        raise _fail(source, key, f"{shown} is too large for a float (floats go up to about 1.8e308)")
    return as_float, written, exact


def _string(source: str, key: str, value: object) -> str:
    if not isinstance(value, str) or isinstance(value, Literal):
        raise _fail(source, key, f"expected a string, got {_kind_of(value)}")
    return value


def _table(source: str, key: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(source, key, f"expected a table ([{key}] with one 'name = value' per line), "
                                 f"got {_kind_of(value)}")
    return value


def _check_name(source: str, key: str, name: str, what: str) -> None:
    if not NAME_PATTERN.match(name):
        raise _fail(source, key, f"{what} name {name!r} must be letters, digits and '_', "
                                 "starting with a letter or '_'")
    if what != "neuron" and (name == "E" or name.startswith(("E_", "net_", "out_"))):
        raise _fail(source, key, f"{what} name {name!r} would read like a claim about a neuron "
                                 "or the loss; rename it (e.g. w1, b1)")


def _duplicate_key(text: str) -> str | None:
    """Return 'key' and lines of the first key written twice in one table, or None.

    ``tomllib`` reports a repeated key only as "Cannot overwrite a value"; this finds
    which key it was (for plain ``key = value`` lines).
    """
    seen: dict[tuple[str, str], int] = {}
    table = ""
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.match(r"\[\s*([^\]]+?)\s*\]\s*(#.*)?$", stripped)
        if header and not stripped.startswith("[["):
            table = header.group(1)
            continue
        m = re.match(r'("(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+)\s*=', stripped)
        if m:
            key = m.group(1).strip("\"'")
            first = seen.setdefault((table, key), lineno)
            if first != lineno:
                where = f"[{table}] " if table else ""
                return f"{where}{key!r} is written twice (lines {first} and {lineno}); keep one"
    return None


def _unquoted_key(text: str, message: str) -> str | None:
    """Return advice when the line TOML stopped at starts with a bare key holding / + or @.

    Claim names such as ``dE/dw5``, ``w1+`` and ``E@100`` are no bare TOML keys; they
    need quotes, which is easy to forget.
    """
    at = re.search(r"at line (\d+)", message)
    lines = text.splitlines()
    if at is None or not 1 <= int(at.group(1)) <= len(lines):
        return None
    key = re.match(r"\s*([A-Za-z0-9_-]*[/+@][^=\s]*)\s*=", lines[int(at.group(1)) - 1])
    if key is None:
        return None
    name = key.group(1)
    return (f"line {at.group(1)}: the key {name} needs quotes, since / + and @ cannot be in a "
            f'bare TOML key: write "{name}" = ...')


# -- the file ---------------------------------------------------------------------------------

def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Return the TOML document, with floats as :class:`Literal` strings (their written digits).

    Raises:
        UsageError: the text is not valid TOML (the message says where).
    """
    try:
        return tomllib.loads(text, parse_float=Literal)
    except tomllib.TOMLDecodeError as exc:
        duplicate = _duplicate_key(text) if "overwrite" in str(exc) else None
        unquoted = _unquoted_key(text, str(exc))
        raise UsageError(f"{source}: invalid TOML: {duplicate or unquoted or exc}") from None
    except ValueError:  # int() refuses whole numbers of more than 4300 digits
        raise UsageError(f"{source}: a whole number in the file has more than 4300 digits; "
                         "no float holds it, write a smaller number") from None


def parse_file(text: str, source: str = "<text>") -> Spec | ExpressionSpec:
    """Return the validated spec of a derivation file: a network's :class:`Spec`, or an
    :class:`~autograd_tiny.derivation.expression.ExpressionSpec` for a file with ``define``
    and no ``layers``.

    Raises:
        UsageError: anything wrong with the file, in one line naming the key.
    """
    from .expression import is_expression_document, parse_expression

    doc = parse_toml(text, source)
    if is_expression_document(doc):
        return parse_expression(doc, source)
    return parse_spec(text, source)


def parse_spec(text: str, source: str = "<text>") -> Spec:
    """Return the validated :class:`Spec` of a derivation file's text.

    Args:
        text: the TOML text.
        source: the file's name, used in error messages.

    Raises:
        UsageError: anything wrong with the file, in one line naming the key.
    """
    doc = parse_toml(text, source)
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            raise _fail(source, key, f"unknown key; a derivation file has {', '.join(TOP_LEVEL_KEYS)}")
    for key, required in TOP_LEVEL_KEYS.items():
        if required and key not in doc:
            raise _fail(source, key, "missing; every derivation file needs "
                                     f"{', '.join(k for k, r in TOP_LEVEL_KEYS.items() if r)}")

    title = _string(source, "title", doc["title"]) if "title" in doc else ""
    layers = _layers(source, doc["layers"])
    neuron_layer = {n: i for i, layer in enumerate(layers) for n in layer}
    activations = _activations(source, doc["activation"], len(layers) - 1)

    loss = _string(source, "loss", doc["loss"])
    if loss not in LOSSES:
        raise _fail(source, "loss", f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")

    learning_rate, lr_written, _ = _number(source, "learning_rate", doc["learning_rate"])
    if not learning_rate > 0:
        raise _fail(source, "learning_rate", f"must be greater than 0, got {lr_written}")

    update_biases = doc.get("update_biases", True)
    if not isinstance(update_biases, bool):
        raise _fail(source, "update_biases", f"expected true or false, got {_kind_of(update_biases)}")

    inputs = _values_for(source, "inputs", doc["inputs"], layers[0], "input")
    targets = _values_for(source, "targets", doc["targets"], layers[-1], "output")
    weights = _weights(source, _table(source, "weights", doc["weights"]), layers, neuron_layer)
    biases = _biases(source, _table(source, "biases", doc.get("biases", {})), neuron_layer, weights)

    spec = Spec(source=source, title=title, layers=layers, activations=activations, loss=loss,
                learning_rate=learning_rate, update_biases=update_biases, inputs=inputs,
                targets=targets, weights=weights, biases=biases)
    claims = _table(source, "claims", doc.get("claims", {}))
    spec.claims = [_claim(source, name, value, spec) for name, value in claims.items()]
    return spec


def _layers(source: str, value: object) -> list[list[str]]:
    example = 'layers = [["x1", "x2"], ["h1", "h2"], ["o1"]]'
    if not isinstance(value, list) or not all(isinstance(layer, list) for layer in value):
        raise _fail(source, "layers", f"expected a list of lists of neuron names, like {example}")
    if len(value) < 2:
        raise _fail(source, "layers", f"needs at least an input and an output layer, like {example}; "
                                      f"got {len(value)} layer(s)")
    seen: dict[str, int] = {}
    layers: list[list[str]] = []
    for i, layer in enumerate(value):
        if not layer:
            raise _fail(source, f"layers[{i}]", "is empty; every layer needs at least one neuron")
        names: list[str] = []
        for name in layer:
            if not isinstance(name, str) or isinstance(name, Literal):
                raise _fail(source, f"layers[{i}]", f"expected neuron names (strings), got {_kind_of(name)}")
            _check_name(source, f"layers[{i}]", name, "neuron")
            if name in seen:
                raise _fail(source, f"layers[{i}]", f"neuron {name!r} is already in layer {seen[name]}; "
                                                    "neuron names must be unique")
            seen[name] = i
            names.append(name)
        layers.append(names)
    return layers


def _activations(source: str, value: object, count: int) -> list[str]:
    names = [value] if isinstance(value, str) and not isinstance(value, Literal) else value
    if not isinstance(names, list):
        raise _fail(source, "activation", f"expected a name or a list of names, got {_kind_of(value)}")
    for name in names:
        if not isinstance(name, str) or name not in ACTIVATIONS:
            shown = repr(name) if isinstance(name, str) else _kind_of(name)
            raise _fail(source, "activation", f"unknown activation {shown}; "
                                              f"choose one of {', '.join(ACTIVATIONS)}")
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


def _weights(source: str, table: dict[str, Any], layers: list[list[str]],
             neuron_layer: dict[str, int]) -> dict[str, WeightSpec]:
    weights: dict[str, WeightSpec] = {}
    pairs: dict[tuple[str, str], str] = {}
    for name, value in table.items():
        key = f"weights.{name}"
        _check_name(source, key, name, "weight")
        if not isinstance(value, list) or len(value) != 3:
            raise _fail(source, key, f'expected [from, to, value], like {name} = ["x1", "h1", 0.15]')
        src, dst, number = value
        for end in (src, dst):
            if not isinstance(end, str) or isinstance(end, Literal):
                raise _fail(source, key, f"expected neuron names in [from, to, value], got {_kind_of(end)}")
            if end not in neuron_layer:
                raise _fail(source, key, f"unknown neuron {end!r}; the neurons are "
                                         f"{', '.join(neuron_layer)}")
        if neuron_layer[dst] != neuron_layer[src] + 1:
            raise _fail(source, key, f"connects {src} (layer {neuron_layer[src]}) to {dst} "
                                     f"(layer {neuron_layer[dst]}); a weight goes from one layer "
                                     "to the next")
        if (src, dst) in pairs:
            raise _fail(source, key, f"duplicate weight: {pairs[(src, dst)]} already connects "
                                     f"{src} to {dst}")
        pairs[(src, dst)] = name
        weights[name] = WeightSpec(src, dst, _number(source, key, number)[0])
    for i in range(len(layers) - 1):
        for dst in layers[i + 1]:
            for src in layers[i]:
                if (src, dst) not in pairs:
                    raise _fail(source, "weights", f"missing weight from {src} to {dst}; every neuron "
                                                   "takes one weight from each neuron of the layer before, "
                                                   f'e.g. w_{src}_{dst} = ["{src}", "{dst}", 0.1]')
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
        for n in value[1:]:
            if not isinstance(n, str) or isinstance(n, Literal):
                raise _fail(source, key, f"expected neuron names after the value, got {_kind_of(n)}")
            if n not in neuron_layer:
                raise _fail(source, key, f"unknown neuron {n!r}; the neurons are {', '.join(neuron_layer)}")
            if neuron_layer[n] == 0:
                raise _fail(source, key, f"{n!r} is an input neuron; biases feed hidden and output neurons")
            if n in fed:
                raise _fail(source, key, f"neuron {n!r} already has bias {fed[n]}; "
                                         "a neuron takes at most one")
            fed[n] = name
            neurons.append(n)
        layers = {neuron_layer[n] for n in neurons}
        if len(layers) > 1:
            raise _fail(source, key, "feeds neurons of different layers; one bias may be shared "
                                     "by neurons of one layer only")
        biases[name] = BiasSpec(number, tuple(neurons))
    return biases


# -- claims -----------------------------------------------------------------------------------

_STEP = re.compile(r"(?P<base>.*?)(?:(?P<plus>\+)|@(?P<k>[0-9]+))?\Z")


def parse_quantity(name: str, spec: Spec) -> Quantity:
    """Return the :class:`Quantity` a claim name refers to.

    Raises:
        ValueError: the name does not name anything in ``spec`` (the message says why).
    """
    m = _STEP.match(name.strip())
    assert m is not None
    base = m.group("base")
    k = m.group("k")
    if k is not None and len(k.lstrip("0")) > 20:  # int() of more than 4300 digits would raise
        raise ValueError(f"{len(k.lstrip('0'))}-digit step counts are more than the {MAX_STEPS} "
                         "this checker trains for")
    step = 1 if m.group("plus") else int(k) if k is not None else 0
    if step > MAX_STEPS:
        raise ValueError(f"{step} steps is more than the {MAX_STEPS} this checker trains for")
    layer_of = spec.neuron_layer
    inputs, outputs = spec.layers[0], spec.layers[-1]

    def neuron(n: str, what: str) -> str:
        if n not in layer_of:
            raise ValueError(f"no neuron {short_repr(n, 40)}; the neurons are {', '.join(layer_of)}")
        if n in inputs:
            raise ValueError(f"{n} is an input neuron; {what} exists for hidden and output neurons")
        return n

    def parameter(p: str) -> str:
        if p in layer_of:
            raise ValueError(f"{p} is a neuron, not a weight or bias; write dE/dout_{p} or dE/dnet_{p}")
        if p not in spec.weights and p not in spec.biases:
            names = spec.parameter_names
            raise ValueError(f"no weight or bias {short_repr(p, 40)}; the parameters are {', '.join(names)}")
        return p

    if base == "E":
        return Quantity("E", None, step)
    if base.startswith("E_"):
        n = base[2:]
        if n in layer_of and n not in outputs:
            raise ValueError(f"{n} is not an output neuron; loss terms E_N exist for "
                             f"{', '.join(outputs)}")
        return Quantity("E_term", neuron(n, "a loss term"), step)
    if base.startswith("dE/d"):
        rest = base[4:]
        if rest.startswith("out_"):
            return Quantity("dout", neuron(rest[4:], "dE/dout"), step)
        if rest.startswith("net_"):
            return Quantity("dnet", neuron(rest[4:], "dE/dnet"), step)
        return Quantity("grad", parameter(rest), step)
    if base.startswith("net_"):
        return Quantity("net", neuron(base[4:], "a net input"), step)
    if base.startswith("out_"):
        return Quantity("out", neuron(base[4:], "out_N"), step)
    if base in spec.weights or base in spec.biases:
        if step == 0 and not m.group("k"):
            raise ValueError(f"{base} alone is the file's own value; claim {base}+ or {base}@K "
                             "for its value after one or K steps")
        return Quantity("param", base, step)
    raise ValueError(f"names nothing; claims are {CLAIM_FORMS}")


def _claim(source: str, name: str, value: object, spec: Spec) -> Claim:
    key = f'claims."{name}"' if not NAME_PATTERN.match(name) else f"claims.{name}"
    try:
        quantity = parse_quantity(name, spec)
    except ValueError as exc:
        raise _fail(source, key, str(exc)) from None
    number, written, exact = _number(source, key, value)
    return Claim(name=name, written=written, value=number, exact=exact, quantity=quantity)
