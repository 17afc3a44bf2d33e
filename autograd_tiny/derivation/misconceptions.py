"""Misconceptions as edits of any tape: the slips that no one listed for this exercise.

A wrong figure gets a hint when exactly one misconception, made at one place, reproduces it and
agrees with every figure judged ok (see :mod:`autograd_tiny.derivation.checker`). The
misconceptions are data, in four places:

* **beside each operation** (:attr:`autograd_tiny.ops.Op.misconceptions`): wrong local
  derivatives (a product's own factor instead of the other one, the power rule without its
  exponent, sigmoid' written as sigmoid, the quotient's minus sign lost), run and printed by the
  same code as the true ones;
* **structural rules** on the tape: the upstream gradient not multiplied in, one path at a
  fan-out left out, a neighbouring node's value read where one belongs;
* **number rules** on the figure itself (:data:`NUMBER_RULES`): the sign flipped, a factor 2 or 1/2;
* **update rules** (on the replay's optimizer): the update's sign, the update left out, momentum
  without the old velocity, weight decay with the wrong sign or left out.

Each is tried at the claim's node and at every node whose error the claim carries: for a value,
the nodes it is computed from; for a gradient, every local derivative on the paths from the
output down to the node; for an update, the gradient's slips and the update's.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace

from .. import formula
from ..ops import OPS
from .format import Claim
from .interpreter import (
    Edits,
    Key,
    Optimizer,
    Replay,
    ValueOf,
    constant,
    node_value,
    run_pass,
)
from .tape import Tape

#: Seconds the search of one claim may take; past it the search stops and gives no hint.
BUDGET_SECONDS = 1.0

#: An update's gradient slip counts when the figure gives the step to this fraction of itself.
PINNED = 1e-3

#: How many nodes on either side a neighbouring node's value is looked for.
NEIGHBOURS = 2

#: One pass: every node's value, gradient and local derivatives.
Pass = tuple[list[float], list[float], list[float]]

#: An update: ``(name, gradient) -> the parameter after the step``.
Update = Callable[[str, float], float]


@dataclass(frozen=True)
class Slip:
    """One misconception made at one place: the rule's name (``"own-factor"``, ``"upstream"``,
    ``"sign"``), what the student did in the file's names, the change to the pass (none: the pass as
    it is, with another update) and for an update claim the update to step with (None: the file's)."""

    rule: str
    phrase: str
    edits: Edits = field(default_factory=Edits)
    update: Update | None = field(default=None, compare=False)
    #: made at a named node (its story comes before an unnamed node's)
    named: bool = True
    #: made in the claim's own last operation (its story comes before farther ones)
    local: bool = False
    #: the same slip made at several places at once (a single place's story comes first)
    group: bool = False


def _lit(text: str) -> str:
    """Return ``text`` for a phrase template: its braces doubled, so that ``str.format`` fills
    only the template's own fields and prints the file's names as they are."""
    return text.replace("{", "{{").replace("}", "}}")


def describe(tape: Tape, i: int, depth: int) -> str:
    """Return node ``i`` as a reader sees it: its name, a number, or its operation on its
    operands' descriptions (``w5 * out_h1``), ``...`` past ``depth``."""
    name = tape.name(i)
    if name is not None:
        return name
    node = tape.nodes[i]
    if node.op is None:
        return f"{node.const:g}"
    if depth == 0:
        return "..."
    parts = [describe(tape, j, depth - 1) if j is not None else f"{c:g}" for j, c in node.operands]
    op = OPS[node.op]
    return f"({parts[0]} {op.symbol} {parts[1]})" if op.arity == 2 else f"{op.symbol}({parts[0]})"


def _at(tape: Tape, i: int | None, depth: int = 1) -> str:
    """Return node ``i`` described (``...`` for none) for a phrase template (see :func:`_lit`)."""
    return "..." if i is None else _lit(describe(tape, i, depth))


def _d(tape: Tape, i: int, expr: str) -> str:
    """Return a local derivative of node ``i`` over its operands' descriptions, for a phrase template."""
    names: dict[str, str | float] = {"out": describe(tape, i, 1)}
    for pos, (j, c) in enumerate(tape.nodes[i].operands):
        names["xy"[pos]] = describe(tape, j, 1) if j is not None else c
    return _lit(formula.render(formula.simplify(formula.fold_constants(formula.from_table(expr, names)))))


def _inner(tape: Tape, k: int) -> int | None:
    """Return the node one-operand operation ``k`` is computed from (None for any other node)."""
    node = tape.nodes[k]
    return node.operands[0][0] if node.op is not None and OPS[node.op].arity == 1 else None


# -- where the rules apply ----------------------------------------------------------------------

def _gradient_edges(tape: Tape, target: int, root: int) -> list[tuple[int, int]]:
    """Return the ``(node, position)`` edges on the paths along which the gradient of ``root``
    reaches ``target``: every local derivative a slip in d(root)/d(target) can sit in."""
    above = tape.descendants(target)
    feeding = tape.ancestors(root)
    # nearest the target first: the slips a figure most likely carries are tried first
    return [(c, pos) for c in sorted(above & feeding) for pos, p in tape.nodes[c].parents if p in above]


def _forward_sites(tape: Tape, target: int, edges: list[tuple[int, int]] | None) -> list[int]:
    """Return the operations whose forward slips a figure carries, nearest first: for a value
    (``edges`` None) every operation it is computed from; for a gradient the operations on its
    paths, those whose values its local derivatives read, and the operations computing these."""
    if edges is None:
        return [c for c in sorted(tape.ancestors(target), reverse=True) if tape.nodes[c].op]
    near = {c for c, _ in edges}
    near |= {j for c, pos in edges for j in tape.nodes[c].reads[pos]}
    near |= {p for j in list(near) for _, p in tape.nodes[j].parents}
    return sorted((c for c in near if tape.nodes[c].op), key=lambda c: abs(c - target))


_NUMBERED = re.compile(r"(?P<stem>.*?)(?P<number>\d*)(?P<sample>\[\d+\])?\Z")


def _family(name: str | None) -> tuple[str, str]:
    """Return what a name's neighbours share: its letters before a trailing number (``w`` of
    ``w7``, ``net_h`` of ``net_h1``; nothing for a name without one, so ``x`` neighbours ``y``)
    and its sample (``[2]``: a slip stays within one sample of a batch; none without a name)."""
    m = _NUMBERED.match(name or "")
    assert m is not None
    return m["stem"] if m["number"] else "", m["sample"] or ""


def _at_once(rule: str, phrase: str, members: Collection[Edits]) -> Iterator[Slip]:
    """The same slip made at several places at once (a group), when there are several members:
    every edit of the members, the whole-pass ones (root, params) left out."""
    if len(members) > 1:
        merged = Edits()
        for f in fields(Edits):
            if isinstance(into := getattr(merged, f.name), dict | set):
                for edits in members:
                    into.update(getattr(edits, f.name))
        yield Slip(rule, phrase, merged, group=True)


def _op_slips(tape: Tape, edges: list[tuple[int, int]], target: int) -> Iterator[Slip]:
    """The operations' wrong local derivatives, at each edge and at every edge of the op at once."""
    by_rule: dict[tuple[str, str], dict[int, Edits]] = {}
    for c, pos in edges:
        op = OPS[tape.nodes[c].op or ""]
        parent = tape.nodes[c].operands[pos][0]
        for m in op.misconceptions:
            if m.position != pos or m.scale:
                continue
            wrong = op.wrong_derivative(m)
            if wrong == "1" and c == tape.root and parent != target:
                continue  # at the root, a local derivative taken as 1 is the upstream rule below it
            exprs = tuple(wrong if k == pos else d for k, d in enumerate(op.derivatives))
            phrase = (f"{m.says}: d{_at(tape, c)}/d{_at(tape, parent)} written as "
                      f"{_d(tape, c, wrong)} instead of {_d(tape, c, op.derivatives[pos])}")
            rule = f"{op.name}:{wrong}"
            edits = Edits(derivative={c: exprs})
            by_rule.setdefault((rule, m.says), {})[c] = edits
            yield Slip(rule, phrase, edits, named=tape.name(c) is not None, local=parent == target)
    for (rule, says), places in by_rule.items():  # the same slip made at every such node on the way
        where = ", ".join(_at(tape, c) for c in sorted(places))
        yield from _at_once(rule, f"{says}, at every {rule.split(':')[0]} on the way ({where})",
                            places.values())


def _path_slips(tape: Tape, edges: list[tuple[int, int]], target: int) -> Iterator[Slip]:
    """The backward pass's structural slips on the gradient's paths: the upstream gradient left
    out, one path of a fan-out left out, a one-operand operation's derivative applied twice, or
    another node's of the same operation taken (the output neuron's sigmoid' at a hidden neuron;
    in a batch, in the same sample)."""
    tops = list(dict.fromkeys(c for c, _ in edges))
    for c in tops:
        if c != tape.root:
            top = _at(tape, c)
            yield Slip("upstream", f"leaves the upstream gradient d{{output}}/d{top} out: the local "
                                   f"derivative at {top} is written as the gradient",
                       Edits(upstream={c}), named=tape.name(c) is not None)
    for c, pos in edges:
        parent = tape.nodes[c].operands[pos][0]
        assert parent is not None
        uses = len(tape.consumers[parent])
        if uses > 1:
            p = _at(tape, parent)
            yield Slip("drop-path", f"d{{output}}/d{p} leaves out one of the {uses} paths through "
                                    f"which {{output}} depends on {p} (the one through {_at(tape, c)}): "
                                    "it should add {delta}",
                       Edits(drop={(c, pos)}), named=tape.name(c) is not None, local=parent == target)
    by_op: dict[tuple[str | None, str], list[tuple[int, int]]] = {}  # named nodes and their operands
    for k in range(len(tape)):
        if (name := tape.name(k)) is not None and (kin := _inner(tape, k)) is not None:
            by_op.setdefault((tape.nodes[k].op, _family(name)[1]), []).append((k, kin))
    for c in tops:
        if (below := _inner(tape, c)) is None:
            continue
        derivative = tape.derivative_exprs[c][0]
        own, top, inner = _d(tape, c, derivative), _at(tape, c), _at(tape, below)
        yield Slip("twice", f"applies d{top}/d{inner} = {own} twice", Edits(again={c}),
                   named=tape.name(c) is not None)
        same_op = by_op.get((tape.nodes[c].op, _family(tape.name(c))[1]), ())
        alike = sorted((a for a in same_op if a[0] != c), key=lambda a: abs(a[0] - c))
        for k, kin in alike[:2 * NEIGHBOURS]:
            yield Slip(f"other-node:{tape.name(k)}", f"takes {_d(tape, k, derivative)} (the derivative "
                       f"at {_at(tape, k)}) where d{top}/d{inner} = {own} belongs",
                       Edits(d_operand={(c, 0): node_value(kin)}, d_out={c: node_value(k)}))


def _forward_slips(tape: Tape, params: Mapping[str, float], target: int,
                   edges: list[tuple[int, int]] | None) -> Iterator[Slip]:
    """Slips of the forward pass: a neighbouring node's value read where an operand belongs
    (another named node of the same kind next to it on the tape), an operation's input read for
    its output (``net_h1`` for ``out_h1``), a named term left out of a sum, a scaled operation."""
    named = {k: name for k in range(len(tape)) if (name := tape.name(k)) is not None}
    # parameters are neighbours in the order the file declares them (w6 next to w7), other
    # named nodes in the tape's order; only names of one kind and family are neighbours
    place = {k: k for k in named} | {k: n for n, k in enumerate(tape.params.values())}
    family = {k: (tape.nodes[k].op or ("param" if tape.nodes[k].param is not None else "const"),
                  _family(name)) for k, name in named.items()}
    alike_of: dict[tuple[str, tuple[str, str]], list[int]] = {}  # the named nodes of each kind and family
    for k in named:
        alike_of.setdefault(family[k], []).append(k)
    reads_in_backward = {(c, q) for c, pos in (edges or ()) for q in range(len(tape.nodes[c].operands))
                         if q != pos}
    layers: dict[tuple[str, int], dict[int, int]] = {}  # (op, depth) -> output -> its input
    sites = _forward_sites(tape, target, edges)
    for c in sites:
        node = tape.nodes[c]
        for pos, (j, _) in enumerate(node.operands):
            if j not in named:
                continue
            name = _lit(named[j])
            reads: list[tuple[str, str, ValueOf]] = []  # (rule, what is read, its reader)
            # a node computed before c (so none that depends on c), or a leaf (read from the
            # parameters: the pass computes a leaf where the tape first uses it)
            alike = sorted((k for k in alike_of[family[j]] if k != j
                            and (k < c or tape.nodes[k].op is None)),
                           key=lambda k: abs(place[k] - place[j]))
            for k in alike[:2 * NEIGHBOURS]:
                other = _lit(named[k])
                leaf = tape.nodes[k]
                read = node_value(k) if leaf.op is not None else constant(
                    params[leaf.param] if leaf.param is not None else leaf.const)
                reads.append((f"neighbour:{other}-for-{name}", f"reads {other} where {name} belongs", read))
            inner = _inner(tape, j)
            if inner in named:
                layers.setdefault((str(tape.nodes[j].op), tape.depth[j]), {})[j] = inner
                reads.append(("input-for-output", f"reads {_at(tape, inner, 0)}, the input of {name}, "
                                                  f"where {name} belongs", node_value(inner)))
            # each read where c's derivative reads it in the backward pass alone, then in the
            # forward pass (every later number carries it)
            for rule, what, read in reads:
                if (c, pos) in reads_in_backward:
                    wrt = _at(tape, node.operands[1 - pos][0])
                    yield Slip(rule, f"{what} in the backward pass (in d{_at(tape, c)}/d{wrt})",
                               Edits(d_operand={(c, pos): read}))
                yield Slip(rule, f"{what} in {_at(tape, c)}", Edits(operand={(c, pos): read}))
            if node.op == "add":
                yield Slip(f"term-left-out:{name}", f"leaves {name} out of {_at(tape, c)}",
                           Edits(operand={(c, pos): constant(0.0)}))
    for (op, _), input_of in layers.items():  # the same read at every such node of a layer
        outs = sorted(input_of)
        names = ", ".join(_at(tape, j, 0) for j in outs)
        inputs = ", ".join(_at(tape, input_of[j], 0) for j in outs)
        members = [Edits(operand={(c, pos): node_value(input_of[j]) for c, pos in tape.consumers[j]})
                   for j in outs]
        yield from _at_once("input-for-output", f"reads {inputs}, the inputs of {op}, where {names} belong",
                            members)
    everywhere = sorted(tape.ancestors(tape.root))
    for op_name in dict.fromkeys(str(tape.nodes[c].op) for c in sites):  # sites are operations
        for m in OPS[op_name].misconceptions:
            if m.scale:
                nodes = [c for c in everywhere if tape.nodes[c].op == op_name]
                yield Slip(f"{op_name}:scale", m.says, Edits(scale=dict.fromkeys(nodes, m.scale)))


#: Number rules on the figure itself: ``(name, factor, phrase)``.
NUMBER_RULES: tuple[tuple[str, float, str], ...] = (
    ("sign", -1.0, "{its} sign is flipped: the value is {truth}"),
    ("half-missing", 2.0, "twice the value {truth}: a factor 1/2 is missing"),
    ("two-missing", 0.5, "half the value {truth}: a factor 2 is missing"),
)

#: What each rule is called in a teacher's words (a class's misconceptions counted by name); an
#: operation's own misconceptions are called by what they say (:attr:`Misconception.says`).
NAMES: dict[str, str] = {
    "sign": "the sign flipped", "update-sign": "the sign flipped",
    "half-missing": "a factor 1/2 missing", "two-missing": "a factor 2 missing",
    "left-out": "the update left out", "learning-rate": "the update made with another learning rate",
    "other-gradient": "the update made with another weight's gradient",
    "frozen": "a fixed parameter updated", "zero-input": "a weight whose input is 0 changed",
    "momentum-without-velocity": "momentum without the old velocity",
    "dampening-left-out": "momentum's dampening left out",
    "nesterov-left-out": "plain momentum for Nesterov's",
    "decay-sign": "weight decay with the wrong sign", "decay-left-out": "weight decay left out",
    "updated-params": "the updated weights used in the backward pass",
    "upstream": "the upstream gradient left out", "drop-path": "a path of the backward pass forgotten",
    "twice": "a derivative applied twice", "other-node": "another neuron's derivative",
    "neighbour": "another value read in its place", "input-for-output": "a net input used for the output",
    "term-left-out": "a term left out of a sum",
}


def name_of(rule: str) -> str:
    """Return what rule ``rule`` (``"upstream"``, ``"mul:1"``, ``"neighbour:w6-for-w7"``) is called
    in a teacher's words: :data:`NAMES`, or the operation's misconception's own words."""
    family, _, rest = rule.partition(":")
    op = OPS.get(family)
    if op is not None:
        for m in op.misconceptions:
            if (m.scale and rest == "scale") or (not m.scale and op.wrong_derivative(m) == rest):
                return m.says
    return NAMES[family]


def _update_slips(problem: Problem) -> Iterator[Slip]:
    """The update rules that apply to the replay's optimizer, then (for a parameter on the tape)
    the update made with another parameter's gradient."""
    from .checker import computed_text

    replay, params, velocity = problem.replay, problem.params, problem.velocity
    o = replay.optimizer

    def step(optimizer: Optimizer = o, fresh: bool = False, sign: float = 1.0) -> Update:
        return replay.updater(params, velocity, optimizer, fresh, sign)

    flipped = ("the step's sign is flipped: the update adds what it subtracts from {name}, giving {value}"
               if o.momentum or o.weight_decay else
               "the gradient's sign is flipped: {name} + lr * d{output}/d{name} = {value}")
    found = [("update-sign", flipped, step(sign=-1.0))]
    if o.momentum:
        found.append(("momentum-without-velocity", "momentum leaves out the old velocity: the step uses "
                                                   "this step's gradient alone", step(fresh=True)))
    if o.dampening:
        found.append(("dampening-left-out", "momentum leaves the dampening out: the velocity adds the "
                                            "whole gradient", step(replace(o, dampening=0.0))))
    if o.nesterov:
        found.append(("nesterov-left-out", "steps with plain momentum where Nesterov's belongs",
                      step(replace(o, nesterov=False))))
    if o.weight_decay:
        found += [("decay-sign", "weight decay with the wrong sign: the step uses dE/dP - wd * P instead "
                                 "of dE/dP + wd * P", step(replace(o, weight_decay=-o.weight_decay))),
                  ("decay-left-out", "weight decay left out: the step uses dE/dP alone instead of "
                                     "dE/dP + wd * P", step(replace(o, weight_decay=0.0)))]
    found += [("left-out", "matches {name} before the step: the update was left out",
               lambda name, gradient: params[name]),
              ("frozen", "{name} is not trained (the file keeps it fixed), so it keeps its value "
                         "{before}; the claim updates it", replay.updater(params, velocity, everything=True))]
    for rule, phrase, update in found:
        yield Slip(rule, phrase, Edits(), update=update, local=True)
    name = str(problem.key[1])
    if name not in problem.tape.params:
        return
    _, grads, _ = problem.run(Edits())

    def made_with(g: float) -> Update:
        return lambda n, _: problem.update(n, g)

    for other, i in problem.tape.params.items():
        if other != name:
            yield Slip(f"other-gradient:{other}", f"matches the update of {{name}} made with another "
                       f"parameter's gradient, d{{output}}/d{_lit(other)} = "
                       f"{computed_text(grads[i], problem.claim.written)}",
                       Edits(), update=made_with(grads[i]), local=True)


# -- the search ---------------------------------------------------------------------------------

@dataclass
class Problem:
    """One wrong figure to explain, and the pass to search with.

    Attributes:
        replay: the derivation's replay (its tape, update rule and ``sample_scale``).
        params, velocity: the parameters and momentum velocities at the claim's step.
        put_in: the figures put in (written figures, or none for the true computation).
        key, claim: where the claim lives (channel ``f``, ``g``, ``s``, ``d``, ``l`` at a node, or
            ``p`` for an update of a parameter) and the written figure.
        output: the name of what is differentiated (``E``, ``f``).
        ok: figures of the same step judged ok: every slip must agree with them.
        next_params: the parameters after the step (None at the last step).
    """

    replay: Replay
    params: Mapping[str, float]
    velocity: Mapping[str, float]
    put_in: Edits
    key: Key
    claim: Claim
    output: str
    ok: Sequence[tuple[Key, Claim]] = ()
    next_params: Mapping[str, float] | None = None

    @property
    def tape(self) -> Tape:
        """Return the replay's tape."""
        return self.replay.tape

    def update(self, name: str, gradient: float) -> float:
        """Return parameter ``name`` after the file's update with ``gradient``."""
        return self.replay.updater(self.params, self.velocity)(name, gradient)

    def read(self, key: Key, vals: list[float], grads: list[float], factors: list[float],
             update: Update | None = None) -> float:
        """Return the number at ``key`` in a pass."""
        channel, where, _ = key
        if channel == "p":
            i = self.tape.params.get(str(where))
            return (update or self.update)(str(where), grads[i] if i is not None else 0.0)
        assert isinstance(where, int)
        if channel == "f":
            return vals[where]
        if channel == "d":
            return factors[where]
        if channel == "l":
            return grads[where % len(self.tape)]
        return grads[where] / (self.replay.sample_scale if channel == "s" else 1.0)

    def run(self, edits: Edits, factors_too: bool = False) -> Pass:
        """Return a pass's values, gradients and local derivatives with the figures put in (the
        local derivatives when ``factors_too`` or a figure of the problem reads them: else 0)."""
        factors = [0.0] * (2 * len(self.tape))
        wanted = factors_too or self.key[0] == "d" or any(k[0] == "d" for k, _ in self.ok)
        merged = replace(edits, values={**self.put_in.values, **edits.values},
                         grads={**self.put_in.grads, **edits.grads},
                         factors={**self.put_in.factors, **edits.factors})
        if self.key[0] == "l":  # the gradients of a local gradient's top
            assert isinstance(self.key[1], int)
            merged = replace(merged, root=self.key[1] // len(self.tape), grads={})
        vals, grads = run_pass(self.tape, self.params, merged, factors if wanted else None)
        return vals, grads, factors


_SAMPLE = re.compile(r"\[\d+\]")


def slips(problem: Problem) -> Iterator[Slip]:
    """Yield every misconception that applies to the problem's claim, nearest first, then each
    slip made at a batch's per-sample nodes (named ``out_h1[1]``, ``out_h1[2]``...) made in every
    sample at once: the slips whose words differ only in the sample."""
    groups: dict[tuple[str, str], list[Edits]] = {}
    for slip in _slips(problem):  # one at a time: a search past its budget stops between two
        if slip.update is None and _SAMPLE.search(slip.phrase):
            groups.setdefault((slip.rule, _SAMPLE.sub("", slip.phrase)), []).append(slip.edits)
        yield slip
    for (rule, phrase), members in groups.items():
        yield from _at_once(rule, f"{phrase}, in every sample", members)


def _slips(problem: Problem) -> Iterator[Slip]:
    tape = problem.tape
    channel, where, _ = problem.key
    if channel == "p":
        yield from _update_slips(problem)
        if str(where) not in tape.params:
            return
        where = tape.params[str(where)]
    assert isinstance(where, int)
    if channel == "d":
        bottom = tape.nodes[where // 2].operands[where % 2][0]
        yield from _op_slips(tape, [divmod(where, 2)], -1 if bottom is None else bottom)
        return
    if channel == "f":
        yield from _forward_slips(tape, problem.params, where, None)
        return
    top, target = divmod(where, len(tape)) if channel == "l" else (tape.root, where)
    edges = _gradient_edges(tape, target, top)
    yield from _op_slips(tape, edges, target)
    yield from _path_slips(tape, edges, target)
    if channel != "l":
        if problem.next_params is not None:
            yield Slip("updated-params", "uses the updated parameters in the backward pass instead of "
                                         "the step's own", Edits(derivative_params=problem.next_params))
        yield from _forward_slips(tape, problem.params, target, edges)


@dataclass(frozen=True, kw_only=True)
class _Hit(Slip):
    """A slip with its number, its phrase as the hint tells it."""

    value: float
    #: a number rule's (the sign flipped)
    number: bool = False
    #: a gradient's slip, shown through an update
    through: bool = False
    #: the slipped pass (None: the unchanged one, or a number or update rule's)
    result: Pass | None = field(default=None, repr=False)


def _distinct(hits: list[_Hit]) -> list[_Hit]:
    """Return the hits that tell different stories: one rule giving one number at several places
    (the upstream gradient left out at a sum or at the product under it) counts once, at a named
    node where it can, at one place rather than several; a slip in the claim's own operation (or
    its update) explains a number before farther ones; a number rule (the sign flipped) gives way
    to a slip in the claim's own operation that gives its number, and tells the story of farther
    slips that give it (a minus lost deep in the loss is the derivative's sign flipped)."""
    kept: list[_Hit] = []
    for h in sorted(hits, key=lambda h: (h.number, not h.local, h.group, not h.named, "..." in h.phrase)):
        same = [k for k in kept if math.isclose(k.value, h.value, rel_tol=1e-12, abs_tol=1e-300)]
        if any(k.rule == h.rule or (k.local and (h.number or not h.local)) for k in same):
            continue
        if h.number:
            kept = [k for k in kept if k not in same]
        kept.append(h)
    return kept


def _rates(problem: Problem, grads: list[float]) -> Iterator[_Hit]:
    """Yield an update claim's update made with each round learning rate (one or two significant
    digits) that the claim pins down to within 10% and singles out among the rates written with as
    many digits: a tiny gradient would let almost any rate match, and a precise claim some
    two-digit rate."""
    name = str(problem.key[1])
    if problem.key[0] != "p" or name not in problem.tape.params:
        return
    opt, gradient, prev = problem.replay.optimizer, grads[problem.tape.params[name]], problem.params[name]

    def rated(rate: float) -> float:
        return problem.replay.updater(problem.params, problem.velocity, replace(opt, lr=rate))(name, gradient)

    d = prev - rated(1.0)  # what the rate multiplies (momentum, decay)
    if d == 0 or not math.isfinite(d):
        return
    implied = (prev - problem.claim.value) / d
    window = float(problem.claim.unit) / abs(d)
    for digits in (1, 2):
        rate = float(f"{implied:.{digits}g}")
        if rate <= 0 or math.isclose(rate, opt.lr):
            continue
        spacing = 10.0 ** (math.floor(math.log10(rate)) - digits + 1)
        if window <= 0.1 * rate and window < spacing / 2:
            yield _Hit("learning-rate", f"matches the update with learning rate {rate:g} instead of "
                       f"{opt.lr:g}", value=rated(rate), local=True)


def zero_fact(problem: Problem, vals: list[float], grads: list[float]) -> str | None:
    """Return why a parameter's gradient is 0 whatever is written, when it is: every operation
    reading the parameter multiplies it by an exact 0 (an input 0); for an update, that the
    parameter then cannot change. None otherwise."""
    channel, where, _ = problem.key
    tape = problem.tape
    i = tape.params.get(str(where)) if channel == "p" else where
    if channel not in ("p", "g") or not isinstance(i, int) or tape.nodes[i].op is not None \
            or grads[i] != 0.0 or not tape.consumers[i]:
        return None
    zeros: list[str] = []
    for c, pos in tape.consumers[i]:
        if tape.nodes[c].op != "mul":
            return None
        j, const = tape.nodes[c].operands[1 - pos]
        if (vals[j] if j is not None else const) != 0.0:
            return None
        if j is None:
            zeros.append(f"{const:g}")
        else:  # a leaf that is no parameter is an input
            leaf = tape.nodes[j].op is None and tape.nodes[j].param is None
            zeros.append(("the input " if leaf else "") + describe(tape, j, 0))
    shown = list(dict.fromkeys(zeros))
    name = tape.nodes[i].param or tape.label(i) or "it"
    text = f"{', '.join(shown)} {'is' if len(shown) == 1 else 'are'} 0, so d{problem.output}/d{name} = 0"
    if channel == "g":
        return text
    prev = problem.params[name]
    if problem.update(name, 0.0) != prev:
        return None  # weight decay, or a velocity from earlier steps, still moves it
    return f"{text} and {name} cannot change: it stays {prev:g}"


def _agrees(problem: Problem, result: Pass | None) -> bool:
    """Return True unless a slipped pass contradicts a figure of its step judged ok: a value or a
    derivative (an update may have been made with a gradient written right before the slip was
    written down; a local gradient's pass differentiates its own top: only values compare)."""
    from .checker import matches

    kinds = "f" if problem.key[0] == "l" else "fgsd"
    return result is None or all(matches(c, problem.read(k, *result)) for k, c in problem.ok if k[0] in kinds)


def _told(problem: Problem, base: Pass) -> Iterator[_Hit]:
    """Yield every misconception's number for the problem's claim as the hint would tell it, with
    its slipped pass (None: the unchanged ``base``). The number rules come first."""
    from .checker import computed_text

    written = problem.claim.written
    channel, where, _ = problem.key
    truth = problem.read(problem.key, *base)
    words = {"truth": computed_text(truth, written), "output": problem.output,
             "its": "the derivative's" if channel in ("g", "s", "d") else "its",
             "name": str(where) if channel == "p" else "",
             "before": f"{problem.params.get(str(where), 0.0):g}"}

    def say(phrase: str, value: float) -> str:
        return phrase.format(**words, value=computed_text(value, written),
                             delta=computed_text(truth - value, written))

    if channel != "p":
        for rule, factor, text in NUMBER_RULES:
            yield _Hit(rule, say(text, truth * factor), value=truth * factor, number=True)
    for slip in slips(problem):
        result = problem.run(slip.edits) if slip.edits.structural() or slip.update is None else base
        value = problem.read(problem.key, *result, update=slip.update)
        phrase = say(slip.phrase, value)
        through = channel == "p" and slip.update is None
        if through:  # a gradient's slip, shown through the update
            g = computed_text(result[1][problem.tape.params[str(where)]], written)
            phrase = f"matches the update with d{problem.output}/d{where} = {g}, which {phrase}"
        yield _Hit(slip.rule, phrase, named=slip.named, local=slip.local, group=slip.group, value=value,
                   through=through, result=None if result is base else result)


def story(problem: Problem, budget: float = BUDGET_SECONDS) -> tuple[str, float, Pass | None, str] | None:
    """Return the one story that reproduces the claim's figure and agrees with every ok figure (the
    hint): its phrase, its number, its slipped pass (values, gradients, local derivatives; None for
    a number, update or fact story, which changes no other number of the pass) and what its slip is
    called (:func:`name_of`); None when no story or several do (one per story: see
    :func:`_distinct`), or when the search does not finish within ``budget`` seconds. A fact that
    makes the figure wrong whatever it is (a weight whose input is 0 cannot change) is the story,
    with the true number."""
    if problem.key[0] not in ("f", "g", "s", "d", "l", "p"):
        return None  # a velocity or the regularized loss: no misconception is written for them
    from .checker import matches

    claim, unit = problem.claim, float(problem.claim.unit)
    base = problem.run(Edits())
    truth = problem.read(problem.key, *base)
    if not math.isfinite(truth):
        return None
    fact = zero_fact(problem, base[0], base[1])
    if fact is not None:
        return fact, truth, None, name_of("zero-input")
    before = problem.params.get(str(problem.key[1]), 0.0)

    def fits(value: float) -> bool:
        return math.isfinite(value) and abs(value - truth) > 2 * unit and matches(claim, value)

    hits = [hit for hit in _rates(problem, base[1]) if fits(hit.value)]
    deadline = time.monotonic() + budget
    for hit in _told(problem, base):
        # An update shows a gradient's slip through its step only: with a small step, a figure
        # with few digits leaves the slipped gradient so loose that one of the many slips of
        # the backward pass would match by chance. The step must be pinned to 1 part in 1000.
        pinned = not hit.through or unit <= PINNED * abs(before - hit.value)
        if fits(hit.value) and _agrees(problem, hit.result) and pinned:
            hits.append(hit)
        if time.monotonic() > deadline:
            return None  # stopped early: another story might reproduce the figure too
    found = _distinct(hits)
    if len(found) != 1:
        return None
    return found[0].phrase, found[0].value, found[0].result, name_of(found[0].rule)


def slip_values(problem: Problem) -> list[tuple[str, str, float]]:
    """Return ``(rule, phrase, number)`` for every story the misconceptions tell of the problem's
    claim (the number rules' included; the learning rate, read off a written figure, and facts
    left out; those whose pass contradicts a figure of ``problem.ok`` too): one per number and
    story, as :func:`story` would tell it."""
    hits = [h for h in _told(problem, problem.run(Edits())) if _agrees(problem, h.result)]
    return [(h.rule, h.phrase, h.value) for h in _distinct(hits)]
