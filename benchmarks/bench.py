"""Benchmark: one training step of a 2-16-16-1 ReLU MLP, five ways, in one process.

Usage (from the repository root)::

    python benchmarks/bench.py            # the full run (about 30 seconds)
    python benchmarks/bench.py --quick    # a smoke run of a few seconds

Contenders, all on the same work: the same 100 two-moons samples (generated here
with a fixed seed), the same initial weights, the same loss (mean of
relu(1 - y * score), no regularisation), then zero_grad, backward and an SGD
update:

* micrograd 0.1.0;
* PyTorch with 0-d float64 tensors, ``torch.set_num_threads(1)``;
* the step written by hand with Python floats, derivatives included: not a use of
  the library but the yardstick, the floor a scalar engine can aim at;
* autograd_tiny's eager engine (``autograd_tiny.nn``: a new graph every step);
* autograd_tiny's compiled replay (``autograd_tiny.compile`` of the first step's graph),
  driven by ``nn.SGD``;
* autograd_tiny's fused compiled step (``compiled.step(lr)``: zero, forward, backward
  and update in one generated function).

Before timing, every contender takes one step and the losses, gradients and new
weights are compared. Then the contenders take turns, one step each per round,
and the medians are printed. Afterwards: ``backward()`` on chains of growing
length (its time per node should stay flat) and the memory of one
``Value * number`` node, ours and micrograd's.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

import autograd_tiny
from autograd_tiny import Value
from autograd_tiny.nn import MLP, SGD, hinge

SIZES = [2, 16, 16, 1]
LR = 0.05
Weights = list[list[list[float]]]  # layer -> neuron -> [w0, w1, ..., bias]


def two_moons(n: int, seed: int = 0, noise: float = 0.1) -> tuple[list[list[float]], list[float]]:
    """Return ``n`` points of two interleaved half circles and labels +1 / -1."""
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(n):
        t = math.pi * rng.random()
        if i % 2 == 0:
            x0, x1, y = math.cos(t), math.sin(t), 1.0
        else:
            x0, x1, y = 1.0 - math.cos(t), 0.5 - math.sin(t), -1.0
        xs.append([x0 + rng.gauss(0.0, noise), x1 + rng.gauss(0.0, noise)])
        ys.append(y)
    return xs, ys


def initial_weights(seed: int = 1) -> Weights:
    """Return weights uniform in [-1, 1) and zero biases, as micrograd initialises them."""
    rng = random.Random(seed)
    return [[[rng.uniform(-1, 1) for _ in range(nin)] + [0.0] for _ in range(nout)]
            for nin, nout in zip(SIZES, SIZES[1:])]


@dataclass
class Contender:
    """One implementation of the step: ``step()`` returns the loss before the update."""

    name: str
    step: Callable[[], float]
    weights: Callable[[], list[float]]  # every weight and bias, in the order of Weights
    grads: Callable[[], list[float]]  # their gradients from the latest step
    times: list[float] = field(default_factory=list)
    note: str = ""


# -- the contenders ---------------------------------------------------------------------------

def ours_eager(xs: list[list[float]], ys: list[float], w: Weights) -> Contender:
    model = MLP(2, SIZES[1:], ["relu", "relu", "identity"])
    _load(model, w)
    params = _ordered(model)
    opt = SGD(params, lr=LR)

    def step() -> float:
        loss = hinge([model(x)[0] for x in xs], ys)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.data

    return Contender("autograd_tiny eager", step, lambda: [p.data for p in params],
                     lambda: [p.grad for p in params])


def ours_compiled(xs: list[list[float]], ys: list[float], w: Weights) -> Contender:
    model = MLP(2, SIZES[1:], ["relu", "relu", "identity"])
    _load(model, w)
    params = _ordered(model)
    opt = SGD(params, lr=LR)
    loss = hinge([model(x)[0] for x in xs], ys)
    compiled = autograd_tiny.compile(loss)
    del loss

    def step() -> float:
        value = compiled()
        opt.zero_grad()
        compiled.backward()
        opt.step()
        return value

    note = (f"graph of {compiled.num_nodes} nodes, {len(compiled.leaves)} leaves; "
            f"code generation {compiled.codegen_seconds:.2f} s + compile() {compiled.compile_seconds:.2f} s, "
            f"{compiled.num_functions} functions")
    return Contender("autograd_tiny compiled", step, lambda: [p.data for p in params],
                     lambda: [p.grad for p in params], note=note)


def ours_fused(xs: list[list[float]], ys: list[float], w: Weights) -> Contender:
    model = MLP(2, SIZES[1:], ["relu", "relu", "identity"])
    _load(model, w)
    params = _ordered(model)
    compiled = autograd_tiny.compile(hinge([model(x)[0] for x in xs], ys), params=params)

    def step() -> float:
        value = compiled.step(LR)
        assert isinstance(value, float)
        return value

    return Contender("autograd_tiny fused step", step, lambda: [p.data for p in params],
                     lambda: [p.grad for p in params])


def _load(model: MLP, w: Weights) -> None:
    for layer, lw in zip(model.layers, w):
        for neuron, nw in zip(layer.neurons, lw):
            for p, x in zip(neuron.w, nw):
                p.data = x
            assert neuron.b is not None
            neuron.b.data = nw[-1]


def _ordered(model: MLP) -> list[Value]:
    out = []
    for layer in model.layers:
        for neuron in layer.neurons:
            assert neuron.b is not None
            out += [*neuron.w, neuron.b]
    return out


def micrograd_step(xs: list[list[float]], ys: list[float], w: Weights) -> Contender | None:
    try:
        from micrograd import nn as mnn
    except ImportError:
        return None
    model = mnn.MLP(2, SIZES[1:])
    params = []
    for layer, lw in zip(model.layers, w):
        for neuron, nw in zip(layer.neurons, lw):
            for p, x in zip(neuron.w, nw):
                p.data = x
            neuron.b.data = nw[-1]
            params += [*neuron.w, neuron.b]

    def step() -> float:
        scores = [model(x) for x in xs]
        losses = [(1 + -y * s).relu() for y, s in zip(ys, scores)]
        loss = sum(losses) * (1.0 / len(losses))
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= LR * p.grad
        return float(loss.data)

    import micrograd

    version = getattr(micrograd, "__version__", "0.1.0")
    return Contender(f"micrograd {version}", step, lambda: [p.data for p in params],
                     lambda: [float(p.grad) for p in params])


def torch_step(xs: list[list[float]], ys: list[float], w: Weights) -> Contender | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    f64 = torch.float64
    layers = [[[torch.tensor(x, dtype=f64, requires_grad=True) for x in nw] for nw in lw] for lw in w]
    params = [p for lw in layers for nw in lw for p in nw]

    def step() -> float:
        total = None
        for x, y in zip(xs, ys):
            h = x
            for k, lw in enumerate(layers):
                outs = []
                for nw in lw:
                    s = nw[0] * h[0]
                    for wi, hi in zip(nw[1:-1], h[1:]):
                        s = s + wi * hi
                    s = s + nw[-1]
                    outs.append(torch.relu(s) if k < len(layers) - 1 else s)
                h = outs
            term = torch.relu(1 - y * h[0])
            total = term if total is None else total + term
        loss = total / len(xs)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        return float(loss.item())

    return Contender(f"PyTorch {torch.__version__} (0-d float64)", step,
                     lambda: [p.item() for p in params], lambda: [p.grad.item() for p in params])


def floats_step(xs: list[list[float]], ys: list[float], w: Weights) -> Contender:
    """The step written out by hand with Python floats and lists: the floor for a scalar engine."""
    wts = [[list(nw) for nw in lw] for lw in w]
    grads = [[[0.0] * len(nw) for nw in lw] for lw in wts]
    last = len(wts) - 1
    n = len(xs)

    def step() -> float:
        for lg in grads:
            for ng in lg:
                ng[:] = [0.0] * len(ng)
        total = 0.0
        for x, y in zip(xs, ys):
            inputs, nets = [], []
            h = x
            for k, lw in enumerate(wts):
                z = []
                for nw in lw:
                    s = nw[0] * h[0]
                    for i in range(1, len(h)):
                        s += nw[i] * h[i]
                    z.append(s + nw[-1])
                inputs.append(h)
                nets.append(z)
                h = z if k == last else [v if v > 0.0 else 0.0 for v in z]
            margin = 1.0 - y * h[0]
            if margin <= 0.0:
                continue
            total += margin
            delta = [-y / n]  # d loss / d score for this sample
            for k in range(last, -1, -1):
                if k != last:
                    delta = [d if v > 0.0 else 0.0 for d, v in zip(delta, nets[k])]
                inp, lw, lg = inputs[k], wts[k], grads[k]
                back = [0.0] * len(inp)
                for nw, ng, d in zip(lw, lg, delta):
                    for i, v in enumerate(inp):
                        ng[i] += d * v
                        back[i] += d * nw[i]
                    ng[-1] += d
                delta = back
        for lw, lg in zip(wts, grads):
            for nw, ng in zip(lw, lg):
                for i, g in enumerate(ng):
                    nw[i] -= LR * g
        return total / n

    return Contender("hand-written floats", step, lambda: [x for lw in wts for nw in lw for x in nw],
                     lambda: [g for lg in grads for ng in lg for g in ng])


# -- measurements ------------------------------------------------------------------------------

def agree(a: list[float], b: list[float]) -> float:
    """Return the largest difference between two lists, relative to the largest entry of ``b``.

    (Entry by entry would be unfair: a gradient that sums to about zero, like the
    output bias's here, has no relative accuracy in any engine.)
    """
    scale = max((abs(y) for y in b), default=0.0) or 1.0
    return max((abs(x - y) for x, y in zip(a, b, strict=True)), default=0.0) / scale


def _thresholds_for(c: Contender, own: bool) -> None:
    """With ``own``, give each contender the collector thresholds its package runs with.

    autograd_tiny raises the oldest generation's threshold when it is imported (see
    :mod:`autograd_tiny.collector`); micrograd, PyTorch and the float step would run
    with Python's default in a program of their own.
    """
    if not own:
        return
    if c.name.startswith("autograd_tiny"):
        autograd_tiny.collector.raise_threshold()
    else:
        autograd_tiny.collector.use_python_default()


def run_mlp(samples: int, rounds: int, own_gc: bool = False) -> list[Contender]:
    xs, ys = two_moons(samples)
    w = initial_weights()
    makers = [micrograd_step, torch_step, floats_step, ours_eager, ours_compiled, ours_fused]
    contenders = [c for make in makers if (c := make(xs, ys, w)) is not None]
    reference = next(c for c in contenders if c.name == "autograd_tiny eager")

    print(f"MLP step: {'-'.join(map(str, SIZES))} ReLU (linear output), {samples} two-moons samples, "
          f"mean hinge loss, SGD lr={LR}")
    print("agreement after one step (largest difference to the eager engine, relative to the largest value):")
    losses = {c.name: c.step() for c in contenders}
    ref_w, ref_g = reference.weights(), reference.grads()
    for c in contenders:
        dl = abs(losses[c.name] - losses[reference.name]) / abs(losses[reference.name])
        dg, dw = agree(c.grads(), ref_g), agree(c.weights(), ref_w)
        print(f"  {c.name:34s} loss {losses[c.name]:.15f}  loss {dl:.1e}  grads {dg:.1e}  weights {dw:.1e}")
        if max(dl, dg, dw) > 1e-9:
            sys.exit(f"{c.name} does not compute the same step (difference {max(dl, dg, dw):.1e})")

    for _ in range(rounds):
        for c in contenders:
            _thresholds_for(c, own_gc)
            gc.collect()  # nobody pays for the previous contender's garbage
            start = time.perf_counter()
            c.step()
            c.times.append(time.perf_counter() - start)

    floor = next(c for c in contenders if c.name == "hand-written floats")
    base = next((c for c in contenders if c.name.startswith("micrograd")), None)
    f_med = statistics.median(floor.times)
    print(f"\n{rounds} rounds, contenders interleaved; median time of one step:\n")
    print("| contender | median ms | fastest ms | speed-up vs micrograd | time vs hand-written floats |")
    print("|---|---:|---:|---:|---:|")
    for c in contenders:
        med = statistics.median(c.times)
        speedup = f"{statistics.median(base.times) / med:.1f}x" if base else "n/a"
        print(f"| {c.name} | {med * 1e3:.1f} | {min(c.times) * 1e3:.1f} | {speedup} | {med / f_med:.2f}x |")
    print("\n(ratios are of medians)")
    for c in contenders:
        if c.note:
            print(f"\n{c.name}: {c.note}")
    return contenders


def run_chains(lengths: list[int]) -> None:
    print("\nbackward() on a chain y = y * 1.0000001 (Value * number), n nodes:\n")
    print("| n | build s | backward s | backward ns per node |")
    print("|---:|---:|---:|---:|")
    for n in lengths:
        gc.collect()
        start = time.perf_counter()
        x = Value(1.0)
        y = x
        for _ in range(n):
            y = y * 1.0000001
        built = time.perf_counter()
        y.backward()
        done = time.perf_counter()
        assert math.isclose(x.grad, 1.0000001 ** n, rel_tol=1e-9)
        print(f"| {n} | {built - start:.3f} | {done - built:.3f} | {(done - built) / n * 1e9:.0f} |")
        del x, y


def node_bytes(make_chain: Callable[[int], object], n: int) -> float:
    """Return the bytes per node that ``make_chain(n)`` holds, as tracemalloc counts them."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    chain = make_chain(n)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del chain
    gc.collect()
    return (after - before) / n


def run_memory(n: int) -> None:
    def ours(n: int) -> object:
        y = Value(1.0)
        for _ in range(n):
            y = y * 1.0000001
        return y

    print(f"\nmemory per Value * number node (tracemalloc, chain of {n}):")
    print(f"  autograd_tiny: {node_bytes(ours, n):.0f} bytes")
    try:
        from micrograd.engine import Value as MValue
    except ImportError:
        print("  micrograd: not installed")
        return

    def theirs(n: int) -> object:
        y = MValue(1.0)
        for _ in range(n):
            y = y * 1.0000001
        return y

    print(f"  micrograd 0.1.0: {node_bytes(theirs, n):.0f} bytes")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round: a smoke run")
    parser.add_argument("--rounds", type=int, default=7, help="timed steps per contender (default 7)")
    parser.add_argument("--samples", type=int, default=100, help="samples per step (default 100)")
    parser.add_argument("--gc", choices=["own", "default", "python", "freeze", "off"], default="own",
                        help="garbage collector during the timings: each contender with the thresholds "
                             "its package runs with (own, the default: autograd_tiny's raised one for "
                             "autograd_tiny, Python's for the others), autograd_tiny's for all "
                             "(default), Python's for all, gc.freeze() after setup, or disabled")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.samples = 1, 10
    chains = [25_000, 50_000, 100_000] if args.quick else [250_000, 500_000, 1_000_000]
    if args.gc == "python":
        autograd_tiny.collector.use_python_default()
    if args.gc == "freeze":
        gc.collect()
        gc.freeze()
    elif args.gc == "off":
        gc.disable()
    print(f"Python {sys.version.split()[0]}, autograd_tiny {autograd_tiny.__version__}, gc: {args.gc} "
          f"(thresholds {gc.get_threshold()})\n")
    run_mlp(args.samples, args.rounds, own_gc=args.gc == "own")
    run_chains(chains)
    run_memory(20_000 if args.quick else 200_000)


if __name__ == "__main__":
    main()
