"""``cxloop notify …``: the outbox of mails and webhooks, its dead letters, and resends."""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from cxloop.cli.context import console, errors, existing_store, unit_of_work

notify_app = typer.Typer(
    help="Notifications: queued mails and webhooks, dead letters, resends.",
    no_args_is_help=True,
)


class ListFormat(enum.StrEnum):
    table = "table"
    json = "json"


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "–"


@notify_app.command("deliveries")
def deliveries_command(
    dead: Annotated[bool, typer.Option("--dead", help="Only dead letters (gave up).")] = False,
    status: Annotated[
        str | None, typer.Option(help="Only this status: pending, delivering, delivered, dead.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Rows to show.")] = 50,
    output: Annotated[
        ListFormat, typer.Option("--format", help="table or json.")
    ] = ListFormat.table,
) -> None:
    """Queued notifications newest first, with tries, the next try and the last error
    (webhook URLs shown as scheme, host and port only)."""
    from cxloop.notify import deliveries

    store = existing_store()
    with unit_of_work(store) as session:
        rows = deliveries.list_deliveries(
            session=session, status="dead" if dead else status, limit=limit
        )
    if output is ListFormat.json:
        sys.stdout.write(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
        return
    if not rows:
        console.print("no dead letters" if dead else "no deliveries")
        return
    table = Table(title="dead letters" if dead else "deliveries")
    for column in ("id", "channel", "target", "key", "status", "tries", "next try", "last error"):
        table.add_column(column, overflow="fold", justify="right" if column == "id" else "left")
    for r in rows:
        table.add_row(
            str(r.id),
            r.channel,
            r.target,
            r.key,
            r.status,
            str(r.attempts),
            _when(r.next_attempt_at),
            r.last_error or "–",
        )
    console.print(table)


@notify_app.command("resend")
def resend_command(
    delivery_id: Annotated[int, typer.Argument(metavar="ID", help="A dead delivery's id.")],
) -> None:
    """Queue a dead delivery again, due now, with a fresh count of tries."""
    from cxloop.notify import deliveries

    store = existing_store()
    with unit_of_work(store) as session:
        row = deliveries.resend(session=session, delivery_id=delivery_id)
    console.print(
        f"delivery {row.id} ({row.channel} to {row.target}) is pending again: "
        "the next `notify deliver` (or the server's clock) sends it",
        highlight=False,
        soft_wrap=True,
    )


@notify_app.command("deliver")
def deliver_command() -> None:
    """Send the deliveries that are due now, each once (what the server's clock runs every
    30 seconds; cron this when no server runs)."""
    from cxloop.notify import deliveries

    store = existing_store()
    with unit_of_work(store) as session:
        run = deliveries.deliver_due(session=session, settings=store.settings)
    console.print(
        ", ".join(f"{name} {count}" for name, count in run.counts().items()), highlight=False
    )


@notify_app.command("test")
def test_command(
    url: Annotated[str, typer.Argument(help="The receiver's http(s) URL.")],
) -> None:
    """Queue a signed test webhook to URL and send it at once: checks that a receiver gets and
    verifies our calls; a failure stays queued and is retried like any delivery."""
    from cxloop.db.base import utcnow
    from cxloop.notify import deliveries

    store = existing_store()
    now = utcnow()
    with unit_of_work(store) as session:
        queued = deliveries.enqueue(
            session=session,
            channel="webhook",
            target=url,
            payload={"event": "cxloop.test", "sent_at": now.isoformat() + "Z"},
            key=f"test:{now:%Y%m%dT%H%M%S.%f}",
            now=now,
        )
        deliveries.deliver_one(session=session, settings=store.settings, delivery_id=queued.id)
        row = deliveries.get(session=session, delivery_id=queued.id)
    if row.status == "delivered":
        console.print(f"delivery {row.id} to {row.target}: delivered", highlight=False)
        return
    then = (
        f"dead: `cxloop notify resend {row.id}` queues it again"
        if row.status == "dead"
        else f"queued, next try {_when(row.next_attempt_at)} UTC"
    )
    errors.print(
        f"error: delivery {row.id} to {row.target}: {row.last_error} ({then})",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)
