"""autograd_tiny.compile: the replayed graph gives the eager engine's numbers, bit for bit."""

from __future__ import annotations

import ast
import math
import random
import struct
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_tiny
from autograd_tiny import Value, codegen, no_grad
from autograd_tiny.nn import MLP, SGD, hinge
from autograd_tiny.ops import OPS

BINARY = sorted(n for n, op in OPS.items() if op.arity == 2)
UNARY = sorted(n for n, op in OPS.items() if op.arity == 1)


def same(a: float, b: float) -> bool:
    """True when ``a`` and ``b`` are the same float: equal bits, or both nan."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return struct.pack("<d", a) == struct.pack("<d", b)


# A recipe is a list of steps (op, i, j, mode, constant); applied to leaves it builds a
# graph. Operands i, j pick earlier nodes (modulo their number), so subexpressions are
# shared; mode 0 uses two nodes, 1 is ``node OP constant``, 2 is ``constant OP node``.
Step = tuple[str, int, int, int, float]


def build(leaves: Sequence[Value], recipe: Sequence[Step], tail: int = 8) -> Value:
    """Return the output of ``recipe`` applied to ``leaves``: the sum of its last ``tail`` nodes."""
    nodes: list[Value] = list(leaves)
    for name, i, j, mode, c in recipe:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        op = getattr(Value, {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "div": "__truediv__",
                             "pow": "__pow__", "neg": "__neg__", "abs": "__abs__"}.get(name, name))
        if OPS[name].arity == 1:
            nodes.append(op(a))
        elif mode == 0:
            nodes.append(op(a, b))
        elif mode == 1:
            nodes.append(op(a, c))
        else:
            reflected = {"add": "__radd__", "sub": "__rsub__", "mul": "__rmul__",
                         "div": "__rtruediv__", "pow": "__rpow__"}[name]
            nodes.append(getattr(Value, reflected)(a, c))
    out = nodes[-1]
    for extra in nodes[-tail:-1]:
        out = out + extra
    return out


def random_recipe(rng: random.Random, steps: int, nice: bool = True) -> list[Step]:
    """Return a random recipe; ``nice`` keeps to ops and constants that rarely give nan."""
    names = ["add", "sub", "mul", "div", "tanh", "sigmoid", "relu", "abs", "neg", "sin", "cos"] if nice \
        else BINARY + UNARY
    return [(rng.choice(names), rng.randrange(10**6), rng.randrange(10**6), rng.randrange(3),
             rng.choice([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 3.0]) if nice else rng.uniform(-3, 3))
            for _ in range(steps)]


def eager(data: Sequence[float], recipe: Sequence[Step], gradient: float = 1.0,
          tail: int = 8) -> tuple[float, list[float]]:
    """Return the eager engine's output and leaf gradients for ``recipe`` at ``data``."""
    leaves = [Value(x) for x in data]
    out = build(leaves, recipe, tail)
    out.backward(gradient)
    return out.data, [leaf.grad for leaf in leaves]


def check_against_eager(leaves: list[Value], compiled: autograd_tiny.CompiledGraph,
                        recipe: Sequence[Step], gradient: float = 1.0, tail: int = 8) -> None:
    want_out, want_grads = eager([leaf.data for leaf in leaves], recipe, gradient, tail)
    for leaf in leaves:
        leaf.grad = 0.0
    got = compiled()
    compiled.backward(gradient)
    assert same(got, want_out), (got, want_out)
    for k, (leaf, want) in enumerate(zip(leaves, want_grads)):
        assert same(leaf.grad, want), (k, leaf.grad, want)


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_match_eager_bit_for_bit_also_after_new_leaf_data(seed: int) -> None:
    rng = random.Random(seed)
    recipe = random_recipe(rng, steps=rng.randrange(1, 60))
    leaves = [Value(rng.uniform(-2, 2)) for _ in range(rng.randrange(1, 6))]
    out = build(leaves, recipe)
    compiled = autograd_tiny.compile(out, chunk_size=rng.choice([1, 3, 7, 10_000]))
    check_against_eager(leaves, compiled, recipe)
    for _ in range(3):  # new data at the same leaves: ReLU and abs take other branches
        for leaf in leaves:
            leaf.data = rng.uniform(-2, 2)
        check_against_eager(leaves, compiled, recipe, gradient=rng.choice([1.0, -0.5, 3.0]))


@settings(max_examples=60, deadline=None)
@given(
    recipe=st.lists(st.tuples(st.sampled_from(BINARY + UNARY), st.integers(0, 10**6), st.integers(0, 10**6),
                              st.integers(0, 2), st.floats(allow_nan=True, allow_infinity=True)),
                    min_size=1, max_size=25),
    data=st.lists(st.one_of(st.floats(-1e6, 1e6), st.sampled_from([math.inf, -math.inf, -0.0])),
                  min_size=1, max_size=4),
    new=st.lists(st.floats(-3, 3), min_size=4, max_size=4),
    chunk=st.sampled_from([1, 2, 5, 10_000]),
)
def test_any_graph_with_special_values_matches_eager(recipe, data, new, chunk) -> None:
    # Every op and any constant (nan, infinities, -0.0, huge): the compiled code runs the
    # table's expressions through the same helpers, so even nan and inf come out alike.
    leaves = [Value(x) for x in data]
    compiled = autograd_tiny.compile(build(leaves, recipe), chunk_size=chunk)
    check_against_eager(leaves, compiled, recipe)
    for leaf, x in zip(leaves, new):
        leaf.data = x
    check_against_eager(leaves, compiled, recipe)


def test_relu_branch_is_taken_at_run_time_hand_figures() -> None:
    # f = a*b + relu(a). At a=2, b=3: f = 6 + 2 = 8, df/da = b + 1 = 4, df/db = a = 2.
    a, b = Value(2.0), Value(3.0)
    compiled = autograd_tiny.compile(a * b + a.relu())
    assert compiled() == 8.0
    compiled.backward()
    assert (a.grad, b.grad) == (4.0, 2.0)
    # At a=-1 relu is off: f = -3 + 0 = -3, df/da = b + 0 = 3, df/db = a = -1.
    a.data, a.grad, b.grad = -1.0, 0.0, 0.0
    assert compiled() == -3.0
    compiled.backward()
    assert (a.grad, b.grad) == (3.0, -1.0)


def test_backward_accumulates_into_leaves_like_eager() -> None:
    # f = x**2 at x=3: df/dx = 6 per call; two calls without zeroing give 12, as eager does.
    x = Value(3.0)
    compiled = autograd_tiny.compile(x ** 2)
    compiled()
    compiled.backward()
    compiled.backward()
    assert x.grad == 12.0
    y = Value(3.0)
    f = y ** 2
    f.backward()
    f.backward()
    assert y.grad == x.grad


def test_backward_uses_the_values_of_the_last_call() -> None:
    # f = x * x: the gradient 2x is taken at the x of the last compiled() call.
    x = Value(3.0)
    compiled = autograd_tiny.compile(x * x)
    assert compiled() == 9.0
    x.data = 5.0
    compiled.backward()
    assert x.grad == 6.0
    x.grad = 0.0
    assert compiled() == 25.0
    compiled.backward()
    assert x.grad == 10.0


def test_backward_before_any_call_runs_the_forward_pass() -> None:
    x = Value(3.0)
    compiled = autograd_tiny.compile(x * x)
    x.data = 4.0
    compiled.backward()
    assert x.grad == 8.0  # 2x at x = 4


def test_interior_nodes_are_left_alone() -> None:
    x = Value(2.0)
    h = x * 3.0  # h = 6
    out = h.tanh()
    compiled = autograd_tiny.compile(out)
    x.data = -1.0
    assert compiled() == math.tanh(-3.0)
    compiled.backward()
    assert h.data == 6.0 and h.grad == 0.0
    assert out.data == math.tanh(6.0) and out.grad == 0.0
    assert x.grad == 3.0 * (1 - math.tanh(-3.0) ** 2)


def test_output_that_is_a_leaf() -> None:
    x = Value(3.0)
    compiled = autograd_tiny.compile(x)
    x.data = 4  # an int put straight into .data still comes back as a float
    assert compiled() == 4.0 and type(compiled()) is float
    compiled.backward(2.5)
    assert x.grad == 2.5


def test_constants_and_no_grad_results_are_baked_in_or_read_as_leaves() -> None:
    x = Value(2.0)
    with no_grad():
        k = x * 10.0  # a leaf: its own .data is read at every call
    out = x * 3.0 + k
    compiled = autograd_tiny.compile(out)
    assert set(compiled.leaves) == {x, k}
    k.data = 1.0
    assert compiled() == 2.0 * 3.0 + 1.0
    assert "3.0" in compiled.source


def test_special_constants_become_the_same_floats() -> None:
    x = Value(2.0)
    out = (x * math.inf) + (x * -0.0) + (x - math.nan) * 0.0 + (x + -math.inf)
    compiled = autograd_tiny.compile(out)
    got = compiled()
    assert same(got, out.data)
    y = Value(-0.0)
    z = y * 1.0  # -0.0 * 1.0 = -0.0: the sign survives the literal
    assert same(autograd_tiny.compile(z)(), -0.0)


def test_mlp_training_matches_eager_with_sgd_new_inputs_and_relu_flips() -> None:
    # Two identical 2-8-8-1 ReLU networks; one is trained eagerly (a new graph every
    # step), the other through one compiled graph whose leaves get the new weights
    # from SGD and new inputs. Every loss, gradient and weight must be identical.
    rng = random.Random(7)
    n = 12

    def batch() -> tuple[list[list[float]], list[float]]:
        xs = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(n)]
        return xs, [1.0 if a * b > 0 else -1.0 for a, b in xs]

    eager_net = MLP(2, [8, 8, 1], ["relu", "relu", "identity"], seed=3)
    replay_net = MLP(2, [8, 8, 1], ["relu", "relu", "identity"], seed=3)
    eager_opt = SGD(eager_net.parameters(), lr=0.1)
    replay_opt = SGD(replay_net.parameters(), lr=0.1)
    xs, ys = batch()
    inputs = [[Value(a), Value(b)] for a, b in xs]
    targets = [Value(y) for y in ys]

    def graph(net: MLP, ins: Sequence[Sequence[Value]], tgts: Sequence[Value]) -> Value:
        scores = [net(x)[0] for x in ins]
        return sum(((1 - t * s).relu() for s, t in zip(scores, tgts)), Value(0.0)) / n

    compiled = autograd_tiny.compile(graph(replay_net, inputs, targets))

    def relu_pattern(out: Value) -> list[bool]:
        return [v.parents[0].data > 0 for v in autograd_tiny.topological_order(out) if v.op is OPS["relu"]]

    first_pattern = None
    flips = 0
    for step in range(12):
        if step % 3 == 2:  # new data for both
            xs, ys = batch()
            for pair, (a, b) in zip(inputs, xs):
                pair[0].data, pair[1].data = a, b
            for t, y in zip(targets, ys):
                t.data = y
        want = graph(eager_net, [[Value(a), Value(b)] for a, b in xs], [Value(y) for y in ys])
        pattern = relu_pattern(want)
        first_pattern = first_pattern or pattern
        flips += sum(p != q for p, q in zip(pattern, first_pattern))
        eager_opt.zero_grad()
        want.backward()
        replay_opt.zero_grad()
        got = compiled()
        compiled.backward()
        assert same(got, want.data), (step, got, want.data)
        for p, q in zip(eager_net.parameters(), replay_net.parameters()):
            assert same(p.grad, q.grad), (step, p.grad, q.grad)
        eager_opt.step()
        replay_opt.step()
        for p, q in zip(eager_net.parameters(), replay_net.parameters()):
            assert same(p.data, q.data)
    assert flips > 20  # the compiled code really went down other ReLU branches


def test_mlp_gradients_after_new_data_match_torch_float64() -> None:
    torch = pytest.importorskip("torch")
    rng = random.Random(11)
    net = MLP(2, [4, 4, 1], ["relu", "relu", "identity"], seed=5)
    inputs = [[Value(rng.uniform(-1, 1)), Value(rng.uniform(-1, 1))] for _ in range(6)]
    targets = [1.0, -1.0, 1.0, -1.0, -1.0, 1.0]
    compiled = autograd_tiny.compile(hinge([net(x)[0] for x in inputs], targets))
    for pair in inputs:  # new data, and moved weights
        pair[0].data, pair[1].data = rng.uniform(-2, 2), rng.uniform(-2, 2)
    for p in net.parameters():
        p.data += rng.uniform(-0.3, 0.3)
    loss = compiled()
    compiled.backward()

    params = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in net.parameters()]
    it = iter(params)
    layers = [[([next(it) for _ in n.w], next(it)) for n in layer.neurons] for layer in net.layers]
    total = torch.tensor(0.0, dtype=torch.float64)
    for pair, t in zip(inputs, targets):
        h = [torch.tensor(v.data, dtype=torch.float64) for v in pair]
        for k, layer in enumerate(layers):
            outs = []
            for w, b in layer:
                z = sum((wi * hi for wi, hi in zip(w, h)), torch.tensor(0.0, dtype=torch.float64)) + b
                outs.append(torch.relu(z) if k < len(layers) - 1 else z)
            h = outs
        total = total + torch.relu(1 - t * h[0])
    total = total / len(targets)
    total.backward()
    assert math.isclose(loss, total.item(), rel_tol=1e-12, abs_tol=1e-15)
    for p, tp in zip(net.parameters(), params):
        assert math.isclose(p.grad, tp.grad.item(), rel_tol=1e-12, abs_tol=1e-15)


def test_chain_rule_lines_come_from_the_table() -> None:
    # The compiled lines of every unary op are codegen's rendering of the table's
    # forward and derivative expressions; no formula is written in the compiler.
    for name in UNARY:
        x = Value(0.7)
        method = {"neg": "__neg__", "abs": "__abs__"}.get(name, name)
        compiled = autograd_tiny.compile(getattr(Value, method)(x))
        op = OPS[name]
        tree = ast.parse(compiled.source)
        assigned = {(f.name, ast.unparse(s.targets[0])): s.value
                    for f in tree.body if isinstance(f, ast.FunctionDef)
                    for s in f.body if isinstance(s, ast.Assign)}
        forward = ast.parse(codegen.substitute(op.forward, {"x": "v0"}), mode="eval").body
        assert ast.dump(assigned["_f0", "v1"]) == ast.dump(forward), name
        # The leaf's accumulator starts from its .grad: g0 = L[0].grad + g1 * (derivative)
        line = ast.parse(codegen.accumulate("g0", "g1", op.derivatives[0], {"x": "v0", "out": "v1"})).body[0]
        assert isinstance(line, ast.AugAssign)
        start = assigned["_b0", "g0"]
        assert isinstance(start, ast.BinOp) and ast.unparse(start.left) == "L[0].grad", name
        assert type(start.op) is type(line.op) and ast.dump(start.right) == ast.dump(line.value), name


def test_labels_cannot_inject_code() -> None:
    x = Value(1.0, label="x\nraise SystemExit('label ran')")
    h = x * 2.0
    h.label = "h\r\nimport os"
    compiled = autograd_tiny.compile(h + 1.0)
    assert compiled() == 3.0
    assert "\nraise SystemExit" not in compiled.source and "\nimport os" not in compiled.source
    assert "'h\\r\\nimport os'" in compiled.source


def test_big_graph_is_split_into_functions() -> None:
    rng = random.Random(3)
    recipe = random_recipe(rng, steps=400)
    leaves = [Value(rng.uniform(-1, 1)) for _ in range(5)]
    compiled = autograd_tiny.compile(build(leaves, recipe, tail=10**9), chunk_size=50)
    assert compiled.num_nodes > 800
    assert compiled.num_functions >= 2 * 800 // 50
    assert compiled.source.count("\ndef _f") >= 8 and compiled.source.count("\ndef _b") >= 8
    check_against_eager(leaves, compiled, recipe, tail=10**9)
    for leaf in leaves:
        leaf.data = rng.uniform(-1, 1)
    check_against_eager(leaves, compiled, recipe, tail=10**9)
    assert compiled.compile_seconds >= 0.0 and compiled.codegen_seconds >= 0.0


@pytest.mark.parametrize("bad", [3.0, None, "loss", [Value(1.0)]])
def test_compile_needs_a_value(bad: object) -> None:
    with pytest.raises(TypeError, match="needs a Value"):
        autograd_tiny.compile(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("chunk", [0, -1, 2.5, True])
def test_chunk_size_must_be_a_positive_int(chunk: object) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        autograd_tiny.compile(Value(1.0) * 2, chunk_size=chunk)  # type: ignore[arg-type]


def test_backward_gradient_must_be_a_number() -> None:
    compiled = autograd_tiny.compile(Value(1.0) * 2)
    with pytest.raises(TypeError, match="backward gradient"):
        compiled.backward("1")  # type: ignore[arg-type]


def test_repr_names_the_size() -> None:
    x = Value(1.0)
    assert repr(autograd_tiny.compile(x * x + 1)) == "CompiledGraph(nodes=3, leaves=1, functions=4)"



def test_star_import_keeps_the_builtin_compile() -> None:
    namespace: dict[str, object] = {}
    exec("from autograd_tiny import *", namespace)
    assert "compile" not in namespace and namespace["CompiledGraph"] is autograd_tiny.CompiledGraph
    assert autograd_tiny.compile is autograd_tiny.compiler.compile
