"""The README is executed: its ``$ cxloop …`` examples run against the demo store, section by
section in README order, and what they print must keep the shape the README shows (the same
lines and table headers, numbers aside; the same exit status). Its reference ``cxloop`` lines
must name commands that exist."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from cxloop.cli.app import app
from tests.cli.support import run_in_process
from tests.readme_examples import (
    README,
    Command,
    bash_invocations,
    commands,
    missing_lines,
    named_files,
)

TEXT = README.read_text(encoding="utf-8")
SECTIONS = [
    (section, list(group)) for section, group in groupby(commands(TEXT), key=lambda c: c.section)
]
CXLOOP = Path(sys.executable).with_name("cxloop")
WIDTH = "120"
"""The terminal width the README's tables were printed at."""


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The store ``cxloop demo`` builds (its company, teams, logins, rules and cases in every
    status, follow-ups answered) at ``cxloop-demo/demo.db``, where the command puts it: the
    README's examples are what a reader who ran ``make demo`` gets."""
    root = tmp_path_factory.mktemp("readme-demo")
    folder = root / "cxloop-demo"
    result = CliRunner().invoke(app, ["demo", "--folder", str(folder), "--no-serve"])
    assert result.exit_code == 0, result.output
    yield root


def _run(command: Command, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The example through the ``cxloop`` entry point, in this process (a process per example
    was ~1.7 s of CPU, ~145 examples); ``CXLOOP_TEST_CLI_PROCESS=1`` runs the installed script."""
    if os.environ.get("CXLOOP_TEST_CLI_PROCESS") == "1":
        return subprocess.run(
            [str(CXLOOP), *command.argv[1:]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    return run_in_process(command.argv[1:], cwd=cwd, env=env)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("section", "examples"), SECTIONS, ids=[s or "preamble" for s, _ in SECTIONS]
)
def test_readme_examples_print_what_the_readme_shows(
    section: str, examples: list[Command], demo_folder: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    shutil.copytree(demo_folder, work)
    shutil.copytree(README.parent / "examples", work / "examples")  # paths as from the repo root
    for name, content in named_files(TEXT).items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(content, encoding="utf-8")
    env = {
        **os.environ,
        "CXLOOP_DATABASE_URL": "sqlite:///cxloop-demo/demo.db",
        "COLUMNS": WIDTH,
        "NO_COLOR": "1",
        "TERM": "dumb",
    }
    problems = []
    for command in examples:
        if command.argv[:1] == ["export"]:
            name, _, value = command.argv[1].partition("=")
            env[name] = value
            continue
        assert command.argv[:1] == ["cxloop"], (
            f"README line {command.line}: only `$ cxloop …` and `$ export …` examples can run"
        )
        result = _run(command, work, env)
        printed = result.stdout + result.stderr
        assert "Traceback" not in printed, f"README line {command.line}: {printed[-2000:]}"
        failed = result.returncode != 0
        if failed != command.expects_error:
            problems.append(
                f"line {command.line} `{' '.join(command.argv)}` exited {result.returncode}:\n"
                f"{printed[-1500:]}"
            )
            continue
        missing = missing_lines(command.expected, printed)
        if missing:
            problems.append(
                f"line {command.line} `{' '.join(command.argv)}` no longer prints:\n"
                + "\n".join(missing)
                + f"\n--- it printed:\n{printed[-3000:]}"
            )
    assert not problems, "\n\n".join(problems)


def _resolve(words: list[str]) -> str | None:
    """Why the words do not name a command of the CLI, or None when they do."""
    group = typer.main.get_command(app)
    context = click.Context(group)
    command: click.Command = group
    for word in words:
        if not isinstance(command, click.Group) or word.startswith(("-", "<")):
            return None
        found = command.get_command(context, word)
        if found is None:
            if word.isupper() or "|" in word or "/" in word or "." in word:
                return None  # a placeholder or an argument
            return f"`{word}` is not a command of `{command.name}`"
        command = found
    return None


def test_readme_reference_lines_name_real_commands() -> None:
    wrong = [
        f"README line {line}: cxloop {' '.join(words)}: {why}"
        for line, words in bash_invocations(TEXT)
        if (why := _resolve(words))
    ]
    wrong += [
        f"README line {c.line}: {' '.join(c.argv)}: {why}"
        for _, examples in SECTIONS
        for c in examples
        if c.argv[:1] == ["cxloop"] and (why := _resolve(c.argv[1:]))
    ]
    assert not wrong, "\n".join(wrong)


def test_the_readme_has_examples_to_run() -> None:
    """The parser finds the examples (a README reformatted past it would pass vacuously)."""
    runnable = [c for _, examples in SECTIONS for c in examples if c.argv[:1] == ["cxloop"]]
    assert len(runnable) >= 15
    assert any(c.expects_error for c in runnable)
    assert "targets.yaml" in named_files(TEXT) or "map.yaml" in named_files(TEXT)
