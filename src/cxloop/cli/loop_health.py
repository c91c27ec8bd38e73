"""``cxloop loop health``: how fast and how well the loop works, by team, owner, topic or
priority, and whether recovered detractors stay (the numbers ``GET /api/v1/loop/health`` gives)."""

from __future__ import annotations

import datetime as dt
import enum
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxloop.cli.context import console, existing_store, unit_of_work
from cxloop.cli.filters import Last, Since, Until

if TYPE_CHECKING:
    from cxloop.loop.health import HealthRow, Rate, Spread
    from cxloop.loop.recovery import ChurnComparison


class HealthFormat(enum.StrEnum):
    text = "text"
    json = "json"


class By(enum.StrEnum):
    team = "team"
    owner = "owner"
    topic = "topic"
    priority = "priority"


def health_command(
    by: Annotated[
        By | None, typer.Option(help="One row per team, owner, topic or priority.")
    ] = None,
    since: Since = None,
    until: Until = None,
    last: Last = None,
    min_n: Annotated[
        int, typer.Option("--min-n", min=1, help="Under this many, a measure says 'too few'.")
    ] = 10,
    output: Annotated[
        HealthFormat, typer.Option("--format", help="text or json.")
    ] = HealthFormat.text,
) -> None:
    """Loop health: response and resolution times, SLA compliance, backlog, reopen,
    verification and recovery rates, and whether recovered customers stay.

    Cases opened in the period (default: the last 90 days); the backlog is every case open now.
    """
    from cxloop.loop.health_store import loop_health
    from cxloop.metrics.filters import parse_scope

    now = dt.datetime.now(dt.UTC)
    scope = parse_scope(since, until, last, (), now=now.replace(tzinfo=None))
    store = existing_store()
    with unit_of_work(store) as session:
        result = loop_health(
            session=session,
            settings=store.settings,
            now=now,
            by=by.value if by else None,
            since=scope.since,
            until=scope.until,
            min_n=min_n,
        )
    if output is HealthFormat.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    console.print(
        f"loop health · cases opened {result.since:%Y-%m-%d %H:%M} … {result.until:%Y-%m-%d %H:%M}"
        f" UTC · too few under n {result.min_n}",
        highlight=False,
    )
    console.print(f"times: {result.hours}", highlight=False)
    table = Table(title=f"by {result.by}" if result.by else None)
    table.add_column("measure")
    for row in result.rows:
        table.add_column(row.group, justify="right")
    for name, cell in _LINES:
        table.add_row(name, *(cell(row) for row in result.rows))
    console.print(table)
    _churn(result.churn)


def _spread(spread: Spread) -> str:
    """``median · p90 (n)`` in hours; ``too few (n 3)``; a dash for none."""
    if spread.n == 0 or spread.median is None or spread.p90 is None:
        return "–"
    if spread.too_few:
        return f"too few (n {spread.n})"
    return f"{spread.median:.1f} · {spread.p90:.1f} (n {spread.n})"


def _rate(rate: Rate) -> str:
    """``40 % (2/5)``; ``too few (2/5)``; a dash for none."""
    if rate.n == 0 or rate.rate is None:
        return "–"
    if rate.too_few:
        return f"too few ({rate.hits}/{rate.n})"
    return f"{100 * rate.rate:.0f} % ({rate.hits}/{rate.n})"


_LINES: tuple[tuple[str, Callable[[HealthRow], str]], ...] = (
    ("cases opened", lambda r: str(r.cases)),
    ("first response h, business (median · p90)", lambda r: _spread(r.first_response_hours)),
    ("first response h, wall clock", lambda r: _spread(r.first_response_wall_hours)),
    ("resolution h, business (median · p90)", lambda r: _spread(r.resolution_hours)),
    ("resolution h, wall clock", lambda r: _spread(r.resolution_wall_hours)),
    ("first response SLA met", lambda r: _rate(r.first_response_sla)),
    ("resolution SLA met", lambda r: _rate(r.resolution_sla)),
    ("backlog (open now)", lambda r: str(r.backlog)),
    ("ageing <1d / 1-3d / 3-7d / >7d", lambda r: " / ".join(map(str, r.ageing.values()))),
    ("reopened / resolved", lambda r: _rate(r.reopen)),
    ("verified by follow-up", lambda r: _rate(r.verification)),
    ("detractors recovered", lambda r: _rate(r.recovery)),
    ("detractors, no next answer yet", lambda r: str(r.no_next_answer)),
)


def _churn(churn: ChurnComparison) -> None:
    console.print(f"does the loop keep customers? {churn.verdict}", highlight=False)
    if churn.churn_recovered is not None and churn.churn_unrecovered is not None:
        console.print(
            f"  churned after the next answer: recovered {100 * churn.churn_recovered:.1f} % of "
            f"{churn.n_recovered}, unrecovered {100 * churn.churn_unrecovered:.1f} % of "
            f"{churn.n_unrecovered}",
            highlight=False,
        )
    for caveat in churn.caveats:
        console.print(f"  {caveat}", highlight=False)
