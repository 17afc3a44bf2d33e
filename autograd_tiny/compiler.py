"""Compiled replay: turn a graph of Values into straight-line Python, once.

Building a graph with Values costs an object per operation, every step. When the
shape of the computation stays the same (one training step of a network, say)
:func:`compile` walks the graph once and writes Python functions for each direction:

* the forward pass, one assignment per node: ``a7 = a3 * a5``;
* the backward pass, one line per chain-rule product: ``g2 += g0 * (a5)``.

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
  returns the output as a float (a list of floats when several outputs were
  compiled: ``compile([loss, *scores])``);
* ``compiled.backward()`` adds d output / d leaf to every leaf's ``.grad``, like
  ``output.backward()`` (for several outputs: of the first one, the loss). Call
  ``zero_grad()`` between steps, as usual. It uses the values of the latest
  ``compiled()`` call (PyTorch also differentiates at the values of the forward
  pass); before the first call it runs one itself;
* interior Values are **not** updated: their ``.data`` and ``.grad`` keep what
  the eager pass gave them. To read an interior value, compile it as one more
  output; with ``write_back=True`` every call also stores the outputs' new
  values into their ``.data``.

The compiled object keeps only what a replay needs: the leaves, the code and the
numbers of the latest forward pass. It holds no reference to the output or any
other interior Value (unless ``write_back=True``: then to the outputs), so the
graph is freed as soon as the caller drops it. No user string (labels) goes
into the generated code: nodes are named by position only.

The code is generated and compiled chunk by chunk: every ``chunk_size`` nodes
of the topological order become one forward and one backward function, each
compiled on its own, so the memory Python's ``compile()`` needs is bounded by
the chunk, not the graph, and the time is linear in the graph. A forward
function returns, as a tuple, the values that later code reads; a gradient
still being summed waits in a list for the next backward function that adds to
it. ``compile(..., source=True)`` also keeps the program's text in ``source``.
"""

from __future__ import annotations

import ast
import builtins
import math
import re
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from . import codegen
from .value import Kind, Value, _as_float, _extend_order

#: What a forward pass keeps for the backward pass: the leaves' values, then one tuple per function.
Saved = list[tuple[float, ...]]

_PLACEHOLDERS = {"x": "__x__", "y": "__y__", "out": "__out__"}
_FIELD = re.compile(r"\b__(x|y|out|t|g|start)__\b")
_OPERAND = ("x", "y")


def _format_string(code: str) -> str:
    """Return ``code`` with the placeholders ``__x__`` ... turned into ``{x}`` ... fields."""
    return _FIELD.sub(r"{\1}", code.replace("{", "{{").replace("}", "}}"))


@dataclass(frozen=True)
class _Rule:
    """The code of one kind of node: its forward line and one chain-rule line per parent.

    Every code field is a format string. ``forward`` has fields ``x`` and ``y``
    (the operands). ``accumulate[k]`` adds the contribution to parent ``k``'s
    accumulator ``t`` from the node's accumulator ``g`` (fields ``x``, ``y``,
    ``out`` too). For a first contribution ``first[k]`` sets ``t`` to it
    (``t = g * (...)``) and ``first_to[k]`` adds it to the starting value
    ``start`` (``t = start + g * (...)``).
    """

    forward: str
    accumulate: tuple[str, ...]
    first: tuple[str, ...]
    first_to: tuple[str, ...]
    passes: tuple[bool, ...]  # per parent: the local derivative is 1 (the gradient passes through)
    operands: tuple[str, ...]  # per parent: the operand name it fills ("x" or "y")
    const: str | None  # the operand name a constant fills, if any
    reads: frozenset[str]  # the operand names (x, y, out) that the chain-rule lines read


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
    accumulate, first, first_to, passes = [], [], [], []
    reads: set[str] = set()
    positions = kind.variable_positions()
    for i in positions:
        derivative = op.derivatives[i]
        line = codegen.accumulate("__t__", "__g__", derivative, _PLACEHOLDERS)
        accumulate.append(_format_string(line))
        first.append(_format_string(_first(line, start=False)))
        first_to.append(_format_string(_first(line, start=True)))
        constant = codegen.constant_value(derivative)
        if constant is None:
            reads |= codegen.names_used(derivative)
        passes.append(constant == 1.0)
    const = _OPERAND[kind.const] if kind.const is not None else None
    return _Rule(forward, tuple(accumulate), tuple(first), tuple(first_to), tuple(passes),
                 tuple(_OPERAND[i] for i in positions), const, frozenset(reads))


def _literal(c: float) -> str:
    """Return Python source for the float ``c`` that evaluates to the same bits.

    Raises:
        TypeError: ``c`` is not a plain float or int (a subclass's ``repr`` could write any code).
    """
    if type(c) is not float and type(c) is not int:
        raise TypeError(f"a constant operand must be a plain float, got {type(c).__name__}; build "
                        "the graph with Value operations, which store every number as a float")
    if c != c:
        return "_NAN"
    if math.isinf(c):
        return "_INF" if c > 0 else "(-_INF)"
    text = repr(c)
    return f"({text})" if text.startswith("-") else text


def _order(outputs: Sequence[Value]) -> tuple[list[Value], dict[Value, int], int]:
    """Return every Value the outputs depend on in topological order, each one's position,
    and how many of them the first output depends on.

    The first ``n0`` nodes are exactly :func:`autograd_tiny.topological_order` of the
    first output (the same search, ``value._extend_order``), so the backward pass visits
    nodes in the eager engine's order and sums gradients in the same order. The nodes
    that only later outputs need follow.
    """
    order: list[Value] = []
    seen: set[Value] = set()
    n0 = 0
    for r, root in enumerate(outputs):
        _extend_order(root, seen, order)
        if r == 0:
            n0 = len(order)
    index = {v: i for i, v in enumerate(order)}
    return order, index, n0


class _Names:
    """Local variable names of one generated function: ``a0, a1, ...`` in order of first use.

    Names restart in every function, so all the functions together use no more
    distinct names than one chunk has nodes: the code objects share them.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0

    def new(self) -> str:
        name = f"{self.prefix}{self.count}"
        self.count += 1
        return name


def _import_lines(wanted: dict[int, str], home_t: array[int], home_j: array[int],
                  sizes: list[int]) -> list[str]:
    """Return statements that load each wanted value (node index -> local name) from ``F``.

    A tuple most of whose entries are wanted is unpacked in one statement,
    otherwise the entries are indexed one by one.
    """
    by_tuple: dict[int, dict[int, str]] = {}
    for i, local in wanted.items():
        by_tuple.setdefault(home_t[i], {})[home_j[i]] = local
    out = []
    for k in sorted(by_tuple):
        positions = by_tuple[k]
        if 3 * len(positions) >= sizes[k]:
            targets = [positions.get(j, "_") for j in range(sizes[k])]
            out.append(f"{', '.join(targets)}, = F[{k}]")
        else:
            out.append(f"t = F[{k}]")
            out.extend(f"{local} = t[{j}]" for j, local in sorted(positions.items()))
    return out


def _function(name: str, args: str, body: list[str], result: str) -> str:
    lines = [f"def {name}({args}):"]
    lines.extend("    " + line for line in body)
    lines.append(f"    return {result}")
    return "\n".join(lines)


class _Scope:
    """The names of one backward function: values it reads, accumulators it adds to."""

    def __init__(self, waiting: dict[int, int], free: list[int]) -> None:
        self.values = _Names("a")
        self.grads = _Names("g")
        self.wanted: dict[int, str] = {}  # node -> the local name of its value
        self.acc: dict[int, str] = {}  # node -> the local name of its accumulator
        self.loads: list[str] = []
        self.body: list[str] = []
        self.waiting = waiting  # node -> its slot in G, for accumulators carried between functions
        self.free = free

    def accumulator(self, p: int) -> str:
        """Return the local name of node ``p``'s accumulator, loading it from G if carried over."""
        acc = self.acc
        if p not in acc:
            acc[p] = self.grads.new()
            slot = self.waiting.pop(p)
            self.free.append(slot)
            self.loads.append(f"{acc[p]} = G[{slot}]")
        return acc[p]

    def value(self, p: int) -> str:
        """Return the local name of node ``p``'s value (loaded from F at the top)."""
        wanted = self.wanted
        if p not in wanted:
            wanted[p] = self.values.new()
        return wanted[p]


class _Program:
    """Writes and compiles the functions of one graph, chunk by chunk.

    Only arrays of small ints per node are kept while writing; each function's
    source is compiled as soon as it is written and then dropped (unless the
    whole text was asked for).
    """

    def __init__(self, outputs: Sequence[Value], chunk_size: int, keep_source: bool) -> None:
        start = time.perf_counter()
        self.compile_seconds = 0.0
        self.pieces: list[str] | None = [] if keep_source else None
        self.namespace = codegen.float_namespace()
        self.namespace.update(_INF=math.inf, _NAN=math.nan)
        self.num_functions = 0

        nodes, index, n0 = _order(outputs)
        n = len(nodes)
        self.num_nodes = n
        cs = chunk_size
        # Per node: its parents' positions (-1: none) and its leaf slot (-1: interior).
        pa = array("q", bytes(8 * n))
        pb = array("q", bytes(8 * n))
        leaf_slot = array("q", [-1]) * n
        leaves: list[Value] = []
        for i, v in enumerate(nodes):
            if v._kind is None:
                leaf_slot[i] = len(leaves)
                leaves.append(v)
                pa[i] = pb[i] = -1
            else:
                a, b = v._a, v._b
                pa[i] = index[a] if a is not None else -1
                pb[i] = index[b] if b is not None else -1
        self.leaves = tuple(leaves)
        out_pos = [index[v] for v in outputs]
        del index

        # need[i]: node i's value is read outside its own forward function (by a
        # later chunk, by the backward pass or as an output); remaining[i]: how many
        # chain-rule contributions node i receives in the backward pass.
        need = bytearray(n)
        remaining = array("q", bytes(8 * n))
        for i in range(n):
            if leaf_slot[i] >= 0:
                continue
            rule = _rule(nodes[i]._kind)
            c = i // cs
            for p in (pa[i], pb[i]):
                if p >= 0 and p // cs != c:
                    need[p] = 1
            if i < n0:
                for p in (pa[i], pb[i]):
                    if p >= 0:
                        remaining[p] += 1
                if "out" in rule.reads:
                    need[i] = 1
                for name, p in zip(rule.operands, (pa[i], pb[i])):
                    if name in rule.reads:
                        need[p] = 1
        for i in out_pos:
            need[i] = 1

        # Where each value lives between functions: tuple F[home_t], position home_j.
        home_t = array("q", [-1]) * n
        home_j = array("q", [-1]) * n
        sizes = [len(leaves)]
        for i in range(n):
            s = leaf_slot[i]
            if s >= 0:
                home_t[i], home_j[i] = 0, s
        self.codegen_seconds = 0.0

        # -- forward ---------------------------------------------------------------------
        calls: list[str] = []
        for base in range(0, n, cs):
            end = min(base + cs, n)
            names = _Names("a")
            local: dict[int, str] = {}
            imports: dict[int, str] = {}
            body: list[str] = []
            exports: list[int] = []
            for i in range(base, end):
                if leaf_slot[i] >= 0:
                    continue
                v = nodes[i]
                rule = _rule(v._kind)
                src: dict[str, str] = {}
                for name, p in zip(rule.operands, (pa[i], pb[i])):
                    if p in local:
                        src[name] = local[p]
                    else:
                        src[name] = local[p] = imports[p] = names.new()
                if rule.const is not None:
                    assert v._arg is not None
                    src[rule.const] = _literal(v._arg)
                target = local[i] = names.new()
                body.append(f"{target} = {rule.forward.format_map(src)}")
                if need[i]:
                    exports.append(i)
            if not body:
                continue
            k = len(sizes)
            for j, i in enumerate(exports):
                home_t[i], home_j[i] = k, j
            sizes.append(len(exports))
            body[:0] = _import_lines(imports, home_t, home_j, sizes)
            result = f"({', '.join(local[i] for i in exports)},)" if exports else "()"
            name = f"_f{k - 1}"
            self._add(_function(name, "F", body, result))
            calls.append(f"F.append({name}(F))")
        results = ", ".join(f"F[{home_t[i]}][{home_j[i]}]" for i in out_pos)
        self._add(_function("_forward", "L", ["F = [tuple([leaf.data for leaf in L])]", *calls],
                            f"({results},), F"))

        # -- backward --------------------------------------------------------------------
        # Interior nodes of the first output's graph in reverse order, each adding its
        # chain-rule products to its parents' accumulators, in the eager engine's order.
        # A leaf's accumulator starts from the leaf's .grad and is written back after
        # its last contribution. An interior node's starts as its first contribution c,
        # where the eager engine has 0.0 + c: the same number, except that c = -0.0
        # stays -0.0. No leaf can see that: adding -0.0 instead of 0.0 to a leaf
        # gradient changes nothing unless that gradient is -0.0 before backward().
        # An accumulator still in use at the end of a function waits in the list G.
        state = bytearray(n)  # 0: no contribution yet, 1: being summed, 2: done
        waiting: dict[int, int] = {}  # node -> its slot in G between functions
        free: list[int] = []  # slots of G no longer used
        num_slots = 0
        calls = []
        root = n0 - 1
        top = ((n0 - 1) // cs) * cs
        for base in range(top, -1, -cs):
            end = min(base + cs, n0)
            f = _Scope(waiting, free)
            acc, body = f.acc, f.body
            if base <= root and leaf_slot[root] < 0 and state[root] == 0:
                acc[root] = f.grads.new()
                state[root] = 1
                body.append(f"{acc[root]} = seed")
            accumulator, value = f.accumulator, f.value
            for i in range(end - 1, base - 1, -1):
                if leaf_slot[i] >= 0:
                    continue
                v = nodes[i]
                rule = _rule(v._kind)
                g = accumulator(i)
                src = {}
                if rule.reads:
                    if "out" in rule.reads:
                        src["out"] = value(i)
                    for name, p in zip(rule.operands, (pa[i], pb[i])):
                        if name in rule.reads:
                            src[name] = value(p)
                    if rule.const is not None and rule.const in rule.reads:
                        assert v._arg is not None
                        src[rule.const] = _literal(v._arg)
                for k, p in enumerate((pa[i], pb[i])[:len(rule.operands)]):
                    if state[p] == 1:
                        body.append(rule.accumulate[k].format(t=accumulator(p), g=g, **src))
                    elif leaf_slot[p] >= 0:
                        state[p] = 1
                        t = acc[p] = f.grads.new()
                        body.append(rule.first_to[k].format(t=t, g=g, start=f"L[{leaf_slot[p]}].grad", **src))
                    elif rule.passes[k] and remaining[p] == 1:
                        # The only contribution passes the gradient through unchanged:
                        # the parent shares this node's accumulator instead of a copy.
                        state[p] = 1
                        acc[p] = g
                    else:
                        state[p] = 1
                        t = acc[p] = f.grads.new()
                        body.append(rule.first[k].format(t=t, g=g, **src))
                    remaining[p] -= 1
                    if remaining[p] == 0 and leaf_slot[p] >= 0:
                        body.append(f"L[{leaf_slot[p]}].grad = {acc[p]}")
                        state[p] = 2
                state[i] = 2
            if not body and not f.loads:
                continue
            stores = []
            for p, t in acc.items():
                if state[p] == 1:
                    if free:
                        slot = free.pop()
                    else:
                        slot, num_slots = num_slots, num_slots + 1
                    waiting[p] = slot
                    stores.append(f"G[{slot}] = {t}")
            head = _import_lines(f.wanted, home_t, home_j, sizes)
            name = f"_b{len(calls)}"
            self._add(_function(name, "L, F, G, seed", head + f.loads + body + stores, "None"))
            calls.append(f"{name}(L, F, G, seed)")
        if n0 and leaf_slot[root] >= 0:  # the output is a leaf: d output / d output = 1
            calls.append(f"L[{leaf_slot[root]}].grad += seed")
        self._add(_function("_backward", "L, F, seed", [f"G = [0.0] * {num_slots}", *calls], "None"))
        self.codegen_seconds = time.perf_counter() - start - self.compile_seconds

    def _add(self, source: str) -> None:
        """Compile one function into the namespace (and keep its text if asked to)."""
        start = time.perf_counter()
        code = builtins.compile(source, "<autograd_tiny compiled>", "exec")
        exec(code, self.namespace)  # noqa: S102 - code written by _Program from the table
        self.compile_seconds += time.perf_counter() - start
        self.num_functions += 1
        if self.pieces is not None:
            self.pieces.append(source)

    def source(self) -> str | None:
        """Return the program's text: a header naming the leaves' slots, then every function."""
        if self.pieces is None:
            return None
        header = f"# L[j] is the j-th leaf (compiled.leaves[j]); {len(self.leaves)} leaves"
        return header + "\n\n\n" + "\n\n\n".join(self.pieces) + "\n"


class CompiledGraph:
    """A graph of Values turned into Python code; made by :func:`compile`.

    Attributes:
        leaves: the graph's leaves, in topological order; ``compiled()`` reads their
            ``.data`` and ``backward()`` adds to their ``.grad``.
        num_outputs: how many outputs were compiled.
        num_nodes: how many Values the graph has, leaves included.
        num_functions: how many functions the code was split into.
        codegen_seconds, compile_seconds: time spent writing the source and in
            Python's ``compile()``.
        source: the generated program (forward functions ``_f*``, backward
            functions ``_b*`` and the two drivers ``_forward`` and ``_backward``),
            kept only when compiled with ``source=True``.

    The object holds no interior Value of the graph (with ``write_back=True``, only
    the outputs), so dropping the graph frees it even while the compiled object lives.
    """

    def __init__(self, outputs: Sequence[Value], single: bool, chunk_size: int,
                 source: bool, write_back: bool) -> None:
        program = _Program(outputs, chunk_size, source)
        self.leaves: tuple[Value, ...] = program.leaves
        self.num_outputs = len(outputs)
        self.num_nodes = program.num_nodes
        self.num_functions = program.num_functions
        self.codegen_seconds = program.codegen_seconds
        self.compile_seconds = program.compile_seconds
        self._source = program.source()
        self._single = single
        self._write_back: tuple[Value, ...] = tuple(outputs) if write_back else ()
        self._forward: Callable[[tuple[Value, ...]], tuple[tuple[float, ...], Saved]]
        self._backward: Callable[[tuple[Value, ...], Saved, float], None]
        namespace = program.namespace
        self._forward, self._backward = namespace["_forward"], namespace["_backward"]  # type: ignore[assignment]
        self._saved: Saved | None = None

    @property
    def source(self) -> str:
        """The generated program; only kept when compiled with ``source=True``.

        Raises:
            AttributeError: the source was not kept.
        """
        if self._source is None:
            raise AttributeError("the source was not kept: compile with "
                                 "autograd_tiny.compile(..., source=True)")
        return self._source

    def __call__(self) -> float | list[float]:
        """Run the forward pass from the leaves' current ``.data``.

        Returns:
            The output's value as a float, or a list of floats (one per output, in
            order) when a list of outputs was compiled. The intermediate values are
            kept for :meth:`backward`. No Value is changed, except the outputs'
            ``.data`` when compiled with ``write_back=True``.
        """
        results, self._saved = self._forward(self.leaves)
        values = [float(r) for r in results]
        for v, x in zip(self._write_back, values):
            v.data = x
        return values[0] if self._single else values

    def backward(self, gradient: float = 1.0) -> None:
        """Add ``gradient * d output / d leaf`` to every leaf's ``.grad`` (output: the first one).

        The derivatives are taken at the values of the latest call of this object
        (it runs the forward pass first if there was none), in the same order and
        with the same float operations as ``output.backward(gradient)``. Interior
        Values are not changed.

        Returns:
            None; the results are in the leaves' ``grad`` attributes.
        """
        seed = _as_float(gradient, "backward gradient")
        if self._saved is None:
            self()
        assert self._saved is not None
        self._backward(self.leaves, self._saved, seed)

    def __repr__(self) -> str:
        outputs = f"outputs={self.num_outputs}, " if not self._single else ""
        return (f"CompiledGraph({outputs}nodes={self.num_nodes}, leaves={len(self.leaves)}, "
                f"functions={self.num_functions})")


def compile(outputs: Value | Sequence[Value], *, chunk_size: int = 2_000,  # noqa: A001
            source: bool = False, write_back: bool = False) -> CompiledGraph:
    """Compile the graph behind ``outputs`` into Python code that can be re-run.

    Args:
        outputs: the Value to compute (a loss, usually), or a list of Values: the
            loss first, then anything else to replay, such as the scores a metric
            is computed from (``compile([loss, *scores])``). Interior Values keep
            the numbers of the eager pass; the compiled call returns the new ones.
        chunk_size: at most this many nodes (of the topological order) per
            generated function. Each function is compiled on its own, so this
            bounds the memory Python's ``compile()`` needs at any moment.
        source: keep the generated program's text in ``compiled.source``
            (about 60 bytes per node, so it is dropped by default).
        write_back: after every call also set each output Value's ``.data`` to
            its replayed value. The compiled object then holds the outputs, and so
            the graph behind them; by default it holds no interior Value. Only
            the outputs are written: the Values between them and the leaves keep
            the eager pass's data, so for gradients call ``compiled.backward()``,
            not an output's own ``backward()`` (which would mix the two).

    Returns:
        A :class:`CompiledGraph`: call it to recompute the outputs from the leaves'
        current ``.data`` (a float, or a list of floats for a list of outputs);
        call its ``backward()`` to add the first output's gradients to the
        leaves' ``.grad``.

    Raises:
        TypeError: ``outputs`` is not a Value or a non-empty list of Values.
        ValueError: ``chunk_size`` is not a positive int.
    """
    single = isinstance(outputs, Value)
    if single:
        values: list[Value] = [outputs]  # type: ignore[list-item]
    elif isinstance(outputs, (list, tuple)) and outputs and all(isinstance(v, Value) for v in outputs):
        values = list(outputs)
    else:
        bad = next((v for v in outputs if not isinstance(v, Value)), outputs) \
            if isinstance(outputs, (list, tuple)) and outputs else outputs
        raise TypeError(f"compile() needs a Value or a non-empty list of Values, got "
                        f"{type(bad).__name__}: {bad!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    return CompiledGraph(values, single, chunk_size, bool(source), bool(write_back))


__all__ = ["CompiledGraph", "compile"]
