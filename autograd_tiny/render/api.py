"""Writing pictures: :func:`to_svg`, :func:`render_svg` and :func:`write_svgs`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..value import Value
from ._program import DEFAULT_TIMEOUT, GraphvizNotFoundError, find_program, run_program, source_of


def _as_graph(obj: Any) -> Any:
    """Return ``obj`` as something with DOT source: draw Values and networks first."""
    if isinstance(obj, Value):
        from .graph import draw_graph

        return draw_graph(obj)
    if isinstance(obj, str) or hasattr(obj, "source"):
        return obj
    from .network import draw_network, is_network

    if is_network(obj):
        return draw_network(obj)
    raise TypeError(
        "expected a Value, a graphviz.Digraph, DOT source, a Module or a derivation, "
        f"got {type(obj).__name__}: {obj!r:.80}"
    )


def to_svg(graph_or_root: Any, program: str | None = None, timeout: float | None = DEFAULT_TIMEOUT) -> str:
    """Return the SVG text of a graph.

    Args:
        graph_or_root: a ``graphviz.Digraph`` (or DOT source), a Value (drawn with
            :func:`draw_graph`) or a network or derivation (drawn with :func:`draw_network`).
        program: the layout program (name or path); default: the ``AUTOGRAD_TINY_DOT``
            environment variable, else ``dot``, else ``graphviz-pure``.
        timeout: seconds the layout may take.

    Returns:
        The SVG document as a str.

    Raises:
        GraphvizNotFoundError: no layout program was found.
        RenderError: the program failed or timed out.
    """
    source = source_of(_as_graph(graph_or_root))
    return run_program(source, "svg", program, timeout).decode("utf-8")


def render_svg(graph_or_root: Any, path: str | os.PathLike[str], program: str | None = None,
               timeout: float | None = DEFAULT_TIMEOUT) -> Path:
    """Write a graph as an SVG file.

    Args:
        graph_or_root: as for :func:`to_svg`.
        path: the file to write (its directory is created when missing).
        program, timeout: as for :func:`to_svg`.

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
    source = source_of(_as_graph(graph_or_root))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        svg = run_program(source, "svg", program, timeout)
    except GraphvizNotFoundError as exc:
        dot_path = target.with_suffix(".dot")
        dot_path.write_text(source, encoding="utf-8")
        raise GraphvizNotFoundError(
            f"cannot write {target}: {exc}; the DOT source was written to {dot_path}", dot_path
        ) from None
    target.write_bytes(svg)
    return target


def write_svgs(derivation: Any, out_dir: str | os.PathLike[str], program: str | None = None) -> list[Path]:
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

    Returns:
        The paths written: ``[out_dir/graph.svg, out_dir/network.svg]``.

    Raises:
        GraphvizNotFoundError: no layout program (the ``.dot`` files are written instead).
    """
    from .graph import draw_graph
    from .network import draw_network

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
    graph = draw_graph(loss, params=params, inputs=list(derivation.input_names))
    network_graph = draw_network(derivation)
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
