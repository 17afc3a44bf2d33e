"""What several sub-commands share: loading a derivation, number options, drawing options, writing SVGs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._files import check_output_dir, check_output_file, shown
from .._numeric import printable
from ..errors import UsageError


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--example NAME`` (a shipped derivation instead of FILE) to ``parser``."""
    parser.add_argument(
        "--example", metavar="NAME",
        help="use a shipped example instead of FILE (autograd-tiny check --list-examples lists them)",
    )


def load(file: str | None, example: str | None) -> Any:
    """Return the Derivation of ``file``, or of the shipped example ``example``.

    Raises:
        UsageError: both or neither are given, the example is unknown, or the file
            cannot be read or is invalid.
    """
    from ..derivation import load_derivation, load_example

    if example is not None and file is not None:
        raise UsageError(f"give either FILE ({file!r}) or --example {example}, not both")
    if example is not None:
        return load_example(example)
    if file is None:
        raise UsageError("give a derivation FILE, or --example NAME for a shipped one")
    if not file:
        raise UsageError("the derivation FILE is an empty string; give a file's path")
    return load_derivation(Path(file))


def positive_int(text: str, option: str, maximum: int | None = None) -> int:
    """Return ``text`` as an int from 1 to ``maximum``; raise UsageError naming ``option`` otherwise."""
    try:
        value = int(text)
    except ValueError:
        shown = repr(text) if len(text) <= 40 else f"{text[:30]!r}... ({len(text)} characters)"
        raise UsageError(f"{option} must be a whole number >= 1, got {shown}") from None
    if value < 1:
        raise UsageError(f"{option} must be >= 1, got {value}")
    if maximum is not None and value > maximum:
        shown = text if len(text) <= 40 else f"a {len(text)}-digit number"
        raise UsageError(f"{option} must be at most {maximum}, got {shown}")
    return value


def is_trainable(derivation: Any, param: Any) -> bool:
    """Return True when gradient descent updates ``param`` (a Value) in ``derivation`` (in an
    expression file, which has no network: a leaf, when the file has a learning rate)."""
    network = getattr(derivation, "network", None)
    if network is None:
        return bool(derivation.learning_rate) and any(p is param for p in derivation.parameters.values())
    return any(p is param for p in network.parameters())


def check_out_dir(out_dir: str, option: str) -> None:
    """Raise UsageError when ``out_dir`` is empty, exists but is not a directory, or is a
    name the OS refuses (checked before the work; a missing directory is created)."""
    check_output_dir(out_dir, option)


def add_drawing_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of the commands that draw pictures: ``--decimals N``."""
    from ..render import MAX_DECIMALS

    parser.add_argument("--decimals", default="4", metavar="N",
                        help=f"digits after the point of the numbers in the pictures (0 to {MAX_DECIMALS}, "
                             "default 4)")


def decimals_of(args: argparse.Namespace) -> int:
    """Return the ``--decimals`` option as an int; raise UsageError when it is not 0 to 17."""
    from ..render import MAX_DECIMALS

    text = str(getattr(args, "decimals", "4"))
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_DECIMALS:
        shown = repr(text) if len(text) <= 40 else f"{text[:30]!r}... ({len(text)} characters)"
        raise UsageError(f"--decimals must be a whole number from 0 to {MAX_DECIMALS}, got {shown}")
    return value


def write_svgs(derivation: Any, out_dir: str, option: str, *, decimals: int = 4,
               results: Any = None) -> list[Path]:
    """Write the derivation's ``graph.svg`` and ``network.svg`` into ``out_dir``; return their paths
    (an expression file, which has no network, gets ``graph.svg`` only).

    ``decimals`` is passed to the pictures; ``results`` (a check's results) marks the claims
    that are wrong or follow from an earlier slip on the nodes they are about.

    Raises:
        UsageError: ``out_dir`` is a file, cannot be created or written, or no
            Graphviz layout program is installed (one line naming ``option``).
    """
    from ..render import RenderError
    from ..render import write_svgs as write

    check_out_dir(out_dir, option)
    try:
        if not hasattr(derivation, "network"):  # an expression file: its computation graph only
            return [_write_graph(derivation, Path(out_dir) / "graph.svg", decimals, results)]
        return list(write(derivation, out_dir, decimals=decimals, results=results))
    except (OSError, RenderError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"{option} {shown(out_dir)}: cannot write the SVG files: "
                         f"{' '.join(printable(detail).split())}") from None


def write_html(derivation: Any, path: str, option: str) -> Path:
    """Write the derivation's stepper page (:func:`autograd_tiny.to_html`) to ``path``; return it.

    Raises:
        UsageError: ``path`` is a directory or cannot be written, or no Graphviz layout
            program is installed (one line naming ``option``).
    """
    from ..html import to_html
    from ..render import RenderError

    check_html_path(path, option)
    try:
        page = to_html(derivation)
        return page.write(path)
    except (OSError, RenderError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"{option} {shown(path)}: cannot write the page: "
                         f"{' '.join(printable(detail).split())}") from None


def check_html_path(path: str, option: str) -> None:
    """Raise UsageError when ``path`` is empty, a directory, or a name the OS refuses
    (checked before the work)."""
    check_output_file(path, option, ".html file")


def _write_graph(derivation: Any, path: Path, decimals: int = 4, results: Any = None) -> Path:
    """Write the computation graph of an expression file after ``backward()``, its wrong claims
    marked on their nodes when ``results`` are given; return ``path``."""
    from ..render import draw_graph, render_svg
    from ..render.api import claim_marks

    loss = derivation.loss()
    loss.backward()
    marks = claim_marks(results) if results is not None else None
    return render_svg(draw_graph(loss, params=dict(derivation.parameters), decimals=decimals,
                                 marks=marks), path)
