"""Benchmark: how long pictures take to lay out, and how big they come out.

Usage (from the repository root)::

    python benchmarks/pictures.py              # every case (about half a minute)
    python benchmarks/pictures.py rnn mlp      # some of them

Cases:

* ``mlp``: the loss of a 2-16-16-1 tanh MLP (about 700 Values) as Jupyter shows it
  (``draw_graph(loss)``, collapsed by default) and with every Value (``collapse=False``);
* ``net``: the network diagram of a 2-8-8-1 MLP (88 weights) with and without weight boxes;
* ``rnn``: ``h = tanh(w*h + u*x)`` unrolled over 100 steps (403 Values; ``w`` and ``u``
  are used at every step) and over 249 steps (999 Values);
* ``shared``: one computed Value used at each of 200 steps (604 Values).

Each line gives the seconds from drawing to SVG text (layout included; and the CPU
seconds of this process and the layout program, which a busy machine does not inflate), the SVG's size
and its width x height in points (1 pt = 4/3 px). The layout program is the usual
choice (``AUTOGRAD_TINY_DOT``, else ``dot``, else ``graphviz-pure``).
"""

from __future__ import annotations

import re
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from autograd_tiny import Value
from autograd_tiny.nn import MLP, half_squared_error
from autograd_tiny.render import RenderError, draw_graph, draw_network, to_svg
from autograd_tiny.value import topological_order


def measure(name: str, draw: Callable[[], Any]) -> None:
    """Draw, lay out and print one case."""
    start = time.perf_counter()
    cpu = time.process_time() + _children_cpu()
    try:
        svg = to_svg(draw())
    except RenderError as exc:
        print(f"{name}: failed after {time.perf_counter() - start:.1f} s: {exc}")
        return
    seconds = time.perf_counter() - start
    cpu = time.process_time() + _children_cpu() - cpu
    m = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    size = f"{m.group(1)} x {m.group(2)} pt" if m else "size unknown"
    print(f"{name}: {seconds:.2f} s ({cpu:.2f} s CPU), {len(svg.encode()) / 1e6:.3f} MB, {size}")


def _children_cpu() -> float:
    """Return the CPU seconds used by finished child processes (the layout program)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def mlp_loss(sizes: list[int]) -> tuple[MLP, Value]:
    net = MLP(2, sizes, seed=0)
    loss = half_squared_error(net([0.5, -1.0]), [1.0])
    loss.backward()
    return net, loss


def rnn(steps: int) -> Value:
    w, u, h = Value(0.5, "w"), Value(-0.3, "u"), Value(0.0, "h0")
    for t in range(steps):
        h = (w * h + u * (0.1 * (t % 7))).tanh()
    h.backward()
    return h


def shared(steps: int) -> Value:
    w, h = Value(0.3, "w"), Value(0.0, "h0")
    s = (w * 2).tanh()
    for t in range(steps):
        h = (h + s * (0.01 * t)).tanh()
    h.backward()
    return h


def main(cases: list[str]) -> None:
    if "mlp" in cases:
        net, loss = mlp_loss([16, 16, 1])
        n = len(topological_order(loss))
        measure(f"2-16-16-1 loss ({n} values), as Jupyter shows it", lambda: draw_graph(loss))
        measure("2-16-16-1 loss, collapse=False", lambda: draw_graph(loss, params=net, collapse=False))
    if "net" in cases:
        net8, _ = mlp_loss([8, 8, 1])
        measure("2-8-8-1 network, weight boxes", lambda: draw_network(net8, weight_boxes=True))
        measure("2-8-8-1 network, weights as edges (default)", lambda: draw_network(net8))
    if "rnn" in cases:
        for steps in (100, 249):
            root = rnn(steps)
            n = len(topological_order(root))
            measure(f"recurrence, {steps} steps ({n} values)", lambda r=root: draw_graph(r))  # type: ignore[misc]
    if "shared" in cases:
        root = shared(200)
        n = len(topological_order(root))
        measure(f"value reused at 200 steps ({n} values)", lambda: draw_graph(root))


if __name__ == "__main__":
    main(sys.argv[1:] or ["mlp", "net", "rnn", "shared"])
