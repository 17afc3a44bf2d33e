"""The layers contract of pyproject.toml ([tool.importlinter]): a module imports only its own
layer or lower ones, and presentation registers itself from above (autograd_tiny._display_hooks)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_the_layers_contract_is_kept() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    run = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "1 kept, 0 broken" in run.stdout


def test_objects_show_through_the_registered_hooks() -> None:
    # The engine and the checker ask _display_hooks; display and render answer.
    from autograd_tiny import Value
    from autograd_tiny.derivation import load_example

    results = load_example("circuit").check()
    assert results._repr_html_().count("<tr>") == 7  # header + 6 claims
    assert "<svg" in Value(2.0, "x")._repr_mimebundle_()["image/svg+xml"]
    assert "seed 004" in (load_example("seed004")._repr_html_() or "")
