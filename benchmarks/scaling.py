"""Scaling table: one 2-W-W-1 MLP training step at growing sizes, eager and compiled.

Usage (from the repository root)::

    python benchmarks/scaling.py                      # widths 16 32 64, 100 and 400 samples
    python benchmarks/scaling.py --widths 16 --samples 10 --rounds 1   # a smoke run

Each configuration runs in a fresh subprocess (``--one W S``), so peak memory is
that configuration's own. In it, in this order:

1. the step's graph is built once (a ReLU MLP 2-W-W-1 on S two-moons samples, mean
   hinge loss, as in ``bench.py``); the resident memory it adds is "graph";
2. ``autograd_tiny.compile([loss, *scores])`` (the loss and every sample's score,
   so that a metric can be replayed too); "compile peak" is the largest resident
   memory during it minus the memory with the graph built (``VmHWM``), and
   "code" the size of the compiled functions the object keeps (code objects,
   their constants and names; the graph itself is dropped);
3. the contenders take ``--rounds`` steps each, interleaved: the eager engine (a
   new graph every step), the compiled replay driven by ``nn.SGD``
   (``compiled()``, ``zero_grad``, ``compiled.backward()``, ``opt.step()``), the fused
   compiled step (``compiled.step(lr)``: all of it in one generated function),
   micrograd 0.1.0 (skipped above 1,000,000 nodes, where it would need over 1 KB per
   node, or with ``--no-micrograd``) and the step written by hand with floats. Every
   contender first takes one step and its loss is compared with the eager engine's.

"compile / eager" is the compile time in eager steps of the same graph; "fused /
floats" the fused step's median time over the hand-written float step's.

Times are CPU time of the process (``time.process_time``), the median of the
rounds: other programs on a shared machine inflate wall-clock time, and CPU time
less so. The garbage collector runs as autograd_tiny leaves it (see
``autograd_tiny/collector.py``); ``--gc python`` puts Python's default back, to
see the difference.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
MICROGRAD_LIMIT = 1_000_000


def _status(field: str) -> int:
    """Return a memory figure of this process from /proc/self/status (Linux), in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _rss() -> int:
    """Return the process's resident memory now, in bytes."""
    return _status("VmRSS")


def _peak() -> int:
    """Return the process's largest resident memory so far, in bytes."""
    return _status("VmHWM")


def code_bytes(compiled: object) -> int:
    """Return the bytes of the compiled functions: code objects, their constants and names."""
    namespace = compiled._forward.__globals__  # type: ignore[attr-defined]
    seen: set[int] = set()
    total = 0
    for fn in namespace.values():
        if not isinstance(fn, types.FunctionType) or not fn.__code__.co_filename.startswith("<autograd_tiny"):
            continue
        co = fn.__code__
        parts = [fn, co, co.co_consts, co.co_names, co.co_varnames, co.co_linetable, co.co_exceptiontable,
                 *co.co_consts, *co.co_names, *co.co_varnames]
        for part in parts:
            if id(part) not in seen:
                seen.add(id(part))
                total += sys.getsizeof(part)
    return total


def one(width: int, samples: int, rounds: int, python_gc: bool, eager_only: bool,
        micrograd: bool = True, chunk_size: int | None = None) -> dict[str, object]:
    """Measure one configuration in this process; return the figures as a dict."""
    sys.path.insert(0, str(HERE))
    import bench  # the contenders of the small benchmark, at another width

    import autograd_tiny
    from autograd_tiny import collector
    from autograd_tiny.nn import MLP, SGD, hinge

    if python_gc:
        collector.use_python_default()
    bench.SIZES = [2, width, width, 1]
    xs, ys = bench.two_moons(samples)
    w = bench.initial_weights()
    row: dict[str, object] = {"width": width, "samples": samples}

    if eager_only:
        eager = bench.ours_eager(xs, ys, w)
        eager.step()
        model = MLP(2, bench.SIZES[1:], ["relu", "relu", "identity"])
        n = len(autograd_tiny.topological_order(hinge([model(x)[0] for x in xs], ys)))
        del model
        ts = []
        for _ in range(rounds):
            start = time.process_time()
            eager.step()
            ts.append(time.process_time() - start)
        row.update(nodes=n, eager_s=statistics.median(ts), eager_ns=statistics.median(ts) / n * 1e9)
        return row

    # 1-2: the graph, then compile() of the loss and every score.
    model = MLP(2, bench.SIZES[1:], ["relu", "relu", "identity"])
    bench._load(model, w)
    params = bench._ordered(model)
    gc.collect()
    base = _rss()
    scores = [model(x)[0] for x in xs]
    loss = hinge(scores, ys)
    with_graph = _rss()
    start = time.process_time()
    options = {} if chunk_size is None else {"chunk_size": chunk_size}
    compiled = autograd_tiny.compile([loss, *scores], **options)  # type: ignore[arg-type]
    row["compile_s"] = time.process_time() - start
    peak = _peak()
    n = compiled.num_nodes
    row.update(nodes=n, graph_b=(with_graph - base) / n, peak_b=(peak - with_graph) / n,
               codegen_us=compiled.codegen_seconds / n * 1e6, pycompile_us=compiled.compile_seconds / n * 1e6)
    del loss, scores
    gc.collect()
    row["code_b"] = code_bytes(compiled) / n
    opt = SGD(params, lr=bench.LR)

    def compiled_step() -> float:
        values = compiled()
        assert isinstance(values, list)
        opt.zero_grad()
        compiled.backward()
        opt.step()
        return values[0]

    contenders = {"eager": bench.ours_eager(xs, ys, w), "floats": bench.floats_step(xs, ys, w)}
    contenders["compiled"] = bench.Contender("compiled", compiled_step, lambda: [p.data for p in params],
                                             lambda: [p.grad for p in params])

    # The fused step trains a model of its own (same weights), compiled the same way.
    twin = MLP(2, bench.SIZES[1:], ["relu", "relu", "identity"])
    bench._load(twin, w)
    twin_params = bench._ordered(twin)
    twin_scores = [twin(x)[0] for x in xs]
    fused = autograd_tiny.compile([hinge(twin_scores, ys), *twin_scores], params=twin_params,
                                  **options)  # type: ignore[arg-type]
    del twin_scores

    def fused_step() -> float:
        values = fused.step(bench.LR)
        assert isinstance(values, list)
        return values[0]

    contenders["fused"] = bench.Contender("fused", fused_step, lambda: [p.data for p in twin_params],
                                          lambda: [p.grad for p in twin_params])
    if micrograd and n <= MICROGRAD_LIMIT:
        mg = bench.micrograd_step(xs, ys, w)
        if mg is not None:
            contenders["micrograd"] = mg
    first = {name: c.step() for name, c in contenders.items()}
    for name, value in first.items():
        if abs(value - first["eager"]) > 1e-9 * abs(first["eager"]):
            raise SystemExit(f"{name} does not compute the eager step's loss: "
                             f"{value!r} vs {first['eager']!r}")
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, c in contenders.items():
            start = time.process_time()
            c.step()
            times[name].append(time.process_time() - start)
    for name, ts in times.items():
        row[f"{name}_s"] = statistics.median(ts)
    row["eager_ns"] = row["eager_s"] / n * 1e9  # type: ignore[operator]
    row["compile_eager"] = row["compile_s"] / row["eager_s"]  # type: ignore[operator]
    row["fused_floats"] = row["fused_s"] / row["floats_s"]  # type: ignore[operator]
    return row


def table(rows: list[dict[str, object]]) -> str:
    """Return the rows as a Markdown table."""
    head = ("| W | samples | nodes | graph B/node | eager ms | eager ns/node | compiled ms | fused ms | "
            "compile s (codegen + compile() us/node) | compile / eager | compile peak B/node | code B/node | "
            "micrograd ms | floats ms | eager / compiled | fused / floats |")
    lines = [head, "|" + "|".join(["---:"] * 16) + "|"]
    for r in rows:
        mg = f"{r['micrograd_s'] * 1e3:,.0f}" if "micrograd_s" in r else "n/a"  # type: ignore[operator]
        lines.append(
            f"| {r['width']} | {r['samples']} | {r['nodes']:,} | {r['graph_b']:.0f} | "
            f"{r['eager_s'] * 1e3:,.0f} | {r['eager_ns']:,.0f} | {r['compiled_s'] * 1e3:,.1f} | "  # type: ignore[operator]
            f"{r['fused_s'] * 1e3:,.1f} | "  # type: ignore[operator]
            f"{r['compile_s']:.2f} ({r['codegen_us']:.1f} + {r['pycompile_us']:.1f}) | "
            f"{r['compile_eager']:.1f} | "
            f"{r['peak_b']:.0f} | {r['code_b']:.0f} | {mg} | {r['floats_s'] * 1e3:,.1f} | "  # type: ignore[operator]
            f"{r['eager_s'] / r['compiled_s']:.1f}x | {r['fused_floats']:.2f}x |")  # type: ignore[operator]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--samples", type=int, nargs="+", default=[100, 400])
    parser.add_argument("--rounds", type=int, default=3, help="timed steps per contender (default 3)")
    parser.add_argument("--gc", choices=["autograd_tiny", "python"], default="autograd_tiny",
                        help="the collector's thresholds: as autograd_tiny sets them, or Python's default")
    parser.add_argument("--eager-only", action="store_true", help="time only the eager step")
    parser.add_argument("--no-micrograd", action="store_true", help="leave micrograd out (it is slow)")
    parser.add_argument("--chunk-size", type=int, default=None, help="compile()'s chunk_size")
    parser.add_argument("--one", type=int, nargs=2, metavar=("W", "S"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], args.rounds, args.gc == "python", args.eager_only,
                             not args.no_micrograd, args.chunk_size)))
        return
    print(f"Python {sys.version.split()[0]}, gc thresholds: {args.gc}, {args.rounds} rounds, CPU time\n",
          flush=True)
    rows = []
    for width in args.widths:
        for samples in args.samples:
            result = subprocess.run([sys.executable, __file__, "--one", str(width), str(samples),
                                     "--rounds", str(args.rounds), "--gc", args.gc,
                                     *(["--eager-only"] if args.eager_only else []),
                                     *(["--no-micrograd"] if args.no_micrograd else []),
                                     *(["--chunk-size", str(args.chunk_size)] if args.chunk_size else [])],
                                    capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise SystemExit(f"W={width}, S={samples} failed:\n{result.stderr}")
            rows.append(json.loads(result.stdout))
            print(f"  W={width} S={samples}: {rows[-1]['nodes']:,} nodes done", file=sys.stderr, flush=True)
    if args.eager_only:
        print("| W | samples | nodes | eager ms | eager ns/node |\n|---:|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['width']} | {r['samples']} | {r['nodes']:,} | {r['eager_s'] * 1e3:,.0f} | "  # type: ignore
                  f"{r['eager_ns']:,.0f} |")
    else:
        print(table(rows))


if __name__ == "__main__":
    main()
