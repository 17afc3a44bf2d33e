"""How fast the derivation checker's interpreter replays a network: node-steps per second.

Usage (from the repository root)::

    python benchmarks/replay.py [--steps 2000] [--repeat 5]

Replays seed 004's 2-2-2 network (the checker's ``Replay.run``, as for a claim ``E@K``:
forward, backward and the update, K steps, no figures put in) and a 2-8-8-2 sigmoid network
built the same way, and prints the median time per step and node-steps per second (nodes on
the tape times steps, divided by the time). The same script runs unchanged on an older
checkout (one whose replay is ``derivation.replay.Replay``), which is how a change of the
interpreter is compared with what it replaced.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograd_tiny.derivation import load_derivation, load_example  # noqa: E402
from autograd_tiny.derivation.interpreter import Replay  # noqa: E402
from autograd_tiny.derivation.network import Network  # noqa: E402


def wide_network() -> str:
    """Return a 2-8-8-2 sigmoid network file (weights 0.1 to 0.9 in turn, no claims)."""
    layers = [["x1", "x2"], [f"h{i}" for i in range(8)], [f"g{i}" for i in range(8)], ["o1", "o2"]]
    lines = ['activation = "sigmoid"', 'loss = "half_squared_error"', "learning_rate = 0.5",
             f"layers = {layers!r}".replace("'", '"'), "[inputs]", "x1 = 0.05", "x2 = 0.10",
             "[targets]", "o1 = 0.01", "o2 = 0.99", "[weights]"]
    k = 0
    for a, b in zip(layers, layers[1:]):
        for s in a:
            for t in b:
                k += 1
                lines.append(f'w{k} = ["{s}", "{t}", {0.1 + (k % 9) / 10:.1f}]')
    return "\n".join(lines) + "\n"


def time_replay(replay: Replay, steps: int, repeat: int) -> float:
    """Return the median seconds of ``repeat`` replays of ``steps`` steps."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        replay.run({}, steps - 1, keep=())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def replay_of(spec: Any) -> Replay:
    """Return the checker's replay of a network file's spec, on this checkout or an older one."""
    network = Network(spec)
    if hasattr(network, "replay"):
        return network.replay()
    from autograd_tiny.derivation import replay  # type: ignore[attr-defined]  # older checkouts

    return replay.Replay(network)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name, spec in [("seed004 (2-2-2)", load_example("seed004").spec),
                       ("2-8-8-2", load_derivation(wide_network()).spec)]:
        replay = replay_of(spec)
        nodes = len(replay.tape)
        t = time_replay(replay, args.steps, args.repeat)
        print(f"{name:16} {nodes:5} nodes  {1e6 * t / args.steps:8.1f} us/step  "
              f"{nodes * args.steps / t / 1e6:6.2f} M node-steps/s")


if __name__ == "__main__":
    main()
