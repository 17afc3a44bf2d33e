"""Turn the expressions of the operation table into Python source.

The table (:mod:`autograd_tiny.ops`) writes each forward computation and each
local derivative as a Python expression over ``x``, ``y`` and ``out``. This module
rewrites such an expression for a given setting:

* names are replaced by the source that holds their value (``x`` becomes
  ``px.data`` or ``v12``);
* ``a / b`` and ``a ** b`` become calls of IEEE-safe helpers (``_div``, ``_pow``)
  and functions such as ``exp`` become ``_exp``; :func:`float_namespace` holds
  their float versions.

The eager engine (:mod:`autograd_tiny.value`), the compiler
(:mod:`autograd_tiny.compiler`) and the functional API all generate their code
through :func:`substitute`, so a derivative formula exists only in the table.

The SGD update rule is kept here the same way, as expressions (:func:`sgd_rule`):
``nn.SGD``'s loop (:func:`sgd_loop`), the float function the derivation checker
steps with (:func:`sgd_function`) and the compiled training step's statements
(:func:`sgd_update`) are written from it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from functools import cache

from . import _numeric
from .ops import FUNCTIONS

#: The names an expression may use for its operands.
OPERAND_NAMES = ("x", "y", "out")


@cache
def parse(expr: str) -> ast.expr:
    """Return the AST of a table expression, after checking it uses only known names.

    Raises:
        ValueError: the expression names something that is neither an operand
            (``x``, ``y``, ``out``) nor a function of :data:`autograd_tiny.ops.FUNCTIONS`.
    """
    tree = ast.parse(expr, mode="eval").body
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in OPERAND_NAMES and node.id not in FUNCTIONS:
            raise ValueError(f"table expression {expr!r} uses unknown name {node.id!r}")
    return tree


def float_namespace(prefix: str = "_") -> dict[str, object]:
    """Return the float helpers that code from :func:`substitute` calls, by their prefixed names.

    Returns:
        A new dict: ``_div``, ``_pow`` and ``_exp``, ``_log`` ... (every function of
        :data:`autograd_tiny.ops.FUNCTIONS`), each with IEEE 754 results on floats.
    """
    namespace: dict[str, object] = {prefix + name: fn for name, fn in _numeric.FLOAT_FUNCTIONS.items()}
    namespace[prefix + "div"] = _numeric.div
    namespace[prefix + "pow"] = _numeric.pow
    return namespace


def table_function(params: str, sources: Sequence[str], namespace: Mapping[str, object],
                   name: str, *, single: bool = False) -> Callable[..., object]:
    """Return ``lambda <params>: (<sources>,)`` (or the one source itself with ``single``),
    compiled in ``namespace``.

    ``sources`` are table expressions already rewritten by :func:`substitute` (only the
    package's own table reaches here, never user input).
    """
    body = sources[0] if single else f"({', '.join(sources)},)"
    code = compile(f"lambda {params}: {body}", f"<{name}>", "eval")
    fn: Callable[..., object] = eval(code, dict(namespace))  # noqa: S307 - our table
    return fn


def names_used(expr: str) -> frozenset[str]:
    """Return the operand names (``x``, ``y``, ``out``) that ``expr`` reads."""
    return frozenset(
        n.id for n in ast.walk(parse(expr)) if isinstance(n, ast.Name) and n.id in OPERAND_NAMES
    )


class _Rewrite(ast.NodeTransformer):
    def __init__(self, operands: Mapping[str, str], prefix: str) -> None:
        self.operands = {k: ast.parse(v, mode="eval").body for k, v in operands.items()}
        self.prefix = prefix

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.operands:
            return self.operands[node.id]
        return ast.Name(self.prefix + node.id, ast.Load())

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        helper = {ast.Div: "div", ast.Pow: "pow"}.get(type(node.op))
        if helper is None:
            return node
        return ast.Call(ast.Name(self.prefix + helper, ast.Load()), [node.left, node.right], [])


def substitute(expr: str, operands: Mapping[str, str], prefix: str = "_") -> str:
    """Return ``expr`` as Python source with operands replaced and helpers prefixed.

    Args:
        expr: a forward or derivative expression from the table.
        operands: source text for each operand name the expression reads,
            e.g. ``{"x": "px.data", "out": "v.data"}``.
        prefix: put before every function name; ``/`` becomes ``{prefix}div(a, b)``
            and ``**`` becomes ``{prefix}pow(a, b)``.

    Returns:
        One line of Python source.
    """
    tree = _Rewrite(operands, prefix).visit(ast.parse(ast.unparse(parse(expr)), mode="eval").body)
    return ast.unparse(ast.fix_missing_locations(tree))


def constant_value(expr: str) -> float | None:
    """Return the number an expression is (``"1"`` gives 1.0), or None when it is not constant."""
    node = parse(expr)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = node.operand
        if isinstance(inner, ast.Constant) and isinstance(inner.value, (int, float)):
            return -float(inner.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    return None


def _constant(node: ast.expr) -> float | None:
    return constant_value(ast.unparse(node))


def _contribution(grad: str, node: ast.expr, operands: Mapping[str, str], prefix: str) -> str:
    c = _constant(node)
    if c == 0.0:
        return "0.0"  # a structural zero: nothing flows back, whatever grad is (inf, nan)
    if c == 1.0:
        return grad
    if c == -1.0:
        return f"(-{grad})"
    if isinstance(node, ast.IfExp):
        test = substitute(ast.unparse(node.test), operands, prefix)
        body = _contribution(grad, node.body, operands, prefix)
        orelse = _contribution(grad, node.orelse, operands, prefix)
        return f"({body} if {test} else {orelse})"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and _constant(node.left) == 1.0:
        denominator = substitute(ast.unparse(node.right), operands, prefix)
        return f"{prefix}div({grad}, {denominator})"
    return f"{grad} * ({substitute(ast.unparse(node), operands, prefix)})"


def contribution(grad: str, derivative: str, operands: Mapping[str, str], prefix: str = "_") -> str:
    """Return the source of ``grad * derivative``: what one parent receives by the chain rule.

    The form of the table's derivative decides how (see :mod:`autograd_tiny.ops`): a
    constant 0, also as a branch of a condition, gives exactly ``0.0`` (a structural
    zero, even for an infinite or nan ``grad``); 1 and -1 give ``grad`` and
    ``-grad``; a quotient ``1 / D`` gives ``grad / D`` (finite where ``1 / D``
    overflows); anything else ``grad * (derivative)``. Conditions stay conditions,
    with the product moved into their branches.

    Args:
        grad: source of the incoming gradient (``"g"``).
        derivative: a derivative expression of the table.
        operands, prefix: as for :func:`substitute`.

    Returns:
        One Python expression.
    """
    source = _contribution(grad, parse(derivative), operands, prefix)
    return ast.unparse(ast.parse(source, mode="eval").body)


def accumulate(target: str, grad: str, derivative: str, operands: Mapping[str, str],
               prefix: str = "_") -> str:
    """Return the statement ``target += grad * derivative``, as :func:`contribution` writes it.

    This is the single place where the chain rule's product is written out as a
    statement; a derivative of 1 or -1 becomes ``target += grad`` or ``target -= grad``.
    """
    c = constant_value(derivative)
    if c == 1.0:
        return f"{target} += {grad}"
    if c == -1.0:
        return f"{target} -= {grad}"
    return f"{target} += {contribution(grad, derivative, operands, prefix)}"


# -- the SGD update rule ---------------------------------------------------------------------------
#
# torch.optim.SGD's update of one parameter, written once: nn.SGD's loop, the float function
# nn.optim.sgd_direction (which the derivation checker steps with) and the compiled training
# step are all generated from these expressions.

#: The names the rule's expressions read: the parameter's gradient and value, its velocity
#: (None before its first step with momentum), and the factors: ``m`` the momentum, ``k`` one
#: minus the dampening, ``wd`` the weight decay.
SGD_NAMES = ("grad", "value", "velocity", "m", "k", "wd")


def sgd_rule(momentum: bool, decay: bool, nesterov: bool) -> tuple[tuple[tuple[str, str], ...], str]:
    """Return torch.optim.SGD's rule for one parameter as ``(statements, direction)``.

    ``statements`` are ``(target, expression)`` pairs run in order (``d`` the gradient used,
    ``velocity`` the new velocity); the parameter then becomes ``value - lr * direction``.
    With weight decay the gradient used is ``grad + wd * value``; without momentum it is the
    direction. With momentum the velocity is that gradient at the first step, then
    ``m * velocity + k * d``; the direction is the velocity, or ``d + m * velocity`` with
    Nesterov momentum (which needs momentum; without it ``nesterov`` changes nothing).
    """
    d = "grad + wd * value" if decay else "grad"
    if not momentum:
        return (), d
    return (("d", d), ("velocity", "d if velocity is None else m * velocity + k * d")), \
        ("d + m * velocity" if nesterov else "velocity")


def _rename(expr: str, names: Mapping[str, str]) -> str:
    """Return ``expr`` with each name of ``names`` replaced by its source."""
    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return ast.parse(names[node.id], mode="eval").body if node.id in names else node

    tree = Rename().visit(ast.parse(expr, mode="eval").body)
    return ast.unparse(ast.fix_missing_locations(tree))


def sgd_update(momentum: bool, decay: bool, nesterov: bool, param: str, velocity: str) -> list[str]:
    """Return statements that update the parameter object ``param`` (its ``.grad`` and ``.data``)
    by :func:`sgd_rule`, with its velocity kept in ``velocity`` (a subscript such as ``V[3]``),
    reading ``lr``, ``m``, ``k`` and ``wd``. They use the local names ``d`` and ``v``."""
    statements, direction = sgd_rule(momentum, decay, nesterov)
    names = {"grad": f"{param}.grad", "value": f"{param}.data", "velocity": "v"}
    lines = [f"v = {velocity}"] if momentum else []
    lines += [f"{names.get(target, target)} = {_rename(expr, names)}" for target, expr in statements]
    if momentum:
        lines.append(f"{velocity} = v")
    lines.append(f"{param}.data -= lr * ({_rename(direction, names)})")
    return lines


@cache
def sgd_function(momentum: bool, decay: bool, nesterov: bool) -> Callable[..., tuple[float, float | None]]:
    """Return ``f(grad, value, velocity, m, k, wd) -> (direction, velocity)``: :func:`sgd_rule` on floats."""
    statements, direction = sgd_rule(momentum, decay, nesterov)
    body = "".join(f"    {target} = {expr}\n" for target, expr in statements)
    source = f"def sgd({', '.join(SGD_NAMES)}):\n{body}    return {direction}, velocity\n"
    namespace: dict[str, object] = {}
    exec(compile(source, "<sgd rule>", "exec"), namespace)  # noqa: S102 - the rule above
    fn: Callable[..., tuple[float, float | None]] = namespace["sgd"]  # type: ignore[assignment]
    return fn


@cache
def sgd_loop(momentum: bool, decay: bool, nesterov: bool) -> Callable[..., None]:
    """Return ``step(P, V, lr, m, k, wd)``: every parameter of the list ``P`` updated by
    :func:`sgd_rule`, its velocity in ``V[j]``, in one loop."""
    head = "for j, p in enumerate(P):" if momentum else "for p in P:"
    body = "".join(f"        {line}\n" for line in sgd_update(momentum, decay, nesterov, "p", "V[j]"))
    source = f"def step(P, V, lr, m, k, wd):\n    {head}\n{body}"
    namespace: dict[str, object] = {}
    exec(compile(source, "<sgd rule>", "exec"), namespace)  # noqa: S102 - the rule above
    fn: Callable[..., None] = namespace["step"]  # type: ignore[assignment]
    return fn
