"""autograd_tiny.collector: the cyclic collector's generation-2 threshold for big graphs."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from autograd_tiny import collector

ROOT = Path(__file__).resolve().parents[1]


def _thresholds_after_import(setup: str) -> str:
    code = f"import gc\n{setup}\nimport autograd_tiny\nprint(gc.get_threshold())"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()


def test_import_raises_pythons_default_threshold2_only() -> None:
    # Python 3.11's defaults (700, 10, 10): the oldest generation's 10 becomes 1000
    assert _thresholds_after_import("gc.set_threshold(700, 10, 10)") == "(700, 10, 1000)"
    # and a fresh interpreter's own defaults, whatever this Python's are, the same way
    fresh = subprocess.run([sys.executable, "-c", "import gc; print(gc.get_threshold())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    t0, t1, t2 = (int(t) for t in fresh.strip("()").split(","))
    assert _thresholds_after_import("") == str((t0, t1, 1000 if t2 == 10 else t2))
    # A program that chose its own thresholds keeps them.
    assert _thresholds_after_import("gc.set_threshold(500, 20, 30)") == "(500, 20, 30)"


def test_use_python_default_and_raise_again() -> None:
    before = gc.get_threshold()
    try:
        collector.use_python_default()
        assert gc.get_threshold()[2] == 10
        assert collector.raise_threshold() is True
        assert gc.get_threshold()[2] == collector.GRAPH_THRESHOLD2 == 1000
        assert collector.raise_threshold() is False  # not Python's default any more: left alone
    finally:
        gc.set_threshold(*before)
