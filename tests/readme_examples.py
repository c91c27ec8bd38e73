"""The README's command examples as data: the ``$ cxloop …`` lines of its console blocks with
the output printed under them, the files its blocks name (``# targets.yaml`` as a block's first
line), and the command names of its ``bash`` blocks.

The README test runs these against the demo store, so an example that drifts from what the
command prints fails the build (two had drifted before this test existed)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w*)\s*$")
NAMED_FILE = re.compile(r"^#\s*([\w./-]+\.(?:ya?ml|csv|jsonl?|txt))\b")
BOX = re.compile(r"[\u2500-\u257f]")
NUMBER = re.compile(r"[+\-−]?[¥$€£]?\d[\d,]*(?:\.\d+)?%?")
SPACES = re.compile(r"\s+")


@dataclass
class Command:
    """One ``$ …`` line, the output under it, and where it stands in the README."""

    line: int
    section: str
    argv: list[str]
    expected: list[str] = field(default_factory=list)

    @property
    def expects_error(self) -> bool:
        return any(out.lstrip().startswith("error:") for out in self.expected)


@dataclass
class Block:
    line: int
    lang: str
    section: str
    lines: list[str]


def blocks(text: str) -> list[Block]:
    """Every fenced block with its language and the ``##`` section above it."""
    found: list[Block] = []
    section = ""
    current: Block | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        fence = FENCE.match(line)
        if current is None:
            if line.startswith("## "):
                section = line[3:].strip()
            elif fence:
                current = Block(number, fence.group(1), section, [])
        elif line.strip() == "```":
            found.append(current)
            current = None
        else:
            current.lines.append(line)
    return found


def commands(text: str) -> list[Command]:
    """The ``$ `` lines of console/text blocks, each with the output lines under it."""
    out: list[Command] = []
    for block in blocks(text):
        if block.lang not in ("console", "text", "shell"):
            continue
        current: Command | None = None
        for offset, line in enumerate(block.lines, start=1):
            if line.startswith("$ "):
                command_text = line[2:].split("  #", 1)[0].strip()
                current = Command(block.line + offset, block.section, shlex.split(command_text))
                out.append(current)
            elif current is not None:
                current.expected.append(line)
    return out


def named_files(text: str) -> dict[str, str]:
    """Blocks whose first line is a comment naming a file (``# targets.yaml``): name → text."""
    files: dict[str, str] = {}
    for block in blocks(text):
        if block.lines and (named := NAMED_FILE.match(block.lines[0])):
            files[named.group(1)] = "\n".join(block.lines) + "\n"
    return files


def bash_invocations(text: str) -> list[tuple[int, list[str]]]:
    """``cxloop …`` lines of ``bash`` blocks (reference lines, not run): line and words."""
    found: list[tuple[int, list[str]]] = []
    for block in blocks(text):
        if block.lang not in ("bash", "sh"):
            continue
        for offset, line in enumerate(block.lines, start=1):
            words = line.split("#", 1)[0].split()
            if words[:1] == ["cxloop"]:
                found.append((block.line + offset, words[1:]))
    return found


def skeleton(line: str) -> str:
    """A line without its numbers, box drawing and spacing: what stays when the data moves."""
    return SPACES.sub(" ", NUMBER.sub("#", BOX.sub(" ", line))).strip()


def cells(line: str) -> list[str]:
    """The cells of a rich table row (``│ a │ b │``), skeletonised."""
    return [skeleton(c) for c in re.split(r"[│┃]", line)[1:-1]]


def is_table_line(line: str) -> bool:
    return "│" in line or "┃" in line


def missing_lines(expected: list[str], actual: str) -> list[str]:
    """Expected lines whose shape is not in the actual output.

    Plain lines must appear (numbers aside); a table's header must match cell for cell; a
    table's rows must each find a row with the same first cell (values may move, labels may
    not). Elided lines (``...``/``…``) and rows continuing a wrapped cell are not compared."""
    actual_lines = actual.splitlines()
    plain = {skeleton(a) for a in actual_lines if not is_table_line(a)}
    headers = [cells(a) for a in actual_lines if "┃" in a]
    first_cells = {cells(a)[0] for a in actual_lines if "│" in a and cells(a)}
    missing = []
    for line in expected:
        shape = skeleton(line)
        if not shape or shape in ("...", "…") or shape.startswith(("# ...", "# …")):
            continue
        if "┃" in line:
            if cells(line) not in headers:
                missing.append(line)
        elif "│" in line:
            row = cells(line)
            if row and row[0] and row[0] not in first_cells:
                missing.append(line)
        elif shape not in plain:
            missing.append(line)
    return missing
