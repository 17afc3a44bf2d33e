"""Print the expressions of the operation table as plain text, Markdown or LaTeX.

The table (:mod:`autograd_tiny.ops`) writes every forward computation and local
derivative as a Python expression over ``x``, ``y`` and ``out``. This module turns
such an expression into a small tree (:func:`from_table`), with the operand names
replaced by *symbols* (``out`` := ``out_o1``), by numbers, or by other trees, and
prints the tree with the parentheses that precedence needs (:func:`render`)::

    >>> render_expression("out * (1 - out)", {"out": "out_o1"}, "latex")
    'out_{o1} (1 - out_{o1})'
    >>> render_expression("out * (1 - out)", {"out": 0.75136507}, "text")
    '0.751365 * (1 - 0.751365)'

:func:`simplify` writes a tree more simply without changing its value (bit for
bit): leading numbers of a product multiplied out, factors 1 dropped, a factor -1
as a leading minus, ``a^1`` as ``a``, ``a * a`` as ``a^2``::

    >>> render(simplify(from_table("1 - out * out", {"out": "out_h1"})))
    '1 - out_h1^2'

It is the only module that knows how to print a formula, and it contains no
derivative: the chain-rule explanations (:mod:`autograd_tiny.explain`) pass it
the table's strings.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from . import _numeric, codegen
from .ops import FUNCTIONS

#: Output formats understood by :func:`render` (Markdown is LaTeX between ``$`` signs).
FORMATS = ("text", "markdown", "latex")


class FormulaTooDeepError(ValueError):
    """A formula nests deeper than printing it or simplifying it can follow."""


# -- the tree --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Num:
    """A number (a constant of the table or of the graph, or a substituted value)."""

    value: float


@dataclass(frozen=True)
class Sym:
    """A named quantity such as ``out_o1``; ``value`` is its number, when known."""

    name: str
    value: float | None = None


@dataclass(frozen=True)
class BinOp:
    """``left op right`` with ``op`` one of ``+ - * / **``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg:
    """``-operand``."""

    operand: Node


@dataclass(frozen=True)
class Call:
    """``func(arg)`` for a function of :data:`autograd_tiny.ops.FUNCTIONS`."""

    func: str
    arg: Node


@dataclass(frozen=True)
class Compare:
    """A comparison, possibly chained: ``operands[0] ops[0] operands[1] ops[1] ...``.

    Each op is one of ``> >= < <= == !=``; ``x == 0 <= y`` has two.
    """

    ops: tuple[str, ...]
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class BoolOp:
    """``values[0] op values[1] ...`` with ``op`` ``"and"`` or ``"or"``."""

    op: str
    values: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """``not operand``."""

    operand: Node


@dataclass(frozen=True)
class IfExp:
    """``body if test else orelse``."""

    test: Node
    body: Node
    orelse: Node


@dataclass(frozen=True)
class Repeat:
    """``factor`` multiplied by itself ``count`` times, printed ``factor^count``.

    :func:`simplify` writes ``a * a`` this way. It is evaluated as that product
    (left to right), so it has exactly the value of the product it replaces,
    which ``a ** 2`` computed by ``pow`` does not always have (it may differ in
    the last bit).
    """

    factor: Node
    count: int


Node = Num | Sym | BinOp | Neg | Call | Compare | BoolOp | Not | IfExp | Repeat

_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
}
_CMPOPS: dict[type[ast.cmpop], str] = {
    ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!=",
}

def _as_node(value: Node | str | float) -> Node:
    if isinstance(value, str):
        return Sym(value)
    if isinstance(value, bool):
        raise TypeError(f"an operand must be a tree, a name or a number, got {value!r}")
    if isinstance(value, (int, float)):
        return Num(float(value))
    return value


def from_table(expr: str, operands: Mapping[str, Node | str | float]) -> Node:
    """Return the tree of a table expression with its operand names replaced.

    Args:
        expr: a forward or derivative expression from :mod:`autograd_tiny.ops`,
            e.g. ``"y * x ** (y - 1)"``.
        operands: what each operand name (``x``, ``y``, ``out``) stands for: a tree,
            a symbol name (str) or a number.

    Returns:
        The expression as a tree of :class:`Num`, :class:`Sym`, :class:`BinOp`,
        :class:`Neg`, :class:`Call`, :class:`Compare` and :class:`IfExp`.

    Raises:
        ValueError: the expression reads an operand that ``operands`` does not give,
            or uses syntax the table does not use.
    """
    subs = {k: _as_node(v) for k, v in operands.items()}

    def convert(node: ast.expr) -> Node:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return Num(float(node.value))
        if isinstance(node, ast.Name):
            if node.id not in subs:
                raise ValueError(f"table expression {expr!r} reads {node.id!r}, which was not given; "
                                 f"pass it in operands")
            return subs[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return BinOp(_BINOPS[type(node.op)], convert(node.left), convert(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = convert(node.operand)
            return Neg(inner) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in FUNCTIONS and len(node.args) == 1 and not node.keywords:
            return Call(node.func.id, convert(node.args[0]))
        if isinstance(node, ast.Compare) and all(type(op) in _CMPOPS for op in node.ops):
            return Compare(tuple(_CMPOPS[type(op)] for op in node.ops),
                           tuple(convert(n) for n in (node.left, *node.comparators)))
        if isinstance(node, ast.BoolOp):
            return BoolOp("and" if isinstance(node.op, ast.And) else "or",
                          tuple(convert(v) for v in node.values))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Not(convert(node.operand))
        if isinstance(node, ast.IfExp):
            return IfExp(convert(node.test), convert(node.body), convert(node.orelse))
        raise ValueError(f"table expression {expr!r} uses {ast.unparse(node)!r}, which formulas cannot print")

    return convert(codegen.parse(expr))


def table_formula(expr: str, operands: Mapping[str, Node | str | float]) -> Node:
    """Return a table expression with its operands plugged in and its constants folded.

    Like ``fold_constants(from_table(expr, operands))``, except that the operand
    trees are plugged in after folding and not walked again: building a formula
    out of already-folded sub-formulas costs time in proportion to the table
    expression only, even when the sub-formulas share parts.
    """
    given = {k: _as_node(v) for k, v in operands.items()}
    opaque = {k: v for k, v in given.items() if not isinstance(v, Num)}
    placeholders: dict[str, Node | str | float] = {
        k: (Sym(f"\0{k}") if k in opaque else v) for k, v in given.items()
    }
    folded = fold_constants(from_table(expr, placeholders))
    plug = {f"\0{k}": v for k, v in opaque.items()}

    def put(node: Node) -> Node:
        if isinstance(node, Sym) and node.name in plug:
            return plug[node.name]
        return _map(node, put)

    return put(folded)


def size(node: Node) -> int:
    """Return how many nodes the printed tree has (shared parts counted each time they print).

    Counted without walking shared parts twice, so it is fast even when the
    printed formula would be huge.
    """
    memo: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:  # children before parents, without recursion: a chain of any depth is counted
        n, children_done = stack.pop()
        if id(n) in memo:
            continue
        children = _children(n)
        if children_done or not children:
            memo[id(n)] = 1 + sum(memo[id(c)] for c in children)
        else:
            stack.append((n, True))
            stack.extend((c, False) for c in children if id(c) not in memo)
    return memo[id(node)]


# -- evaluating, simplifying, combining -------------------------------------------------------------
_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _numeric.div,
    "**": _numeric.pow,
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


def _map(node: Node, fn: Callable[[Node], Node]) -> Node:
    """Return ``node`` with ``fn`` applied to each of its children."""
    if isinstance(node, BinOp):
        return BinOp(node.op, fn(node.left), fn(node.right))
    if isinstance(node, Neg):
        return Neg(fn(node.operand))
    if isinstance(node, Call):
        return Call(node.func, fn(node.arg))
    if isinstance(node, Compare):
        return Compare(node.ops, tuple(fn(o) for o in node.operands))
    if isinstance(node, BoolOp):
        return BoolOp(node.op, tuple(fn(v) for v in node.values))
    if isinstance(node, Not):
        return Not(fn(node.operand))
    if isinstance(node, IfExp):
        return IfExp(fn(node.test), fn(node.body), fn(node.orelse))
    if isinstance(node, Repeat):
        return Repeat(fn(node.factor), node.count)
    return node


def _truth(node: Node) -> bool:
    """Return the truth of a condition tree (comparisons and and/or/not)."""
    if isinstance(node, Compare):
        values = [evaluate(o) for o in node.operands]
        return all(_COMPARE[op](a, b) for op, a, b in zip(node.ops, values, values[1:]))
    if isinstance(node, BoolOp):
        truths = (_truth(v) for v in node.values)
        return all(truths) if node.op == "and" else any(truths)
    if isinstance(node, Not):
        return not _truth(node.operand)
    return evaluate(node) != 0.0


def evaluate(node: Node) -> float:
    """Return the number a tree stands for (IEEE 754 like the engine; a condition gives 1 or 0).

    Raises:
        ValueError: a symbol has no value.
    """
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Sym):
        if node.value is None:
            raise ValueError(f"symbol {node.name!r} has no value; give it one to evaluate the formula")
        return node.value
    if isinstance(node, BinOp):
        return _ARITH[node.op](evaluate(node.left), evaluate(node.right))
    if isinstance(node, Neg):
        return -evaluate(node.operand)
    if isinstance(node, Call):
        return _numeric.FLOAT_FUNCTIONS[node.func](evaluate(node.arg))
    if isinstance(node, IfExp):
        return evaluate(node.body) if _truth(node.test) else evaluate(node.orelse)
    if isinstance(node, Repeat):
        base = evaluate(node.factor)
        result = base
        for _ in range(node.count - 1):
            result *= base
        return result
    return 1.0 if _truth(node) else 0.0


def _numbers_only(node: Node) -> bool:
    """Return True when the tree holds no symbol and no function call."""
    if isinstance(node, Num):
        return True
    if isinstance(node, (Sym, Call)):
        return False
    return all(_numbers_only(c) for c in _children(node))


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, BinOp):
        return (node.left, node.right)
    if isinstance(node, (Neg, Not)):
        return (node.operand,)
    if isinstance(node, Call):
        return (node.arg,)
    if isinstance(node, Compare):
        return node.operands
    if isinstance(node, BoolOp):
        return node.values
    if isinstance(node, IfExp):
        return (node.test, node.body, node.orelse)
    if isinstance(node, Repeat):
        return (node.factor,)
    return ()


def resolve_conditions(node: Node) -> Node:
    """Return the tree with each condition made only of numbers decided.

    ``(0.0 if 2 == 0 else 2 * x)`` becomes ``2 * x``; arithmetic is left as it is.
    """
    node = _map(node, resolve_conditions)
    if isinstance(node, IfExp) and _numbers_only(node.test):
        return node.body if _truth(node.test) else node.orelse
    return node


def fold_constants(node: Node) -> Node:
    """Return the tree with every part made only of numbers replaced by its number.

    ``2 * x ** (2 - 1)`` becomes ``2 * x ** 1``, ``-1`` becomes the number -1 and
    ``(0.0 if 2 == 0 else 2 * x)`` becomes ``2 * x``; symbols and function calls
    are kept, so the formula still shows where each factor came from.
    """
    node = resolve_conditions(_map(node, fold_constants))
    if isinstance(node, BinOp) and isinstance(node.left, Num) and isinstance(node.right, Num):
        return Num(_ARITH[node.op](node.left.value, node.right.value))
    if isinstance(node, Neg) and isinstance(node.operand, Num):
        return Num(-node.operand.value)
    if isinstance(node, Repeat) and isinstance(node.factor, Num):
        return Num(evaluate(node))
    return node


def simplify(node: Node) -> Node:
    """Return the tree written more simply, with exactly the same value (IEEE 754, bit for bit).

    In every product (read left to right, as it is evaluated):

    * the numbers it starts with are multiplied out (``0.5 * 2 * a`` -> ``1 * a``),
      and a factor 1 is dropped (``a``);
    * a factor -1 anywhere becomes a leading minus (``a * b * (-1)`` -> ``-a * b``),
      and two of them cancel;
    * identical factors that start it become a power (``a * a * b`` -> ``a^2 * b``,
      a :class:`Repeat`, still computed as ``a * a``), looked for again once the
      leading minus is on the first factor (``a * (-1) * (-a)`` -> ``(-a)^2``), so
      simplifying the result again changes nothing.

    Everywhere, ``a^1`` becomes ``a`` and ``a^0`` becomes 1. Nothing else moves:
    a number after a symbol (``a * 3``) stays where it is, because multiplying it
    in earlier could round differently, overflow or underflow. Sub-trees shared
    by several parts are simplified once.
    """
    memo: dict[int, Node] = {}
    try:
        return _simplify(node, memo)
    except RecursionError:
        raise FormulaTooDeepError("the formula nests too deep to simplify; name intermediate "
                                  "quantities") from None


def _simplify(node: Node, memo: dict[int, Node]) -> Node:
    def walk(n: Node) -> Node:
        done = memo.get(id(n))
        if done is not None:
            return done
        if isinstance(n, BinOp) and n.op == "*":
            result = _simplify_product([walk(f) for f in _chain(n)])
        else:
            result = _simplify_power(_map(n, walk))
        memo[id(n)] = result
        return result

    return walk(node)


def _chain(node: BinOp) -> list[Node]:
    """Return the factors of a left-to-right product ``((a * b) * c)`` (a right operand that is a
    product, as in ``a * (b * c)``, is one factor: it is computed on its own)."""
    rights: list[Node] = []
    left: Node = node
    while isinstance(left, BinOp) and left.op == "*":
        rights.append(left.right)
        left = left.left
    return [left, *reversed(rights)]


def _simplify_power(node: Node) -> Node:
    """``a^1`` -> ``a`` and ``a^0`` -> 1 (pow gives exactly these, for nan and inf too)."""
    if isinstance(node, BinOp) and node.op == "**" and isinstance(node.right, Num):
        if node.right.value == 1.0:
            return node.left
        if node.right.value == 0.0:
            return Num(1.0)
    return node


def _negated(node: Node) -> Node:
    return node.operand if isinstance(node, Neg) else Neg(node)


def _simplify_product(factors: list[Node]) -> Node:
    """Return the product of ``factors`` (already simplified) as :func:`simplify` writes it."""
    # Leading numbers are computed first anyway: multiplying them out changes nothing.
    coefficient: float | None = None
    start = 0
    for f in factors:
        if not isinstance(f, Num):
            break
        coefficient = f.value if coefficient is None else coefficient * f.value
        start += 1
    # x * 1 = x and x * (-1) = -x exactly, and rounding does not depend on the sign, so
    # factors 1 and -1 may leave the product wherever they are.
    negative = False
    rest: list[Node] = []
    for f in factors[start:]:
        if isinstance(f, Num) and f.value in (1.0, -1.0):
            negative ^= f.value < 0
        else:
            rest.append(f)
    if coefficient is not None and coefficient in (1.0, -1.0):
        negative ^= coefficient < 0
        coefficient = None
    if coefficient is not None:
        value = -coefficient if negative else coefficient
        # A number is printed without the sign of a zero: a -0 (0 * -1) is written -0, as a minus
        # on 0, so that x / -0 does not read back as x / 0.
        minus = math.copysign(1.0, value) < 0
        if not rest:
            return Neg(Num(0.0)) if minus and value == 0 else Num(value)
        # -2 * a rather than (-2) * a: the minus belongs to the formula, not to a substituted number.
        lead: Node = Neg(Num(-value)) if minus else Num(value)
        return _left_product([lead, *rest])
    if not rest:
        return Num(-1.0 if negative else 1.0)
    # Identical factors that start the product: (a * a) * b is a^2 * b exactly; further in,
    # (c * a) * a is not c * (a * a), so they stay as they are. The sign goes on the first factor
    # (-x * y is x * y * (-1) exactly), and the factor it makes may start a power of its own:
    # b * (-1) * (-b) is (-b) * (-b), that is (-b)^2. So the factors are compared once more after
    # the sign is put on, and one pass leaves nothing for a second one to do.
    first, end = rest[0], 1
    while True:
        if not (_numbers_only(first) or isinstance(first, Repeat)):  # a^2 * a^2 stays as it is
            run = end
            while run < len(rest) and _same_tree(rest[run], first):
                run += 1
            if run > end:
                first, end = Repeat(first, 1 + run - end), run
        if not negative:
            return _left_product([first, *rest[end:]])
        negative = False
        first = _negated(first)
        if isinstance(first, Num):  # -(-2) * a: now a leading number
            return _simplify_product([first, *rest[end:]])


def _same_float(a: float, b: float) -> bool:
    return (a == b and math.copysign(1.0, a) == math.copysign(1.0, b)) or (math.isnan(a) and math.isnan(b))


def _same_tree(a: Node, b: Node) -> bool:
    """Return True when two trees are written alike and hold the same numbers (0.0 is not -0.0)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, Num) and isinstance(b, Num):
        return _same_float(a.value, b.value)
    if isinstance(a, Sym) and isinstance(b, Sym):
        if a.name != b.name or (a.value is None) != (b.value is None):
            return False
        return a.value is None or b.value is None or _same_float(a.value, b.value)
    attributes = ("op", "func", "ops", "count")
    if any(getattr(a, k, None) != getattr(b, k, None) for k in attributes):
        return False
    ca, cb = _children(a), _children(b)
    return len(ca) == len(cb) and all(_same_tree(x, y) for x, y in zip(ca, cb))


def _left_product(factors: list[Node]) -> Node:
    result = factors[0]
    for f in factors[1:]:
        result = BinOp("*", result, f)
    return result


def with_numbers(node: Node) -> Node:
    """Return the tree with every symbol that has a value replaced by that number."""
    if isinstance(node, Sym):
        return Num(node.value) if node.value is not None else node
    return _map(node, with_numbers)


def product(factors: Iterable[Node]) -> Node:
    """Return the product of ``factors`` as one left-to-right product, without factors equal to 1.

    A factor that is itself a product contributes its own factors (``a * (b * c)``
    is written ``a * b * c``). Returns ``Num(1)`` when no factor remains.
    """
    kept: list[Node] = []
    for f in factors:
        kept.extend(_factors_of(f))
    kept = [f for f in kept if not (isinstance(f, Num) and f.value == 1.0)]
    if not kept:
        return Num(1.0)
    result = kept[0]
    for f in kept[1:]:
        result = BinOp("*", result, f)
    return result


def _factors_of(node: Node) -> list[Node]:
    """Return the factors of a product written left to right (``[node]`` when it is no product)."""
    factors: list[Node] = []
    stack = [node]
    while stack:  # left to right, without recursion
        n = stack.pop()
        if isinstance(n, BinOp) and n.op == "*":
            stack += [n.right, n.left]
        else:
            factors.append(n)
    return factors


def total(terms: Iterable[Node]) -> Node:
    """Return the sum of ``terms`` (``Num(0)`` for none)."""
    items = list(terms)
    if not items:
        return Num(0.0)
    result = items[0]
    for t in items[1:]:
        result = BinOp("+", result, t)
    return result


# -- numbers and symbols ----------------------------------------------------------------------------
def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


#: The most significant digits worth showing: 17 tell every float apart.
MAX_DIGITS = 17


def check_digits(digits: object) -> int:
    """Return ``digits`` if it is an int from 1 to :data:`MAX_DIGITS`.

    Raises:
        TypeError: ``digits`` is not an int.
        ValueError: it is out of that range.
    """
    if isinstance(digits, bool) or not isinstance(digits, int):
        raise TypeError(f"digits must be an int from 1 to {MAX_DIGITS}, got {type(digits).__name__}: "
                        f"{digits!r:.60}")
    if not 1 <= digits <= MAX_DIGITS:
        raise ValueError(f"digits must be from 1 to {MAX_DIGITS} (a float has at most {MAX_DIGITS} "
                         f"significant digits), got {_numeric.short_repr(digits)}")
    return digits


def format_number(value: float, fmt: str = "text", digits: int = 6) -> str:
    """Return ``value`` as written in a formula.

    A number that ``digits`` significant digits show exactly is written short
    (``0.05``, ``2``); any other is written with ``digits`` significant digits,
    trailing zeros kept (``0.593270``). LaTeX writes exponents as ``\\times 10^{k}``.
    """
    fmt = _check_format(fmt)
    check_digits(digits)
    if value == 0.0:
        value = 0.0  # no "-0"
    if math.isnan(value):
        return r"\mathrm{NaN}" if fmt != "text" else "nan"
    if math.isinf(value):
        sign = "-" if value < 0 else ""
        return sign + (r"\infty" if fmt != "text" else "inf")
    short = f"{value:.{digits}g}"
    text = short if float(short) == value else f"{value:#.{digits}g}"
    if text.endswith("."):
        text = text[:-1]
    if fmt != "text" and "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


_LATEX_SPECIAL = re.compile(r"([#$%&{}~^_\\])")


def _latex_escape(text: str) -> str:
    # Unprintable characters first become their escapes (a line break would end a
    # comment line, two would end the align environment), then TeX's specials are escaped.
    return _LATEX_SPECIAL.sub(lambda m: {"\\": r"\backslash{}", "~": r"\sim{}", "^": r"\hat{}"}
                              .get(m.group(1), "\\" + m.group(1)), _numeric.printable(text))


def latex_comment(text: str) -> str:
    """Return ``text`` as one LaTeX comment line: ``%`` and the text, its line breaks escaped.

    A name holding a line break (or any unprintable character) shows it as ``\\n``
    instead of ending the comment and turning the rest into LaTeX.
    """
    return "% " + _numeric.printable(text)


def symbol(name: str, fmt: str = "text") -> str:
    """Return a quantity's name as written in ``fmt``.

    In LaTeX the part after the first underscore, or trailing digits, become a
    subscript: ``out_o1`` -> ``out_{o1}``, ``w5`` -> ``w_{5}``. Markdown puts the
    LaTeX between ``$`` signs.
    """
    fmt = _check_format(fmt)
    if fmt == "text":
        return _numeric.printable(name)
    latex = _latex_symbol(name)
    return f"${latex}$" if fmt == "markdown" else latex


def _latex_symbol(name: str) -> str:
    base, sep, sub = name.partition("_")
    if not sep:
        m = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
        if m is None:
            return _latex_escape(name)
        base, sub = m.groups()
    if not base or not sub:
        return _latex_escape(name)
    return f"{_latex_escape(base)}_{{{_latex_escape(sub)}}}"


def derivative_symbol(upper: str, lower: str, fmt: str = "text") -> str:
    """Return the symbol of d upper / d lower: ``dE/dw5`` in text, a ``\\frac`` of partials in LaTeX."""
    fmt = _check_format(fmt)
    if fmt == "text":
        return _numeric.printable(f"d{upper}/d{lower}")
    latex = rf"\frac{{\partial {_latex_symbol(upper)}}}{{\partial {_latex_symbol(lower)}}}"
    return f"${latex}$" if fmt == "markdown" else latex


# -- printing ---------------------------------------------------------------------------------------
# Precedence, loosest first, as in Python.
_P_IF, _P_BOOL, _P_CMP, _P_ADD, _P_MUL, _P_NEG, _P_POW, _P_ATOM = range(8)
_PREC = {"+": _P_ADD, "-": _P_ADD, "*": _P_MUL, "/": _P_MUL, "**": _P_POW}

_LATEX_FUNCTIONS = {
    "exp": r"\exp", "log": r"\log", "tanh": r"\tanh", "sigmoid": r"\sigma",
    "sin": r"\sin", "cos": r"\cos",
}
_LATEX_CMP = {">": ">", ">=": r"\geq", "<": "<", "<=": r"\leq", "==": "=", "!=": r"\neq"}


class _Printer:
    def __init__(self, latex: bool, digits: int) -> None:
        self.latex = latex
        self.digits = digits

    def paren(self, text: str) -> str:
        return rf"\left({text}\right)" if self.latex and ("\\frac" in text or "cases" in text) \
            else f"({text})"

    def operand(self, node: Node, minimum: int) -> str:
        """Print ``node``, in parentheses when it binds looser than ``minimum``."""
        text, prec = self.print(node)
        return self.paren(text) if prec < minimum else text

    def print(self, node: Node) -> tuple[str, int]:
        """Return the printed node and its precedence."""
        if isinstance(node, Num):
            text = format_number(node.value, "latex" if self.latex else "text", self.digits)
            return text, _P_NEG if text.startswith("-") else _P_ATOM
        if isinstance(node, Sym):
            return (_latex_symbol(node.name) if self.latex else _numeric.printable(node.name)), _P_ATOM
        if isinstance(node, Neg):
            return "-" + self.operand(node.operand, _P_POW), _P_NEG
        if isinstance(node, Repeat):
            base = self.operand(node.factor, _P_ATOM)
            return (f"{base}^{{{node.count}}}" if self.latex else f"{base}^{node.count}"), _P_POW
        if isinstance(node, Call):
            arg, _ = self.print(node.arg)
            if not self.latex:
                return f"{node.func}({arg})", _P_ATOM
            if node.func == "sqrt":
                return rf"\sqrt{{{arg}}}", _P_ATOM
            if node.func == "abs":
                return rf"\left|{arg}\right|", _P_ATOM
            name = _LATEX_FUNCTIONS.get(node.func, rf"\operatorname{{{_latex_escape(node.func)}}}")
            return f"{name}{self.paren(arg)}", _P_ATOM
        if isinstance(node, Compare):
            parts = [self.operand(node.operands[0], _P_ADD)]
            for op, operand in zip(node.ops, node.operands[1:]):
                parts += [_LATEX_CMP[op] if self.latex else op, self.operand(operand, _P_ADD)]
            return " ".join(parts), _P_CMP
        if isinstance(node, BoolOp):
            word = {"and": r"\land", "or": r"\lor"}[node.op] if self.latex else node.op
            # A nested and/or binds as loosely as this one, so it gets parentheses.
            return f" {word} ".join(self.operand(v, _P_CMP) for v in node.values), _P_BOOL
        if isinstance(node, Not):
            word = r"\lnot " if self.latex else "not "
            return word + self.operand(node.operand, _P_CMP), _P_BOOL
        if isinstance(node, IfExp):
            if self.latex:
                # A chain "a if p else b if q else c" becomes one cases environment.
                rows: list[str] = []
                rest: Node = node
                while isinstance(rest, IfExp):
                    rows.append(rf"{self.print(rest.body)[0]} & \text{{if }} {self.print(rest.test)[0]}")
                    rest = rest.orelse
                rows.append(rf"{self.print(rest)[0]} & \text{{otherwise}}")
                return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}", _P_IF
            test = self.operand(node.test, _P_BOOL)
            body = self.operand(node.body, _P_BOOL)
            orelse = self.print(node.orelse)[0] if isinstance(node.orelse, IfExp) \
                else self.operand(node.orelse, _P_BOOL)
            return f"{body} if {test} else {orelse}", _P_IF
        return self.binop(node)

    def binop(self, node: BinOp) -> tuple[str, int]:
        prec = _PREC[node.op]
        if node.op == "**":
            # ** groups to the right: the base needs parentheses unless it is atomic.
            base = self.operand(node.left, _P_ATOM)
            if self.latex:
                exponent, _ = self.print(node.right)
                return f"{base}^{{{exponent}}}", _P_POW
            return f"{base}^{self.operand(node.right, _P_ATOM)}", _P_POW
        if node.op == "/" and self.latex:
            left, _ = self.print(node.left)
            right, _ = self.print(node.right)
            return rf"\frac{{{left}}}{{{right}}}", _P_POW
        # A chain of operators of this precedence, ((a * b) * c) * d, is printed from its first
        # operand on in a loop: a product of 10,000 factors needs no recursion to print.
        spine = [node]
        while isinstance(spine[-1].left, BinOp) and spine[-1].left.op != "**" \
                and _PREC[spine[-1].left.op] == prec and not (self.latex and spine[-1].left.op == "/"):
            spine.append(spine[-1].left)
        first = spine[-1]
        left = self.operand(first.left, prec)
        if first.op in ("*", "/") and isinstance(first.left, Num) and left.startswith("-"):
            # A negative number multiplied is written in parentheses on either side:
            # 1 - (-0.25) * (-0.25), not 1 - -0.25 * (-0.25).
            left = self.paren(left)
        for link in reversed(spine):
            left = self.join(link, left, prec)
        return left, prec

    def join(self, node: BinOp, left: str, prec: int) -> str:
        """Return ``left`` (``node.left`` printed) joined by ``node``'s operator to its right operand."""
        # A right operand needs parentheses when it binds as loosely (a - (b + c), a / (b * c),
        # and a * (b * c) too, so the printed formula groups exactly as the tree does)
        # or starts with a minus sign (a * (-1), 1 - (-a * b)).
        right, right_prec = self.print(node.right)
        if right_prec <= prec or right_prec == _P_NEG or right.startswith("-"):
            right = self.paren(right)
        if node.op != "*":
            return f"{left} {node.op} {right}"
        if not self.latex:
            return f"{left} * {right}"
        # Side by side (2 x, out (1 - out)) unless that would run numbers together.
        joiner = r" \cdot " if right[:1].isdigit() or right[:1] in ".-" or right.startswith("(-") else " "
        return f"{left}{joiner}{right}"


def render(node: Node, fmt: str = "text", *, digits: int = 6) -> str:
    """Return a tree printed as plain text, Markdown or LaTeX.

    Text writes ``*`` and ``^``; LaTeX writes products side by side (``\\cdot``
    between numbers), ``\\frac`` for division and ``cases`` for conditions;
    Markdown is the LaTeX between ``$`` signs. Parentheses appear only where
    precedence needs them. Numbers are written by :func:`format_number`.
    """
    fmt = _check_format(fmt)
    printer = _Printer(fmt != "text", check_digits(digits))
    try:
        text, _ = printer.print(node)
    except RecursionError:
        raise FormulaTooDeepError("the formula nests too deep to print (sums and products of any "
                                  "length print, but not hundreds of nested calls, powers or "
                                  "parentheses); name intermediate quantities") from None
    return f"${text}$" if fmt == "markdown" else text


def render_expression(expr: str, operands: Mapping[str, Node | str | float], fmt: str = "text",
                      *, digits: int = 6) -> str:
    """Return a table expression printed with its operands replaced.

    Args:
        expr: an expression of :mod:`autograd_tiny.ops` (``"out * (1 - out)"``).
        operands: a symbol name (str), a number or a tree for each operand it reads.
        fmt: ``"text"``, ``"markdown"`` or ``"latex"``.
        digits: significant digits of substituted numbers.

    Returns:
        The printed formula, e.g. ``out_{o1} (1 - out_{o1})`` in LaTeX.
    """
    return render(from_table(expr, operands), fmt, digits=digits)
