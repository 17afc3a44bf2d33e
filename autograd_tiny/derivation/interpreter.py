"""One interpreter for every derivation: forward, backward and update over a tape, with edits.

A hand derivation computes each figure from earlier figures, and a slip is a change to that
computation. Both are *edits* of the tape (:mod:`autograd_tiny.derivation.tape`), written as data
in :class:`Edits` (a written figure is a number put in), except a slip of the update rule
(:meth:`Replay.updater`).

:func:`run_pass` runs one forward and backward pass of a tape with edits. :class:`Replay` runs K
steps (forward, backward, the update of :func:`autograd_tiny.nn.optim.sgd_direction`, as
``nn.SGD`` does) with figures put in at any step, and reports which written figures each number
depends on (the bits of :func:`dependencies`): how the checker tells a slip from a figure that
carries one. The checker, the hint search and the worksheet generator all run this interpreter.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from ..nn.optim import sgd_direction
from .format import Quantity
from .tape import Tape, contribution_function, derivative_function

#: ``(channel, where, step)``, a number at step ``step``: ``f`` a node's value, ``g`` the loss's
#: gradient with respect to a node, ``s`` the same divided by the replay's ``sample_scale`` (a
#: sample's own derivative in a batch), ``d`` at ``2 * node + position`` a node's local derivative
#: with respect to one operand (a factor of the chain rule), ``l`` at ``top * len(tape) + bottom``
#: a local gradient; by parameter name ``p`` its value and ``v`` its momentum velocity after
#: ``step`` steps, ``r`` the regularized loss's gradient; ``("e", 0, step)`` the regularized loss.
Key = tuple[str, int | str, int]

#: Runs of at least this many steps show a progress bar when asked to.
PROGRESS_STEPS = 2_000


def step_range(count: int, progress: bool, what: str) -> Iterable[int]:
    """Return ``range(count)``, wrapped in a tqdm bar on stderr when ``progress`` and the run is long."""
    if not progress or count < PROGRESS_STEPS:
        return range(count)
    from tqdm import tqdm

    return cast(Iterable[int], tqdm(range(count), desc=what, unit="step", file=sys.stderr, leave=False))


#: A number read from a pass's values (an operand swapped for another node's value).
ValueOf = Callable[[list[float]], float]


def node_value(i: int) -> ValueOf:
    """Return a reader of node ``i``'s value."""
    return lambda vals: vals[i]


def constant(value: float) -> ValueOf:
    """Return a reader that gives ``value``."""
    return lambda vals: value


@dataclass
class Edits:
    """Changes to one forward and backward pass, as data.

    Attributes:
        values: ``node -> number``: a value put in (its consumers compute with it).
        grads: ``node -> number``: a gradient put in (what the node passes back).
        factors: ``2 * node + position -> number``: a local derivative put in.
        operand: ``(node, position) -> reader``: the operand a node computes with (its
            derivative reads it too): another node's value, or a constant.
        d_operand: the same, for the node's local derivative only (the backward pass).
        d_out: ``node -> reader``: the ``out`` its local derivative reads.
        derivative: ``node -> expressions``: other local derivatives (one per operand, over
            ``x``, ``y``, ``out``; a misconception of :data:`autograd_tiny.ops.OPS`), or None to
            take each as 1.
        scale: ``node -> s``: the node's value and its local derivatives multiplied by ``s``.
        again: nodes whose local derivatives are applied twice.
        drop: ``(node, position)`` edges along which no gradient flows.
        unit: ``(node, position)`` edges whose local derivative is taken as 1.
        upstream: nodes whose incoming gradient is taken as 1 (the local derivative written
            as the gradient: the upstream gradient not multiplied in).
        derivative_params: parameter values the backward pass reads instead (updated weights).
        root: the node differentiated instead of the tape's root (a local gradient's top).
    """

    values: dict[int, float] = field(default_factory=dict)
    grads: dict[int, float] = field(default_factory=dict)
    factors: dict[int, float] = field(default_factory=dict)
    operand: dict[tuple[int, int], ValueOf] = field(default_factory=dict)
    d_operand: dict[tuple[int, int], ValueOf] = field(default_factory=dict)
    d_out: dict[int, ValueOf] = field(default_factory=dict)
    derivative: dict[int, tuple[str, ...] | None] = field(default_factory=dict)
    scale: dict[int, float] = field(default_factory=dict)
    again: set[int] = field(default_factory=set)
    drop: set[tuple[int, int]] = field(default_factory=set)
    unit: set[tuple[int, int]] = field(default_factory=set)
    upstream: set[int] = field(default_factory=set)
    derivative_params: Mapping[str, float] | None = None
    root: int | None = None

    def structural(self) -> bool:
        """Return True when the edits change more than the numbers put in."""
        return self != Edits(values=self.values, grads=self.grads, factors=self.factors)


_N = TypeVar("_N", int, float)


def _put_in(before: dict[Any, _N] | None, where: Any, computed: _N, given: _N) -> _N:
    """Return ``given``, the number put in at ``where``, noting in ``before`` (when given) the one
    ``computed`` there."""
    if before is not None:
        before[where] = computed
    return given


def run_pass(tape: Tape, params: Mapping[str, float], edits: Edits,
             factors_out: list[float] | None = None,
             before: dict[tuple[str, int], float] | None = None) -> tuple[list[float], list[float]]:
    """Return every node's value and gradient (of the tape's root, or of ``edits.root``) for one
    pass with ``edits``.

    ``factors_out``, when given (``2 * len(tape)`` numbers), receives every local derivative the
    backward pass used, at ``2 * node + position``. ``before``, when given, receives what the pass
    computed at each place where a number was put in (``("f", node)``, ``("g", node)``,
    ``("d", 2 * node + position)``): the figure recomputed from every other figure, for all of
    them in one pass.
    """
    e = edits
    nodes, forward, args = tape.nodes, tape.forward_fns, tape.args
    values_in, grads_in, factors_in = e.values, e.grads, e.factors
    n = len(nodes)
    vals = [0.0] * n

    def operands(i: int, table: list[float], extra: Mapping[tuple[int, int], ValueOf]) -> list[float]:
        got = []
        for pos, (j, c) in enumerate(nodes[i].operands):
            change = e.operand.get((i, pos)) or extra.get((i, pos))
            got.append(change(vals) if change else table[j] if j is not None else c)
        return got + [0.0] * (2 - len(got))

    changed = {i for i, _ in e.operand} | set(e.scale)
    for i in range(n):
        node = nodes[i]
        fn = forward[i]
        if fn is None:
            v = params[node.param] if node.param is not None else node.const
        elif changed and i in changed:
            v = fn(*operands(i, vals, {})) * e.scale.get(i, 1.0)
        else:
            a, ca, b, cb = args[i]
            v = fn(vals[a] if a is not None else ca, vals[b] if b is not None else cb)
        if values_in and i in values_in:
            v = _put_in(before, ("f", i), v, values_in[i])
        vals[i] = v
    dvals = vals if e.derivative_params is None else _moved(tape, vals, e)
    grads = [0.0] * n
    grads[tape.root if e.root is None else e.root] = 1.0
    # the nodes whose backward step an edit changes: each of their local derivatives is computed,
    # edited and applied; the others take the table's contribution rule directly
    special = (set(e.derivative) | set(e.scale) | e.again | e.upstream | set(e.d_out)
               | {i for i, _ in e.d_operand} | {k // 2 for k in factors_in}
               | {i for i, _ in e.drop} | {i for i, _ in e.unit})
    contribution = tape.contribution_fns
    for i in range(n - 1, -1, -1):  # a node's gradient is complete when its turn comes
        if grads_in and i in grads_in:
            grads[i] = _put_in(before, ("g", i), grads[i], grads_in[i])
        back = contribution[i]
        if back is None:
            continue
        g = grads[i]
        node = nodes[i]
        if factors_out is None and not (special and i in special):
            a, ca, b, cb = args[i]
            c = back(g, dvals[a] if a is not None else ca, dvals[b] if b is not None else cb, dvals[i])
            for pos, p in node.parents:
                grads[p] += c[pos]
            continue
        if i in e.upstream:
            g = 1.0
        x, y = operands(i, dvals, e.d_operand)
        out = e.d_out[i](vals) if i in e.d_out else dvals[i]
        exprs = e.derivative.get(i, tape.derivative_exprs[i])
        d: tuple[float, ...] = (1.0, 1.0) if exprs is None else derivative_function(exprs)(x, y, out)
        if before is not None:
            before.update({("d", 2 * i + pos): v for pos, v in enumerate(d) if 2 * i + pos in factors_in})
        d = tuple(factors_in.get(2 * i + pos, v) * e.scale.get(i, 1.0) for pos, v in enumerate(d))
        if factors_out is not None:
            factors_out[2 * i:2 * i + len(d)] = d
        if exprs is not None and i not in e.scale and i not in e.again and not any(
                2 * i + pos in factors_in for pos in (0, 1)):  # the table's own derivative
            terms = contribution_function(exprs)(g, x, y, out)
        else:
            terms = tuple(g * (v * v) if i in e.again else g * v for v in d)
        for pos, p in node.parents:
            if (i, pos) not in e.drop:
                grads[p] += g if (i, pos) in e.unit else terms[pos]
    return vals, grads


def _moved(tape: Tape, vals: list[float], e: Edits) -> list[float]:
    """Return the values the backward pass reads with ``e.derivative_params``: the parameters, and
    the nodes made of a parameter and constants alone (a batch's per-sample copy ``P[s] = P * 1``),
    with the other values; the rest keep the forward pass's."""
    assert e.derivative_params is not None
    dvals = list(vals)
    moved: set[int] = set()
    for i, (node, fn) in enumerate(zip(tape.nodes, tape.forward_fns)):
        if i in e.values:
            continue
        if node.param is not None:
            dvals[i] = e.derivative_params[node.param]
        elif fn is not None and node.parents and all(p in moved for _, p in node.parents):
            dvals[i] = fn(*tape.xy(i, dvals))
        else:
            continue
        moved.add(i)
    return dvals


# -- the update ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Optimizer:
    """The update rule of a derivation: ``torch.optim.SGD``'s, see
    :func:`autograd_tiny.nn.optim.sgd_direction`."""

    lr: float = 0.0
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0


# -- which written figures a number depends on ---------------------------------------------------

def dependencies(tape: Tape, pmask: Mapping[str, int], fbits: Mapping[int, int], gbits: Mapping[int, int],
                 dbits: Mapping[int, int], before: dict[tuple[str, int], int] | None
                 ) -> tuple[list[int], list[int], list[int]]:
    """Return the bits every value, gradient and local derivative (at ``2 * node + position``)
    depends on.

    ``pmask``: each parameter's bits; ``fbits``/``gbits``/``dbits``: the bits of the values,
    gradients and local derivatives put in (a number put in depends on its bit alone).
    A local derivative depends on the values it reads, a gradient on the gradients and local
    derivatives passed to it. ``before``, when given, receives the bits of what was computed
    where a number was put in (as :func:`run_pass`'s ``before``).
    """
    nodes = tape.nodes
    n = len(nodes)
    fmask = [0] * n
    for i, node in enumerate(nodes):
        m = pmask[node.param] if node.param is not None else 0
        for _, p in node.parents:
            m |= fmask[p]
        fmask[i] = _put_in(before, ("f", i), m, fbits[i]) if i in fbits else m
    gmask = [0] * n
    dmask = [0] * (2 * n)
    for i in range(n - 1, -1, -1):  # a node's bits are complete when its turn comes
        if i in gbits:
            gmask[i] = _put_in(before, ("g", i), gmask[i], gbits[i])
        node = nodes[i]
        for pos, reads in enumerate(node.reads):
            m = 0
            for r in reads:
                m |= fmask[r]
            if dbits and 2 * i + pos in dbits:
                m = _put_in(before, ("d", 2 * i + pos), m, dbits[2 * i + pos])
            dmask[2 * i + pos] = m
            j = node.operands[pos][0]
            if j is not None:
                gmask[j] |= gmask[i] | m
    return fmask, gmask, dmask


# -- many steps ---------------------------------------------------------------------------------

@dataclass
class Trace:
    """What one run of ``replay`` computed, for the steps asked for.

    ``params[k]`` holds the parameters after ``k`` steps (with replacements applied);
    ``values[k]``, ``grads[k]`` and ``factors[k]`` every node's value, gradient and local
    derivatives (at ``2 * node + position``) at step ``k``; ``velocity[k]`` each parameter's
    momentum velocity before step ``k``'s update. ``pmasks``, ``fmasks``, ``gmasks`` and
    ``dmasks`` hold, alike, the bits each of these depends on (when the replay tracked bits).
    """

    replay: Replay
    params: dict[int, dict[str, float]] = field(default_factory=dict)
    values: dict[int, list[float]] = field(default_factory=dict)
    grads: dict[int, list[float]] = field(default_factory=dict)
    factors: dict[int, list[float]] = field(default_factory=dict)
    velocity: dict[int, dict[str, float]] = field(default_factory=dict)
    pmasks: dict[int, dict[str, int]] = field(default_factory=dict)
    fmasks: dict[int, list[int]] = field(default_factory=dict)
    gmasks: dict[int, list[int]] = field(default_factory=dict)
    dmasks: dict[int, list[int]] = field(default_factory=dict)
    #: where a number was put in: what was computed there before (from every other number put
    #: in) and its bits; channels ``f``, ``g``, ``d``, ``p`` (``s`` is read through ``g``)
    pre: dict[Key, float] = field(default_factory=dict)
    pre_masks: dict[Key, int] = field(default_factory=dict)

    def recomputed(self, key: Key) -> float:
        """Return the number at ``key`` as computed from every other number put in: what was
        there before its own number was put in (or the number itself where none was)."""
        channel, where, step = key
        if channel == "s":
            return self.recomputed(("g", where, step)) / self.replay.sample_scale
        return self.pre[key] if key in self.pre else self.get(key)

    def recomputed_mask(self, key: Key) -> int:
        """Return the bits of :meth:`recomputed`'s number."""
        key = ("g", key[1], key[2]) if key[0] == "s" else key  # an s has its g's bits
        return self.pre_masks[key] if key in self.pre_masks else self.mask(key)

    def get(self, key: Key) -> float:
        """Return the number at ``key`` (its step must have been kept)."""
        channel, where, step = key
        tape, wd = self.replay.tape, self.replay.optimizer.weight_decay
        if channel == "s":
            return self.get(("g", where, step)) / self.replay.sample_scale
        if channel == "l":  # d top / d bottom: the chain rule through every path, at the step's values
            assert isinstance(where, int)
            top, bottom = divmod(where, len(tape))
            edits = Edits(values=dict(enumerate(self.values[step])), root=top)
            return run_pass(tape, self.params[step], edits)[1][bottom]
        if channel == "r":  # the regularized loss's gradient dE/dP + wd * P
            name = str(where)
            return self.grads[step][tape.params[name]] + wd * self.params[step][name]
        if channel == "e":  # the regularized loss E + wd / 2 * (sum of the trained parameters' squares)
            params = self.params[step]
            squares = sum(params[p] * params[p] for p in self.replay.trained)
            return self.values[step][tape.root] + wd / 2 * squares
        tables: dict[str, dict[int, Any]] = {"f": self.values, "g": self.grads, "d": self.factors,
                                             "p": self.params, "v": self.velocity}
        return cast(float, tables[channel][step][where])

    def mask(self, key: Key) -> int:
        """Return the bits the number at ``key`` depends on (a local gradient: its top's; a
        velocity: its parameter's; the regularized loss and its gradient: the loss's or the
        gradient's and the parameters')."""
        channel, where, step = key
        tape = self.replay.tape
        if channel == "l":
            assert isinstance(where, int)
            return self.fmasks[step][where // len(tape)]
        if channel == "r":
            return self.gmasks[step][tape.params[str(where)]] | self.pmasks[step][str(where)]
        if channel == "e":
            m = self.fmasks[step][tape.root]
            for p in self.replay.trained:
                m |= self.pmasks[step][p]
            return m
        tables: dict[str, dict[int, Any]] = {"f": self.fmasks, "g": self.gmasks, "s": self.gmasks,
                                             "d": self.dmasks, "p": self.pmasks, "v": self.pmasks}
        return cast(int, tables[channel][step][where])


class Replay:
    """A derivation's computation, step by step, with replaceable numbers.

    Args:
        tape: the graph of one step (its structure does not change between steps).
        start: every parameter's value before the first step.
        trainable: the parameters the update changes.
        optimizer: the update rule.
        sample_scale: d E / d E[s] for a batch's per-sample derivatives (1 otherwise).
        turns: the ``turn[s]`` leaves of a batch updated after each sample (``batch = "each"``;
            see :class:`autograd_tiny.derivation.network.Network`).
        positions: per node, where a hand derivation computes it (see :meth:`order`); by default
            a layer at a time: a node at its depth, a leaf's gradient done when its shallowest use
            has passed it back.
    """

    def __init__(self, tape: Tape, start: Mapping[str, float], trainable: Collection[str],
                 optimizer: Optimizer, sample_scale: float = 1.0, turns: Sequence[int] = (),
                 positions: Sequence[float] | None = None) -> None:
        self.tape = tape
        self.positions = list(positions) if positions is not None else [
            tape.depth[i] if node.op is not None
            else min((tape.depth[c] for c, _ in tape.consumers[i]), default=0) - 0.5
            for i, node in enumerate(tape.nodes)]
        self.start = dict(start)
        self.trainable = {name: name in trainable for name in start}
        self.trained = tuple(name for name in start if name in trainable)  # the regularized loss's terms
        self.optimizer = optimizer
        self.sample_scale = sample_scale
        self.turns = list(turns)

    def update(self, params: Mapping[str, float], grads: list[float],
               velocity: dict[str, float]) -> dict[str, float]:
        """Return the parameters after one update with the given gradients; ``velocity`` (updated
        in place) holds each parameter's momentum velocity (an absent one is the first step's)."""
        opt = self.optimizer
        index = self.tape.params
        if not (opt.momentum or opt.weight_decay):  # plain descent
            lr = opt.lr
            return {name: value - lr * grads[index[name]] if self.trainable[name] and name in index
                    else value for name, value in params.items()}
        step = self.updater(params, velocity, new_velocity=velocity)
        return {name: step(name, grads[index[name]] if name in index else 0.0) for name in params}

    def updater(self, params: Mapping[str, float], velocity: Mapping[str, float],
                optimizer: Optimizer | None = None, fresh: bool = False, sign: float = 1.0,
                everything: bool = False, new_velocity: dict[str, float] | None = None
                ) -> Callable[[str, float], float]:
        """Return ``(name, gradient) -> the parameter after the step`` from ``params`` (the step's
        values) and ``velocity`` (each velocity before the step), with ``optimizer`` (the
        replay's by default); ``fresh`` starts momentum anew (no old velocity), ``sign`` -1 adds
        the step instead of subtracting it; ``everything`` updates the parameters the file keeps
        fixed too; ``new_velocity``, when given, receives each new velocity."""
        opt = optimizer or self.optimizer

        def step(name: str, gradient: float) -> float:
            prev = params[name]
            if not (everything or self.trainable[name]):
                return prev
            d, v = sgd_direction(gradient, prev, None if fresh else velocity.get(name), opt.momentum,
                                 opt.dampening, opt.nesterov, opt.weight_decay)
            if new_velocity is not None and v is not None:
                new_velocity[name] = v
            return prev - sign * opt.lr * d

        return step

    def by_step(self, numbers: Mapping[Key, Any], scaled: bool = True
                ) -> dict[tuple[str, int], dict[Any, Any]]:
        """Return the numbers (or, not ``scaled``, bits) put in by ``(channel, step)``, for the
        channels a pass takes: ``f``, ``g`` (a sample's own ``s`` put in as ``g``, a number
        times ``sample_scale``), ``d``, ``p``."""
        found: dict[tuple[str, int], dict[Any, Any]] = {}
        for (channel, where, k), value in numbers.items():
            if channel == "s" and scaled:
                value *= self.sample_scale
            if channel in "fgsdp":
                found.setdefault(("g" if channel == "s" else channel, k), {})[where] = value
        return found

    def edits_at(self, put: dict[tuple[str, int], dict[Any, float]], step: int) -> Edits:
        """Return the edits of step ``step``'s pass: its figures put in (``put``, from
        :meth:`by_step`) and, for a batch updated after each sample, its ``turn[s]`` leaves (1 for
        the step's sample, 0 for the others)."""
        turns = {t: 1.0 if step % len(self.turns) == i else 0.0 for i, t in enumerate(self.turns)}
        values = put.get(("f", step), {})
        return Edits(values={**turns, **values} if turns else values, grads=put.get(("g", step), {}),
                     factors=put.get(("d", step), {}))

    def key(self, q: Quantity) -> Key:
        """Return where quantity ``q`` lives in a replay (aliases share a key): a node of the tape
        by the file's name for it, a parameter by its name, an edge for a chain-rule factor."""
        if q.kind in ("param", "velocity", "rgrad"):
            return ({"param": "p", "velocity": "v", "rgrad": "r"}[q.kind], str(q.subject), q.step)
        if q.kind == "Ereg":
            return ("e", 0, q.step)
        names, n = self.tape.names, len(self.tape)
        where = names[q.label]
        if q.kind in ("factor", "local"):
            bottom = names[q.below]
            edge = self.tape.edge(where, bottom) if q.kind == "factor" else None
            # through several operations (a softmax, an expression's unnamed nodes): a local gradient
            return ("l", where * n + bottom, q.step) if edge is None else ("d", 2 * edge[0] + edge[1], q.step)
        if q.kind in ("dout", "dnet", "grad", "dx", "deriv"):
            return ("s" if q.sample is not None else "g", where, q.step)
        return ("f", where, q.step)

    def order(self, key: Key) -> tuple[float, ...]:
        """Return where the number at ``key`` is computed, as the first slip is read:
        ``(step, phase, position)``.

        Phase 0 is the forward pass, in the order of the replay's ``positions``, 1 the backward
        pass from the loss (the other way; a chain-rule factor comes as its node passes the
        gradient on), 2 the update taking step ``step`` to ``step + 1`` (all parameters at once:
        equal orders).
        """
        channel, where, step = key
        at = self.positions
        if channel in ("p", "v"):
            return (step - 1, 2, 0)
        if channel == "r":
            return self.order(("g", self.tape.params[str(where)], step))
        if channel == "e":
            return (step, 0, at[self.tape.root] + 0.5)
        assert isinstance(where, int)
        if channel in ("d", "l"):
            return (step, 1, -at[where // (2 if channel == "d" else len(self.tape))] + 0.25)
        return (step, 0, at[where]) if channel == "f" else (step, 1, -at[where])

    def run(self, replace: Mapping[Key, float], until: int, keep: Collection[int] = (),
            bits: Mapping[Key, int] | None = None, progress: bool = False) -> Trace:
        """Return the :class:`Trace` of steps ``0 .. until`` replayed with the numbers in ``replace`` put in.

        Args:
            replace: key -> the number to use there instead of the computed one.
            until: the last step whose forward and backward passes are needed; the
                parameters after it (step ``until + 1``) are computed too.
            keep: steps whose values and gradients the trace keeps (parameters are
                kept for these steps and for ``until + 1``).
            bits: key -> a bit; the trace's masks (:meth:`Trace.mask`) then say, for every kept
                key, which of these replacements the number depends on.
            progress: show a bar on stderr for a long run.
        """
        put = self.by_step(replace)
        marks = self.by_step(bits or {}, scaled=False)
        tracking = bits is not None
        tape = self.tape
        trace = Trace(self)
        velocity: dict[str, float] = {}
        params = dict(self.start)
        pmask = dict.fromkeys(params, 0)
        stable = False
        for k in step_range(until + 2, progress, "replaying"):
            kept = k in keep or k == until + 1
            for name, value in put.get(("p", k), {}).items():
                params[name] = _put_in(trace.pre if kept else None, ("p", name, k), params[name], value)
            for name, bit in marks.get(("p", k), {}).items():
                pmask[name] = _put_in(trace.pre_masks if kept else None, ("p", name, k), pmask[name], bit)
                stable = False
            if kept:
                trace.params[k], trace.velocity[k] = dict(params), dict(velocity)
                if tracking:
                    trace.pmasks[k] = dict(pmask)
            if k == until + 1:
                break
            # below, ``kept``: k is in ``keep``
            if kept:
                trace.factors[k] = [0.0] * (2 * len(tape))
            before: dict[tuple[str, int], float] = {}
            vals, grads = run_pass(tape, params, self.edits_at(put, k), trace.factors.get(k),
                                   before if kept else None)
            if kept:
                trace.values[k], trace.grads[k] = vals, grads
                trace.pre.update({(channel, where, k): v for (channel, where), v in before.items()})
            fb, gb, db = (marks.get((c, k), {}) for c in "fgd")
            marked = bool(fb or gb or db)
            if tracking and not (stable and not marked and not kept):
                before_masks: dict[tuple[str, int], int] | None = {} if kept else None
                fmask, gmask, dmask = dependencies(tape, pmask, fb, gb, db, before_masks)
                trace.pre_masks.update({(c, where, k): m for (c, where), m in (before_masks or {}).items()})
                nxt = {name: (m | gmask[tape.params[name]]) if self.trainable[name] and name in tape.params
                       else m for name, m in pmask.items()}
                stable = nxt == pmask and not marked
                pmask = nxt
                if kept:
                    trace.fmasks[k], trace.gmasks[k], trace.dmasks[k] = fmask, gmask, dmask
            params = self.update(params, grads, velocity)
        return trace
