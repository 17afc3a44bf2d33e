"""Judging a derivation's claimed figures: ``ok``, ``follows`` or ``wrong``, with a hint.

For every claim (reported in file order):

* ``ok``: the written number is the engine's value rounded or truncated to the
  digits it is written with (``0.505`` passes for any value in [0.5045, 0.5055]
  (rounded) or [0.505, 0.506) (truncated); ``1.5e-3`` has its last digit at
  ``1e-4``; an integer at 1, so ``1`` passes 0.5 to 1.5, not 0.36). A non-zero
  value must have the written sign: ``0`` does not pass -0.244 (``-0.0`` does).
* ``follows``: not ok, but equal (same rule) to the value recomputed from the
  other claims: every quantity the recomputation needs that the file claims is
  taken as written (see :mod:`autograd_tiny.derivation.interpreter`). The slip was made
  earlier and carried forward correctly; the hint names where it came from.
* ``wrong``: neither; the slip is at this step. The hint says what the number
  matches: every misconception of :mod:`autograd_tiny.derivation.misconceptions` (the
  sign flipped, a factor 1/2 or 2, another learning rate, updated weights in the
  backward pass, a path forgotten, another weight or ``net`` read where one belongs,
  another derivative or the right one at the wrong point, a term or a factor left
  out, ...) is tried at every place the figure depends on, and a hint is given only
  when exactly one of them reproduces the written figure.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from .. import _display_hooks
from .._numeric import printable
from . import interpreter
from .format import Claim, Quantity, Spec
from .interpreter import Key, Trace
from .misconceptions import BUDGET_SECONDS, Problem, story
from .network import Network
from .tape import derivative_function

VERDICTS = ("ok", "follows", "wrong")

#: A computed number at most this fraction of the terms that made it is float noise around an
#: exact 0 (the softmax deltas' sum, -1.7e-16, is a correct 0).
NOISE = 1e-12

#: Seconds the hint search may take for all the wrong figures of one file together; past it
#: the remaining wrong figures get no hint and the summary says so.
HINT_BUDGET_SECONDS = 2.0

#: A recomputation from more written figures than this is judged without their rounding.
MAX_INTERVAL_INPUTS = 64


@dataclass
class ClaimResult:
    """The verdict on one claim.

    Attributes:
        claim: the claim's name as written (``"w1+"``).
        written: its number as written (``"0.249921"``).
        computed: the value the engine computes from the file's numbers.
        verdict: ``"ok"``, ``"follows"`` or ``"wrong"``.
        hint: what a ``wrong`` number matches (or where a ``follows`` comes from); None if nothing.
        quantity: what the claim is about.
        recomputed: the value recomputed from the other claims (None when ``ok``).
        unit: one unit of the claim's last written digit (the tolerance).
        based_on: names of the claims whose written values the recomputation used
            and that differ from their computed values.
        order: where the claim's number is computed (step, then forward pass, backward
            pass from the loss, update): the summary's first slip is the wrong claim
            with the smallest order, wherever the file writes it.
        misconception: what the hint's slip is called in a teacher's words ("a path of the
            backward pass forgotten"; see :func:`autograd_tiny.derivation.misconceptions.name_of`),
            for a wrong claim whose hint names a slip; None otherwise.
    """

    claim: str
    written: str
    computed: float
    verdict: str
    hint: str | None
    quantity: Quantity
    recomputed: float | None = None
    unit: float = 0.0
    based_on: list[str] = field(default_factory=list)
    order: tuple[float, ...] = ()
    misconception: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: ``claim``, ``written``, ``computed``, ``verdict``, ``hint``."""
        computed: float | None = self.computed if math.isfinite(self.computed) else None
        return {"claim": self.claim, "written": self.written, "computed": computed,
                "verdict": self.verdict, "hint": self.hint}

    def _repr_html_(self) -> str | None:
        return _display_hooks.html(self)  # registered by autograd_tiny.display


class ClaimResults(list[ClaimResult]):
    """The verdicts on a derivation's claims, in file order: a list, shown as a table in Jupyter.

    ``title`` is the derivation's title (shown above the table; may be empty).
    """

    def __init__(self, results: Iterable[ClaimResult] = (), title: str = "", unsearched: int = 0) -> None:
        super().__init__(results)
        self.title = title
        #: wrong figures the hint search had no time left for (see ``HINT_BUDGET_SECONDS``)
        self.unsearched = unsearched

    def _repr_html_(self) -> str | None:
        return _display_hooks.html(self)  # registered by autograd_tiny.display

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(format_text(self, self.title).rstrip("\n"))


def matches(claim: Claim, value: float) -> bool:
    """Return True when the written figure is ``value`` rounded (either way at a tie) or truncated
    (toward zero) to its last written digit, with the written sign when ``value`` is not 0: the
    ``ok`` rule above (``0`` passes only values >= 0: TOML reads ``-0`` as the integer 0, so a small
    negative one is written ``-0.0``). A nan or infinite value never matches."""
    if not math.isfinite(value):
        return False
    with localcontext(prec=80):
        return within(claim.exact, Decimal(value), claim.unit, claim.exact.is_signed())


def within(written: Decimal, value: Decimal, unit: Decimal, negative: bool) -> bool:
    """Return True when ``written`` (with the sign ``negative`` it is written with, and ``unit``
    its last digit's place) is ``value`` rounded or truncated there: the precision rule of
    :func:`matches`, on exact numbers. The lesson page's quiz runs this function translated to
    JavaScript (:func:`autograd_tiny.html.jscode.function_js`), so it is written once; keep it
    to ifs, returns, comparisons, ``and``/``or``/``not``, ``+ - *`` and ``abs``."""
    if value != 0 and negative != (value < 0):
        return False
    if 2 * abs(written - value) <= unit:
        return True
    return abs(written) <= abs(value) and abs(value) - abs(written) < unit


class _Checker:
    """The verdicts on ``claims`` (in file order) about ``replay``'s quantities; ``output`` names
    what is differentiated (``E``, ``f``)."""

    def __init__(self, claims: list[Claim], replay: interpreter.Replay, output: str, progress: bool) -> None:
        self.claims = claims
        self.replay = replay
        self.computed = computed(replay, [c.quantity for c in claims], progress)
        self.output = output
        self.progress = progress
        self.keys = [replay.key(c.quantity) for c in claims]
        self._ok: list[int] = []
        self._deadline = math.inf
        self.unsearched = 0  # as in ClaimResults

    # -- the verdicts -------------------------------------------------------------------------
    def results(self) -> list[ClaimResult]:
        results = [ClaimResult(claim=c.name, written=c.written, computed=self.computed[c.quantity],
                               verdict="ok", hint=None, quantity=c.quantity, unit=float(c.unit),
                               order=self.replay.order(key))
                   for c, key in zip(self.claims, self.keys)]
        todo = [i for i, c in enumerate(self.claims) if not matches(c, results[i].computed)]
        noise = self._noise([i for i in todo if 0 < abs(results[i].computed) < 1e-6])
        for i in noise:
            results[i].computed = 0.0
        todo = [i for i in todo if not (i in noise and matches(self.claims[i], 0.0))]
        if not todo:
            return results
        # One replay with every figure put in (the first of several at one place) recomputes each
        # from all the others: what was computed where a figure went in, before it went in.
        first: dict[Key, int] = {}
        for j, key in enumerate(self.keys):
            if key[0] not in ("l", "v", "r", "e"):  # l, v, r, e feed nothing else
                first.setdefault(key, j)
        replace = {key: self.claims[j].value for key, j in first.items()}
        bits = {key: 1 << j for key, j in first.items()}
        trace = _replay(self.replay, [self.keys[i] for i in todo], replace, bits, self.progress)
        masks = {i: trace.recomputed_mask(self.keys[i]) for i in todo}
        for i in todo:
            r = results[i]
            r.recomputed = trace.recomputed(self.keys[i])
            r.verdict = "follows" if self._follows(i, r.recomputed, replace, masks[i]) else "wrong"
        pending = [i for i in todo
                   if results[i].verdict == "wrong" and not self._from_parts(i, results[i], masks)]
        if pending:
            truth = _replay(self.replay, [self.keys[i] for i in pending], {}, progress=self.progress)
            self._ok = [j for j, r in enumerate(results) if r.verdict == "ok"]
            self._deadline = time.monotonic() + HINT_BUDGET_SECONDS
            for i in pending:
                if time.monotonic() > self._deadline:
                    self.unsearched += 1
                    continue
                truth_hint = self._hint(i, truth, {})
                written_hint = self._hint(i, trace, replace, True)
                if written_hint[0] and truth_hint[0] and written_hint[0].startswith(truth_hint[0] + " ("):
                    written_hint = truth_hint  # the same slip, whichever figures it starts from
                # A figure computed from an earlier slipped figure (w5+ from a wrong dE/dw5) was
                # made with that figure: what it matches there comes first.
                from_slip = any(results[j].verdict != "ok" for j in _bits(masks[i]))
                first_hint, second = (written_hint, truth_hint) if from_slip else (truth_hint, written_hint)
                results[i].hint, results[i].misconception = first_hint if first_hint[0] else second
        self._explain_follows(results, masks)
        return results

    def _noise(self, tiny: list[int]) -> set[int]:
        """Return the claims among ``tiny`` whose computed value is float noise around an exact 0:
        below :data:`NOISE` times the size of the terms that made it (other numbers than values,
        gradients and parameters have no size: no noise). One replay and one size pass per step
        serve them all."""
        if not tiny:
            return set()
        trace = _replay(self.replay, [self.keys[i] for i in tiny], {})
        sizes: dict[Key, float] = {}
        for step in {_step_of(self.keys[i]) for i in tiny}:
            sizes.update(_sizes(trace, step))
        return {i for i in tiny
                if abs(self.computed[self.claims[i].quantity]) <= NOISE * sizes.get(self.keys[i], 0.0)}

    def _follows(self, i: int, recomputed: float, replace: dict[Key, float], mask: int) -> bool:
        """Return True when the written figure is ``recomputed`` within the precision of the written
        figures it was computed from: each moved by half a unit of its last digit moves it by at
        most the sum of their effects (an interval, not one recomputation)."""
        c = self.claims[i]
        if matches(c, recomputed):
            return True
        # A figure written as the engine computes it (1 for an exact 1) carries no rounding.
        used = [j for j in _bits(mask) if self.claims[j].value != self.computed[self.claims[j].quantity]]
        if not used or len(used) > MAX_INTERVAL_INPUTS or not math.isfinite(recomputed):
            return False
        slack = 0.0
        for j in used:
            moved = {**replace, self.keys[j]: replace[self.keys[j]] + float(self.claims[j].unit) / 2}
            slack += abs(_replay(self.replay, [self.keys[i]], moved).recomputed(self.keys[i]) - recomputed)
        return math.isfinite(slack) and _near(c, recomputed, slack)

    def _from_parts(self, i: int, r: ClaimResult, masks: dict[int, int]) -> bool:
        """Judge a gradient written as the sum of its written parts (``dE/dout_h1`` after
        ``dE_o1/dout_h1`` and ``dE_o2/dout_h1``, one per term of the loss): it follows when it is
        that sum within the parts' precision. Return True when it does (``r`` updated)."""
        channel, where, step = self.keys[i]
        if channel != "g":
            return False
        n = len(self.replay.tape)
        parts = {key[1] // n: j for j, key in enumerate(self.keys)  # type: ignore[operator]
                 if key[0] == "l" and key[2] == step and key[1] % n == where}
        if not parts or set(parts) != self._terms():
            return False
        total = math.fsum(self.claims[j].value for j in parts.values())
        if not _near(self.claims[i], total, sum(float(self.claims[j].unit) for j in parts.values()) / 2):
            return False
        r.verdict, r.recomputed = "follows", total
        masks[i] = sum(1 << j for j in parts.values())
        return True

    def _terms(self) -> set[int]:
        """Return the named nodes the loss adds up (``E_o1`` and ``E_o2`` of ``E``), through the
        sums the file does not name; empty when the loss is no sum."""
        tape = self.replay.tape
        found: set[int] = set()
        stack = [tape.root]
        while stack:
            node = tape.nodes[stack.pop()]
            if node.op != "add":
                return set()
            for _, p in node.parents:
                (found.add if tape.label(p) is not None else stack.append)(p)
        return found if len(found) > 1 else set()

    def _explain_follows(self, results: list[ClaimResult], masks: dict[int, int]) -> None:
        """Say where each figure that follows comes from: the slips at its root, else the rounded
        figures it was computed from."""
        memo: dict[int, int] = {}
        for i, r in enumerate(results):
            if r.verdict != "follows":
                continue
            roots = self._roots(i, results, masks, memo)
            if roots:
                r.based_on = [self.claims[j].name for j in _bits(roots)]
                r.hint = f"carried forward from the slip in {_join(r.based_on)}"
            else:
                r.based_on = [self.claims[j].name for j in _bits(masks[i])
                              if self.claims[j].value != results[j].computed]
                r.hint = (f"follows from the rounded {_join(r.based_on)}" if r.based_on
                          else "follows from the other written figures")

    @staticmethod
    def _roots(start: int, results: list[ClaimResult], masks: dict[int, int], memo: dict[int, int]) -> int:
        """Return the bits of the wrong claims at the root of claim ``start``'s figure: itself when
        wrong, for a figure that follows the roots of the figures it was computed from (each
        claim's answer remembered in ``memo``, found without recursion: linear in the file)."""
        stack = [start]
        on_stack: set[int] = set()
        while stack:
            j = stack.pop()
            verdict = results[j].verdict
            if j in memo or verdict != "follows":
                memo.setdefault(j, 1 << j if verdict == "wrong" else 0)
                continue
            pending = [k for k in _bits(masks[j]) if k not in memo and k not in on_stack]
            if pending:
                on_stack.add(j)
                stack += [j, *pending]
                continue
            found = 0
            for k in _bits(masks[j]):
                found |= memo.get(k, 0)
            memo[j] = found
            on_stack.discard(j)
        return memo[start]

    # -- hints ------------------------------------------------------------------------------
    def _hint(self, i: int, trace: Trace, replace: dict[Key, float],
              written: bool = False) -> tuple[str | None, str | None]:
        """Return the hint for wrong claim ``i`` and the name of its misconception: the one
        misconception that reproduces it (see :mod:`autograd_tiny.derivation.misconceptions`), or
        None where none or several do."""
        c = self.claims[i]
        step = _step_of(self.keys[i])
        if not _finite_at(trace, step):
            return ("the training diverged: values are nan or infinite by then" if not written else None,
                    None)
        true = Decimal(trace.get(self.keys[i]))
        if true != 0 and c.unit >= abs(true):
            return None, None  # written too coarsely (1 for 0.36) to tell one slip from another
        # The figures judged ok that the passes of the claim's step compute:
        ok = [(self.keys[j], self.claims[j]) for j in self._ok if _step_of(self.keys[j]) == step]
        problem = tape_problem(self.replay, trace, step, replace, self.keys[i], c, self.output, ok)
        left = self._deadline - time.monotonic()
        found = story(problem, min(BUDGET_SECONDS, left)) if left > 0 else None
        if found is None or not found[0]:
            return None, None
        hint, _, _, name = found
        return (hint + " (recomputed from the written figures)" if written else hint), name


def _bits(mask: int) -> Iterable[int]:
    """Yield the positions of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _step_of(key: Key) -> int:
    """Return the step whose passes compute the number at ``key`` (an update: the step before)."""
    return key[2] - 1 if key[0] in ("p", "v") else key[2]


def _replay(replay: interpreter.Replay, keys: list[Key], replace: Mapping[Key, float],
            bits: Mapping[Key, int] | None = None, progress: bool = False) -> Trace:
    """Return ``replay`` run with ``replace`` put in, up to the last step whose passes compute one
    of ``keys``, keeping each such step and the parameters after it (what a hint reads)."""
    steps = {_step_of(key) for key in keys}
    return replay.run(replace, max(steps), keep=steps | {k + 1 for k in steps}, bits=bits, progress=progress)


def _sizes(trace: Trace, step: int) -> dict[Key, float]:
    """Return the size of the terms that made each value and gradient of step ``step`` and each
    parameter after it: for a sum the sizes of its terms added, for a gradient the sizes of every
    path's product (each local derivative's absolute value), for a parameter its value's before the
    step and its gradient's."""
    tape, vals = trace.replay.tape, trace.values[step]
    nodes = tape.nodes
    fmag = [0.0] * len(nodes)
    for i, node in enumerate(nodes):  # a sum's terms, or the value itself
        fmag[i] = (sum(fmag[j] if j is not None else abs(c) for j, c in node.operands)
                   if node.op in ("add", "sub") else abs(vals[i]))
    gmag = [0.0] * len(nodes)
    gmag[tape.root] = 1.0
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        if node.op is None or not gmag[i]:
            continue
        d = derivative_function(tape.derivative_exprs[i])(*tape.xy(i, vals), vals[i])
        for pos, p in node.parents:
            gmag[p] += gmag[i] * abs(d[pos])
    sizes: dict[Key, float] = {("f", i, step): m for i, m in enumerate(fmag)}
    sizes |= {("g", i, step): m for i, m in enumerate(gmag)}
    sizes |= {("s", i, step): m / trace.replay.sample_scale for i, m in enumerate(gmag)}
    for name, value in trace.params[step].items():
        node_of = tape.params.get(name)
        sizes["p", name, step + 1] = abs(value) + (gmag[node_of] if node_of is not None else 0.0)
    return sizes


def _near(claim: Claim, value: float, slack: float) -> bool:
    """Return True when the written figure matches a number at most ``slack`` from ``value`` (the
    precision of the written figures ``value`` was computed from)."""
    # A written figure lies within half a unit of what it rounds; at exactly half a unit it is
    # a tie, which the figure's own rounding already allows for: not both at once.
    slack *= 1 - 1e-9
    return matches(claim, min(max(float(claim.exact), value - slack), value + slack))


def tape_problem(replay: interpreter.Replay, trace: Trace, step: int, replace: Mapping[Key, float], key: Key,
                 claim: Claim, output: str, ok: list[tuple[Key, Claim]]) -> Problem:
    """Return the misconception search's problem for one claim of a replay at ``step``: the
    figures in ``replace`` at that step put in (the claim's own left out)."""
    put = replay.edits_at(replay.by_step({k: v for k, v in replace.items() if k != key}), step)
    return Problem(replay, trace.params[step], trace.velocity.get(step, {}), put, key, claim, output, ok,
                   trace.params.get(step + 1))


def _finite_at(trace: Trace, step: int) -> bool:
    """Return True when every value, gradient and parameter the trace kept for ``step`` is finite."""
    numbers = [*trace.values.get(step, ()), *trace.grads.get(step, ()),
               *trace.params.get(step, {}).values(), *trace.params.get(step + 1, {}).values()]
    return all(math.isfinite(x) for x in numbers)


def _join(names: list[str], limit: int = 4) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def check_spec(spec: Spec, progress: bool = False) -> ClaimResults:
    """Return the verdict on every claim of ``spec``, in file order (a list, with the spec's title);
    ``progress`` shows a bar on stderr while a claim ``X@K`` trains for many steps."""
    return check_claims(spec.claims, Network(spec).replay(), "E", progress, spec.title)


def computed(replay: interpreter.Replay, quantities: list[Quantity],
             progress: bool = False) -> dict[Quantity, float]:
    """Return each quantity as the interpreter computes it from the file's numbers (one run up
    to the last step needed)."""
    if not quantities:
        return {}
    keys = [replay.key(q) for q in quantities]
    truth = _replay(replay, keys, {}, progress=progress)
    return {q: truth.get(key) for q, key in zip(quantities, keys)}


def check_claims(claims: list[Claim], replay: interpreter.Replay, output: str,
                 progress: bool = False, title: str = "") -> ClaimResults:
    """Return the verdict on every claim about ``replay``'s quantities, in file order, with the
    misconceptions of any tape for hints; ``output`` names what is differentiated (``E``)."""
    checker = _Checker(claims, replay, output, progress)
    return ClaimResults(checker.results(), title, checker.unsearched)


# -- reports ----------------------------------------------------------------------------------

def summary(results: list[ClaimResult]) -> str:
    """Return one line: how many claims are ok / follow / wrong, and the first slip (see
    :attr:`ClaimResult.order`)."""
    if not results:
        return "No claims to check: add a [claims] table."
    counts = {v: sum(r.verdict == v for r in results) for v in VERDICTS}
    n = len(results)
    if counts["ok"] == n:
        return f"All {n} claim{'s' if n != 1 else ''} ok."
    parts = [f"{counts['ok']} ok"]
    if counts["follows"]:
        parts.append(f"{counts['follows']} follow{'s' if counts['follows'] == 1 else ''} from "
                     "earlier figures")
    if counts["wrong"]:
        parts.append(f"{counts['wrong']} wrong")
    line = f"{n} claims: {', '.join(parts)}."
    wrong = [r for r in results if r.verdict == "wrong"]
    if wrong:
        first = min(wrong, key=lambda r: r.order)
        line += (f" First slip: {first.claim} (written {first.written}, computed "
                 f"{_computed_text(first)}).")
    else:
        line += " No slip: the differences come from rounding earlier figures."
    unsearched = getattr(results, "unsearched", 0)
    if unsearched:
        line += (f" The hint search stopped after {HINT_BUDGET_SECONDS:g} s: {unsearched} wrong "
                 f"figure{'s' if unsearched != 1 else ''} got no hint.")
    return line


def computed_text(computed: float, written: str) -> str:
    """Return ``computed`` with two more significant digits than the figure ``written`` has."""
    if not math.isfinite(computed):
        return str(computed)
    try:
        digits = len(Decimal(written.replace("_", "")).as_tuple().digits) + 2
    except InvalidOperation:
        digits = 8
    return f"{computed:.{digits}g}"


def _computed_text(r: ClaimResult) -> str:
    return computed_text(r.computed, r.written)


def format_text(results: list[ClaimResult], title: str = "") -> str:
    """Return the text report: one row per claim (claim, written, computed, verdict, hint), then a summary."""
    rows = [("claim", "written", "computed", "verdict", "hint")]
    rows += [(r.claim, r.written, _computed_text(r), r.verdict, r.hint or "") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [printable(title)] if title else []
    if results:
        lines += [("  ".join(row[i].ljust(widths[i]) for i in range(4)) + "  " + row[4]).rstrip()
                  for row in rows]
    lines.append(summary(results))
    return "\n".join(lines) + "\n"


def format_json(results: list[ClaimResult]) -> str:
    """Return the JSON report: a list of objects with claim, written, computed, verdict and hint."""
    return json.dumps([r.to_dict() for r in results], indent=2) + "\n"
