"""Running the Graphviz layout program that turns DOT source into SVG.

Which program: the ``program`` argument, else the ``AUTOGRAD_TINY_DOT``
environment variable, else ``dot`` (system Graphviz), else ``graphviz-pure``
(the self-contained port installed by ``pip install graphviz-pure``). Both are
looked up on ``PATH`` and in the running interpreter's script directory, so a
``graphviz-pure`` installed into a virtual environment is found even when that
environment is not activated (as in many Jupyter kernels).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from ..errors import UsageError

#: The environment variable that names the layout program (a name on PATH or a path).
DOT_ENV = "AUTOGRAD_TINY_DOT"

#: The programs tried, in order, when none is chosen.
PROGRAMS = ("dot", "graphviz-pure")

#: How to get a layout program, for error messages.
INSTALL_HINT = (
    "install Graphviz with 'apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' "
    "(macOS) or 'pip install graphviz-pure' (any platform with Python), "
    f"or set {DOT_ENV} to the path of a dot program"
)

#: Seconds a layout may take before :class:`RenderError` is raised.
DEFAULT_TIMEOUT = 120.0


class GraphvizNotFoundError(UsageError, RuntimeError):
    """No Graphviz layout program (``dot`` or ``graphviz-pure``) could be found.

    The message says which programs were looked for and how to install one.
    :func:`autograd_tiny.render.render_svg` also writes the DOT source next to
    the requested file first; its path is in :attr:`dot_path` (None otherwise).
    It is a ``RuntimeError`` and, so that the command line prints it as one line
    and exits with status 2, an :class:`autograd_tiny.errors.UsageError`.
    """

    def __init__(self, message: str, dot_path: Path | None = None) -> None:
        super().__init__(message)
        self.dot_path = dot_path


class RenderError(RuntimeError):
    """The layout program failed (non-zero exit status) or ran past its time limit."""


def _script_dirs() -> list[str]:
    """Return the directories of this interpreter's console scripts (venv ``bin``)."""
    dirs: list[str] = []
    for d in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        if d and d not in dirs:
            dirs.append(d)
    return dirs


def _which(name: str) -> str | None:
    """Return the full path of program ``name`` (PATH, then the script directories), or None."""
    found = shutil.which(name)
    if found or os.sep in name or (os.altsep and os.altsep in name):
        return found
    for d in _script_dirs():
        found = shutil.which(name, path=d)
        if found:
            return found
    return None


def find_program(program: str | None = None) -> str:
    """Return the full path of the Graphviz layout program to run.

    Args:
        program: a program name (``"dot"``, ``"graphviz-pure"``) or path. When
            omitted, the ``AUTOGRAD_TINY_DOT`` environment variable is used, and
            when that is unset or empty, the first of ``dot`` and ``graphviz-pure``
            that exists.

    Returns:
        The absolute path of an executable.

    Raises:
        GraphvizNotFoundError: the chosen program, or else every default one, is missing.
    """
    if program:
        chosen, source = program, "program argument"
    else:
        chosen, source = os.environ.get(DOT_ENV, "").strip(), f"environment variable {DOT_ENV}"
    if chosen:
        path = _which(chosen)
        if path is None:
            raise GraphvizNotFoundError(
                f"the Graphviz program {chosen!r} (from the {source}) was not found or is not "
                f"executable; {INSTALL_HINT}"
            )
        return path
    for name in PROGRAMS:
        path = _which(name)
        if path is not None:
            return path
    where = " and in ".join(["on PATH", *_script_dirs()])
    raise GraphvizNotFoundError(
        f"no Graphviz layout program found (looked for {' and '.join(map(repr, PROGRAMS))} "
        f"{where}); {INSTALL_HINT}"
    )


def source_of(graph: Any) -> str:
    """Return the DOT source of ``graph`` (a ``graphviz`` graph or a DOT string)."""
    if isinstance(graph, str):
        return graph
    source = getattr(graph, "source", None)
    if not isinstance(source, str):
        raise TypeError(
            f"expected a graphviz.Digraph or DOT source, got {type(graph).__name__}: {graph!r:.80}"
        )
    return source


def run_program(source: str, fmt: str = "svg", program: str | None = None,
                timeout: float | None = DEFAULT_TIMEOUT) -> bytes:
    """Lay out DOT ``source`` with the Graphviz program and return its output.

    Args:
        source: DOT text.
        fmt: an output format of ``dot -T`` (``"svg"``, ``"png"`` ...).
        program: the program, as for :func:`find_program`.
        timeout: seconds before giving up (None waits for ever).

    Returns:
        The bytes the program wrote to its standard output.

    Raises:
        GraphvizNotFoundError: no program (see :func:`find_program`).
        RenderError: the program failed or timed out.
    """
    exe = find_program(program)
    try:
        done = subprocess.run(  # noqa: S603 - a layout program chosen by the user, no shell
            [exe, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True,
            timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"{exe} did not finish laying out the graph within {timeout:g} s; draw a smaller or "
            "collapsed graph (draw_graph(..., collapse=True) or a lower max_nodes)"
        ) from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(
            f"{exe} -T{fmt} failed with exit status {done.returncode}: "
            + (" / ".join(detail[:5]) or "no message")
        )
    return done.stdout
