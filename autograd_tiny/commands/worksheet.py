"""``autograd-tiny worksheet``: a blank derivation file for an exercise, and its answer key.

``autograd-tiny worksheet --layers 2,2,2 --activation sigmoid --loss mse`` prints a
derivation file whose ``[claims]`` lists every figure of one step of backpropagation
as a commented-out line to fill in; ``--answers`` prints the same file with every
figure filled in, and ``--out DIR`` writes both (``worksheet.toml``, ``answers.toml``).

The numbers are chosen by a seeded search (``--seed``): inputs, targets, weights and
biases with two decimals such that, for every figure, each misconception
(:mod:`autograd_tiny.derivation.misconceptions`) gives a number of its own, apart from the true
one and from every other slip's, so that any slip a student makes in the exercise can
be named by ``autograd-tiny check``. The search takes a second for a 2-2-2 network and
minutes per seed for the largest ones, so the command gives it a time budget
(``--budget SECONDS``, :data:`DEFAULT_BUDGET` by default), shows a progress bar on a
terminal and says in one line when the budget is spent.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._files import check_output_dir, path_error
from .._numeric import printable
from ..errors import UsageError
from ..nn import ACTIVATIONS, LOSSES

#: Short names the command accepts for losses.
LOSS_ALIASES = {"mse": "mean_squared_error", "bce": "binary_cross_entropy", "sse": "squared_error",
                "half": "half_squared_error"}

#: The most layers and neurons per layer a worksheet has (the figures are worked by hand).
MAX_LAYERS, MAX_WIDTH = 5, 6

#: How many seeds the search tries before giving up.
MAX_TRIES = 200

#: Seconds the command line's search may take by default (``--budget``): a 2-2-2 network needs
#: about one, a 4-4-4 network about ten; a 6-6-6-6-6 network would take minutes per seed.
DEFAULT_BUDGET = 4.5

#: The largest ``--budget``, in seconds (an hour).
MAX_BUDGET = 3600.0

#: The significant digits a worksheet's figures are meant to be written with: two numbers that
#: are closer than two units of the last of these digits could be the same written figure.
DIGITS = 6


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``worksheet`` sub-command to ``subparsers``; return its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "worksheet",
        help="write a blank derivation exercise for a network, and its answer key",
        description=(
            "Print a blank derivation file for one step of backpropagation on a network of the "
            "given shape (every figure to fill in is a commented-out claim), with numbers chosen "
            "so that every misconception the checker knows gives a different figure. --answers "
            "prints the answer key; --out DIR writes worksheet.toml and answers.toml."
        ),
    )
    parser.add_argument("--layers", required=True, metavar="N,N,...",
                        help="neurons per layer, input layer first (e.g. 2,2,2)")
    parser.add_argument("--activation", default="sigmoid", choices=ACTIVATIONS,
                        help="the activation of every layer after the inputs (default sigmoid)")
    parser.add_argument("--loss", default="half_squared_error", metavar="LOSS",
                        help=f"{', '.join(LOSSES)} (or mse, bce, sse, half); default half_squared_error")
    parser.add_argument("--learning-rate", default="0.5", metavar="LR", help="step size (default 0.5)")
    parser.add_argument("--seed", default="0", metavar="N", help="where the search starts (default 0)")
    parser.add_argument("--budget", default=str(DEFAULT_BUDGET), metavar="SECONDS",
                        help=f"how long the search for numbers may take (default {DEFAULT_BUDGET:g}; "
                             "larger networks need more)")
    parser.add_argument("--answers", action="store_true", help="print the answer key instead")
    parser.add_argument("--out", metavar="DIR", help="write DIR/worksheet.toml and DIR/answers.toml")
    parser.set_defaults(run=run)
    return parser


def _shape(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise UsageError(f"--layers must be whole numbers separated by commas, like 2,2,2; got "
                         f"{text[:40]!r}") from None
    if not 2 <= len(sizes) <= MAX_LAYERS or not all(1 <= n <= MAX_WIDTH for n in sizes):
        raise UsageError(f"--layers needs 2 to {MAX_LAYERS} layers of 1 to {MAX_WIDTH} neurons, "
                         f"got {text[:40]}")
    return sizes


def neuron_names(sizes: list[int]) -> list[list[str]]:
    """Return the neuron names: inputs ``x1 ..``, hidden ``h1 ..`` (then ``g1 ..``, ``k1 ..`` for
    more hidden layers), outputs ``o1 ..`` (weights are ``w1 ..``, biases ``b1 ..``)."""
    hidden = len(sizes) - 2
    prefixes = ["x"] + list("hgk")[:hidden] + ["o"]
    return [[f"{p}{j + 1}" for j in range(n)] for p, n in zip(prefixes, sizes)]


def _two(rng: random.Random, low: float, high: float) -> float:
    """Return a number from [low, high] with two decimals, not 0."""
    while True:
        v = round(rng.uniform(low, high), 2)
        if v != 0:
            return v


def _numbers(text: str) -> str:
    return repr(float(text)) if "e" not in text else text


def make_text(names: list[list[str]], activation: str, loss: str, learning_rate: float,
              rng: random.Random) -> str:
    """Return a derivation file's text (without claims) with numbers drawn from ``rng``."""
    lines = [f'activation = "{activation}"', f'loss = "{loss}"', f"learning_rate = {learning_rate!r}",
             "update_biases = true", f"layers = [{', '.join(str(layer) for layer in names)}]"
             .replace("'", '"'), "", "[inputs]"]
    lines += [f"{x} = {_two(rng, 0.05, 1.0)!r}" for x in names[0]]
    lines += ["", "[targets]"]
    for o in names[-1]:
        if loss == "hinge":
            t = rng.choice([-1.0, 1.0])
        elif activation == "tanh":
            t = _two(rng, -0.9, 0.9)
        else:
            t = _two(rng, 0.05, 0.95)
        lines.append(f"{o} = {t!r}")
    lines += ["", "[weights]"]
    k = 0
    for i in range(1, len(names)):
        for dst in names[i]:
            for src in names[i - 1]:
                k += 1
                lines.append(f'w{k} = ["{src}", "{dst}", {_two(rng, -1.0, 1.0)!r}]')
    lines += ["", "[biases]"]
    for i in range(1, len(names)):
        feeds = ", ".join(f'"{n}"' for n in names[i])
        lines.append(f"b{i} = [{_two(rng, -0.5, 0.5)!r}, {feeds}]")
    return "\n".join(lines) + "\n"


def _apart(a: float, b: float) -> bool:
    """Return True when ``a`` and ``b`` written to :data:`DIGITS` significant digits differ by
    more than two units of the last digit (the checker tells them apart)."""
    size = max(abs(a), abs(b))
    if size == 0 or not math.isfinite(size):
        return size != 0
    unit = 10.0 ** (math.floor(math.log10(size)) - DIGITS + 1)
    return abs(a - b) > 2 * unit


class SearchBudget:
    """The time the search for numbers may take, and its progress bar.

    Args:
        seconds: the budget (None: no limit but :data:`MAX_TRIES` seeds).
        progress: show a tqdm bar on stderr (seeds tried, seconds left).
        clock: what tells the time (None: :func:`time.monotonic`).
    """

    def __init__(self, seconds: float | None = None, progress: bool = False,
                 clock: Callable[[], float] | None = None) -> None:
        self.seconds = seconds
        self.clock = clock if clock is not None else _clock
        self.start = self.clock()
        self.shown = -math.inf
        self.bar: Any = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(total=MAX_TRIES, desc="worksheet: searching numbers", unit="seed",
                            file=sys.stderr, leave=False)

    def check(self) -> None:
        """Return None while time is left; raise :class:`OutOfTime` when it is spent."""
        now = self.clock()
        if self.seconds is not None and now - self.start > self.seconds:
            raise OutOfTime
        if self.bar is not None and self.seconds is not None and now - self.shown >= 0.5:
            self.shown = now  # redrawn twice a second at most, also while one seed takes long
            self.bar.set_postfix_str(f"{self.seconds - (now - self.start):.0f} s left")

    def tried(self) -> None:
        """Count one more seed on the progress bar; returns None."""
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        """Remove the progress bar from the terminal; returns None."""
        if self.bar is not None:
            self.bar.close()


_clock = time.monotonic


class OutOfTime(Exception):
    """The search's time budget is spent."""


def slips_at(spec: Any, replay: Any, trace: Any, truth: dict[Any, float],
             q: Any) -> list[tuple[str, str, float]]:
    """Return ``(rule, phrase, number)`` for every story the misconceptions tell at quantity ``q``
    with every other figure of ``truth`` (quantity -> number) written in: the slips made at
    ``q`` itself, as the checker tells them when the later figures carry the slip."""
    from decimal import Decimal

    from ..derivation.checker import tape_problem
    from ..derivation.format import Claim
    from ..derivation.misconceptions import slip_values

    claim = Claim(name=q.name, written="0", value=0.0, exact=Decimal("0E-9"), quantity=q)
    replace = {replay.key(o): v for o, v in truth.items()}
    step = q.step - 1 if q.kind == "param" else q.step
    return slip_values(tape_problem(replay, trace, step, replace, replay.key(q), claim, "E", []))


def collisions(text: str, first: bool = False, budget: SearchBudget | None = None) -> list[str]:
    """Return the figures of a derivation file's first step where two misconceptions give
    numbers too close to tell apart (written to :data:`DIGITS` significant digits).

    Every other figure is taken as written correctly, so the slips that count at a figure
    are the ones made there (a slip in dE/dw3 shows at dE/dw3; w3+ then follows from it).
    With ``first``, stop at the first such figure.

    Raises:
        OutOfTime: ``budget`` ran out (checked between slips).
    """
    from ..derivation.checker import computed
    from ..derivation.core import Derivation
    from ..derivation.format import parse_spec

    derivation = Derivation(parse_spec(text, "<worksheet>"))
    replay = derivation.replay()
    truth = computed(replay, derivation.named_quantities(0))
    trace = replay.run({}, 0, keep={0, 1})
    bad: list[str] = []
    for q, value in truth.items():
        seen: list[tuple[str, float]] = []
        for slip, _, v in slips_at(derivation.spec, replay, trace, truth, q):
            if budget is not None:
                budget.check()
            if not _apart(v, value):
                continue  # this slip does not change this figure
            if any(not _apart(v, w) and other != slip for other, w in seen):
                bad.append(q.name)
                if first:
                    return bad
                break
            seen.append((slip, v))
    return bad


def choose(sizes: list[int], activation: str, loss: str, learning_rate: float, seed: int,
           budget: SearchBudget | None = None) -> tuple[str, int]:
    """Return the text (without claims) of the first seed from ``seed`` on whose slips all differ,
    and that seed.

    Raises:
        UsageError: no seed of :data:`MAX_TRIES` works, ``budget`` ran out first, or the loss
            does not fit the activation.
    """
    from ..derivation.core import Derivation
    from ..derivation.format import parse_spec

    names = neuron_names(sizes)
    shape = "-".join(str(n) for n in sizes)
    s = seed
    try:
        for s in range(seed, seed + MAX_TRIES):
            if budget is not None:
                budget.check()
            text = make_text(names, activation, loss, learning_rate, random.Random(s))
            try:
                values = Derivation(parse_spec(text, "<worksheet>")).quantities(0)
            except ValueError as exc:
                raise UsageError(f"--loss {loss} does not fit --activation {activation}: {exc}") from None
            if any(v == 0.0 for v in values.values()):
                continue
            if not collisions(text, first=True, budget=budget):
                return text, s
            if budget is not None:
                budget.tried()
    except OutOfTime:
        assert budget is not None and budget.seconds is not None
        tried = "no seed" if s == seed else f"seed {seed}" if s == seed + 1 else f"seeds {seed} to {s - 1}"
        raise UsageError(f"gave up after {budget.seconds:g} s ({tried} tried, seed {s} unfinished): no "
                         f"numbers found yet for a {shape} network for which every slip gives a "
                         "different figure; allow more time with --budget SECONDS, or try another "
                         "--seed or a smaller network") from None
    finally:
        if budget is not None:
            budget.close()
    raise UsageError(f"no numbers found in {MAX_TRIES} seeds from {seed} on for which every slip "
                     "gives a different figure; try another --seed or a smaller network")


def worksheet(sizes: list[int], activation: str = "sigmoid", loss: str = "half_squared_error",
              learning_rate: float = 0.5, seed: int = 0,
              budget: SearchBudget | None = None) -> tuple[str, str]:
    """Return ``(blank, answers)``: a derivation exercise's file and its answer key.

    ``budget`` bounds the time the search for numbers takes (:class:`SearchBudget`; without
    one it tries up to :data:`MAX_TRIES` seeds, which can take minutes for a large network).

    The blank file lists every figure of one step (forward pass, loss, deltas, gradients,
    updates) as a commented-out claim; the answer key has them filled in to ten
    significant digits (``autograd-tiny check`` says all ok).
    """
    from ..derivation import load_derivation

    loss = LOSS_ALIASES.get(loss, loss)
    if loss not in LOSSES:
        raise UsageError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)} "
                         f"(or {', '.join(LOSS_ALIASES)})")
    text, used = choose(sizes, activation, loss, learning_rate, seed, budget)
    shape = "-".join(str(n) for n in sizes)
    values = load_derivation(text).quantities(0)
    header = (f"# A {shape} {activation} network with {loss}, one step of backpropagation "
              f"(autograd-tiny worksheet, seed {used}).\n# The numbers are chosen so that every "
              "slip the checker knows gives a figure of its own.\n")
    title = f'title = "{shape} {activation} network, one step (worksheet, seed {used})"\n'

    def key(name: str) -> str:
        return name if name.replace("_", "").isalnum() else f'"{name}"'

    blank = (header + "# Fill in each figure (remove the # in front) and run: autograd-tiny check FILE\n"
             + title + text + "\n[claims]\n" + "".join(f"# {key(n)} = \n" for n in values))
    answers = (header + "# The answer key: every figure computed by autograd-tiny.\n" + title + text
               + "\n[claims]\n" + "".join(f"{key(n)} = {v:.10g}\n" for n, v in values.items()))
    return blank, answers


def _budget(text: str) -> float:
    """Return ``--budget`` as seconds; raise UsageError unless it is a number from 0 to an hour."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= MAX_BUDGET:
        raise UsageError(f"--budget must be a number of seconds above 0 and at most {MAX_BUDGET:g}, "
                         f"got {text[:40]!r}")
    return seconds


def run(args: argparse.Namespace) -> int:
    """Print (or write) the worksheet; return the exit status (0)."""
    sizes = _shape(args.layers)
    try:
        learning_rate = float(args.learning_rate)
        seed = int(args.seed)
    except ValueError:
        raise UsageError(f"--learning-rate must be a number and --seed a whole number, got "
                         f"{args.learning_rate[:40]!r} and {args.seed[:40]!r}") from None
    if not 0 < learning_rate < 100:
        raise UsageError(f"--learning-rate must be greater than 0 (and below 100), got {args.learning_rate}")
    seconds = _budget(args.budget)
    if args.out is not None:
        check_output_dir(args.out, "--out")  # before the search, which can take a while
    budget = SearchBudget(seconds, progress=sys.stderr.isatty())
    blank, answers = worksheet(sizes, args.activation, args.loss, learning_rate, seed, budget)
    if args.out is None:
        sys.stdout.write(answers if args.answers else blank)
        return 0
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in (("worksheet.toml", blank), ("answers.toml", answers)):
            (out / name).write_text(text, encoding="utf-8")
            print(f"wrote {printable(str(out / name))}")
    except OSError as exc:
        raise path_error(args.out, exc, "--out") from None
    return 0
