"""Take the practice site's screenshot: docs/images/practice.png.

    python docs/practice_screenshot.py [--out docs/images/practice.png] [--pyodide DIR]

Builds the practice site with the local Pyodide (``npm install pyodide@314.0.7``; default
``node_modules/pyodide``), serves it from 127.0.0.1, opens the blank 2-2-2 worksheet in
headless Chromium (set up as in the tests: tests/browser.py), fills the form with the
figures of the forward and backward pass, one of them with its sign flipped, presses
Check and saves the window as PNG.
"""

from __future__ import annotations

import argparse
import functools
import re
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
from autograd_tiny.commands.worksheet import worksheet  # noqa: E402
from autograd_tiny.html.site import write_site  # noqa: E402


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def main(argv: list[str] | None = None) -> int:
    """Write the screenshot; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images" / "practice.png"))
    parser.add_argument("--pyodide", default=str(ROOT / "node_modules" / "pyodide"))
    args = parser.parse_args(argv)
    from browser import start_chromium

    _, answers = worksheet([2, 2, 2], "sigmoid", "half_squared_error", 0.5, 0)
    figures = dict(re.findall(r'^"?([^"=\s]+)"? = (\S+)$', answers.split("[claims]\n", 1)[1], re.M))
    figures = {name: number for name, number in figures.items() if not name.endswith("+")}
    figures["dE/dw5"] = "-" + figures["dE/dw5"]
    with tempfile.TemporaryDirectory() as tmp:
        write_site(Path(tmp) / "site", args.pyodide, worksheets=blank_worksheets())
        handler = functools.partial(_Quiet, directory=str(Path(tmp) / "site"))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        driver = start_chromium(str(Path(tmp) / "profile"))
        try:
            driver.set_window_size(1400, 1000)
            driver.get(f"http://127.0.0.1:{server.server_address[1]}/practice.html?example=worksheet-2-2-2")
            end = time.monotonic() + 300
            while not driver.execute_script("return document.body.dataset.ready"):
                if time.monotonic() > end:
                    print("the page did not get ready", file=sys.stderr)
                    return 1
                time.sleep(0.2)
            driver.execute_script("""
                for (const input of document.querySelectorAll('#form input[data-claim]')) {
                  const v = arguments[0][input.dataset.claim];
                  if (v !== undefined) input.value = v;
                }""", figures)
            driver.find_element("id", "check").click()
            driver.execute_script("window.scrollTo(0, 130)")
            driver.save_screenshot(args.out)
        finally:
            driver.quit()
            server.shutdown()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
