"""Judging a derivation's claimed figures: ``ok``, ``follows`` or ``wrong``, with a hint.

For every claim (reported in file order):

* ``ok``: the written number is the engine's value rounded or truncated to the
  digits it is written with (``0.505`` passes for any value in [0.5045, 0.5055]
  (rounded) or [0.505, 0.506) (truncated); ``1.5e-3`` has its last digit at
  ``1e-4``; an integer at 1, so ``1`` passes 0.5 to 1.5, not 0.36). A non-zero
  value must have the written sign: ``0`` does not pass -0.244 (``-0.0`` does).
* ``follows``: not ok, but equal (same rule) to the value recomputed from the
  other claims: every quantity the recomputation needs that the file claims is
  taken as written (see :mod:`autograd_tiny.derivation.replay`). The slip was made
  earlier and carried forward correctly; the hint names where it came from.
* ``wrong``: neither; the slip is at this step. The hint says what the number
  matches when something does: the sign flipped, a factor 2 or 1/2, another
  learning rate, updated instead of original weights in the backward pass, an
  update of a weight whose input is 0 (so it cannot change), an update left out,
  an update of a bias that the file keeps fixed, or (for deltas, gradients, a
  hidden neuron's dE/dout and updates) the derivative of another activation than
  the network's, or none, used at a neuron.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from .. import formula
from ..ops import OPS
from .format import Claim, Quantity, Spec, printable
from .network import Network
from .replay import Key, Replay, Trace

VERDICTS = ("ok", "follows", "wrong")

#: The activations whose derivative a slipped derivation may use instead of the network's, in
#: the order the hint tries them. ``identity`` stands for the derivative left out (taken as 1);
#: it comes before ``relu``, whose derivative is 1 as well at a positive net input.
OTHER_ACTIVATIONS = ("sigmoid", "tanh", "identity", "relu")


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
            pass from the loss, update); the summary's first slip is the wrong claim
            with the smallest order, not the first in the file.
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

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: ``claim``, ``written``, ``computed``, ``verdict``, ``hint``."""
        computed: float | None = self.computed if math.isfinite(self.computed) else None
        return {"claim": self.claim, "written": self.written, "computed": computed,
                "verdict": self.verdict, "hint": self.hint}

    def _repr_html_(self) -> str:
        from ..display import claim_html

        return claim_html(self)


class ClaimResults(list[ClaimResult]):
    """The verdicts on a derivation's claims, in file order: a list, shown as a table in Jupyter.

    ``title`` is the derivation's title (shown above the table; may be empty).
    """

    def __init__(self, results: Iterable[ClaimResult] = (), title: str = "") -> None:
        super().__init__(results)
        self.title = title

    def _repr_html_(self) -> str:
        from ..display import claims_html

        return claims_html(self, self.title)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(format_text(self, self.title).rstrip("\n"))


def matches(claim: Claim, value: float) -> bool:
    """Return True when the written figure is ``value`` rounded or truncated to its written digits.

    ``value`` rounded to the claim's last written digit (to the nearest, either way at a
    tie) or cut off there (toward zero) must give the written number; so a figure may be
    at most half a unit off, or less than one unit when it lies between the value and
    zero. A non-zero ``value`` must have the written sign: ``0`` or ``0.0`` pass only
    values >= 0 (a small negative one is written ``-0.0``; TOML reads ``-0`` as the
    integer 0). A nan or infinite value never matches.
    """
    if not math.isfinite(value):
        return False
    written, unit = claim.exact, claim.unit
    if value != 0 and written.is_signed() != (value < 0):
        return False
    with localcontext() as ctx:
        ctx.prec = 80
        exact = Decimal(value)
        if 2 * abs(written - exact) <= unit:
            return True
        return abs(written) <= abs(exact) and abs(exact) - abs(written) < unit


def significant_digits(claim: Claim) -> int:
    """Return how many significant digits the claim is written with (at least 1)."""
    digits = claim.exact.as_tuple().digits
    i = 0
    while i < len(digits) - 1 and digits[i] == 0:
        i += 1
    return max(1, len(digits) - i)


def format_number(value: float, claim: Claim) -> str:
    """Return ``value`` with two more significant digits than the claim is written with."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{significant_digits(claim) + 2}g}"


class _Checker:
    def __init__(self, spec: Spec, progress: bool = False) -> None:
        self.spec = spec
        self.progress = progress
        self.claims = spec.claims
        self.replay = Replay(Network(spec))
        self.keys = [self.replay.key(c.quantity) for c in self.claims]
        self.computed = Network(spec).quantities({c.quantity for c in self.claims}, progress)
        #: every non-input neuron's activation, by name
        self.activation = {n: spec.activations[i - 1] for i, layer in enumerate(spec.layers) if i
                           for n in layer}

    # -- the verdicts -------------------------------------------------------------------------
    def results(self) -> list[ClaimResult]:
        results: list[ClaimResult] = []
        pending: list[tuple[int, Trace, dict[Key, float]]] = []
        masks: dict[int, int] = {}
        for i, c in enumerate(self.claims):
            computed = self.computed[c.quantity]
            r = ClaimResult(claim=c.name, written=c.written, computed=computed, verdict="ok",
                            hint=None, quantity=c.quantity, unit=float(c.unit),
                            order=self.replay.order(self.keys[i]))
            results.append(r)
            if matches(c, computed):
                continue
            replace, bits = self._others(i)
            trace = self.replay.run(replace, self._until(c.quantity), keep=self._keep(c.quantity),
                                    bits=bits, progress=self.progress)
            r.recomputed = trace.get(self.keys[i])
            masks[i] = trace.masks[self.keys[i]]
            r.verdict = "follows" if matches(c, r.recomputed) else "wrong"
            if r.verdict == "wrong":
                pending.append((i, trace, replace))
        if pending:
            until = max(self._until(self.claims[i].quantity) for i, _, _ in pending)
            keep = set().union(*(self._keep(self.claims[i].quantity) for i, _, _ in pending))
            truth = self.replay.run({}, until, keep=keep, progress=self.progress)
            for i, trace, replace in pending:
                truth_hint = self._hint(i, truth, {})
                written_hint = self._hint(i, trace, replace, True)
                # A figure computed from an earlier slipped figure (w5+ from a wrong dE/dw5) was
                # made with that figure: what it matches there comes first.
                from_slip = any(masks[i] >> j & 1 and results[j].verdict != "ok"
                                for j in range(len(results)))
                results[i].hint = (written_hint or truth_hint) if from_slip else (truth_hint or written_hint)
        for i, r in enumerate(results):
            if r.verdict == "follows":
                self._explain_follows(i, results, masks)
        return results

    def _others(self, i: int) -> tuple[dict[Key, float], dict[Key, int]]:
        """Return the replacements (every other claim, as written) and their bits (claim indices)."""
        replace: dict[Key, float] = {}
        bits: dict[Key, int] = {}
        for j, c in enumerate(self.claims):
            key = self.keys[j]
            if key == self.keys[i] or key in replace:
                continue
            replace[key] = c.value
            bits[key] = 1 << j
        return replace, bits

    @staticmethod
    def _until(q: Quantity) -> int:
        return q.step - 1 if q.kind == "param" else q.step

    @staticmethod
    def _keep(q: Quantity) -> set[int]:
        """Return the steps a hint about ``q`` reads (a step and the parameters after it)."""
        return {q.step - 1, q.step} if q.kind == "param" else {q.step, q.step + 1}

    def _explain_follows(self, i: int, results: list[ClaimResult], masks: dict[int, int]) -> None:
        used = [j for j in range(len(self.claims)) if masks[i] >> j & 1]
        roots: list[int] = []
        seen: set[int] = set()

        def collect(j: int) -> None:
            if j in seen:
                return
            seen.add(j)
            if results[j].verdict == "wrong":
                roots.append(j)
            elif results[j].verdict == "follows":
                for k in range(len(self.claims)):
                    if masks[j] >> k & 1:
                        collect(k)

        for j in used:
            collect(j)
        r = results[i]
        if roots:
            names = [self.claims[j].name for j in sorted(roots)]
            r.based_on = names
            r.hint = f"carried forward from the slip in {_join(names)}"
        else:
            names = [self.claims[j].name for j in used
                     if self.claims[j].value != results[j].computed]
            r.based_on = names
            r.hint = (f"follows from the rounded {_join(names)}" if names
                      else "follows from the other written figures")

    # -- hints ------------------------------------------------------------------------------
    def _hint(self, i: int, trace: Trace, replace: dict[Key, float], written: bool = False) -> str | None:
        c = self.claims[i]
        q = c.quantity
        if not _finite_at(trace, q.step - 1 if q.kind == "param" else q.step):
            return "the training diverged: values are nan or infinite by then" if not written else None
        true = Decimal(trace.get(self.keys[i]))
        if true != 0 and c.unit >= abs(true):
            return None  # written too coarsely (1 for 0.36) to tell one slip from another
        if self.keys[i][0] == "s" and self.replay.sample_scale != 1:
            return None  # the hints below compare with the batch's derivatives, not a sample's
        if q.kind == "param" and (self.spec.momentum or self.spec.weight_decay):
            return None  # the update hints below know plain gradient descent only
        try:
            if q.kind == "param":
                hint = self._param_hint(c, trace, replace)
            else:
                hint = self._value_hint(c, trace, replace)
        except (KeyError, ArithmeticError):  # a batch's quantities that a hint does not know
            hint = None
        if hint and written:
            hint += " (recomputed from the written figures)"
        return hint

    def _zero_source(self, parameter: str, trace: Trace, step: int) -> str | None:
        """Return the text 'input x1 is 0' when ``parameter`` is a weight whose source is 0."""
        w = self.spec.weights.get(parameter)
        if w is None:
            return None
        if w.source in self.spec.inputs:
            if all(sample.inputs[w.source] == 0.0 for sample in self.spec.samples):
                return f"the input {w.source} is 0"
            return None
        if self.spec.batched:
            return None
        out = trace.values[step][self.replay.key(Quantity("out", w.source, step))[1]]  # type: ignore[index]
        return f"out_{w.source} is 0" if out == 0.0 else None

    def _step_inputs(self, replace: dict[Key, float], step: int) -> tuple[dict[int, float], dict[int, float]]:
        f_in = {w: v for (ch, w, k), v in replace.items() if ch == "f" and k == step}
        g_in = {w: v for (ch, w, k), v in replace.items() if ch == "g" and k == step}
        return f_in, g_in  # type: ignore[return-value]

    def _param_hint(self, c: Claim, trace: Trace, replace: dict[Key, float]) -> str | None:
        q = c.quantity
        name = q.subject
        assert name is not None
        if q.step == 0:
            return None
        k = q.step - 1
        lr = self.spec.learning_rate
        prev = trace.params[k][name]
        g = trace.grads[k][self.replay.param_index[name]]
        before = "before the step" if q.step == 1 else f"after {k} step{'s' if k != 1 else ''}"
        if not self.replay.trainable[name]:
            if g != 0 and (matches(c, prev - lr * g) or matches(c, prev + lr * g)):
                return (f"{name} is a bias and update_biases = false, so it keeps its value "
                        f"{prev:g}; the claim updates it")
            return None
        zero = self._zero_source(name, trace, k)
        if zero:
            return f"{zero}, so dE/d{name} = 0 and {name} cannot change: it stays {prev:g}"
        if g != 0 and matches(c, prev):
            return f"matches {name} {before}: the update was left out"
        if g != 0 and matches(c, prev + lr * g):
            return (f"the gradient's sign is flipped: {name} + lr * dE/d{name} = "
                    f"{format_number(prev + lr * g, c)}")
        f_in, g_in = self._step_inputs(replace, k)
        _, alt = self.replay.step(trace.params[k], f_in, g_in, derivative_params=trace.params[k + 1])
        g_alt = alt[self.replay.param_index[name]]
        if not math.isclose(g_alt, g, rel_tol=1e-12) and matches(c, prev - lr * g_alt):
            return (f"matches an update whose dE/d{name} = {format_number(g_alt, c)} used the updated "
                    "weights in the backward pass instead of the original ones")
        if g != 0:
            # A round rate (one or two significant digits) that the claim pins down to within
            # 10% and singles out among the rates written with as many digits: a tiny gradient
            # would let almost any rate "match", and a precise claim almost always matches some
            # two-digit rate (0.0034 next to 0.0033 and 0.0035), which says nothing.
            implied = (prev - c.value) / g
            window = float(c.unit) / abs(g)  # how far the claim lets the rate move
            for digits in (1, 2):
                rate = float(f"{implied:.{digits}g}")
                if rate <= 0 or math.isclose(rate, lr):
                    continue
                spacing = 10.0 ** (math.floor(math.log10(rate)) - digits + 1)
                if window <= 0.1 * rate and window < spacing / 2 and matches(c, prev - rate * g):
                    return f"matches the update with learning rate {rate:g} instead of {lr:g}"
        key = ("g", self.replay.param_index[name], k)
        for g_other, phrase in self._other_derivatives(q, trace, f_in, g_in, key):
            if abs(lr * (g_other - g)) > 2 * float(c.unit) and matches(c, prev - lr * g_other):
                return (f"matches the update with dE/d{name} = {format_number(g_other, c)}, which "
                        f"{phrase}")
        return None

    def _value_hint(self, c: Claim, trace: Trace, replace: dict[Key, float]) -> str | None:
        q = c.quantity
        key = self.replay.key(q)
        v = trace.get(key)
        if q.kind == "grad":
            assert q.subject is not None
            zero = self._zero_source(q.subject, trace, q.step)
            if zero and v == 0.0:
                return f"{zero}, so dE/d{q.subject} = 0"
        if v != 0 and matches(c, -v):
            what = "the gradient's" if q.kind in ("grad", "dout", "dnet") else "its"
            return f"{what} sign is flipped: the value is {format_number(v, c)}"
        if v != 0 and matches(c, 2 * v):
            return f"twice the value {format_number(v, c)}: a factor 1/2 is missing"
        if v != 0 and matches(c, v / 2):
            return f"half the value {format_number(v, c)}: a factor 2 is missing"
        if q.kind in ("grad", "dout", "dnet"):
            f_in, g_in = self._step_inputs(replace, q.step)
            g_in.pop(key[1], None)  # type: ignore[arg-type]
            _, alt = self.replay.step(trace.params[q.step], f_in, g_in,
                                      derivative_params=trace.params[q.step + 1])
            a = alt[key[1]]  # type: ignore[index]
            if not math.isclose(a, v, rel_tol=1e-12) and matches(c, a):
                return ("matches the gradient computed with the updated weights in the backward "
                        f"pass ({format_number(a, c)}) instead of the original ones")
            for a, phrase in self._other_derivatives(q, trace, f_in, g_in, key):
                if abs(a - v) > 2 * float(c.unit) and matches(c, a):
                    return phrase
        return None

    def _other_derivatives(self, q: Quantity, trace: Trace, f_in: dict[int, float],
                           g_in: dict[int, float], key: Key) -> Iterator[tuple[float, str]]:
        """Yield the number at ``key`` recomputed with another activation's derivative, per guess.

        Each guess swaps the local derivative at the activation of some neurons: first at
        the neurons the quantity belongs to (a delta's neuron, the neurons a weight or bias
        feeds, the layer after a hidden neuron for its dE/dout), then at those and every
        neuron of the later layers (the same slip made throughout). The other derivative
        is the table's (:data:`autograd_tiny.ops.OPS`), evaluated by the replay at the
        neuron's own net input and output. Yields ``(value, phrase)`` pairs, the phrase
        saying which derivative was used where (``"uses sigmoid's derivative ..."``).
        The callers name a guess only when its number lies more than two units of the
        claim's last digit from the true one, so that the claim tells the two apart.
        """
        replay = self.replay
        layer = self.spec.neuron_layer
        s = q.subject
        assert s is not None
        if q.kind == "dnet":
            base = [s]
        elif q.kind == "dout":
            if layer[s] + 1 >= len(self.spec.layers):
                return  # an output's dE/dout comes from the loss alone
            base = list(self.spec.layers[layer[s] + 1])
        elif s in self.spec.weights:
            base = [self.spec.weights[s].target]
        else:
            base = list(self.spec.biases[s].neurons)
        first = min(layer[n] for n in base)
        later = [n for lay in self.spec.layers[first + 1:] for n in lay]
        groups = [base, base + [n for n in later if n not in base]]
        if groups[1] == groups[0]:
            groups.pop()
        step = key[2]
        for group in groups:
            neurons = [n for n in group if n in replay.activation_nodes]
            for other in OTHER_ACTIVATIONS:
                swapped = [n for n in neurons if self.activation[n] != other]
                if not swapped:
                    continue
                op = None if other == "identity" else other
                swap = {replay.activation_nodes[n]: op for n in swapped}
                _, grads = replay.step(trace.params[step], f_in, g_in, derivatives=swap)
                yield grads[key[1]], self._derivative_phrase(other, swapped)  # type: ignore[index]

    def _derivative_phrase(self, other: str, neurons: list[str]) -> str:
        """Return 'uses sigmoid's derivative out * (1 - out) at net_h1 where the network's tanh needs ...'."""
        by_activation: dict[str, list[str]] = {}
        for n in neurons:
            by_activation.setdefault(self.activation[n], []).append(f"net_{n}")
        where = " and ".join(f"at {_join(nets, limit=len(nets))} where the network's {act} needs "
                             f"{_derivative_formula(act)}" for act, nets in by_activation.items())
        if other == "identity":
            return f"leaves out the activation's derivative (takes it as 1, as for identity) {where}"
        return f"uses {other}'s derivative {_derivative_formula(other)} {where}"


def _finite_at(trace: Trace, step: int) -> bool:
    """Return True when every value, gradient and parameter the trace kept for ``step`` is finite."""
    numbers = [*trace.values.get(step, ()), *trace.grads.get(step, ())]
    for k in (step, step + 1):
        numbers += trace.params.get(k, {}).values()
    return all(math.isfinite(x) for x in numbers)


def _derivative_formula(activation: str) -> str:
    """Return the table's derivative of an activation as text over ``net`` and ``out`` (simplified)."""
    tree = formula.from_table(OPS[activation].derivatives[0], {"x": "net", "out": "out"})
    return formula.render(formula.simplify(tree))


def _join(names: list[str], limit: int = 4) -> str:
    shown = names[:limit]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(shown) + more


def check_spec(spec: Spec, progress: bool = False) -> ClaimResults:
    """Return the verdict on every claim of ``spec``, in file order (a list, with the spec's title).

    ``progress`` shows a bar on stderr while a claim ``X@K`` trains for many steps.
    """
    if not spec.claims:
        return ClaimResults(title=spec.title)
    return ClaimResults(_Checker(spec, progress).results(), spec.title)


# -- reports ----------------------------------------------------------------------------------

def summary(results: list[ClaimResult]) -> str:
    """Return one line: how many claims are ok / follow / wrong, and the first slip.

    The first slip is the wrong claim computed first (forward pass, then the backward
    pass from the loss, then the update, step by step), wherever the file writes it.
    """
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
    wrong = [(r.order, i) for i, r in enumerate(results) if r.verdict == "wrong"]
    first = results[min(wrong)[1]] if wrong else None
    if first is not None:
        line += (f" First slip: {first.claim} (written {first.written}, computed "
                 f"{_computed_text(first)}).")
    else:
        line += " No slip: the differences come from rounding earlier figures."
    return line


def _computed_text(r: ClaimResult) -> str:
    if not math.isfinite(r.computed):
        return str(r.computed)
    digits = len(Decimal(r.written.replace("_", "")).as_tuple().digits) + 2
    return f"{r.computed:.{digits}g}"


def format_text(results: list[ClaimResult], title: str = "") -> str:
    """Return the text report: one row per claim (claim, written, computed, verdict, hint), then a summary."""
    rows = [("claim", "written", "computed", "verdict", "hint")]
    rows += [(r.claim, r.written, _computed_text(r), r.verdict, r.hint or "") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [printable(title)] if title else []
    if results:
        for row in rows:
            cells = [row[i].ljust(widths[i]) for i in range(4)]
            lines.append(("  ".join(cells) + "  " + row[4]).rstrip())
    lines.append(summary(results))
    return "\n".join(lines) + "\n"


def format_json(results: list[ClaimResult]) -> str:
    """Return the JSON report: a list of objects with claim, written, computed, verdict and hint."""
    return json.dumps([r.to_dict() for r in results], indent=2) + "\n"
