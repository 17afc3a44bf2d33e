"""The notebooks are kept as jupytext percent scripts (notebooks/NN_*.py) paired with executed
.ipynb files: every script has its notebook, with the same cells, and pytest runs only the .ipynb."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import autograd_tiny

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
#: The notebooks' scripts, NN_name.py; conftest.py and the helper module _walkthrough.py are not notebooks.
SCRIPTS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))

#: Notebooks that need a part of the library that may not be there yet: script -> attribute.
NEEDS = {"05_stepper.py": "to_html"}


def cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def test_every_notebook_has_its_script_and_the_pairing_is_configured() -> None:
    assert SCRIPTS, "no notebook scripts found"
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert {p.stem for p in notebooks} <= {p.stem for p in SCRIPTS}
    config = tomllib.loads((NOTEBOOKS / "jupytext.toml").read_text(encoding="utf-8"))
    assert config["formats"] == "ipynb,py:percent"
    assert not (NOTEBOOKS / "build.py").exists()  # the scripts are the source now
    # the helper the article notebooks import is a module, not a notebook: no pair of its own
    assert (NOTEBOOKS / "_walkthrough.py").exists() and not (NOTEBOOKS / "_walkthrough.ipynb").exists()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_and_notebook_have_the_same_cells(script: Path) -> None:
    jupytext = pytest.importorskip("jupytext", reason="jupytext is not installed")
    notebook = script.with_suffix(".ipynb")
    needed = NEEDS.get(script.name)
    if needed and not hasattr(autograd_tiny, needed) and not notebook.exists():
        pytest.skip(f"{script.name} needs autograd_tiny.{needed}; pair and execute it once that exists")
    assert notebook.exists(), f"run: jupytext --sync {script.relative_to(ROOT)} and execute the notebook"
    text, ipynb = jupytext.read(script), jupytext.read(notebook)
    assert text.cells, f"{script.name} has no cells"
    assert cells(text) == cells(ipynb), (
        f"{script.name} and {notebook.name} differ: run jupytext --sync {script.relative_to(ROOT)}")
    code = [c for c in ipynb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), f"{notebook.name} is not executed"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), \
        f"{notebook.name} was not executed top to bottom in one run"


def test_pytest_collects_the_notebooks_and_not_their_scripts() -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly",
                             "notebooks"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    items = [line for line in result.stdout.splitlines() if "::" in line or line.endswith(".ipynb")]
    assert items, result.stdout
    assert all(".ipynb" in line for line in items), items
    expected = {p.name for p in NOTEBOOKS.glob("*.ipynb")}
    assert {Path(line.split("::")[0]).name for line in items} == expected
