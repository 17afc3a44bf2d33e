"""Chain-rule explanations in delta form: the textbook recursion instead of every path.

The path form (:mod:`autograd_tiny.explain`) writes one product per path from the
loss to a parameter; in a deep network the paths multiply. The delta form writes
the same derivative as reverse mode computes it, one line per named quantity:

* the loss's derivative with respect to each named quantity, from the named
  quantities it feeds: ``dE/dN = sum over M fed by N of dE/dM * dM/dN``;
* for a network that is the delta of each output neuron
  (``dE/dnet_o1 = dE/dout_o1 * out_o1 (1 - out_o1)``), then each hidden neuron's
  (``dE/dout_h1 = dE/dnet_o1 * w5 + dE/dnet_o2 * w7``, times its activation's
  derivative), and finally ``dE/dw = delta of the target * out of the source``.

The factors ``dM/dN`` are the path form's (:class:`autograd_tiny.explain.Factor`:
their formulas come from the operation table), so the two forms agree factor by
factor; the numbers are checked against reverse mode. Per-sample quantities keep
their labels (``out_o1[2]``), and LaTeX writes names upright with a subscript
(``\\mathrm{out}_{o1}``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from . import formula as fm
from .explain import FORMATS, Factor, _agree, _check_sentence, _Graph, _setup, too_deep
from .functional import grad
from .value import Value


@dataclass(frozen=True)
class DeltaStep:
    """One line of the recursion: d loss / d ``name`` from the quantities ``name`` feeds.

    Attributes:
        name: the quantity (``"net_h1"``).
        terms: ``(upper, factor)`` for each named quantity ``upper`` that ``name``
            feeds, with the factor d upper / d name.
        value: the derivative's number: the sum of ``d loss / d upper * factor``.
    """

    name: str
    terms: tuple[tuple[str, Factor], ...]
    value: float


@dataclass(frozen=True)
class DeltaExplanation:
    """d loss / d param in delta form.

    Attributes:
        loss, param: the two quantities' names; param_value: the parameter's value.
        steps: one per named quantity between them, from the loss down to ``param``.
        gradient: the last step's value; reverse_mode: backward's number, as a check.
        learning_rate: the step size of the update, or None.
    """

    loss: str
    param: str
    param_value: float
    steps: tuple[DeltaStep, ...]
    gradient: float
    reverse_mode: float
    learning_rate: float | None = None

    @property
    def values(self) -> dict[str, float]:
        """Return d loss / d N for every named quantity N of the recursion, by name."""
        return {s.name: s.value for s in self.steps}

    @property
    def agrees(self) -> bool:
        """True when the recursion's result matches reverse mode (to rounding)."""
        return _agree(self.gradient, self.reverse_mode)

    def render(self, fmt: str = "text", digits: int = 6) -> str:
        """Return the recursion as text, Markdown or LaTeX (an ``align*`` environment)."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        try:
            return _Printer(self, fmt, fm.check_digits(digits)).render()
        except (RecursionError, fm.FormulaTooDeepError):
            raise too_deep(self.loss, self.param) from None


def explain_delta_structure(loss: Value, param: Value | str, *,
                            learning_rate: float | None = None) -> DeltaExplanation:
    """Return d loss / d param in delta form as a :class:`DeltaExplanation`.

    Raises:
        TypeError, ValueError: as for :func:`autograd_tiny.explain.explain`.
    """
    topo, graph, learning_rate = _setup(loss, param, learning_rate)
    try:
        return _structure(topo, graph, learning_rate)
    except (RecursionError, fm.FormulaTooDeepError):
        raise too_deep(graph.name(graph.loss), graph.name(graph.target)) from None


def _structure(topo: list[Value], graph: _Graph, learning_rate: float | None) -> DeltaExplanation:
    """Return the :class:`DeltaExplanation` of ``graph`` (the recursion between its loss and target)."""
    loss, target = graph.loss, graph.target
    position = {v: i for i, v in enumerate(topo)}
    # The named quantities between loss and target, and who feeds whom.
    fed: dict[Value, list[tuple[Value, Factor]]] = {}
    named: set[Value] = {loss}
    stack = [loss]
    while stack:
        upper = stack.pop()
        for lower, factor in graph.factors_below(upper):
            fed.setdefault(lower, []).append((upper, factor))
            if lower not in named:
                named.add(lower)
                if lower is not target and lower.op is not None:
                    stack.append(lower)
    steps: list[DeltaStep] = []
    value: dict[Value, float] = {loss: 1.0}
    for v in sorted(named, key=lambda n: -position[n]):
        if v is loss:
            continue
        terms = sorted(fed[v], key=lambda t: -position[t[0]])
        value[v] = math.fsum(value[u] * f.value for u, f in terms)
        steps.append(DeltaStep(graph.name(v), tuple((graph.name(u), f) for u, f in terms), value[v]))
    (reverse,) = grad(loss, target)
    return DeltaExplanation(
        loss=graph.name(loss), param=graph.name(target), param_value=target.data,
        steps=tuple(steps), gradient=value.get(target, 1.0), reverse_mode=reverse.data,
        learning_rate=learning_rate,
    )


def explain_delta(loss: Value, param: Value | str, *, learning_rate: float | None = None,
                  fmt: str = "text", digits: int = 6) -> str:
    """Return d loss / d param in delta form, printed (see :mod:`autograd_tiny.explain_delta`).

    Args:
        loss, param, learning_rate, fmt, digits: as for
            :func:`autograd_tiny.explain.explain_gradient`.

    Returns:
        The recursion, one line per named quantity from the loss down to ``param``,
        the reverse-mode check and, with ``learning_rate``, the update.

    Raises:
        TypeError, ValueError: as for :func:`autograd_tiny.explain.explain_gradient`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    fm.check_digits(digits)
    return explain_delta_structure(loss, param, learning_rate=learning_rate).render(fmt, digits)


# -- printing ---------------------------------------------------------------------------------------

_SAMPLE = re.compile(r"(.*)\[(\d+)\]\Z")


def latex_name(name: str) -> str:
    """Return a quantity's name in LaTeX: ``\\mathrm{out}_{o1}``, ``w_{5}``, ``E``; a per-sample
    name ``out_o1[2]`` gets the sample as a superscript ``^{[2]}``."""
    sample = _SAMPLE.match(name)
    suffix = ""
    if sample:
        name, suffix = sample.group(1), f"^{{[{sample.group(2)}]}}"
    base, sep, sub = name.partition("_")
    if not sep:
        m = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
        if m is None:
            return fm._latex_escape(name) + suffix
        base, sub = m.groups()
    if not base or not sub:
        return fm._latex_escape(name) + suffix
    head = fm._latex_escape(base)
    if len(base) > 1:
        head = rf"\mathrm{{{head}}}"
    return f"{head}_{{{fm._latex_escape(sub)}}}{suffix}"


def _placeholder(k: int) -> str:
    """Return a name that every format prints unchanged (letters only): ``QZa``, ``QZb`` ..."""
    letters = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        letters = chr(ord("a") + r) + letters
    return f"QZ{letters}QZ"


class _Printer:
    def __init__(self, e: DeltaExplanation, fmt: str, digits: int) -> None:
        self.e = e
        self.fmt = fmt
        self.latex = fmt != "text"
        self.digits = digits

    def num(self, value: float) -> str:
        return fm.format_number(value, "latex" if self.latex else "text", self.digits)

    def name(self, name: str) -> str:
        return latex_name(name) if self.latex else fm.symbol(name)

    def prose(self, name: str) -> str:
        """Return a name as written in a sentence: as in a formula, between ``$`` in Markdown."""
        return f"${latex_name(name)}$" if self.fmt == "markdown" else fm.symbol(name)

    def dsym(self, name: str) -> str:
        e = self.e
        if not self.latex:
            return fm.derivative_symbol(e.loss, name)
        return rf"\frac{{\partial {latex_name(e.loss)}}}{{\partial {latex_name(name)}}}"

    def maths(self, tree: fm.Node, names: dict[str, str]) -> str:
        """Render ``tree``, writing each Sym with ``names`` (its printed form) by way of placeholders."""
        table: dict[str, str] = {}

        def swap(node: fm.Node) -> fm.Node:
            if isinstance(node, fm.Sym):
                key = _placeholder(len(table))
                table[key] = names.get(node.name, self.name(node.name))
                return fm.Sym(key, node.value)
            return fm._map(node, swap)

        text = fm.render(swap(tree), "latex" if self.latex else "text", digits=self.digits)
        for key, shown in sorted(table.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(key, shown)
        return text

    def formula(self, step: DeltaStep) -> str:
        names: dict[str, str] = {}
        terms = []
        for upper, factor in step.terms:
            if upper == self.e.loss:  # d loss / d loss = 1
                terms.append(factor.expression)
                continue
            token = f"__d_{upper}"
            names[token] = self.dsym(upper)
            terms.append(fm.simplify(fm.product([fm.Sym(token), factor.expression])))
        return self.maths(fm.total(terms), names)

    def arithmetic(self, step: DeltaStep) -> str:
        values = self.e.values
        terms = [fm.product([fm.Num(values.get(u, 1.0)), fm.Num(f.value)]) if f.value != 1.0
                 else fm.Num(values.get(u, 1.0)) for u, f in step.terms]
        return self.maths(fm.total(terms), {})

    def lines(self) -> list[tuple[str, str]]:
        """Return (symbol, ``formula = arithmetic = value`` without repeats) per step."""
        rows = []
        for step in self.e.steps:
            items: list[str] = []
            for item in (self.formula(step), self.arithmetic(step), self.num(step.value)):
                if item not in items:
                    items.append(item)
            rows.append((self.dsym(step.name), " = ".join(items)))
        return rows

    def check(self) -> str:
        return _check_sentence(self.e.gradient, self.e.reverse_mode, self.num)

    def update(self) -> tuple[str, float] | None:
        e = self.e
        if e.learning_rate is None:
            return None
        tree = fm.BinOp("-", fm.Num(e.param_value), fm.BinOp("*", fm.Num(e.learning_rate),
                                                             fm.Num(e.gradient)))
        return self.maths(tree, {}), e.param_value - e.learning_rate * e.gradient

    def render(self) -> str:
        e = self.e
        n = len(e.steps)
        rows = self.lines()
        intro = (f"the derivative of {self.prose(e.loss)} with respect to each named quantity from "
                 f"the quantities it feeds, {n} step{'s' if n != 1 else ''}")
        if any(s.name.startswith("net_") for s in e.steps):
            delta = self.dsym("net_N")
            intro += f" ({f'${delta}$' if self.fmt == 'markdown' else delta} is neuron N's delta)"
        update = self.update()
        if self.fmt == "text":
            width = max((len(s) for s, _ in rows), default=0)
            lines = [f"{self.dsym(e.param)} in delta form: {intro}", ""]
            lines += [f"{s.ljust(width)} = {rhs}" for s, rhs in rows]
            lines.append(f"  check: {self.check()}")
            if update is not None:
                lines += ["", f"Update with learning rate lr = {self.num(e.learning_rate or 0)}:",
                          f"  {self.name(e.param)}+ = {self.name(e.param)} - lr * {self.dsym(e.param)} "
                          f"= {update[0]} "
                          f"= {self.num(update[1])}"]
            return "\n".join(lines) + "\n"
        if self.fmt == "markdown":
            lines = [f"### ${self.dsym(e.param)}$ in delta form", "", intro[0].upper() + intro[1:] + ".",
                     "", "| quantity | from the quantities it feeds |", "|---|---|"]
            lines += [f"| ${s}$ | ${rhs.replace('|', chr(92) + '|')}$ |" for s, rhs in rows]
            lines += ["", f"Check: {self.check()}."]
            if update is not None:
                p = latex_name(e.param)
                lines += ["", f"**Update** with learning rate $\\eta = {self.num(e.learning_rate or 0)}$: "
                          f"${p}^{{+}} = {p} - \\eta {self.dsym(e.param)} = {update[0]} "
                          f"= {self.num(update[1])}$"]
            return "\n".join(lines) + "\n"
        body = [f"{s} &= {rhs}" for s, rhs in rows]
        if update is not None:
            p = latex_name(e.param)
            body.append(rf"{p}^{{+}} &= {p} - \eta {self.dsym(e.param)} = {update[0]} "
                        f"= {self.num(update[1])}")
        header = fm.latex_comment(f"d{e.loss}/d{e.param} in delta form, {n} steps; {self.check()}")
        return header + "\n\\begin{align*}\n" + " \\\\\n".join(body) + "\n\\end{align*}\n"
