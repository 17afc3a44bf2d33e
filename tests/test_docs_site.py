"""The documentation site: every guide page is in mkdocs.yml's nav, and ``mkdocs build --strict``
passes (skipped with a reason when the docs extra is not installed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text[text.index("\nnav:"):]
    return re.findall(r":\s*(\S+\.md)\s*$", nav, re.M)


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    nav = _nav_pages()
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert sorted(nav) == pages
    assert len(nav) == len(set(nav)) and nav[0] == "index.md"
    assert {"grading.md", "site.md", "format.md", "bugs.md", "api.md", "limits.md", "lesson-page.md",
            "speed-compile.md"} <= set(nav)


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install -e '.[docs]')")
    pytest.importorskip("mkdocstrings", reason="the docs extra is not installed (pip install -e '.[docs]')")
    pytest.importorskip("material", reason="the docs extra is not installed (pip install -e '.[docs]')")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    assert "load_derivation" in api and "grade_folder" in api  # the reference comes from the docstrings
    bugs = (tmp_path / "bugs" / "index.html").read_text(encoding="utf-8")
    assert "leaves the other factor out" in bugs and "misconceptions as data" in bugs.lower()
    # the shipped seed003's pictures are embedded: its network with the slips marked, its stepper page
    guide = (tmp_path / "derivations" / "index.html").read_text(encoding="utf-8")
    assert 'src="../images/seed003/network.svg"' in guide and 'src="../images/seed003/stepper.html"' in guide
    assert "WRONG net_o1" in (tmp_path / "images" / "seed003" / "network.svg").read_text(encoding="utf-8")
    assert (tmp_path / "images" / "practice.png").stat().st_size > 10_000
