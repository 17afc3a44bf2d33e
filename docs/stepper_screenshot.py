"""Take README's screenshot of the stepper page: docs/images/stepper.png.

    python docs/stepper_screenshot.py [--out docs/images/stepper.png]

Writes the stepper page of the shipped example seed004 (the 2-2-2 network), opens it in
headless Chromium (Debian's ``chromium`` and ``chromedriver``, driven by selenium, set up
as in the tests: tests/browser.py), goes to the backward step where the two paths into
``out_h1`` meet (dE/dout_h1, the sum over the output layer), and saves the window as PNG.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from autograd_tiny import to_html  # noqa: E402
from autograd_tiny.derivation import load_example  # noqa: E402

#: The step shown: the step label's ending.
STEP = "backward pass, dE/dout_h1"


def main(argv: list[str] | None = None) -> int:
    """Write the screenshot; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images" / "stepper.png"))
    args = parser.parse_args(argv)
    from browser import start_chromium

    with tempfile.TemporaryDirectory() as tmp:
        page = to_html(load_example("seed004")).write(Path(tmp) / "seed004.html")
        driver = start_chromium(str(Path(tmp) / "profile"))
        try:
            driver.set_window_size(1400, 860)
            driver.get(page.as_uri())
            found = driver.execute_script("""
                const s = document.getElementById('step');
                for (let k = 0; k <= parseInt(s.max); k++) {
                  s.value = String(k); s.dispatchEvent(new Event('input'));
                  if (document.getElementById('step-label').textContent.endsWith(arguments[0])) return k;
                }
                return -1;""", STEP)
            if found < 0:
                print(f"no step ends with {STEP!r}", file=sys.stderr)
                return 1
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(args.out)
        finally:
            driver.quit()
    print(f"wrote {args.out} (step {found})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
