"""README.md opens with the two set-up commands, and CI runs exactly the second one."""

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


def _python_examples() -> list[tuple[str, str | None]]:
    """Return each ```python block of README.md with the output block right after it (if any)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    pattern = re.compile(r"```python\n(.*?)```\n(?:```\n(.*?)```)?", re.S)
    return [(m.group(1), m.group(2)) for m in pattern.finditer(text)]


def test_readme_has_python_examples() -> None:
    assert len(_python_examples()) >= 5


@pytest.mark.parametrize("index", range(len(_python_examples())))
def test_readme_python_example_prints_what_readme_says(
    index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, expected = _python_examples()[index]
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, f"README example {index}", "exec"), {"__name__": "__readme__"})
    if expected is not None:
        assert out.getvalue() == expected


def _console_runs() -> list[tuple[str, str]]:
    """Return ``(command, output)`` for each complete ``$ autograd-tiny ...`` run shown in README.md.

    Runs whose shown output is shortened (a line of ``...``) are left out.
    """
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    runs: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        for chunk in re.split(r"^(?=\$ )", block, flags=re.M):
            if not chunk.startswith("$ autograd-tiny "):
                continue
            command, _, output = chunk.partition("\n")
            if any(line.strip() == "..." for line in output.splitlines()):
                continue
            runs.append((command[2:], output))
    return runs


def test_readme_shows_complete_command_runs() -> None:
    assert len(_console_runs()) >= 4


@pytest.mark.parametrize("index", range(len(_console_runs())))
def test_readme_command_prints_what_readme_says(index: int, tmp_path: Path) -> None:
    command, expected = _console_runs()[index]
    args = shlex.split(command)[1:]
    result = subprocess.run([sys.executable, "-m", "autograd_tiny", *args], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.stdout == expected, result.stderr
