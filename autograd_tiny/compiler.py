"""Compiled replay: turn a graph of Values into straight-line Python, once.

Building a graph with Values costs an object per operation, every step. When the
shape of the computation stays the same (one training step of a network, say)
:func:`compile` walks the graph once and writes Python functions for each direction:

* the forward pass: a value read by one expression only is written into that
  expression instead of being stored, so a neuron's weighted sum is one line,
  ``a7 = a3 * a1 + a4 * a2 + a5``; the values the backward pass or later code
  reads are stored;
* the backward pass: the chain-rule terms a node receives are summed in one
  expression, ``g2 = 0.0 if a7 <= 0 else g0 * a9 + g1 * a10``, and a gradient
  read by one term only is written into that term.

Each piece comes from the operation table (:mod:`autograd_tiny.ops`) through
:func:`autograd_tiny.codegen.substitute` and :func:`autograd_tiny.codegen.contribution`,
exactly as the eager engine's methods and backward rules do; terms are summed left
to right in the order the eager engine adds them, and an expression is put in
parentheses wherever Python would otherwise group it differently. So both run the
same float operations in the same order and give the same bits (one exception:
a leaf whose ``.grad`` was -0.0 before ``backward()`` may end with 0.0 instead).
Branches of the table, such as ReLU's ``x if x > 0 else 0.0``, stay branches:
the compiled code is right for any input, not only for the one it was traced with.
Numbers in the graph (the 2.0 of ``w * 2.0``) are constants of the code, folded
where they decide something (``x ** 2.0``'s derivative has no test of ``2.0 == 0``;
``x / 4.0`` divides without the helper that handles a zero divisor); to feed
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
* ``compiled.step(lr, momentum=0.0, weight_decay=0.0)``, for a graph compiled with
  ``params=model.parameters()``, is a whole training step in one generated
  function: the parameters' ``.grad`` set to 0, the forward and backward pass,
  and the update of ``nn.SGD`` (bit for bit), without a Python loop over the
  parameters;
* interior Values are **not** updated: their ``.data`` and ``.grad`` keep what
  the eager pass gave them. To read an interior value, compile it as one more
  output; with ``write_back=True`` every call also stores the outputs' new
  values into their ``.data``.

The compiled object keeps only what a replay needs: the leaves, the code and the
numbers of the latest forward pass. It holds no reference to the output or any
other interior Value (unless ``write_back=True``: then to the outputs), so the
graph is freed as soon as the caller drops it. Nodes are named by position in
the code; labels appear only with ``source=True``, in comments, every character
that is not printable escaped (a label cannot end its comment line).

A subgraph repeated with other leaves or constants, such as each sample's part of
a training loss over a batch, is written once (``repeats=True``, the default): the
nodes that reach the outputs only through one node form a *block*, and blocks of the
same shape share one forward and one backward function, called once per block with
that block's own inputs (a weight shared by all of them is a global of the program,
set at every forward pass, and its gradient is summed in place). The code then grows
with the model, not with the batch; the float operations and their order are the same,
and so are the bits.
A block whose gradient is ±0.0 (a sample the hinge's or a ReLU's structural zero
masks) is skipped when that provably changes no bit, and so are a neuron's weights'
sums while the neuron's gradient is ±0.0 (its ReLU is off): every term left out is
±0.0, as what the terms multiply by is finite (checked per call, and per pass for the
leaves), and adding ±0.0 leaves a leaf's sum as it is unless the sum is -0.0 (no
skipping then; see :func:`_backward_flag`).

The code is generated and compiled chunk by chunk: every ``chunk_size`` nodes
of the topological order become one forward and one backward function, each
compiled on its own, so the memory Python's ``compile()`` needs is bounded by
the chunk (or a block's functions), not the graph, and the time is linear in the
graph. A forward function returns, as a tuple, the values that later code reads;
a gradient still being summed waits in a list for the next backward function
that adds to it. ``compile(..., source=True)`` also keeps the program's text in ``source``
and registers it with :mod:`linecache`, so that ``inspect.getsource`` shows each
generated function (``compiled.functions``) and tracebacks show its lines.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import linecache
import math
import re
import time
import types
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from operator import itemgetter

from . import codegen
from ._numeric import printable
from .value import Kind, Value, _as_float, _extend_order

#: What a forward pass keeps for the backward pass: the leaves' values, then one tuple per function.
Saved = list[tuple[float, ...]]

_PLACEHOLDERS = {"x": "__x__", "y": "__y__", "out": "__out__"}
_FIELD = re.compile(r"\b__(x|y|out|g|c)__\b")
_FIELDS = ("x", "y", "out", "g", "c")
_OPERAND = ("x", "y")


def _format_string(code: str) -> str:
    """Return ``code`` with the placeholders ``__x__`` ... turned into ``{x}`` ... fields."""
    return _FIELD.sub(r"{\1}", code.replace("{", "{{").replace("}", "}}"))


# -- expressions and where they fit ----------------------------------------------------------------
#
# A value used once is not stored: its expression goes into the one expression that reads it.
# Every piece of generated code therefore has a *binding class*, from loosest to tightest:
# 0 conditional, 1 comparison, 2 sum, 3 product, 4 unary minus, 5 power, 6 atom (a name, a
# number, a call, a subscript, an attribute). An expression goes into a slot of a template
# bare when the slot takes its class (found once per template by parsing it both ways), and
# in parentheses otherwise, so inlining never changes how Python groups the operations, nor
# therefore a bit of any result.

_ATOM = 6
_REPRESENTATIVE = ("p if q else r", "p <= q", "p + q", "p * q", "-p", "p ** q", "p")
_CLASS_OF_OP: dict[type[ast.operator], int] = {ast.Add: 2, ast.Sub: 2, ast.Mult: 3, ast.Div: 3, ast.Pow: 5}

#: A piece of generated code: its text, its binding class, and how deeply it nests inlined pieces.
_Expr = tuple[str, int, int]


def _binding(tree: ast.expr) -> int:
    """Return the binding class of an expression (see above); 0 for anything unexpected."""
    if isinstance(tree, ast.Compare):
        return 1
    if isinstance(tree, ast.BinOp):
        return _CLASS_OF_OP.get(type(tree.op), 0)
    if isinstance(tree, ast.UnaryOp):
        return 4 if isinstance(tree.op, ast.USub) else 0
    if isinstance(tree, (ast.Name, ast.Constant, ast.Call, ast.Subscript, ast.Attribute)):
        return _ATOM
    return 0


#: A number as _literal writes it: any other atom in its place is grouped the same way.
_NUMBER = re.compile(r"(?<![\w.])(?:\d[\d.]*(?:e[+-]?\d+)?|_INF|_NAN)")
_ACCEPTED: dict[tuple[str, str], frozenset[int]] = {}


def _accepted(text: str, field: str) -> frozenset[int]:
    """Return the binding classes that ``{field}`` of the format string ``text`` takes bare."""
    key = (_NUMBER.sub("1", text), field)
    found = _ACCEPTED.get(key)
    if found is None:
        if len(_ACCEPTED) > 10_000:
            _ACCEPTED.clear()
        found = _ACCEPTED[key] = _trial(*key)
    return found


def _trial(text: str, field: str) -> frozenset[int]:
    """Return the binding classes that ``{field}`` of ``text`` takes bare, by parsing each way."""
    ok = set()
    fill = {name: f"__{name}__" for name in _FIELDS}
    for cls, example in enumerate(_REPRESENTATIVE):
        bare = text.format_map({**fill, field: example})
        wrapped = text.format_map({**fill, field: f"({example})"})
        try:
            same = ast.dump(ast.parse(bare, mode="eval")) == ast.dump(ast.parse(wrapped, mode="eval"))
        except SyntaxError:
            same = False
        if same:
            ok.add(cls)
    return frozenset(ok)


def _wrap(expr: _Expr, accepts: frozenset[int]) -> str:
    """Return the text of ``expr`` for a slot that takes the binding classes ``accepts`` bare."""
    return expr[0] if expr[1] in accepts else f"({expr[0]})"


_ALL = frozenset(range(_ATOM + 1))
_SUM_LEFT = _accepted("{x} + {y}", "x")
_SUM_RIGHT = _accepted("{x} + {y}", "y") & _accepted("{x} - {y}", "y")
_NEGATED = _accepted("-{x}", "x")


@dataclass(frozen=True)
class _Template:
    """One expression of generated code: a format string over the fields ``x``, ``y``, ``out``, ``g``.

    ``binding`` is its binding class, ``count[f]`` how often field ``f`` occurs, and
    ``accepts[f]`` (for a field that occurs once) the classes it takes without parentheses.
    A template that is one field alone (``{g}``) is ``bare``: what fills it keeps its own class.
    """

    text: str
    binding: int
    count: dict[str, int]
    accepts: dict[str, frozenset[int]]
    bare: bool


def _template(tree: ast.expr) -> _Template:
    """Return the template of an expression written over the placeholders ``__x__`` ...."""
    text = _format_string(ast.unparse(tree))
    count = {f: text.count("{" + f + "}") for f in _FIELDS}
    accepts = {f: _accepted(text, f) for f, c in count.items() if c == 1}
    bare = text in ("{" + f + "}" for f in _FIELDS)
    return _Template(text, _binding(tree), count, accepts, bare)


_NUMBER_NAMES = {"_INF": math.inf, "_NAN": math.nan}


class _Fold(ast.NodeTransformer):
    """Fold what depends on constants only, in one table expression with its constant operand.

    ``2.0 - 1`` becomes ``1.0`` and ``(0.0 if 2.0 == 0 else e)`` becomes ``e``, each computed
    by the same float operation the generated code would run; ``_div(e, c)`` becomes
    ``e / c`` for a constant ``c`` other than zero, where the helper does exactly that division.
    """

    def __init__(self) -> None:
        self.namespace = codegen.float_namespace()
        self.namespace.update(_NUMBER_NAMES)

    def number(self, node: ast.AST) -> float | None:
        """Return the number a constant expression node is, or None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in _NUMBER_NAMES:
            return _NUMBER_NAMES[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.number(node.operand)
            return None if inner is None else -inner
        return None

    def generic_visit(self, node: ast.AST) -> ast.AST:
        node = super().generic_visit(node)
        if isinstance(node, ast.IfExp):
            test = self.number(node.test)
            if test is None:
                return node
            return node.body if test else node.orelse
        if not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call)):
            return node
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                return node
            operands: list[ast.expr] = list(node.args)
            divisor = self.number(node.args[1]) if node.func.id == "_div" and len(node.args) == 2 else None
            if divisor is not None and divisor != 0.0 and self.number(node.args[0]) is None:
                return ast.BinOp(node.args[0], ast.Div(), node.args[1])
        else:
            operands = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
        if isinstance(node, ast.UnaryOp) and self.number(node) is not None:
            return node  # a negative number as _literal writes it
        if not all(self.number(c) is not None for c in operands):
            return node
        code = builtins.compile(ast.fix_missing_locations(ast.Expression(node)), "<fold>", "eval")
        value = eval(code, dict(self.namespace))  # noqa: S307 - the table's own expression on numbers
        if isinstance(value, bool):
            return ast.Constant(value)
        return ast.parse(_literal(float(value)), mode="eval").body


@dataclass(frozen=True)
class _Rule:
    """The code of one kind of node (with its constant operand, if any, written in).

    ``forward`` computes the node from the fields of its operands. ``terms[k]`` is what
    parent ``k`` receives by the chain rule from the node's gradient ``g``, as
    :func:`autograd_tiny.codegen.contribution` writes it, with the sign it is added with
    (``-`` for a derivative of -1, as :func:`autograd_tiny.codegen.accumulate` subtracts).
    """

    forward: _Template
    terms: tuple[tuple[str, _Template], ...]
    operands: tuple[str, ...]  # per parent: the operand name it fills ("x" or "y")
    reads: frozenset[str]  # the fields (x, y, out) that the terms read
    grad_uses: int  # how often the terms read g, together

    @property
    def uses(self) -> tuple[tuple[str, int, bool], ...]:
        """Per parent: its operand name, how often the forward expression reads it, and
        whether the terms read it."""
        return tuple((name, self.forward.count[name], name in self.reads) for name in self.operands)


def _make_rule(kind: Kind, constant: str | None) -> _Rule:
    op = kind.op
    operands = dict(_PLACEHOLDERS)
    if kind.const is not None:
        assert constant is not None
        operands[_OPERAND[kind.const]] = constant
    fold = _Fold()

    def template(source: str) -> _Template:
        return _template(fold.visit(ast.parse(source, mode="eval").body))

    forward = template(codegen.substitute(op.forward, operands))
    terms = []
    positions = kind.variable_positions()
    for i in positions:
        derivative = op.derivatives[i]
        if codegen.constant_value(derivative) == -1.0:
            terms.append(("-", template("__g__")))
        else:
            terms.append(("+", template(codegen.contribution("__g__", derivative, operands))))
    reads = frozenset(f for _, t in terms for f in ("x", "y", "out") if t.count[f])
    return _Rule(forward, tuple(terms), tuple(_OPERAND[i] for i in positions), reads,
                 sum(t.count["g"] for _, t in terms))


def _with_constant(rule: _Rule, constant: str) -> _Rule:
    """Return ``rule``, made with the placeholder ``__c__`` for its constant, with ``constant`` there."""
    def put(t: _Template) -> _Template:
        accepts = {f: ok for f, ok in t.accepts.items() if f != "c"}
        return replace(t, text=t.text.replace("{c}", constant), count={**t.count, "c": 0}, accepts=accepts)

    return replace(rule, forward=put(rule.forward), terms=tuple((sign, put(t)) for sign, t in rule.terms))


@cache
def _generic(kind: Kind) -> _Rule | None:
    """Return the rule of ``kind`` with a placeholder for its constant, when no constant can be
    folded into it (as a nonzero constant would be, if any could), else None."""
    rule = _make_rule(kind, "__c__")
    two = _with_constant(rule, "2.0")
    return rule if two == _make_rule(kind, "2.0") else None


_RULES: dict[tuple[str, str | None], _Rule] = {}
#: The same rules by kind and constant, for every constant except zeros and nan (where
#: equal floats, -0.0 and 0.0, need different code, or a nan is not equal to itself).
_BY_NUMBER: dict[tuple[Kind, float | None], _Rule] = {}


def _rule(v: Value) -> _Rule:
    """Return the code of the node ``v`` (made once per kind and constant, then reused)."""
    kind, arg = v._kind, v._arg
    found = _BY_NUMBER.get((kind, arg))  # type: ignore[arg-type]
    if found is not None:
        return found
    assert kind is not None
    key = (kind.name, None if arg is None else _literal(arg))
    rule = _RULES.get(key)
    if rule is None:
        if len(_RULES) > 10_000:
            _RULES.clear()
        generic = _generic(kind) if key[1] is not None else None
        if generic is not None:
            assert key[1] is not None
            rule = _with_constant(generic, key[1])
        else:
            rule = _make_rule(kind, key[1])
        _RULES[key] = rule
    if arg is None or arg == arg and arg != 0.0:
        if len(_BY_NUMBER) > 10_000:
            _BY_NUMBER.clear()
        _BY_NUMBER[kind, arg] = rule
    return rule


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


_PROGRAM_NUMBERS = itertools.count()


def _function(name: str, args: str, body: list[str], result: str) -> str:
    lines = [f"def {name}({args}):"]
    lines.extend("    " + line for line in body)
    lines.append(f"    return {result}")
    return "\n".join(lines)


#: An inlined piece may nest at most this deep (in inlined pieces and summed terms), so that
#: Python's compile() never meets an expression deeper than it can handle.
_MAX_DEPTH = 40
#: At most this many chain-rule terms are summed in one statement.
_MAX_TERMS = 32


def _chain_term(term: _Template, fields: dict[str, str], grad: _Expr) -> _Expr:
    """Return what one parent receives from gradient ``grad`` through ``term`` (the template of a
    rule's chain-rule term, its fields filled in except ``g``, which is set here)."""
    if term.bare:
        return grad
    fields["g"] = grad[0] if grad[1] in term.accepts.get("g", _ALL) else f"({grad[0]})"
    return term.text.format_map(fields), term.binding, grad[2] + 1


def _sum(base: str | None, terms: list[tuple[str, _Expr]]) -> _Expr:
    """Return ``base + t1 - t2 + ...``, summed left to right as eager adds them (from the first
    term when there is no ``base``)."""
    if base is None and len(terms) == 1 and terms[0][0] == "+":
        return terms[0][1]
    text, cls = base, _ATOM
    depth = 0
    for sign, term in terms:
        if term[2] > depth:
            depth = term[2]
        if text is None:
            text, cls = (term[0], term[1]) if sign == "+" else ("-" + _wrap(term, _NEGATED), 4)
        else:
            left = text if cls in _SUM_LEFT else f"({text})"
            text, cls = f"{left} {sign} {_wrap(term, _SUM_RIGHT)}", 2
    assert text is not None
    return text, cls, depth + len(terms) - (base is None)


def _comment(labels: list[str]) -> str:
    """Return ``  # label, label`` for the labels of what one statement computes ('' for none).

    Every character that is not printable (line breaks among them) is written as its
    escape, and ``*/`` as ``*\\/``: a label cannot end the comment, whatever it holds.
    """
    shown = []
    for label in labels:
        text = printable(label).replace("*/", "*\\/")
        shown.append(text if len(text) <= 40 else text[:37] + "...")
    return "  # " + ", ".join(shown) if shown else ""


# -- repeated structure ---------------------------------------------------------------------------
#
# A training graph over a batch repeats one per-sample subgraph with other leaves (and other
# constants: inputs given as numbers). Such a subgraph is found as the nodes that reach the
# outputs only through one node r (r post-dominates them): its *block*. Blocks whose nodes
# have the same kinds in the same shape are written as one pair of functions (forward and
# backward), called once per block with the block's own inputs, so the code grows with the
# model, not with the batch. A block's nodes must be consecutive in the topological order
# (leaves aside): then running the block's backward function at r's turn adds to every
# gradient outside the block exactly what the eager engine adds there, in its order.

#: The fewest nodes a block has (smaller repeats are not worth a call).
_MIN_BLOCK = 24
#: Steps allowed to find where two paths to the outputs meet, before giving up on a node.
_MEET_LIMIT = 256


def _find_blocks(nodes: Sequence[Value], pa: array[int], pb: array[int], rules: Sequence[_Rule | None],
                 n0: int, out_pos: Sequence[int]) -> array[int]:
    """Return, per node, the position of the root of the block it belongs to (-1: none).

    Only blocks of the first output's graph are made, with at least :data:`_MIN_BLOCK` nodes,
    and only where at least two blocks have the same shape.
    """
    n = len(nodes)
    top = n  # a node above every output
    below = array("q", [-2]) * n  # the nearest node every path to the outputs passes (top: none)
    for i in out_pos:
        below[i] = top

    def meet(a: int, b: int) -> int:
        for _ in range(_MEET_LIMIT):
            if a == b:
                return a
            if a < b:
                a = below[a]
            else:
                b = below[b]
        return top

    for j in range(n - 1, -1, -1):
        if rules[j] is None:
            continue
        for p in (pa[j], pb[j]):
            if p < 0 or rules[p] is None:
                continue
            q = below[p]
            below[p] = j if q == -2 else meet(q, j)
    size = array("q", [1]) * n
    shape = [0] * n
    for i in range(n):
        rule = rules[i]
        if rule is None:
            continue
        if below[i] < top:
            size[below[i]] += size[i]
        v = nodes[i]
        kind = v._kind
        assert kind is not None
        key = kind.name if v._arg is None or _generic(kind) is not None else (kind.name, _literal(v._arg))
        a, b = pa[i], pb[i]
        shape[i] = hash((key, shape[a] if a >= 0 else -1, shape[b] if b >= 0 else -1))
    groups: dict[tuple[int, int], int] = {}
    for i in range(n0):
        if rules[i] is not None and size[i] >= _MIN_BLOCK:
            groups[shape[i], size[i]] = groups.get((shape[i], size[i]), 0) + 1
    # Roots, outermost first: a repeated shape with no chosen root above it.
    block = array("q", [-1]) * n
    interior_before = array("q", bytes(8 * (n + 1)))
    for i in range(n):
        interior_before[i + 1] = interior_before[i] + (rules[i] is not None)
    for i in range(n0 - 1, -1, -1):
        if rules[i] is None:
            continue
        up = below[i]
        if up < top and block[up] >= 0:
            block[i] = block[up]
        elif size[i] >= _MIN_BLOCK and groups.get((shape[i], size[i]), 0) >= 2:
            block[i] = i
    # Keep a block only when its nodes are consecutive (leaves aside) and nothing outside
    # reads a node of it other than its root.
    first = {}
    for i in range(n):
        r = block[i]
        if r >= 0 and r not in first:
            first[r] = i
    bad = {r for r, lo in first.items()
           if interior_before[r + 1] - interior_before[lo] != size[r] or r >= n0}
    for j in range(n):
        if rules[j] is None:
            continue
        for p in (pa[j], pb[j]):
            if p >= 0 and block[p] >= 0 and block[p] != p and block[j] != block[p]:
                bad.add(block[p])
    for i in out_pos:
        if block[i] >= 0 and block[i] != i:
            bad.add(block[i])
    if bad:
        for i in range(n):
            if block[i] in bad:
                block[i] = -1
    return block


@dataclass
class _BlockCode:
    """The two functions of one shape of block, and how a call site fills their arguments.

    A block's operands from outside are its *inputs*, numbered in the order its forward
    pass first reads them (a node's position, or ``~i`` for the constant operand of node
    ``i``; see :func:`_block_inputs`). An input that is the same leaf in every block of
    the shape (a weight) is *shared*: the functions read its value as the global ``_v<j>``
    (``j``: its leaf slot; set at every forward pass) and add its chain-rule terms to
    ``G[j]`` in place. The others are passed: the forward function ``(*passed)`` returns
    the root's value and a tuple of the values the backward function reads; the backward
    function ``(G, g, S, [K,] *values of reads, *sums of grads)`` takes the root's gradient
    and that tuple and returns the new sums, ``terms[k]`` terms added to ``grads[k]``.
    ``shared_terms`` counts the terms each shared input (by its input number) receives.
    With ``skippable``, the backward function takes ``K`` (see :func:`_backward_flag`) and
    leaves out what a gradient of ±0.0 would add.
    """

    forward: str
    backward: str
    passed: list[int]
    reads: list[int]
    grads: list[int]
    terms: list[int]
    shared_terms: dict[int, int]
    skippable: bool = False


_READ_NAME = re.compile(r"x\d+")


def _finite_atom(node: ast.expr) -> bool:
    """True for a value the guard of a skippable block checks (a field or an input ``x<k>``),
    or a finite number."""
    if isinstance(node, ast.Name):
        return node.id in ("__x__", "__y__", "__out__") or _READ_NAME.fullmatch(node.id) is not None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
        and not isinstance(node.value, bool) and math.isfinite(node.value)


def _vanishing(node: ast.expr) -> bool:
    """True when the chain-rule term ``node`` is exactly 0.0 or -0.0 whenever the gradient
    ``__g__`` is 0.0 or -0.0 and every value it multiplies by is finite.

    That holds for the gradient itself, its negation, a structural zero, a condition whose
    branches both hold it, and a product of such a term with a field or a finite number.
    A division, or a product with an expression (``g * (1 - out * out)``, which can
    overflow), is not accepted.
    """
    if isinstance(node, ast.Name):
        return node.id == "__g__"
    if isinstance(node, ast.Constant):
        return isinstance(node.value, float) and node.value == 0.0
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.USub) and _vanishing(node.operand)
    if isinstance(node, ast.IfExp):
        return _vanishing(node.body) and _vanishing(node.orelse)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return (_vanishing(node.left) and _finite_atom(node.right)) or \
            (_vanishing(node.right) and _finite_atom(node.left))
    return False


def _term_vanishes(term: _Template) -> bool:
    """True when a rule's chain-rule term is ±0.0 for a ±0.0 gradient and finite reads (see
    :func:`_vanishing`)."""
    text = term.text.format_map({f: f"__{f}__" for f in _FIELDS})
    return _vanishing(ast.parse(text, mode="eval").body)


def _skip_points(members: Sequence[int], pa: array[int], pb: array[int],
                 rules: dict[int, _Rule]) -> set[int]:
    """Return the members of a block whose gradient, once complete, may be tested for ±0.0.

    A member d qualifies when every member before it (in the topological order: after it in
    the backward pass) reaches the root only through d, so that its gradient is d's times
    factors, when no member after d adds to a gradient outside the block (nothing outside has
    been added to when d's turn comes), and when the terms of d and of every member before
    it are ±0.0 for a gradient of ±0.0 and finite values (:func:`_term_vanishes`).
    """
    inside = set(members)
    highest: dict[int, int] = {}  # member -> the last member that reads it
    for i in members:
        for p in (pa[i], pb[i]):
            if p in inside:
                highest[p] = max(highest.get(p, -1), i)
    outside_after = [False] * (len(members) + 1)  # some member from k on has a parent outside
    for k in range(len(members) - 1, -1, -1):
        i = members[k]
        outside_after[k] = outside_after[k + 1] or any(p >= 0 and p not in inside for p in (pa[i], pb[i]))
    points = set()
    reach = -1
    vanish = True
    for k, i in enumerate(members):
        vanish = vanish and all(_term_vanishes(t) for _, t in rules[i].terms)
        if not vanish:
            break
        if reach <= i and not outside_after[k + 1]:
            points.add(i)
        reach = max(reach, highest.get(i, -1))
    return points


def _block_inputs(members: Sequence[int], nodes: Sequence[Value], pa: array[int], pb: array[int],
                  uses: bytearray, read: bytearray) -> tuple[tuple[object, ...], list[int]]:
    """Return the block's shape (what its code depends on, exactly) and its inputs, in order.

    Equal constants of one kind of node are one input (-0.0 and 0.0 are not equal here).
    """
    where = {i: k for k, i in enumerate(members)}
    slot: dict[int, int] = {}
    constants: dict[tuple[str, str], int] = {}
    inputs: list[int] = []
    shape: list[object] = []
    for i in members:
        v = nodes[i]
        kind = v._kind
        assert kind is not None
        if v._arg is not None and _generic(kind) is not None:
            literal = (kind.name, _literal(v._arg))
            if literal not in constants:
                constants[literal] = len(inputs)
                inputs.append(~i)
            key: object = (kind.name, ~constants[literal])
        else:
            key = (kind.name, None if v._arg is None else _literal(v._arg))
        refs = []
        for p in (pa[i], pb[i]):
            if p < 0:
                continue
            if p in where:
                refs.append(where[p])
            else:
                if p not in slot:
                    slot[p] = len(inputs)
                    inputs.append(p)
                refs.append(~slot[p])
        shape.append((key, *refs, uses[i], read[i]))
    return tuple(shape), inputs


def _kind_name(v: Value) -> str:
    """Return the name of the kind of the interior node ``v``."""
    assert v._kind is not None
    return v._kind.name


def _block_code(members: Sequence[int], nodes: Sequence[Value], pa: array[int], pb: array[int],
                rules: Sequence[_Rule | None], uses: bytearray, read: bytearray,
                inputs: Sequence[int], shared: dict[int, int]) -> _BlockCode:
    """Return the code of the block made of ``members`` (positions, ascending; the root last),
    whose inputs are ``inputs``; ``shared`` maps a shared input's number to its leaf slot.

    The text depends only on the block's shape and on ``shared``, never on which leaves
    or constants fill the passed inputs.
    """
    root = members[-1]
    inside = set(members)
    slot = {key: k for k, key in enumerate(inputs)}
    constants = {(_kind_name(nodes[~key]), _literal(nodes[~key]._arg)): k  # type: ignore[arg-type]
                 for k, key in enumerate(inputs) if key < 0}

    def source(key: int) -> str:
        k = slot[key]
        return f"_v{shared[k]}" if k in shared else f"x{k}"

    # Forward: the members in order; a value read once, and not by the backward function,
    # is written into the expression that reads it.
    local: dict[int, str] = {}
    names = _Names("a")
    pending: dict[int, _Expr] = {}
    body: list[str] = []
    block_rules: dict[int, _Rule] = {}
    reads: set[int] = set()  # passed inputs the backward function reads
    for i in members:
        rule = rules[i]
        assert rule is not None
        v = nodes[i]
        kind = v._kind
        assert kind is not None
        generic = _generic(kind) if v._arg is not None else None
        if generic is not None:
            assert v._arg is not None
            k = constants[kind.name, _literal(v._arg)]
            rule = _with_constant(generic, f"x{k}")
            if any(t.count["c"] for _, t in generic.terms):
                reads.add(k)
        block_rules[i] = rule
        forward = rule.forward
        fields: dict[str, str] = {}
        depth = 0
        for name, p in zip(rule.operands, (pa[i], pb[i])):
            if p not in inside:
                fields[name] = source(p)
                continue
            inlined = pending.pop(p, None)
            if inlined is not None:
                fields[name] = _wrap(inlined, forward.accepts[name])
                depth = max(depth, inlined[2])
            else:
                fields[name] = local[p]
        text = forward.text.format_map(fields)
        if i != root and uses[i] == 1 and not read[i] and depth < _MAX_DEPTH and not forward.bare:
            pending[i] = (text, forward.binding, depth + 1)
            continue
        local[i] = names.new()
        body.append(f"{local[i]} = {text}")
    assert not pending
    saved = [i for i in members if read[i]]
    passed = [k for k in range(len(inputs)) if k not in shared]
    forward_source = _function("_blockf", ", ".join(f"x{k}" for k in passed), body,
                               f"{local[root]}, ({''.join(local[i] + ', ' for i in saved)})")

    # Backward: the members in reverse order, as the main backward pass handles nodes; the
    # gradient of a passed input is summed from its starting value (an argument), that of
    # a shared one in G.
    values = {i: f"s{k}" for k, i in enumerate(saved)}
    grads = _Names("g")
    acc: dict[int, tuple[str | None, list[tuple[str, _Expr]]]] = {}
    outside: dict[int, int] = {}  # input node -> terms received
    # shared input node -> the gradient every one of its terms is a multiple of (None: not so)
    multiple_of: dict[int, str | None] = {}
    lines: list[str] = []
    points = _skip_points(members, pa, pb, block_rules)
    checks: list[str] = []  # the gradients tested, in the order of the tests
    for i in reversed(members):
        rule = block_rules[i]
        grad: _Expr = ("g", _ATOM, 0) if i == root else _sum(*acc.pop(i))
        if i in points and (i == root or " if " in grad[0]):
            # Here the rest of the block only passes this gradient on: test it.
            if grad[1] != _ATOM or not grad[0].isidentifier():
                target = grads.new()
                lines.append(f"{target} = {grad[0]}")
                grad = (target, _ATOM, 0)
            checks.append(grad[0])
            lines.append(f"\0{grad[0]}")
        if grad[2] > 0 and (rule.grad_uses > 1 or grad[2] >= _MAX_DEPTH):
            target = grads.new()
            lines.append(f"{target} = {grad[0]}")
            grad = (target, _ATOM, 0)
        fields = {}
        if "out" in rule.reads:
            fields["out"] = values[i]
        for name, p in zip(rule.operands, (pa[i], pb[i])):
            if name in rule.reads:
                if p in inside:
                    fields[name] = values[p]
                else:
                    fields[name] = source(p)
                    if slot[p] not in shared:
                        reads.add(slot[p])
        named = grad[0] if grad[1] == _ATOM and grad[0].isidentifier() else None
        for (sign, term), p in zip(rule.terms, (pa[i], pb[i])):
            expr = _chain_term(term, fields, grad)
            entry = acc.get(p)
            if entry is None:
                if p in inside:
                    entry = acc[p] = (None, [])
                else:
                    outside[p] = 0
                    k = slot[p]
                    entry = acc[p] = (f"G[{shared[k]}]" if k in shared else f"t{k}", [])
                    multiple_of[p] = named
            if p not in inside:
                outside[p] += 1
                if multiple_of[p] != named or not _term_vanishes(term):
                    multiple_of[p] = None
            entry[1].append((sign, expr))
            if len(entry[1]) >= _MAX_TERMS:
                target = grads.new()
                lines.append(f"{target} = {_sum(*entry)[0]}")
                acc[p] = (target, [])
                multiple_of[p] = None
    order = [p for p in outside if slot[p] not in shared]
    # A shared leaf's sum receives terms that are all multiples of one gradient (a neuron's,
    # say): when that gradient is ±0.0 (a ReLU that is off for this sample), they are ±0.0
    # and are not added, as for a skipped block (see below). Each statement stores another
    # sum, so they can be grouped by that gradient, one test per group.
    groups: dict[str | None, list[str]] = {}
    for p in outside:
        if slot[p] in shared:
            by = multiple_of[p]
            groups.setdefault(None if by in checks else by, []).append(
                f"G[{shared[slot[p]]}] = {_sum(*acc[p])[0]}")
    lines += groups.pop(None, [])
    guarded = bool(groups)
    for by, statements in groups.items():
        lines.append(f"if {by} or not ok:")
        lines += ["    " + statement for statement in statements]
    read_list = sorted(reads)
    result = "(" + "".join(_sum(*acc[p])[0] + ", " for p in order) + ")"
    skippable = bool(checks) or guarded
    params = ["G", "g", "S", *(["K"] if skippable else []), *(f"x{k}" for k in read_list),
              *(f"t{slot[p]}" for p in order)]
    # A gradient of ±0.0 gives every term below it ±0.0 when what they multiply by is
    # finite (the shared leaves' values: K, checked once per pass by the caller; the rest
    # here): adding them would change no sum the caller can see (see _backward_flag).
    finite = (["sum(S)"] if saved else []) + [f"x{k}" for k in read_list]
    check = f"K and _isfinite({' + '.join(finite)})" if finite else "K"
    unchanged = "(" + "".join(f"t{slot[p]}, " for p in order) + ")"

    def test(grad: str) -> str:
        return f"if {grad} == 0.0 and {'ok' if guarded else check}: return {unchanged}"

    head = [f"ok = {check}"] if guarded else []
    if lines and lines[0] == "\0g":  # the root's test comes before the saved values are unpacked
        head.append(test("g"))
        del lines[0]
    if saved:
        head.append(f"{''.join(f's{k}, ' for k in range(len(saved)))}= S")
    lines = [test(line[1:]) if line.startswith("\0") else line for line in lines]
    backward_source = _function("_blockb", ", ".join(params), head + lines, result)
    return _BlockCode(forward_source, backward_source, passed, read_list, [slot[p] for p in order],
                      [outside[p] for p in order],
                      {slot[p]: outside[p] for p in outside if slot[p] in shared}, skippable)


class _Program:
    """Writes and compiles the functions of one graph, chunk by chunk.

    Only arrays of small ints per node are kept while writing; each function's
    source is compiled as soon as it is written and then dropped (unless the
    whole text was asked for).
    """

    def __init__(self, outputs: Sequence[Value], chunk_size: int, keep_source: bool,
                 repeats: bool = True) -> None:
        start = time.perf_counter()
        self.compile_seconds = 0.0
        self.pieces: list[str] | None = [] if keep_source else None
        self.filename = f"<autograd_tiny compiled {next(_PROGRAM_NUMBERS)}>"
        self.namespace = codegen.float_namespace()
        self.namespace.update(_INF=math.inf, _NAN=math.nan, _isfinite=math.isfinite)
        self.num_functions = 0

        nodes, index, n0 = _order(outputs)
        n = len(nodes)
        self.num_nodes = n
        cs = chunk_size
        # Per node: its parents' positions (-1: none), its leaf slot (-1: interior), its rule.
        pa = array("q", bytes(8 * n))
        pb = array("q", bytes(8 * n))
        leaf_slot = array("q", [-1]) * n
        rules: list[_Rule | None] = [None] * n
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
                rules[i] = _rule(v)
        self.leaves = tuple(leaves)
        self.header = _header(leaves) if keep_source else ""
        self.next_line = self.header.count("\n") + 4  # the line of the first function
        out_pos = [index[v] for v in outputs]
        del index
        labels = [v._label for v in nodes] if keep_source else None
        block = _find_blocks(nodes, pa, pb, rules, n0, out_pos) if repeats else array("q", [-1]) * n

        # need[i]: node i's value is read outside the one expression that computes it (by a
        # later chunk, by the backward pass, as an output, or by two expressions);
        # remaining[i]: how many chain-rule terms node i receives in the backward pass.
        need = bytearray(n)
        read = bytearray(n)  # the backward pass reads the value
        uses = bytearray(n)  # how often forward expressions read the value (2: more than once)
        remaining = array("q", bytes(8 * n))
        facts = {}
        for rule in rules:
            if rule is not None and id(rule) not in facts:
                facts[id(rule)] = (rule.uses, "out" in rule.reads)
        for i in range(n):
            rule = rules[i]
            if rule is None:
                continue
            operands, reads_out = facts[id(rule)]
            c = (block[i] if block[i] >= 0 else i) // cs  # a block's nodes go with its root
            for (_, count, reads), p in zip(operands, (pa[i], pb[i])):
                if (block[p] if block[p] >= 0 else p) // cs != c:
                    need[p] = 1
                if reads and i < n0:
                    need[p] = read[p] = 1
                u = uses[p] + count
                uses[p] = u if u < 2 else 2
                if i < n0:
                    remaining[p] += 1
            if reads_out and i < n0:
                need[i] = read[i] = 1
        for i in out_pos:
            need[i] = 1

        # Repeated blocks: one pair of functions per shape. The tuple of values a block's
        # forward function saves for its backward function is kept as the value of the
        # block's first node (which nothing outside the block reads).
        members: dict[int, list[int]] = {}
        for i in range(n):
            if block[i] >= 0:
                members.setdefault(block[i], []).append(i)
        first_member: dict[int, int] = {r: group[0] for r, group in members.items()}
        by_shape: dict[tuple[object, ...], list[tuple[int, list[int]]]] = {}
        for r, group in members.items():
            shape, inputs = _block_inputs(group, nodes, pa, pb, uses, read)
            by_shape.setdefault(shape, []).append((r, inputs))
            need[group[0]] = 1
        codes: dict[int, tuple[_BlockCode, list[int], str, str]] = {}
        globals_read: set[int] = set()  # leaf slots whose values blocks read as globals _v<slot>
        for k, found in enumerate(by_shape.values()):
            r, inputs = found[0]
            shared = {j: leaf_slot[p] for j, p in enumerate(inputs)
                      if p >= 0 and leaf_slot[p] >= 0 and all(other[j] == p for _, other in found)}
            code = _block_code(members[r], nodes, pa, pb, rules, uses, read, inputs, shared)
            globals_read.update(shared.values())
            self._add(code.forward.replace("def _blockf(", f"def _r{k}f(", 1))
            self._add(code.backward.replace("def _blockb(", f"def _r{k}b(", 1))
            for r, inputs in found:
                codes[r] = (code, inputs, f"_r{k}f", f"_r{k}b")
        self.num_blocks = len(members)
        self.num_shapes = len(by_shape)
        self.skips = any(code.skippable for code, _, _, _ in codes.values())
        del members, by_shape

        # Where each stored value lives between functions: tuple F[home_t], position home_j.
        home_t = array("q", [-1]) * n
        home_j = array("q", [-1]) * n
        sizes = [len(leaves)]
        for i in range(n):
            s = leaf_slot[i]
            if s >= 0:
                home_t[i], home_j[i] = 0, s

        # -- forward ---------------------------------------------------------------------
        # A value read once, by an expression of the same function, and by nothing else is
        # not stored: its expression is written into that one expression.
        calls: list[str] = []
        for base in range(0, n, cs):
            end = min(base + cs, n)
            names = _Names("a")
            local: dict[int, str] = {}
            imports: dict[int, str] = {}
            pending: dict[int, tuple[_Expr, list[str]]] = {}
            body: list[str] = []
            exports: list[int] = []
            for i in range(base, end):
                rule = rules[i]
                if rule is None:
                    continue
                if block[i] >= 0:
                    if block[i] == i:
                        code, inputs, fname, _ = codes[i]
                        args = []
                        for key in (inputs[k] for k in code.passed):
                            if key < 0:
                                arg = nodes[~key]._arg
                                assert arg is not None
                                args.append(_literal(arg))
                            elif key in pending:
                                args.append(pending.pop(key)[0][0])
                            elif key in local:
                                args.append(local[key])
                            else:
                                args.append(names.new())
                                local[key] = imports[key] = args[-1]
                        lo = first_member[i]
                        local[i], local[lo] = names.new(), names.new()
                        shown = [labels[i]] if labels is not None and labels[i] else []
                        body.append(f"{local[i]}, {local[lo]} = {fname}({', '.join(args)}){_comment(shown)}")
                        exports += [j for j in (i, lo) if need[j]]
                    continue
                forward = rule.forward
                fields: dict[str, str] = {}
                depth = 0
                said: list[str] = []
                for name, p in zip(rule.operands, (pa[i], pb[i])):
                    inlined = pending.pop(p, None)
                    if inlined is not None:
                        expr, words = inlined
                        fields[name] = _wrap(expr, forward.accepts[name])
                        if expr[2] > depth:
                            depth = expr[2]
                        said += words
                    elif p in local:
                        fields[name] = local[p]
                    else:
                        fields[name] = local[p] = imports[p] = names.new()
                text = forward.text.format_map(fields)
                if labels is not None and labels[i]:
                    said.append(labels[i])
                if uses[i] == 1 and not need[i] and depth < _MAX_DEPTH and not forward.bare:
                    pending[i] = ((text, forward.binding, depth + 1), said)
                    continue
                target = local[i] = names.new()
                body.append(f"{target} = {text}{_comment(said)}")
                if need[i]:
                    exports.append(i)
            assert not pending
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
        # A weight that blocks read is a global of the program, set at every forward pass:
        # one load for Python, where an index into the leaves' tuple is three.
        head = ["F = [tuple([leaf.data for leaf in L])]"]
        if globals_read:
            self.namespace["_setv"] = _global_setter(self.namespace, sorted(globals_read))
            head.append("_setv(F[0])")
        self._add(_function("_forward", "L", [*head, *calls],
                            f"({results},), F"))

        # -- backward --------------------------------------------------------------------
        # Interior nodes of the first output's graph in reverse order, each passing its
        # chain-rule terms to its parents, in the eager engine's order. A node's terms are
        # summed left to right in the order they come, as eager's ``grad +=`` does, and
        # written out when the node's turn comes (or every _MAX_TERMS terms): a gradient
        # read by one term only is written into that term instead of being stored. A leaf's
        # sum starts from the leaf's .grad and is stored back after its last term. An
        # interior node's starts from its first term c, where the eager engine has
        # 0.0 + c: the same number, except that c = -0.0 stays -0.0. No leaf can see that:
        # adding -0.0 instead of 0.0 to a leaf gradient changes nothing unless that
        # gradient is -0.0 before backward(). A sum still open at the end of a function
        # waits in the list G for the next one.
        state = bytearray(n)  # 0: no term yet, 1: being summed, 2: done
        waiting: dict[int, int] = {}  # node -> its slot in G between functions
        free: list[int] = []  # slots of G no longer used
        num_slots = len(leaves)  # G[j] for j < len(leaves): leaf j's sum, where blocks add to it
        calls = []
        root = n0 - 1
        top = ((n0 - 1) // cs) * cs
        for base in range(top, -1, -cs):
            end = min(base + cs, n0)
            values = _Names("a")
            grads = _Names("g")
            wanted: dict[int, str] = {}  # node -> the local name of its value
            acc: dict[int, tuple[str | None, list[tuple[str, _Expr]]]] = {}  # node -> (start, terms)
            body = []
            freed: list[int] = []  # slots to free once this function's stores are written

            def store_leaf(p: int, total: str, body: list[str] = body, freed: list[int] = freed) -> None:
                """Write leaf ``p``'s finished gradient and free the slot that carried it."""
                body.append(f"L[{leaf_slot[p]}].grad = {total}")
                state[p] = 2
                if p in waiting and waiting[p] >= len(leaves):
                    freed.append(waiting.pop(p))
                waiting.pop(p, None)

            for i in range(end - 1, base - 1, -1):
                rule = rules[i]
                if rule is None or block[i] >= 0 and block[i] != i:
                    continue
                # The gradient of node i, complete now.
                if i == root and state[i] == 0:
                    grad: _Expr = ("seed", _ATOM, 0)
                else:
                    if i in acc:
                        start_text, terms = acc.pop(i)
                    else:  # nothing new in this function: the sum waits in G
                        start_text, terms = f"G[{waiting[i]}]", []
                    if i in waiting:
                        freed.append(waiting.pop(i))
                    grad = _sum(start_text, terms)
                if block[i] >= 0:  # the root of a block: its backward function adds to its inputs
                    code, inputs, _, bname = codes[i]
                    lo = first_member[i]
                    # A shared leaf's sum goes to its own slot of G, where the call adds to it.
                    for k in code.shared_terms:
                        p = inputs[k]
                        q = leaf_slot[p]
                        entry = acc.pop(p, None)
                        if entry is not None:
                            text = _sum(*entry)[0]
                            if text != f"G[{q}]":
                                body.append(f"G[{q}] = {text}")
                        elif p in waiting:
                            if waiting[p] != q:
                                body.append(f"G[{q}] = G[{waiting[p]}]")
                                freed.append(waiting[p])
                        else:
                            body.append(f"G[{q}] = L[{q}].grad")
                        waiting[p] = q
                    args = ["G", grad[0], wanted.get(lo) or wanted.setdefault(lo, values.new()),
                            *(["K"] if code.skippable else [])]
                    for k in code.reads:
                        key = inputs[k]
                        if key < 0:
                            arg = nodes[~key]._arg
                            assert arg is not None
                            args.append(_literal(arg))
                        else:
                            args.append(wanted.get(key) or wanted.setdefault(key, values.new()))
                    targets = []
                    for k in code.grads:
                        p = inputs[k]
                        entry = acc.pop(p, None)
                        if entry is not None:
                            args.append(_sum(*entry)[0])
                        elif p in waiting:
                            args.append(f"G[{waiting[p]}]")
                        elif state[p] == 0 and leaf_slot[p] >= 0:
                            args.append(f"L[{leaf_slot[p]}].grad")
                        else:
                            args.append("0.0")  # what the eager engine starts an interior sum from
                        targets.append(grads.new())
                    call = f"{bname}({', '.join(args)})"
                    body.append(f"{''.join(t + ', ' for t in targets)}= {call}" if targets else call)
                    for k, t, count in zip(code.grads, targets, code.terms):
                        p = inputs[k]
                        state[p] = 1
                        remaining[p] -= count
                        if remaining[p] == 0 and leaf_slot[p] >= 0:
                            store_leaf(p, t)
                        else:
                            acc[p] = (t, [])
                    for k, count in code.shared_terms.items():
                        p = inputs[k]
                        state[p] = 1
                        remaining[p] -= count
                        if remaining[p] == 0:
                            body.append(f"L[{leaf_slot[p]}].grad = G[{leaf_slot[p]}]")
                            state[p] = 2
                            del waiting[p]
                    state[i] = 2
                    continue
                if grad[2] > 0 and (rule.grad_uses > 1 or grad[2] >= _MAX_DEPTH):
                    target = grads.new()
                    body.append(f"{target} = {grad[0]}")
                    grad = (target, _ATOM, 0)
                state[i] = 2
                fields = {}
                if rule.reads:
                    if "out" in rule.reads:
                        fields["out"] = wanted.get(i) or wanted.setdefault(i, values.new())
                    for name, p in zip(rule.operands, (pa[i], pb[i])):
                        if name in rule.reads:
                            fields[name] = wanted.get(p) or wanted.setdefault(p, values.new())
                for (sign, term), p in zip(rule.terms, (pa[i], pb[i])):
                    expr = _chain_term(term, fields, grad)
                    entry = acc.get(p)
                    if entry is None:
                        if p in waiting:
                            start_text = f"G[{waiting[p]}]"
                        elif state[p] == 0 and leaf_slot[p] >= 0:
                            start_text = f"L[{leaf_slot[p]}].grad"
                        else:
                            start_text = None
                        entry = acc[p] = (start_text, [])
                        state[p] = 1
                    entry[1].append((sign, expr))
                    remaining[p] -= 1
                    if remaining[p] == 0 and leaf_slot[p] >= 0:
                        store_leaf(p, _sum(*acc.pop(p))[0])
                    elif len(entry[1]) >= _MAX_TERMS:
                        target = grads.new()
                        body.append(f"{target} = {_sum(*entry)[0]}")
                        acc[p] = (target, [])
            stores = []
            for p, (start_text, terms) in acc.items():
                if p in waiting:
                    slot = waiting[p]
                elif free:
                    slot = waiting[p] = free.pop()
                else:
                    slot = waiting[p] = num_slots
                    num_slots += 1
                text = _sum(start_text, terms)[0]
                if text != f"G[{slot}]":
                    stores.append(f"G[{slot}] = {text}")
            free.extend(freed)
            if not body and not stores:
                continue
            head = _import_lines(wanted, home_t, home_j, sizes)
            name = f"_b{len(calls)}"
            self._add(_function(name, "L, F, G, seed, K", head + body + stores, "None"))
            calls.append(f"{name}(L, F, G, seed, K)")
        if n0 and leaf_slot[root] >= 0:  # the output is a leaf: d output / d output = 1
            calls.append(f"L[{leaf_slot[root]}].grad += seed")
        self._add(_function("_backward", "L, F, seed, K", [f"G = [0.0] * {num_slots}", *calls], "None"))
        self.codegen_seconds = time.perf_counter() - start - self.compile_seconds

    def _add(self, source: str) -> None:
        """Compile one function into the namespace (and keep its text if asked to).

        With the text kept, the function is compiled at the line it has in the whole
        program (see :meth:`source`), so that ``inspect.getsource`` and tracebacks show it.
        """
        start = time.perf_counter()
        if self.pieces is not None:
            self.pieces.append(source)
            first = self.next_line
            self.next_line += source.count("\n") + 3  # two blank lines between functions
            source = "\n" * (first - 1) + source
        code = builtins.compile(source, self.filename, "exec")
        code = code.replace(co_consts=tuple(_without_columns(c) if isinstance(c, types.CodeType) else c
                                            for c in code.co_consts))
        exec(code, self.namespace)  # noqa: S102 - code written by _Program from the table
        self.compile_seconds += time.perf_counter() - start
        self.num_functions += 1

    def source(self) -> str | None:
        """Return the program's text (a header naming the leaves' slots, then every function),
        registered with :mod:`linecache` under the functions' file name; None when not kept."""
        if self.pieces is None:
            return None
        text = self.header + "\n\n\n" + "\n\n\n".join(self.pieces) + "\n"
        linecache.cache[self.filename] = (len(text), None, text.splitlines(keepends=True), self.filename)
        return text


#: The kinds of entries of a code object's location table (CPython 3.11 and later,
#: ``Objects/locations.md``) that :func:`_without_columns` writes.
_LINE_ONLY, _NO_LOCATION = 13, 15


def _without_columns(code: types.CodeType) -> types.CodeType:
    """Return ``code`` with the line of every instruction but not its columns.

    Python keeps, per instruction, the columns its expression spans (for the carets under
    a traceback's line). Generated lines are long, so those columns take the longest form
    of the location table and are a fifth of the compiled code's bytes; the lines alone
    are enough to show where an error happened. The new table is checked against the old
    one (the same line for every instruction); ``code`` is returned as it is when they
    differ, as they would if the table had another format.
    """
    lines = [position[0] for position in code.co_positions()]
    table = bytearray()
    previous = code.co_firstlineno
    for line, run in itertools.groupby(lines):
        count = sum(1 for _ in run)
        while count:
            length = min(count, 8)
            count -= length
            if line is None:
                table.append(0x80 | _NO_LOCATION << 3 | (length - 1))
                continue
            table.append(0x80 | _LINE_ONLY << 3 | (length - 1))
            delta = line - previous
            previous = line
            value = -delta << 1 | 1 if delta < 0 else delta << 1
            while value >= 64:
                table.append(0x40 | value & 63)
                value >>= 6
            table.append(value)
    consts = tuple(_without_columns(c) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    try:
        new = code.replace(co_linetable=bytes(table), co_consts=consts)
    except (TypeError, ValueError):
        return code
    return new if [p[0] for p in new.co_positions()] == lines else code


def _global_setter(namespace: dict[str, object], slots: Sequence[int]) -> Callable[[tuple[float, ...]], None]:
    """Return a function that sets the globals ``_v<j>`` of ``namespace`` (for j in ``slots``)
    to the values of the leaves in slots j."""
    names = [f"_v{j}" for j in slots]
    namespace.update(dict.fromkeys(names, 0.0))  # every key exists from now on: updates keep the
    pick = itemgetter(*slots, slots[0])          # dict's keys (and Python's caches of them)

    def set_values(values: tuple[float, ...]) -> None:
        namespace.update(zip(names, pick(values)))

    return set_values


def _header(leaves: Sequence[Value]) -> str:
    """Return the comment lines above a program: what ``L`` is, and the leaves that have labels."""
    lines = [f"# L[j] is the j-th leaf (compiled.leaves[j]); {len(leaves)} leaves"]
    lines += [f"# L[{j}]:{_comment([v._label])[3:]}" for j, v in enumerate(leaves) if v._label]
    return "\n".join(lines)


def _negative_zero(x: float) -> bool:
    """True for -0.0."""
    return x == 0.0 and math.copysign(1.0, x) < 0.0


def _backward_flag(values: tuple[float, ...], grads: Iterable[float]) -> bool:
    """Return whether the backward pass may skip a repeated block whose gradient is ±0.0
    (the argument ``K`` of the generated functions), given the leaves' values and the
    ``.grad`` of every leaf the pass adds to before it starts.

    Such a block would add a term of ±0.0 to every sum it reaches when every value its
    terms multiply by is finite (the block's own are checked where it is called, the
    leaves' here: their sum is finite only when each one is). Adding ±0.0 changes a sum
    only when the sum is -0.0; a leaf's sum that starts as anything but -0.0 never
    becomes -0.0 (IEEE 754 rounds ``x + (-x)`` to +0.0), so it ends with the same bits
    whether the block runs or not. An interior node's sum might keep -0.0 where the
    block would have made it 0.0; what it passes on differs from the eager engine's
    only in the sign of zeros, which no leaf's sum sees. So no skipping when a leaf's
    ``.grad`` is -0.0 before the pass, or a leaf's value is infinite or nan.
    """
    return math.isfinite(sum(values)) and not _has_negative_zero(list(grads))


_NEGATIVE_ZERO = array("d", [-0.0]).tobytes()


def _has_negative_zero(numbers: list[float]) -> bool:
    """True when one of ``numbers`` is -0.0 (found among their bytes, for speed)."""
    try:
        data = array("d", numbers).tobytes()
    except (TypeError, OverflowError):  # not all floats: one by one
        return any(map(_negative_zero, numbers))
    i = data.find(_NEGATIVE_ZERO)
    while i >= 0:
        if i % 8 == 0:
            return True
        i = data.find(_NEGATIVE_ZERO, i + 1)
    return False


def _step_name(momentum: bool, decay: bool, nesterov: bool) -> str:
    """Return the name of the generated step function with (or without) momentum, weight
    decay and Nesterov momentum."""
    return ("_step" + ("_momentum" if momentum else "") + ("_nesterov" if nesterov else "")
            + ("_decay" if decay else ""))


def _step_source(num_params: int, momentum: bool, decay: bool, nesterov: bool) -> str:
    """Return the source of ``_step...(L, P, V, lr, m, k, wd, K)``: one training step, straight-line.

    It sets every parameter's ``.grad`` (``P[j]``) to 0, runs the forward and the
    backward pass (d output / d leaf added to the leaves' ``.grad``; ``K``: skipping
    blocks is allowed for the leaves that are not parameters, see :func:`_backward_flag`)
    and updates every parameter as ``torch.optim.SGD`` does, by the statements
    :func:`autograd_tiny.codegen.sgd_update` writes from the rule that ``nn.SGD`` runs
    (:func:`autograd_tiny.codegen.sgd_rule`; the velocity in ``V[j]``, ``k = 1 - dampening``).
    It returns the outputs' values and what the forward pass saved for ``backward()``.
    """
    body = [f"P[{j}].grad = 0.0" for j in range(num_params)]
    body += ["R, F = _forward(L)", "_backward(L, F, 1.0, K and _isfinite(sum(F[0])))"]
    for j in range(num_params):  # the rule nn.SGD's loop is written from, once per parameter
        body.append(f"p = P[{j}]")
        body += codegen.sgd_update(momentum, decay, nesterov, "p", f"V[{j}]")
    return _function(_step_name(momentum, decay, nesterov), "L, P, V, lr, m, k, wd, K", body, "R, F")


class CompiledGraph:
    """A graph of Values turned into Python code; made by :func:`compile`.

    Attributes:
        leaves: the graph's leaves, in topological order; ``compiled()`` reads their
            ``.data`` and ``backward()`` adds to their ``.grad``.
        num_outputs: how many outputs were compiled.
        num_nodes: how many Values the graph has, leaves included.
        num_functions: how many functions the code was split into.
        num_blocks, num_shapes: how many repeated blocks (per-sample subgraphs) were
            found, and how many distinct shapes they have: one forward and one
            backward function each, called once per block.
        codegen_seconds, compile_seconds: time spent writing the source and in
            Python's ``compile()``.
        params: the parameters :meth:`step` updates (``compile(..., params=...)``).
        source: the generated program (forward functions ``_f*``, backward
            functions ``_b*`` and the two drivers ``_forward`` and ``_backward``),
            kept only when compiled with ``source=True``.
        functions: the generated functions by name (``inspect.getsource`` shows
            them when compiled with ``source=True``).

    The object holds no interior Value of the graph (with ``write_back=True``, only
    the outputs), so dropping the graph frees it even while the compiled object lives.
    """

    def __init__(self, outputs: Sequence[Value], single: bool, chunk_size: int,
                 source: bool, write_back: bool, params: Sequence[Value] = (), repeats: bool = True) -> None:
        program = _Program(outputs, chunk_size, source, repeats)
        self.num_blocks = program.num_blocks
        self.num_shapes = program.num_shapes
        self.params: tuple[Value, ...] = tuple(params)
        self._velocity: list[float | None] = [None] * len(self.params)  # None: no step with momentum yet
        self._steps: dict[tuple[bool, bool, bool], Callable[..., tuple[tuple[float, ...], Saved]]] = {}
        self._program = program
        self.leaves: tuple[Value, ...] = program.leaves
        self._skips = program.skips  # some repeated block may be skipped (see _backward_flag)
        chosen = set(self.params)
        self._others = tuple(v for v in self.leaves if v not in chosen)  # leaves step() does not zero
        self.num_outputs = len(outputs)
        self.num_nodes = program.num_nodes
        self.num_functions = program.num_functions
        self.codegen_seconds = program.codegen_seconds
        self.compile_seconds = program.compile_seconds
        self._source = program.source()
        self._single = single
        self._write_back: tuple[Value, ...] = tuple(outputs) if write_back else ()
        self._forward: Callable[[tuple[Value, ...]], tuple[tuple[float, ...], Saved]]
        self._backward: Callable[[tuple[Value, ...], Saved, float, bool], None]
        namespace = program.namespace
        self._forward, self._backward = namespace["_forward"], namespace["_backward"]  # type: ignore[assignment]
        self._saved: Saved | None = None

    @property
    def functions(self) -> dict[str, Callable[..., object]]:
        """The generated functions, by name (``_forward``, ``_f0`` ..., ``_backward``, ``_b0`` ...,
        and ``_step`` ... once :meth:`step` has run); a new dict."""
        return {name: fn for name, fn in self._program.namespace.items()
                if isinstance(fn, types.FunctionType) and fn.__code__.co_filename == self._program.filename}

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
        return self._results(results)

    def _results(self, results: tuple[float, ...]) -> float | list[float]:
        """Return the outputs' values as the caller gets them (writing them back if asked to)."""
        values = [float(r) for r in results]
        for v, x in zip(self._write_back, values):
            v.data = x
        return values[0] if self._single else values

    def step(self, lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
             dampening: float = 0.0, nesterov: bool = False) -> float | list[float]:
        """Take one training step in generated code: zero, forward, backward and update.

        The same as ``opt.zero_grad()``, ``compiled()``, ``compiled.backward()`` and
        ``opt.step()`` with ``opt = nn.SGD(compiled.params, lr, momentum, ...)``, bit for
        bit, but in one generated function, without a Python loop over the parameters:
        every parameter's ``.grad`` is set to 0 and then holds d output / d parameter
        (other leaves' ``.grad`` are added to, as by ``backward()``), and every parameter
        is updated as ``torch.optim.SGD`` updates it: with ``weight_decay`` wd the
        gradient used is ``grad + wd * data``; with ``momentum`` m a velocity (kept by
        this object) is the gradient at the first step with momentum, then
        ``m * v + (1 - dampening) * grad``, and the parameter moves by ``-lr * v``
        (``-lr * (grad + m * v)`` with ``nesterov``); without momentum by ``-lr * grad``.

        Returns:
            The outputs' values before the update, as a call of this object returns them.

        Raises:
            ValueError: no parameters were given to :func:`compile` (``params=``), or a
                number is out of its range (``lr`` > 0 and finite, ``momentum`` in [0, 1),
                ``dampening`` in [0, 1], ``weight_decay`` >= 0 and finite), or ``nesterov``
                without momentum or with dampening.
            TypeError: one of them is not a real number, or ``nesterov`` not a bool.
        """
        lr = _as_float(lr, "learning rate")
        m = _as_float(momentum, "momentum")
        wd = _as_float(weight_decay, "weight decay")
        damp = _as_float(dampening, "dampening")
        if not self.params:
            raise ValueError("step() updates the parameters given to compile(): "
                             "compile the loss with params=model.parameters()")
        if not 0 < lr < math.inf:
            raise ValueError(f"learning rate must be a finite number > 0, got {lr!r}")
        if not 0 <= m < 1:
            raise ValueError(f"momentum must be in [0, 1), got {m!r}")
        if not 0 <= damp <= 1:
            raise ValueError(f"dampening must be in [0, 1], got {damp!r}")
        if not 0 <= wd < math.inf:
            raise ValueError(f"weight decay must be a finite number >= 0, got {wd!r}")
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be True or False, got {type(nesterov).__name__}")
        if nesterov and (m == 0.0 or damp != 0.0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening 0")
        key = (m != 0.0, wd != 0.0, nesterov)
        if key not in self._steps:
            program = self._program
            program._add(_step_source(len(self.params), *key))
            self._steps[key] = program.namespace[_step_name(*key)]  # type: ignore[assignment]
            self.num_functions = program.num_functions
            if self._source is not None:
                self._source = program.source()
        fn = self._steps[key]
        skip = self._skips and not _has_negative_zero([v.grad for v in self._others])
        results, self._saved = fn(self.leaves, self.params, self._velocity, lr, m, 1.0 - damp, wd, skip)
        return self._results(results)

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
        skip = self._skips and _backward_flag(self._saved[0], [v.grad for v in self.leaves])
        self._backward(self.leaves, self._saved, seed, skip)

    def __repr__(self) -> str:
        outputs = f"outputs={self.num_outputs}, " if not self._single else ""
        return (f"CompiledGraph({outputs}nodes={self.num_nodes}, leaves={len(self.leaves)}, "
                f"functions={self.num_functions})")


def compile(outputs: Value | Sequence[Value], *, chunk_size: int = 5_000,  # noqa: A001
            source: bool = False, write_back: bool = False,
            params: Iterable[Value] | None = None, repeats: bool = True) -> CompiledGraph:
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
        params: the parameters that :meth:`CompiledGraph.step` updates
            (``model.parameters()``), each a Value given once.
        repeats: write a subgraph that is repeated with other leaves or constants
            (one sample's part of a batch) as one pair of functions called per
            repeat, so that the code grows with the model rather than the batch.
            The results are the same bits either way.

    Returns:
        A :class:`CompiledGraph`: call it to recompute the outputs from the leaves'
        current ``.data`` (a float, or a list of floats for a list of outputs);
        call its ``backward()`` to add the first output's gradients to the
        leaves' ``.grad``.

    Raises:
        TypeError: ``outputs`` is not a Value or a non-empty list of Values, or
            ``params`` is not an iterable of Values.
        ValueError: ``chunk_size`` is not a positive int, or a parameter is given twice.
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
    return CompiledGraph(values, single, chunk_size, bool(source), bool(write_back), _params(params),
                         bool(repeats))


def _params(params: Iterable[Value] | None) -> list[Value]:
    """Return ``params`` as a list, after checking it holds distinct Values."""
    if params is None:
        return []
    if isinstance(params, Value) or not isinstance(params, Iterable):
        raise TypeError(f"params must be an iterable of Values such as model.parameters(), "
                        f"got {type(params).__name__}")
    out = list(params)
    seen: dict[int, int] = {}
    for i, p in enumerate(out):
        if not isinstance(p, Value):
            raise TypeError(f"params[{i}] must be a Value, got {type(p).__name__}: {printable(repr(p))[:60]}")
        if id(p) in seen:
            raise ValueError(f"params[{i}] is the same Value as params[{seen[id(p)]}] and would be "
                             "updated twice per step; pass each parameter once")
        seen[id(p)] = i
    return out


__all__ = ["CompiledGraph", "compile"]
