"""Big graphs: memory per node, deep and wide graphs eager and compiled, the benchmark's smoke run."""

from __future__ import annotations

import gc
import math
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

import autograd_tiny
from autograd_tiny import Value, topological_order

ROOT = Path(__file__).resolve().parents[1]


def test_a_value_times_number_node_takes_at_most_250_bytes() -> None:
    # One node is the Value object (7 slots) and its float; the constant 1.0000001
    # is kept in the node, not as a Value of its own. micrograd needs about 1,170.
    n = 100_000
    x = Value(1.0)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        y = x
        for _ in range(n):
            y = y * 1.0000001
        per_node = (tracemalloc.get_traced_memory()[0] - before) / n
    finally:
        tracemalloc.stop()
    assert y.operands[1] == 1.0000001 and len(y.parents) == 1
    assert per_node <= 250, per_node


def test_a_million_node_chain_backward_needs_no_recursion() -> None:
    # y = x * c * c * ... (n times): dy/dx = c ** n, computed by one multiplication per node.
    n, c = 1_000_000, 1.0000001
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * c
    y.backward()
    assert math.isclose(x.grad, c ** n, rel_tol=1e-9)  # c ** n = e ** 0.1 = 1.10517...
    assert math.isclose(y.data, c ** n, rel_tol=1e-9)


def test_topological_order_of_a_deep_chain_is_the_chain() -> None:
    x = Value(0.5)
    nodes = [x]
    for _ in range(200_000):
        nodes.append(nodes[-1] + 1.0)
    order = topological_order(nodes[-1])
    assert len(order) == len(nodes)
    assert all(a is b for a, b in zip(order, nodes))


def test_topological_order_puts_every_parent_first_in_a_diamond_lattice() -> None:
    # Each row of nodes depends on two nodes of the row before: many paths reach each node.
    row = [Value(float(i)) for i in range(30)]
    for _ in range(60):
        row = [row[i] * row[(i + 1) % len(row)] + 1.0 for i in range(len(row))]
    root = row[0]
    for v in row[1:]:
        root = root + v
    order = topological_order(root)
    position = {v: i for i, v in enumerate(order)}
    assert len(position) == len(order)  # no node twice
    assert order[-1] is root
    assert all(position[p] < position[v] for v in order for p in v.parents)


def test_compiled_deep_chain_matches_eager() -> None:
    # 50,000 nodes alternate tanh and an affine map, split into five functions each way.
    x = Value(0.3)
    y = x
    for i in range(20_000):
        y = (y * 1.5 + 0.1).tanh() if i % 2 else y * 0.999 + 0.001
    compiled = autograd_tiny.compile(y)
    assert compiled.num_nodes > 50_000 and compiled.num_functions >= 2 * 5 + 2
    y.backward()
    want = x.grad
    x.grad = 0.0
    assert compiled() == y.data
    compiled.backward()
    assert x.grad == want


def test_compiled_wide_sum_of_many_leaves() -> None:
    # s = sum of 10,000 leaves times their index: ds/dleaf_i = i. Each function reads
    # a few leaves of the long leaf tuple, so it indexes instead of unpacking all; the
    # products wait in G while the backward pass walks down the chain of sums.
    leaves = [Value(0.5) for _ in range(10_000)]
    s = leaves[0] * 0.0
    for i, leaf in enumerate(leaves[1:], start=1):
        s = s + leaf * float(i)
    compiled = autograd_tiny.compile(s, chunk_size=1000)
    assert compiled() == 0.5 * sum(range(10_000))  # every partial sum is exact in binary
    compiled.backward()
    assert all(leaf.grad == float(i) for i, leaf in enumerate(leaves))


def test_benchmark_quick_run_completes() -> None:
    pytest.importorskip("micrograd", reason="the benchmark compares with micrograd 0.1.0")
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick"],
                            capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for row in ("| micrograd 0.1.0 |", "| hand-written floats |", "| autograd_tiny eager |",
                "| autograd_tiny compiled |", "backward ns per node", "memory per Value * number node"):
        assert row in out, (row, out)
    # Every contender computed the same step (the run stops otherwise): same loss to 15 digits.
    losses = {line.split("loss")[1].split()[0] for line in out.splitlines() if line.startswith("  ") and
              " loss " in line}
    assert len({round(float(v), 12) for v in losses}) == 1, losses
