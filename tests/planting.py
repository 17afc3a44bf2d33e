"""Plant every applicable misconception into a derivation and see whether the checker finds it.

For each quantity of an example (its forward values, loss, gradients, deltas, updates) every
misconception that applies there (:func:`autograd_tiny.derivation.misconceptions.slips`, and the
number rules: the sign flipped, a factor 2 or 1/2) is made once; the interpreter carries it into
every later figure, and the file then claims every figure to 8 significant digits, as a
student who made that one slip would write them. The checker should name the first figure the
slip changes as the first slip (*located*), and hint at the misconception there (*hinted*);
a hint in another entry's words (the network library's phrase for the same slip, or another slip
that gives the same figure) is counted apart.

``python tests/planting.py`` prints the table for the shipped examples.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from autograd_tiny import load_derivation
from autograd_tiny.derivation.checker import tape_problem
from autograd_tiny.derivation.core import example_names, example_text
from autograd_tiny.derivation.format import Claim
from autograd_tiny.derivation.interpreter import Edits
from autograd_tiny.derivation.misconceptions import NUMBER_RULES, Problem, Slip, slips


@dataclass
class Outcome:
    example: str
    rule: str
    target: str
    located: bool
    hinted: bool
    other_words: bool
    hint: str | None


def _written(value: float) -> str:
    if value == 0 or abs(value) < 1e-12:
        return "0.0"
    text = f"{value:#.8g}"  # 8 significant digits, trailing zeros kept: 0.38000000
    return text if any(c in text for c in ".e") else text + ".0"


def plant(name: str, limit: int | None = None, text: str | None = None) -> list[Outcome]:
    """Return the outcome of every misconception planted into shipped example ``name`` (or into
    derivation file ``text``, reported as ``name``)."""
    text = example_text(name) if text is None else text
    base = text[: text.index("[claims]")] + "[claims]\n"
    d = load_derivation(base)
    names = list(d.quantities())
    probe = load_derivation(base + "".join(f'"{n}" = 0.0\n' for n in names))
    replay, output = probe.replay(), probe.output
    quantities = {c.name: c.quantity for c in probe.claims}
    keys = {n: replay.key(quantities[n]) for n in names}
    order = sorted(names, key=lambda n: replay.order(keys[n]))
    trace = replay.run({}, 0, keep={0, 1})
    outcomes: list[Outcome] = []
    seen: set[tuple[str, str]] = set()

    def problem_at(n: str) -> Problem:
        claim = Claim(name=n, written="0", value=0.0, exact=Decimal("0E-12"), quantity=quantities[n])
        return tape_problem(replay, trace, 0, {}, keys[n], claim, output, [])

    truth_problem = problem_at(order[0])
    truth = truth_problem.run(Edits(), factors_too=True)
    true_values = {n: truth_problem.read(keys[n], *truth) for n in names}
    for target in order:
        problem = problem_at(target)
        key = keys[target]
        planted: list[Slip] = list(slips(problem))
        if key[0] in "fgs" and isinstance(key[1], int):
            t = true_values[target]
            for rule, factor, phrase in NUMBER_RULES:
                put = Edits(values={key[1]: t * factor}) if key[0] == "f" else Edits(
                    grads={key[1]: t * factor * (replay.sample_scale if key[0] == "s" else 1.0)})
                planted.append(Slip(rule, phrase, put))
        for slip in planted:
            if (slip.rule, slip.phrase) in seen:
                continue
            seen.add((slip.rule, slip.phrase))
            result = problem.run(slip.edits, factors_too=True) if slip.edits is not None else truth
            values = {n: problem.read(keys[n], *result, update=slip.update if keys[n][0] == "p" else None)
                      for n in names}
            if not all(math.isfinite(v) for v in values.values()):
                continue
            changed = [n for n in order if _written(values[n]) != _written(true_values[n])]
            if not changed:
                continue
            claims = "".join(f'"{n}" = {_written(values[n])}\n' for n in names)
            results = load_derivation(base + claims).check()
            wrong = [(r.order, i) for i, r in enumerate(results) if r.verdict == "wrong"]
            first = results[min(wrong)[1]] if wrong else None
            fragment = slip.phrase.split("{")[0].rstrip(" :")
            located = first is not None and first.claim == changed[0]
            hint = first.hint if first is not None else None
            hinted = located and hint is not None and fragment in hint
            outcomes.append(Outcome(name, slip.rule, changed[0], located, hinted,
                                    located and hint is not None and not hinted, hint))
            if limit is not None and len(outcomes) >= limit:
                return outcomes
    return outcomes


COLUMNS = ("planted", "located", "hinted", "other words", "no hint")


def table(outcomes: list[Outcome]) -> Counter[str]:
    """Return the counts: planted, located, hinted in the entry's own words, hinted in another
    entry's words, located without a hint."""
    c: Counter[str] = Counter()
    for o in outcomes:
        c["planted"] += 1
        c["located"] += o.located
        c["hinted"] += o.hinted
        c["other words"] += o.other_words
        c["no hint"] += o.located and o.hint is None
    return c


if __name__ == "__main__":
    total: Counter[str] = Counter()
    print(f"{'example':16}" + "".join(f"{c:>12}" for c in COLUMNS))
    for example in example_names():
        c = table(plant(example))
        total += c
        print(f"{example:16}" + "".join(f"{c[k]:12}" for k in COLUMNS))
    print(f"{'total':16}" + "".join(f"{total[k]:12}" for k in COLUMNS))
