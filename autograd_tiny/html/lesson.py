"""The stepper page's lesson: the steps a textbook takes through one backpropagation step.

:func:`build_lesson` groups a graph's Values into the quantities a reader sees (its
labelled Values: ``net_h1``, ``out_h1``, ``E``, the weights; for a graph without
neurons, every Value) and orders them as a textbook does:

* forward, layer by layer and neuron by neuron (``net_h1``, ``out_h1``, ``net_h2`` ...),
  then the loss terms and the loss;
* backward, layer by layer from the output: each neuron's ``dE/dout`` and ``dE/dnet``
  (a hidden one as the sum over the quantities it feeds), then the ``dE/dw`` of the
  weights into that layer (a derivation's inputs get no step: they are given);
* for a derivation, each parameter's update.

A batch (labels ``net_h1[2]``) goes sample by sample, forward and backward, and then each
parameter's gradient as the sum over the samples; its per-sample copies of the parameters
(``w1[2] = w1 * 1``) are not steps: formulas write the parameter itself.

Each step's text is a list of lines; a line is a list of tokens, a string or a
reference to a number the page computes (so an edited leaf changes the text too):

``["d", i]``: Value ``i``'s data, as an operand (``(-0.5)``); ``["r", i]``: its data, as a
result; ``["g", i]`` / ``["G", i]``: its gradient, as an operand / result; ``["f", k]``:
factor ``k``'s number; ``["t", i, k]``: Value ``i``'s gradient times factor ``k``;
``["u", i]``: parameter ``i`` after the update.

:func:`build_lesson` also returns what the pictures need: the network view's columns,
weights and biases (one per sample of a batch), or, for a graph without neurons, the
circuit view's gates and wires.

Formulas are the operation table's (:func:`autograd_tiny.formula.table_formula`), written
with the names the reader sees. A factor ``dM/dN`` (from a quantity ``M`` down to a
quantity ``N`` it uses, through unnamed Values) is the sum over its routes of the
product of the table's local derivatives; the page computes its number route by route
with the table's derivatives (``OPS[op].d``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .. import formula as fm
from ..value import Value

Token = str | list[Any]
Line = list[Token]

_PLACEHOLDER = re.compile(r"@(\d+)@")


def _sym(i: int) -> fm.Sym:
    return fm.Sym(f"@{i}@")


_SAMPLE = re.compile(r"(.*)\[(\d+)\]\Z")


def sample_of(label: str) -> int:
    """Return the sample a batch's label names (``net_h1[2]``: 2), 0 for none."""
    m = _SAMPLE.match(label)
    return int(m.group(2)) if m else 0


def _copied(v: Value) -> Value | None:
    """Return the parameter ``v`` copies when ``v`` is a batch's ``P[s] = P * 1``, else None."""
    if v.op is None or v.op.name != "mul" or len(v.operands) != 2:
        return None
    source, one = v.operands
    m = _SAMPLE.match(v.label)
    if not (isinstance(source, Value) and source.op is None and not isinstance(one, Value)
            and float(one) == 1.0 and m is not None and m.group(1) == source.label):
        return None
    return source


def _natural(text: str) -> list[Any]:
    """Return a sort key that orders ``h2`` before ``h10``."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


@dataclass
class Lesson:
    """The steps of a page.

    Attributes:
        steps: one dict per step (``kind``, ``title``, ``node``, ``lines``; see the module).
        data_step: for each Value, the step whose end shows its data (0 for leaves).
        grad_step: for each Value, the step whose end shows its gradient (None: never).
        factors: each factor's routes, a route being ``[[node, operand position], ...]``.
        forward_step, backward_step, update_step: the step of each named Value's
            forward / backward / update step, by index.
        named: which Values the lesson names.
        network: the network view's structure, ``{"samples": [...]}`` (one per sample of a
            batch: ``inputs``, ``columns`` of ``[net, out, name]``, ``edges`` of
            ``[weight, from, to]``, ``biases``, ``loss``, ``targets``), or None.
        update: the update rule's numbers (``rate``, ``decay``, ``trained`` by index).
        circuit: the circuit view's ``gates`` (``[node, text, inputs]``), ``leaves`` and
            each named Value's ``level``, or None (a network, or too many Values).
    """

    steps: list[dict[str, Any]]
    data_step: list[int]
    grad_step: list[int | None]
    factors: list[list[list[list[int]]]] = field(default_factory=list)
    forward_step: dict[int, int] = field(default_factory=dict)
    backward_step: dict[int, int] = field(default_factory=dict)
    update_step: dict[int, int] = field(default_factory=dict)
    named: list[bool] = field(default_factory=list)
    network: dict[str, Any] | None = None
    update: dict[str, Any] = field(default_factory=dict)
    circuit: dict[str, Any] | None = None


class _Builder:
    def __init__(self, topo: list[Value], names: list[str], roles: dict[Value, str],
                 derivation: Any) -> None:
        self.topo = topo
        self.names = names
        self.pos = {v: i for i, v in enumerate(topo)}
        self.root = len(topo) - 1
        self.derivation = derivation
        network = derivation is not None or any(v.label.startswith("net_") for v in topo)
        # A network names its labelled Values; a plain expression steps through every Value.
        # An unlabelled leaf is a constant: formulas write its number.
        self.named = [bool(v.label) or i == self.root or (not network and v.op is not None)
                      for i, v in enumerate(topo)]
        # A batch reads each parameter through a per-sample copy P[s] = P * 1: a copy is its
        # parameter (formulas write P, and dE/dP sums over the samples' uses).
        self.copy_of: dict[int, int] = {}
        for i, v in enumerate(topo):
            source = _copied(v)
            if source is not None and i != self.root:
                self.copy_of[i] = self.pos[source]
                self.named[i] = False
        self.roles = roles
        self.consumers: list[list[tuple[int, int]]] = [[] for _ in topo]
        for i in range(len(topo) - 1, -1, -1):
            for p, o in enumerate(topo[i].operands):
                if isinstance(o, Value):
                    self.consumers[self.pos[o]].append((i, p))
        self.trees: dict[int, fm.Node] = {}
        self.factors: list[list[list[list[int]]]] = []

    # -- formulas -------------------------------------------------------------------------------
    def tree(self, i: int) -> fm.Node:
        """Return how formulas write Value ``i``: its name, its number (an unnamed constant) or
        its forward formula in named Values."""
        if i in self.trees:
            return self.trees[i]
        v = self.topo[i]
        t: fm.Node
        if self.named[i]:
            t = _sym(i)
        elif i in self.copy_of:
            t = self.tree(self.copy_of[i])
        elif v.op is None:
            t = fm.Num(v.data)
        else:
            t = fm.table_formula(v.op.forward, self.operand_trees(i))
        self.trees[i] = t
        return t

    def operand_trees(self, i: int) -> dict[str, fm.Node]:
        return {name: (self.tree(self.pos[o]) if isinstance(o, Value) else fm.Num(float(o)))
                for name, o in zip(("x", "y"), self.topo[i].operands)}

    def forward_tree(self, i: int) -> fm.Node:
        v = self.topo[i]
        assert v.op is not None
        return fm.table_formula(v.op.forward, self.operand_trees(i))

    def names_text(self, node: fm.Node) -> str:
        """Return a formula with the names the reader sees."""
        text = fm.render(node)
        return _PLACEHOLDER.sub(lambda m: self.shown(int(m.group(1))), text)

    def shown(self, i: int) -> str:
        name = self.names[i]
        return f"({name})" if " " in name else name

    def numbers_tokens(self, node: fm.Node) -> Line:
        """Return a formula with each named Value's number (computed in the page) in its place."""
        out: Line = []
        for k, part in enumerate(_PLACEHOLDER.split(fm.render(node))):
            if k % 2:
                out.append(["d", int(part)])
            elif part:
                out.append(part)
        return out

    def d(self, i: int) -> str:
        """Return the symbol d<name> (d(w5 * out_h1) for a name with spaces)."""
        name = self.names[i]
        return f"d({name})" if " " in name else f"d{name}"

    # -- factors ----------------------------------------------------------------------------
    def factors_below(self, upper: int) -> list[tuple[int, int, fm.Node]]:
        """Return ``(lower, factor index, formula)`` for each named Value that ``upper`` uses,
        through unnamed Values, in the order of its operands."""
        routes: dict[int, list[tuple[list[list[int]], list[fm.Node]]]] = {}

        def walk(i: int, route: list[list[int]], trees: list[fm.Node]) -> None:
            v = self.topo[i]
            assert v.op is not None
            operands = self.operand_trees(i)
            operands["out"] = self.tree(i)
            for p, o in enumerate(v.operands):
                if not isinstance(o, Value):
                    continue
                j = self.pos[o]
                local = fm.table_formula(v.op.derivatives[p], operands)
                here = [*route, [i, p]]
                if self.named[j]:
                    routes.setdefault(j, []).append((here, [*trees, local]))
                else:
                    walk(j, here, [*trees, local])

        walk(upper, [], [])
        found: list[tuple[int, int, fm.Node]] = []
        for lower, rs in routes.items():
            expression = fm.simplify(fm.total(fm.product(t) for _, t in rs))
            self.factors.append([r for r, _ in rs])
            found.append((lower, len(self.factors) - 1, expression))
        return found


def _is_atom(text: str) -> bool:
    return re.fullmatch(r"[^\s()+\-*/^]+|\(.*\)|-?[0-9.e+-]+", text) is not None


def build_lesson(topo: list[Value], names: list[str], roles: dict[Value, str],
                 derivation: Any = None) -> Lesson:
    """Return the :class:`Lesson` of a graph (``topo``: its Values inputs first, the loss last).

    Args:
        topo: the graph's Values in topological order.
        names: the name the page shows for each Value.
        roles: each leaf's role (``parameter``, ``input``, ``constant``, ``leaf``).
        derivation: the derivation the graph is the loss of, or None; its layers order
            the neurons and its parameters get update steps.
    """
    b = _Builder(topo, names, roles, derivation)
    n = len(topo)
    root = n - 1

    # Which named Values each named Value is computed from (through unnamed ones).
    below: list[set[int]] = [set() for _ in topo]
    reach: list[set[int]] = [set() for _ in topo]  # named Values an unnamed Value is computed from
    for i, v in enumerate(topo):
        for o in v.operands:
            if isinstance(o, Value):
                j = b.pos[o]
                below[i] |= {j} if b.named[j] else reach[j]
        if not b.named[i]:
            reach[i] = below[i]
    # Levels: leaves 0, a named Value one above the highest named Value it uses.
    level = [0] * n
    for i, v in enumerate(topo):
        if v.op is not None and b.named[i]:
            level[i] = 1 + max((level[j] for j in below[i]), default=0)
    # A neuron's output joins its net input's group: net_h1 then out_h1, at net_h1's stage.
    group_of = list(range(n))
    stage = list(level)
    for i, v in enumerate(topo):
        if b.named[i] and v.op is not None and v.op.arity == 1 and len(below[i]) == 1:
            (j,) = below[i]
            if topo[j].op is not None and topo[j].label.startswith("net_") and v.label.startswith("out_"):
                group_of[i] = group_of[j]
                stage[i] = stage[j]
    order_of: dict[str, int] = {}
    if derivation is not None:
        for layer in getattr(derivation, "layers", None) or []:
            for name in layer:
                order_of.setdefault(name, len(order_of))

    def group_key(g: int) -> tuple[Any, ...]:
        label = topo[g].label
        m = re.fullmatch(r"(?:net|out|E)_(.*?)(?:\[(\d+)\])?", label)
        sample = int(m.group(2)) if m and m.group(2) else 0
        neuron = m.group(1) if m else ""
        return (sample, order_of.get(neuron, len(order_of)), _natural(label), g)

    ops = [i for i in range(n) if topo[i].op is not None and b.named[i]]
    groups: dict[int, list[int]] = {}
    for i in ops:
        groups.setdefault(group_of[i], []).append(i)
    stages = sorted({stage[i] for i in ops})
    by_stage: dict[int, list[int]] = {s: [] for s in stages}
    for g in sorted(groups, key=group_key):
        by_stage[stage[g]].append(g)

    steps: list[dict[str, Any]] = [{"kind": "start", "title": "Start", "node": None, "lines": []}]
    forward_step: dict[int, int] = {}
    backward_step: dict[int, int] = {}
    update_step: dict[int, int] = {}

    # -- forward ----------------------------------------------------------------------------
    last_neuron = max((stage[i] for i in ops if topo[i].label.startswith(("net_", "out_"))), default=-1)
    # A batch goes sample by sample (each sample's network, then its loss), then the batch's loss.
    samples = sorted({sample_of(topo[g].label) for g in groups} - {0})
    order = sorted(groups, key=lambda g: (sample_of(topo[g].label) or n + 1, stage[g], group_key(g)))
    for g in order:
        for i in groups[g]:
            t = b.forward_tree(i)
            phase = "loss" if last_neuron >= 0 and stage[g] > last_neuron else "forward"
            forward_step[i] = len(steps)
            steps.append({
                "kind": "forward", "phase": phase, "node": i,
                "title": f"{'Loss' if phase == 'loss' else 'Forward'}: {names[i]}",
                "lines": [[f"{names[i]} = {b.names_text(t)}"],
                          ["  = ", *b.numbers_tokens(t), " = ", ["r", i]]],
            })

    # -- backward ---------------------------------------------------------------------------
    top = names[root]
    dtop = b.d(root)
    backward_step[root] = len(steps)
    steps.append({"kind": "seed", "phase": "backward", "node": root,
                  "title": f"Backward: {dtop}/{dtop}",
                  "lines": [[f"{dtop}/{dtop} = 1: backward starts at {top}"]]})
    uses: dict[int, list[tuple[int, int, fm.Node]]] = {}
    for i in ops:
        for lower, k, expr in b.factors_below(i):
            uses.setdefault(lower, []).append((i, k, expr))
    # A derivation's inputs are given: a textbook computes no gradient for them.
    params = [i for i in range(n) if topo[i].op is None and b.named[i]
              and not (derivation is not None and roles.get(topo[i]) == "input")]
    param_order: dict[int, int] = {}
    if derivation is not None:
        known = list(derivation.parameters.values())
        for i in params:
            if topo[i] in known:
                param_order[i] = known.index(topo[i])

    def leaf_stage(i: int) -> int:
        return max((stage[u] for u, _, _ in uses.get(i, [])), default=-1)

    def backward(i: int) -> None:
        terms = sorted(uses.get(i, []), key=lambda t: (sample_of(topo[t[0]].label), -t[0]))
        if not terms:
            return
        symbols: list[str] = []
        refs = {int(m) for _, _, expr in terms for m in _PLACEHOLDER.findall(fm.render(expr))}
        numbers: Line = ["  = "]
        where: list[Line] = []
        for k, (upper, f, expr) in enumerate(terms):
            text = b.names_text(expr)
            plain = _is_atom(text)
            factor = text if plain else f"{b.d(upper)}/{b.d(i)}"
            if fm.render(expr) == "1":
                symbols.append(f"{dtop}/{b.d(upper)}")
            else:
                symbols.append(f"{dtop}/{b.d(upper)} * {factor}")
            if not plain:
                where.append([f"  {b.d(upper)}/{b.d(i)} = {text}"])
                where.append(["    = ", *b.numbers_tokens(expr), " = ", ["f", f]])
            if k:
                numbers.append(" + ")
            numbers += [["g", upper]] if fm.render(expr) == "1" else [["g", upper], " * ", ["f", f]]
        lines: list[Line] = [[f"{dtop}/{b.d(i)} = " + " + ".join(symbols)], *where]
        if len(terms) > 1 and any(fm.render(e) != "1" for _, _, e in terms):
            sums: Line = ["  = "]
            for k, (upper, f, _) in enumerate(terms):
                if k:
                    sums.append(" + ")
                sums.append(["t", upper, f])
            lines += [numbers, sums + [" = ", ["G", i]]]
        elif len(terms) == 1 and fm.render(terms[0][2]) == "1":
            lines.append(["  = ", ["G", i]])
        else:
            lines.append(numbers + [" = ", ["G", i]])
        backward_step[i] = len(steps)
        kind = "parameter" if roles.get(topo[i]) == "parameter" else "backward"
        steps.append({"kind": "backward", "phase": "backward", "node": i, "what": kind,
                      "title": f"Backward: {dtop}/{b.d(i)}", "lines": lines, "refs": sorted(refs)})

    leaves_by_stage: dict[int, list[int]] = {}
    for i in params:
        leaves_by_stage.setdefault(leaf_stage(i), []).append(i)
    def leaves_at(s: int) -> None:
        for i in sorted(leaves_by_stage.get(s, []), key=lambda j: (
                roles.get(topo[j]) != "parameter", param_order.get(j, n), _natural(names[j]), j)):
            backward(i)

    for sample in [0, *samples]:  # a batch: the batch's loss, then each sample's network
        for s in reversed(stages):
            for g in by_stage[s]:
                if sample_of(topo[g].label) != sample:
                    continue
                for i in reversed(groups[g]):
                    if i != root:
                        backward(i)
            if not samples:  # one sample: each layer's weights right after its deltas
                leaves_at(s)
    if samples:  # a batch: each parameter's gradient sums its uses by every sample
        for s in sorted(leaves_by_stage, reverse=True):
            leaves_at(s)

    # -- updates ----------------------------------------------------------------------------
    rate = float(getattr(derivation, "learning_rate", 0.0) or 0.0) if derivation is not None else 0.0
    spec = getattr(derivation, "spec", None)
    decay = float(getattr(spec, "weight_decay", 0.0) or 0.0)
    trained: dict[int, bool] = {}
    if rate > 0:
        for name, p in derivation.parameters.items():
            if p not in b.pos:
                continue
            i = b.pos[p]
            update_step[i] = len(steps)
            trained[i] = spec.is_trainable(name) if spec is not None else True
            shown = names[i]
            if trained[i]:
                rule = f"{shown}+ = {shown} - lr * " + (f"({dtop}/d{shown} + wd * {shown})" if decay
                                                        else f"{dtop}/d{shown}")
                nums: Line = ["  = ", ["d", i], f" - {fm.format_number(rate)} * "]
                nums += ["(", ["g", i], f" + {fm.format_number(decay)} * ", ["d", i], ")"] if decay \
                    else [["g", i]]
                lines = [[rule], nums + [" = ", ["u", i]]]
            else:
                lines = [[f"{shown} is not trained (update_biases = false): {shown}+ = {shown}"],
                         ["  = ", ["u", i]]]
            steps.append({"kind": "update", "phase": "update", "node": i,
                          "title": f"Update: {shown}+", "lines": lines})

    # -- when each number shows -------------------------------------------------------------
    data_step = [0] * n
    for i in range(n - 1, -1, -1):
        if topo[i].op is None:
            continue
        if i in forward_step:
            data_step[i] = forward_step[i]
        else:  # an unnamed Value shows with the first named Value that uses it
            data_step[i] = min((forward_step.get(c, data_step[c]) for c, _ in b.consumers[i]),
                               default=len(steps))
    grad_step: list[int | None] = [None] * n
    for i in range(n - 1, -1, -1):
        if i in backward_step:
            grad_step[i] = backward_step[i]
        elif not b.named[i]:  # an unnamed Value's gradient is complete once every user's is
            after = [grad_step[c] for c, _ in b.consumers[i]]
            grad_step[i] = None if not after or any(a is None for a in after) else max(
                a for a in after if a is not None)
    # Which named Values each step reads (the page highlights them), and the sample it is about.
    for st in steps:
        st["sample"] = sample_of(topo[st["node"]].label) if st["node"] is not None else 0
        i = st["node"]
        used = {t[1] for line in st["lines"] for t in line if isinstance(t, list) and t[0] in "dg"}
        if st["kind"] == "forward":
            used |= below[i]
        elif st["kind"] == "backward":
            used |= {u for u, _, _ in uses.get(i, [])} | set(st.pop("refs", []))
        used.discard(i)
        st["uses"] = sorted(used)
    by_step = sorted(ops, key=lambda i: forward_step.get(i, 0))
    views = [_network(b, groups, by_stage, stages, by_step, below, derivation, k) for k in samples or [0]]
    network = {"samples": views} if all(v is not None for v in views) else None
    update = {"rate": rate, "decay": decay, "trained": {str(i): t for i, t in trained.items()}}
    circuit = _circuit(b, level) if network is None else None
    return Lesson(steps, data_step, grad_step, b.factors, forward_step, backward_step, update_step,
                  b.named, network, update, circuit)


#: The circuit view draws graphs of at most this many named Values.
CIRCUIT_NODES = 60


def _constant(x: float) -> str:
    return f"{x:g}"


def _circuit(b: _Builder, level: list[int]) -> dict[str, Any] | None:
    """Return the circuit view's structure of a graph without neurons: each operation a gate
    (its table symbol, with any constant operand written in it) and the named Values its wires
    carry; None when the graph is a network or has more than :data:`CIRCUIT_NODES` named Values."""
    topo = b.topo
    if any(v.label.startswith("net_") for v in topo):
        return None
    named = [i for i in range(len(topo)) if b.named[i]]
    if len(named) > CIRCUIT_NODES:
        return None
    gates: list[list[Any]] = []
    for i in named:
        v = topo[i]
        if v.op is None:
            continue
        ins: list[int] = []
        consts: list[tuple[int, str]] = []
        for p, o in enumerate(v.operands):
            if isinstance(o, Value) and b.named[b.pos[o]]:
                ins.append(b.pos[o])
            else:
                consts.append((p, _constant(o.data if isinstance(o, Value) else float(o))))
        text = v.op.symbol
        if v.op.arity == 2 and consts and len(ins) == 1:
            p, c = consts[0]
            text = f"{text} {c}" if p == 1 else f"{c} {text}"
        elif consts:
            text = f"{text} ({', '.join(c for _, c in consts)})"
        gates.append([i, text, ins])
    leaves = [i for i in named if topo[i].op is None]
    return {"gates": gates, "leaves": leaves, "level": {str(i): level[i] for i in named}}


def _network(b: _Builder, groups: dict[int, list[int]], by_stage: dict[int, list[int]],
             stages: list[int], ops: list[int], below: list[set[int]],
             derivation: Any, sample: int = 0) -> dict[str, Any] | None:
    """Return the network view's structure (columns of inputs and neurons, the weights on
    the edges, the biases and the loss) for one sample of a batch (``sample`` from 1; 0 for a
    single sample), or None when the graph is not a layered network whose neurons compute
    ``net = sum of weight * input + bias``."""
    topo = b.topo

    def resolve(x: Value) -> Value:  # a batch's copy P[s] stands for its parameter P
        k = b.copy_of.get(b.pos[x])
        return topo[k] if k is not None else x

    columns: list[list[dict[str, Any]]] = []
    column_of: dict[int, int] = {}  # out (and net) index -> column
    last_stage = -1
    for s in stages:
        layer: list[dict[str, Any]] = []
        for g in by_stage[s]:
            members = groups[g]
            if not topo[members[0]].label.startswith("net_") or sample_of(topo[g].label) != sample:
                continue
            net = members[0]
            out = members[-1]
            name = topo[net].label[4:]
            m = _SAMPLE.match(name)
            layer.append({"name": m.group(1) if m else name, "net": net, "out": out})
        if layer:
            columns.append(layer)
            last_stage = s
    if not columns:
        return None
    for c, layer in enumerate(columns, start=1):
        for neuron in layer:
            column_of[neuron["net"]] = column_of[neuron["out"]] = c
    inputs: list[int] = []
    edges: list[dict[str, Any]] = []
    biases: dict[int, list[int]] = {}
    def is_weight(x: Value) -> bool:
        return x.op is None and (b.roles.get(x) == "parameter" or (
            b.roles.get(x) == "leaf" and re.match(r"w\[", x.label) is not None))

    for c, layer in enumerate(columns, start=1):
        for neuron in layer:
            stack = [neuron["net"]]
            while stack:
                v = topo[stack.pop()]
                if v.op is None:
                    return None
                for o in v.operands:
                    if not isinstance(o, Value):
                        continue
                    o = resolve(o)
                    j = b.pos[o]
                    if b.named[j] and o.op is None and b.roles.get(o) in ("parameter", "leaf"):
                        if v.op.name != "add":
                            return None
                        biases.setdefault(j, []).append(neuron["net"])
                    elif not b.named[j] and o.op is not None and o.op.name == "add":
                        stack.append(j)
                    elif not b.named[j] and o.op is not None and o.op.name == "mul":
                        pair = [resolve(x) for x in o.operands if isinstance(x, Value)]
                        ws = [x for x in pair if is_weight(x)]
                        if len(ws) != 1 and len(pair) == 2 and pair[0].op is None:
                            ws = [pair[0]]  # nn's neurons multiply weight * input
                        srcs = [x for x in pair if x is not ws[0]] if len(ws) == 1 else []
                        if len(ws) != 1 or len(srcs) != 1 or not b.named[b.pos[srcs[0]]]:
                            return None
                        src = b.pos[srcs[0]]
                        if srcs[0].op is None:
                            if src not in inputs:
                                inputs.append(src)
                        elif column_of.get(src) != c - 1:
                            return None
                        edges.append({"w": b.pos[ws[0]], "from": src, "to": neuron["net"]})
                    elif not b.named[j] and o.op is None:
                        continue  # a constant term (a sparse network's missing weight)
                    else:
                        return None
    if derivation is not None and getattr(derivation, "input_names", None):
        order = list(derivation.input_names)

        def base(i: int) -> str:
            m = _SAMPLE.match(topo[i].label)
            return m.group(1) if m else topo[i].label

        inputs.sort(key=lambda i: order.index(base(i)) if base(i) in order else len(order))
    loss = [i for i in ops if i not in column_of and b.named[i] and sample_of(topo[i].label) in (0, sample)]
    targets: list[str] = []
    given = getattr(derivation, "targets", None)
    spec_samples = getattr(getattr(derivation, "spec", None), "samples", None)
    if sample and spec_samples and len(spec_samples) >= sample:
        given = getattr(spec_samples[sample - 1], "targets", given)
    if isinstance(given, dict):
        targets = [f"target {k} = {fm.format_number(float(t))}" for k, t in given.items()]
    place = {i: (0, k) for k, i in enumerate(inputs)}
    for c, layer in enumerate(columns, start=1):
        for k, neuron in enumerate(layer):
            place[neuron["net"]] = place[neuron["out"]] = (c, k)
    edges.sort(key=lambda e: (place[e["to"]], place[e["from"]]))  # each neuron's inputs in order
    return {
        "inputs": inputs,
        "columns": [[[n["net"], n["out"], n["name"]] for n in layer] for layer in columns],
        "edges": [[e["w"], e["from"], e["to"]] for e in edges],
        "biases": [[bias, nets] for bias, nets in biases.items()],
        "loss": loss,
        "targets": targets,
        "last_stage": last_stage,
    }
