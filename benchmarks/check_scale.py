"""How the checker's time grows with the size of a derivation file.

Usage (from the repository root)::

    python benchmarks/check_scale.py [--sizes 100 1000 10000]

For each size n, four files, each checked once after loading (times in seconds, and per unit):

* ``definitions``: an expression file, a chain of n definitions ``a_i = a_(i-1) + 1`` whose
  claims all follow from one slip at the start (one wrong figure, n - 1 that follow);
* ``one claim``: the same chain with a single claim;
* ``claims``: a 2-1-1 sigmoid network with n claims ``E@k`` (every step's loss, each written
  wrong: the hint search runs out of its budget and says so);
* ``samples``: a 2-1-1 network with n ``[[samples]]`` and two claims.

The hint search has a budget (``HINT_BUDGET_SECONDS``); the rest should grow linearly: the
per-unit column stays flat.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograd_tiny import load_derivation  # noqa: E402

NETWORK = """activation = "sigmoid"
loss = "half_squared_error"
learning_rate = 0.5
layers = [["x1", "x2"], ["h1"], ["o1"]]
[weights]
w1 = ["x1", "h1", 0.5]
w2 = ["x2", "h1", -0.3]
w3 = ["h1", "o1", 0.8]
"""


def chain(n: int, claims: bool = True) -> str:
    """Return a chain of ``n`` definitions; with ``claims`` every one claimed, carrying a slip."""
    lines = [f'output = "a{n - 1}"', "[values]", "x = 1.0", "[define]", 'a0 = "x + 1"']
    lines += [f'a{i} = "a{i - 1} + 1"' for i in range(1, n)]
    lines.append("[claims]")
    lines += ["a0 = 3"] + ([f"a{i} = {i + 3}" for i in range(1, n)] if claims else [])
    return "\n".join(lines) + "\n"


def step_claims(n: int) -> str:
    """Return the 2-1-1 network with ``n`` claims on its loss, one per step."""
    body = NETWORK + "[inputs]\nx1 = 0.5\nx2 = 0.2\n[targets]\no1 = 1\n[claims]\n"
    return body + "".join(f'"E@{k}" = 0.1\n' for k in range(n))


def samples(n: int) -> str:
    """Return the 2-1-1 network with ``n`` samples and two claims."""
    parts = [NETWORK.split("[weights]")[0]]
    for i in range(n):
        parts.append(f"[[samples]]\ninputs = {{ x1 = {i % 7 / 7}, x2 = {i % 5 / 5} }}\n"
                     f"targets = {{ o1 = {i % 2} }}\n")
    parts.append("[weights]" + NETWORK.split("[weights]")[1] + '[claims]\n"dE/dw1" = 0.1\nE = 0.2\n')
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    args = parser.parse_args()
    print(f"{'file':12} {'n':>6} {'load s':>8} {'check s':>8} {'us per unit':>12}")
    for name, make in [("definitions", chain), ("one claim", lambda n: chain(n, claims=False)),
                       ("claims", step_claims), ("samples", samples)]:
        for n in args.sizes:
            text = make(n)
            start = time.perf_counter()
            d = load_derivation(text)
            loaded = time.perf_counter()
            d.check()
            done = time.perf_counter()
            print(f"{name:12} {n:6} {loaded - start:8.2f} {done - loaded:8.2f} "
                  f"{1e6 * (done - start) / n:12.0f}", flush=True)


if __name__ == "__main__":
    main()
