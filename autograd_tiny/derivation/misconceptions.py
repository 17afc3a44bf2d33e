"""Misconceptions as edits of any tape: the slips that no one listed for this exercise.

A wrong figure gets a hint when exactly one misconception, made at one place of the
computation, reproduces it (within the figure's precision) and agrees with every figure
the student wrote that was judged ok. The misconceptions are data, in three places:

* **beside each operation** (:attr:`autograd_tiny.ops.Op.misconceptions`): wrong local
  derivatives (a product's own factor instead of the other one, the power rule without
  its exponent, sigmoid' written as sigmoid, the quotient's minus sign lost), run and
  printed by the same code as the true ones;
* **structural rules** on the tape: the upstream gradient not
  multiplied in (the local derivative written as the gradient), one path at a fan-out
  left out, a neighbouring node's value read where one belongs;
* **number rules** on the figure itself (:data:`NUMBER_RULES`): the sign flipped, a
  factor 2 or 1/2;
* **update rules** (:data:`UPDATE_RULES`): the update's sign, the update left out,
  momentum without the old velocity, weight decay with the wrong sign or left out.

The search tries each applicable entry at the claim's node and at every node whose
error the claim carries: for a value, the nodes it is computed from; for a gradient,
every local derivative on the paths from the output down to the node; for an update,
the gradient's slips and the update's. Nothing here knows what a neuron is: a network
file and an expression file are both tapes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from .. import formula
from ..ops import OPS
from .format import Claim
from .interpreter import Edits, Key, Optimizer, Replay, local_edits, node_value, run_pass
from .tape import Tape

#: Seconds the search of one claim may take; past it the search stops and gives no hint.
BUDGET_SECONDS = 1.0

#: How many nodes on either side a neighbouring node's value is looked for.
NEIGHBOURS = 2


@dataclass(frozen=True)
class Slip:
    """One misconception made at one place.

    Attributes:
        rule: the entry's name (``"own-factor"``, ``"upstream"``, ``"sign"``).
        phrase: what the student did, in the names the file uses.
        edits: the change to the pass (None: the pass as it is, with another update).
        update: for an update claim, the update rule to step with (None: the file's).
    """

    rule: str
    phrase: str
    edits: Edits | None = None
    update: Callable[[str, float], float] | None = field(default=None, compare=False)
    named: bool = True
    #: made in the claim's own last operation (its number then explains a number rule's)
    local: bool = False


def _lit(text: str) -> str:
    """Return ``text`` for a phrase template: its braces doubled, so that ``str.format`` fills
    only the template's own fields and prints the file's names as they are."""
    return text.replace("{", "{{").replace("}", "}}")


def describe(tape: Tape, i: int, depth: int = 2) -> str:
    """Return node ``i`` as a reader sees it: its name, a number, or its operation on its
    operands' descriptions (``w5 * out_h1``), ``...`` past ``depth``."""
    name = tape.label(i)
    if name is not None:
        return name
    node = tape.nodes[i]
    if node.op is None:
        return node.param or f"{node.const:g}"
    if depth == 0:
        return "..."
    parts = [describe(tape, j, depth - 1) if j is not None else f"{c:g}" for j, c in node.operands]
    op = OPS[node.op]
    if op.arity == 2:
        return f"({parts[0]} {op.symbol} {parts[1]})"
    return f"{op.symbol}({parts[0]})"


def _operand_names(tape: Tape, i: int) -> dict[str, str | float]:
    names: dict[str, str | float] = {"out": describe(tape, i, 1)}
    for pos, (j, c) in enumerate(tape.nodes[i].operands):
        names["xy"[pos]] = describe(tape, j, 1) if j is not None else c
    return names


def derivative_text(tape: Tape, i: int, expr: str) -> str:
    """Return a local derivative of node ``i`` as text over the names of its operands."""
    tree = formula.from_table(expr, _operand_names(tape, i))
    return formula.render(formula.simplify(formula.fold_constants(tree)))


# -- where the rules apply ----------------------------------------------------------------------

def _gradient_edges(tape: Tape, target: int, root: int | None = None) -> list[tuple[int, int]]:
    """Return the ``(node, position)`` edges on the paths along which the gradient of ``root`` (the
    tape's) reaches ``target``: every local derivative a slip in d(root)/d(target) can sit in."""
    above = tape.descendants(target)
    feeding = tape.ancestors(tape.root if root is None else root)
    # nearest the target first: the slips a figure most likely carries are tried first
    return [(c, pos) for c in sorted(above & feeding) if tape.nodes[c].op is not None
            for pos, p in tape.nodes[c].parents if p in above]


def _op_slips(tape: Tape, edges: list[tuple[int, int]], output: str, target: int) -> Iterator[Slip]:
    for c, pos in edges:
        op = OPS[tape.nodes[c].op or ""]
        parent = tape.nodes[c].operands[pos][0]
        assert parent is not None
        for m in op.misconceptions:
            if m.position != pos:
                continue
            wrong = op.wrong_derivative(m)
            exprs = tuple(wrong if k == pos else d for k, d in enumerate(op.derivatives))
            top, bottom = _lit(describe(tape, c, 1)), _lit(describe(tape, parent, 1))
            phrase = (f"{m.says}: d{top}/d{bottom} written as "
                      f"{_lit(derivative_text(tape, c, wrong))} "
                      f"instead of {_lit(derivative_text(tape, c, op.derivatives[pos]))}")
            yield Slip(f"{op.name}:{wrong}", phrase, Edits(derivative={c: exprs}),
                       named=tape.label(c) is not None, local=parent == target)


def _upstream(tape: Tape, edges: list[tuple[int, int]], output: str) -> Iterator[Slip]:
    for c in dict.fromkeys(c for c, _ in edges):
        if c == tape.root:
            continue
        top = _lit(describe(tape, c, 1))
        yield Slip("upstream", f"leaves the upstream gradient d{{output}}/d{top} out: the local "
                               f"derivative at {top} is written as the gradient",
                   Edits(upstream={c}), named=tape.label(c) is not None)


def _fan_out(tape: Tape, edges: list[tuple[int, int]], output: str, target: int) -> Iterator[Slip]:
    for c, pos in edges:
        parent = tape.nodes[c].operands[pos][0]
        assert parent is not None
        uses = tape.consumers[parent]
        if len(uses) < 2:
            continue
        p = _lit(describe(tape, parent, 1))
        through = _lit(describe(tape, c, 1))
        yield Slip("drop-path", f"d{{output}}/d{p} leaves out one of the {len(uses)} paths through "
                                f"which {{output}} depends on {p} (the one through {through}): it "
                                "should add {delta}",
                   Edits(drop={(c, pos)}), named=tape.label(c) is not None, local=parent == target)


def _neighbours(tape: Tape, target: int, output: str) -> Iterator[Slip]:
    """A neighbouring node's value read where an operand belongs: another named node of the same
    kind (both parameters, or both computed by the same operation) next to it on the tape."""
    named = sorted(set(tape.names.values()))
    for c in sorted(tape.ancestors(target)):
        node = tape.nodes[c]
        if node.op is None:
            continue
        for pos, (j, _) in enumerate(node.operands):
            if j is None or tape.label(j) is None:
                continue
            kind = tape.nodes[j].op or ("param" if tape.nodes[j].param is not None else "const")
            alike = [k for k in named if k != j and tape.label(k) is not None
                     and (tape.nodes[k].op or ("param" if tape.nodes[k].param is not None else "const"))
                     == kind and k not in tape.descendants(c)]
            alike.sort(key=lambda k: abs(k - j))
            for k in alike[:2 * NEIGHBOURS]:
                yield Slip(f"neighbour:{tape.label(k)}-for-{tape.label(j)}",
                           f"reads {_lit(str(tape.label(k)))} where {_lit(str(tape.label(j)))} belongs in "
                           f"{_lit(describe(tape, c, 1))}",
                           Edits(operand={(c, pos): node_value(k)}))


#: Number rules on the figure itself: ``(name, factor, phrase)``.
NUMBER_RULES: tuple[tuple[str, float, str], ...] = (
    ("sign", -1.0, "{its} sign is flipped: the value is {truth}"),
    ("half-missing", 2.0, "twice the value {truth}: a factor 1/2 is missing"),
    ("two-missing", 0.5, "half the value {truth}: a factor 2 is missing"),
)

#: Update rules: ``(name, applies, phrase, how)``; ``how`` gives :meth:`Replay.updater`'s
#: arguments (an optimizer changed from the file's, a fresh velocity, the sign of the step).
UPDATE_RULES: tuple[tuple[str, Callable[[Optimizer], bool], str,
                          Callable[[Optimizer], tuple[Optimizer, bool, float]]], ...] = (
    ("update-sign", lambda o: not (o.momentum or o.weight_decay),
     "the gradient's sign is flipped: {name} + lr * d{output}/d{name} = {value}",
     lambda o: (o, False, -1.0)),
    ("update-sign", lambda o: bool(o.momentum or o.weight_decay),
     "the step's sign is flipped: the update adds what it subtracts from {name}, giving {value}",
     lambda o: (o, False, -1.0)),
    ("momentum-without-velocity", lambda o: bool(o.momentum),
     "momentum leaves out the old velocity: the step uses this step's gradient alone",
     lambda o: (o, True, 1.0)),
    ("dampening-left-out", lambda o: bool(o.dampening),
     "momentum leaves the dampening out: the velocity adds the whole gradient",
     lambda o: (replace(o, dampening=0.0), False, 1.0)),
    ("nesterov-left-out", lambda o: o.nesterov, "steps with plain momentum where Nesterov's belongs",
     lambda o: (replace(o, nesterov=False), False, 1.0)),
    ("decay-sign", lambda o: bool(o.weight_decay),
     "weight decay with the wrong sign: the step uses dE/dP - wd * P instead of dE/dP + wd * P",
     lambda o: (replace(o, weight_decay=-o.weight_decay), False, 1.0)),
    ("decay-left-out", lambda o: bool(o.weight_decay),
     "weight decay left out: the step uses dE/dP alone instead of dE/dP + wd * P",
     lambda o: (replace(o, weight_decay=0.0), False, 1.0)),
)


def update_variants(replay: Replay, params: Mapping[str, float], velocity: Mapping[str, float],
                    ) -> list[tuple[str, str, Callable[[str, float], float]]]:
    """Return ``(rule, phrase, update)`` for every update rule that applies to the replay's
    optimizer, each ``update`` a ``(name, gradient) -> parameter after the step``."""
    found = []
    for rule, applies, phrase, how in UPDATE_RULES:
        if applies(replay.optimizer):
            opt, fresh, sign = how(replay.optimizer)
            found.append((rule, phrase, replay.updater(params, velocity, opt, fresh, sign)))
    found.append(("left-out", "matches {name} before the step: the update was left out",
                  lambda name, gradient: params[name]))
    return found


# -- the search ---------------------------------------------------------------------------------

@dataclass
class Problem:
    """One wrong figure to explain, and the pass to search with.

    Attributes:
        tape, params: the graph and the parameters at the claim's step.
        put_in: the figures put in (written figures, or none for the true computation).
        key: where the claim lives (channel ``f``, ``g``, ``s``, ``d`` at a node, or ``p`` for an
            update of a parameter).
        claim: the written figure.
        output: the name of what is differentiated (``E``, ``f``).
        sample_scale: d E / d E[s] for channel ``s``.
        update: ``(name, gradient) -> the parameter after the step`` (for ``p``).
        update_variants: the update rules' slips: ``(name, phrase, update)``.
        ok: figures of the same step judged ok: every slip must agree with them.
    """

    tape: Tape
    params: Mapping[str, float]
    put_in: Edits
    key: Key
    claim: Claim
    output: str
    sample_scale: float = 1.0
    update: Callable[[str, float], float] | None = None
    update_variants: Sequence[tuple[str, str, Callable[[str, float], float]]] = ()
    ok: Sequence[tuple[Key, Claim]] = ()

    def read(self, key: Key, vals: list[float], grads: list[float], factors: list[float],
             update: Callable[[str, float], float] | None = None) -> float:
        """Return the number at ``key`` in a pass."""
        channel, where, _ = key
        if channel == "p":
            name = str(where)
            i = self.tape.params.get(name)
            step = update or self.update
            assert step is not None
            return step(name, grads[i] if i is not None else 0.0)
        assert isinstance(where, int)
        if channel == "f":
            return vals[where]
        if channel == "d":
            return factors[where]
        if channel == "l":
            return grads[where % len(self.tape)]
        return grads[where] / (self.sample_scale if channel == "s" else 1.0)

    def run(self, edits: Edits) -> tuple[list[float], list[float], list[float]]:
        """Return a pass's values, gradients and local derivatives with the figures put in."""
        factors = [0.0] * (2 * len(self.tape))
        merged = replace(edits, values={**self.put_in.values, **edits.values},
                         grads={**self.put_in.grads, **edits.grads},
                         factors={**self.put_in.factors, **edits.factors})
        if self.key[0] == "l":  # the gradients of a local gradient's top, named nodes held
            assert isinstance(self.key[1], int)
            local, _ = local_edits(self.tape, self.key[1])
            merged = replace(merged, root=local.root, hold=local.hold, grads={})
        vals, grads = run_pass(self.tape, self.params, merged, factors)
        return vals, grads, factors


def _target(problem: Problem) -> int | None:
    channel, where, _ = problem.key
    if channel == "p":
        return problem.tape.params.get(str(where))
    assert isinstance(where, int)
    if channel == "l":
        return where % len(problem.tape)
    return where // 2 if channel == "d" else where


def slips(problem: Problem) -> Iterator[Slip]:
    """Yield every misconception that applies to the problem's claim, nearest first."""
    tape = problem.tape
    channel = problem.key[0]
    target = _target(problem)
    if channel == "p":
        for rule, phrase, update in problem.update_variants:
            yield Slip(rule, phrase, Edits(), update=update)
    if target is None:
        return
    if channel == "d":
        where = problem.key[1]
        assert isinstance(where, int)
        edges = [(where // 2, where % 2)]
        yield from _op_slips(tape, edges, problem.output, tape.nodes[where // 2].operands[where % 2][0] or -1)
        return
    if channel == "f":
        yield from _neighbours(tape, target, problem.output)
        return
    top = problem.key[1] // len(tape) if channel == "l" else None  # type: ignore[operator]
    edges = _gradient_edges(tape, target, top)
    yield from _op_slips(tape, edges, problem.output, target)
    yield from _upstream(tape, edges, problem.output)
    yield from _fan_out(tape, edges, problem.output, target)


def matches_claim(claim: Claim, value: float) -> bool:
    """Return True when ``claim`` is ``value`` rounded or truncated to its digits (the checker's rule)."""
    from .checker import matches

    return matches(claim, value)


@dataclass
class _Hit:
    rule: str
    phrase: str
    value: float
    named: bool
    number: bool = False
    local: bool = False


def _distinct(hits: list[_Hit]) -> list[_Hit]:
    """Return the hits that tell different stories: one rule giving one number at several places
    (the upstream gradient left out at a sum or at the product under it) counts once, at a named
    node where it can; a number rule (the sign flipped) whose number a slip explains gives way."""
    kept: list[_Hit] = []
    for h in sorted(hits, key=lambda h: (h.number, not h.named, "..." in h.phrase)):
        same = [k for k in kept if math.isclose(k.value, h.value, rel_tol=1e-12, abs_tol=1e-300)]
        if h.number and any(k.local for k in same):
            continue
        if any(k.rule == h.rule for k in same):
            continue
        kept.append(h)
    return kept


def reproducing(problem: Problem, budget: float = BUDGET_SECONDS) -> tuple[list[tuple[str, float]], bool]:
    """Return ``(phrase, number)`` for every misconception that reproduces the claim's figure and
    agrees with every ok figure (one per story: see :func:`_distinct`), and whether the search
    tried every entry within ``budget`` seconds."""
    if problem.key[0] not in ("f", "g", "s", "d", "l", "p"):
        return [], True  # a velocity or the regularized loss: no misconception is written for them
    from .checker import format_number

    claim = problem.claim
    unit = float(claim.unit)
    base = problem.run(Edits())
    truth = problem.read(problem.key, *base)
    if not math.isfinite(truth):
        return [], True
    hits: list[_Hit] = []

    def agrees(result: tuple[list[float], list[float], list[float]]) -> bool:
        # (a local gradient's pass differentiates its own top: only values can be compared)
        return all(matches_claim(c, problem.read(k, *result)) for k, c in problem.ok
                   if channel != "l" or k[0] == "f")

    channel, where, _ = problem.key
    words = {"truth": format_number(truth, claim), "output": problem.output,
             "its": "the derivative's" if channel in ("g", "s", "d") else "its",
             "name": str(where) if channel == "p" else ""}

    def fits(value: float) -> bool:
        return math.isfinite(value) and abs(value - truth) > 2 * unit and matches_claim(claim, value)

    def say(phrase: str, value: float) -> str:
        return phrase.format(**words, value=format_number(value, claim),
                             delta=format_number(truth - value, claim))

    if channel != "p":
        for rule, factor, text in NUMBER_RULES:
            if fits(truth * factor):
                hits.append(_Hit(rule, say(text, truth * factor), truth * factor, True, number=True))
    deadline = time.monotonic() + budget
    for slip in slips(problem):
        if time.monotonic() > deadline:
            return [(h.phrase, h.value) for h in _distinct(hits)], False
        result = problem.run(slip.edits) if slip.edits is not None and (
            slip.edits.structural() or slip.update is None) else base
        value = problem.read(problem.key, *result, update=slip.update)
        if fits(value) and (result is base or agrees(result)):
            hits.append(_Hit(slip.rule, say(slip.phrase, value), value, slip.named, local=slip.local))
    return [(h.phrase, h.value) for h in _distinct(hits)], True
