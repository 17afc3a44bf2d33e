"""Compiled replay: turn a graph of Values into straight-line Python, once.

Building a graph with Values costs an object per operation, every step. When the
shape of the computation stays the same (one training step of a network, say)
:func:`compile` walks the graph once and writes a Python function per direction:

* the forward pass, one assignment per node: ``v12 = v3 * v7``;
* the backward pass, one line per chain-rule product: ``g3 += g12 * (v7)``.

Each line comes from the operation table (:mod:`autograd_tiny.ops`) through
:func:`autograd_tiny.codegen.substitute` and :func:`autograd_tiny.codegen.accumulate`,
exactly as the eager engine's methods and backward rules do, so both run the
same float operations in the same order and give the same bits (one exception:
a leaf whose ``.grad`` was -0.0 before ``backward()`` may end with 0.0 instead).
Branches of the table, such as ReLU's ``x if x > 0 else 0.0``, stay branches:
the compiled code is right for any input, not only for the one it was traced with.
Numbers in the graph (the 2.0 of ``w * 2.0``) are constants of the code; to feed
new inputs, make them Values (leaves) and set their ``.data``.

What the compiled object does with the graph:

* ``compiled()`` reads every leaf's current ``.data``, runs the forward pass and
  returns the output as a float;
* ``compiled.backward()`` adds d output / d leaf to every leaf's ``.grad``, like
  ``output.backward()`` (call ``zero_grad()`` between steps, as usual). It uses
  the values of the latest ``compiled()`` call (PyTorch also differentiates at
  the values of the forward pass); before the first call it runs one itself;
* interior nodes are left alone: their ``.data`` and ``.grad`` keep what the
  eager pass gave them. The compiled code keeps its numbers in local variables.

Big graphs are split into functions of ``chunk_size`` nodes each: a forward
function returns the values that later code reads as a tuple, and a gradient
still being summed waits in a list for the next backward function that adds to
it. ``compiled.source`` is the whole program.
"""

from __future__ import annotations

import ast
import builtins
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from . import codegen
from .value import Kind, Value, _as_float, topological_order

#: What a forward pass keeps for the backward pass: the leaves' values, then one tuple per function.
Saved = list[tuple[float, ...]]

_PLACEHOLDERS = {"x": "__x__", "y": "__y__", "out": "__out__"}
_FIELD = re.compile(r"\b__(x|y|out|t|g|start)__\b")


def _format_string(code: str) -> str:
    """Return ``code`` with the placeholders ``__x__`` ... turned into ``{x}`` ... fields."""
    return _FIELD.sub(r"{\1}", code.replace("{", "{{").replace("}", "}}"))


@dataclass(frozen=True)
class _Rule:
    """The code of one kind of node: its forward line and one chain-rule line per parent.

    Every field is a format string. ``forward`` has fields ``x`` and ``y`` (the
    operands). ``accumulate[k]`` adds the contribution to parent ``k``'s
    accumulator ``t`` from the node's accumulator ``g`` (fields ``x``, ``y``,
    ``out`` too). For a first contribution ``first[k]`` sets ``t`` to it
    (``t = g * (...)``) and ``first_to[k]`` adds it to the starting value
    ``start`` (``t = start + g * (...)``).
    """

    forward: str
    accumulate: tuple[str, ...]
    first: tuple[str, ...]
    first_to: tuple[str, ...]
    reads: tuple[frozenset[str], ...]  # per parent: which of x, y, out its line reads
    passes: tuple[bool, ...]  # per parent: the local derivative is 1 (the gradient passes through)


def _first(line: str, start: bool) -> str:
    """Turn ``t += e`` (or ``-=``) into ``t = __start__ + e`` with ``start``, else ``t = e`` (or ``-e``)."""
    statement = ast.parse(line).body[0]
    assert isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name)
    value: ast.expr
    if start:
        value = ast.BinOp(ast.Name("__start__", ast.Load()), statement.op, statement.value)
    elif isinstance(statement.op, ast.Sub):
        value = ast.UnaryOp(ast.USub(), statement.value)
    else:
        assert isinstance(statement.op, ast.Add)
        value = statement.value
    assign = ast.Assign([ast.Name(statement.target.id, ast.Store())], value)
    return ast.unparse(ast.fix_missing_locations(assign))


@cache
def _rule(kind: Kind) -> _Rule:
    op = kind.op
    forward = _format_string(codegen.substitute(op.forward, _PLACEHOLDERS))
    accumulate, first, first_to, reads, passes = [], [], [], [], []
    for i in kind.variable_positions():
        derivative = op.derivatives[i]
        line = codegen.accumulate("__t__", "__g__", derivative, _PLACEHOLDERS)
        accumulate.append(_format_string(line))
        first.append(_format_string(_first(line, start=False)))
        first_to.append(_format_string(_first(line, start=True)))
        constant = codegen.constant_value(derivative)
        reads.append(codegen.names_used(derivative) if constant is None else frozenset())
        passes.append(constant == 1.0)
    return _Rule(forward, tuple(accumulate), tuple(first), tuple(first_to), tuple(reads), tuple(passes))


def _literal(c: float) -> str:
    """Return Python source for the float ``c`` that evaluates to the same bits."""
    if c != c:
        return "_NAN"
    if math.isinf(c):
        return "_INF" if c > 0 else "(-_INF)"
    text = repr(c)
    return f"({text})" if text.startswith("-") else text


def _comment(v: Value) -> str:
    # repr() escapes newlines and every other unprintable character, so a label
    # can never end the comment and become code.
    return f"  # {v.label!r}" if v.label else ""


class _Imports:
    """Where each value lives between functions: tuple ``F[k]``, position ``j``."""

    def __init__(self) -> None:
        self.home: dict[int, tuple[int, int]] = {}
        self.sizes: list[int] = []

    def add_tuple(self, names: list[int]) -> None:
        k = len(self.sizes)
        self.sizes.append(len(names))
        for j, i in enumerate(names):
            self.home.setdefault(i, (k, j))

    def lines(self, wanted: Iterable[int]) -> list[str]:
        """Return statements that load ``v{i}`` for every wanted ``i`` from ``F``.

        A tuple most of whose entries are wanted is unpacked in one statement,
        otherwise the entries are indexed one by one.
        """
        by_tuple: dict[int, dict[int, int]] = {}
        for i in wanted:
            k, j = self.home[i]
            by_tuple.setdefault(k, {})[j] = i
        out = []
        for k in sorted(by_tuple):
            positions = by_tuple[k]
            if 3 * len(positions) >= self.sizes[k]:
                targets = [f"v{positions[j]}" if j in positions else "_" for j in range(self.sizes[k])]
                out.append(f"{', '.join(targets)}, = F[{k}]")
            else:
                out.append(f"t = F[{k}]")
                out.extend(f"v{i} = t[{j}]" for j, i in sorted(positions.items()))
        return out


def _function(name: str, args: str, body: list[str], result: str) -> str:
    lines = [f"def {name}({args}):"]
    lines.extend("    " + line for line in body)
    lines.append(f"    return {result}")
    return "\n".join(lines)


def _tuple(names: list[str]) -> str:
    if not names:
        return "()"
    return f"({', '.join(names)},)"


class CompiledGraph:
    """A graph of Values turned into Python code; made by :func:`compile`.

    Attributes:
        output: the Value that was compiled.
        leaves: the graph's leaves, in topological order; ``compiled()`` reads their
            ``.data`` and ``backward()`` adds to their ``.grad``.
        source: the generated program (forward functions ``_f*``, backward
            functions ``_b*`` and the two drivers ``_forward`` and ``_backward``).
        num_nodes: how many Values the graph has, leaves included.
        num_functions: how many functions the code was split into.
        codegen_seconds, compile_seconds: time spent writing the source and in
            Python's ``compile()``.
    """

    def __init__(self, output: Value, chunk_size: int) -> None:
        start = time.perf_counter()
        nodes = topological_order(output)
        self.output = output
        self.leaves: tuple[Value, ...] = tuple(v for v in nodes if v._kind is None)
        self.num_nodes = len(nodes)
        self.source, self.num_functions = _generate(nodes, self.leaves, chunk_size)
        made = time.perf_counter()
        namespace = codegen.float_namespace()
        namespace.update(_INF=math.inf, _NAN=math.nan)
        code = builtins.compile(self.source, "<autograd_tiny compiled>", "exec")
        exec(code, namespace)  # noqa: S102 - code written by _generate from the table
        self.codegen_seconds = made - start
        self.compile_seconds = time.perf_counter() - made
        self._forward: Callable[[tuple[Value, ...]], tuple[float, Saved]]
        self._backward: Callable[[tuple[Value, ...], Saved, float], None]
        self._forward, self._backward = namespace["_forward"], namespace["_backward"]  # type: ignore[assignment]
        self._saved: Saved | None = None

    def __call__(self) -> float:
        """Run the forward pass from the leaves' current ``.data``.

        Returns:
            The output's value, a float. The intermediate values are kept for
            :meth:`backward`; no Value is changed.
        """
        result, self._saved = self._forward(self.leaves)
        return float(result)

    def backward(self, gradient: float = 1.0) -> None:
        """Add ``gradient * d output / d leaf`` to every leaf's ``.grad``.

        The derivatives are taken at the values of the latest call of this object
        (it runs the forward pass first if there was none), in the same order and
        with the same float operations as ``output.backward(gradient)``. Interior
        nodes are not changed.

        Returns:
            None; the results are in the leaves' ``grad`` attributes.
        """
        seed = _as_float(gradient, "backward gradient")
        if self._saved is None:
            self()
        assert self._saved is not None
        self._backward(self.leaves, self._saved, seed)

    def __repr__(self) -> str:
        return (f"CompiledGraph(nodes={self.num_nodes}, leaves={len(self.leaves)}, "
                f"functions={self.num_functions})")


@dataclass
class _Node:
    """What code generation needs to know about one interior node."""

    rule: _Rule
    parents: list[int]  # indices of the parent Values, in operand order
    src: dict[str, str]  # source of x, y (a variable or a literal) and out
    reads: set[int]  # indices of the values its chain-rule lines read
    comment: str


def _plan(nodes: list[Value]) -> dict[int, _Node]:
    """Return the code-generation facts of every interior node, by index in ``nodes``."""
    index = {v: i for i, v in enumerate(nodes)}
    plan: dict[int, _Node] = {}
    for i, v in enumerate(nodes):
        kind = v._kind
        if kind is None:
            continue
        rule = _rule(kind)
        parents = [index[p] for p in (v._a, v._b) if p is not None]
        ps = iter(parents)
        src = {"out": f"v{i}"}
        where: dict[str, int | None] = {"out": i}
        for pos, name in zip(range(kind.op.arity), ("x", "y")):
            if pos == kind.const:
                assert v._arg is not None
                src[name], where[name] = _literal(v._arg), None
            else:
                p = next(ps)
                src[name], where[name] = f"v{p}", p
        reads = {q for names in rule.reads for name in names if (q := where[name]) is not None}
        plan[i] = _Node(rule, parents, src, reads, _comment(v))
    return plan


def _generate(nodes: list[Value], leaves: tuple[Value, ...], chunk_size: int) -> tuple[str, int]:
    """Return the source of the forward and backward functions, and how many there are."""
    plan = _plan(nodes)
    index = {v: i for i, v in enumerate(nodes)}
    leaf_slot = {index[v]: j for j, v in enumerate(leaves)}
    interior = list(plan)
    root = len(nodes) - 1

    # Forward: interior nodes in topological order, chunk_size per function. A
    # function reads the leaves' values and earlier functions' results from the
    # list F and returns, as a tuple, the values that anything after it reads.
    chunks = [interior[s:s + chunk_size] for s in range(0, len(interior), chunk_size)]
    chunk_of = {i: c for c, chunk in enumerate(chunks) for i in chunk}
    needed_later = {root}
    for i, node in plan.items():
        needed_later |= node.reads
        needed_later.update(p for p in node.parents if chunk_of.get(p) != chunk_of[i])

    imports = _Imports()
    imports.add_tuple([index[v] for v in leaves])
    functions: list[str] = []
    forward_calls = []
    for c, chunk in enumerate(chunks):
        wanted = {p for i in chunk for p in plan[i].parents if chunk_of.get(p) != c}
        body = imports.lines(sorted(wanted))
        for i in chunk:
            node = plan[i]
            body.append(f"v{i} = {node.rule.forward.format(**node.src)}{node.comment}")
        exports = [i for i in chunk if i in needed_later]
        imports.add_tuple(exports)
        functions.append(_function(f"_f{c}", "F", body, _tuple([f"v{i}" for i in exports])))
        forward_calls.append(f"F.append(_f{c}(F))")
    k, j = imports.home[root]
    functions.append(_function(
        "_forward", "L", ["F = [tuple([leaf.data for leaf in L])]", *forward_calls], f"F[{k}][{j}], F"))

    # Backward: interior nodes in reverse order, each adding its chain-rule products
    # to its parents' accumulators g<i>, in the eager engine's order. A leaf's
    # accumulator starts from the leaf's .grad and is written back after its last
    # contribution. An interior node's starts as its first contribution c, where
    # the eager engine has 0.0 + c: the same number, except that c = -0.0 stays
    # -0.0. No leaf can see that: adding -0.0 instead of 0.0 to a leaf gradient
    # changes nothing unless that gradient is -0.0 before backward().
    # An accumulator still in use at the end of a function waits in the list G for
    # the next function that adds to it.
    remaining: dict[int, int] = {}
    for node in plan.values():
        for p in node.parents:
            remaining[p] = remaining.get(p, 0) + 1
    live: set[int] = set()  # accumulators started and not finished
    slot: dict[int, int] = {}  # where an accumulator waits in G between functions
    # A node whose only contribution passes a gradient through unchanged (the x of
    # x + y, say) shares its consumer's accumulator instead of copying it.
    name = {i: f"g{i}" for i in range(len(nodes))}
    backward_calls = []
    reverse = interior[::-1]
    for b, s in enumerate(range(0, len(reverse), chunk_size)):
        chunk = reverse[s:s + chunk_size]
        carried = set(live)
        touched: set[int] = set()
        body = imports.lines(sorted(set().union(*(plan[i].reads for i in chunk))))
        if b == 0:
            body.append(f"g{root} = seed")
            live.add(root)
        for i in chunk:
            node = plan[i]
            rule = node.rule
            touched.add(i)
            g = name[i]
            for k, p in enumerate(node.parents):
                touched.add(p)
                t = name[p]
                if p in live:
                    body.append(rule.accumulate[k].format(t=t, g=g, **node.src))
                elif p in leaf_slot:
                    live.add(p)
                    start = f"L[{leaf_slot[p]}].grad"
                    body.append(rule.first_to[k].format(t=t, g=g, start=start, **node.src))
                elif rule.passes[k] and remaining[p] == 1:
                    live.add(p)
                    name[p] = g
                else:
                    live.add(p)
                    body.append(rule.first[k].format(t=t, g=g, **node.src))
                remaining[p] -= 1
                if remaining[p] == 0 and p in leaf_slot:
                    body.append(f"L[{leaf_slot[p]}].grad = {t}")
                    live.discard(p)
            live.discard(i)
        loads = [f"{name[i]} = G[{slot[i]}]" for i in sorted(carried & touched)]
        stores = [f"G[{slot.setdefault(i, len(slot))}] = {name[i]}" for i in sorted(live & touched)]
        functions.append(_function(f"_b{b}", "L, F, G, seed", loads + body + stores, "None"))
        backward_calls.append(f"_b{b}(L, F, G, seed)")
    if not interior:  # the output is a leaf: d output / d output = 1
        backward_calls.append(f"L[{leaf_slot[root]}].grad += seed")
    waiting = f"G = [0.0] * {len(slot)}" if slot else "G: list[float] = []"
    functions.append(_function("_backward", "L, F, seed", [waiting, *backward_calls], "None"))
    named = [f"#   L[{j}] is v{index[v]}" + (f" {v.label!r}" if v.label else "")
             for j, v in enumerate(leaves[:100])]
    if len(leaves) > 100:
        named.append(f"#   ... and {len(leaves) - 100} more")
    header = "\n".join(["# The leaves:", *named])
    return header + "\n\n" + "\n\n\n".join(functions) + "\n", len(functions)


def compile(output: Value, *, chunk_size: int = 10_000) -> CompiledGraph:  # noqa: A001
    """Compile the graph behind ``output`` into Python code that can be re-run.

    Args:
        output: the Value to compute (a loss, usually).
        chunk_size: at most this many nodes per generated function. Python
            compiles and runs long functions well (on a 64,737-node MLP graph,
            1,000 to 100,000 nodes per function all compile in about the same
            time); the bound keeps any one function, and the memory compile()
            needs for it, from growing with the graph.

    Returns:
        A :class:`CompiledGraph`: call it to recompute ``output`` from the leaves'
        current ``.data``; call its ``backward()`` to add the gradients to the
        leaves' ``.grad``; read its ``source``.

    Raises:
        TypeError: ``output`` is not a Value.
        ValueError: ``chunk_size`` is not a positive int.
    """
    if not isinstance(output, Value):
        raise TypeError(f"compile() needs a Value, got {type(output).__name__}: {output!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    return CompiledGraph(output, chunk_size)


__all__ = ["CompiledGraph", "compile"]
