"""Translate the operation table's expressions into JavaScript, for the stepper page.

The page recomputes every value and gradient when a leaf is edited, so it needs the
forward computation and the local derivatives of each operation in JavaScript. They
are not written a second time: this module translates the table's Python expressions
(:mod:`autograd_tiny.ops`, parsed by :func:`autograd_tiny.codegen.parse`) node by node:

* :func:`js_value` gives a JavaScript expression computing the number
  (``x ** y`` becomes ``P.pow(x, y)``, ``exp(x)`` becomes ``P.exp(x)``, ``a if c else b``
  becomes ``(c ? a : b)``); the float helpers ``P`` follow the same IEEE 754 rules as
  :mod:`autograd_tiny._numeric` (:data:`JS_HELPERS`);
* :func:`js_text` gives a JavaScript expression building the printed formula
  (:func:`autograd_tiny.formula.render`) with each operand replaced by a string,
  a name or a number, and a condition resolved to the branch that applies;
* :func:`ops_script` writes the whole table as one ``const OPS = {...};``.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from collections.abc import Callable

from .. import codegen, formula
from ..ops import FUNCTIONS, OPS, Op

#: JavaScript versions of the float helpers of :mod:`autograd_tiny._numeric`: one per name
#: of :data:`autograd_tiny.ops.FUNCTIONS`, plus ``pow`` (``/`` is IEEE 754 in JavaScript already).
JS_HELPERS: dict[str, str] = {
    "exp": "Math.exp",
    "log": "Math.log",
    "tanh": "Math.tanh",
    "sqrt": "Math.sqrt",
    "sin": "Math.sin",
    "cos": "Math.cos",
    "abs": "Math.abs",  # Math.abs(-0) is +0, as _numeric's abs
    # 1 / (1 + e^-x) without overflow, as _numeric.sigmoid.
    "sigmoid": "(x) => { if (x >= 0) return 1 / (1 + Math.exp(-x)); const e = Math.exp(x); "
               "return e / (1 + e); }",
    # Python's float ** : 1 ** anything and (-1) ** ±inf are 1 (JavaScript gives NaN).
    "div": "(a, b) => a / b",  # JavaScript's / is IEEE 754 already, as _numeric.div
    "pow": "(a, b) => (a === 1 || (a === -1 && (b === Infinity || b === -Infinity))) ? 1 "
           ": Math.pow(a, b)",
}

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_COMPARE = {ast.Eq: "===", ast.NotEq: "!==", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_OPERAND = re.compile(r"\b(x|y|out)\b")


def _number(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"the table has a constant {value!r} that JavaScript source cannot write")
    return repr(float(value))


def _value(node: ast.expr, expr: str) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return _number(node.value)
    if isinstance(node, ast.Name):
        return node.id  # an operand name, checked by codegen.parse
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left, expr), _value(node.right, expr)
        if isinstance(node.op, ast.Pow):
            return f"P.pow({left}, {right})"
        if type(node.op) in _BINARY:
            return f"({left} {_BINARY[type(node.op)]} {right})"
    if isinstance(node, ast.UnaryOp):
        inner = _value(node.operand, expr)
        if isinstance(node.op, ast.USub):
            return f"(-{inner})"
        if isinstance(node.op, ast.UAdd):
            return inner
        if isinstance(node.op, ast.Not):
            return f"(!{inner})"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS \
            and len(node.args) == 1 and not node.keywords:
        return f"P.{node.func.id}({_value(node.args[0], expr)})"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.keywords \
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "P" \
            and node.func.attr in JS_HELPERS:  # a helper call that codegen.contribution wrote
        return f"P.{node.func.attr}({', '.join(_value(a, expr) for a in node.args)})"
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        items = [node.left, *node.comparators]
        parts = [f"({_value(a, expr)} {_COMPARE[type(op)]} {_value(b, expr)})"
                 for op, a, b in zip(node.ops, items, items[1:])]
        return "(" + " && ".join(parts) + ")"
    if isinstance(node, ast.BoolOp):
        joiner = " && " if isinstance(node.op, ast.And) else " || "
        return "(" + joiner.join(_value(v, expr) for v in node.values) + ")"
    if isinstance(node, ast.IfExp):
        return f"({_value(node.test, expr)} ? {_value(node.body, expr)} : {_value(node.orelse, expr)})"
    raise ValueError(f"table expression {expr!r} uses {ast.unparse(node)!r}, which has no JavaScript form")


def js_value(expr: str) -> str:
    """Return a JavaScript expression over ``x``, ``y``, ``out`` computing table expression ``expr``.

    Functions and ``**`` call the helpers object ``P`` (see :data:`JS_HELPERS`).

    Raises:
        ValueError: ``expr`` uses a name or syntax outside the table's language.
    """
    return _value(codegen.parse(expr), expr)


def _has_condition(node: ast.expr) -> bool:
    return any(isinstance(n, ast.IfExp) for n in ast.walk(node))


def _text(node: ast.expr, expr: str) -> str:
    if isinstance(node, ast.IfExp):
        return f"({_value(node.test, expr)} ? {_text(node.body, expr)} : {_text(node.orelse, expr)})"
    if _has_condition(node):
        raise ValueError(f"table expression {expr!r} has a condition inside a formula; "
                         "the page can print conditions only at the top")
    printed = formula.render(formula.from_table(ast.unparse(node), {n: n for n in codegen.OPERAND_NAMES}))
    pieces: list[str] = []
    for i, part in enumerate(_OPERAND.split(printed)):
        if i % 2:
            pieces.append(f"s.{part}")
        elif part:
            pieces.append(json.dumps(part))
    return "(" + " + ".join(pieces) + ")" if pieces else '""'


def js_text(expr: str) -> str:
    """Return a JavaScript expression that prints table expression ``expr`` as a formula.

    The expression reads the numbers ``x``, ``y``, ``out`` (to choose a condition's
    branch) and the strings ``s.x``, ``s.y``, ``s.out`` (what to print for each operand).
    The printed form is :func:`autograd_tiny.formula.render`'s (``out * (1 - out)``,
    ``y * x^(y - 1)``).

    Raises:
        ValueError: ``expr`` uses syntax the page cannot print.
    """
    return _text(codegen.parse(expr), expr)


def _contribution_js(derivative: str) -> str:
    """Return JavaScript for ``g`` times ``derivative`` as the engine's backward computes it."""
    source = codegen.contribution("g", derivative, {n: n for n in codegen.OPERAND_NAMES}, prefix="P.")
    return _value(ast.parse(source, mode="eval").body, derivative)


def _op_entry(op: Op) -> str:
    params = "(x, y, out)"
    fields = [
        f"arity: {op.arity}",
        f"symbol: {json.dumps(op.symbol)}",
        f"f: (x, y) => {js_value(op.forward)}",
        f"ft: (x, y, out, s) => {js_text(op.forward)}",
        "d: [" + ", ".join(f"{params} => {js_value(d)}" for d in op.derivatives) + "]",
        # What the parent receives, written by codegen.contribution exactly as the engine's
        # backward applies it (structural zeros, a 1 / D derivative as a division).
        "c: [" + ", ".join(f"(g, x, y, out) => {_contribution_js(d)}" for d in op.derivatives) + "]",
        "dt: [" + ", ".join(f"(x, y, out, s) => {js_text(d)}" for d in op.derivatives) + "]",
        "dsrc: [" + ", ".join(json.dumps(d) for d in op.derivatives) + "]",
    ]
    return f"  {json.dumps(op.name)}: {{\n    " + ",\n    ".join(fields) + "\n  }"


def ops_script() -> str:
    """Return JavaScript source defining ``P`` (float helpers) and ``OPS`` (the operation table).

    ``OPS[name]`` has ``arity``, ``symbol``, ``f(x, y)`` (the forward value),
    ``ft(x, y, out, s)`` (the forward formula as text), ``d[i](x, y, out)`` (the
    local derivative with respect to input ``i``), ``c[i](g, x, y, out)`` (what input
    ``i`` receives from gradient ``g``, as the engine's backward computes it),
    ``dt[i](x, y, out, s)`` (its
    formula as text) and ``dsrc[i]`` (the table's expression). Generated from
    :data:`autograd_tiny.ops.OPS`, so the page has no derivative of its own.
    """
    missing = sorted(set(FUNCTIONS) - set(JS_HELPERS))
    if missing:
        raise ValueError(f"no JavaScript version of table function(s) {', '.join(missing)}; "
                         "add them to JS_HELPERS")
    helpers = ",\n".join(f"  {name}: {src}" for name, src in JS_HELPERS.items())
    entries = ",\n".join(_op_entry(op) for op in OPS.values())
    source = f"const P = {{\n{helpers}\n}};\nconst OPS = {{\n{entries}\n}};\n"
    if "</" in source or "<!--" in source:  # cannot happen with the table's syntax
        raise ValueError("generated JavaScript would end its <script> element early")
    return source


# -- a Python function of the checker, translated ---------------------------------------------------

_JS_OPERATORS: dict[type[ast.AST], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
    ast.GtE: ">=", ast.Eq: "===", ast.NotEq: "!==", ast.And: "&&", ast.Or: "||",
}


def _js_expr(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return "true" if node.value else "false"
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return _number(float(node.value))
    if isinstance(node, ast.BinOp) and type(node.op) in _JS_OPERATORS:
        return f"({_js_expr(node.left)} {_JS_OPERATORS[type(node.op)]} {_js_expr(node.right)})"
    if isinstance(node, ast.BoolOp):
        return "(" + f" {_JS_OPERATORS[type(node.op)]} ".join(_js_expr(v) for v in node.values) + ")"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return f"(!{_js_expr(node.operand)})"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return f"(-{_js_expr(node.operand)})"
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _JS_OPERATORS:
        return (f"({_js_expr(node.left)} {_JS_OPERATORS[type(node.ops[0])]} "
                f"{_js_expr(node.comparators[0])})")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "abs" \
            and len(node.args) == 1:
        return f"Math.abs({_js_expr(node.args[0])})"
    raise ValueError(f"cannot translate {ast.unparse(node)!r} to JavaScript")


def _js_body(statements: list[ast.stmt], indent: str) -> list[str]:
    lines: list[str] = []
    for st in statements:
        if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant):
            continue  # the docstring
        if isinstance(st, ast.Return) and st.value is not None:
            lines.append(f"{indent}return {_js_expr(st.value)};")
        elif isinstance(st, ast.If):
            lines.append(f"{indent}if ({_js_expr(st.test)}) {{")
            lines += _js_body(st.body, indent + "  ")
            lines.append(f"{indent}}}")
            if st.orelse:
                lines[-1] += " else {"
                lines += _js_body(st.orelse, indent + "  ")
                lines.append(f"{indent}}}")
        else:
            raise ValueError(f"cannot translate {ast.unparse(st)!r} to JavaScript")
    return lines


def function_js(fn: Callable[..., object]) -> str:
    """Return a JavaScript function with the same name, arguments and body as the Python function
    ``fn``, translated statement by statement (ifs, returns, comparisons, ``and``/``or``/``not``,
    ``+ - *``, ``abs``): the page runs the package's own rule, not a copy written by hand.

    Raises:
        ValueError: ``fn`` uses something this translation does not know.
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    func = tree.body[0]
    if not isinstance(func, ast.FunctionDef):
        raise ValueError(f"{fn!r} is not a plain function")
    args = ", ".join(a.arg for a in func.args.args)
    return "\n".join([f"function {func.name}({args}) {{", *_js_body(func.body, "  "), "}"])
