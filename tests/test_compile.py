"""autograd_tiny.compile: the replayed graph gives the eager engine's numbers, bit for bit."""

from __future__ import annotations

import ast
import math
import random
import struct
import weakref
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
    compiled = autograd_tiny.compile(out, source=True)
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
    # Names are local to each function: the leaf's value is a0 in both functions, the
    # output's value a1 in _f0; the output's gradient is the seed, written into the one
    # chain-rule term the leaf receives.
    for name in UNARY:
        x = Value(0.7)
        method = {"neg": "__neg__", "abs": "__abs__"}.get(name, name)
        compiled = autograd_tiny.compile(getattr(Value, method)(x), source=True)
        op = OPS[name]
        tree = ast.parse(compiled.source)
        assigned = {(f.name, ast.unparse(s.targets[0])): s.value
                    for f in tree.body if isinstance(f, ast.FunctionDef)
                    for s in f.body if isinstance(s, ast.Assign)}
        forward = ast.parse(codegen.substitute(op.forward, {"x": "a0"}), mode="eval").body
        assert ast.dump(assigned["_f0", "a1"]) == ast.dump(forward), name
        # The leaf's gradient is its .grad plus the term: L[0].grad = L[0].grad + seed * (derivative)
        start = assigned["_b0", "L[0].grad"]
        assert isinstance(start, ast.BinOp) and ast.unparse(start.left) == "L[0].grad", name
        # The backward function names the values it reads in order of first use: out first.
        names = sorted(codegen.names_used(op.derivatives[0]), key=["out", "x"].index)
        local = {n: f"a{k}" for k, n in enumerate(names)}
        derivative = ast.parse(codegen.accumulate("t", "seed", op.derivatives[0], local)).body[0]
        assert isinstance(derivative, ast.AugAssign)
        assert type(start.op) is type(derivative.op), name
        assert ast.dump(start.right) == ast.dump(derivative.value), name


HOSTILE = ["x\nraise SystemExit('label ran')", "h\r\nimport os", "*/ alert(1) /*", "\x00\u2028\u2029\x85z",
           '""" + __import__("os").system("true") + """', "{g}{x} a0 = 1", "\\\n# tail"]


def _labelled_graph(labels: Sequence[str]) -> tuple[list[Value], Value]:
    x, w = Value(1.5, label=labels[0]), Value(-0.5, label=labels[1])
    z = x * w + 2.0
    z.label = labels[5]
    h = z.relu()
    h.label = labels[2]
    s = h * x
    s.label = labels[3]
    half = s * 0.5
    half.label = labels[6]
    out = (s + w).tanh() + half
    out.label = labels[4]
    return [x, w], out


def test_labels_reach_the_generated_code_only_as_comments() -> None:
    # The same graph with hostile labels and with none compiles to the same code: equal
    # syntax trees (comments are not part of them), and every label is shown only inside
    # a comment, on its line, with line breaks and the like escaped.
    import io
    import tokenize

    leaves, out = _labelled_graph(HOSTILE)
    plain_leaves, plain = _labelled_graph([""] * len(HOSTILE))
    labelled = autograd_tiny.compile(out, source=True)
    unlabelled = autograd_tiny.compile(plain, source=True)
    assert ast.dump(ast.parse(labelled.source)) == ast.dump(ast.parse(unlabelled.source))
    assert labelled.source.count("\n") == unlabelled.source.count("\n") + 2  # two leaf lines in the header
    comments = [t.string for t in tokenize.generate_tokens(io.StringIO(labelled.source).readline)
                if t.type == tokenize.COMMENT]
    code = "\n".join(line.split("#")[0] for line in labelled.source.splitlines())
    for word in ("SystemExit", "import os", "alert", "__import__", "tail"):
        assert word not in code, word
        assert any(word in c for c in comments), word
    assert "\\nraise SystemExit" in labelled.source  # the line break written as its escape
    assert "*/" not in labelled.source and "*\\/ alert(1) /*" in labelled.source
    assert "\x00" not in labelled.source and "\u2028" not in labelled.source
    assert same(labelled(), out.data) and same(unlabelled(), plain.data) and same(out.data, plain.data)
    labelled.backward()
    unlabelled.backward()
    assert [v.grad for v in leaves] == [v.grad for v in plain_leaves]
    assert leaves[0].grad != 0.0


def test_big_graph_is_split_into_functions() -> None:
    rng = random.Random(3)
    recipe = random_recipe(rng, steps=400)
    leaves = [Value(rng.uniform(-1, 1)) for _ in range(5)]
    compiled = autograd_tiny.compile(build(leaves, recipe, tail=10**9), chunk_size=50, source=True)
    assert compiled.num_nodes > 800
    assert compiled.num_functions >= 2 * 800 // 50
    assert compiled.source.count("\ndef _f") >= 8 and compiled.source.count("\ndef _b") >= 8
    check_against_eager(leaves, compiled, recipe, tail=10**9)
    for leaf in leaves:
        leaf.data = rng.uniform(-1, 1)
    check_against_eager(leaves, compiled, recipe, tail=10**9)
    assert compiled.compile_seconds >= 0.0 and compiled.codegen_seconds >= 0.0


@pytest.mark.parametrize("bad", [3.0, None, "loss", [], [Value(1.0), 2.0], {Value(1.0)}])
def test_compile_needs_a_value_or_a_list_of_values(bad: object) -> None:
    with pytest.raises(TypeError, match="needs a Value or a non-empty list of Values"):
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


# -- several outputs, reading values, what the compiled object keeps ---------------------------

def test_several_outputs_are_replayed_and_backward_differentiates_the_first() -> None:
    # loss = mean hinge of two scores s_k = w * x_k + b; the scores are outputs too.
    # At w = 0.5, b = 0.1, x = (2, -1), y = (1, -1): s = (1.1, -0.4), hinge terms
    # relu(1 - 1.1) = 0 and relu(1 - 0.4) = 0.6, loss = 0.3 (by hand).
    w, b = Value(0.5), Value(0.1)
    xs = [Value(2.0), Value(-1.0)]
    scores = [w * x + b for x in xs]
    loss = hinge(scores, [1.0, -1.0])
    compiled = autograd_tiny.compile([loss, *scores])
    assert repr(compiled).startswith("CompiledGraph(outputs=3, ")
    got = compiled()
    assert isinstance(got, list) and len(got) == 3
    assert all(same(g, v.data) for g, v in zip(got, [loss, *scores]))
    # A new weight: the scores the replay returns follow it; the Values keep the eager ones.
    w.data = -1.0
    got = compiled()
    eager_scores = [w.data * x.data + b.data for x in xs]  # -1.9 and 1.1
    assert got[1:] == eager_scores
    assert scores[0].data == 2.0 * 0.5 + 0.1
    # d loss / d w at w = -1: both terms active, (1/2) * (-(1) * 2 + -(-1) * (-1)) = -1.5.
    compiled.backward()
    want_loss = hinge([w * x + b for x in xs], [1.0, -1.0])
    w_grad, b_grad = w.grad, b.grad
    w.grad = b.grad = 0.0
    want_loss.backward()
    assert same(got[0], want_loss.data) and (w_grad, b_grad) == (w.grad, b.grad)
    assert w_grad == -1.5


def test_outputs_outside_the_first_outputs_graph_and_repeated_outputs() -> None:
    # The metric m = u * 3 does not depend on the loss's leaves; backward leaves u alone.
    x, u = Value(2.0), Value(5.0)
    loss = x * x
    metric = u * 3.0
    compiled = autograd_tiny.compile([loss, metric, loss, x])
    assert compiled() == [4.0, 15.0, 4.0, 2.0]
    u.data = 1.0
    compiled.backward()
    assert compiled() == [4.0, 3.0, 4.0, 2.0]
    assert (x.grad, u.grad) == (4.0, 0.0)  # d(x*x)/dx = 2x = 4


def test_interior_values_are_written_back_only_when_asked() -> None:
    x = Value(1.0)
    h = x * 3.0
    out = h.tanh()
    quiet = autograd_tiny.compile([out, h])
    loud = autograd_tiny.compile([out, h], write_back=True)
    x.data = 2.0
    quiet()
    assert (h.data, out.data) == (3.0, math.tanh(3.0))  # the eager pass's numbers
    assert loud() == [math.tanh(6.0), 6.0]
    assert (h.data, out.data) == (6.0, math.tanh(6.0))  # the replay's numbers
    assert h.grad == 0.0 and out.grad == 0.0


def test_metric_from_replayed_scores_follows_training() -> None:
    # The reported defect: accuracy computed from scores[i].data stayed at its step-0
    # value while the loss fell. With the scores compiled as outputs it follows the loss.
    rng = random.Random(2)
    net = MLP(2, [8, 1], ["tanh", "identity"], seed=1)
    xs = [[Value(rng.uniform(-1, 1)), Value(rng.uniform(-1, 1))] for _ in range(20)]
    ys = [1.0 if a.data * b.data > 0 else -1.0 for a, b in xs]
    scores = [net(x)[0] for x in xs]
    step = autograd_tiny.compile([hinge(scores, ys), *scores], write_back=True)
    opt = SGD(net.parameters(), lr=0.2)
    seen = []
    for _ in range(30):
        loss, *replayed = step()
        assert replayed == [s.data for s in scores]
        seen.append([s.data for s in scores])
        opt.zero_grad()
        step.backward()
        opt.step()
    eager = [net([a.data, b.data])[0].data for a, b in xs]  # a fresh eager pass after the last step
    assert step()[1:] == eager
    assert seen[0] != seen[-1]


def test_source_is_kept_only_on_request() -> None:
    x = Value(2.0)
    compiled = autograd_tiny.compile(x * x + 1.0)
    assert not hasattr(compiled, "source")
    with pytest.raises(AttributeError, match="source=True"):
        compiled.source  # noqa: B018
    kept = autograd_tiny.compile(x * x + 1.0, source=True)
    assert "def _forward(L):" in kept.source and "def _backward(L, F, seed, K):" in kept.source
    assert kept() == compiled() == 5.0


def test_the_compiled_object_does_not_keep_the_graph_alive() -> None:
    # Value has no __weakref__ slot, and labels are stored as plain str copies, so the
    # interior nodes are looked for among the objects the collector tracks (every Value
    # is tracked: its slots hold references).
    import gc

    class Leaf(Value):
        __slots__ = ("__weakref__",)

    def made_from(parent: Value) -> list[Value]:
        gc.collect()
        return [o for o in gc.get_objects() if type(o) is Value and o._a is parent]

    x = Leaf(0.5)
    h = x * 2.0
    out = h.tanh() + 1.0
    compiled = autograd_tiny.compile(out)
    assert made_from(x) == [h]
    del h, out
    assert made_from(x) == []  # the interior node h is gone while the compiled object lives
    assert compiled() == math.tanh(1.0) + 1.0  # the replay needs only the leaf
    compiled.backward()
    assert same(x.grad, 2.0 * (1 - math.tanh(1.0) ** 2))
    leaf = weakref.ref(x)
    del x
    gc.collect()
    assert leaf() is not None  # the leaves are kept: the replay reads them

    z = Leaf(1.0)
    y = z * 3.0
    writer = autograd_tiny.compile(y + 1.0, write_back=True)
    writer()
    del y
    assert len(made_from(z)) == 1  # write_back holds the outputs, and what they depend on
    del writer
    assert made_from(z) == []


@pytest.mark.parametrize("seed", range(6))
def test_random_graphs_with_interior_outputs_match_eager_bit_for_bit(seed: int) -> None:
    # Any interior nodes as extra outputs, across chunk boundaries: each replayed value
    # is the eager node's data, and the loss's gradients are unchanged by the extras.
    rng = random.Random(100 + seed)
    recipe = random_recipe(rng, steps=rng.randrange(5, 80))
    leaves = [Value(rng.uniform(-2, 2)) for _ in range(rng.randrange(1, 6))]
    out = build(leaves, recipe)
    order = autograd_tiny.topological_order(out)
    extras = rng.sample(order, min(5, len(order))) + [Value(1.0) * leaves[0]]
    compiled = autograd_tiny.compile([out, *extras], chunk_size=rng.choice([1, 4, 9]))
    got = compiled()
    assert isinstance(got, list)
    assert all(same(g, v.data) for g, v in zip(got, [out, *extras]))
    check_against_eager(leaves, compiled_first(compiled), recipe)


def compiled_first(compiled: autograd_tiny.CompiledGraph) -> autograd_tiny.CompiledGraph:
    """Return a view of ``compiled`` whose call gives the first output only (for check_against_eager)."""
    class First:
        def __call__(self) -> float:
            values = compiled()
            assert isinstance(values, list)
            return values[0]

        def backward(self, gradient: float = 1.0) -> None:
            compiled.backward(gradient)

    return First()  # type: ignore[return-value]
