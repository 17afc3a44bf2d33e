"""The bug library: the slips of hand backpropagation, each a transformation of the replay.

Every entry of :data:`BUGS` is one misconception, written as a change to the replayed
computation (:mod:`autograd_tiny.derivation.replay`) rather than as a formula: drop a
path of the backward pass, read another named quantity where one belongs (a weight
for another, ``net_h1`` for ``out_h1``), evaluate the table's local derivative at
another point or take another operation's derivative from the table, leave an
operand out, scale a function (``log10`` for ``ln``), or change the update. An entry
yields candidate numbers for a claim, each with a sentence in the student's terms.

:func:`network_hits` searches the whole table for a wrong claim of a network file:
a hint is given only when exactly one entry reproduces the written figure within
its precision (one unit of its last digit), and only from candidates that lie more
than two units from the true value (otherwise the claim cannot tell the slip from a
rounding). Facts that make a number wrong whatever it is (a weight whose input is 0
cannot change) come first. :func:`graph_hint` does the same for expression files with
the entries that make sense on any graph (sign, factors 1/2 and 2, a dropped path).

No derivative is written here: every derivative variant evaluates a table expression
(:data:`autograd_tiny.ops.OPS`) through :func:`~autograd_tiny.derivation.replay.derivative_function`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from .. import formula
from ..ops import OPS
from .format import Claim, Quantity, Spec
from .interpreter import Edits, ValueOf, run_pass
from .interpreter import constant as _constant
from .interpreter import node_value as _reader
from .replay import Key, Replay, Trace, derivative_function, forward_function

#: The activations whose derivative a slipped derivation may use instead of the network's, in
#: the order they are tried. ``identity`` stands for the derivative left out (taken as 1).
OTHER_ACTIVATIONS = ("sigmoid", "tanh", "identity", "relu")

VALUE_KINDS = frozenset({"net", "out", "E", "E_term"})
GRADIENT_KINDS = frozenset({"dout", "dnet", "grad"})
FORWARD_KINDS = VALUE_KINDS | GRADIENT_KINDS
ALL_KINDS = FORWARD_KINDS | {"param"}


def matches(claim: Claim, value: float) -> bool:
    """Return True when the written figure is ``value`` rounded or truncated to its digits
    (the checker's verdict, :func:`autograd_tiny.derivation.checker.matches`)."""
    from .checker import matches as within

    return within(claim, value)


def format_number(value: float, claim: Claim) -> str:
    """Return ``value`` with two more significant digits than the claim is written with."""
    from .checker import format_number as fmt

    return fmt(value, claim)


# -- changing the replay ------------------------------------------------------------------------------

#: A slip's change to one pass is an :class:`~autograd_tiny.derivation.interpreter.Edits`.
Mods = Edits


# -- the entries ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """A number a slip gives, and what the student did (``phrase``; ``clause`` after "which").

    ``slip`` names the slip itself where several variants make it at different places (w6
    read for w7 in the forward or in the backward pass): such variants count as one.
    """

    value: float | None
    phrase: str
    clause: str = ""
    slip: str = ""
    #: the slipped pass's values and gradients, when the slip is a change to the pass
    result: tuple[list[float], list[float]] | None = field(default=None, compare=False, repr=False)

    @property
    def identity(self) -> str:
        """What tells this slip from another: ``slip``, or else the phrase."""
        return self.slip or self.phrase


@dataclass(frozen=True)
class Bug:
    """One misconception of the library.

    Attributes:
        name: a short identifier (``"drop-path"``).
        description: what the student does, for documentation.
        kinds: the quantity kinds it gives candidates for.
        variants: ``(context) -> candidates``.
        through_gradient: for an update claim ``P+``, the slipped gradient gives
            ``P - lr * dE/dP`` (the entry's variants then run on ``dE/dP``).
        fact: a fact that makes the number wrong whatever it is (no number to match).
    """

    name: str
    description: str
    kinds: frozenset[str]
    variants: Callable[[Context], Iterator[Candidate]]
    through_gradient: bool = False
    fact: bool = False


class Context:
    """One wrong claim of a network file and the replay to search with."""

    def __init__(self, spec: Spec, replay: Replay, claim: Claim, trace: Trace,
                 replace: Mapping[Key, float]) -> None:
        self.spec = spec
        self.replay = replay
        self.claim = claim
        self.q = claim.quantity
        self.trace = trace
        self.step = self.q.step - 1 if self.q.kind == "param" else self.q.step
        self.key = replay.key(self.q)
        k = self.step
        self.f_in: dict[int, float] = {**replay.step_inputs(k),
                                       **{w: v for (ch, w, s), v in replace.items()
                                          if ch == "f" and s == k and isinstance(w, int)}}
        # A sample's own derivative (channel "s") stands in the replay at the batch's scale.
        self.g_in: dict[int, float] = {w: v * (replay.sample_scale if ch == "s" else 1.0)
                                       for (ch, w, s), v in replace.items()
                                       if ch in ("g", "s") and s == k and isinstance(w, int)}
        if self.key[0] == "f" and isinstance(self.key[1], int):
            self.f_in.pop(self.key[1], None)
        elif self.key[0] in ("g", "s") and isinstance(self.key[1], int):
            self.g_in.pop(self.key[1], None)
        self.params = trace.params[k]
        self.lr = spec.learning_rate
        self.activation = {n: spec.activations[i - 1] for i, layer in enumerate(spec.layers) if i
                           for n in layer}
        self._base: tuple[list[float], list[float]] | None = None
        #: figures of the claim's step judged ok, by key: a slip must agree with them
        self.ok: list[tuple[Key, Claim]] = []
        self._weights: dict[int, tuple[int, int, int | None]] | None = None

    # the numbers
    def run(self, mods: Mods) -> tuple[list[float], list[float]]:
        return run_pass(self.replay.tape, self.params, replace(mods, values=self.f_in, grads=self.g_in))

    @property
    def base(self) -> tuple[list[float], list[float]]:
        """The unchanged pass (with the written figures put in, for a written trace)."""
        if self._base is None:
            self._base = self.run(Mods())
        return self._base

    def index(self, kind: str, subject: str | None) -> int:
        where = self.replay.key(Quantity(kind, subject, self.step))[1]
        assert isinstance(where, int)
        return where

    def read(self, result: tuple[list[float], list[float]], q: Quantity | None = None) -> float:
        """Return quantity ``q`` (the claim's, for an update its gradient) from a pass."""
        q = q or self.q
        if q.kind == "param":
            q = Quantity("grad", q.subject, self.step)
        vals, grads = result
        key = self.replay.key(q)
        if key[0] == "f":
            return vals[key[1]]  # type: ignore[index]
        if key[0] == "s":  # a sample's own derivative: the batch's divided by d E / d E[s]
            return grads[key[1]] / self.replay.sample_scale  # type: ignore[index]
        return grads[key[1]]  # type: ignore[index]

    def candidate(self, mods: Mods, phrase: str, clause: str = "", slip: str = "") -> Candidate:
        result = self.run(mods)
        return Candidate(self.read(result), phrase, clause or phrase, slip, result)

    def agrees(self, cand: Candidate) -> bool:
        """Return True unless the candidate's slipped pass contradicts a figure judged ok."""
        if cand.result is None:
            return True
        vals, grads = cand.result
        for (channel, where, _), claim in self.ok:
            if not isinstance(where, int) or channel not in ("f", "g", "s"):
                continue
            value = vals[where] if channel == "f" else grads[where]
            if channel == "s":
                value /= self.replay.sample_scale
            if not matches(claim, value):
                return False
        return True

    @property
    def truth(self) -> float:
        """The claim's quantity without any slip (for an update, its gradient)."""
        return self.read(self.base)

    def updated(self, name: str, gradient: float, rate: float | None = None) -> float:
        """Return parameter ``name`` after the claim's step made with ``gradient`` as dE/d``name``
        (and learning rate ``rate``, the file's by default): plain gradient descent, or with the
        file's weight decay and momentum, as the replay's update does."""
        prev = self.params[name]
        velocity = self.trace.velocity.get(self.step, {}).get(name)
        d, _ = self.replay.optimizer.direction(gradient, prev, velocity)
        return prev - (self.lr if rate is None else rate) * d

    def fmt(self, value: float) -> str:
        return format_number(value, self.claim)

    # the network
    def weight_node(self, weight: str) -> tuple[int, int, int | None]:
        """Return (mul node, the weight's position, the other operand's node) of a weight."""
        if self._weights is None:
            found: dict[int, tuple[int, int, int | None]] = {}
            for i, node in enumerate(self.replay.nodes):
                if node.op == "mul":
                    for pos, (j, _) in enumerate(node.operands):
                        if j is not None and j not in found:
                            found[j] = (i, pos, node.operands[1 - pos][0])
            self._weights = found
        return self._weights[self.replay.param_index[weight]]

    def bias_node(self, neuron: str) -> tuple[int, int, str] | None:
        """Return (add node, the bias's position, the bias's name) of a neuron's bias, or None.

        A neuron adds its bias last, so the add node is ``net_<neuron>`` itself.
        """
        for name, b in self.spec.biases.items():
            if neuron in b.neurons:
                p = self.replay.param_index.get(name)
                i = self.index("net", neuron)
                node = self.replay.nodes[i]
                if node.op == "add":
                    for pos, (j, _) in enumerate(node.operands):
                        if j == p:
                            return i, pos, name
        return None

    def own_neurons(self) -> list[str]:
        """Return the neurons a slip at this quantity sits at: a neuron's own (net, out, delta,
        dE/dout), the target of a weight, the neurons a bias feeds, the outputs for the loss."""
        q, s = self.q, self.q.subject
        if q.kind in ("net", "out", "dnet", "dout"):
            assert s is not None
            return [s]
        if s in self.spec.weights:
            return [self.spec.weights[s].target]
        if s in self.spec.biases:
            return list(self.spec.biases[s].neurons)
        return list(self.spec.layers[-1])

    def neurons_of(self) -> list[str]:
        """Return the neurons a quantity belongs to: a delta's, the ones a weight or bias feeds,
        the next layer for a hidden neuron's dE/dout (empty for other kinds)."""
        layer = self.spec.neuron_layer
        q = self.q
        s = q.subject
        if q.kind == "dnet":
            assert s is not None
            return [s]
        if q.kind == "dout":
            assert s is not None
            return list(self.spec.layers[layer[s] + 1]) if layer[s] + 1 < len(self.spec.layers) else []
        if q.kind in ("grad", "param"):
            if s in self.spec.weights:
                return [self.spec.weights[s].target]
            if s in self.spec.biases:
                return list(self.spec.biases[s].neurons)
        return []

    def neuron_groups(self) -> list[list[str]]:
        """Return the neurons a slip in the backward pass may sit at: the quantity's own, then those
        and every neuron of the later layers (the same slip made throughout)."""
        base = self.neurons_of()
        if not base:
            return []
        layer = self.spec.neuron_layer
        first = min(layer[n] for n in base)
        later = [n for lay in self.spec.layers[first + 1:] for n in lay]
        groups = [base, base + [n for n in later if n not in base]]
        return groups[:1] if groups[1] == groups[0] else groups


def _join(names: list[str], limit: int = 4) -> str:
    shown = names[:limit]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(shown) + more


def _formula(expr: str, operands: dict[str, str]) -> str:
    return formula.render(formula.simplify(formula.from_table(expr, operands)))


def derivative_formula(activation: str, x: str = "net", out: str = "out") -> str:
    """Return the table's derivative of an activation as text over ``x`` and ``out`` (simplified)."""
    return _formula(OPS[activation].derivatives[0], {"x": x, "out": out})


# sign, factors ----------------------------------------------------------------------------------------

def _sign(ctx: Context) -> Iterator[Candidate]:
    q = ctx.q
    if q.kind == "param":
        name = q.subject
        g = ctx.truth
        prev = ctx.params[name]  # type: ignore[index]
        if ctx.replay.trainable[name] and g != 0:  # type: ignore[index]
            value = 2 * prev - ctx.updated(name, g)  # type: ignore[arg-type]
            if ctx.spec.momentum or ctx.spec.weight_decay:
                yield Candidate(value, f"the step's sign is flipped: the update adds what it "
                                       f"subtracts from {name}, giving {ctx.fmt(value)}")
            else:
                yield Candidate(value, f"the gradient's sign is flipped: {name} + lr * dE/d{name} = "
                                       f"{ctx.fmt(value)}")
        return
    v = ctx.truth
    what = "the gradient's" if q.kind in GRADIENT_KINDS else "its"
    yield Candidate(-v, f"{what} sign is flipped: the value is {ctx.fmt(v)}",
                    "has the sign flipped")


def _half_missing(ctx: Context) -> Iterator[Candidate]:
    v = ctx.truth
    yield Candidate(2 * v, f"twice the value {ctx.fmt(v)}: a factor 1/2 is missing",
                    "is twice the value: a factor 1/2 is missing")


def _two_missing(ctx: Context) -> Iterator[Candidate]:
    v = ctx.truth
    yield Candidate(v / 2, f"half the value {ctx.fmt(v)}: a factor 2 is missing",
                    "is half the value: a factor 2 is missing")


# updates ------------------------------------------------------------------------------------------------

def _update_parts(ctx: Context) -> tuple[str, float, float]:
    name = ctx.q.subject
    assert name is not None
    return name, ctx.params[name], ctx.truth


def _left_out(ctx: Context) -> Iterator[Candidate]:
    name, prev, g = _update_parts(ctx)
    k = ctx.step
    before = "before the step" if k == 0 else f"after {k} step{'s' if k != 1 else ''}"
    if ctx.replay.trainable[name] and g != 0:
        yield Candidate(prev, f"matches {name} {before}: the update was left out")


def _frozen_bias(ctx: Context) -> Iterator[Candidate]:
    name, prev, g = _update_parts(ctx)
    if ctx.replay.trainable[name] or g == 0:
        return
    phrase = (f"{name} is a bias and update_biases = false, so it keeps its value {prev:g}; "
              "the claim updates it")
    yield Candidate(ctx.updated(name, g), phrase)
    yield Candidate(2 * prev - ctx.updated(name, g), phrase)


def _learning_rate(ctx: Context) -> Iterator[Candidate]:
    # A round rate (one or two significant digits) that the claim pins down to within 10% and
    # singles out among the rates written with as many digits: a tiny gradient would let almost
    # any rate "match", and a precise claim almost always matches some two-digit rate.
    name, prev, g = _update_parts(ctx)
    c = ctx.claim
    if not ctx.replay.trainable[name] or g == 0:
        return
    d = prev - ctx.updated(name, g, rate=1.0)  # the step the rate multiplies (with momentum, decay)
    if d == 0:
        return
    implied = (prev - c.value) / d
    window = float(c.unit) / abs(d)
    for digits in (1, 2):
        rate = float(f"{implied:.{digits}g}")
        if rate <= 0 or math.isclose(rate, ctx.lr):
            continue
        spacing = 10.0 ** (math.floor(math.log10(rate)) - digits + 1)
        if window <= 0.1 * rate and window < spacing / 2:
            yield Candidate(ctx.updated(name, g, rate), f"matches the update with learning rate {rate:g} "
                                             f"instead of {ctx.lr:g}")


def _other_gradient(ctx: Context) -> Iterator[Candidate]:
    name, prev, _ = _update_parts(ctx)
    if not ctx.replay.trainable[name]:
        return
    for other in ctx.spec.parameter_names:
        if other == name:
            continue
        g = ctx.read(ctx.base, Quantity("grad", other, ctx.step))
        yield Candidate(ctx.updated(name, g), f"matches the update of {name} made with another weight's "
                                           f"gradient, dE/d{other} = {ctx.fmt(g)}")


def _updated_weights(ctx: Context) -> Iterator[Candidate]:
    k = ctx.step
    if k + 1 not in ctx.trace.params:
        return
    mods = Mods(derivative_params=ctx.trace.params[k + 1])
    g = ctx.read(ctx.run(mods))
    if ctx.q.kind == "param":
        name, prev, _ = _update_parts(ctx)
        if ctx.replay.trainable[name]:
            yield Candidate(ctx.updated(name, g), f"matches an update whose dE/d{name} = {ctx.fmt(g)} "
                                               "used the updated weights in the backward pass "
                                               "instead of the original ones")
        return
    yield Candidate(g, f"matches the gradient computed with the updated weights in the backward "
                       f"pass ({ctx.fmt(g)}) instead of the original ones")


def _zero_input(ctx: Context) -> Iterator[Candidate]:
    name = ctx.q.subject
    w = ctx.spec.weights.get(name or "")
    if w is None or name is None:
        return
    if w.source in ctx.spec.inputs:
        # In a batch the weight's gradient is 0 only when the input is 0 in every sample.
        if any(sample.inputs[w.source] != 0.0 for sample in ctx.spec.samples):
            return
        zero = f"the input {w.source} is 0"
    else:
        if ctx.spec.batched:
            return  # out_{source} is a sample's; the batch's gradient sums over all of them
        if ctx.base[0][ctx.index("out", w.source)] != 0.0:
            return
        zero = f"out_{w.source} is 0"
    if ctx.q.kind == "param":
        if ctx.updated(name, 0.0) != ctx.params[name]:
            return  # weight decay, or a velocity from earlier steps, still moves it
        yield Candidate(None, f"{zero}, so dE/d{name} = 0 and {name} cannot change: it stays "
                              f"{ctx.params[name]:g}")
    elif ctx.truth == 0.0:
        yield Candidate(None, f"{zero}, so dE/d{name} = 0")


# the backward pass ----------------------------------------------------------------------------------

def _other_derivative(ctx: Context) -> Iterator[Candidate]:
    # A variant giving an earlier one's number (a wider group where the written figures leave
    # nothing to change, relu's 1 at a positive net input) is no variant of its own.
    given: dict[str, float] = {}
    for group in ctx.neuron_groups():
        neurons = [n for n in group if n in ctx.replay.activation_nodes]
        for other in OTHER_ACTIVATIONS:
            swapped = [n for n in neurons if ctx.activation[n] != other]
            if not swapped:
                continue
            exprs = None if other == "identity" else OPS[other].derivatives
            mods = Mods(derivative={ctx.replay.activation_nodes[n]: exprs for n in swapped})
            where = _where(ctx, swapped)
            if other == "identity":
                phrase = f"leaves out the activation's derivative (takes it as 1, as for identity) {where}"
            else:
                phrase = f"uses {other}'s derivative {derivative_formula(other)} {where}"
            cand = ctx.candidate(mods, phrase)
            value = cand.value if cand.value is not None else math.nan
            if any(math.isclose(value, v, rel_tol=1e-12) for v in given.values()):
                continue  # relu's derivative is identity's at a positive net input
            given[phrase] = value
            yield cand


def _where(ctx: Context, neurons: list[str]) -> str:
    by_activation: dict[str, list[str]] = {}
    for n in neurons:
        by_activation.setdefault(ctx.activation[n], []).append(f"net_{n}")
    return " and ".join(f"at {_join(nets, limit=len(nets))} where the network's {act} needs "
                        f"{derivative_formula(act)}" for act, nets in by_activation.items())


def _derivative_at_net(ctx: Context) -> Iterator[Candidate]:
    given: list[float] = []  # a wider group giving the same number changes nothing more
    for group in ctx.neuron_groups():
        neurons = [n for n in group if n in ctx.replay.activation_nodes
                   and "out" in _reads(ctx.activation[n])]
        if not neurons:
            continue
        mods = Mods()
        for n in neurons:
            i = ctx.replay.activation_nodes[n]
            mods.d_out[i] = _reader(ctx.index("net", n))
        acts = sorted({ctx.activation[n] for n in neurons})
        written = " and ".join(f"{a}' as {derivative_formula(a, 'net', 'net')} instead of "
                               f"{derivative_formula(a)}" for a in acts)
        nets = ", ".join(f"net_{n}" for n in neurons)
        cand = ctx.candidate(mods, f"evaluates the derivative at the net input instead of the "
                                   f"output: writes {written} at {nets}")
        value = cand.value if cand.value is not None else math.nan
        if not any(math.isclose(value, v, rel_tol=1e-12) for v in given):
            given.append(value)
            yield cand


def _reads(activation: str) -> frozenset[str]:
    from .. import codegen

    return codegen.names_used(OPS[activation].derivatives[0])


def _output_derivative_at_hidden(ctx: Context) -> Iterator[Candidate]:
    outputs = ctx.spec.layers[-1]
    hidden = [n for n in (ctx.neuron_groups() or [[]])[0]
              if n not in outputs and n in ctx.replay.activation_nodes]
    for n in hidden:
        i = ctx.replay.activation_nodes[n]
        act = ctx.activation[n]
        for o in outputs:
            if ctx.activation[o] != act:
                continue
            mods = Mods(d_operand={(i, 0): _reader(ctx.index("net", o))},
                        d_out={i: _reader(ctx.index("out", o))})
            yield ctx.candidate(mods, f"uses the output neuron's derivative "
                                      f"{derivative_formula(act, f'net_{o}', f'out_{o}')} at net_{n} "
                                      f"where {derivative_formula(act, f'net_{n}', f'out_{n}')} belongs")


def _drop_path(ctx: Context) -> Iterator[Candidate]:
    spec = ctx.spec
    base_vals, base_grads = ctx.base
    outputs = set(spec.layers[-1])
    own = ctx.own_neurons()
    # Hidden neurons: dE/dout_h sums one path per neuron of the next layer.
    for h in own:
        if h in outputs:
            continue
        for w_name, w in spec.weights.items():
            if w.source != h:
                continue
            i, pos, _ = ctx.weight_node(w_name)
            d = derivative_function("mul")(*_xy(ctx, i, base_vals), base_vals[i])
            term = base_grads[i] * d[1 - pos]
            phrase = (f"dE/dout_{h} leaves out the path through {w.target}: it should add "
                      f"dE/dnet_{w.target} * {w_name} = {ctx.fmt(term)}")
            yield ctx.candidate(Mods(drop={(i, 1 - pos)}), phrase)
    # Shared biases: the gradient sums one term per neuron the bias feeds.
    for b_name, b in spec.biases.items():
        if len(b.neurons) < 2 or not set(b.neurons) & set(own):
            continue
        for n in b.neurons:
            found = ctx.bias_node(n)
            if found is None:
                continue
            i, pos, _ = found
            others = [m for m in b.neurons if m != n]
            term = base_grads[ctx.index("net", n)]
            phrase = (f"dE/d{b_name} counts only {_join(others)} of the neurons {b_name} feeds: "
                      f"it should add dE/dnet_{n} = {ctx.fmt(term)}")
            yield ctx.candidate(Mods(drop={(i, pos)}), phrase)


def _xy(ctx: Context, i: int, vals: list[float]) -> tuple[float, float]:
    ops = ctx.replay.nodes[i].operands
    got = [vals[j] if j is not None else c for j, c in ops] + [0.0]
    return got[0], got[1]


def _input_factor(ctx: Context) -> Iterator[Candidate]:
    name = ctx.q.subject
    w = ctx.spec.weights.get(name or "")
    if w is None:
        return
    i, pos, _ = ctx.weight_node(name)  # type: ignore[arg-type]
    source = w.source if w.source in ctx.spec.inputs else f"out_{w.source}"
    yield ctx.candidate(Mods(unit={(i, pos)}), f"leaves the input factor {source} out of "
                                               f"dE/d{name} = dE/dnet_{w.target} * {source}")


def _sigmoid_again(ctx: Context) -> Iterator[Candidate]:
    if ctx.spec.loss != "binary_cross_entropy":
        return
    outputs = [o for o in ctx.spec.layers[-1] if o in ctx.replay.activation_nodes]
    if not outputs:
        return
    # every sample's output activation: in a batch each sample's delta has it
    mods = Mods(again={i for o in outputs for i in ctx.replay.sample_activation_nodes[o]})
    acts = sorted({ctx.activation[o] for o in outputs})
    formulas = " and ".join(f"{a}'s derivative {derivative_formula(a)}" for a in acts)
    yield ctx.candidate(mods, f"applies {formulas} again at the output: the cross-entropy delta "
                              "out - target already contains it")


# the forward pass ---------------------------------------------------------------------------------

def _wrong_weight(ctx: Context) -> Iterator[Candidate]:
    # The weights into and out of the quantity's own neurons, each read as a weight next to it
    # in the file (w6 for w7, w3 for w2) or as another weight into the same neuron.
    spec = ctx.spec
    names = list(spec.weights)
    layer = spec.neuron_layer
    own = set(ctx.own_neurons())
    for w_name in names:
        w = spec.weights[w_name]
        if w.target not in own and w.source not in own:
            continue
        same_layer = [n for n in names if layer[spec.weights[n].target] == layer[w.target]]
        k = same_layer.index(w_name)
        near = same_layer[max(0, k - 1):k] + same_layer[k + 1:k + 2]
        near += [n for n in same_layer if n not in near and n != w_name
                 and spec.weights[n].target == w.target]
        i, pos, _ = ctx.weight_node(w_name)
        for other in near:
            value = ctx.params[other]
            if value == ctx.params[w_name]:
                continue
            shown = f"{other} = {value:g} where {w_name} = {ctx.params[w_name]:g} belongs"
            read = _constant(value)
            slip = f"{other} for {w_name}"
            if w.source not in spec.inputs:  # the backward pass first: it is all a gradient shows
                yield ctx.candidate(Mods(d_operand={(i, pos): read}),
                                    f"uses {shown} in the backward pass (dE/dout_{w.source} adds "
                                    f"dE/dnet_{w.target} * {w_name})", slip=slip)
            yield ctx.candidate(Mods(operand={(i, pos): read}), f"uses {shown} in net_{w.target}",
                                slip=slip)


def _bias_left_out(ctx: Context) -> Iterator[Candidate]:
    spec = ctx.spec
    own = ctx.own_neurons()
    # the quantity's own neurons, and the neurons feeding them (a gradient reads their outputs)
    feeding = [w.source for w in spec.weights.values() if w.target in own and w.source not in spec.inputs]
    for layer_neurons in [list(dict.fromkeys(own + feeding))]:
        for n in layer_neurons:
            found = ctx.bias_node(n)
            if found is None:
                continue
            i, pos, name = found
            if ctx.params[name] == 0.0:
                continue
            yield ctx.candidate(Mods(operand={(i, pos): _constant(0.0)}),
                                f"leaves the bias {name} out of net_{n}")


def _net_for_out(ctx: Context) -> Iterator[Candidate]:
    spec = ctx.spec
    vals = ctx.base[0]
    own = ctx.own_neurons()
    near = set(own) | {w.source for w in spec.weights.values() if w.target in own}
    for layer_neurons in spec.layers[1:-1]:
        hidden = [h for h in layer_neurons if h in ctx.replay.activation_nodes and h in near]
        groups = [[h] for h in hidden] + ([hidden] if len(hidden) > 1 else [])
        single: list[float] = []
        for group in groups:
            uses: dict[tuple[int, int], ValueOf] = {}
            for h in group:
                read = _reader(ctx.index("net", h))
                for n, w in spec.weights.items():
                    if w.source == h:
                        i, pos, _ = ctx.weight_node(n)
                        uses[(i, 1 - pos)] = read
            if len(group) == 1:
                h = group[0]
                shown = (f"net_{h} = {vals[ctx.index('net', h)]:.6g} where out_{h} = "
                         f"{vals[ctx.index('out', h)]:.6g} belongs")
            else:
                shown = (f"{', '.join(f'net_{h}' for h in group)} where "
                         f"{', '.join(f'out_{h}' for h in group)} belong")
            slip = f"net for out at {', '.join(group)}"
            for cand in (ctx.candidate(Mods(d_operand=dict(uses)), f"uses {shown} in the backward pass",
                                       slip=slip),
                         ctx.candidate(Mods(operand=dict(uses)), f"uses {shown} (in the forward pass)",
                                       slip=slip)):
                value = cand.value if cand.value is not None else math.nan
                # the whole layer where one neuron's slip alone shows is no variant of its own
                if len(group) == 1 or not any(math.isclose(value, v, rel_tol=1e-12) for v in single):
                    yield cand
                if len(group) == 1:
                    single.append(value)


def _log10(ctx: Context) -> Iterator[Candidate]:
    logs = [i for i, node in enumerate(ctx.replay.nodes) if node.op == "log"]
    if not logs:
        return
    ln10 = forward_function("log")(10.0, 0.0)
    mods = Mods(scale=dict.fromkeys(logs, 1 / ln10))
    yield ctx.candidate(mods, "uses log10 where the loss's log is the natural logarithm ln")


def _one_term(ctx: Context) -> Iterator[Candidate]:
    outputs = ctx.spec.layers[-1]
    if ctx.q.kind != "E" or len(outputs) < 2:
        return
    vals = ctx.base[0]
    for o in outputs:
        term = vals[ctx.index("E_term", o)]
        others = [f"E_{p}" for p in outputs if p != o]
        yield Candidate(term, f"matches E_{o} alone: E adds every output's term "
                              f"(also {_join(others)})")


#: The bug library, in the order hints are tried (facts first).
BUGS: tuple[Bug, ...] = (
    Bug("zero-input", "an update (or gradient) of a weight whose input is 0, which cannot change",
        frozenset({"grad", "param"}), _zero_input, fact=True),
    Bug("sign", "the gradient's (or a value's) sign flipped; for an update, + lr * gradient",
        ALL_KINDS, _sign),
    # Not through the gradient: an update with twice the gradient is one with twice the rate.
    Bug("half-missing", "a factor 1/2 missing (twice the value)", FORWARD_KINDS, _half_missing),
    Bug("two-missing", "a factor 2 missing (half the value)", FORWARD_KINDS, _two_missing),
    Bug("left-out", "the update left out (the parameter before the step)", frozenset({"param"}),
        _left_out),
    Bug("frozen-bias", "a bias updated although update_biases = false", frozenset({"param"}),
        _frozen_bias),
    Bug("learning-rate", "the update made with another learning rate", frozenset({"param"}),
        _learning_rate),
    Bug("other-gradient", "an update made with another weight's gradient", frozenset({"param"}),
        _other_gradient),
    Bug("updated-weights", "the updated instead of the original weights in the backward pass",
        GRADIENT_KINDS | {"param"}, _updated_weights),
    Bug("other-derivative", "another activation's derivative (sigmoid's in a tanh network, tanh's "
        "in a sigmoid one, or none) at some neurons", GRADIENT_KINDS, _other_derivative,
        through_gradient=True),
    Bug("derivative-at-net", "the activation's derivative evaluated at the net input instead of "
        "the output (out (1 - out) at net, tanh' as 1 - net^2)", GRADIENT_KINDS,
        _derivative_at_net, through_gradient=True),
    Bug("output-derivative", "the output neuron's derivative used at a hidden neuron",
        GRADIENT_KINDS, _output_derivative_at_hidden, through_gradient=True),
    Bug("drop-path", "one path into a hidden neuron's delta forgotten; a shared bias's gradient "
        "counting one neuron only", GRADIENT_KINDS, _drop_path, through_gradient=True),
    Bug("input-factor", "the input factor left out of dE/dw", frozenset({"grad"}), _input_factor,
        through_gradient=True),
    Bug("sigmoid-again", "the activation's derivative applied again after a cross-entropy delta",
        GRADIENT_KINDS, _sigmoid_again, through_gradient=True),
    Bug("wrong-weight", "another weight of the layer read where a weight belongs (w6 for w7)",
        FORWARD_KINDS, _wrong_weight, through_gradient=True),
    Bug("bias-left-out", "the bias left out of a net input", FORWARD_KINDS, _bias_left_out,
        through_gradient=True),
    Bug("net-for-out", "a neuron's net input used where its output belongs", FORWARD_KINDS,
        _net_for_out, through_gradient=True),
    Bug("log10", "log10 used for the natural logarithm ln", FORWARD_KINDS, _log10,
        through_gradient=True),
    Bug("one-term", "E taken as one output's term", frozenset({"E"}), _one_term),
)

BUG_NAMES: tuple[str, ...] = tuple(b.name for b in BUGS)

#: The entries that apply to a batch (``[[samples]]``): they change the claim's own number, the
#: update or every node of the graph alike. The others make a slip at one neuron's nodes, which a
#: batch has once per sample, so their numbers would not be the batch's.
BATCH_BUGS: frozenset[str] = frozenset({
    "zero-input", "sign", "half-missing", "two-missing", "left-out", "frozen-bias", "learning-rate",
    "other-gradient", "updated-weights", "log10", "sigmoid-again",
})


def _through_gradient(ctx: Context, bug: Bug) -> Iterator[Candidate]:
    """Yield an update's candidates from a gradient slip: the step made with the slipped dE/dP
    (``P - lr * dE/dP`` in plain gradient descent)."""
    name = ctx.q.subject
    assert name is not None
    if not ctx.replay.trainable[name]:
        return
    for c in bug.variants(ctx):
        if c.value is None:
            continue
        yield Candidate(ctx.updated(name, c.value), f"matches the update with dE/d{name} = "
                                                 f"{ctx.fmt(c.value)}, which {c.clause or c.phrase}")


def candidates(ctx: Context, bug: Bug) -> Iterator[Candidate]:
    """Yield what ``bug`` gives for the context's claim (nothing when it does not apply)."""
    kind = ctx.q.kind
    if kind == "param" and bug.through_gradient:
        if "grad" in bug.kinds:
            yield from _through_gradient(ctx, bug)
        return
    if kind in bug.kinds:
        yield from bug.variants(ctx)


def search(ctx: Context, bugs: tuple[Bug, ...] = BUGS) -> list[tuple[Bug, Candidate]]:
    """Return ``(entry, candidate)`` for every entry that reproduces the written figure.

    A candidate counts when it matches the claim within its precision and lies more than
    two units of the claim's last digit from the true number (for an update: from the
    true update), so that the claim tells the slip from a rounding. A fact counts alone.
    When several variants of one entry fit with different phrases, the entry's candidate
    has an empty phrase (it reproduces the figure, but what exactly was done is open).
    """
    c = ctx.claim
    unit = float(c.unit)
    if ctx.q.kind == "param":
        name = ctx.q.subject
        assert name is not None
        truth = ctx.updated(name, ctx.truth) if ctx.replay.trainable[name] else ctx.params[name]
    else:
        truth = ctx.truth
    found: list[tuple[Bug, Candidate]] = []
    for bug in bugs:
        if ctx.spec.batched and bug.name not in BATCH_BUGS:
            continue
        hits: list[Candidate] = []
        for cand in candidates(ctx, bug):
            if bug.fact:
                return [(bug, cand)]
            v = cand.value
            if v is None or not math.isfinite(v) or abs(v - truth) <= 2 * unit:
                continue
            # Variants of one slip (made in the forward or the backward pass) count as one: the
            # first that fits stands. Two different slips of one entry that both fit (w3 read
            # for w1 or for w2, giving the same net_h1) leave open what was done.
            if matches(c, v) and all(h.identity != cand.identity for h in hits) and ctx.agrees(cand):
                hits.append(cand)
        if hits:
            # Two variants of one entry that both fit (w3 read for w1, or for w2) leave open
            # what was done: the entry counts, with no phrase of its own.
            found.append((bug, hits[0] if len(hits) == 1 else Candidate(None, "")))
    return found


def network_hits(spec: Spec, replay: Replay, claim: Claim, trace: Trace,
                 replace: Mapping[Key, float],
                 ok: Sequence[tuple[Key, Claim]] = ()) -> tuple[list[tuple[str, float | None]], bool]:
    """Return ``(phrase, number)`` for every entry that reproduces a wrong claim of a network file
    (phrase "" where two variants of one entry fit; number None for a fact), and whether the
    one hit is a fact (a number wrong whatever it is)."""
    if claim.quantity.kind not in ALL_KINDS:
        return [], False
    ctx = Context(spec, replay, claim, trace, replace)
    ctx.ok = list(ok)
    found = search(ctx)
    return [(cand.phrase, cand.value) for _, cand in found], any(bug.fact for bug, _ in found)


def truth_context(spec: Spec, claim: Claim, replay: Replay | None = None,
                  others: Mapping[Quantity, float] | None = None) -> Context:
    """Return the search context of a claim on the file's own numbers, with the figures in
    ``others`` (quantity -> number) written in (the claim's own quantity is left out)."""
    from .network import Network

    replay = replay or Replay(Network(spec))
    q = claim.quantity
    own = replay.key(q)
    replace = {replay.key(o): v for o, v in (others or {}).items() if replay.key(o) != own}
    until = q.step - 1 if q.kind == "param" else q.step
    keep = {q.step - 1, q.step} if q.kind == "param" else {q.step, q.step + 1}
    return Context(spec, replay, claim, replay.run(replace, until, keep=keep), replace)


def reproducing(spec: Spec, claim: Claim, replay: Replay | None = None) -> list[str]:
    """Return the names of the entries whose slip reproduces a claim's figure, computed from the
    file's own numbers (one name: the checker's hint names it; none or several: no hint)."""
    return [bug.name for bug, _ in search(truth_context(spec, claim, replay))]


def slip_values(spec: Spec, q: Quantity, replay: Replay | None = None,
                others: Mapping[Quantity, float] | None = None) -> list[tuple[str, str, float, str]]:
    """Return ``(entry, phrase, number, slip)`` for every number a slip of the library gives for
    ``q`` (``slip``: what tells it from the entry's other slips, see :class:`Candidate`).

    The learning-rate entry is left out (its rate is read off a claimed figure) and so
    are facts (no number). The numbers are computed from the file's own numbers, with the
    figures in ``others`` written in (given every other figure of a step, only the slips
    made at ``q`` itself change it).
    """
    from decimal import Decimal

    claim = Claim(name=q.name, written="0", value=0.0, exact=Decimal("0E-9"), quantity=q)
    ctx = truth_context(spec, claim, replay, others)
    found: list[tuple[str, str, float, str]] = []
    for bug in BUGS:
        if bug.fact or bug.name == "learning-rate":
            continue
        for cand in candidates(ctx, bug):
            if cand.value is not None:
                found.append((bug.name, cand.phrase, cand.value, f"{bug.name}: {cand.identity}"))
    return found
