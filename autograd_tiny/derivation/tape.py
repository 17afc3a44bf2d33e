"""The tape: a Value graph written down as numbered equations that can be re-run.

:class:`Tape` writes the computation graph of any derivation (a network file or an expression
file) down once, in topological order: for each node its operation (or the parameter or constant
it is), its operands, the nodes its local derivatives read and the names the file gives it
(``net_h1``, ``out_o1[2]``, ``q``). Nothing below the file grammars branches on the file's kind:
the interpreter (:mod:`autograd_tiny.derivation.interpreter`) runs any tape, and the
misconceptions (:mod:`autograd_tiny.derivation.misconceptions`) are edits of any tape.

The functions a tape runs come from the operation table (:data:`autograd_tiny.ops.OPS`),
rewritten into Python by :mod:`autograd_tiny.codegen` as the eager engine does: each backward step
applies a local derivative with the table's contribution rule (:func:`autograd_tiny.codegen.contribution`),
so a structural zero stays 0 after an infinite gradient, as in ``backward()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from .. import codegen
from ..ops import OPS
from ..value import Value, _extend_order

_NAMESPACE = codegen.float_namespace()
_OPERANDS = {"x": "x", "y": "y", "out": "out"}


@cache
def op_forward(op: str) -> Callable[[float, float], float]:
    """Return ``f(x, y)``: the forward expression of table operation ``op`` on floats."""
    expr = OPS[op].forward
    return codegen.table_function(  # type: ignore[return-value]
        "x, y", [codegen.substitute(expr, _OPERANDS)], _NAMESPACE, f"forward {expr}", single=True)


@cache
def derivative_function(exprs: tuple[str, ...]) -> Callable[[float, float, float], tuple[float, ...]]:
    """Return ``f(x, y, out)``: table derivative expressions, one per operand, on floats."""
    return codegen.table_function(  # type: ignore[return-value]
        "x, y, out", [codegen.substitute(d, _OPERANDS) for d in exprs], _NAMESPACE, f"derivatives {exprs}")


@cache
def contribution_function(
        exprs: tuple[str, ...]) -> Callable[[float, float, float, float], tuple[float, ...]]:
    """Return ``f(g, x, y, out)``: what each operand receives from gradient ``g`` by the chain
    rule, each derivative applied with the table's contribution rule."""
    terms = [codegen.contribution("g", d, _OPERANDS) for d in exprs]
    return codegen.table_function(  # type: ignore[return-value]
        "g, x, y, out", terms, _NAMESPACE, f"contributions {exprs}")


@dataclass
class Node:
    """One equation of the tape.

    Attributes:
        op: the table operation of an interior node (None for a leaf).
        param: a parameter leaf's name (None for a constant leaf or an interior node).
        const: a constant leaf's value (an input, or the data of a leaf the file does not name).
        operands: per operand ``(node index, 0.0)`` or ``(None, constant)``.
        parents: ``(operand position, node index)`` for the operands that are nodes.
        reads: per operand position, the nodes its local derivative reads.
    """

    op: str | None = None
    param: str | None = None
    const: float = 0.0
    operands: tuple[tuple[int | None, float], ...] = ()
    parents: tuple[tuple[int, int], ...] = ()
    reads: tuple[tuple[int, ...], ...] = ()


class Tape:
    """A computation graph as numbered equations, leaves and operands first.

    Args:
        roots: the outputs, in the order their nodes go on the tape, with every node they depend on.
        params: the leaves that are parameters, by name (the rest are constants).
        names: names for nodes (several may share a node; a Value not on the tape is ignored).
        root: the node differentiated (the loss); the first root by default.

    Attributes:
        nodes: the equations. ``index``: Value -> node; ``root``, ``params``, ``names``: the
        arguments as nodes (those on the tape); ``args``: per node ``(x node, x constant, y node,
        y constant)`` (``None, 0.0`` for an absent operand); ``depth``: per node, 0 for a leaf,
        else one more than its deepest operand; ``consumers``: per node, ``(consumer, operand
        position)`` pairs; ``forward_fns``, ``derivative_exprs``, ``contribution_fns``: per node,
        the table's functions and derivatives (None or empty for a leaf).
    """

    def __init__(self, roots: Iterable[Value], params: Mapping[str, Value],
                 names: Mapping[str, Value] | None = None, root: Value | None = None) -> None:
        roots = list(roots)
        order: list[Value] = []
        seen: set[Value] = set()
        for r in roots:  # one search over every root: linear in the graph's size
            _extend_order(r, seen, order)
        self.index = index = {v: i for i, v in enumerate(order)}
        param_name = {v: name for name, v in params.items()}
        self.nodes: list[Node] = []
        self.consumers: list[list[tuple[int, int]]] = [[] for _ in order]
        self.depth: list[int] = []
        for i, v in enumerate(order):
            if v.op is None:
                self.nodes.append(Node(param=param_name[v]) if v in param_name else Node(const=v.data))
                self.depth.append(0)
                continue
            operands = tuple((index[o], 0.0) if isinstance(o, Value) else (None, float(o))
                             for o in v.operands)
            parents = tuple((pos, j) for pos, (j, _) in enumerate(operands) if j is not None)
            self.depth.append(1 + max((self.depth[j] for _, j in parents), default=-1))
            for pos, j in parents:
                self.consumers[j].append((i, pos))
            # per operand, the nodes its local derivative reads (operands x, y and the output)
            slot = {"out": i, **{n: j for n, (j, _) in zip(("x", "y"), operands) if j is not None}}
            reads = tuple(tuple(slot[n] for n in codegen.names_used(d) if n in slot)
                          for d in v.op.derivatives)
            self.nodes.append(Node(op=v.op.name, operands=operands, parents=parents, reads=reads))
        self.root = index[roots[0] if root is None else root]
        self.params = {name: index[v] for name, v in params.items() if v in index}
        self.names = {name: index[v] for name, v in (names or {}).items() if v in index}
        self.forward_fns = [op_forward(n.op) if n.op else None for n in self.nodes]
        self.derivative_exprs = [OPS[n.op].derivatives if n.op else () for n in self.nodes]
        self.contribution_fns = [contribution_function(d) if d else None for d in self.derivative_exprs]
        self._label = {i: name for name, i in reversed(self.names.items())}  # a node's first name
        padded = [n.operands + ((None, 0.0),) * (2 - len(n.operands)) for n in self.nodes]
        self.args = [(x, cx, y, cy) for (x, cx), (y, cy) in padded]

    def __len__(self) -> int:
        return len(self.nodes)

    def label(self, i: int) -> str | None:
        """Return the first name of node ``i`` (None when the file names it nowhere)."""
        return self._label.get(i)

    def name(self, i: int) -> str | None:
        """Return what the file calls node ``i``: its first name, else its parameter's name (None
        when it has neither)."""
        return self._label.get(i) or self.nodes[i].param

    def xy(self, i: int, vals: list[float]) -> tuple[float, float]:
        """Return the operands ``x``, ``y`` of node ``i`` read from ``vals`` (or its constants;
        ``y`` is 0 for an operation of one operand)."""
        x, cx, y, cy = self.args[i]
        return vals[x] if x is not None else cx, vals[y] if y is not None else cy

    def edge(self, top: int, bottom: int) -> tuple[int, int] | None:
        """Return ``(node, position)``: where ``bottom`` enters the operation whose local derivative
        is the factor d top / d bottom, the rest of the way to ``top`` being sums (whose factor is
        1); None when ``top`` does not depend on ``bottom`` that way."""
        frontier = [top]
        while frontier:
            i = frontier.pop()
            node = self.nodes[i]
            for pos, p in node.parents:
                if p == bottom:
                    return i, pos
            if i == top or node.op == "add":
                frontier += [p for _, p in node.parents
                             if self.nodes[p].op in ("add", "mul", "sigmoid", "tanh", "relu")]
        return None

    def ancestors(self, i: int) -> set[int]:
        """Return the nodes node ``i``'s value depends on (itself included)."""
        return _reach(i, lambda j: (p for _, p in self.nodes[j].parents))

    def descendants(self, i: int) -> set[int]:
        """Return the nodes that depend on node ``i``'s value (itself included)."""
        return _reach(i, lambda j: (c for c, _ in self.consumers[j]))


def _reach(start: int, step: Callable[[int], Iterable[int]]) -> set[int]:
    """Return the nodes reached from ``start`` (itself included) by repeated ``step``s."""
    found = {start}
    stack = [start]
    while stack:
        for j in step(stack.pop()):
            if j not in found:
                found.add(j)
                stack.append(j)
    return found
