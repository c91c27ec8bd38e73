"""Sub-commands imported when they run, not when ``cxloop --help`` lists them.

Each command module pulls in its domain (pandas, Ibis, scikit-learn, SQLAlchemy: seconds of
imports). A listing needs only names and one line of help, so those are kept here, and a
module is imported only when one of its commands is run or asked for its own ``--help``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import typer
import typer.main
from typer import _click as click  # Typer 0.29 carries its own click: the classes it extends
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Lazy:
    """Where a sub-command lives (``"module:attr"``) and the line of help listings show.

    ``kind``: ``app`` (a ``typer.Typer``), ``command`` (a command function) or ``factory`` (a
    function returning a ``typer.Typer``, for a group assembled from several modules).
    """

    target: str
    help: str
    kind: Literal["app", "command", "factory"] = "app"

    def load(self, name: str) -> click.Command:
        module, _, attribute = self.target.partition(":")
        found: Any = getattr(importlib.import_module(module), attribute)
        command: click.Command
        if self.kind == "command":
            holder = typer.Typer()
            holder.command(name)(found)
            command = typer.main.get_command(holder)
        else:  # a group even with one command, as ``add_typer`` makes it (``token create``)
            command = typer.main.get_group(found() if self.kind == "factory" else found)
        command.name = name
        return command


class LazyGroup(TyperGroup):
    """A Typer group whose ``lazy`` entries (set by a subclass) load on first use; listing
    them (``--help``) shows their stored help line and imports nothing."""

    lazy: dict[str, Lazy] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        eager = [n for n in super().list_commands(ctx) if n not in self.lazy]
        commands = [n for n, e in self.lazy.items() if e.kind == "command"]
        groups = [n for n, e in self.lazy.items() if e.kind != "command"]
        return [*commands, *eager, *groups]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        entry = self.lazy[cmd_name]
        if self._listing:
            return TyperCommand(name=cmd_name, help=entry.help)
        command = entry.load(cmd_name)
        self.add_command(command, cmd_name)
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def lazy_module(name: str) -> ModuleType:
    """``name``, executed on its first attribute access (the standard library's ``LazyLoader``):
    a command module can name a service at the top and still start without importing it.

    Use as ``if TYPE_CHECKING: from x import service`` / ``else: service = lazy_module(...)``
    so type checking sees the real module.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
