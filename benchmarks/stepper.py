"""Size and render times of the stepper page (autograd_tiny.to_html).

Usage (from the repository root)::

    python benchmarks/stepper.py

For three graphs, the 2-2-2 sigmoid network of seed 004 (its derivation, whose claims the
checker judges first, ``E@10000`` included; and its loss alone) and the loss of a 2-16-16-1
tanh MLP on one sample (neurons named, so that the picture draws each
neuron as one node above ``max_nodes``), prints: the number of Values, whether the
picture is collapsed, the page's size in bytes, the time ``to_html`` takes in Python
(Graphviz layout included), and the time headless Chromium takes to load the page
(until its script has run), then to step to the end of the backward pass.
Chromium is set up as in the tests (tests/browser.py); without it only the Python
figures are printed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from autograd_tiny import Value, to_html  # noqa: E402
from autograd_tiny.derivation import load_example  # noqa: E402
from autograd_tiny.nn import MLP, Layer, Neuron, half_squared_error  # noqa: E402


def mlp_loss() -> Value:
    """Return the loss of a 2-16-16-1 tanh MLP (fixed weights, named neurons) on one sample."""
    import random

    rng = random.Random(0)
    sizes = [2, 16, 16, 1]
    layers = []
    for k in range(1, len(sizes)):
        neurons = [Neuron(sizes[k - 1], "tanh", bias=rng.uniform(-1, 1), name=f"L{k}n{j}", rng=rng)
                   for j in range(sizes[k])]
        layers.append(Layer.from_neurons(neurons))
    net = MLP.from_layers(layers)
    loss = half_squared_error(net([Value(0.5, "x1"), Value(-1.0, "x2")]), [0.25])
    loss.label = "E"
    return loss


def _median_time(fn: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> int:
    """Print the figures; return the exit status."""
    cases = [("2-2-2 (seed004)", lambda: to_html(load_example("seed004"))),
             ("2-2-2 loss only", lambda: to_html(load_example("seed004").loss())),
             ("2-16-16-1 MLP", lambda: to_html(mlp_loss()))]
    driver = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            from browser import start_chromium

            driver = start_chromium(str(Path(tmp) / "profile"))
        except BaseException as exc:  # noqa: BLE001 - pytest.skip raises a BaseException
            print(f"(no browser figures: {exc})")
        print(f"{'graph':<18} {'values':>6} {'picture':<10} {'bytes':>10} {'to_html':>9} "
              f"{'load':>8} {'to end':>8}")
        for name, build in cases:
            seconds, page = _median_time(build, 3)
            path = page.write(Path(tmp) / "page.html")
            load = end = float("nan")
            if driver is not None:
                loads, ends = [], []
                for _ in range(3):
                    t = time.perf_counter()
                    driver.get(path.as_uri())
                    assert driver.execute_script("return document.body.dataset.ready") == "1"
                    loads.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    driver.find_element("id", "btn-last").click()
                    driver.execute_script("return document.getElementById('step-label').textContent")
                    ends.append(time.perf_counter() - t)
                load, end = statistics.median(loads), statistics.median(ends)
            picture = "collapsed" if page.collapsed else "full"
            print(f"{name:<18} {page.nodes:>6} {picture:<10} {len(page.html.encode()):>10,} "
                  f"{seconds:>8.2f}s {load:>7.2f}s {end:>7.3f}s")
        if driver is not None:
            driver.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
