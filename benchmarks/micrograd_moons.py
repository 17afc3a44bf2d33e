"""micrograd's moons demo, run unchanged on micrograd 0.1.0 and on ``autograd_tiny.micrograd``.

Usage (from the repository root)::

    python benchmarks/micrograd_moons.py              # 100 steps on both, then timing
    python benchmarks/micrograd_moons.py --steps 10   # fewer steps
    python benchmarks/micrograd_moons.py --steps 0 --rounds 3   # timing only

The comparison prints both losses at a few steps and the largest difference; the
timing gives each package's CPU time for one demo step and their ratio.

:data:`DEMO` is the training part of micrograd's ``demo.ipynb`` (plots left out):
seeds 1337, 100 two-moons samples with noise 0.1, ``MLP(2, [16, 16, 1])``, the SVM
max-margin loss plus 1e-4 L2 regularisation, SGD with learning rate
``1.0 - 0.9 * k / 100``. :func:`run_demo` runs it with its two import lines pointing
at one package or the other and returns each step's loss and accuracy.

The notebook takes its data from scikit-learn's ``make_moons``; :func:`make_moons`
here computes the same points from numpy's global random state (same algorithm:
two half circles, a shuffle, then Gaussian noise), so scikit-learn is not needed.
With it the demo prints the notebook's first loss, 0.8958441028683222.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from typing import Any

import numpy as np

#: The demo, as micrograd's notebook has it (minus plotting); ``make_moons`` and ``STEPS``
#: are given by :func:`run_demo`.
DEMO = """\
import random
import numpy as np
from micrograd.engine import Value
from micrograd.nn import Neuron, Layer, MLP

np.random.seed(1337)
random.seed(1337)

X, y = make_moons(n_samples=100, noise=0.1)
y = y*2 - 1 # make y be -1 or 1

model = MLP(2, [16, 16, 1]) # 2-layer neural network

def loss(batch_size=None):
    if batch_size is None:
        Xb, yb = X, y
    else:
        ri = np.random.permutation(X.shape[0])[:batch_size]
        Xb, yb = X[ri], y[ri]
    inputs = [list(map(Value, xrow)) for xrow in Xb]
    scores = list(map(model, inputs))
    losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(yb, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum((p*p for p in model.parameters()))
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
    return total_loss, sum(accuracy) / len(accuracy)

history = []
for k in range(STEPS):
    total_loss, acc = loss()
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9*k/100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    history.append((float(total_loss.data), float(acc)))
"""

PACKAGES = ("micrograd", "autograd_tiny.micrograd")

#: Steps per timing sample.
TIMED_STEPS = 3


def make_moons(n_samples: int = 100, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Return scikit-learn's ``make_moons(n_samples, noise=noise)`` drawn from numpy's global state.

    Points on two half circles (the outer ``(cos t, sin t)``, the inner
    ``(1 - cos t, 0.5 - sin t)``, ``t`` evenly spaced over ``[0, pi]``), shuffled with
    ``np.random.shuffle`` of the indices, then moved by ``np.random.normal(scale=noise)``.

    Returns:
        ``X`` of shape ``(n_samples, 2)`` and integer labels ``y`` (0 outer, 1 inner).
    """
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.vstack([np.append(np.cos(t_out), 1 - np.cos(t_in)),
                   np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)
    np.random.shuffle(order)
    X, y = X[order], y[order]
    X += np.random.normal(scale=noise, size=X.shape)
    return X, y


def demo_source(package: str) -> str:
    """Return :data:`DEMO` with its two import lines taking ``package`` instead of ``micrograd``."""
    source = DEMO.replace("from micrograd.", f"from {package}.")
    assert source.count(f"from {package}.") == 2
    return source


def run_demo(package: str, steps: int) -> dict[str, Any]:
    """Run the demo for ``steps`` steps on ``package`` and return its variables.

    ``history`` holds ``(loss, accuracy)`` of every step (the loss before that step's
    update), ``model`` the trained network, ``loss`` the loss function.
    """
    namespace: dict[str, Any] = {"make_moons": make_moons, "STEPS": steps, "__name__": "moons_demo"}
    exec(compile(demo_source(package), f"<moons demo on {package}>", "exec"), namespace)  # noqa: S102
    return namespace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps to compare (100)")
    parser.add_argument("--rounds", type=int, default=5, help="timed steps per package (5)")
    args = parser.parse_args(argv)

    if args.steps:
        runs = {package: run_demo(package, args.steps)["history"] for package in PACKAGES}
        theirs, ours = runs["micrograd"], runs["autograd_tiny.micrograd"]
        print(f"{'step':>4}  {'micrograd 0.1.0 loss':>22}  {'autograd_tiny.micrograd loss':>28}  "
              f"{'difference':>10}  accuracy")
        for k, ((lt, at), (lo, ao)) in enumerate(zip(theirs, ours)):
            if k < 3 or k % 10 == 9 or k == args.steps - 1:
                print(f"{k:>4}  {lt!r:>22}  {lo!r:>28}  {lo - lt:>10.1e}  {at:.2f} / {ao:.2f}")
        worst = max(abs(lo - lt) for (lt, _), (lo, _) in zip(theirs, ours))
        same_acc = all(at == ao for (_, at), (_, ao) in zip(theirs, ours))
        print(f"largest loss difference over {args.steps} steps: {worst:.1e}; "
              f"accuracies {'all equal' if same_acc else 'DIFFER'}")

    if args.rounds:
        # The packages take turns. A sample is the CPU time of a (STEPS + 1)-step run minus
        # a 1-step run, over STEPS: what a step costs once training is under way (freeing the
        # previous step's graph included), with the garbage of earlier runs collected before
        # the clock starts. CPU time of this process, not wall time: on a
        # shared machine it moves far less.
        times: dict[str, list[float]] = {package: [] for package in PACKAGES}
        for _ in range(args.rounds):
            for package in PACKAGES:
                spans = []
                for steps in (1, 1 + TIMED_STEPS):
                    gc.collect()  # the other package's cyclic garbage (micrograd's closures) not billed here
                    start = time.process_time()
                    kept = run_demo(package, steps)  # freed after the clock stops
                    spans.append(time.process_time() - start)
                    del kept
                times[package].append((spans[1] - spans[0]) / TIMED_STEPS)
        medians = {package: statistics.median(t) for package, t in times.items()}
        for package in PACKAGES:
            print(f"{package:>24}: {1000 * medians[package]:7.1f} ms of CPU per step "
                  f"(median of {args.rounds})")
        print(f"micrograd / autograd_tiny.micrograd: "
              f"{medians['micrograd'] / medians['autograd_tiny.micrograd']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
