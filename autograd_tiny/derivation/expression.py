"""Expression derivations: backpropagation as general automatic differentiation.

An expression file has no ``layers``. It names some leaves with numbers, defines
further quantities from earlier ones and claims figures of a hand derivation::

    output = "f"
    [values]          # the leaves
    x = -2.0
    y = 5.0
    z = -4.0
    [define]          # each name from other names, numbers, + - * / ** and the table's functions
    q = "x + y"
    f = "q * z"
    [claims]
    q = 3
    "df/dx" = -4

A definition is parsed with :mod:`ast` and checked against a whitelist built from the
operation table (numbers, names, ``+ - * / **``, unary minus and calls of the table's
unary operations such as ``exp``, ``tanh``, ``sigmoid``, ``relu``, ``log``); it is never
evaluated as Python. The graph is built with :class:`autograd_tiny.Value` operations,
so its numbers are the engine's, and every named quantity is a labelled node (the
leaves with their names, each definition with its own), which is what
:func:`autograd_tiny.explain.explain_gradient` and the pictures show.

Claims: ``NAME`` (a definition's value), ``dOUT/dNAME`` (the output's derivative with
respect to a leaf or a definition) and ``dA/dB`` (definition ``A``'s local gradient with
respect to ``B``, through every path); with a top-level ``learning_rate``, each of these
followed by ``+`` or ``@K`` (after one or ``K`` gradient-descent steps on the output), and
``x+``, ``x@K`` for a leaf. A negative learning rate steps up the gradient, as the nudge
``a += 0.01 * a.grad`` does. The verdicts and hints are the network files'
(:mod:`autograd_tiny.derivation.checker`).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._numeric import short_repr
from .._toml import check_keys
from .._toml import fail as _fail
from .._toml import number as _number
from .._toml import string as _string
from .._toml import table as _table
from ..errors import UsageError
from ..ops import OPS
from ..value import Value, enable_grad
from .core import Derivation
from .format import NAME_PATTERN, Claim, Quantity, read_claims, step_count
from .interpreter import Optimizer, Replay
from .tape import Tape

#: The functions a definition may call: the operation table's unary operations.
UNARY_FUNCTIONS: tuple[str, ...] = tuple(name for name, op in OPS.items() if op.arity == 1)

#: Keys an expression file may have at its top level, and whether each is required.
TOP_LEVEL_KEYS: dict[str, bool] = {
    "title": False,
    "output": True,
    "values": True,
    "define": True,
    "learning_rate": False,
    "claims": False,
}

#: The longest definition accepted, in characters (a hand derivation's formulas are short).
MAX_DEFINITION_LENGTH = 2_000

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}

#: A definition as a function of the named Values: its Value (a number when it uses no name).
Formula = Callable[[dict[str, Value]], Any]

_NOT_ALLOWED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "subscripts (a[i])",
    ast.Lambda: "lambda",
    ast.Compare: "comparisons",
    ast.BoolOp: "and / or",
    ast.IfExp: "if ... else",
    ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts", ast.Set: "sets",
    ast.ListComp: "comprehensions", ast.GeneratorExp: "comprehensions",
    ast.DictComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.JoinedStr: "f-strings", ast.Starred: "starred arguments", ast.NamedExpr: ":=",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slices",
}

ALLOWED = ("names, numbers, + - * / **, unary minus and the table's functions "
           f"({', '.join(UNARY_FUNCTIONS)})")


@dataclass
class ExpressionSpec:
    """A parsed and validated expression file.

    Attributes:
        source: where it came from (for messages); title: its title ('' when none).
        output: the defined name whose derivatives the claims are about.
        values: the leaves by name (in file order).
        definitions: each defined name's formula as written (in file order).
        order: the defined names, each after every name it uses.
        learning_rate: the step size of ``P+`` claims (leaf ``P`` after one step of gradient
            descent on the output), or None.
        claims: the claimed figures, in file order.
    """

    source: str
    title: str
    output: str
    values: dict[str, float]
    definitions: dict[str, str]
    order: list[str]
    learning_rate: float | None = None
    formulas: dict[str, Formula] = field(default_factory=dict, repr=False, compare=False)
    claims: list[Claim] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """Return every named quantity: the leaves, then the definitions in dependency order."""
        return [*self.values, *self.order]


# -- parsing ------------------------------------------------------------------------------------

def parse_expression(doc: dict[str, Any], source: str) -> ExpressionSpec:
    """Return the validated :class:`ExpressionSpec` of an expression file's TOML document.

    Raises:
        UsageError: anything wrong with the file, in one line naming the key.
    """
    check_keys(source, doc, TOP_LEVEL_KEYS, "an expression file (no layers)", "an expression file")
    title = _string(source, "title", doc["title"]) if "title" in doc else ""
    values: dict[str, float] = {}
    for name, value in _table(source, "values", doc["values"]).items():
        _check_name(source, f"values.{name}", name)
        values[name] = _number(source, f"values.{name}", value)[0]
    definitions: dict[str, str] = {}
    for name, text in _table(source, "define", doc["define"]).items():
        key = f"define.{name}"
        _check_name(source, key, name)
        if name in values:
            raise _fail(source, key, f"{name!r} is already a leaf in [values]; give the definition "
                                     "another name")
        definitions[name] = _string(source, key, text)
    if not definitions:
        raise _fail(source, "define", "is empty; define at least the output, like f = \"x * y\"")
    trees = {name: _parse_formula(source, f"define.{name}", text) for name, text in definitions.items()}
    compiled = {name: _compile(source, f"define.{name}", tree, values, definitions)
                for name, tree in trees.items()}
    order = _dependency_order(source, {name: uses for name, (uses, _, _) in compiled.items()})
    output = _string(source, "output", doc["output"])
    if output not in definitions:
        where = "a leaf in [values]" if output in values else "not defined"
        raise _fail(source, "output", f"{short_repr(output, 40)} is {where}; the output is one of "
                                      f"the names in [define] ({', '.join(definitions)})")
    learning_rate = None
    if "learning_rate" in doc:
        learning_rate = _number(source, "learning_rate", doc["learning_rate"])[0]
        if learning_rate == 0:
            raise _fail(source, "learning_rate", "must not be 0 (a negative rate steps up the "
                                                 "gradient, as the nudge a += 0.01 * a.grad does)")
    spec = ExpressionSpec(source=source, title=title, output=output, values=values,
                          definitions=definitions, order=order, learning_rate=learning_rate,
                          formulas={name: formula for name, (_, formula, _) in compiled.items()})
    operations = sum(count for _, _, count in compiled.values())
    spec.claims = read_claims(source, doc, lambda n: parse_claim(n, spec), operations + len(values), "graph")
    return spec


_TOO_DEEP = "the formula is nested too deeply; define intermediate quantities"


def _check_name(source: str, key: str, name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise _fail(source, key, f"name {short_repr(name, 40)} must be letters, digits and '_', "
                                 "starting with a letter or '_'")
    if name in UNARY_FUNCTIONS:
        raise _fail(source, key, f"{name!r} is a function of the table; give the quantity another name")


def _parse_formula(source: str, key: str, text: str) -> ast.expr:
    if len(text) > MAX_DEFINITION_LENGTH:
        raise _fail(source, key, f"the formula has {len(text)} characters, more than "
                                 f"{MAX_DEFINITION_LENGTH}; define intermediate quantities")
    if "\n" in text or "\r" in text:
        raise _fail(source, key, "a formula is one line")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise _fail(source, key, f"{short_repr(text, 40)} is not a formula ({exc.msg}); write "
                                 f"{ALLOWED}") from None
    except (RecursionError, MemoryError, ValueError):
        raise _fail(source, key, _TOO_DEEP) from None


def _compile(source: str, key: str, tree: ast.expr, values: dict[str, float],
             definitions: dict[str, str]) -> tuple[list[str], Formula, int]:
    """Return the names a formula uses (in order), the formula as a function of the named Values
    and its number of operations (each a node of the graph), or raise naming what is not allowed."""
    used: dict[str, None] = {}  # the names in the order of their first use
    operations = 0

    def visit(node: ast.AST) -> Formula:
        nonlocal operations
        operations += isinstance(node, (ast.BinOp, ast.Call)) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub))
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise _fail(source, key, f"the operator {ast.unparse(node)!r} is not allowed; "
                                         f"write {ALLOWED}")
            apply, left, right = _BINARY[type(node.op)], visit(node.left), visit(node.right)
            return lambda nodes: _binary(apply, left(nodes), right(nodes))
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise _fail(source, key, f"{ast.unparse(node)!r} is not allowed; write {ALLOWED}")
            operand = visit(node.operand)
            return (lambda nodes: -operand(nodes)) if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func)  # a function's name, or what stands for one
            if called not in UNARY_FUNCTIONS:
                raise _fail(source, key, f"calls {short_repr(called, 30)}, which is no function of "
                                         f"the operation table; the functions are "
                                         f"{', '.join(UNARY_FUNCTIONS)}")
            if node.keywords or len(node.args) != 1:
                raise _fail(source, key, f"{called}() takes exactly one argument, like {called}(x)")
            inner = visit(node.args[0])
            return lambda nodes: _apply(called, inner(nodes))
        if isinstance(node, ast.Name):
            if node.id in UNARY_FUNCTIONS:
                raise _fail(source, key, f"{node.id} is a function; call it, like {node.id}(x)")
            if node.id not in values and node.id not in definitions:
                raise _fail(source, key, f"uses {short_repr(node.id, 30)}, which is not defined; the "
                                         f"names are {', '.join([*values, *definitions])}")
            used[name := node.id] = None
            return lambda nodes: nodes[name]
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise _fail(source, key, f"the constant {short_repr(node.value, 30)} is not allowed; "
                                         "numbers only")
            if isinstance(node.value, int) and abs(node.value) > 10 ** 300:
                raise _fail(source, key, "a number in the formula is too large for a float")
            if not math.isfinite(number := float(node.value)):
                raise _fail(source, key, f"{ast.unparse(node)} is not a finite number")
            return lambda nodes: number
        what = next((text for kind, text in _NOT_ALLOWED.items() if isinstance(node, kind)),
                    type(node).__name__)
        raise _fail(source, key, f"{what} not allowed; write {ALLOWED}")

    try:
        formula = visit(tree)
    except RecursionError:
        raise _fail(source, key, _TOO_DEEP) from None
    bare = tree
    while isinstance(bare, ast.UnaryOp) and isinstance(bare.op, ast.UAdd):
        bare = bare.operand
    if isinstance(bare, ast.Name):
        raise _fail(source, key, f"is just {bare.id}; claim {bare.id} itself, or compute something")
    if not used:
        raise _fail(source, key, "uses no name; put a number in [values] instead")
    return list(used), formula, operations


def _dependency_order(source: str, uses: dict[str, list[str]]) -> list[str]:
    """Return the defined names, each after the names it uses; raise on a cycle."""
    order: list[str] = []
    ordered: dict[str, bool] = {}  # False while the uses of a name are followed, then True
    for start in uses:
        if start in ordered:
            continue
        ordered[start] = False
        stack = [(start, iter(uses[start]))]  # each name with the uses it has left to follow
        while stack:
            name, todo = stack[-1]
            used = next(todo, None)
            if used is None:
                stack.pop()
                ordered[name] = True
                order.append(name)
            elif ordered.get(used) is False:
                path = [n for n, _ in stack]
                cycle = " -> ".join([*path[path.index(used):], used])
                raise _fail(source, f"define.{used}", f"depends on itself: {cycle}; a definition may "
                                                      "use only names that do not use it")
            elif used in uses and used not in ordered:
                ordered[used] = False
                stack.append((used, iter(uses[used])))
    return order


def parse_claim(name: str, spec: ExpressionSpec) -> Quantity:
    """Return the quantity a claim name of an expression file names (``"q"``, ``"df/dx"``,
    ``"dq/dx"``, ``"x+"``, ``"f@3"``).

    Raises:
        ValueError: the name names nothing in ``spec`` (the message says why).
    """
    prefix = f"d{spec.output}/d"

    def forms() -> str:  # written out only for a message: a long file's claims stay linear
        return (f"claims are a defined name ({', '.join(spec.definitions)}), {prefix}NAME or a local "
                f"gradient dA/dB for NAME, B one of {', '.join(spec.names)} and A a definition, each "
                "followed by + or @K for after one or K steps")

    def known(n: str) -> bool:
        return n in spec.values or n in spec.definitions

    base, step = name, 0
    if name.endswith("+"):
        base, step = name[:-1], 1
    elif "@" in name:
        base, _, k = name.rpartition("@")
        if not (k.isascii() and k.isdigit()):
            raise ValueError(f"the step after @ must be a whole number, got {short_repr(k, 20)}")
        step = step_count(k)
    if base in spec.values:
        if not step:
            raise ValueError(f"{name} is a leaf: its value is the file's own (claim {base}+ for it "
                             f"after a step, with a learning_rate); {forms()}")
        q = Quantity("param", base, step)
    elif base.startswith(prefix) and known(base[len(prefix):]):
        q = Quantity("deriv", f"{spec.output}/{base[len(prefix):]}", step)
    elif base in spec.definitions:
        q = Quantity("value", base, step)
    elif base.startswith("d") and "/d" in base:
        top, _, bottom = base[1:].partition("/d")
        if top not in spec.definitions:
            raise ValueError(f"a local gradient dA/dB needs A a definition, got {short_repr(top, 30)}; "
                             f"{forms()}")
        if not known(bottom) or bottom == top:
            raise ValueError(f"no quantity {short_repr(bottom, 30)} below {top}; {forms()}")
        q = Quantity("local", f"{top}/{bottom}", step)
    else:
        raise ValueError(f"names nothing; {forms()}")
    if step and spec.learning_rate is None:
        when = "one gradient-descent step" if step == 1 else f"{step} gradient-descent steps"
        raise ValueError(f"{name} is {base} after {when}: give the file a learning_rate")
    return q


# -- the graph ------------------------------------------------------------------------------------

def _binary(apply: Callable[[Any, Any], Any], a: Value | float, b: Value | float) -> Value:
    """Return ``apply(a, b)``; of two numbers, the first becomes a constant leaf."""
    result: Value = apply(a if isinstance(a, Value) or isinstance(b, Value) else Value(a), b)
    return result


def _apply(function: str, operand: Value | float) -> Value:
    v = operand if isinstance(operand, Value) else Value(operand)
    if function == "neg":
        return -v
    if function == "abs":
        return abs(v)
    result: Value = getattr(v, function)()
    return result


def build(spec: ExpressionSpec, leaves: dict[str, Value] | None = None) -> dict[str, Value]:
    """Return every named quantity as a Value: the leaves (``leaves``, or new ones with the file's
    numbers), then each definition, labelled with its name."""
    nodes = dict(leaves) if leaves is not None else {name: Value(v, name) for name, v in spec.values.items()}

    with enable_grad():
        for name in spec.order:
            result = spec.formulas[name](nodes)
            assert isinstance(result, Value) and not result.label
            result.label = name
            nodes[name] = result
    return nodes


# -- the derivation ------------------------------------------------------------------------------

def replay_of(spec: ExpressionSpec) -> Replay:
    """Return an expression file's computation as the interpreter runs it: the tape of its graph
    (every leaf a parameter, every name on it), trained with the file's learning rate."""
    named = build(spec)
    tape = Tape([named[name] for name in spec.names], {n: named[n] for n in spec.values},
                named, root=named[spec.output])
    # a hand derivation goes through the definitions in the file's order
    return Replay(tape, dict(spec.values), list(spec.values), Optimizer(spec.learning_rate or 0.0),
                  positions=range(len(tape)))


class ExpressionDerivation(Derivation):
    """An expression file: its leaves, definitions and claims, with the network Derivation's API.

    Attributes: ``expression`` (the :class:`ExpressionSpec`), ``title``, ``parameters`` (the
    leaves as Values by name: every :meth:`loss` builds its graph on them), ``output`` (the output's name),
    ``input_names`` (empty), ``learning_rate`` (the file's, for ``x+`` claims; 0 without). It has
    no ``network``: pictures of it are the computation graph only.
    """

    def __init__(self, spec: ExpressionSpec) -> None:
        self.expression = spec
        self.title = spec.title
        self.output = spec.output
        self.input_names: list[str] = []
        self.learning_rate = spec.learning_rate or 0.0
        self.parameters: dict[str, Value] = {name: Value(v, name) for name, v in spec.values.items()}
        self.inputs: dict[str, Value] = {}
        self._nodes = build(spec, self.parameters)

    def __repr__(self) -> str:
        return (f"ExpressionDerivation({self.title or self.expression.source!r}, output {self.output!r}, "
                f"{len(self.expression.claims)} claims)")

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(repr(self))}</pre>"

    @property
    def claims(self) -> list[Claim]:
        """Return the file's claims, in file order."""
        return self.expression.claims

    def loss(self) -> Value:
        """Return the output's Value of a fresh graph on the leaves' current numbers (the file's,
        or after :meth:`train`), labelled with its name. Gradients are zeroed first, so
        ``loss().backward()`` leaves d output / d leaf in every ``parameters[name].grad``.
        """
        for leaf in self.parameters.values():
            leaf.grad = 0.0
        self._nodes = build(self.expression, self.parameters)
        return self._nodes[self.output]

    def outputs(self) -> dict[str, Value]:
        """Return the output's Value of a fresh graph, by its name."""
        return {self.output: self.loss()}

    def train(self, steps: int) -> list[float]:
        """Take ``steps`` gradient-descent steps on the output with the file's learning rate,
        changing every leaf; return the output before each step.

        Raises:
            UsageError: the file has no learning_rate.
            ValueError: ``steps`` is not an int >= 0.
        """
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be an int >= 0, got {steps!r}")
        if not self.learning_rate:
            raise UsageError(f"{self.expression.source}: an expression file takes gradient-descent "
                             "steps only with a learning_rate; add one at the top")
        before = []
        for _ in range(steps):
            out = self.loss()
            out.backward()
            before.append(out.data)
            for leaf in self.parameters.values():
                leaf.data -= self.learning_rate * leaf.grad
        return before

    def reset(self) -> None:
        """Set every leaf back to the file's number and build the graph again."""
        for name, leaf in self.parameters.items():
            leaf.data = self.expression.values[name]
        self.loss()

    def replay(self) -> Replay:
        """Return the file's computation as the interpreter runs it, from the file's numbers."""
        return replay_of(self.expression)

    def named_quantities(self, step: int = 0) -> list[Quantity]:
        """Return every definition's value, d output / d NAME for every name and, with a learning
        rate, each leaf after the step (``x+``; ``x@K`` names the leaves after step K - 1).

        Raises:
            ValueError: a step after the first without a learning rate.
        """
        if step and not self.learning_rate:
            raise ValueError("an expression file takes gradient-descent steps only with a "
                             "learning_rate; use step 0")
        spec = self.expression
        found = [Quantity("value", name, step) for name in spec.order]
        found += [Quantity("deriv", f"{self.output}/{name}", step) for name in spec.names]
        return found + [Quantity("param", name, step + 1) for name in spec.values if self.learning_rate]

    def _parse(self, claim: str) -> Quantity:
        return parse_claim(claim, self.expression)

    def _gradient_of(self, param: str | Value) -> tuple[Value, Value, float | None]:
        """Return a fresh output, the quantity ``param`` in its graph and the learning rate of a
        leaf (None for a definition or without a learning_rate).

        Raises:
            UsageError: ``param`` names nothing in this file.
        """
        loss = self.loss()
        name = param if isinstance(param, str) else next(
            (n for n, v in self._nodes.items() if v is param), None)
        if name is None:
            raise UsageError(f"{param!r} is not a quantity of this file")
        if name not in self._nodes:
            raise UsageError(f"no quantity {name!r}; the names are {', '.join(self._nodes)}")
        rate = self.learning_rate if self.learning_rate and name in self.expression.values else None
        return loss, self._nodes[name], rate


__all__ = [
    "ExpressionDerivation",
    "ExpressionSpec",
    "UNARY_FUNCTIONS",
    "build",
    "parse_expression",
    "replay_of",
]
