"""``autograd-tiny site``: write the practice site, a static folder that checks derivations in the
browser.

``autograd-tiny site OUT [--pyodide DIR] [--file PATH ...]`` writes ``OUT/practice.html``, this
package's wheel, the shipped examples and two blank worksheets
(:mod:`autograd_tiny.html.site`). The page loads Pyodide from its official CDN, or with
``--pyodide DIR`` from a local copy of the distribution (the folder of the ``pyodide`` npm
package), copied into ``OUT/pyodide/`` so that the site works offline. ``--file`` adds a
teacher's derivation file to the page's list.

Exit status: 0, or 2 when OUT is a file, DIR lacks a file the page needs, or a teacher's file
is invalid (one line on stderr).
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``site`` sub-command to ``subparsers``; return its parser."""
    from ..html.site import PYODIDE_VERSION

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "site",
        help="write the practice site: a static folder that checks derivations in the browser",
        description="Write a static folder whose practice.html checks a derivation's figures in the "
                    "browser, with this package running in Pyodide; practice.html?example=NAME opens "
                    "a shipped example or worksheet and checks it at once, ?file=URL a file on the "
                    "same site.",
    )
    parser.add_argument("out", metavar="OUT", help="the folder to write (created if missing)")
    parser.add_argument("--pyodide", metavar="DIR",
                        help="copy Pyodide from DIR (npm install pyodide@" + PYODIDE_VERSION
                             + ": node_modules/pyodide) instead of loading it from its CDN")
    parser.add_argument("--file", metavar="PATH", action="append", default=[],
                        help="a teacher's derivation file to list on the page (repeatable)")
    parser.set_defaults(run=run)
    return parser


def blank_worksheets() -> dict[str, str]:
    """Return the site's blank worksheets (:data:`autograd_tiny.html.site.WORKSHEETS`), name -> text."""
    from ..html.site import WORKSHEETS
    from .worksheet import worksheet

    return {name: worksheet(sizes, activation, loss, 0.5, 0)[0]
            for name, (sizes, activation, loss) in WORKSHEETS.items()}


def run(args: argparse.Namespace) -> int:
    """Run the command; return the exit status (0)."""
    from ..html.site import write_site

    page = write_site(args.out, args.pyodide, args.file, blank_worksheets())
    print(f"wrote {page}")
    print(f"serve the folder and open practice.html, e.g. python -m http.server -d {args.out}")
    return 0
