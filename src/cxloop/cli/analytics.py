"""``cxloop analytics snapshot refresh|status``: the analytics snapshot (DuckDB over Parquet)
that dashboards and metrics read at a million answers, and whether they read it now."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cxloop.cli.context import console, existing_store


class Format(enum.StrEnum):
    text = "text"
    json = "json"


OutputFormat = Annotated[Format, typer.Option("--format", help="text or json.")]

analytics_app = typer.Typer(
    help="The analytics snapshot (DuckDB over Parquet) dashboards read at scale.",
    no_args_is_help=True,
)
snapshot_app = typer.Typer(
    help="The analytics snapshot: refresh it, or see whether analytics read it.",
    no_args_is_help=True,
)
analytics_app.add_typer(snapshot_app, name="snapshot")


@snapshot_app.command("refresh")
def refresh_command(
    full: Annotated[
        bool, typer.Option("--full", help="Rebuild every table instead of adding what changed.")
    ] = False,
    folder: Annotated[
        Path | None,
        typer.Option("--dir", help="Snapshot folder (default CXLOOP_ANALYTICS_SNAPSHOT_DIR)."),
    ] = None,
    output: OutputFormat = Format.text,
) -> None:
    """Bring the analytics snapshot up to the store: the feedback changed since its watermark
    (less one hour for late commits) as a new part, or a full build when rows were deleted.

    Personal columns are left out. Imports and `cxloop serve` refresh it on their own when
    CXLOOP_ANALYTICS_SNAPSHOT_DIR is set.
    """
    from cxloop.dashboards.freshness import refresh_snapshot

    store = existing_store()
    settings = store.settings
    store.close()
    done = refresh_snapshot(settings, full=full, folder=folder)
    if output is Format.json:
        sys.stdout.write(done.model_dump_json(indent=2) + "\n")
        return
    console.print(
        f"snapshot {done.folder}: {done.mode} ({done.reason}) in {done.seconds:.1f} s",
        highlight=False,
    )
    stamp = f"{done.watermark:%Y-%m-%d %H:%M:%S}" if done.watermark else "–"
    console.print(
        f"as of {done.as_of:%Y-%m-%d %H:%M:%S} UTC · feedback changed up to {stamp} UTC",
        highlight=False,
    )
    _counts(done.counts)


@snapshot_app.command("status")
def status_command(output: OutputFormat = Format.text) -> None:
    """Whether analytics read the snapshot or the store now, and how fresh the snapshot is."""
    from cxloop.dashboards.freshness import snapshot_status

    store = existing_store()
    settings = store.settings
    store.close()
    status = snapshot_status(settings)
    if output is Format.json:
        sys.stdout.write(status.model_dump_json(indent=2) + "\n")
        return
    console.print(f"reading: {status.reading} · {status.reason}", highlight=False)
    state = status.state
    if state is None:
        return
    parts = sum(len(p) for p in state.parts.values())
    console.print(
        f"folder {status.folder} · generation {state.generation} · last refresh "
        f"{state.refreshed} · {parts} part files",
        highlight=False,
    )
    _counts(state.counts)


def _counts(counts: dict[str, int]) -> None:
    table = Table()
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)
