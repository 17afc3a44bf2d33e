"""README.md opens with the two set-up commands, and CI runs exactly the second one; every code
example of README.md and of the guide (docs/*.md) prints what the page shows."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The pages whose examples run: README.md, then the guide's pages in name order.
PAGES = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_readme_opens_with_demo_and_test_commands() -> None:
    commands = _readme_commands()
    assert len(commands) >= 2
    demo, tests = commands[0], commands[1]
    assert "autograd-tiny demo" in demo and "pip install ." in demo
    assert "pytest" in tests and '".[test]"' in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = _readme_commands()[1]
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines


def _python_examples() -> list[tuple[str, int, str, str | None]]:
    """Return ``(page, n, code, output)`` for each ```python block of the pages, with the output
    block right after it (if any)."""
    pattern = re.compile(r"```python\n(.*?)```\n(?:```\n(.*?)```)?", re.S)
    found = []
    for page in PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        found += [(page, n, m.group(1), m.group(2)) for n, m in enumerate(pattern.finditer(text), start=1)]
    return found


def test_pages_have_python_examples() -> None:
    examples = _python_examples()
    assert len(examples) >= 20
    assert {page for page, *_ in examples} >= {"README.md", "docs/engine.md", "docs/grading.md"}


def test_readme_is_short() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) < 200


@pytest.mark.parametrize("page, n, source, expected", _python_examples(),
                         ids=[f"{page}-{n}" for page, n, *_ in _python_examples()])
def test_python_example_prints_what_the_page_says(
    page: str, n: int, source: str, expected: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, f"{page} example {n}", "exec"), {"__name__": "__readme__"})
    if expected is not None:
        assert out.getvalue() == expected


def _console_runs() -> list[tuple[str, str, str]]:
    """Return ``(page, command, output)`` for each complete ``$ autograd-tiny ...`` run shown on the
    pages.

    Runs whose shown output is shortened (a line of ``...``) are left out.
    """
    runs: list[tuple[str, str, str]] = []
    for page in PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        for block in re.findall(r"```console\n(.*?)```", text, re.S):
            for chunk in re.split(r"^(?=\$ )", block, flags=re.M):
                if not chunk.startswith("$ autograd-tiny "):
                    continue
                command, _, output = chunk.partition("\n")
                if any(line.strip() == "..." for line in output.splitlines()):
                    continue
                runs.append((page, command[2:], output))
    return runs


def test_pages_show_complete_command_runs() -> None:
    assert len(_console_runs()) >= 4


@pytest.mark.parametrize("page, command, expected", _console_runs(),
                         ids=[f"{page}: {command[:40]}" for page, command, _ in _console_runs()])
def test_command_prints_what_the_page_says(page: str, command: str, expected: str, tmp_path: Path) -> None:
    args = shlex.split(command)[1:]
    result = subprocess.run([sys.executable, "-m", "autograd_tiny", *args], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.stdout == expected, result.stderr
