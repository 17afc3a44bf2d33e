"""Training with a progress bar, the loss printed as it goes and a (live) loss plot.

:func:`run` is the one training loop: it calls a *step* function (one gradient-descent
step, returning the loss before it) ``steps`` times, prints a row of the loss table every
``every`` steps as soon as that loss is known, advances a tqdm progress bar
(:mod:`tqdm.auto`: a widget in Jupyter when ipywidgets is installed, text on stderr
otherwise) and, with ``plot=True``, keeps a matplotlib figure of the loss curve (redrawn
in place while training when it runs in a Jupyter kernel).

Two front ends share it:

* :func:`train` (``autograd_tiny.nn.train``) trains a model on ``(inputs, target)``
  pairs with a loss function and an optimizer;
* ``autograd-tiny train FILE --steps N [--every K] [--plot FILE]`` trains a derivation's
  network with the file's learning rate.

Plots need matplotlib (``pip install "autograd-tiny[plot]"``).
"""

from __future__ import annotations

import importlib
import io
import math
import sys
import textwrap
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from .._numeric import short_repr
from ..value import Value, no_grad

PLOT_HINT = 'pip install "autograd-tiny[plot]"'

#: A live plot is redrawn at most this many times during one run (each redraw renders a PNG) ...
MAX_REDRAWS = 25
#: ... and at most once in this many seconds, so that drawing never slows training down much.
MIN_REDRAW_SECONDS = 2.0


@dataclass
class History:
    """What a training run leaves behind.

    Attributes:
        losses: ``losses[k]`` is the loss after ``k`` steps (``steps + 1`` entries: the
            first is the loss before training, the last the loss after the last step).
        figure: the matplotlib ``Figure`` of the loss curve, when a plot was asked for.
    """

    losses: list[float] = field(default_factory=list)
    figure: Any = None

    @property
    def steps(self) -> int:
        """The number of steps taken."""
        return max(len(self.losses) - 1, 0)

    def __repr__(self) -> str:
        if not self.losses:
            return "History(steps=0)"
        return f"History(steps={self.steps}, loss {self.losses[0]:.6g} -> {self.losses[-1]:.6g})"


# -- the loss table --------------------------------------------------------------------------------
class LossTable:
    """The table ``step  loss E`` printed row by row, each row flushed as soon as it is written."""

    def __init__(self, steps: int, file: TextIO, heading: str = "loss") -> None:
        self.file = file
        self.width = max(len(str(steps)), 4)
        self.heading = heading

    def _write(self, line: str) -> None:
        from tqdm import tqdm

        tqdm.write(line, file=self.file)  # clears a progress bar on the terminal first, then redraws it
        self.file.flush()

    def header(self) -> None:
        """Print the header row; returns None."""
        self._write(f"  {'step'.rjust(self.width)}  {self.heading}")

    def row(self, step: int, loss: float) -> None:
        """Print one row: the loss after ``step`` steps; returns None."""
        self._write(f"  {str(step).rjust(self.width)}  {loss:.9g}")


# -- the plot --------------------------------------------------------------------------------------
def _ipython_display() -> Any:
    """Return the module IPython.display (only imported for a live plot, in a kernel)."""
    return importlib.import_module("IPython.display")


def _figure_class() -> Any:
    """Return matplotlib's Figure class, or raise ImportError saying how to install matplotlib."""
    try:
        import matplotlib  # noqa: F401  (fails first when matplotlib is missing)
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"plotting the loss needs matplotlib: {PLOT_HINT}") from None
    return Figure


def fit_title(fig: Any, ax: Any, title: str) -> None:
    """Set ``ax``'s title, wrapped onto more lines until it is no wider than the figure; returns None."""
    ax.set_title(title)
    renderer = fig.canvas.get_renderer()
    room = fig.bbox.width * 0.94
    width = ax.title.get_window_extent(renderer).width
    chars = len(title)
    while width > room and chars > 12:
        chars = max(12, min(chars - 1, int(chars * room / width)))
        ax.set_title(textwrap.fill(title, chars, break_long_words=True))
        width = ax.title.get_window_extent(renderer).width


class LossPlot:
    """A figure of the loss against the step, with a title that fits.

    With ``live=True`` (in a Jupyter kernel) it is displayed at once and redrawn in place
    by :meth:`update`.
    """

    def __init__(self, title: str, steps: int, live: bool = False, ylabel: str = "loss") -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = _figure_class()(figsize=(6.4, 3.6), layout="constrained")
        FigureCanvasAgg(fig)  # a canvas that can measure text, without touching pyplot's state
        ax = fig.add_subplot()
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.set_xlim(0, max(steps, 1))
        (self.line,) = ax.plot([], [], color="#1f77b4", linewidth=1.5)
        if title:
            fit_title(fig, ax, title)
        self.figure, self.ax = fig, ax
        self.handle: Any = None
        if live:
            self.handle = _ipython_display().display(self._image(), display_id=True)

    def _image(self) -> Any:
        return _ipython_display().Image(data=self.png())

    def png(self) -> bytes:
        """Return the figure as PNG bytes (no time stamp or version in them)."""
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=96, metadata={"Software": None})
        return buf.getvalue()

    def update(self, losses: Sequence[float]) -> None:
        """Draw ``losses`` (the loss after 0, 1, 2 ... steps); redraw a live plot; returns None."""
        self.line.set_data(range(len(losses)), losses)
        finite = [x for x in losses if math.isfinite(x)]
        log = bool(finite) and min(finite) > 0 and max(finite) / min(finite) > 100
        self.ax.set_yscale("log" if log else "linear")
        self.ax.relim()
        self.ax.autoscale_view(scalex=False)
        if self.handle is not None:
            self.handle.update(self._image())

    def save(self, path: Any) -> None:
        """Write the figure to ``path`` (its suffix picks the format); returns None."""
        self.figure.savefig(path, metadata=None)


def in_notebook() -> bool:
    """Return True when running in a Jupyter (IPython) kernel."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _progress_bar(steps: int, enabled: bool) -> Any:
    """Return a tqdm.auto progress bar over ``steps`` steps (a disabled one when not ``enabled``)."""
    with warnings.catch_warnings():
        # Without ipywidgets tqdm.auto warns once and falls back to the text bar: that is fine.
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm
    return tqdm(total=steps, desc="training", unit="step", file=sys.stderr, leave=False,
                disable=not enabled)


# -- the loop --------------------------------------------------------------------------------------
def run(step: Callable[[], float], evaluate: Callable[[], float], steps: int, *,
        every: int | None = None, table: TextIO | None = None, progress: bool = False,
        plot: bool = False, title: str = "", live: bool | None = None, heading: str = "loss") -> History:
    """Run the training loop: ``steps`` calls of ``step``, then ``evaluate`` for the final loss.

    Args:
        step: takes one step and returns the loss before it (the loss after the steps so far).
        evaluate: returns the current loss without training (called once, after the last step).
        steps: how many steps (>= 0).
        every: with ``table``, also print the loss every ``every`` steps.
        table: print the loss table here (header, step 0, every ``every``-th step, the last),
            each row as soon as its loss is known; None prints nothing.
        progress: show a progress bar (tqdm.auto, on stderr).
        plot: keep a figure of the loss curve (``History.figure``).
        title: the plot's title.
        live: redraw the plot in place while training (default: when in a Jupyter kernel).
        heading: the loss column's heading in the table.

    Returns:
        The :class:`History` (``steps + 1`` losses, and the figure when ``plot``).
    """
    rows = LossTable(steps, table, heading) if table is not None else None
    live = in_notebook() if live is None else live
    figure = LossPlot(title, steps, live=live, ylabel=heading) if plot else None
    redraw = max(1, steps // MAX_REDRAWS) if figure is not None and live else 0
    losses: list[float] = []
    drawn = time.monotonic()
    if rows is not None:
        rows.header()
    bar = _progress_bar(steps, progress)
    try:
        for k in range(steps):
            losses.append(step())
            if rows is not None and (k == 0 or (every and k % every == 0)):
                rows.row(k, losses[k])
            if redraw and k % redraw == 0 and time.monotonic() - drawn >= MIN_REDRAW_SECONDS:
                figure.update(losses)  # type: ignore[union-attr]
                drawn = time.monotonic()
            bar.update(1)
    finally:
        bar.close()
    losses.append(evaluate())
    if rows is not None:
        rows.row(steps, losses[steps])
    if figure is not None:
        figure.update(losses)
    return History(losses=losses, figure=figure.figure if figure is not None else None)


# -- the Python front end ---------------------------------------------------------------------------
def _check_count(value: object, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int >= {minimum}, got {type(value).__name__}: "
                        f"{short_repr(value)}")
    if value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")
    return value


def _floats(value: object, what: str) -> list[float]:
    items = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    out: list[float] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise TypeError(f"{what} must be numbers, got {type(item).__name__}: {short_repr(item)}")
        out.append(float(item))
    return out


def train(model: Callable[[list[float]], Any], data: Sequence[tuple[Any, Any]],
          loss_fn: Callable[[list[Value], list[float]], Value], optimizer: Any, steps: int, *,
          every: int | None = None, plot: bool = False, progress: bool | None = None,
          title: str | None = None) -> History:
    """Train ``model`` on ``data`` by full-batch gradient descent; return the :class:`History`.

    Each step runs the model on every sample, computes ``loss_fn(outputs, targets)`` over
    all of them (outputs and targets flattened, sample by sample), calls
    ``optimizer.zero_grad()``, ``backward()`` and ``optimizer.step()``.

    Args:
        model: called with a sample's inputs (a list of floats); returns a Value or a list of them
            (an :class:`~autograd_tiny.nn.MLP`).
        data: ``(inputs, target)`` pairs; a target is a number or one number per output.
        loss_fn: e.g. :func:`~autograd_tiny.nn.half_squared_error` or
            :func:`~autograd_tiny.nn.binary_cross_entropy`.
        optimizer: e.g. ``nn.SGD(model.parameters(), lr=0.5)``.
        steps: how many steps (>= 0).
        every: print the loss table (step, loss) every ``every`` steps, each row as it is computed.
        plot: draw the loss curve (live in Jupyter; the figure is ``History.figure``). Needs matplotlib.
        progress: show a progress bar (tqdm.auto); default: in Jupyter or when stderr is a terminal.
        title: the plot's title.

    Returns:
        The :class:`History`: ``losses[k]`` is the loss after ``k`` steps (``steps + 1`` of them).

    Raises:
        TypeError: a sample is not an ``(inputs, target)`` pair of numbers, ``steps`` or
            ``every`` not an int, or the optimizer has no ``step``/``zero_grad``.
        ValueError: ``data`` is empty, a sample's target does not match the model's outputs,
            or ``steps < 0`` / ``every < 1``.
        ImportError: ``plot=True`` without matplotlib (the message says how to install it).
    """
    steps = _check_count(steps, "steps", 0)
    if every is not None:
        every = _check_count(every, "every", 1)
    if not callable(model):
        raise TypeError(f"model must be callable (an nn.MLP), got {type(model).__name__}")
    for method in ("step", "zero_grad"):
        if not callable(getattr(optimizer, method, None)):
            raise TypeError(f"optimizer must have a {method}() method (nn.SGD), "
                            f"got {type(optimizer).__name__}")
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence) or not data:
        raise ValueError(f"data must be a non-empty list of (inputs, target) pairs, got {short_repr(data)}")
    samples: list[tuple[list[float], list[float]]] = []
    for i, sample in enumerate(data):
        if not isinstance(sample, Sequence) or isinstance(sample, str) or len(sample) != 2:
            raise TypeError(f"data[{i}] must be an (inputs, target) pair, got {short_repr(sample)}")
        samples.append((_floats(sample[0], f"data[{i}]'s inputs"), _floats(sample[1], f"data[{i}]'s target")))
    if plot:
        _figure_class()  # fail before training, not after
    targets = [t for _, ts in samples for t in ts]

    def outputs() -> list[Value]:
        out: list[Value] = []
        for i, (x, ts) in enumerate(samples):
            y = model(x)
            ys = [y] if isinstance(y, Value) else list(y)
            if len(ys) != len(ts):
                raise ValueError(f"data[{i}] has {len(ts)} target(s) but the model gives {len(ys)} output(s)")
            out += ys
        return out

    def one_step() -> float:
        optimizer.zero_grad()
        loss = loss_fn(outputs(), targets)
        loss.backward()
        optimizer.step()
        return loss.data

    def evaluate() -> float:
        with no_grad():
            return loss_fn(outputs(), targets).data

    if progress is None:
        progress = in_notebook() or sys.stderr.isatty()
    return run(one_step, evaluate, steps, every=every, table=sys.stdout if every else None,
               progress=progress, plot=plot, title=title or f"loss over {steps} steps")
