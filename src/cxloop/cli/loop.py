"""``cxloop loop tick``: the loop's jobs once, then the outbox — what cron runs where no
``cxloop serve`` keeps the clock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cxloop.cli.context import existing_store
from cxloop.cli.job_runs import parse_now, show_outcomes
from cxloop.cli.lazy import lazy_module
from cxloop.errors import Invalid

if TYPE_CHECKING:
    from cxloop.jobs import loop_jobs, tick
else:
    loop_jobs = lazy_module("cxloop.jobs.loop_jobs")
    tick = lazy_module("cxloop.jobs.tick")

OUTBOX = "notify.deliver_due"


def tick_command(
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Act as if it were this time (UTC unless it has an offset: "
            "2026-12-07T09:45+08:00); for replays and tests.",
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Only this job (repeat): loop.evaluate_feedback, loop.evaluate_metric_alerts, "
            "loop.fire_timers, loop.followups, notify.deliver_due; default all of them.",
        ),
    ] = None,
) -> None:
    """Run the loop's jobs once: alert rules on new feedback, SLA warnings and escalations with
    their notices, follow-ups, then the outbox (cron this, or let `cxloop serve` run it)."""
    allowed = (*loop_jobs.LOOP_JOBS, OUTBOX)
    chosen = list(dict.fromkeys(only)) if only else list(allowed)
    unknown = [name for name in chosen if name not in allowed]
    if unknown:
        raise Invalid(f"is not a loop job ({', '.join(allowed)})", "only", ", ".join(unknown))
    moment = parse_now(now)
    store = existing_store()
    try:
        outcomes = tick.run(
            store.settings, moment, [n for n in chosen if n != OUTBOX], sessions=store.sessions
        )
        if OUTBOX in chosen:  # last: what the loop's jobs queued goes out in the same run
            outcomes |= tick.run(store.settings, moment, [OUTBOX], sessions=store.sessions)
    finally:
        store.close()
    show_outcomes("loop jobs", outcomes)
