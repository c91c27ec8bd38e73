"""The shared ``--since/--until/--last/--where`` options of every command that analyses the
store, and the ``Scope`` they make (rules in ``cxloop.metrics.filters``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from cxloop.metrics.filters import Scope

Since = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Keep from this moment (inclusive, UTC): 2025-10-01, 2025-10-01T08:00, or a period "
        "2025-10 / 2025-Q4 / 2025-W43 / 2025.",
    ),
]
Until = Annotated[
    str | None,
    typer.Option(
        "--until",
        help="Keep through this date or period (2025-10-31 keeps all of 31 October; 2025-Q3 "
        "keeps through 30 September); a date-time is an exclusive end.",
    ),
]
Last = Annotated[
    str | None,
    typer.Option(
        "--last",
        help="The last 30d / 12w / 6m / 1y before now (or before --until); not with --since.",
    ),
]
Where = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        help="field=value, repeatable (one field repeated: any of its values): segment, region, "
        "channel, touchpoint, account, role, language.",
    ),
]


def scope_from_options(
    since: str | None = None,
    until: str | None = None,
    last: str | None = None,
    where: list[str] | None = None,
    *,
    now: dt.datetime | None = None,
) -> Scope:
    """The ``Scope`` of the options; ``Invalid`` (exit 2 through the CLI's error handler)
    names each bad value."""
    from cxloop.metrics.filters import parse_scope

    return parse_scope(
        since, until, last, where or (), now=now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    )
