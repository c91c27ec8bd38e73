"""Which tool wrote an export: every tool's reader by name, and the sniffing that picks one from
the file's content (header rows, metadata names), never from a user-supplied layout.

Pure: no database. Readers are imported on first use, one module per tool
(``cxloop.surveys.importers.<tool>``), so a tool whose module is not there is simply not offered.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from dataclasses import dataclass
from typing import Protocol, cast

from cxloop.errors import Invalid
from cxloop.surveys.importers.model import TOOLS, Grid, ImportOptions, ParsedExport, Tool

log = logging.getLogger(__name__)

SURE = 0.5
"""The best tool must score at least this to be picked without ``--tool``."""
MARGIN = 0.1
"""…and lead the next one by more than this (two near-equal scores are a guess)."""
UNLIKE = 0.3
"""A tool the user names that scores below this is refused ("looks like X, not Y")."""
PACKAGE = "cxloop.surveys.importers"


@dataclass(frozen=True)
class DefinitionFile:
    """A survey definition file exported by the tool (Qualtrics ``.qsf``, LimeSurvey ``.lss`` or
    ``.lsa``): its name (for messages and to tell the format) and its bytes."""

    name: str
    data: bytes


class Reader(Protocol):
    """What every tool module offers (see the design: ``detect`` and ``parse``)."""

    def detect(self, grid: Grid) -> float: ...

    def parse(
        self, grid: Grid, options: ImportOptions, definition: DefinitionFile | None = None
    ) -> ParsedExport: ...


READERS: dict[Tool, Reader] = {}
"""Tool → its reader module, filled by :func:`readers` with the modules that exist."""


def readers() -> dict[Tool, Reader]:
    """Every tool whose reader module is installed, in ``TOOLS`` order (a module added since the
    last call is picked up)."""
    for tool in TOOLS:
        if tool in READERS:
            continue
        name = f"{PACKAGE}.{tool}"
        if importlib.util.find_spec(name) is None:
            continue
        READERS[tool] = cast(Reader, importlib.import_module(name))
    return {tool: READERS[tool] for tool in TOOLS if tool in READERS}


def reader(tool: str) -> Reader:
    """The reader of ``tool``; ``Invalid`` naming the known tools when there is none."""
    known = readers()
    if tool not in known:
        names = ", ".join(known) or "none installed"
        raise Invalid(f"is not a tool cxloop can import ({names})", "--tool", tool)
    return known[cast(Tool, tool)]


def scores(grid: Grid) -> dict[Tool, float]:
    """Each tool's confidence that it wrote ``grid``, 0..1 (a reader that fails on an odd file
    scores 0 rather than stopping the sniffing of the others)."""
    out: dict[Tool, float] = {}
    for tool, module in readers().items():
        try:
            value = float(module.detect(grid))
        except Exception as exc:  # a sniffer tripping over an odd file is a "no"
            log.debug("%s.detect failed on %s: %s", tool, grid.name, type(exc).__name__)
            value = 0.0
        out[tool] = min(max(value, 0.0), 1.0)
    return out


def detect_tool(grid: Grid) -> Tool:
    """The tool that wrote ``grid``; ``Invalid`` listing every tool's score when none is sure
    (below 0.5) or the best two are within 0.1 of each other."""
    found = scores(grid)
    ranked = sorted(found.items(), key=lambda item: -item[1])
    if (
        ranked
        and ranked[0][1] >= SURE
        and (len(ranked) == 1 or ranked[0][1] - ranked[1][1] > MARGIN)
    ):
        return ranked[0][0]
    shown = ", ".join(f"{tool} {score:.1f}" for tool, score in ranked) or "no readers installed"
    raise Invalid(
        f"cannot tell which tool wrote it ({shown}): name it with --tool, or read any layout "
        "through a column mapping with --columns FILE",
        "file",
        grid.name,
    )


def check_tool(grid: Grid, tool: Tool) -> None:
    """Refuse a named tool the content clearly is not ("looks like surveymonkey, not qualtrics").

    ``wenjuan`` reads any layout through a confirmed column mapping, so it is never refused."""
    if tool == "wenjuan":  # never sniffed: the reader asks for --columns when it is missing
        return
    found = scores(grid)
    if found.get(tool, 0.0) >= UNLIKE:
        return
    best = max(found.items(), key=lambda item: item[1], default=None)
    looks = (
        f"looks like a {best[0]} export ({best[1]:.1f}), not {tool} ({found.get(tool, 0.0):.1f})"
        if best and best[1] >= SURE
        else f"does not look like a {tool} export ({found.get(tool, 0.0):.1f})"
    )
    raise Invalid(f"{looks}: check --tool", "file", grid.name)
