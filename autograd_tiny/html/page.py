"""The lesson page: one HTML file that steps through a graph's backpropagation as a textbook does.

:func:`to_html` orders the steps (:mod:`autograd_tiny.html.lesson`), lays the operation
graph out with :func:`autograd_tiny.draw_graph` (Graphviz), puts the SVG, the graph, the
steps and the checker's verdicts as JSON and a small script into one self-contained file
(no network access, no server) and returns a :class:`StepperPage`. The script draws the
network (or circuit) view in the browser, measured with the browser's own fonts, and
computes every value and gradient with JavaScript generated from the operation table
(:mod:`autograd_tiny.html.jscode`), so a leaf edited in the page changes every number the
page shows. The user documentation is docs/lesson-page.md.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..derivation.checker import within
from ..value import Value, topological_order
from ._assets import CSS, SCRIPT
from .jscode import function_js, ops_script
from .lesson import Lesson, build_lesson
from .slips import slip_numbers

#: Default for ``max_nodes``: above this many Values the picture draws each neuron as one
#: node (the page still steps through every Value, in its tables).
MAX_NODES = 300


@dataclass
class StepperPage:
    """A stepper page built by :func:`to_html`.

    Attributes:
        html: the whole page, one self-contained HTML document.
        path: where it was written, or None.
        nodes: how many Values the page steps through.
        collapsed: True when the picture draws each neuron as one node.
    """

    html: str
    path: Path | None = None
    nodes: int = 0
    collapsed: bool = False

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (its directory is created when missing); return the Path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.html, encoding="utf-8")
        self.path = target
        return target

    def _repr_html_(self) -> str:
        """Show the page in Jupyter, in an iframe so that its ids and styles stay its own."""
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                'style="width: 100%; height: 720px; border: 1px solid #ccc;"></iframe>')

    def __repr__(self) -> str:
        where = f", written to {str(self.path)!r}" if self.path else ""
        return f"StepperPage({self.nodes} values, {len(self.html):,} bytes{where})"


def _num(x: float) -> float | str:
    """Return a float for JSON: finite numbers as they are, nan and infinities as strings."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _json_script(obj: Any, element_id: str) -> str:
    """Return ``obj`` as a ``<script type="application/json">`` whose text cannot end the element."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _claim_place(q: Any, index: dict[str, int], params: dict[str, Value], pos: dict[Value, int],
                 lesson: Lesson) -> tuple[int | None, str | None, int | None]:
    """Return where a claim's quantity shows: its node, which number (data, grad or update) and
    the step that computes it (None for each the page cannot say)."""
    s = q.subject
    kind = q.kind
    i: int | None
    if q.step == 1 and kind == "param" and s in params and params[s] in pos:
        i = pos[params[s]]
        return i, "update", lesson.update_step.get(i)
    if q.step != 0:
        return None, None, None
    if kind in ("value",):  # an expression file's defined quantity
        i = index.get(str(s))
        return i, "data", lesson.forward_step.get(i) if i is not None else None
    if kind == "deriv":  # an expression file's dOUT/dNAME
        i = index.get(q.label)
        return i, "grad", lesson.backward_step.get(i) if i is not None else None
    if kind == "grad" and s in params and q.sample is None and params[s] in pos:
        i = pos[params[s]]
        return i, "grad", lesson.backward_step.get(i)
    if kind == "factor":
        i = index.get(q.below)
        return i, "factor", lesson.backward_step.get(i) if i is not None else None
    if kind in ("local", "Ereg"):
        return None, None, None
    name = q.label
    i = index.get(name)
    if i is None and kind in ("out", "dout"):  # an identity neuron: its output is its net input
        i = index.get("net_" + name[4:])
    if i is None and kind == "E_term":  # a single output: its term is the loss
        i = index.get("E" + (f"[{q.sample}]" if q.sample is not None else ""))
    if i is None:
        return None, None, None
    if kind in ("net", "out", "E", "E_term", "param"):
        return i, "data", lesson.forward_step.get(i, 0)
    return i, "grad", lesson.backward_step.get(i)


def _claims(results: Any, index: dict[str, int], params: dict[str, Value],
            pos: dict[Value, int], lesson: Lesson) -> list[dict[str, Any]]:
    """Return the checker's results for the page: each claim with its verdict, hint, node and step.

    A claim whose number the page does not compute (``E+``, ``E@100``) shows at the last step.
    """
    last = len(lesson.steps) - 1
    out: list[dict[str, Any]] = []
    for r in results:
        node, field, step = _claim_place(r.quantity, index, params, pos, lesson)
        out.append({"name": r.claim, "written": r.written, "computed": _num(r.computed),
                    "verdict": r.verdict, "hint": r.hint or "", "node": node, "field": field,
                    "step": last if step is None else step,
                    "basedOn": [str(b) for b in getattr(r, "based_on", None) or []]})
    return out


#: Longest name made up for an unlabelled Value (``w5 * out_h1``); longer ones are ``t1``, ``t2`` ...
NAME_LENGTH = 28


def _names(topo: list[Value]) -> list[str]:
    """Return the name the page uses for each Value: its label, else its expression when short
    (``w5 * out_h1``), else ``t1``, ``t2`` ... (the circuit view writes it on the Value's wire)."""
    from ..render._style import fmt_const

    names: list[str] = []
    pos = {v: i for i, v in enumerate(topo)}
    labels = {v.label for v in topo if v.label}
    count = 0
    for v in topo:
        name = v.label
        if not name and v.op is not None:
            parts = []
            for operand in v.operands:
                if isinstance(operand, Value):
                    part = names[pos[operand]]
                    parts.append(f"({part})" if " " in part and not operand.label else part)
                else:
                    parts.append(fmt_const(float(operand)))
            if v.op.arity == 1:
                name = f"{v.op.symbol}({parts[0]})" if v.op.name != "neg" else f"-{parts[0]}"
            else:
                name = f"{parts[0]} {v.op.symbol} {parts[1]}"
            if len(name) > NAME_LENGTH:  # too long to read: a short name of its own, t1, t2 ...
                count += 1
                while f"t{count}" in labels:
                    count += 1
                name = f"t{count}"
        elif not name:  # an unlabelled leaf is a constant: its number
            name = fmt_const(v.data)
        names.append(name)
    return names


#: What the page shows instead of a graph too big to draw.
NO_PICTURE = ('<p class="note">The graph has too many nodes to draw; the tables below step '
              'through every value.</p>')

_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _svg(root: Value, topo: list[Value], roles: dict[Value, str], params: Any, inputs: list[str],
         max_nodes: int | None, collapse: bool | str,
         program: str | None) -> tuple[str, list[str | None], list[str], bool]:
    """Return the SVG, each Value's SVG node name, how each shows there, and whether collapsed.

    The picture is :func:`autograd_tiny.draw_graph`'s, whose nodes are named by
    topological position (``v<i>``; ``n<k>`` for collapsed neurons); the script finds
    them by those names (each node's ``<title>``). A graph too big to draw even
    collapsed (more than :data:`autograd_tiny.render.MAX_NODES` nodes) gets no picture.
    """
    from ..render import MAX_NODES as DRAWABLE
    from ..render import draw_graph, to_svg
    from ..render.graph import _find_neurons

    consumers: dict[Value, list[Value]] = {}
    for v in topo:
        for p in v.parents:
            consumers.setdefault(p, []).append(v)
    neurons, owner = _find_neurons(topo, consumers, roles)
    too_big = max_nodes is not None and len(topo) > max_nodes
    do_collapse = bool(neurons) and (collapse is True or (collapse == "auto" and too_big))
    drawn = len(neurons) + sum(1 for v in topo if v not in owner) if do_collapse else len(topo)
    if drawn > max(DRAWABLE, max_nodes or 0):
        return "", [None] * len(topo), ["none"] * len(topo), False
    graph = draw_graph(root, params=params, inputs=inputs, collapse=do_collapse, max_nodes=None)
    svg = to_svg(graph, program)
    svg = _COMMENT.sub("", svg[svg.index("<svg"):])
    names: list[str | None] = []
    shows: list[str] = []
    if not do_collapse:
        names = [f"v{i}" for i in range(len(topo))]
        shows = ["record"] * len(topo)
    else:
        outside = 0
        for v in topo:
            k = owner.get(v)
            if k is None:
                names.append(f"v{outside}")
                shows.append("record")
                outside += 1
            else:
                names.append(f"n{k}")
                shows.append("neuron" if v is neurons[k].top else "member")
    return svg, names, shows, do_collapse


def to_html(value_or_derivation: Any, path: str | os.PathLike[str] | None = None, *,
            title: str | None = None, max_nodes: int | None = MAX_NODES,
            collapse: bool | str = "auto", program: str | None = None) -> StepperPage:
    """Return (and with ``path``, write) the stepper page of a graph.

    The page steps through the forward pass neuron by neuron (each named value
    with its formula and numbers), the loss, the backward pass layer by layer
    (each delta and each dE/dw with the local derivatives' formulas from the
    operation table, its numbers, and the sum where paths meet) and, for a
    derivation, each update; with play/pause, step back and a slider. A network
    is drawn as neurons and weighted edges, a graph without neurons as a
    circuit; the operation graph is one click away. Editing a leaf recomputes
    every number in the page. For a derivation, the checker's summary, its
    verdicts and hints are on the page, each claim shown from the step that
    computes it on, on its node.

    Args:
        value_or_derivation: a Value (its graph, e.g. a loss) or a derivation
            (:func:`autograd_tiny.load_derivation`; its loss's graph, with the
            parameters and inputs named and the claims judged).
        path: also write the page there (an ``.html`` file).
        title: the page's heading (default: the derivation's title, or the root's label).
        max_nodes: above this many Values, each neuron is drawn as one node (None: never).
        collapse: True / False / ``"auto"`` (collapse only above ``max_nodes``), as for
            :func:`autograd_tiny.draw_graph`.
        program: the Graphviz layout program, as for :func:`autograd_tiny.render_svg`.

    Returns:
        A :class:`StepperPage` (``.html``, ``.write(path)``; Jupyter shows it inline).

    Raises:
        TypeError: the argument is neither a Value nor a derivation.
        ValueError: a bad ``collapse`` or ``max_nodes``.
        GraphvizNotFoundError: no Graphviz layout program is installed.
    """
    if collapse not in (True, False, "auto"):
        raise ValueError(f"collapse must be True, False or 'auto', got {collapse!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)
                                  or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    derivation = None
    params: dict[str, Value] | None = None
    inputs: list[str] = []
    if isinstance(value_or_derivation, Value):
        root = value_or_derivation
    elif hasattr(value_or_derivation, "loss") and hasattr(value_or_derivation, "parameters") \
            and hasattr(value_or_derivation, "check"):
        derivation = value_or_derivation
        root = derivation.loss()
        if not isinstance(root, Value):
            raise TypeError(f"the derivation's loss() must return a Value, got {type(root).__name__}")
        params = dict(derivation.parameters)
        inputs = list(derivation.input_names)
    else:
        raise TypeError("to_html needs a Value or a derivation (load_derivation(...)), got "
                        f"{type(value_or_derivation).__name__}: {value_or_derivation!r:.80}")

    # The page's numbers come from the engine (the script recomputes them the same way).
    saved = {v: v.grad for v in topological_order(root) if v.is_leaf}
    for leaf in saved:
        leaf.grad = 0.0
    root.backward()
    topo = topological_order(root)
    try:
        from ..render.graph import _roles

        roles = _roles(topo, params, inputs)
        svg, svg_names, shows, collapsed = _svg(root, topo, roles, params, inputs, max_nodes, collapse,
                                                program)
        pos = {v: i for i, v in enumerate(topo)}
        nodes: list[dict[str, Any]] = []
        shown_names = _names(topo)
        for i, v in enumerate(topo):
            kind = v._kind
            args: list[list[Any]] = []
            for operand in v.operands:
                if isinstance(operand, Value):
                    args.append(["v", pos[operand]])
                else:
                    args.append(["c", _num(float(operand))])
            nodes.append({
                "name": shown_names[i], "label": v.label,
                "role": "output" if v is root else roles.get(v, "value"),
                "op": kind.op.name if kind is not None else None, "args": args,
                "data": _num(v.data), "grad": _num(v.grad),
                "svg": svg_names[i], "show": shows[i],
            })
        index: dict[str, int] = {}
        for i, v in enumerate(topo):
            if v.label:
                index.setdefault(v.label, i)
        # The leaves as the user knows them: a derivation's inputs, then its parameters, then the rest.
        known: list[Value] = []
        if derivation is not None:
            known = [derivation.inputs[n] for n in inputs if n in derivation.inputs]
            known += list((params or {}).values())
        leaf_order = list(dict.fromkeys([pos[v] for v in known if v in pos]
                                        + [i for i, v in enumerate(topo) if v.is_leaf]))
        lesson = build_lesson(topo, shown_names, roles, derivation)
        results = derivation.check() if derivation is not None else []
        claims = _claims(results, index, params or {}, pos, lesson)
        if derivation is not None:
            for k, entry in slip_numbers(derivation, list(results), topo, params or {}).items():
                claims[k]["yours"] = {"figure": _num(entry["figure"]), **{
                    f: [[i, _num(v)] for i, v in entry[f]] for f in ("data", "grad", "update")}}
        summary_line = ""
        first_slip = None
        if derivation is not None:
            from ..derivation import summary

            summary_line = summary(list(results))
            wrong = [(tuple(r.order), k) for k, r in enumerate(results) if r.verdict == "wrong"]
            if wrong:
                first_slip = min(wrong)[1]
    finally:
        for leaf, g in saved.items():  # the leaves' gradients are the caller's: leave them as they were
            leaf.grad = g
    heading = title if title is not None else (
        derivation.title if derivation is not None and derivation.title else
        f"Backpropagation through {root.label or 'a graph'}")
    data = {"title": heading, "nodes": nodes, "claims": claims, "collapsed": collapsed,
            "leaves": leaf_order, "steps": lesson.steps, "factors": lesson.factors,
            "dataStep": lesson.data_step, "gradStep": lesson.grad_step, "network": lesson.network,
            "circuit": lesson.circuit,
            "update": lesson.update, "summary": summary_line, "firstSlip": first_slip}
    page_html = _document(heading, svg, data)
    page = StepperPage(page_html, None, len(topo), collapsed)
    if path is not None:
        page.write(path)
    return page


def _document(heading: str, svg: str, data: dict[str, Any]) -> str:
    """Return the page's HTML."""
    h = html.escape(heading)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{h}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{h}</h1>
<p id="summary"></p>
<div id="controls">
<button id="btn-first" title="back to the start (Home)">&#x25C0;&#x25C0;</button>
<button id="btn-back" title="step back (left arrow)">&#x25C0; back</button>
<button id="btn-play" title="play / pause (space)">&#x25B6; play</button>
<button id="btn-next" title="step forward (right arrow)">step &#x25B6;</button>
<button id="btn-last" title="to the end (End)">&#x25B6;&#x25B6;</button>
<button id="btn-quiz" aria-pressed="false" title="hide each step's number until you type yours">quiz</button>
<input id="step" type="range" min="0" max="0" value="0" aria-label="step">
<span id="step-label"></span>
<select id="sample" aria-label="the sample shown"></select>
<span class="views"><button id="btn-view-network" title="neurons, weights on the edges">network</button>
<button id="btn-view-graph" title="every operation of the graph">operations</button></span>
<span id="zoom" class="zoom">zoom <button id="btn-zoom-out" title="smaller">&#x2212;</button>
<button id="btn-zoom-fit" title="the whole graph">fit</button>
<button id="btn-zoom-in" title="larger">+</button></span>
<span id="loss">loss <span id="loss-name"></span> = <span id="loss-value"></span><span id="loss-yours"
 class="yours"></span></span>
</div>
</header>
<main>
<div id="pane"><div id="net-view" hidden></div><div id="graph">{svg or NO_PICTURE}</div></div>
<aside>
<section id="detail"></section>
<section id="claims-section"><h2>Claims</h2><p class="note" id="claims-note"></p>
<table id="claims"><thead><tr><th>claim</th><th>written</th><th>computed</th><th>verdict</th>
<th>hint</th></tr></thead>
<tbody></tbody></table></section>
<section><h2>Leaves <button id="btn-reset" title="set every leaf back">reset</button></h2>
<p class="note">Edit a number: every value and gradient is recomputed.</p>
<table id="leaves"><tbody></tbody></table></section>
</aside>
</main>
<section id="values-section"><h2>Every value</h2>
<table id="values"><thead><tr><th>name</th><th>operation</th><th>data</th><th>grad</th></tr></thead>
<tbody></tbody></table></section>
<div id="tooltip" hidden></div>
{_json_script(data, "stepper-data")}
<script>
{ops_script()}
{function_js(within)}
{SCRIPT}
</script>
</body>
</html>
"""
