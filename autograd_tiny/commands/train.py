"""``autograd-tiny train FILE --steps N``: gradient descent on a derivation's network.

Prints the loss before the first step and after the last (and every K steps with
``--every K``), shows a progress bar on stderr when it is a terminal, and with
``--plot FILE`` draws the loss curve with matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ._common import add_source_arguments, load, positive_int

PLOT_HINT = 'pip install "autograd-tiny[plot]"'

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


def _pyplot() -> Any:
    """Return matplotlib.pyplot on a file-only backend, or raise UsageError saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise UsageError(f"--plot needs matplotlib: {PLOT_HINT}") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_plot_path(path: Path) -> None:
    """Raise UsageError unless matplotlib is installed and can write ``path``'s file type."""
    plt = _pyplot()
    supported = plt.figure().canvas.get_supported_filetypes()
    plt.close("all")
    suffix = path.suffix.lstrip(".").lower()
    if suffix not in supported:
        raise UsageError(
            f"cannot plot to {str(path)!r}: give a file ending in one of "
            f"{', '.join('.' + s for s in sorted(supported))}"
        )
    if not path.parent.is_dir():
        raise UsageError(f"cannot plot to {str(path)!r}: directory {str(path.parent)!r} does not exist")


def plot_losses(losses: list[float], path: Path, title: str) -> None:
    """Draw the loss after each step (step 0 = before training) into ``path``; returns None."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    try:
        ax.plot(range(len(losses)), losses, color="#1f77b4", linewidth=1.5)
        ax.set_xlabel("step")
        ax.set_ylabel("loss E")
        if losses and min(losses) > 0 and max(losses) / min(losses) > 100:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        try:
            fig.savefig(path)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot write the plot to {str(path)!r}: {exc}") from None
    finally:
        plt.close(fig)


def train(derivation: Any, steps: int, progress: bool | None = None) -> list[float]:
    """Run ``steps`` steps of gradient descent; return the loss before each step and after the last.

    The result has ``steps + 1`` entries: entry k is the loss after k steps.
    ``progress`` shows a tqdm bar on stderr (None: only when stderr is a terminal).
    """
    from tqdm import tqdm

    losses: list[float] = []
    for _ in tqdm(range(steps), desc="training", unit="step", file=sys.stderr,
                  disable=(not sys.stderr.isatty()) if progress is None else not progress,
                  leave=False):
        losses.extend(derivation.train(1))
    losses.append(derivation.loss().data)
    return losses


def run(args: argparse.Namespace) -> int:
    """Train and report; return the exit status (0)."""
    steps = positive_int(args.steps, "--steps", MAX_STEPS)
    every = positive_int(args.every, "--every") if args.every is not None else None
    plot = Path(args.plot) if args.plot is not None else None
    if plot is not None:
        check_plot_path(plot)  # fail before training, not after
    derivation = load(args.file, args.example)
    title = derivation.title or (args.example or args.file)
    print(title)
    print(f"{steps} step{'s' if steps != 1 else ''} of gradient descent, learning rate "
          f"{derivation.learning_rate:.9g}")
    losses = train(derivation, steps)
    shown = sorted({0, steps} | (set(range(every, steps, every)) if every else set()))
    width = max(len(str(steps)), 4)
    print(f"  {'step'.rjust(width)}  loss E")
    for k in shown:
        print(f"  {str(k).rjust(width)}  {losses[k]:.9g}")
    if plot is not None:
        plot_losses(losses, plot, f"{title}: loss over {steps} steps")
        print(f"loss curve written to {plot}")
    return 0
