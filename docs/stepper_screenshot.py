"""Take the lesson page's screenshots: docs/images/stepper.png and docs/images/lesson-*.png.

    python docs/stepper_screenshot.py [--out docs/images/stepper.png] [--only-main]

Writes the lesson pages of the shipped examples seed004 (the demo's 2-2-2 network),
seed003 (a derivation with slips) and seed002_batch (a hinted slip replayed: "your numbers")
and of a small expression (f = (x + y) z, drawn as a circuit), opens them in headless
Chromium (Debian's ``chromium`` and ``chromedriver``, driven by selenium, set up as in the
tests: tests/browser.py), goes to a step of each and saves the window as PNG: README's
picture (seed004 at the backward step where the two paths into ``out_h1`` meet, dE/dout_h1)
and docs/lesson-page.md's, each at 1400x1000 and 800x900, and "your numbers" of
seed002_batch at 1280x800.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from circuit import circuit_file  # noqa: E402

from autograd_tiny import load_derivation, to_html  # noqa: E402
from autograd_tiny.derivation import load_example  # noqa: E402

#: README's picture: the step shown (the step label's ending) and the window size.
STEP = "backward pass, dE/dout_h1"


#: f = (x + y) z with df/dy written with its sign flipped, as the lesson page's circuit.
CIRCUIT = circuit_file("f = (x + y) z, by hand", '''q = 3
f = -12
"df/dq" = -4
"df/dz" = 3
"df/dx" = -4
"df/dy" = 4
''')

#: docs/lesson-page.md's pictures: name, page, the step shown (label ending), viewport sizes.
SHOTS = [
    ("demo", "seed004", "backward pass, dE/dout_h1"),
    ("seed003", "seed003", "update, w1+"),
    ("circuit", "circuit", "backward pass, df/dy"),
]
SIZES = [(1400, 1000), (800, 900)]

#: "Your numbers": the page, the step shown, the claim whose slip is replayed, the window size.
YOURS = ("seed002_batch", "backward pass, dE/dnet_Z1[1]", "dE/dnet_D0[1]", (1280, 800))


def _viewport(driver: Any, width: int, height: int) -> None:
    """Resize the window so that the page's viewport is ``width`` x ``height``."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def _shoot(driver: Any, page: Path, size: tuple[int, int] | None, ending: str, out: Path,
           yours: str | None = None) -> int:
    """Open ``page``, go to the step whose label ends with ``ending`` (with ``yours``, show that
    claim's slip replayed: "your numbers"), save ``out``; return the step."""
    driver.get("about:blank")
    if size is None:
        driver.set_window_size(1400, 860)
    else:
        _viewport(driver, *size)
    driver.get(page.as_uri())
    found: int = driver.execute_script("""
        const s = document.getElementById('step');
        for (let k = 0; k <= parseInt(s.max); k++) {
          s.value = String(k); s.dispatchEvent(new Event('input'));
          if (document.getElementById('step-label').textContent.endsWith(arguments[0])) return k;
        }
        return -1;""", ending)
    if found < 0:
        raise SystemExit(f"{page.name}: no step ends with {ending!r}")
    if yours is not None and not driver.execute_script("""
            const b = Array.from(document.querySelectorAll('#claims button.yours-btn'))
              .find(b => b.dataset.claim === arguments[0]);
            if (b) b.click();
            return Boolean(b);""", yours):
        raise SystemExit(f"{page.name}: no 'your numbers' for {yours!r} at step {found}")
    out.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(out))
    print(f"wrote {out} (step {found})")
    return found


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images" / "stepper.png"))
    parser.add_argument("--only-main", action="store_true", help="README's picture only")
    args = parser.parse_args(argv)
    from browser import start_chromium

    with tempfile.TemporaryDirectory() as tmp:
        pages = {
            "seed004": to_html(load_example("seed004")).write(Path(tmp) / "seed004.html"),
            "seed003": to_html(load_example("seed003")).write(Path(tmp) / "seed003.html"),
            "circuit": to_html(load_derivation(CIRCUIT)).write(Path(tmp) / "circuit.html"),
            "seed002_batch": to_html(load_example("seed002_batch")).write(Path(tmp) / "batch.html"),
        }
        driver = start_chromium(str(Path(tmp) / "profile"))
        try:
            _shoot(driver, pages["seed004"], None, STEP, Path(args.out))
            if not args.only_main:
                for name, page, ending in SHOTS:
                    for w, h in SIZES:
                        out = ROOT / "docs" / "images" / f"lesson-{name}-{w}x{h}.png"
                        _shoot(driver, pages[page], (w, h), ending, out)
                page, ending, claim, (w, h) = YOURS
                _shoot(driver, pages[page], (w, h), ending,
                       ROOT / "docs" / "images" / f"lesson-yours-{w}x{h}.png", claim)
        finally:
            driver.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
