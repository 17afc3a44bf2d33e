"""Eager time per node as the graph grows, with Python's and autograd_tiny's collector thresholds.

Usage (from the repository root)::

    python benchmarks/eager_gc.py                 # 2-64-64-1 MLP on 8, 30 and 115 samples, 5 rounds
    python benchmarks/eager_gc.py --samples 2 4 --rounds 1    # a smoke run

One eager training step (build the graph, zero_grad, backward, SGD) of a 2-64-64-1
ReLU MLP, at several numbers of samples: about 74,000, 266,000 and 1,006,000
nodes. Each collector setting runs in its own subprocess, and in it the sizes take
turns, one step each per round, so that other programs on the machine slow all
sizes alike. Printed: the fastest round's CPU time per node (the round least
disturbed by other programs) and the number of full collections per step. Python's setting is
``gc.set_threshold(700, 10, 10)``; autograd_tiny raises the last number to 1000 at
import (``autograd_tiny/collector.py``).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one(setting: str, samples: list[int], rounds: int) -> dict[str, list[float]]:
    """Time the eager step at each size in this process.

    Returns:
        Per number of samples: [nodes, fastest ns per node, median full collections per step].
    """
    sys.path.insert(0, str(HERE))
    import bench

    import autograd_tiny
    from autograd_tiny import collector
    from autograd_tiny.nn import MLP, hinge

    if setting == "python":
        collector.use_python_default()
    bench.SIZES = [2, 64, 64, 1]
    w = bench.initial_weights()
    steps, nodes = {}, {}
    for s in samples:
        xs, ys = bench.two_moons(s)
        steps[s] = bench.ours_eager(xs, ys, w)
        model = MLP(2, [64, 64, 1], ["relu", "relu", "identity"])
        nodes[s] = len(autograd_tiny.topological_order(hinge([model(x)[0] for x in xs], ys)))
        del model
    full = [0]

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full[0] += 1

    gc.callbacks.append(count)
    times: dict[int, list[float]] = {s: [] for s in samples}
    fulls: dict[int, list[int]] = {s: [] for s in samples}
    for s in samples:  # one untimed step each: every size starts from the same state
        steps[s].step()
    for _ in range(rounds):
        for s in samples:
            full[0] = 0
            start = time.process_time()
            steps[s].step()
            times[s].append(time.process_time() - start)
            fulls[s].append(full[0])
    return {str(s): [nodes[s], min(times[s]) / nodes[s] * 1e9, statistics.median(fulls[s])]
            for s in samples}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, nargs="+", default=[8, 30, 115])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--one", choices=["python", "autograd_tiny"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, args.samples, args.rounds)))
        return
    results = {}
    for setting in ("python", "autograd_tiny"):
        out = subprocess.run([sys.executable, __file__, "--one", setting, "--rounds", str(args.rounds),
                              "--samples", *map(str, args.samples)],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"{setting} failed:\n{out.stderr}")
        results[setting] = json.loads(out.stdout)
    print(f"Python {sys.version.split()[0]}, eager step of a 2-64-64-1 MLP, fastest of {args.rounds} rounds, "
          "CPU time per node\n")
    print("| samples | nodes | Python's thresholds: ns/node | full collections | "
          "autograd_tiny's: ns/node | full collections |")
    print("|---:|---:|---:|---:|---:|---:|")
    for s in map(str, args.samples):
        p, a = results["python"][s], results["autograd_tiny"][s]
        print(f"| {s} | {p[0]:,} | {p[1]:,.0f} | {p[2]:g} | {a[1]:,.0f} | {a[2]:g} |")
    for setting in ("python", "autograd_tiny"):
        per_node = [results[setting][s][1] for s in map(str, args.samples)]
        print(f"\n{setting}: largest / smallest time per node = {max(per_node) / min(per_node):.2f}", end="")
    print()


if __name__ == "__main__":
    main()
