"""Chain-rule explanations: d loss / d parameter, written out path by path.

The *named* quantities of a graph are the Values with a label (``E``, ``E_o1``,
``out_o1``, ``net_o1``, ``w5`` ...), plus the loss and the parameter themselves.
Between two named quantities there may be unlabelled nodes (the ``0.5 * (t - out) ** 2``
of a loss term, the partial sums of a net input). The derivative of a loss with
respect to a parameter is then

* a sum over every *path* from the loss down to the parameter through named
  quantities, of
* the product of the path's *factors* d(named)/d(next named), where
* each factor's number is the product of the table's local derivatives along the
  unlabelled nodes between the two quantities (summed if there are several routes),
  applied as backward applies them (:data:`autograd_tiny.functional.CONTRIBUTIONS`: a
  structural zero of the table passes 0 even after an infinite derivative), and its formula
  is the same product of the table's derivative expressions, simplified without
  changing its value (``0.5 * 2 * (t - out)^1 * (-1)`` is written ``-(t - out)``) and
  printed by :mod:`autograd_tiny.formula`.

:func:`gradient_paths` returns that structure, :func:`explain` adds the sum, the
reverse-mode check and the update, and :func:`explain_gradient` prints it as text,
Markdown or LaTeX. Nothing here knows a derivative: every formula comes from
:mod:`autograd_tiny.ops`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import _display_hooks, _numeric
from . import formula as fm
from .functional import CONTRIBUTIONS, _operands, grad
from .value import Value, _as_float, topological_order

#: Output formats of :func:`explain_gradient`.
FORMATS = fm.FORMATS

#: More paths than this and the explanation would not be readable (nor fast).
MAX_PATHS = 10_000

#: The longest formula (in tree nodes) written for an unlabelled node.
MAX_FORMULA_SIZE = 2_000


@dataclass(frozen=True)
class Factor:
    """One factor d upper / d lower of a chain-rule path.

    Attributes:
        upper: the name of the quantity differentiated (``"out_o1"``).
        lower: the name of the quantity it is differentiated by (``"net_o1"``).
        value: its number, from the table's local derivatives.
        expression: its formula as a :mod:`autograd_tiny.formula` tree, built from the
            table's derivative expressions of the nodes between the two quantities and
            written more simply by :func:`autograd_tiny.formula.simplify` (same value).
        routes: how many routes through unlabelled nodes lead from ``upper`` to
            ``lower`` (the formula sums one product per route).
    """

    upper: str
    lower: str
    value: float
    expression: fm.Node
    routes: int = 1

    @property
    def symbol(self) -> str:
        """The factor's symbol in text, e.g. ``dout_o1/dnet_o1``."""
        return self.symbol_as("text")

    @property
    def formula(self) -> str:
        """The factor's formula in text, e.g. ``out_o1 * (1 - out_o1)``."""
        return self.formula_as("text")

    @property
    def arithmetic(self) -> str:
        """The formula with numbers in place of symbols, e.g. ``0.751365 * (1 - 0.751365)``."""
        return self.arithmetic_as("text")

    def symbol_as(self, fmt: str = "text") -> str:
        """Return the symbol d upper / d lower in ``fmt`` (text, markdown or latex)."""
        return fm.derivative_symbol(self.upper, self.lower, fmt)

    def formula_as(self, fmt: str = "text", digits: int = 6) -> str:
        """Return the formula in ``fmt``."""
        return fm.render(self.expression, fmt, digits=digits)

    def arithmetic_tree(self) -> fm.Node:
        """Return the formula's tree with every symbol replaced by its number."""
        return fm.resolve_conditions(fm.with_numbers(self.expression))

    def arithmetic_as(self, fmt: str = "text", digits: int = 6) -> str:
        """Return the formula with numbers in place of symbols, in ``fmt``."""
        return fm.render(self.arithmetic_tree(), fmt, digits=digits)


@dataclass(frozen=True)
class Path:
    """One path from the loss down to the parameter through named quantities.

    Attributes:
        nodes: the names along the path, loss first, parameter last.
        factors: d nodes[i] / d nodes[i+1] for each step.
        sample: in a batch loss, the sample (from 1) whose copy of the parameter the path
            reaches (see :func:`sample_copy`); None otherwise.
    """

    nodes: tuple[str, ...]
    factors: tuple[Factor, ...]
    sample: int | None = None

    @property
    def value(self) -> float:
        """The product of the factors' numbers (1 for a path without steps)."""
        return math.prod(f.value for f in self.factors)


def _agree(gradient: float, reverse_mode: float) -> bool:
    """Return True when an explanation's result matches reverse mode's number (to rounding)."""
    g, r = gradient, reverse_mode
    return g == r or abs(g - r) <= 1e-9 * max(abs(g), abs(r)) + 1e-15


def _check_sentence(gradient: float, reverse_mode: float, num: Callable[[float], str]) -> str:
    """Return the sentence comparing an explanation's result with reverse mode's number,
    written with ``num``."""
    if _agree(gradient, reverse_mode):
        return f"reverse mode (backward) gives {num(reverse_mode)}, the same"
    return (f"reverse mode (backward) gives {num(reverse_mode)}, which DIFFERS "
            f"by {gradient - reverse_mode:.3g}")


@dataclass(frozen=True)
class Explanation:
    """The chain-rule derivation of d loss / d param.

    Attributes:
        loss, param: the names of the two quantities.
        param_value: the parameter's current value.
        paths: every path through named quantities, in a stable order.
        gradient: the sum of the paths' products.
        reverse_mode: the same derivative from reverse-mode differentiation
            (:func:`autograd_tiny.grad`), as a check.
        learning_rate: the step size of the update, or None for no update.
    """

    loss: str
    param: str
    param_value: float
    paths: tuple[Path, ...]
    gradient: float
    reverse_mode: float
    learning_rate: float | None = None

    @property
    def updated(self) -> float | None:
        """``param - learning_rate * gradient``, or None without a learning rate."""
        if self.learning_rate is None:
            return None
        return self.param_value - self.learning_rate * self.gradient

    @property
    def agrees(self) -> bool:
        """True when the sum of the paths matches reverse mode (to rounding)."""
        return _agree(self.gradient, self.reverse_mode)

    def factors(self) -> list[Factor]:
        """Return every distinct factor, in the order the paths first use them."""
        seen: dict[int, Factor] = {}
        for path in self.paths:
            for f in path.factors:
                seen.setdefault(id(f), f)
        return list(seen.values())

    def render(self, fmt: str = "text", digits: int = 6) -> str:
        """Return the derivation as text, Markdown or LaTeX (an ``align*`` environment)."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        printer = {"text": _Text, "markdown": _Markdown, "latex": _Latex}[fmt]
        try:
            return printer(self, fm.check_digits(digits)).render()
        except (RecursionError, fm.FormulaTooDeepError):
            raise too_deep(self.loss, self.param) from None

    def _repr_markdown_(self) -> str | None:
        return _display_hooks.markdown(self)  # registered by autograd_tiny.display

    def _repr_latex_(self) -> str | None:
        return _display_hooks.latex(self)  # registered by autograd_tiny.display

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.render("text").rstrip("\n"))  # IPython's plain text: the text derivation


# -- building the structure -------------------------------------------------------------------------
def _resolve(loss: Value, param: Value | str, topo: list[Value]) -> Value:
    """Return the node of ``loss``'s graph that ``param`` names."""
    loss_name = loss.label or "the loss"
    if isinstance(param, str):
        found = list({id(v): v for v in topo if v.label == param}.values())
        if not found:
            names = sorted({v.label for v in topo if v.label})
            raise ValueError(
                f"no quantity named {param!r} in the graph of {loss_name}; "
                f"named quantities: {', '.join(names) or '(none)'}"
            )
        if len(found) > 1:
            raise ValueError(
                f"{len(found)} different nodes are named {param!r} in the graph of {loss_name}; "
                "give them distinct labels or pass the Value itself"
            )
        return found[0]
    if not isinstance(param, Value):
        raise TypeError(f"param must be a Value or a name (str), got {type(param).__name__}: {param!r}")
    if not any(v is param for v in topo):
        name = repr(param.label) if param.label else repr(param)
        raise ValueError(
            f"parameter {name} is not in the graph of {loss_name}: the loss does not depend on it; "
            "recompute the loss from this parameter (a fresh forward pass) and explain again"
        )
    return param


_COPY_LABEL = re.compile(r"(.+)\[([1-9][0-9]*)\]\Z")


def sample_copy(v: Value) -> tuple[Value, int] | None:
    """Return ``(parameter, sample)`` when ``v`` is a batch's per-sample copy of a parameter.

    A batch derivation computes each sample's forward pass from its own copy of every
    weight, ``W10 * 1.0`` labelled ``W10[s]``, so that each sample's quantities carry the
    sample's number. The copy's derivative with respect to the weight is exactly 1: the
    weight's gradient is the sum over the samples of each copy's gradient. Anything else
    (another factor, another label) is no copy: None.
    """
    if v.op is None or v.op.name != "mul" or len(v.operands) != 2 or not v.label:
        return None
    param, one = v.operands
    if not isinstance(param, Value) or isinstance(one, Value) or one != 1.0 or not param.label:
        return None
    found = _COPY_LABEL.match(v.label)
    if found is None or found.group(1) != param.label:
        return None
    return param, int(found.group(2))


class _Graph:
    """The named quantities of a graph and the factors between them.

    With ``batch`` (the path form), a batch's per-sample copy of a parameter
    (:func:`sample_copy`) is written with the parameter's own name, and a route that
    reaches a copy of the target reaches the target: its factor is ``dnet_Z1[1]/dW10``,
    never ``dW10[1]/dW10 = 1``, and its path belongs to that copy's sample.
    """

    def __init__(self, loss: Value, target: Value, topo: list[Value], batch: bool = False) -> None:
        self.loss = loss
        self.target = target
        self.batch = batch
        #: the sample of the copy of the target each factor ends at (by the factor's id)
        self.samples: dict[int, int | None] = {}
        self.relevant: set[Value] = set()
        for v in topo:  # inputs first: a node depends on target if a parent does
            if v is target or any(p in self.relevant for p in v.parents):
                self.relevant.add(v)
        self.trees: dict[Value, fm.Node] = {}
        self.edges: dict[Value, list[tuple[Value, Factor]]] = {}

    def name(self, v: Value) -> str:
        if self.batch and v is not self.target:
            copy = sample_copy(v)
            if copy is not None:
                return self.name(copy[0])
        if v.label:
            return v.label
        return "loss" if v is self.loss else "param"

    def _copy_of_target(self, v: Value) -> int | None:
        """The sample of ``v`` if it is a copy of the target (in batch mode), else None."""
        if not self.batch or v is self.target:
            return None
        copy = sample_copy(v)
        return copy[1] if copy is not None and copy[0] is self.target else None

    def is_named(self, v: Value) -> bool:
        return bool(v.label) or v is self.loss or v is self.target

    def tree(self, v: Value) -> fm.Node:
        """Return how formulas write ``v``: its name, its number, or its forward expression."""
        cached = self.trees.get(v)
        if cached is not None:
            return cached
        # The unlabelled nodes above ``v`` get their trees first, parents before children, with a
        # stack instead of recursion: a chain of any length is walked.
        stack = [v]
        while stack:
            n = stack[-1]
            if n in self.trees:
                stack.pop()
                continue
            if self.is_named(n):
                t: fm.Node = fm.Sym(self.name(n), n.data)
            elif n.op is None:
                t = fm.Num(n.data)
            else:
                missing = [o for o in n.operands if isinstance(o, Value) and o not in self.trees]
                if missing:
                    stack.extend(missing)
                    continue
                t = fm.table_formula(n.op.forward, self._operand_trees(n))
                self._check_size(t, n)
            self.trees[n] = t
            stack.pop()
        return self.trees[v]

    def _operand_trees(self, v: Value) -> dict[str, fm.Node]:
        return {
            name: (self.tree(o) if isinstance(o, Value) else fm.Num(o))
            for name, o in zip(("x", "y"), v.operands)
        }

    def local(self, v: Value) -> Iterator[tuple[Value, int, fm.Node]]:
        """Yield (parent, its index among ``v``'s parents, the formula tree of d v / d parent)."""
        op = v.op
        assert op is not None
        operands = self._operand_trees(v)
        operands["out"] = self.tree(v)
        positions = [i for i, o in enumerate(v.operands) if isinstance(o, Value)]
        for k, (parent, i) in enumerate(zip(v.parents, positions)):
            yield parent, k, fm.table_formula(op.derivatives[i], operands)

    @staticmethod
    def passed_on(v: Value, g: float) -> tuple[float, ...]:
        """Return what each parent of ``v`` receives from gradient ``g``, as backward computes it
        (a structural zero of the table passes 0 even for an infinite ``g``)."""
        assert v._kind is not None
        return tuple(float(c) for c in CONTRIBUTIONS[v._kind.name](g, *_operands(v, False)))

    def _check_size(self, tree: fm.Node, v: Value) -> None:
        if fm.size(tree) > MAX_FORMULA_SIZE:
            raise ValueError(
                f"the formula of an unlabelled node ({v!r}) would be longer than {MAX_FORMULA_SIZE} "
                f"terms; label intermediate quantities (e.g. name the neurons) to explain "
                f"d{self.name(self.loss)}/d{self.name(self.target)}"
            )

    def factors_below(self, upper: Value) -> list[tuple[Value, Factor]]:
        """Return the factors d upper / d lower for each named ``lower`` reached through unlabelled nodes."""
        cached = self.edges.get(upper)
        if cached is not None:
            return cached
        routes: dict[Value, list[tuple[float, list[fm.Node]]]] = {}
        samples: dict[Value, set[int]] = {}

        count = 0
        # Depth first through the unlabelled nodes, with a stack instead of recursion, in the order
        # recursion would take: (node, what it receives, the local derivatives down to it, whether
        # it is named, which ends the route).
        stack: list[tuple[Value, float, list[fm.Node], bool]] = [(upper, 1.0, [], False)]
        while stack:
            v, value, trees, named = stack.pop()
            if named:
                count += 1
                if count > MAX_PATHS:
                    raise ValueError(
                        f"more than {MAX_PATHS} routes lead from {self.name(upper)} through "
                        "unlabelled nodes; label intermediate quantities (e.g. name the neurons)"
                    )
                sample = self._copy_of_target(v)
                if sample is not None:  # d copy / d target is exactly 1: the route ends at the target
                    v = self.target
                if v is self.target:  # 0: a route to the target itself, through no sample's copy
                    samples.setdefault(v, set()).add(sample or 0)
                routes.setdefault(v, []).append((value, trees))
                continue
            received = self.passed_on(v, value)
            below = [(parent, received[k], [*trees, tree], self.is_named(parent))
                     for parent, k, tree in self.local(v) if parent in self.relevant]
            stack.extend(reversed(below))
        result = []
        for lower, found in routes.items():
            expression = fm.simplify(fm.total(fm.product(trees) for _, trees in found))
            factor = Factor(self.name(upper), self.name(lower), math.fsum(n for n, _ in found),
                            expression, len(found))
            reached = samples.get(lower, set())
            only = next(iter(reached)) if len(reached) == 1 else 0
            self.samples[id(factor)] = only or None
            result.append((lower, factor))
        self.edges[upper] = result
        return result

    def paths(self) -> list[Path]:
        if self.loss is self.target:
            return [Path((self.name(self.loss),), ())]
        found: list[Path] = []
        # Depth first with a stack instead of recursion, in the order recursion would take, so
        # that a network of any depth is walked: (node, the names and factors down to it).
        stack: list[tuple[Value, tuple[str, ...], tuple[Factor, ...]]] = [
            (self.loss, (self.name(self.loss),), ())]
        while stack:
            v, nodes, factors = stack.pop()
            if v is self.target:
                if len(found) >= MAX_PATHS:
                    raise ValueError(
                        f"d{self.name(self.loss)}/d{self.name(self.target)} has more than "
                        f"{MAX_PATHS} paths through named quantities; explain a parameter "
                        "nearer the output or use a smaller network"
                    )
                found.append(Path(nodes, factors, self.samples.get(id(factors[-1])) if factors else None))
                continue
            stack.extend((lower, (*nodes, self.name(lower)), (*factors, factor))
                         for lower, factor in reversed(self.factors_below(v)))
        return found


def too_deep(loss: str, param: str) -> ValueError:
    """Return the error for a graph between ``loss`` and ``param`` too deep to write out."""
    return ValueError(
        f"the graph between {_numeric.printable(loss)} and {_numeric.printable(param)} is too deep "
        "to write out; label intermediate quantities so that each factor stays short"
    )


def _setup(loss: Value, param: Value | str, learning_rate: float | None = None, *, batch: bool = False
           ) -> tuple[list[Value], _Graph, float | None]:
    """Check the arguments every explanation takes; return what it is built from.

    Returns:
        The loss's nodes in topological order (inputs first), the :class:`_Graph` from
        ``loss`` down to ``param``, and ``learning_rate`` as a float (``None`` when not given).

    Raises:
        TypeError, ValueError: as for :func:`explain`.
    """
    if not isinstance(loss, Value):
        raise TypeError(f"loss must be a Value, got {type(loss).__name__}: {loss!r}")
    if learning_rate is not None:
        learning_rate = _as_float(learning_rate, "learning_rate")
        if not (math.isfinite(learning_rate) and learning_rate != 0):
            raise ValueError(f"learning_rate must be a finite number other than 0 (negative: a step "
                             f"up the gradient), got {learning_rate!r}")
    topo = topological_order(loss)
    return topo, _Graph(loss, _resolve(loss, param, topo), topo, batch), learning_rate


def gradient_paths(loss: Value, param: Value | str) -> list[Path]:
    """Return every chain-rule path from ``loss`` down to ``param`` through named quantities.

    Args:
        loss: the Value to differentiate (usually labelled ``"E"``).
        param: a Value of its graph, or the label of one (``"w5"``).

    Returns:
        The paths, each with its factors (symbol, formula, number); the sum of the
        paths' values is d loss / d param.

    Raises:
        ValueError: ``param`` is not in the loss's graph, or no node has that name.
    """
    return _setup(loss, param, batch=True)[1].paths()


def explain(loss: Value, param: Value | str, *, learning_rate: float | None = None) -> Explanation:
    """Return the chain-rule derivation of d loss / d param as an :class:`Explanation`.

    Args:
        loss: the Value to differentiate.
        param: a Value of its graph, or the label of one.
        learning_rate: when given, the explanation includes the gradient-descent
            update ``param+ = param - learning_rate * d loss / d param``.

    Returns:
        The :class:`Explanation`: the paths, their sum, the reverse-mode check and the update.

    Raises:
        TypeError: ``loss`` is not a Value, ``param`` neither a Value nor a str, or
            ``learning_rate`` not a number.
        ValueError: ``param`` is not in the loss's graph, no node has that name,
            ``learning_rate`` is not a finite number > 0, or the graph is too deep or
            tangled to write out (the message says which quantities to label).
    """
    _, graph, learning_rate = _setup(loss, param, learning_rate, batch=True)
    target = graph.target
    try:
        paths = tuple(graph.paths())
    except (RecursionError, fm.FormulaTooDeepError):
        raise too_deep(graph.name(loss), graph.name(target)) from None
    (reverse,) = grad(loss, target)
    return Explanation(
        loss=graph.name(loss),
        param=graph.name(target),
        param_value=target.data,
        paths=paths,
        gradient=math.fsum(p.value for p in paths),
        reverse_mode=reverse.data,
        learning_rate=learning_rate,
    )


def explain_gradient(loss: Value, param: Value | str, *, learning_rate: float | None = None,
                     fmt: str = "text", digits: int = 6, form: str = "path") -> str:
    """Return the chain-rule derivation of d loss / d param, printed.

    Every path from the loss to the parameter through named quantities is written
    with each factor's symbol, formula (from the operation table) and number; then
    the sum of the paths, the reverse-mode check and, with ``learning_rate``, the
    update ``param+ = param - learning_rate * gradient``.

    Args:
        loss: the Value to differentiate (e.g. a derivation's ``loss()``, labelled ``"E"``).
        param: a Value of its graph or the label of one (``"w5"``).
        learning_rate: include the gradient-descent update with this step size.
        fmt: ``"text"``, ``"markdown"`` (tables with ``$...$`` maths) or ``"latex"``
            (an ``align*`` environment).
        digits: significant digits of the numbers shown (1 to 17).
        form: ``"path"`` (every path, default) or ``"delta"``: the textbook recursion,
            one line per named quantity (:func:`autograd_tiny.explain_delta.explain_delta`).

    Returns:
        The derivation as one string (ending with a newline).

    Raises:
        TypeError: as for :func:`explain`, or ``digits`` is not an int.
        ValueError: as for :func:`explain`, or ``fmt`` or ``form`` is unknown or ``digits`` out
            of range.
    """
    if form == "delta":
        from .explain_delta import explain_delta

        return explain_delta(loss, param, learning_rate=learning_rate, fmt=fmt, digits=digits)
    if form != "path":
        raise ValueError(f"unknown form {form!r}; choose path or delta")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    fm.check_digits(digits)
    return explain(loss, param, learning_rate=learning_rate).render(fmt, digits)


# -- printing ---------------------------------------------------------------------------------------
def _numbers_product(values: list[float]) -> fm.Node:
    node: fm.Node = fm.Num(values[0]) if values else fm.Num(1.0)
    for v in values[1:]:
        node = fm.BinOp("*", node, fm.Num(v))
    return node


def _update_tree(e: Explanation) -> fm.Node:
    assert e.learning_rate is not None
    return fm.BinOp("-", fm.Num(e.param_value), fm.BinOp("*", fm.Num(e.learning_rate), fm.Num(e.gradient)))


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


class _Printer:
    fmt = "text"

    def __init__(self, e: Explanation, digits: int) -> None:
        self.e = e
        self.digits = digits

    def num(self, value: float) -> str:
        return fm.format_number(value, "latex" if self.fmt != "text" else "text", self.digits)

    def tree(self, node: fm.Node) -> str:
        """Print a tree as maths of this format (without the Markdown dollars)."""
        return fm.render(node, "latex" if self.fmt != "text" else "text", digits=self.digits)

    def steps(self, factor: Factor) -> list[str]:
        """Return formula, arithmetic and value, leaving out repeats."""
        fmt = "latex" if self.fmt != "text" else "text"
        items = [factor.formula_as(fmt, self.digits), factor.arithmetic_as(fmt, self.digits),
                 self.num(factor.value)]
        out: list[str] = []
        for item in items:
            if item not in out:
                out.append(item)
        return out

    def samples(self) -> dict[int, list[int]] | None:
        """The paths (numbered from 1) of each sample, in sample order, when the loss is a batch's
        and every path reaches the parameter through one sample's copy of it; else None."""
        if not self.e.paths or any(p.sample is None for p in self.e.paths):
            return None
        groups: dict[int, list[int]] = {}
        for k, p in enumerate(self.e.paths, 1):
            assert p.sample is not None
            groups.setdefault(p.sample, []).append(k)
        return dict(sorted(groups.items()))

    def sample_value(self, paths: list[int]) -> float:
        return math.fsum(self.e.paths[k - 1].value for k in paths)

    def sample_sums(self, groups: dict[int, list[int]]) -> list[tuple[int, list[int], str, str]]:
        """Return ``(sample, its paths, their values added, the sum)`` for every sample with
        more than one path, in this printer's format."""
        return [(sample, paths, self.tree(fm.total(fm.Num(self.e.paths[k - 1].value) for k in paths)),
                 self.num(self.sample_value(paths))) for sample, paths in groups.items() if len(paths) > 1]

    def batch_heading(self, groups: dict[int, list[int]], loss: str, param: str, dsym: str) -> str:
        """The sentence that says the derivative is a sum over the samples."""
        return (f"each of the {_count(len(groups), 'sample')} computes with {param}, so {dsym} is the "
                f"sum of each sample's gradient, its paths from {loss} to {param} through that "
                f"sample's named quantities ({_count(len(self.e.paths), 'path')})")

    def path_sum(self, values: list[float] | None = None) -> str:
        """``a + b = total`` over the paths' values (just the total for one path), or over
        ``values`` (the samples' parts)."""
        values = [p.value for p in self.e.paths] if values is None else values
        total = self.num(self.e.gradient)
        if len(values) <= 1:
            return total
        text = ""  # printed 100 terms at a time: a sum of 512 paths nests too deep to print at once
        for k in range(0, len(values), 100):
            part = self.tree(fm.total(fm.Num(v) for v in values[k:k + 100]))
            text = part if not text else text + (f" - {part[1:]}" if part.startswith("-") else f" + {part}")
        return f"{text} = {total}"

    def check_sentence(self) -> str:
        return _check_sentence(self.e.gradient, self.e.reverse_mode, self.num)

    def render(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


class _Text(_Printer):
    fmt = "text"

    def render(self) -> str:
        e = self.e
        dsym = fm.derivative_symbol(e.loss, e.param)
        loss, param = fm.symbol(e.loss), fm.symbol(e.param)  # names as a terminal may show them
        groups = self.samples()
        if groups is None:
            lines = [f"{dsym} by the chain rule: {_count(len(e.paths), 'path')} from {loss} to {param} "
                     "through named quantities", ""]
        else:
            lines = [f"{dsym} by the chain rule, summed over the batch: "
                     + self.batch_heading(groups, loss, param, dsym), ""]
        for k, path in enumerate(e.paths, 1):
            tag = f" (sample {path.sample})" if groups is not None else ""
            lines.append(f"Path {k}{tag}: {' -> '.join(fm.symbol(n) for n in path.nodes)}")
            width = max((len(f.symbol) for f in path.factors), default=0)
            for f in path.factors:
                lines.append(f"  {f.symbol.ljust(width)} = " + " = ".join(self.steps(f)))
            if len(path.factors) > 1:
                product = self.tree(_numbers_product([f.value for f in path.factors]))
                lines.append(f"  {'product'.ljust(width)} = {product} = {self.num(path.value)}")
            lines.append("")
        if groups is not None:
            for sample, paths, values, total in self.sample_sums(groups):
                terms = " + ".join(f"path {k}" for k in paths)
                lines.append(f"sample {sample} = {terms} = {values} = {total}")
            terms = " + ".join(f"sample {n}" for n in groups)
            parts = [self.sample_value(paths) for paths in groups.values()]
            lines.append(f"{dsym} = {terms} = {self.path_sum(parts)}")
        elif len(e.paths) > 1:
            terms = " + ".join(f"path {k}" for k in range(1, len(e.paths) + 1))
            lines.append(f"{dsym} = {terms} = {self.path_sum()}")
        else:
            lines.append(f"{dsym} = {self.path_sum()}")
        lines.append(f"  check: {self.check_sentence()}")
        if e.learning_rate is not None and e.updated is not None:
            lines.append("")
            lines.append(f"Update with learning rate lr = {self.num(e.learning_rate)}:")
            lines.append(f"  {param}+ = {param} - lr * {dsym} = {self.tree(_update_tree(e))} "
                         f"= {self.num(e.updated)}")
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", r"\|")


class _Markdown(_Printer):
    fmt = "markdown"

    def render(self) -> str:
        e = self.e
        dsym = fm.derivative_symbol(e.loss, e.param, "latex")
        loss, param = fm.symbol(e.loss, "latex"), fm.symbol(e.param, "latex")
        groups = self.samples()
        if groups is None:
            lines = [f"### ${dsym}$ by the chain rule", "", f"{_count(len(e.paths), 'path')} "
                     f"from ${loss}$ to ${param}$ through named quantities.", ""]
        else:
            heading = self.batch_heading(groups, f"${loss}$", f"${param}$", f"${dsym}$")
            lines = [f"### ${dsym}$ by the chain rule, summed over the batch", "",
                     heading[0].upper() + heading[1:] + ".", ""]
        for k, path in enumerate(e.paths, 1):
            chain = r" \to ".join(fm.symbol(n, "latex") for n in path.nodes)
            tag = f" (sample {path.sample})" if groups is not None else ""
            lines += [f"**Path {k}{tag}:** ${chain}$", "",
                      "| factor | formula | with numbers | value |", "|---|---|---|---|"]
            for f in path.factors:
                formula = f.formula_as("latex", self.digits)
                arithmetic = f.arithmetic_as("latex", self.digits)
                value = self.num(f.value)
                shown = [formula, arithmetic if arithmetic not in (formula, value) else ""]
                cells = [f"${f.symbol_as('latex')}$", *(f"${s}$" if s else "" for s in shown), f"${value}$"]
                lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
            if len(path.factors) > 1:
                product = self.tree(_numbers_product([f.value for f in path.factors]))
                lines.append(f"| product | | ${_cell(product)}$ | ${self.num(path.value)}$ |")
            lines.append("")
        if groups is not None:
            for sample, paths, values, total in self.sample_sums(groups):
                lines.append(f"**Sample {sample}:** paths {', '.join(map(str, paths))}: "
                             f"${values} = {total}$")
                lines.append("")
            parts = [self.sample_value(paths) for paths in groups.values()]
            lines.append(f"**Sum over the samples:** ${dsym} = {self.path_sum(parts)}$. "
                         f"Check: {self.check_sentence()}.")
        else:
            lines.append(f"**Sum:** ${dsym} = {self.path_sum()}$. Check: {self.check_sentence()}.")
        if e.learning_rate is not None and e.updated is not None:
            lines += ["", f"**Update** with learning rate $\\eta = {self.num(e.learning_rate)}$: "
                      f"${param}^{{+}} = {param} - \\eta {dsym} = {self.tree(_update_tree(e))} "
                      f"= {self.num(e.updated)}$"]
        return "\n".join(lines) + "\n"


class _Latex(_Printer):
    fmt = "latex"

    def render(self) -> str:
        e = self.e
        dsym = fm.derivative_symbol(e.loss, e.param, "latex")
        param = fm.symbol(e.param, "latex")
        chains = [" ".join(f.symbol_as("latex") for f in p.factors) or "1" for p in e.paths]
        rows = [f"{dsym} &= {chains[0]}"] + [rf"&\quad + {c}" for c in chains[1:]]
        for f in e.factors():
            rows.append(f"{f.symbol_as('latex')} &= " + " = ".join(self.steps(f)))
        groups = self.samples()
        if len(e.paths) > 1:
            for k, p in enumerate(e.paths, 1):
                product = self.tree(_numbers_product([f.value for f in p.factors]))
                tag = f" (sample {p.sample})" if groups is not None else ""
                rows.append(rf"\text{{path {k}{tag}}} &= {product} = {self.num(p.value)}")
            if groups is not None:
                for sample, _, values, total in self.sample_sums(groups):
                    rows.append(rf"\text{{sample {sample}}} &= {values} = {total}")
                parts = [self.sample_value(paths) for paths in groups.values()]
                terms = " + ".join(rf"\text{{sample {n}}}" for n in groups)
                rows.append(f"{dsym} &= {terms} = {self.path_sum(parts)}")
            else:
                rows.append(f"{dsym} &= {self.path_sum()}")
        elif e.paths and len(e.paths[0].factors) > 1:
            product = self.tree(_numbers_product([f.value for f in e.paths[0].factors]))
            rows.append(f"{dsym} &= {product} = {self.num(e.gradient)}")
        if e.learning_rate is not None and e.updated is not None:
            rows.append(rf"{param}^{{+}} &= {param} - \eta {dsym} = {self.tree(_update_tree(e))} "
                        f"= {self.num(e.updated)}")
        header = fm.latex_comment(f"d{e.loss}/d{e.param} by the chain rule, "
                                  f"{_count(len(e.paths), 'path')}; {self.check_sentence()}")
        if e.learning_rate is not None:
            header += f"; eta = {fm.format_number(e.learning_rate, 'text', self.digits)}"
        return header + "\n\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"
