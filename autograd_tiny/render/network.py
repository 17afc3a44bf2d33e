"""``draw_network``: the layered picture of a small network, as the articles draw it.

Inputs on the left, then each layer of neurons, with the biases as their own
nodes (a bias shared by a layer is one node with an edge to every neuron it
feeds). Every weight is an edge labelled ``name = value``, plus ``grad ...`` once
gradients have been computed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..nn.modules import MLP, Layer, Module, Neuron, default_neuron_names
from ..value import Value, no_grad, topological_order
from ._style import COLORS, fmt, html_escape, new_digraph
from .graph import RANKDIRS


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
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 17:
        raise ValueError(f"decimals must be an int from 0 to 17, got {decimals!r}")
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

    notes = [title] if title else []
    if loss_text is not None:
        notes.append(loss_text)
    g = new_digraph("network", rankdir, ranksep="0.5", nodesep="0.5", splines="line",
                    **({"label": "  ".join(notes), "labelloc": "t"} if notes else {}))

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
            g.node(f"n{li}_{j}", _node_label(name, lines), shape="circle", style="filled",
                   fillcolor=COLORS["output"] if last else "#ffe6cc", width="0.7")
            ranks[2 * li + 2].append(f"n{li}_{j}")
        tails = [f"i{i}" for i in range(len(st.input_names))] if li == 0 else \
            [f"n{li - 1}_{j}" for j in range(len(st.layers[li - 1]))]
        for j, n in enumerate(layer):
            for i, w in enumerate(n.w):
                wname = w.label or f"w[{li + 1}][{j + 1},{i + 1}]"
                text = f"{wname} = {fmt(w.data, d)}"
                if show_grad:
                    text += f"\\ngrad {fmt(w.grad, d)}"
                wid = f"w{li}_{j}_{i}"
                g.node(wid, text, shape="box", style="rounded,filled", fillcolor="white",
                       color="#bbbbbb", fontsize="10", margin="0.05,0.03", height="0", width="0")
                g.edge(tails[i], wid, arrowhead="none")
                ranks[2 * li + 1].append(wid)
                g.edge(wid, f"n{li}_{j}")
        biases: list[Value] = []
        for n in layer:
            if n.b is not None and not any(n.b is b for b in biases):
                biases.append(n.b)
        for k, b in enumerate(biases):
            bid = f"b{li}_{k}"
            default = f"b[{li + 1}]" if len(biases) == 1 and len(layer) > 1 else f"b[{li + 1}][{k + 1}]"
            lines = [f"= {fmt(b.data, d)}"]
            if show_grad:
                lines.append(f"grad {fmt(b.grad, d)}")
            if b in st.frozen:
                lines.append("frozen")
            g.node(bid, _node_label(b.label or default, lines), shape="box",
                   style="rounded,filled" + (",dashed" if b in st.frozen else ""),
                   fillcolor=COLORS["parameter"])
            ranks[2 * li + 1].append(bid)
            for j, n in enumerate(layer):
                if n.b is b:
                    g.edge(bid, f"n{li}_{j}", style="dashed", color="#b09500")
    for r, members in enumerate(ranks):
        with g.subgraph() as s:
            s.attr(rank="same")
            for m in members:
                s.node(m)
            if r % 2 == 0:  # keep inputs and neurons in their order (x1 above x2)
                for above, below in zip(members, members[1:]):
                    s.edge(above, below, style="invis")
    return g


def mimebundle(obj: Any, include: Any = None, exclude: Any = None) -> dict[str, str]:
    """Return Jupyter's mime bundle for a network: its :func:`draw_network` SVG, or its repr."""
    if not is_network(obj):
        return {"text/plain": repr(obj)}
    bundle: dict[str, str] = draw_network(obj)._repr_mimebundle_(include, exclude)
    return bundle
