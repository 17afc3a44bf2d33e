"""The command line: ``autograd-tiny`` (also ``python -m autograd_tiny``).

Bad input prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import __version__
from ._numeric import printable
from .commands import COMMANDS
from .errors import UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, with usage errors on one line: ``PROG: error: MESSAGE (PROG --help
    shows the usage)``, the user's text in it escaped, then exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print the one-line usage error on stderr and exit with status 2 (never returns)."""
        line = " ".join(printable(message).split())
        self.exit(2, f"{self.prog}: error: {line} ({self.prog} --help shows the usage)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every sub-command (usage errors on one line)."""
    parser = ArgumentParser(
        prog="autograd-tiny",
        description="Scalar autodiff that shows and checks backpropagation.",
    )
    parser.add_argument("--version", action="version", version=f"autograd-tiny {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if sys.stdout is None:  # started with stdout closed (>&-): nowhere to write the report
        print("autograd-tiny: error: standard output is closed; redirect it to a file or "
              "/dev/null instead", file=sys.stderr)
        return 2
    try:
        status = int(args.run(args))
        sys.stdout.flush()  # a reader that went away shows here, not at exit
        return status
    except UsageError as exc:
        # the message may quote the user's text: it stays one line and shows control characters
        print(f"autograd-tiny: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader of the output (head, less) went away: stop quietly, as Unix tools do
        _drop_stdout()
        return BROKEN_PIPE


#: The exit status when the reader of the output goes away (128 + SIGPIPE, as the shell reports
#: a tool that the signal ended).
BROKEN_PIPE = 141


def _drop_stdout() -> None:
    """Point stdout's file descriptor at /dev/null, so that Python's final flush of what is
    still buffered does not fail again at exit; returns None."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (e.g. captured)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
