"""``draw_graph``: a Value's computation graph, drawn the way it is drawn by hand.

Every Value is a record ``label | data | grad``; every operation is a small oval
between its inputs and its result (``+``, ``*``, ``sigmoid``, ``** 2``). A number
that was folded into an operation (``w * 2``, ``(t - o) ** 2``) is written in the
oval, so nothing that affects the result is hidden. Leaves say what they are:
``parameter w5`` (yellow), ``input x1`` (blue), ``constant`` (grey).

Neurons of :mod:`autograd_tiny.nn` label their net input ``net_<name>`` and their
output ``out_<name>``; the nodes of one neuron are drawn inside a box named after
it, or, collapsed, as one node. Graphs with more Values than ``max_nodes`` are
collapsed or cut down to the part nearest the output, so Graphviz never gets a
graph it would take minutes to lay out. By default (``collapse="auto"``) a graph of
more than :data:`AUTO_COLLAPSE` Values that has neurons is drawn collapsed, which is
what Jupyter shows for a large loss.

A leaf used by operations far apart in the graph (a weight reused at every step of
an unrolled recurrence, ``h = tanh(w*h + u*x)``) is drawn once per use, next to each
use (a "ghost" copy, with the same label and numbers); a computed Value used far apart
gets a dashed copy for each use after the first. One node with long edges to a hundred
places is what makes ``dot``'s layout take minutes.

``marks`` puts the verdicts of a derivation check on the nodes they are about: a red
border and the written and computed figures for a wrong claim, orange for one that
follows from an earlier slip.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import _display_hooks
from ..value import Value, topological_order
from ._style import (
    COLORS,
    Mark,
    check_decimals,
    dot_escape,
    dot_label,
    fmt,
    fmt_const,
    mark_attrs,
    new_digraph,
    record_escape,
)

#: Default for ``max_nodes``: above this many Values a graph is collapsed or cut.
#: Graphviz lays out 1000 Values (about 2000 drawn nodes) in seconds.
MAX_NODES = 1000

#: With ``collapse="auto"``, a graph of more Values than this that has neurons is drawn
#: with one node per neuron: a 2-16-16-1 loss (about 700 Values) is unreadable uncollapsed.
AUTO_COLLAPSE = 250

#: A Value used more than once is drawn once per use when two of its uses are more than this
#: many operations apart, counted from the leaves or from the output (MLP layers up to this
#: wide keep their fan-out edges).
GHOST_SPAN = 10

RANKDIRS = ("LR", "RL", "TB", "BT")

#: Binary operations whose operands can be swapped; the others label their in-edges x and y.
_SYMMETRIC = frozenset({"add", "mul"})


@dataclass
class _Neuron:
    """One call of a neuron found in the graph: its name, output and members."""

    name: str
    top: Value
    net: Value
    activation: str
    members: list[Value] = field(default_factory=list)


def _value_set(items: Any, what: str) -> tuple[set[Value], set[str]]:
    """Return the Values and the labels named by ``items`` (Module, mapping, iterable)."""
    if items is None:
        return set(), set()
    if isinstance(items, Value):
        return {items}, set()
    if hasattr(items, "parameters") and callable(items.parameters):
        try:
            items = items.parameters(include_frozen=True)
        except TypeError:
            items = items.parameters()
    elif isinstance(items, Mapping):
        items = items.values()
    if isinstance(items, str) or not isinstance(items, Iterable):
        raise TypeError(
            f"{what} must be a Module, a mapping or an iterable of Values/labels, "
            f"got {type(items).__name__}: {items!r:.80}"
        )
    values: set[Value] = set()
    labels: set[str] = set()
    for i, item in enumerate(items):
        if isinstance(item, Value):
            values.add(item)
        elif isinstance(item, str):
            labels.add(item)
        else:
            raise TypeError(f"{what}[{i}] must be a Value or a label, got {type(item).__name__}: {item!r}")
    return values, labels


def _roles(topo: list[Value], params: Any, inputs: Any) -> dict[Value, str]:
    """Return the role of every leaf: parameter, input, constant or plain leaf."""
    pvals, plabels = _value_set(params, "params")
    ivals, ilabels = _value_set(inputs, "inputs")
    known = params is not None
    roles: dict[Value, str] = {}
    for v in topo:
        if not v.is_leaf:
            continue
        if v in pvals or (v.label and v.label in plabels):
            roles[v] = "parameter"
        elif v in ivals or (v.label and v.label in ilabels):
            roles[v] = "input"
        elif known:
            roles[v] = "input" if v.label else "constant"
        else:
            roles[v] = "leaf"
    return roles


def _find_neurons(topo: list[Value], consumers: dict[Value, list[Value]],
                  roles: dict[Value, str]) -> tuple[list[_Neuron], dict[Value, int]]:
    """Return the neurons of the graph and the neuron index of each member Value.

    A neuron is an ``out_<N>`` Value computed from a ``net_<N>`` Value (or a lone
    ``net_<N>`` for the identity activation). Walking back from it, a Value joins
    the neuron when every Value that uses it is already in the neuron, so shared
    biases, shared inputs and other neurons' outputs stay outside.
    """
    neurons: list[_Neuron] = []
    owner: dict[Value, int] = {}
    for v in topo:
        lab = v.label
        if lab.startswith("out_") and v.op is not None and len(v.parents) == 1:
            net = v.parents[0]
            if net.label == "net_" + lab[4:] and net not in owner:
                owner[v] = owner[net] = len(neurons)
                neurons.append(_Neuron(lab[4:], v, net, v.op.symbol))
    for v in topo:
        if v.label.startswith("net_") and not v.is_leaf and v not in owner:
            owner[v] = len(neurons)
            neurons.append(_Neuron(v.label[4:], v, v, "identity"))
    if not neurons:
        return neurons, owner
    for v in reversed(topo):
        if v in owner or roles.get(v) == "input":
            continue
        users = consumers.get(v)
        if not users:
            continue
        first = owner.get(users[0])
        if first is not None and all(owner.get(u) == first for u in users):
            owner[v] = first
    for v in topo:
        k = owner.get(v)
        if k is not None:
            neurons[k].members.append(v)
    return neurons, owner


def _record(fields: list[str], rankdir: str) -> str:
    """Return a record label whose fields run across the picture for any ``rankdir``."""
    body = " | ".join(fields)
    return body if rankdir in ("LR", "RL") else "{ " + body + " }"


def _op_label(v: Value) -> str:
    """Return the text of ``v``'s operation node, constants included (``* 2``, ``0.01 -``)."""
    op = v.op
    assert op is not None
    if op.arity == 1:
        return op.symbol
    a, b = v.operands
    if not isinstance(a, Value):
        return f"{fmt_const(a)} {op.symbol}"
    if not isinstance(b, Value):
        return f"{op.symbol} {fmt_const(b)}"
    return op.symbol


def draw_graph(
    root: Value,
    rankdir: str = "LR",
    *,
    params: Any = None,
    inputs: Any = None,
    collapse: bool | str = "auto",
    clusters: bool = True,
    max_nodes: int | None = MAX_NODES,
    decimals: int = 4,
    title: str | None = None,
    marks: Mapping[Any, Mark | Sequence[Mark]] | None = None,
    ghosts: bool = True,
) -> Any:
    """Return a ``graphviz.Digraph`` of ``root``'s computation graph.

    Args:
        root: the Value whose graph to draw (usually a loss, after ``backward()``).
        rankdir: ``"LR"`` (inputs left, output right), ``"RL"``, ``"TB"`` or ``"BT"``.
        params: the parameters: a Module, a mapping of name to Value, or an iterable
            of Values or labels. Their leaves read ``parameter <label>`` (yellow).
            When given, other labelled leaves are taken as inputs and unlabelled
            ones as constants; when omitted, leaves get no role unless ``inputs``
            names them.
        inputs: Values or labels of the input leaves (``input <label>``, blue).
        collapse: True draws each neuron (``net_<N>``/``out_<N>`` labels; :mod:`autograd_tiny.nn`
            names every neuron of a Layer or MLP) as one node; False draws every Value;
            ``"auto"`` collapses when the graph has more than :data:`AUTO_COLLAPSE` Values
            (or more than ``max_nodes``).
        clusters: box each neuron's Values (uncollapsed view).
        max_nodes: the most Values drawn (None: no limit). A larger graph is
            collapsed when that brings it under the limit (and ``collapse`` is not
            False), else cut to the ``max_nodes`` Values nearest ``root``, with one
            node saying how many were left out. Either way the picture's title says so.
        decimals: digits after the point for ``data`` and ``grad`` (a number that is not 0
            but would show as 0 gets that many significant digits: ``4.501e-07``).
        title: text above the picture.
        marks: verdicts to show on nodes: a mapping from a Value, or the label of one, to
            a :class:`Mark` or a list of them (a ``wrong`` mark draws a red border, a
            ``follows`` mark an orange one; each adds its text to the node).
        ghosts: draw a Value whose uses are far apart in the graph once per use (see
            :data:`GHOST_SPAN`; a leaf as a full copy, a computed Value as a dashed copy
            after its first use), which keeps the layout of unrolled recurrences fast.

    Returns:
        A ``graphviz.Digraph`` (subclass that Jupyter shows inline); write it with
        :func:`autograd_tiny.render_svg`.

    Raises:
        TypeError: ``root`` is not a Value, or ``params``/``inputs`` hold something else.
        ValueError: an unknown ``rankdir`` or ``collapse``, or a bad ``max_nodes``/``decimals``.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph needs a Value, got {type(root).__name__}: {root!r:.80}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"unknown rankdir {rankdir!r}; choose one of {', '.join(RANKDIRS)}")
    if collapse not in (True, False, "auto"):
        raise ValueError(f"collapse must be True, False or 'auto', got {collapse!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)
                                  or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    check_decimals(decimals)

    topo = topological_order(root)
    roles = _roles(topo, params, inputs)
    consumers: dict[Value, list[Value]] = {}
    for v in topo:
        for p in v.parents:
            consumers.setdefault(p, []).append(v)
    neurons, owner = _find_neurons(topo, consumers, roles)

    notes: list[str] = []
    n = len(topo)
    do_collapse = collapse is True and bool(neurons)
    if collapse == "auto" and neurons and n > AUTO_COLLAPSE and (max_nodes is None or n <= max_nodes):
        do_collapse = True
        notes.append(f"{n:,} values: each neuron drawn as one node (collapse=False draws them all)")
    keep: set[Value] | None = None
    if max_nodes is not None and n > max_nodes:
        collapsed_size = len(neurons) + sum(1 for v in topo if v not in owner)
        if collapse is not False and neurons and collapsed_size <= max_nodes:
            do_collapse = True
            notes.append(f"{n:,} values > max_nodes={max_nodes:,}: each neuron drawn as one node")
        else:
            keep = _nearest(root, max_nodes)
            do_collapse = False
            notes.append(f"showing the {len(keep):,} values nearest the output of {n:,} "
                         f"(max_nodes={max_nodes:,})")
    if title:
        notes.insert(0, title)

    g = new_digraph("autograd_tiny", rankdir)
    drawer = _Drawer(g, rankdir, decimals, roles, root, _marks_by_value(topo, marks))
    if do_collapse:
        drawer.collapsed(topo, neurons, owner)
    else:
        shown = topo if keep is None else [v for v in topo if v in keep]
        drawer.ghosted = _far_apart_uses(shown) if ghosts else {}
        drawer.full(topo, neurons if clusters else [], owner if clusters else {}, keep)
        if drawer.ghosted:
            names = [v.label or "unlabelled" for v in drawer.ghosted]
            shown_names = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            drawer.notes.append(f"{shown_names} drawn once per use")
    notes.extend(drawer.notes)
    if notes:
        lines = [dot_escape(line) for note in notes for line in note.splitlines()]
        g.attr(label=dot_label("\\n".join(lines)), labelloc="t", labeljust="l")
    return g


def _marks_by_value(topo: list[Value],
                    marks: Mapping[Any, Mark | Sequence[Mark]] | None) -> dict[Value, list[Mark]]:
    """Return ``marks`` keyed by Value (labels looked up in ``topo``); the others go above the picture."""
    if not marks:
        return {}
    if not isinstance(marks, Mapping):
        raise TypeError(f"marks must be a mapping of Value or label to Mark(s), got {type(marks).__name__}")
    by_label: dict[str, Value] = {}
    for v in topo:
        if v.label:
            by_label.setdefault(v.label, v)
    out: dict[Value, list[Mark]] = {}
    for key, value in marks.items():
        items = [value] if isinstance(value, Mark) else list(value)
        for m in items:
            if not isinstance(m, Mark):
                raise TypeError(f"marks[{key!r}] must be a Mark or a list of Marks, got {type(m).__name__}")
        target = key if isinstance(key, Value) else by_label.get(str(key))
        if target is None:
            out.setdefault(_TITLE, []).extend(items)  # nothing to put it on: shown above the picture
        else:
            out.setdefault(target, []).extend(items)
    return out


#: Stand-in key for marks that have no node: they are written above the picture.
_TITLE = Value(0.0, "(title)")


def _far_apart_uses(shown: list[Value]) -> dict[Value, int]:
    """Return the Values to draw once per use (with their number of uses), see :data:`GHOST_SPAN`.

    Two uses are far apart when they are more than ``GHOST_SPAN`` operations apart counted
    from the leaves (longest path up to them) or from the output (longest path down from them).
    """
    shown_set = set(shown)
    parents = {v: [p for p in v.parents if p in shown_set] for v in shown}
    up: dict[Value, int] = {}
    for v in shown:
        up[v] = 1 + max((up[p] for p in parents[v]), default=-1)
    down: dict[Value, int] = dict.fromkeys(shown, 0)
    for v in reversed(shown):
        for p in parents[v]:
            down[p] = max(down[p], down[v] + 1)
    uses: dict[Value, list[Value]] = {}
    for v in shown:
        for p in parents[v]:
            uses.setdefault(p, []).append(v)
    far: dict[Value, int] = {}
    for p, users in uses.items():
        if len(users) < 2:
            continue
        ups = [up[u] for u in users]
        downs = [down[u] for u in users]
        if max(ups) - min(ups) > GHOST_SPAN or max(downs) - min(downs) > GHOST_SPAN:
            far[p] = len(users)
    return far


def _natural(name: str) -> list[Any]:
    """Return a sort key that puts ``h1_2`` before ``h1_10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _nearest(root: Value, limit: int) -> set[Value]:
    """Return the ``limit`` Values closest to ``root`` (breadth first over parents)."""
    seen: set[Value] = {root}
    queue = deque([root])
    while queue and len(seen) < limit:
        v = queue.popleft()
        for p in v.parents:
            if p not in seen:
                seen.add(p)
                if len(seen) >= limit:
                    break
                queue.append(p)
    return seen


class _Drawer:
    """Adds nodes and edges to a Digraph; node names follow the topological order."""

    def __init__(self, g: Any, rankdir: str, decimals: int, roles: dict[Value, str], root: Value,
                 marks: dict[Value, list[Mark]] | None = None) -> None:
        self.g = g
        self.rankdir = rankdir
        self.decimals = decimals
        self.roles = roles
        self.root = root
        self.ids: dict[Value, str] = {}
        self.marks = marks or {}
        self.ghosted: dict[Value, int] = {}
        self.copies: dict[Value, int] = {}
        self.notes: list[str] = [f"{m.verdict.upper()} {m.text}" for m in self.marks.get(_TITLE, [])]

    def _id(self, v: Value) -> str:
        return self.ids[v]

    def tail(self, p: Value) -> str:
        """Return the node an edge from ``p`` starts at: ``p``'s, or a new copy of a ghosted Value.

        A ghosted leaf is drawn once per use; a ghosted computed Value keeps its own node (and
        operation) for its first use and gets a dashed copy without the operation for each other.
        """
        if p not in self.ghosted:
            return self._id(p)
        k = self.copies[p] = self.copies.get(p, 0) + 1
        if p.op is not None and k == 1:
            return self._id(p)
        gid = f"{self._id(p)}_use{k}"
        what = p.label or ("leaf" if p.op is None else f"the value of {self._id(p)}")
        self.value_node(self.g, p, gid, dot_escape(f"{what}: use {k} of {self.ghosted[p]}"))
        return gid

    def value_node(self, sub: Any, v: Value, vid: str | None = None, tooltip: str | None = None) -> None:
        """Add the record of Value ``v`` (and its operation node) to ``sub``."""
        copy = vid is not None
        if vid is None:
            if v in self.ghosted and v.op is None:
                return  # drawn once per use, by tail()
            vid = self._id(v)
        role = self.roles.get(v, "value")
        head = v.label
        if role in ("parameter", "input"):
            head = f"{role} {v.label}".strip()
        elif role == "constant":
            head = f"constant {v.label}".strip()
        fields = [record_escape(head)] if head else []
        fields += [f"data {fmt(v.data, self.decimals)}", f"grad {fmt(v.grad, self.decimals)}"]
        color = COLORS["output"] if v is self.root else COLORS[role]
        attrs = {"shape": "record", "style": "filled", "fillcolor": color}
        if v is self.root:
            attrs["penwidth"] = "2"
        if role == "parameter":
            attrs["penwidth"] = "1.5"
        if role == "constant":
            attrs["style"] = "filled,dashed"
        if tooltip:
            attrs["tooltip"] = tooltip
        if copy and v.op is not None:
            attrs["style"] = "filled,dashed"
        marks = self.marks.get(v, [])
        if marks:
            fields += [record_escape(f"{m.verdict.upper()} {m.text}") for m in marks]
            attrs.update(mark_attrs(marks))
        sub.node(vid, _record(fields, self.rankdir), **attrs)
        if v.op is not None and not copy:
            sub.node(vid + "_op", _op_label(v), shape="ellipse", style="filled",
                     fillcolor=COLORS["op"], margin="0.04,0.02", height="0.3", width="0.3")
            sub.edge(vid + "_op", vid)

    def operand_edges(self, v: Value, source: dict[Value, str] | None = None) -> None:
        """Add edges from ``v``'s parents (or their stand-ins in ``source``) to its operation."""
        op = v.op
        assert op is not None
        labelled = op.arity == 2 and len(v.parents) == 2 and op.name not in _SYMMETRIC
        for i, p in enumerate(v.parents):
            tail = (source or {}).get(p) or self.tail(p)
            if labelled:
                self.g.edge(tail, self._id(v) + "_op", label=" xy"[i + 1])
            else:
                self.g.edge(tail, self._id(v) + "_op")

    def full(self, topo: list[Value], neurons: list[Any], owner: dict[Value, int],
             keep: set[Value] | None) -> None:
        """Draw every Value (of ``keep``, when given), boxing neurons' Values."""
        shown = [v for v in topo if keep is None or v in keep]
        self.ids = {v: f"v{i}" for i, v in enumerate(shown)}
        boxes: dict[int, list[Value]] = {}
        for v in shown:
            k = owner.get(v)
            if k is None:
                self.value_node(self.g, v)
            else:
                boxes.setdefault(k, []).append(v)
        for k, members in boxes.items():
            with self.g.subgraph(name=f"cluster_{k}") as c:
                c.attr(label=dot_label(dot_escape(f"neuron {neurons[k].name}")), style="rounded,dashed",
                       color="#9673a6", fontcolor="#9673a6", fontsize="11")
                for v in members:
                    self.value_node(c, v)
        cut = 0
        for v in shown:
            if v.op is None:
                continue
            missing = keep is not None and any(p not in keep for p in v.parents)
            if missing:
                for p in v.parents:
                    if p in self.ids:
                        self.g.edge(self.tail(p), self._id(v) + "_op")
                # the first cut gets the node that says how many were left out, each other one a
                # stub of its own: edges from all over into one node make dot's layout take minutes
                stub = "more" if not cut else f"more{cut}"
                if cut:
                    self.g.node(stub, "...", shape="box", style="filled,dashed", fillcolor=COLORS["more"],
                                height="0.2", width="0.3", margin="0.02,0.01")
                self.g.edge(stub, self._id(v) + "_op", style="dashed")
                cut += 1
            else:
                self.operand_edges(v)
        if cut:
            assert keep is not None
            left = len(topo) - len(keep)
            self.g.node("more", f"... {left:,} more values", shape="box", style="filled,dashed",
                        fillcolor=COLORS["more"])

    def collapsed(self, topo: list[Value], neurons: list[Any], owner: dict[Value, int]) -> None:
        """Draw each neuron as one node and every other Value as usual."""
        outside = [v for v in topo if v not in owner]
        self.ids = {v: f"v{i}" for i, v in enumerate(outside)}
        stand_in: dict[Value, str] = {}
        for k in sorted(range(len(neurons)), key=lambda k: _natural(neurons[k].name)):
            nrn, nid = neurons[k], f"n{k}"
            for m in nrn.members:
                stand_in[m] = nid
            fields = [record_escape(f"neuron {nrn.name} ({nrn.activation})"),
                      f"out {fmt(nrn.top.data, self.decimals)}",
                      f"grad {fmt(nrn.top.grad, self.decimals)}"]
            marks = [m for member in nrn.members for m in self.marks.get(member, [])]
            fields += [record_escape(f"{m.verdict.upper()} {m.text}") for m in marks]
            self.g.node(nid, _record(fields, self.rankdir), shape="record", style="filled",
                        fillcolor=COLORS["neuron"], **mark_attrs(marks))
        for v in outside:
            self.value_node(self.g, v)
        for v in outside:
            if v.op is not None:
                self.operand_edges(v, stand_in)
        drawn: set[tuple[str, str]] = set()
        for k, nrn in enumerate(neurons):
            nid = f"n{k}"
            for m in nrn.members:
                for p in m.parents:
                    if owner.get(p) == k:
                        continue
                    tail = stand_in.get(p) or self._id(p)
                    if (tail, nid) not in drawn:
                        drawn.add((tail, nid))
                        self.g.edge(tail, nid)
        self.order_layers(neurons, owner)

    def order_layers(self, neurons: list[Any], owner: dict[Value, int]) -> None:
        """Keep each layer's neurons in one column (h1_1, h1_2 ... h1_10 in that order, as far as
        dot keeps the order in which nodes are listed)."""
        level: dict[int, int] = {}
        for k, nrn in enumerate(neurons):  # neurons are found in topological order
            below = {owner[p] for m in nrn.members for p in m.parents if owner.get(p, k) != k}
            level[k] = 1 + max((level.get(j, 0) for j in below), default=0)
        layers: dict[int, list[int]] = {}
        for k, lv in level.items():
            layers.setdefault(lv, []).append(k)
        for members in layers.values():
            if len(members) < 2:
                continue
            members.sort(key=lambda k: _natural(neurons[k].name))
            with self.g.subgraph() as s:  # (invisible edges would keep the order, but dot
                s.attr(rank="same")       # rejects flat edges between records)
                for k in members:
                    s.node(f"n{k}")
        if len(layers) > 1 and any(len(m) > 4 for m in layers.values()):
            self.g.attr(ranksep="1.2")  # room for the edges between wide layers


@_display_hooks.mimebundle.register
def _value_mimebundle(v: Value, include: Any = None, exclude: Any = None) -> dict[str, str]:
    """Return Jupyter's mime bundle for a Value: its computation graph as SVG."""
    bundle: dict[str, str] = draw_graph(v)._repr_mimebundle_(include, exclude)
    return bundle
