"""``autograd-tiny train FILE --steps N``: gradient descent on a derivation's network.

Prints the loss before the first step and after the last (and every K steps with
``--every K``, each row as soon as it is computed), shows a progress bar on stderr when it
is a terminal, and with ``--plot FILE`` draws the loss curve with matplotlib (the ``plot``
extra). The loop is :func:`autograd_tiny.nn.training.run`, the one ``nn.train`` uses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from .._files import check_output_file, shown, stat_or_none
from .._numeric import printable
from ..errors import UsageError
from ..nn.training import PLOT_HINT, History
from ..nn.training import run as run_training
from ._common import add_source_arguments, load, positive_int

#: The most steps ``--steps`` takes (a small network does about 20,000 a second).
MAX_STEPS = 10_000_000


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``train`` sub-command to ``subparsers``; return its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "train",
        help="run N steps of gradient descent and report (and plot) the loss",
        description=(
            "Run N steps of gradient descent with the file's learning rate on its trainable "
            "weights (and biases unless update_biases = false); print the loss before and "
            "after, every K steps with --every, and draw the loss curve with --plot."
        ),
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="a derivation file (or use --example)")
    add_source_arguments(parser)
    parser.add_argument("--steps", required=True, metavar="N",
                        help=f"number of steps (1 to {MAX_STEPS:,})")
    parser.add_argument("--every", metavar="K", help="also print the loss every K steps")
    parser.add_argument("--plot", metavar="FILE",
                        help="draw the loss curve into FILE (.svg, .png or .pdf; needs matplotlib)")
    parser.set_defaults(run=run)
    return parser


def check_plot_path(path: Path) -> None:
    """Raise UsageError unless matplotlib is installed and can write ``path``'s file type."""
    try:
        import matplotlib  # noqa: F401  (fails first when matplotlib is missing)
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        raise UsageError(f"--plot needs matplotlib: {PLOT_HINT}") from None
    supported = FigureCanvasBase.get_supported_filetypes()
    suffix = path.suffix.lstrip(".").lower()
    if suffix not in supported:
        raise UsageError(
            f"cannot plot to {shown(path)}: give a file ending in one of "
            f"{', '.join('.' + s for s in sorted(supported))}"
        )
    check_output_file(str(path), "--plot", "plot file")
    if stat_or_none(path.parent, "--plot") is None:
        raise UsageError(f"cannot plot to {shown(path)}: directory {shown(path.parent)} does not exist")


def train(derivation: Any, steps: int, progress: bool | None = None, *, every: int | None = None,
          table: TextIO | None = None, plot: bool = False, title: str = "") -> History:
    """Run ``steps`` steps of gradient descent on a derivation's network; return the :class:`History`.

    ``History.losses`` has ``steps + 1`` entries: entry k is the loss after k steps. The loop is
    :func:`autograd_tiny.nn.training.run`: ``table`` gets the loss table row by row (every
    ``every`` steps), ``progress`` shows a tqdm bar on stderr (None: only when stderr is a
    terminal), ``plot`` keeps the loss curve's figure.
    """
    return run_training(lambda: derivation.train(1)[0], lambda: derivation.loss().data, steps,
                        every=every, table=table, plot=plot, title=title, live=False, heading="loss E",
                        progress=sys.stderr.isatty() if progress is None else progress)


def run(args: argparse.Namespace) -> int:
    """Train and report; return the exit status (0)."""
    steps = positive_int(args.steps, "--steps", MAX_STEPS)
    every = positive_int(args.every, "--every") if args.every is not None else None
    if args.plot == "":
        raise UsageError("--plot needs the name of the file to draw into, got an empty string")
    plot = Path(args.plot) if args.plot is not None else None
    if plot is not None:
        check_plot_path(plot)  # fail before training, not after
    derivation = load(args.file, args.example)
    title = derivation.title or (args.example or args.file)
    print(title)
    print(f"{steps} step{'s' if steps != 1 else ''} of gradient descent, learning rate "
          f"{derivation.learning_rate:.9g}")
    history = train(derivation, steps, every=every, table=sys.stdout, plot=plot is not None,
                    title=f"{title}: loss over {steps} steps")
    if plot is not None:
        try:
            history.figure.savefig(plot)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot write the plot to {shown(plot)}: {exc}") from None
        print(f"loss curve written to {printable(str(plot))}")
    return 0
