"""The lesson page's "your numbers": a hinted slip replayed through the rest of the step.

A wrong claim with a hint is a slip the checker could name: one misconception of the tape
(:mod:`autograd_tiny.derivation.misconceptions`) reproduces its figure. Replaying the step
with that slip gives the student's numbers for every quantity computed from it: the slipped
figure itself, and everything after it that a hand derivation would carry forward (the
deltas below a slipped delta, the updates).

The replay is the checker's own interpreter (:class:`autograd_tiny.derivation.interpreter.Replay`):

* when the one story that reproduces the figure changes the pass (a path dropped, another
  derivative, a weight read for another: :func:`~autograd_tiny.derivation.misconceptions.story`),
  its slipped pass is the step's values and gradients, and the update is made from those
  gradients;
* otherwise (a number rule such as the sign flipped, an update rule, a hint found from the
  written figures) the slip's number (the story's, else the written figure) is put in where
  the claim lives and the step is replayed from there, as the checker recomputes a figure
  that follows.

A replay whose figure is not the written one (by the checker's precision rule) is not shown.

Only the first step's claims are replayed: the page shows one step. The replays of one page
stop after :data:`BUDGET_SECONDS` (the search of a large network can be slow); the claims left
get no "your numbers".
"""

from __future__ import annotations

import math
import time
from typing import Any

from ..derivation.checker import matches
from ..value import Value

#: Seconds the replays of one page may take, all claims together.
BUDGET_SECONDS = 3.0


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


def _replay_of(derivation: Any) -> tuple[Any, list[Any]] | None:
    """Return the derivation's replay and its claims (file order), or None."""
    if not hasattr(derivation, "replay"):
        return None
    return derivation.replay(), list(derivation.claims)


def _story(replay: Any, claim: Any, output: str, trace: Any, budget: float) -> Any:
    """Return the one story (phrase, number, slipped pass or None, name) that reproduces ``claim`` from
    the file's own numbers (``trace``: the true run), or None."""
    from ..derivation.checker import tape_problem
    from ..derivation.misconceptions import story

    q = claim.quantity
    step = q.step - 1 if q.kind == "param" else q.step
    try:
        problem = tape_problem(replay, trace, step, {}, replay.key(q), claim, output, [])
        return story(problem, budget)
    except (KeyError, IndexError, ArithmeticError, ValueError):
        return None


def _node_map(tape: Any, topo: list[Value]) -> dict[int, int]:
    """Return tape node -> page node (the page's Values in topological order)."""
    if len(tape) == len(topo) and all(
            tape.label(i) is None or topo[i].label == tape.label(i) for i in range(len(tape))):
        return {i: i for i in range(len(tape))}
    by_label = {v.label: i for i, v in enumerate(topo) if v.label}
    return {t: by_label[name] for name, t in tape.names.items() if name in by_label}


def _read(replay: Any, key: Any, vals: list[float], grads: list[float],
          params: dict[str, float]) -> float | None:
    channel, where, _ = key
    if channel == "p":
        value = params.get(str(where))
        return None if value is None else float(value)
    if not isinstance(where, int):
        return None
    if channel == "f":
        return vals[where]
    if channel == "g":
        return grads[where]
    if channel == "s":
        return grads[where] / float(replay.sample_scale)
    return None


def slip_numbers(derivation: Any, results: list[Any], topo: list[Value],
                 params: dict[str, Value]) -> dict[int, dict[str, Any]]:
    """Return, for each wrong claim of the first step with a hint (by its index in ``results``),
    the numbers of the step replayed with the slip: ``figure`` (the claim's own, as the file
    writes it), and ``data``, ``grad`` and ``update``: ``[page node, number]`` for every page
    node whose value, gradient or updated value the slip changes.
    """
    found = _replay_of(derivation)
    if found is None:
        return {}
    replay, claims = found
    expression = getattr(derivation, "expression", None)
    output = str(getattr(expression, "output", "E")) if expression is not None else "E"
    if len(claims) != len(results):
        return {}
    tape = replay.tape
    to_page = _node_map(tape, topo)
    pos = {v: i for i, v in enumerate(topo)}
    param_node = {name: pos[p] for name, p in params.items() if p in pos}
    truth = None
    out: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + BUDGET_SECONDS
    for k, (r, claim) in enumerate(zip(results, claims)):
        q = claim.quantity
        if r.verdict != "wrong" or not r.hint or time.monotonic() > deadline:
            continue
        step = q.step - 1 if q.kind == "param" else q.step
        if step != 0:
            continue
        try:
            key = replay.key(q)
        except (KeyError, ValueError, TypeError):
            continue
        if key[0] not in ("f", "g", "s", "p"):
            continue
        if truth is None:
            trace = replay.run({}, 0, keep={0, 1})
            truth = (trace.values[0], trace.grads[0], trace.params[1])
        hit = _story(replay, claim, output, trace, max(0.0, deadline - time.monotonic()))
        if hit is not None and not r.hint.startswith(hit[0]):
            hit = None  # the hint tells another story (found from the written figures)
        if hit is not None and hit[2] is not None and key[0] != "p":
            vals, grads = hit[2][0], hit[2][1]
            slipped = replay.update(replay.start, grads, {})
        else:
            value = hit[1] if hit is not None else claim.value
            t = replay.run({key: value}, 0, keep={0})
            vals, grads, slipped = t.values[0], t.grads[0], t.params[1]
        figure = _read(replay, key, vals, grads, slipped)
        if figure is None or not matches(claim, figure):  # it must be the student's figure
            continue
        entry: dict[str, Any] = {"figure": figure, "data": [], "grad": [], "update": []}
        for t_i, page_i in to_page.items():
            if not _close(vals[t_i], truth[0][t_i]):
                entry["data"].append([page_i, vals[t_i]])
            if not _close(grads[t_i], truth[1][t_i]):
                entry["grad"].append([page_i, grads[t_i]])
        for name, page_i in param_node.items():
            if name in slipped and name in truth[2] and not _close(slipped[name], truth[2][name]):
                entry["update"].append([page_i, slipped[name]])
        out[k] = entry
    return out
