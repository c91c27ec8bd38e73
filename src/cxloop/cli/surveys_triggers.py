"""``cxloop surveys on …`` and ``cxloop surveys triggers``: surveys sent after events."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxloop.cli.context import console, existing_store, unit_of_work
from cxloop.cli.lazy import lazy_module

if TYPE_CHECKING:
    from cxloop.surveys import trigger_rules as rules
    from cxloop.surveys import triggers
else:
    triggers = lazy_module("cxloop.surveys.triggers")
    rules = lazy_module("cxloop.surveys.trigger_rules")

EVENT_HELP = (
    "order_delivered, subscription_renewed, ticket_closed, milestone_completed (from imported "
    "orders, subscriptions, events, milestones), or api:<name> (POST /api/v1/surveys/events)."
)
COUNT_WORDS = (
    ("duplicate", "already invited for"),
    ("before_trigger", "from before the trigger (not surveyed)"),
    ("no_recipient", "without a recipient"),
)


def on_command(
    survey: Annotated[str, typer.Argument(help="The survey's id.")],
    event: Annotated[str, typer.Option("--event", help=EVENT_HELP)],
    delay: Annotated[
        str, typer.Option(help="After the event: 2d, 36h, 1w, 1d12h, 0 (hours are the unit).")
    ] = "0",
    channel: Annotated[
        str, typer.Option(help="email or webhook (csv: one-off sends only).")
    ] = "email",
    webhook: Annotated[str | None, typer.Option(help="URL for channel webhook.")] = None,
    roles: Annotated[
        list[str] | None,
        typer.Option(
            "--roles",
            help="Account events: the contacts' roles to ask (repeat; default the survey's "
            "required_roles, else every contact).",
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name for the trigger.")] = None,
    expires_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Links expire after (default 14).")
    ] = None,
) -> None:
    """Send a survey after each event of a kind, after a delay (a standing distribution)."""
    from cxloop.surveys.trigger_schemas import TriggerCreate

    trigger_in = TriggerCreate(
        survey_id=survey,
        event=event,
        delay_hours=rules.parse_delay(delay),
        channel=channel,
        webhook_url=webhook,
        roles=roles or [],
        name=name,
        link_days=expires_days,
    )
    store = existing_store()
    with unit_of_work(store) as session:
        made = triggers.create(
            session=session, trigger_in=trigger_in, created_by="cli", settings=store.settings
        )
    who = f" to roles {', '.join(made.roles)}" if made.roles else ""
    console.print(
        f"trigger {made.distribution_id}: {made.survey_id} goes out "
        f"{rules.show_delay(made.delay_hours)} after each {made.event}{who}, by {made.channel}",
        highlight=False,
    )
    console.print(
        f"events from {made.created_at:%Y-%m-%d %H:%M} UTC on are surveyed, older ones are not;\n"
        "`cxloop surveys tick` (or `cxloop surveys triggers --run`) schedules their invitations.",
        highlight=False,
        style="dim",
    )


def triggers_command(
    survey: Annotated[str | None, typer.Argument(help="Only this survey's triggers.")] = None,
    run: Annotated[
        bool, typer.Option("--run", help="Scan for new events first (what tick does).")
    ] = False,
    now: Annotated[
        dt.datetime | None, typer.Option(help="With --run: the current UTC time (tests).")
    ] = None,
) -> None:
    """Standing distributions sent after events, with their events and invitations."""
    store = existing_store()
    with unit_of_work(store) as session:
        if run:
            at = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
            counts = triggers.run_triggers(session=session, settings=store.settings, now=at)
            said = "".join(f", {counts[k]:,} {w}" for k, w in COUNT_WORDS if counts[k])
            console.print(
                f"scanned {counts['distributions']} trigger(s): {counts['events']:,} new "
                f"event(s), {counts['scheduled']:,} scheduled ({counts['invitations']:,} "
                f"invitation(s)){said}",
                highlight=False,
            )
        rows = triggers.list_all(session=session, survey_id=survey)
    if not rows:
        console.print("no triggers yet: `cxloop surveys on SURVEY --event … --delay …` makes one")
        return
    table = Table(title="survey triggers")
    table.add_column("id", no_wrap=True)
    table.add_column("survey", no_wrap=True)
    table.add_column("on event, after", no_wrap=True)
    table.add_column("roles")
    for column in ("events", "scheduled", "sent", "skipped", "answered"):
        table.add_column(column, justify="right")
    notes = []
    for r in rows:
        by = r.invitations
        sent = sum(by.get(s, 0) for s in ("sent", "bounced", "opened", "started", "completed"))
        table.add_row(
            str(r.distribution_id) + ("" if r.status == "active" else f" ({r.status})"),
            r.survey_id,
            f"{r.event} +{rules.show_delay(r.delay_hours)}",
            ", ".join(r.roles) or "–",
            f"{r.events:,}",
            f"{by.get('scheduled', 0):,}",
            f"{sent:,}",
            f"{by.get('skipped', 0):,}",
            f"{by.get('completed', 0):,}",
        )
        seen = r.watermark or r.created_at
        source = (
            "posted to the API"
            if r.event.startswith("api:")
            else f"rows seen to {seen:%Y-%m-%d %H:%M} UTC"
        )
        notes.append(f"trigger {r.distribution_id}: by {r.channel}, {source}")
    console.print(table)
    for note in notes:
        console.print(note, style="dim", highlight=False)
