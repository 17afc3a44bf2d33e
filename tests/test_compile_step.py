"""autograd_tiny.compile: inlined code, folded constants, the fused training step, readable source.

Every compiled result is compared with the eager engine's bit for bit (nan with nan).
"""

from __future__ import annotations

import ast
import inspect
import math
import random
import struct
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import autograd_tiny
from autograd_tiny import Value, compiler
from autograd_tiny.nn import MLP, SGD, hinge
from autograd_tiny.nn import mean_squared_error as mse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_compile import BINARY, UNARY, Step, build, random_recipe, same  # noqa: E402

SPECIAL = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, 0.5, math.inf, -math.inf, math.nan, 5e-324, 1e308])
STEP = st.tuples(st.sampled_from(BINARY + UNARY), st.integers(0, 10**6), st.integers(0, 10**6),
                 st.integers(0, 2), st.one_of(st.floats(-3, 3), SPECIAL))


def repeated(shared: Sequence[Value], samples: Sequence[Sequence[Value]], recipe: Sequence[Step],
             tail: int) -> Value:
    """Return the sum over samples of ``recipe`` applied to the shared leaves and the sample's own."""
    total = None
    for own in samples:
        out = build([*shared, *own], recipe, tail)
        total = out if total is None else total + out
    assert total is not None
    return total


def eager_and_compiled(make: object, data: Sequence[float], seed: float, chunk: int,
                       new: Sequence[float], min_block: int = compiler._MIN_BLOCK) -> int:
    """Build the graph twice on leaves holding ``data``: differentiate one eagerly and one compiled
    (at ``data``, then at ``new``), and compare outputs and leaf gradients bit for bit.

    Returns the number of repeated blocks the compiled code calls (blocks of ``min_block``
    nodes or more).
    """
    blocks = 0
    for values in (data, new):
        eager_leaves = [Value(x) for x in values]
        want = make(eager_leaves)  # type: ignore[operator]
        want.backward(seed)
        leaves = [Value(x) for x in data]
        with mock.patch.object(compiler, "_MIN_BLOCK", min_block):
            compiled = autograd_tiny.compile(make(leaves), chunk_size=chunk, repeats=True)  # type: ignore[operator]
        blocks = compiled.num_blocks
        for leaf, x in zip(leaves, values):
            leaf.data = x
        got = compiled()
        compiled.backward(seed)
        assert same(got, want.data), (got, want.data)
        for k, (a, b) in enumerate(zip(leaves, eager_leaves)):
            assert same(a.grad, b.grad), (k, a.grad, b.grad)
    return blocks


@settings(max_examples=80, deadline=None)
@given(recipe=st.lists(STEP, min_size=1, max_size=20),
       data=st.lists(st.one_of(st.floats(-1e3, 1e3), SPECIAL), min_size=8, max_size=8),
       new=st.lists(st.floats(-3, 3), min_size=8, max_size=8),
       seed=st.one_of(st.sampled_from([1.0, -0.5, 3.0]), SPECIAL),
       chunk=st.sampled_from([1, 3, 10_000]), tail=st.integers(1, 6))
def test_random_graphs_without_repeats_match_eager(recipe, data, new, seed, chunk, tail) -> None:
    eager_and_compiled(lambda leaves: build(leaves, recipe, tail), data, seed, chunk, new)


@settings(max_examples=60, deadline=None)
@given(recipe=st.lists(STEP, min_size=1, max_size=12),
       data=st.lists(st.one_of(st.floats(-1e3, 1e3), SPECIAL), min_size=8, max_size=8),
       new=st.lists(st.floats(-3, 3), min_size=8, max_size=8),
       seed=st.one_of(st.sampled_from([1.0, -0.5]), SPECIAL),
       chunk=st.sampled_from([2, 7, 10_000]), copies=st.integers(2, 5))
def test_random_graphs_with_repeats_match_eager(recipe, data, new, seed, chunk, copies) -> None:
    # The same per-sample subgraph on shared leaves (weights) and each sample's own leaves,
    # summed over the samples: the shape of a training graph over a batch. Blocks of two
    # nodes and more are compiled once, so that small random graphs have them too.
    def make(leaves: list[Value]) -> Value:
        shared, own = leaves[:2], leaves[2:]
        return repeated(shared, [[own[k % len(own)], own[(k + 1) % len(own)]] for k in range(copies)],
                        recipe, tail=3)

    eager_and_compiled(make, data, seed, chunk, new, min_block=2)


@pytest.mark.parametrize("seed", range(10))
def test_random_repeated_blocks_are_called_and_match_eager(seed: int) -> None:
    # Random per-sample recipes over shared and own leaves, with constants that differ per
    # sample (as inputs given as numbers do): the blocks are found and give eager's bits.
    rng = random.Random(seed)
    recipe = random_recipe(rng, steps=rng.randrange(8, 30))
    copies = rng.randrange(2, 6)
    scale = [rng.uniform(0.5, 2.0) for _ in range(copies)]

    def make(leaves: list[Value]) -> Value:
        shared, own = leaves[:2], leaves[2:]
        total = None
        for k in range(copies):
            x = own[k % len(own)] * scale[k]  # a constant of its own per sample
            out = build([*shared, x, own[(k + 1) % len(own)]], recipe, tail=4)
            total = out if total is None else total + out
        assert total is not None
        return total

    data = [rng.uniform(-2, 2) for _ in range(6)]
    new = [rng.uniform(-2, 2) for _ in range(6)]
    seed_gradient, chunk = rng.choice([1.0, -0.5]), rng.choice([3, 10_000])
    blocks = eager_and_compiled(make, data, seed_gradient, chunk, new, min_block=4)
    assert blocks >= 2


@pytest.mark.parametrize("chunk", [5, 10_000])
def test_long_sums_and_deep_chains_are_split_and_still_exact(chunk: int) -> None:
    # A leaf read by 300 products (its gradient: 300 terms, more than one statement sums),
    # and a chain of 500 unary ops whose values are read once (too deep to inline whole).
    rng = random.Random(4)

    def make(leaves: list[Value]) -> Value:
        w, x = leaves[0], leaves[1]
        total = w * 0.0
        for k in range(300):
            total = total + w * rng.uniform(-1, 1) if k % 2 else total + (w * x).tanh()
        y = x
        for k in range(500):
            y = (y * 0.999).sin() if k % 2 else -y + 0.001
        return total + y

    state = rng.getstate()
    leaves = [Value(0.3), Value(-0.7)]
    rng.setstate(state)
    compiled = autograd_tiny.compile(make(leaves), chunk_size=chunk, source=True)
    rng.setstate(state)
    eager_leaves = [Value(0.3), Value(-0.7)]
    want = make(eager_leaves)
    want.backward()
    assert same(compiled(), want.data)
    compiled.backward()
    assert [a.grad for a in leaves] == [b.grad for b in eager_leaves]
    longest = max(len(line) for line in compiled.source.splitlines())
    assert longest < 20_000
    assert compiled.source.count(" + ") > 300


def _mlp_loss(samples: int = 10) -> Value:
    net = MLP(2, [8, 8, 1], ["relu", "relu", "identity"], seed=1)
    rng = random.Random(1)
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(samples)]
    return hinge([net(x)[0] for x in xs], [1.0, -1.0] * (samples // 2))


def _statements(source: str) -> int:
    return sum(1 for node in ast.walk(ast.parse(source)) if isinstance(node, ast.stmt)
               and not isinstance(node, ast.FunctionDef))


def test_fewer_statements_than_nodes_for_an_mlp() -> None:
    # A 2-8-8-1 network on 10 samples, without the repeats compiled once: each neuron's
    # weighted sum is one statement forward; the backward sums every gradient in one
    # statement; the whole program has under 1/2.5 as many statements as the graph has nodes.
    compiled = autograd_tiny.compile(_mlp_loss(), source=True, repeats=False)
    assert compiled.num_nodes == 10 * (8 * 5 + 8 * 17 + 16 + 3) + 10 + (8 * 3 + 8 * 9 + 9)
    assert compiled.num_blocks == 0
    assert _statements(compiled.source) < compiled.num_nodes / 2.5  # one statement per node before
    tree = ast.parse(compiled.source)
    forward = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "_f0")
    # Per sample: 8 + 8 weighted sums and 8 + 8 ReLUs, and a few statements of the loss.
    assert 10 * 32 < len(forward.body) < 10 * 36


def test_repeated_samples_are_compiled_once() -> None:
    # Each sample's part of the loss is a block of 195 nodes; all have one shape, so one
    # forward and one backward function serve every sample, and the program grows by a
    # call per sample and direction, not by the sample's nodes.
    sizes = {}
    for samples in (10, 40):
        loss = _mlp_loss(samples)
        compiled = autograd_tiny.compile(loss, source=True, repeats=True)
        assert (compiled.num_blocks, compiled.num_shapes) == (samples, 1)
        assert {"_r0f", "_r0b"} <= set(compiled.functions) and "_r1f" not in compiled.functions
        assert compiled.source.count("_r0f(") == samples + 1  # its definition, one call per sample
        plain = autograd_tiny.compile(loss, repeats=False)
        assert same(compiled(), plain()) and same(compiled(), loss.data)  # type: ignore[arg-type]
        sizes[samples] = _statements(compiled.source), compiled.num_nodes
    assert sizes[40][0] - sizes[10][0] <= 4 * 30 < (sizes[40][1] - sizes[10][1]) / 40


def test_constants_are_folded() -> None:
    x = Value(3.0)
    out = x ** 2.0 / 4.0 + (x / 0.0) * 0.0
    compiled = autograd_tiny.compile(out, source=True)
    source = compiled.source
    assert "2.0 == 0" not in source and "2.0 - 1" not in source  # pow's d/dx at y = 2: 2.0 * x ** 1.0
    assert "/ 4.0" in source and "_div(a0, 0.0)" in source  # division by zero keeps the IEEE helper
    assert same(compiled(), out.data) and math.isnan(out.data)  # 2.25 + inf * 0.0
    compiled.backward()
    got = x.grad
    x.grad = 0.0
    out.backward()
    assert same(got, x.grad)


# -- the fused step ---------------------------------------------------------------------------

def _two_nets(seed: int = 3) -> tuple[MLP, MLP]:
    return (MLP(2, [6, 6, 1], ["relu", "tanh", "identity"], seed=seed),
            MLP(2, [6, 6, 1], ["relu", "tanh", "identity"], seed=seed))


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize(("chunk", "repeats"), [(17, False), (2_000, False), (17, True), (2_000, True)])
def test_fused_step_matches_nn_sgd_bit_for_bit_over_steps(momentum: float, chunk: int, repeats: bool) -> None:
    rng = random.Random(5)
    data = [([rng.uniform(-2, 2), rng.uniform(-2, 2)], rng.choice([-1.0, 1.0])) for _ in range(12)]
    eager_net, fused_net = _two_nets()
    opt = SGD(eager_net.parameters(), lr=0.05, momentum=momentum)
    inputs = [[Value(a), Value(b)] for (a, b), _ in data]
    loss = hinge([fused_net(x)[0] for x in inputs], [y for _, y in data])
    compiled = autograd_tiny.compile(loss, chunk_size=chunk, params=fused_net.parameters(), repeats=repeats)
    assert compiled.num_blocks == (12 if repeats else 0)
    del loss
    moved = 0.0
    for step in range(8):
        if step == 4:  # new inputs for both
            for pair in inputs:
                pair[0].data, pair[1].data = rng.uniform(-2, 2), rng.uniform(-2, 2)
        xs = [[a.data, b.data] for a, b in inputs]
        want = hinge([eager_net(x)[0] for x in xs], [y for _, y in data])
        opt.zero_grad()
        want.backward()
        opt.step()
        got = compiled.step(0.05, momentum=momentum)
        assert same(got, want.data), (step, got, want.data)  # type: ignore[arg-type]
        for p, q in zip(eager_net.parameters(), fused_net.parameters()):
            assert same(p.grad, q.grad) and same(p.data, q.data), (step, p, q)
        moved += abs(fused_net.parameters()[0].data - eager_net.parameters()[0].data) + abs(want.data)
    assert moved > 0.5  # real losses and weights were compared


def _torch_sgd_by_hand(params: Sequence[Value], velocity: list[float | None], lr: float, m: float,
                       dampening: float, nesterov: bool, wd: float) -> None:
    """Update ``params`` from their ``.grad`` with floats, as torch.optim.SGD's rule reads."""
    for k, p in enumerate(params):
        d = p.grad + wd * p.data if wd else p.grad
        if m:
            v = velocity[k]
            v = velocity[k] = d if v is None else m * v + (1.0 - dampening) * d
            d = d + m * v if nesterov else v
        p.data -= lr * d


@pytest.mark.parametrize(("momentum", "dampening", "nesterov", "decay"),
                         [(0.0, 0.0, False, 0.01), (0.5, 0.0, False, 0.01), (0.5, 0.3, False, 0.0),
                          (0.9, 0.0, True, 0.0), (0.9, 0.0, True, 0.02)])
def test_fused_step_is_the_sgd_rule_bit_for_bit(momentum: float, dampening: float, nesterov: bool,
                                                decay: float) -> None:
    # Weight decay, dampening and Nesterov momentum, against the rule written out with floats.
    rng = random.Random(8)
    net = MLP(2, [4, 1], ["tanh", "identity"], seed=2)
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(6)]
    ys = [rng.uniform(-1, 1) for _ in range(6)]
    params = net.parameters()
    compiled = autograd_tiny.compile(mse([net(x)[0] for x in xs], ys), params=params)
    twin = MLP(2, [4, 1], ["tanh", "identity"], seed=2)
    velocity: list[float | None] = [None] * len(params)
    for _ in range(5):
        loss = mse([twin(x)[0] for x in xs], ys)
        for p in twin.parameters():
            p.grad = 0.0
        loss.backward()
        _torch_sgd_by_hand(twin.parameters(), velocity, 0.1, momentum, dampening, nesterov, decay)
        got = compiled.step(0.1, momentum=momentum, weight_decay=decay, dampening=dampening,
                            nesterov=nesterov)
        assert same(got, loss.data)  # type: ignore[arg-type]
        assert [p.data for p in params] == [p.data for p in twin.parameters()]
        assert [p.grad for p in params] == [p.grad for p in twin.parameters()]
    assert params[0].data != MLP(2, [4, 1], ["tanh", "identity"], seed=2).parameters()[0].data


@pytest.mark.parametrize(("momentum", "dampening", "nesterov"), [(0.9, 0.0, False), (0.9, 0.0, True),
                                                                  (0.5, 0.25, False)])
def test_fused_step_with_weight_decay_agrees_with_torch_sgd(momentum: float, dampening: float,
                                                            nesterov: bool) -> None:
    torch = pytest.importorskip("torch")
    w, b = Value(0.5), Value(-0.25)
    xs, ys = [1.0, 2.0, -1.0], [0.3, -0.2, 0.9]
    compiled = autograd_tiny.compile(mse([w * x + b for x in xs], ys), params=[w, b])
    tw = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(-0.25, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([tw, tb], lr=0.1, momentum=momentum, dampening=dampening, nesterov=nesterov,
                          weight_decay=0.05)
    for _ in range(6):
        opt.zero_grad()
        loss = sum((tw * x + tb - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
        loss.backward()
        opt.step()
        compiled.step(0.1, momentum=momentum, weight_decay=0.05, dampening=dampening, nesterov=nesterov)
    assert math.isclose(w.data, tw.item(), rel_tol=1e-12) and math.isclose(b.data, tb.item(), rel_tol=1e-12)
    assert abs(w.data - 0.5) > 0.05


def test_fused_step_returns_every_output_and_leaves_other_leaves_accumulating() -> None:
    # loss = (w * x - 1) ** 2 at w = 2, x = 3: loss 25, d/dw = 2 * 5 * 3 = 30, d/dx = 2 * 5 * 2 = 20.
    w, x = Value(2.0), Value(3.0)
    score = w * x
    compiled = autograd_tiny.compile([(score - 1.0) ** 2, score], params=[w])
    assert compiled.step(0.01) == [25.0, 6.0]
    assert w.grad == 30.0 and w.data == 2.0 - 0.01 * 30.0
    assert x.grad == 20.0 and x.data == 3.0  # not a parameter: its gradient adds up, its data stays
    compiled.step(0.01)
    assert w.grad != 30.0 and x.grad > 20.0


def test_fused_step_arguments_are_checked() -> None:
    w = Value(1.0)
    plain = autograd_tiny.compile(w * w)
    with pytest.raises(ValueError, match="params=model.parameters()"):
        plain.step(0.1)
    compiled = autograd_tiny.compile(w * w, params=[w])
    for bad, match in [((0.0,), "learning rate"), ((math.inf,), "learning rate"), ((0.1, 1.0), "momentum"),
                       ((0.1, 0.0, -1.0), "weight decay"), ((0.1, 0.0, math.nan), "weight decay"),
                       ((0.1, 0.5, 0.0, 1.5), "dampening"), ((0.1, 0.0, 0.0, 0.0, True), "Nesterov"),
                       ((0.1, 0.5, 0.0, 0.1, True), "Nesterov")]:
        with pytest.raises(ValueError, match=match):
            compiled.step(*bad)
    with pytest.raises(TypeError, match="nesterov must be True or False"):
        compiled.step(0.1, 0.5, nesterov=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="learning rate"):
        compiled.step("0.1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"params\[1\] is the same Value as params\[0\]"):
        autograd_tiny.compile(w * w, params=[w, w])
    with pytest.raises(TypeError, match=r"params\[1\] must be a Value"):
        autograd_tiny.compile(w * w, params=[w, 2.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="iterable of Values"):
        autograd_tiny.compile(w * w, params=w)  # type: ignore[arg-type]
    assert w.data == 1.0


# -- readable source ----------------------------------------------------------------------------

def test_inspect_getsource_shows_each_generated_function() -> None:
    net = MLP(2, [3, 1], ["relu", "identity"], seed=1)
    xs = [[Value(0.5), Value(-1.0)], [Value(1.5), Value(0.25)]]
    compiled = autograd_tiny.compile(hinge([net(x)[0] for x in xs], [1.0, -1.0]), chunk_size=9,
                                     source=True, params=net.parameters())
    compiled.step(0.1, momentum=0.5)
    functions = compiled.functions
    assert {"_forward", "_backward", "_f0", "_b0", "_step_momentum"} <= set(functions)
    assert compiled.num_functions == len(functions) > 6
    for name, fn in functions.items():
        text = inspect.getsource(fn)
        assert text.startswith(f"def {name}("), name
        assert text in compiled.source, name
        assert inspect.getsourcelines(fn)[1] == compiled.source[:compiled.source.index(text)].count("\n") + 1
    assert "# w[1][1,1]" in compiled.source or "w[1][1,1]" in compiled.source.split("\n\n")[0]


def test_source_and_plain_compile_run_the_same_code() -> None:
    rng = random.Random(2)
    net = MLP(2, [5, 1], ["sigmoid", "identity"], seed=4)
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(4)]
    loss = mse([net(x)[0] for x in xs], [0.5, -0.5, 0.25, 0.0])
    a = autograd_tiny.compile(loss, source=True)
    b = autograd_tiny.compile(loss)
    assert same(a(), b()) and same(a(), loss.data)  # type: ignore[arg-type]
    codes = [[f.__code__.co_code for f in c.functions.values()] for c in (a, b)]
    assert codes[0] == codes[1] and len(codes[0]) == 4 + 2 * a.num_shapes


# -- samples whose gradient is zero are skipped ------------------------------------------------
#
# A repeated block (one sample's part of the loss) whose incoming gradient is ±0.0 would add
# ±0.0 to every sum it reaches, when everything it multiplies by is finite; the compiled code
# then skips it. These graphs make such samples on purpose (ReLU and hinge masks), with
# infinite, nan, huge and -0.0 numbers among the weights, inputs and starting gradients, and
# compare every bit with the eager engine and with nn.SGD.

ODD = st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, 1e300, -1e300, 5e-324])
#: Where to put which odd numbers among the weights and inputs (see _numbers).
ODDS = st.lists(st.tuples(st.integers(0, 10**6), ODD), max_size=3)


def _numbers(seed: int, samples: int,
             odds: Sequence[tuple[int, float]]) -> tuple[list[float], list[tuple[float, float]]]:
    """Return 13 weights and ``samples`` inputs, uniform in [-2, 2] (so that the hinge masks
    many samples), with the odd numbers put in at the given places (modulo their number)."""
    rng = random.Random(seed)
    numbers = [rng.uniform(-2, 2) for _ in range(13 + 2 * samples)]
    for k, x in odds:
        numbers[k % len(numbers)] = x
    return numbers[:13], [(numbers[13 + 2 * j], numbers[14 + 2 * j]) for j in range(samples)]


#: Starting gradients of the leaves; -0.0 is tested apart (see below).
START = st.sampled_from([0.0, 0.0, 0.0, 1.5, -2.0, math.inf])


def masked_net(weights: Sequence[Value], inputs: Sequence[Sequence[Value | float]],
               targets: Sequence[float]) -> Value:
    """Return the hinge loss of a 2-3-1 ReLU network (``weights``: 13 leaves) over the samples."""
    w1, b1, w2, b2 = weights[:6], weights[6:9], weights[9:12], weights[12]
    scores = []
    for x in inputs:
        hidden = [(w1[2 * j] * x[0] + w1[2 * j + 1] * x[1] + b1[j]).relu() for j in range(3)]
        scores.append(w2[0] * hidden[0] + w2[1] * hidden[1] + w2[2] * hidden[2] + b2)
    return hinge(scores, targets)


def _leaf_inputs(xs: Sequence[Sequence[float]], as_values: bool) -> list[list[Value | float]]:
    return [[Value(a), Value(b)] if as_values else [a, b] for a, b in xs]


def _flat(inputs: Sequence[Sequence[Value | float]]) -> list[Value]:
    return [v for x in inputs for v in x if isinstance(v, Value)]


class _Counter:
    """Counts the calls of a program's block backward function (``_r0b``) that return early,
    before its last line: skipped samples. Counts while used as a context manager."""

    def __init__(self, compiled: autograd_tiny.CompiledGraph) -> None:
        self.code = compiled._program.namespace["_r0b"].__code__  # type: ignore[attr-defined]
        self.last = max(line for *_, line in self.code.co_lines() if line is not None)
        self.skipped = 0

    def profile(self, frame: types.FrameType, event: str, arg: object) -> None:
        if event == "return" and frame.f_code is self.code and frame.f_lineno < self.last:
            self.skipped += 1

    def __enter__(self) -> None:
        sys.setprofile(self.profile)

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)


@settings(max_examples=150, deadline=None)
@given(numbers=st.integers(0, 10**9), samples=st.integers(2, 6), odds=ODDS,
       starts=st.lists(START, min_size=25, max_size=25),
       seed=st.sampled_from([1.0, 1.0, 1.0, -0.5, 0.0, -0.0, math.inf, math.nan]),
       as_values=st.booleans())
def test_skipped_samples_give_eager_backward_bits(numbers, samples, odds, starts, seed, as_values) -> None:
    weights, xs = _numbers(numbers, samples, odds)
    targets = [1.0 if k % 2 else -1.0 for k in range(len(xs))]
    eager_w = [Value(x) for x in weights]
    eager_in = _leaf_inputs(xs, as_values)
    want = masked_net(eager_w, eager_in, targets)
    w = [Value(x) for x in weights]
    inputs = _leaf_inputs(xs, as_values)
    with mock.patch.object(compiler, "_MIN_BLOCK", 4):
        compiled = autograd_tiny.compile(masked_net(w, inputs, targets))
    assert compiled.num_blocks == len(xs) and compiled._skips
    counter = _Counter(compiled)
    for a, b, start in zip([*eager_w, *_flat(eager_in)], [*w, *_flat(inputs)], starts):
        a.grad = b.grad = start
    want.backward(seed)
    got = compiled()
    with counter:
        compiled.backward(seed)
    assert same(got, want.data), (got, want.data)  # type: ignore[arg-type]
    for k, (a, b) in enumerate(zip([*eager_w, *_flat(eager_in)], [*w, *_flat(inputs)])):
        assert same(a.grad, b.grad), (k, a.grad, b.grad)
    assert counter.skipped <= len(xs)
    event(f"skipped {'some' if counter.skipped else 'none'}")


def test_masked_samples_are_skipped_and_match_eager() -> None:
    # Finite numbers, ten samples of which the hinge masks some: their blocks are skipped.
    rng = random.Random(3)
    weights = [rng.uniform(-1, 1) for _ in range(13)]
    xs = [(rng.uniform(-2, 2), rng.uniform(-2, 2)) for _ in range(10)]
    targets = [1.0 if k % 2 else -1.0 for k in range(10)]
    eager_w = [Value(x) for x in weights]
    want = masked_net(eager_w, [list(x) for x in xs], targets)
    want.backward()
    w = [Value(x) for x in weights]
    with mock.patch.object(compiler, "_MIN_BLOCK", 4):
        compiled = autograd_tiny.compile(masked_net(w, [list(x) for x in xs], targets), source=True)
    assert "ok = K and _isfinite(sum(S) + " in compiled.source and "== 0.0 and ok: return" in compiled.source
    counter = _Counter(compiled)
    assert same(compiled(), want.data)  # type: ignore[arg-type]
    with counter:
        compiled.backward()
    assert 0 < counter.skipped < 10
    assert all(same(a.grad, b.grad) for a, b in zip(w, eager_w))


@settings(max_examples=60, deadline=None)
@given(numbers=st.integers(0, 10**9), samples=st.integers(2, 6), odds=ODDS,
       starts=st.lists(st.sampled_from([0.0, 0.0, 0.0, -0.0]), min_size=25, max_size=25))
def test_a_leaf_gradient_of_negative_zero_turns_skipping_off(numbers, samples, odds, starts) -> None:
    weights, xs = _numbers(numbers, samples, odds)
    # Adding 0.0 to a sum of -0.0 makes it 0.0: with a leaf's .grad -0.0 before backward()
    # nothing is skipped, and the result is what the code gives without skipping.
    targets = [1.0 if k % 2 else -1.0 for k in range(len(xs))]
    runs = []
    for skip in (True, False):
        w = [Value(x) for x in weights]
        inputs = _leaf_inputs(xs, True)
        with mock.patch.object(compiler, "_MIN_BLOCK", 4):
            compiled = autograd_tiny.compile(masked_net(w, inputs, targets))
        compiled._skips = skip
        counter = _Counter(compiled)
        for v, start in zip([*w, *_flat(inputs)], starts):
            v.grad = start
        with counter:
            compiled.backward()
        if any(compiler._negative_zero(s) for s in starts[:len(w) + 2 * len(xs)]):
            assert counter.skipped == 0
        elif skip:
            event(f"skipped {'some' if counter.skipped else 'none'}")
        runs.append([_bits(v.grad) for v in [*w, *_flat(inputs)]])
    assert runs[0] == runs[1]


def _bits(x: float) -> bytes:
    return b"nan" if math.isnan(x) else struct.pack("<d", x)


@settings(max_examples=60, deadline=None)
@given(numbers=st.integers(0, 10**9), samples=st.integers(2, 6), odds=ODDS,
       input_grads=st.lists(st.sampled_from([0.0, 0.0, 1.0, -3.5]), min_size=12, max_size=12),
       momentum=st.sampled_from([0.0, 0.9]))
def test_fused_step_with_skipped_samples_matches_nn_sgd_bit_for_bit(numbers, samples, odds, input_grads,
                                                                    momentum) -> None:
    weights, xs = _numbers(numbers, samples, odds)
    # The parameters' .grad are set to 0.0 by the step; the inputs are leaves that are not
    # parameters, whose .grad only add up.
    targets = [1.0 if k % 2 else -1.0 for k in range(len(xs))]
    eager_w = [Value(x) for x in weights]
    eager_in = _leaf_inputs(xs, True)
    opt = SGD(eager_w, lr=0.1, momentum=momentum)
    w = [Value(x) for x in weights]
    inputs = _leaf_inputs(xs, True)
    with mock.patch.object(compiler, "_MIN_BLOCK", 4):
        compiled = autograd_tiny.compile(masked_net(w, inputs, targets), params=w)
    counter = _Counter(compiled)
    for a, b, start in zip(_flat(eager_in), _flat(inputs), input_grads):
        a.grad = b.grad = start
    for _ in range(3):
        want = masked_net(eager_w, eager_in, targets)
        opt.zero_grad()
        want.backward()
        opt.step()
        with counter:
            got = compiled.step(0.1, momentum=momentum)
        assert same(got, want.data), (got, want.data)  # type: ignore[arg-type]
        for k, (a, b) in enumerate(zip([*eager_w, *_flat(eager_in)], [*w, *_flat(inputs)])):
            assert same(a.grad, b.grad) and same(a.data, b.data), (k, a, b)
    event(f"skipped {'some' if counter.skipped else 'none'}")


def test_fused_step_skips_masked_samples_of_an_mlp() -> None:
    # The benchmark's shape, small: 2-8-8-1 ReLU on 40 samples, hinge loss. Some samples'
    # hinge terms are 0 and their blocks are skipped; the bits are nn.SGD's.
    rng = random.Random(11)
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(40)]
    ys = [1.0 if a * b > 0 else -1.0 for a, b in xs]
    net = MLP(2, [8, 8, 1], ["relu", "relu", "identity"], seed=2)
    twin = MLP(2, [8, 8, 1], ["relu", "relu", "identity"], seed=2)
    compiled = autograd_tiny.compile(hinge([net(x)[0] for x in xs], ys), params=net.parameters())
    counter = _Counter(compiled)
    opt = SGD(twin.parameters(), lr=0.2)
    for _ in range(5):
        want = hinge([twin(x)[0] for x in xs], ys)
        opt.zero_grad()
        want.backward()
        opt.step()
        with counter:
            assert same(compiled.step(0.2), want.data)  # type: ignore[arg-type]
        assert [p.data for p in net.parameters()] == [p.data for p in twin.parameters()]
        assert [p.grad for p in net.parameters()] == [p.grad for p in twin.parameters()]
    assert counter.skipped > 0


def test_blocks_with_terms_that_can_overflow_are_not_skipped() -> None:
    # tanh's term g * (1 - out * out) is not a product with one value the guard checks, nor
    # is a division: such a block is never left early. (A weight's terms that are all
    # multiples of one gradient, g * x, are still not added while that gradient is ±0.0.)
    assert compiler._term_vanishes(compiler._make_rule(Value(1.0).relu()._kind, None).terms[0][1])  # type: ignore[arg-type]
    for name in ("tanh", "log", "sqrt", "sigmoid"):
        kind = getattr(Value(0.5), name)()._kind
        assert not compiler._term_vanishes(compiler._make_rule(kind, None).terms[0][1]), name
    for name in ("exp", "sin"):  # g * out, g * cos(x): one value; a call is not one
        kind = getattr(Value(0.5), name)()._kind
        assert compiler._term_vanishes(compiler._make_rule(kind, None).terms[0][1]) == (name == "exp")
    net = MLP(2, [4, 1], ["tanh", "identity"], seed=1)
    xs = [[0.1 * k, -0.2 * k] for k in range(6)]
    with mock.patch.object(compiler, "_MIN_BLOCK", 4):
        compiled = autograd_tiny.compile(hinge([net(x)[0] for x in xs], [1.0, -1.0] * 3), source=True)
    assert compiled.num_blocks == 6 and "== 0.0 and" not in compiled.source
    assert "or not ok:" in compiled.source


def test_fused_step_does_not_skip_while_an_input_gradient_is_negative_zero() -> None:
    # step() sets the parameters' .grad to 0.0 but only adds to the other leaves' (the
    # inputs here): one of them at -0.0 turns skipping off for that step.
    rng = random.Random(3)
    weights = [rng.uniform(-1, 1) for _ in range(13)]
    xs = [(rng.uniform(-2, 2), rng.uniform(-2, 2)) for _ in range(10)]
    targets = [1.0 if k % 2 else -1.0 for k in range(10)]
    w = [Value(x) for x in weights]
    inputs = _leaf_inputs(xs, True)
    with mock.patch.object(compiler, "_MIN_BLOCK", 4):
        compiled = autograd_tiny.compile(masked_net(w, inputs, targets), params=w)
    counter = _Counter(compiled)
    with counter:
        compiled.step(0.01)
    assert counter.skipped > 0
    counter.skipped = 0
    _flat(inputs)[5].grad = -0.0
    with counter:
        compiled.step(0.01)
    assert counter.skipped == 0
    w[0].grad = -0.0  # a parameter's .grad is set to 0.0 first: skipping stays on
    _flat(inputs)[5].grad = 0.0
    with counter:
        compiled.step(0.01)
    assert counter.skipped > 0


def test_sgd_rule_is_written_once() -> None:
    # nn.SGD's loop, sgd_direction and the fused step are all written from codegen.sgd_rule:
    # a different rule there (here: twice the gradient, and a velocity that halves) changes
    # all three alike.
    from autograd_tiny import codegen
    from autograd_tiny.nn.optim import sgd_direction

    def doubled(momentum: bool, decay: bool, nesterov: bool) -> tuple[tuple[tuple[str, str], ...], str]:
        if momentum:
            halves = ("velocity", "d if velocity is None else 0.5 * velocity")
            return (("d", "2.0 * grad"), halves), "velocity"
        return (), "2.0 * grad"

    def caches() -> None:
        codegen.sgd_function.cache_clear()
        codegen.sgd_loop.cache_clear()

    caches()
    try:
        with mock.patch.object(codegen, "sgd_rule", doubled):
            assert sgd_direction(3.0, 1.0, None) == (6.0, None)
            assert sgd_direction(3.0, 1.0, None, momentum=0.9) == (6.0, 6.0)
            assert sgd_direction(3.0, 1.0, 6.0, momentum=0.9) == (3.0, 3.0)
            for momentum in (0.0, 0.9):
                w, x = Value(1.0), Value(1.0)
                opt = SGD([x], lr=0.1, momentum=momentum)
                compiled = autograd_tiny.compile(w * 3.0, params=[w])
                for _ in range(2):
                    x.grad = 3.0
                    opt.step()
                    compiled.step(0.1, momentum=momentum)
                    assert w.grad == 3.0 and w.data == x.data, (momentum, w.data, x.data)
                assert math.isclose(x.data, -0.2 if not momentum else 0.1)
    finally:
        caches()
    assert sgd_direction(3.0, 1.0, None) == (3.0, None)


def test_negative_zero_is_found_among_the_gradients() -> None:
    has = compiler._has_negative_zero
    assert not has([]) and not has([0.0, 1.0, math.nan, math.inf]) and has([1.0, -0.0]) and has([-0.0])
    # The bytes of -0.0 across two numbers (1 ulp above 0, then a number ending in 0x80) are not it.
    a, b = struct.unpack("<2d", bytes([1] + [0] * 7 + [0x80] + [0] * 6 + [0x40]))
    assert not has([a, b]) and has([a, b, -0.0])
    assert has([3, -0.0]) and not has([10**400, 0.0])  # ints, and one no float can hold


def test_generated_code_keeps_lines_but_not_columns() -> None:
    # The location table of generated code holds each instruction's line only (the columns
    # of long generated lines took a fifth of the code's bytes): a traceback still points
    # at the generated line that failed.
    import traceback

    x, y = Value(2.0, "x"), Value(3.0, "y")
    compiled = autograd_tiny.compile((x * y).tanh() + x, source=True)
    for fn in compiled.functions.values():
        code = fn.__code__  # type: ignore[attr-defined]
        assert all(p[2] is None for p in code.co_positions())
        assert {line for *_, line in code.co_lines() if line is not None} <= set(
            range(code.co_firstlineno, code.co_firstlineno + len(inspect.getsource(fn).splitlines())))
    y.data = "three"  # type: ignore[assignment]
    with pytest.raises(TypeError) as info:
        compiled()
    last = traceback.extract_tb(info.tb)[-1]
    assert last.filename == compiled.functions["_f0"].__code__.co_filename  # type: ignore[attr-defined]
    assert last.line is not None and "_tanh(" in last.line and "*" in last.line
