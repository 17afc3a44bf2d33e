"""``autograd-tiny check``: judge the figures of a hand derivation.

``autograd-tiny check FILE [--format text|json] [--svg DIR] [--html PATH]`` reads a derivation
file and prints, for every claim in file order, the written and the computed
number, the verdict (``ok``, ``follows`` from an earlier slip, ``wrong``) and a
hint, then a summary naming the first slip. ``--example NAME`` checks a shipped
example instead; ``--example`` alone or ``--list-examples`` lists them.

Exit status: 0 when every claim is ok, 1 when any is not, 2 when the file cannot
be read or is not a valid derivation file (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._numeric import printable
from ..derivation import (
    Derivation,
    example_names,
    example_title,
    format_json,
    format_text,
    load_derivation,
    load_example,
)
from ..errors import UsageError
from ._common import (
    add_drawing_arguments,
    check_html_path,
    check_out_dir,
    decimals_of,
    write_html,
    write_svgs,
)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``check`` sub-command to ``subparsers``; return its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        help="check the figures of a hand derivation (a TOML derivation file)",
        description="Check every claimed figure of a derivation file: ok, follows (from an "
                    "earlier slip) or wrong, with a hint. Exit status 0 when all are ok, 1 "
                    "when any is not, 2 for an unreadable or invalid file.",
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="the derivation file (TOML)")
    parser.add_argument("--example", nargs="?", const="", metavar="NAME",
                        help="check a shipped example instead of FILE (alone: list them)")
    parser.add_argument("--list-examples", action="store_true", help="list the shipped examples")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text (a table and a summary, default) or json")
    parser.add_argument("--svg", metavar="DIR",
                        help="also write DIR/graph.svg and DIR/network.svg, wrong claims marked red "
                             "and those that follow from them orange")
    parser.add_argument("--html", metavar="PATH",
                        help="also write the stepper page: the graph stepped forward and backward, "
                             "the claims beside their nodes (one self-contained HTML file)")
    add_drawing_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def list_examples() -> str:
    """Return one line per shipped example: its name and title."""
    names = example_names()
    width = max((len(n) for n in names), default=0)
    return "".join(f"{n.ljust(width)}  {example_title(n)}\n" for n in names)


def _derivation(args: argparse.Namespace) -> Derivation:
    if args.file is not None and args.example is not None:
        raise UsageError("give either FILE or --example NAME, not both")
    if args.example is not None:
        return load_example(args.example)
    if args.file is None:
        raise UsageError("check needs a derivation FILE (or --example NAME; --list-examples lists them)")
    return load_derivation(args.file)


def _wrote(path: Path, fmt: str, written: list[Path]) -> None:
    """Note that ``path`` was written: a line on stdout for the text report; with JSON (which
    owns stdout) the paths are gathered, for one line on stderr at the end."""
    written.append(path)
    if fmt != "json":
        print(f"wrote {printable(str(path))}")


def run(args: argparse.Namespace) -> int:
    """Run the command; return the exit status (0 all ok, 1 any claim not ok)."""
    if args.list_examples or args.example == "":
        if args.file is not None:
            raise UsageError("--list-examples takes no FILE")
        sys.stdout.write(list_examples())
        return 0
    derivation = _derivation(args)
    decimals = decimals_of(args)
    if args.svg is not None:
        check_out_dir(args.svg, "--svg")
    if args.html is not None:
        check_html_path(args.html, "--html")
    results = derivation.check(progress=sys.stderr.isatty())
    if args.format == "json":
        sys.stdout.write(format_json(results))
    else:
        sys.stdout.write(format_text(results, derivation.title))
    written: list[Path] = []
    try:
        if args.svg is not None:
            for path in write_svgs(derivation, args.svg, "--svg", decimals=decimals, results=results):
                _wrote(path, args.format, written)
        if args.html is not None:
            _wrote(write_html(derivation, args.html, "--html"), args.format, written)
    except UsageError as exc:
        if args.format == "json" and written:  # stderr keeps one line: the error, and what was written
            raise UsageError(f"{exc} (wrote {', '.join(printable(str(p)) for p in written)})") from None
        raise
    if args.format == "json" and written:
        print(f"wrote {', '.join(printable(str(p)) for p in written)}", file=sys.stderr)
    return 0 if all(r.verdict == "ok" for r in results) else 1
