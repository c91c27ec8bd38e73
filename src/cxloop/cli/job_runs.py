"""What ``cxloop surveys tick`` and ``cxloop loop tick`` share: ``--now`` read as naive UTC, and
the table of what each job did (exit 1 when one failed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from cxloop.cli.context import console, errors
from cxloop.errors import Invalid

if TYPE_CHECKING:
    from cxloop.jobs.tick import JobOutcome


def parse_now(text: str | None) -> dt.datetime | None:
    """``--now`` as naive UTC (a time with an offset is converted; one without is UTC)."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("is not a date-time such as 2026-12-07T09:45 (UTC)", "now", text) from None
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def show_outcomes(title: str, outcomes: Mapping[str, JobOutcome]) -> None:
    """One row per job (its counts, or why it failed); ``typer.Exit(1)`` when any failed."""
    table = Table(title=title)
    table.add_column("job")
    table.add_column("result", overflow="fold")
    table.add_column("seconds", justify="right")
    for name, outcome in outcomes.items():
        shown = (
            f"failed: {outcome.error}"
            if outcome.error
            else ", ".join(f"{k} {v}" for k, v in outcome.counts.items()) or "–"
        )
        table.add_row(name, shown, f"{outcome.seconds:.2f}")
    console.print(table)
    failed = [n for n, o in outcomes.items() if o.error]
    if failed:
        errors.print(
            f"error: {len(failed)} job(s) failed ({', '.join(failed)}); the others ran",
            highlight=False,
        )
        raise typer.Exit(1)
