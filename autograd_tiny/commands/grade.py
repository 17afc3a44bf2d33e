"""``autograd-tiny grade``: check a class's submissions against a key.

``autograd-tiny grade KEY.toml SUBMISSIONS/ [--csv FILE] [--html FILE]`` checks every file
of the folder (and its sub-folders; hidden files are left out) against the key's network
and answers (:mod:`autograd_tiny.grading`), prints one line per student, and writes a
CSV (one row per student: counts, first slip, hint) and an HTML report (a bar chart of
the class's misconceptions and each student's table). A file that cannot be graded is a
row with the reason. A progress bar shows on a terminal.

Exit status: 0 when every file was graded, 1 when some could not be, 2 when the key or
the folder is unusable (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._numeric import printable
from ..errors import UsageError


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``grade`` sub-command to ``subparsers``; return its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "grade",
        help="check a folder of submissions against a key (CSV and HTML reports)",
        description="Check every submission in a folder against a key: the key is a derivation "
                    "file whose claims are the answers; a submission is a [claims] table, plain "
                    "lines such as 'dE/dw5 = 0.0822', or a derivation file for the key's network. "
                    "Exit status 0 when every file was graded, 1 when some could not be, 2 for an "
                    "unusable key or folder.",
    )
    parser.add_argument("key", metavar="KEY", help="the key: a derivation file with the answers as claims")
    parser.add_argument("folder", metavar="SUBMISSIONS", help="the folder of submissions")
    parser.add_argument("--csv", metavar="FILE", help="write one row per student to FILE")
    parser.add_argument("--html", metavar="FILE",
                        help="write the class report (misconceptions chart, each student's table)")
    parser.set_defaults(run=run)
    return parser


def _write(path: str, text: str, option: str) -> None:
    """Write ``text`` to ``path``; raise UsageError naming ``option`` when it cannot be written."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"{option} {path!r}: cannot write it: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    """Run the command; return the exit status (0 every file graded, 1 some not)."""
    from ..grading import csv_text, grade_folder, load_key

    for option in ("--csv", "--html"):
        value = getattr(args, option[2:])
        if value is not None and Path(value).is_dir():
            raise UsageError(f"{option} {value!r} is a directory; give the name of the file to write")
    key = load_key(args.key)
    grades = grade_folder(key, args.folder, progress=sys.stderr.isatty())
    if not grades:
        raise UsageError(f"{args.folder}: no files to grade")
    width = max(len(printable(g.student)) for g in grades)
    for g in grades:
        print(f"{printable(g.student).ljust(width)}  {printable(g.summary)}")
    if args.csv is not None:
        _write(args.csv, csv_text(grades), "--csv")
        print(f"wrote {args.csv}")
    if args.html is not None:
        from ..html.report import grade_report

        _write(args.html, grade_report(grades, Path(args.key).name), "--html")
        print(f"wrote {args.html}")
    return 0 if all(g.graded for g in grades) else 1
