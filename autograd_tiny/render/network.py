"""``draw_network``: the layered picture of a small network, as the articles draw it.

Inputs on the left, then each layer of neurons, with the biases as their own
nodes (a bias shared by a layer is one node with an edge to every neuron it
feeds). Every weight is a small box on its edge, ``name = value``, plus ``grad ...``
once gradients have been computed; or, for networks with more than
:data:`MAX_WEIGHT_BOXES` weights (or with ``weight_boxes=False``), just the edge, its
width growing with the weight's size and its colour saying its sign (blue positive,
red negative), as interactive network tools draw them; the numbers are in the edge's
tooltip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import _display_hooks
from ..nn.modules import MLP, Layer, Module, Neuron, default_neuron_names
from ..value import Value, no_grad, topological_order
from ._style import (
    COLORS,
    Mark,
    check_decimals,
    dot_escape,
    dot_label,
    fmt,
    html_escape,
    mark_attrs,
    new_digraph,
)
from .graph import RANKDIRS

#: Networks with more weights than this are drawn without weight boxes by default.
MAX_WEIGHT_BOXES = 40

#: Edge colours of weights drawn as edges, by sign.
WEIGHT_COLORS = {"positive": "#1f77b4", "negative": "#d62728", "zero": "#bbbbbb"}


def is_network(obj: Any) -> bool:
    """Return True for what :func:`draw_network` draws: a Neuron, Layer, MLP or derivation."""
    return isinstance(obj, (MLP, Layer, Neuron)) or (
        hasattr(obj, "network") and hasattr(obj, "input_names")
    )


@dataclass
class _Structure:
    input_names: list[str]
    layers: list[list[Neuron]]
    names: list[list[str]]
    frozen: set[Value]


def _structure(obj: Any) -> _Structure:
    """Return the layers, neuron names and input names of a network or derivation."""
    derivation = not isinstance(obj, Module) and is_network(obj)
    net = obj.network if derivation else obj
    if isinstance(net, MLP):
        layers = [list(layer.neurons) for layer in net.layers]
    elif isinstance(net, Layer):
        layers = [list(net.neurons)]
    elif isinstance(net, Neuron):
        layers = [[net]]
    else:
        raise TypeError(
            "draw_network needs a Neuron, Layer, MLP or derivation, "
            f"got {type(obj).__name__}: {obj!r:.80}"
        )
    nin = len(layers[0][0].w)
    input_names = [str(s) for s in obj.input_names] if derivation else []
    if len(input_names) != nin:
        input_names = [f"x{i + 1}" for i in range(nin)]
    sizes = [len(layer) for layer in layers]
    names = [[n.name or default for n, default in zip(layer, default_neuron_names(sizes, li))]
             for li, layer in enumerate(layers)]
    frozen = {n.b for layer in layers for n in layer if n.b is not None and n.freeze_bias}
    return _Structure(input_names, layers, names, frozen)


def _forward(st: _Structure, x: Sequence[float]) -> tuple[list[float], list[list[float]]]:
    """Return the inputs and every neuron's output for input ``x`` (no graph is kept)."""
    if len(x) != len(st.input_names):
        raise ValueError(f"x has {len(x)} values but the network has {len(st.input_names)} inputs")
    xs = [Value(v).data for v in x]
    outs: list[list[float]] = []
    h: list[float] = xs
    with no_grad():
        for layer in st.layers:
            h = [n(h).data for n in layer]
            outs.append(h)
    return xs, outs


def _from_loss(st: _Structure, loss: Value) -> tuple[list[float] | None, list[list[float]] | None]:
    """Return the inputs and neuron outputs found by label in a loss's graph (None when missing)."""
    by_label: dict[str, float] = {}
    for v in topological_order(loss):
        if v.label:
            by_label.setdefault(v.label, v.data)
    xs = [by_label.get(name) for name in st.input_names]
    outs: list[list[float]] = []
    for layer, names in zip(st.layers, st.names):
        row: list[float] = []
        for n, name in zip(layer, names):
            key = f"net_{name}" if n.activation == "identity" else f"out_{name}"
            if key not in by_label:
                return None, None
            row.append(by_label[key])
        outs.append(row)
    inputs = None if any(v is None for v in xs) else [v for v in xs if v is not None]
    return inputs, outs


def _node_label(name: str, lines: list[str]) -> str:
    small = "".join(f'<br/><font point-size="9">{html_escape(t)}</font>' for t in lines)
    return f"<<b>{html_escape(name)}</b>{small}>"


def draw_network(
    net_or_derivation: Any,
    x: Sequence[float] | None = None,
    *,
    rankdir: str = "LR",
    show_grad: bool | None = None,
    decimals: int = 4,
    title: str | None = None,
    weight_boxes: bool | None = None,
    marks: Mapping[str, Mark | Sequence[Mark]] | None = None,
) -> Any:
    """Return a ``graphviz.Digraph`` of a small network, layer by layer.

    Args:
        net_or_derivation: a :class:`~autograd_tiny.nn.MLP`, ``Layer`` or ``Neuron``,
            or a derivation (an object with ``.network`` and ``.input_names``, like
            :class:`autograd_tiny.Derivation`; its neuron and input names are used and
            its ``loss()`` gives the values in the nodes and the loss in the title).
        x: input values; when given, each neuron shows its output for them.
        rankdir: ``"LR"`` (inputs on the left), ``"RL"``, ``"TB"`` or ``"BT"``.
        show_grad: write each weight's and bias's ``grad``; by default only once
            some parameter has a non-zero grad (after ``backward()``).
        decimals: digits after the point (a number that is not 0 but would show as 0
            gets that many significant digits).
        title: text above the picture.
        weight_boxes: draw each weight as a box with its name and numbers (True), or
            only as its edge, whose width grows with ``|w|`` and whose colour is its sign
            (False: blue positive, red negative; name and numbers in the tooltip). By
            default boxes only up to :data:`MAX_WEIGHT_BOXES` weights.
        marks: verdicts to show, by the label of the Value they are about: a weight's or
            bias's label, ``net_<N>``/``out_<N>`` for neuron ``N``; others are written
            above the picture (see :class:`autograd_tiny.render.Mark`).

    Returns:
        A ``graphviz.Digraph`` (shown inline by Jupyter; write it with
        :func:`autograd_tiny.render_svg`). Neurons are named by their ``name`` or
        ``h1, h2 ...`` (hidden; ``h<layer>_<j>`` with several hidden layers) and ``o1, o2 ...``
        (output); inputs ``x1, x2 ...``; unlabelled weights ``w[<layer>][<neuron>,<input>]``
        and biases ``b[<layer>]`` (shared) or ``b[<layer>][<neuron>]``, counting from 1,
        as :mod:`autograd_tiny.nn` labels them.

    Raises:
        TypeError: not a network or derivation.
        ValueError: ``x`` has the wrong length, or a bad ``rankdir``/``decimals``.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"unknown rankdir {rankdir!r}; choose one of {', '.join(RANKDIRS)}")
    check_decimals(decimals)
    if weight_boxes not in (None, True, False):
        raise ValueError(f"weight_boxes must be True, False or None, got {weight_boxes!r}")
    st = _structure(net_or_derivation)
    inputs: list[float] | None = None
    outs: list[list[float]] | None = None
    loss_text: str | None = None
    params = [p for layer in st.layers for n in layer for p in [*n.w, *([n.b] if n.b else [])]]
    if show_grad is None:
        show_grad = any(p.grad != 0 for p in params)
    if x is not None:
        inputs, outs = _forward(st, x)
    elif not isinstance(net_or_derivation, Module) and callable(getattr(net_or_derivation, "loss", None)):
        extra = getattr(net_or_derivation, "parameters", None)
        saved = {p: p.grad for p in [*params, *(extra.values() if isinstance(extra, Mapping) else ())]}
        try:  # a derivation's loss() may zero the gradients: drawing must not change them
            loss = net_or_derivation.loss()
        finally:
            for p, grad in saved.items():
                p.grad = grad
        if isinstance(loss, Value):
            inputs, outs = _from_loss(st, loss)
            loss_text = f"{loss.label or 'loss'} = {fmt(loss.data, decimals)}"
    d = decimals
    nweights = sum(len(n.w) for layer in st.layers for n in layer)
    boxes = nweights <= MAX_WEIGHT_BOXES if weight_boxes is None else weight_boxes
    wmax = max((abs(n_.w[i].data) for layer in st.layers for n_ in layer for i in range(len(n_.w))
                if abs(n_.w[i].data) != float("inf")), default=0.0) or 1.0
    pending = {str(k): ([v] if isinstance(v, Mark) else list(v)) for k, v in (marks or {}).items()}

    def take(*labels: str) -> list[Mark]:
        """Return (and remove from ``pending``) the marks of these labels."""
        return [m for label in labels for m in pending.pop(label, [])]

    def mark_lines(found: list[Mark]) -> list[str]:  # for HTML-like labels: _node_label escapes them
        return [f"{m.verdict.upper()} {m.text}" for m in found]

    notes = [title] if title else []
    if loss_text is not None:
        notes.append(loss_text)
    if not boxes:
        notes.append(f"{nweights} weights drawn as edges: width |w|, blue positive, red negative")
    g = new_digraph("network", rankdir, ranksep="0.5", nodesep="0.5", splines="line",
                    **({"label": dot_label("  ".join(dot_escape(n) for n in notes)), "labelloc": "t"}
                       if notes else {}))

    ranks: list[list[str]] = [[] for _ in range(2 * len(st.layers) + 1)]
    for i, name in enumerate(st.input_names):
        lines = [fmt(inputs[i], d)] if inputs is not None else []
        g.node(f"i{i}", _node_label(name, lines), shape="circle", style="filled",
               fillcolor=COLORS["input"], width="0.7", fixedsize="false")
        ranks[0].append(f"i{i}")
    for li, (layer, names) in enumerate(zip(st.layers, st.names)):
        last = li == len(st.layers) - 1
        for j, (n, name) in enumerate(zip(layer, names)):
            lines = [n.activation]
            if outs is not None:
                lines.append(fmt(outs[li][j], d))
            found = take(f"net_{name}", f"out_{name}")
            if not boxes and n.b is not None and sum(m.b is n.b for m in layer) == 1:
                blabel = n.b.label or f"b[{li + 1}][{j + 1}]"  # its own bias, written in the neuron
                lines.append(f"{blabel} = {fmt(n.b.data, d)}" + (" frozen" if n.b in st.frozen else ""))
                if show_grad:
                    lines.append(f"grad {fmt(n.b.grad, d)}")
                found += take(blabel)
            lines += mark_lines(found)
            shape = {"shape": "circle"} if len(lines) <= 2 and not found else \
                {"shape": "box", "style": "rounded,filled",
                 "margin": "0.12,0.05" if found else "0.08,0.03"}  # room for a marked border
            g.node(f"n{li}_{j}", _node_label(name, lines), **{"style": "filled", **shape},
                   fillcolor=COLORS["output"] if last else "#ffe6cc", width="0.7", **mark_attrs(found))
            ranks[2 * li + 2].append(f"n{li}_{j}")
        tails = [f"i{i}" for i in range(len(st.input_names))] if li == 0 else \
            [f"n{li - 1}_{j}" for j in range(len(st.layers[li - 1]))]
        for j, n in enumerate(layer):
            for i, w in enumerate(n.w):
                wname = w.label or f"w[{li + 1}][{j + 1},{i + 1}]"
                found = take(wname)
                plain = [f"{wname} = {fmt(w.data, d)}"]
                if show_grad:
                    plain.append(f"grad {fmt(w.grad, d)}")
                plain += mark_lines(found)
                text = "\\n".join(dot_escape(line) for line in plain)
                if not boxes:
                    sign = "positive" if w.data > 0 else "negative" if w.data < 0 else "zero"
                    width = 0.4 + 3.6 * min(abs(w.data) / wmax, 1.0) if w.data == w.data else 0.4
                    attrs = {"penwidth": f"{width:.2f}", "color": WEIGHT_COLORS[sign],
                             "tooltip": dot_escape(", ".join(plain)), "arrowsize": "0.4"}
                    if found:  # a checked claim about this weight: its box comes back, marked
                        attrs.update(label=dot_label(text), fontcolor=mark_attrs(found)["color"])
                    g.edge(tails[i], f"n{li}_{j}", **attrs)
                    continue
                wid = f"w{li}_{j}_{i}"
                g.node(wid, dot_label(text), shape="box", style="rounded,filled", fillcolor="white",
                       fontsize="10", margin="0.12,0.05" if found else "0.08,0.03", height="0", width="0",
                       **{"color": "#bbbbbb", **mark_attrs(found)})
                g.edge(tails[i], wid, arrowhead="none")
                ranks[2 * li + 1].append(wid)
                g.edge(wid, f"n{li}_{j}")
        biases: list[Value] = []
        for n in layer:
            if n.b is not None and not any(n.b is b for b in biases):
                biases.append(n.b)
        if not boxes:  # a neuron's own bias is written in the neuron
            biases = [b for b in biases if sum(n.b is b for n in layer) > 1]
        for k, b in enumerate(biases):
            bid = f"b{li}_{k}"
            first = next(j for j, n in enumerate(layer) if n.b is b)  # numbered by its neuron, as nn does
            shared = sum(n.b is b for n in layer) > 1
            default = f"b[{li + 1}]" if shared else f"b[{li + 1}][{first + 1}]"
            lines = [f"= {fmt(b.data, d)}"]
            if show_grad:
                lines.append(f"grad {fmt(b.grad, d)}")
            if b in st.frozen:
                lines.append("frozen")
            found = take(b.label or default)
            lines += mark_lines(found)
            g.node(bid, _node_label(b.label or default, lines), shape="box",
                   style="rounded,filled" + (",dashed" if b in st.frozen else ""),
                   fillcolor=COLORS["parameter"], **mark_attrs(found))
            ranks[2 * li + 1].append(bid)
            for j, n in enumerate(layer):
                if n.b is b:
                    g.edge(bid, f"n{li}_{j}", style="dashed", color="#b09500")
    left = [f"{m.verdict.upper()} {m.text}" for found in pending.values() for m in found]
    if left:  # marks about quantities without a node (the loss, later steps): above the picture
        marked = [*notes, *left]
        g.attr(label=dot_label("\\n".join(dot_escape(t) for t in marked)), labelloc="t", labeljust="l")
    for r, members in enumerate(ranks):
        with g.subgraph() as s:
            s.attr(rank="same")
            for m in members:
                s.node(m)
            if r % 2 == 0:  # keep inputs and neurons in their order (x1 above x2)
                for above, below in zip(members, members[1:]):
                    s.edge(above, below, style="invis")
    return g


@_display_hooks.mimebundle.register
def mimebundle(obj: Module, include: Any = None, exclude: Any = None) -> dict[str, str]:
    """Return Jupyter's mime bundle for a network: its :func:`draw_network` SVG, or its repr
    (registered for every :class:`~autograd_tiny.nn.Module`)."""
    if not is_network(obj):
        return {"text/plain": repr(obj)}
    bundle: dict[str, str] = draw_network(obj)._repr_mimebundle_(include, exclude)
    return bundle
