"""Writing pictures: :func:`to_svg`, :func:`render_svg` and :func:`write_svgs`."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..value import Value, topological_order
from ._program import DEFAULT_TIMEOUT, GraphvizNotFoundError, find_program, run_program, source_of
from ._style import Mark, check_decimals, svg_font_family


def _as_graph(obj: Any, decimals: int | None = None) -> Any:
    """Return ``obj`` as something with DOT source: draw Values and networks first."""
    options: dict[str, Any] = {} if decimals is None else {"decimals": check_decimals(decimals)}
    if isinstance(obj, Value):
        from .graph import draw_graph

        return draw_graph(obj, **options)
    if isinstance(obj, str) or hasattr(obj, "source"):
        if options:
            raise ValueError("decimals applies when a Value or a network is drawn here; this graph "
                             "is drawn already: pass decimals to draw_graph or draw_network instead")
        return obj
    from .network import draw_network, is_network

    if is_network(obj):
        return draw_network(obj, **options)
    raise TypeError(
        "expected a Value, a graphviz.Digraph, DOT source, a Module or a derivation, "
        f"got {type(obj).__name__}: {obj!r:.80}"
    )


def to_svg(graph_or_root: Any, program: str | None = None, timeout: float | None = DEFAULT_TIMEOUT, *,
           decimals: int | None = None) -> str:
    """Return the SVG text of a graph.

    Args:
        graph_or_root: a ``graphviz.Digraph`` (or DOT source), a Value (drawn with
            :func:`draw_graph`) or a network or derivation (drawn with :func:`draw_network`).
        program: the layout program (name or path); default: the ``AUTOGRAD_TINY_DOT``
            environment variable, else ``dot``, else ``graphviz-pure``.
        timeout: seconds the layout may take.
        decimals: digits after the point, when a Value or network is drawn here.

    Returns:
        The SVG document as a str.

    Raises:
        GraphvizNotFoundError: no layout program was found.
        RenderError: the program failed or timed out.
    """
    source = source_of(_as_graph(graph_or_root, decimals))
    return svg_font_family(run_program(source, "svg", program, timeout)).decode("utf-8")


def render_svg(graph_or_root: Any, path: str | os.PathLike[str], program: str | None = None,
               timeout: float | None = DEFAULT_TIMEOUT, *, decimals: int | None = None) -> Path:
    """Write a graph as an SVG file.

    Args:
        graph_or_root: as for :func:`to_svg`.
        path: the file to write (its directory is created when missing).
        program, timeout, decimals: as for :func:`to_svg`.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        GraphvizNotFoundError: no layout program was found; the DOT source was
            written next to ``path`` (same name, suffix ``.dot``, in the error's
            ``dot_path``) so that it can be rendered elsewhere, and the message says
            how to install Graphviz.
        RenderError: the program failed or timed out.
    """
    target = Path(path)
    source = source_of(_as_graph(graph_or_root, decimals))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        svg = run_program(source, "svg", program, timeout)
    except GraphvizNotFoundError as exc:
        dot_path = target.with_suffix(".dot")
        dot_path.write_text(source, encoding="utf-8")
        raise GraphvizNotFoundError(
            f"cannot write {target}: {exc}; the DOT source was written to {dot_path}", dot_path
        ) from None
    target.write_bytes(svg_font_family(svg))
    return target


#: Kinds of claim whose quantity is a node's value or gradient (the node :func:`label` names).
_ON_NODES = ("net", "out", "E", "E_term", "dout", "dnet", "grad")


def claim_marks(results: Iterable[Any], labels: set[str] | None = None) -> dict[str, list[Mark]]:
    """Return the marks of a derivation check's ``wrong`` and ``follows`` claims, by node label.

    Args:
        results: the check's results (:class:`autograd_tiny.derivation.ClaimResult`, with
            ``claim``, ``written``, ``computed``, ``verdict`` and ``quantity``).
        labels: the labels of the loss graph's nodes; a neuron with the identity activation
            has no ``out_<N>`` node, so its output's claims go to ``net_<N>``.

    Returns:
        Label -> marks. A claim on a value of the first forward and backward pass goes to the
        node that holds it (``net_o1``, ``dE/dnet_o1`` on ``net_o1``, ``dE/dw5`` on ``w5``); an
        updated parameter (``w5+``) to the parameter; an expression file's ``q`` and ``df/dq``
        to ``q``; the rest (later steps) to the label
        ``"(later steps)"``, which no node has, so pictures write them above.
    """
    from ..derivation.checker import computed_text

    marks: dict[str, list[Mark]] = {}
    for r in results:
        if r.verdict not in ("wrong", "follows"):
            continue
        q = r.quantity
        if q.kind in _ON_NODES:
            key = q.label
        elif q.kind in ("param", "value", "deriv"):  # an expression file's names are its labels
            key = q.label
        else:
            key = "(later steps)"
        if q.step > (1 if q.kind == "param" else 0):
            key = "(later steps)"
        if labels is not None and key.startswith("out_") and key not in labels:
            key = "net_" + key[4:]
        text = f"{r.claim}: written {r.written}, computed {computed_text(r.computed, r.written)}"
        marks.setdefault(key, []).append(Mark(r.verdict, text))
    return marks


def write_svgs(derivation: Any, out_dir: str | os.PathLike[str], program: str | None = None, *,
               decimals: int = 4, results: Iterable[Any] | None = None,
               weight_boxes: bool | None = None) -> list[Path]:
    """Write a derivation's pictures: ``graph.svg`` and ``network.svg`` in ``out_dir``.

    ``graph.svg`` is the computation graph of the loss after ``backward()`` (the
    parameters' gradients are zeroed first, so they are this one loss's
    gradients); ``network.svg`` is the layered network with those gradients.

    Args:
        derivation: an object with ``.network`` (an MLP), ``.input_names``,
            ``.parameters`` (name -> Value) and ``.loss()`` (a fresh forward pass),
            like :class:`autograd_tiny.Derivation`.
        out_dir: the directory (created when missing).
        program: the layout program, as for :func:`to_svg`.
        decimals: digits after the point of the numbers shown.
        results: a check's results (``derivation.check()``): wrong claims get a red border
            and their written and computed figures on their node, claims that follow from
            an earlier slip an orange one (see :func:`claim_marks`).
        weight_boxes: as for :func:`draw_network`.

    Returns:
        The paths written: ``[out_dir/graph.svg, out_dir/network.svg]``.

    Raises:
        GraphvizNotFoundError: no layout program (the ``.dot`` files are written instead).
        ValueError: a bad ``decimals``.
    """
    from .graph import draw_graph
    from .network import draw_network

    check_decimals(decimals)
    out = Path(out_dir)
    params = dict(derivation.parameters)
    network = derivation.network
    network.zero_grad()
    for p in params.values():
        p.grad = 0.0
    loss = derivation.loss()
    if not isinstance(loss, Value):
        raise TypeError(f"derivation.loss() must return a Value, got {type(loss).__name__}")
    loss.backward()
    marks = None
    if results is not None:
        marks = claim_marks(results, {v.label for v in topological_order(loss) if v.label})
    graph = draw_graph(loss, params=params, inputs=list(derivation.input_names), decimals=decimals,
                       marks=marks)
    network_graph = draw_network(derivation, decimals=decimals, weight_boxes=weight_boxes, marks=marks)
    targets = [(graph, out / "graph.svg"), (network_graph, out / "network.svg")]
    try:
        find_program(program)
    except GraphvizNotFoundError as exc:  # write every .dot file before saying so
        out.mkdir(parents=True, exist_ok=True)
        dots = []
        for g, target in targets:
            dots.append(target.with_suffix(".dot"))
            dots[-1].write_text(source_of(g), encoding="utf-8")
        raise GraphvizNotFoundError(
            f"cannot write {out / 'graph.svg'} and network.svg: {exc}; the DOT sources were "
            f"written to {dots[0]} and {dots[1]}", dots[0],
        ) from None
    return [render_svg(g, target, program) for g, target in targets]
