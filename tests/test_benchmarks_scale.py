"""Smoke runs of benchmarks/scaling.py and benchmarks/eager_gc.py: they run and print their tables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600,
                            cwd=ROOT, env=env, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_scaling_table_smoke_run() -> None:
    out = _run("benchmarks/scaling.py", "--widths", "3", "--samples", "4", "--rounds", "1")
    header = next(line for line in out.splitlines() if line.startswith("| W |"))
    row = next(line for line in out.splitlines() if line.startswith("| 3 | 4 |"))
    cells = dict(zip([c.strip() for c in header.split("|")], [c.strip() for c in row.split("|")]))
    assert int(cells["nodes"].replace(",", "")) > 100
    # Every figure was measured (the configuration would have failed otherwise).
    assert float(cells["compile peak B/node"]) >= 0 and float(cells["code B/node"]) > 0
    assert cells["eager / compiled"].endswith("x")


def test_eager_gc_smoke_run() -> None:
    out = _run("benchmarks/eager_gc.py", "--samples", "1", "2", "--rounds", "1")
    assert "| 1 | 13,125 |" in out  # a 2-64-64-1 MLP on one sample is 13,125 nodes
    assert "largest / smallest time per node" in out
