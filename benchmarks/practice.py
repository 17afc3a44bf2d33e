"""Load and first-check times of the practice page (``autograd-tiny site``) in headless Chromium.

Usage (from the repository root, after ``npm install pyodide@314.0.7``)::

    python benchmarks/practice.py [--rounds N] [--pyodide DIR]

Builds the site with ``--pyodide DIR`` (default ``node_modules/pyodide``), serves it from
127.0.0.1 and opens ``practice.html?example=NAME`` for seed003 (11 claims) and seed004 (39
claims, ``E@10000`` among them: the checker trains 10,000 steps) in a fresh Chromium profile
each round (nothing cached). Prints, per example, the median over the rounds of: Pyodide's
start (script, WebAssembly and standard library), unpacking and importing this package, the
whole load (page start to the checker ready), the first check, and the wall time from
navigation to the verdicts on the screen. Chromium is set up as in the tests (tests/browser.py).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from autograd_tiny.commands.site import blank_worksheets  # noqa: E402
from autograd_tiny.html.site import write_site  # noqa: E402


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def measure(base: str, example: str) -> dict[str, float]:
    """Return one round's times in ms for ``practice.html?example=EXAMPLE`` in a fresh browser."""
    from browser import start_chromium

    with tempfile.TemporaryDirectory() as profile:
        driver = start_chromium(profile)
        try:
            t0 = time.perf_counter()
            driver.get(f"{base}practice.html?example={example}")
            while not driver.execute_script("return document.body.dataset.checked"):
                if time.perf_counter() - t0 > 300:
                    raise RuntimeError(driver.find_element("id", "status").text)
                time.sleep(0.05)
            wall = (time.perf_counter() - t0) * 1000
            times = driver.execute_script("return window.practiceTimes")
        finally:
            driver.quit()
    return {"pyodide": times["pyodide"], "package": times["package"], "load": times["load"],
            "check": times["firstCheck"], "wall": wall}


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pyodide", default=str(ROOT / "node_modules" / "pyodide"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        write_site(out, args.pyodide, worksheets=blank_worksheets())
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=out))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        print(f"practice page, Pyodide served from 127.0.0.1, median of {args.rounds} rounds (ms)\n")
        print("| example | claims | Pyodide start | package unpack + import | load (ready) | first check "
              "| navigation to verdicts |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        try:
            for example, claims in (("seed003", 11), ("seed004", 39)):
                rounds = [measure(base, example) for _ in range(args.rounds)]
                med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
                print(f"| {example} | {claims} | {med['pyodide']:,.0f} | {med['package']:,.0f} | "
                      f"{med['load']:,.0f} | {med['check']:,.0f} | {med['wall']:,.0f} |")
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
