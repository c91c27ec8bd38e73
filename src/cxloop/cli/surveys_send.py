"""``cxloop surveys send|tick|links``: send a survey to an audience, run the survey jobs, and
print a distribution's links again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxloop.cli.context import console, errors, existing_store, unit_of_work
from cxloop.cli.job_runs import parse_now, show_outcomes
from cxloop.cli.lazy import lazy_module
from cxloop.errors import Invalid

if TYPE_CHECKING:
    from cxloop.jobs import tick
    from cxloop.surveys import distribution_reads, sending
    from cxloop.surveys import trigger_rules as rules
    from cxloop.surveys.distribution_schemas import SendResult
else:
    sending = lazy_module("cxloop.surveys.sending")
    distribution_reads = lazy_module("cxloop.surveys.distribution_reads")
    rules = lazy_module("cxloop.surveys.trigger_rules")
    tick = lazy_module("cxloop.jobs.tick")

Now = Annotated[
    str | None,
    typer.Option("--now", help="Act as if it were this UTC time (2026-03-01T09:00); for replays."),
]


def _counts(result: SendResult) -> str:
    parts = [f"sent {result.sent}"]
    if result.scheduled:
        parts.append(f"scheduled {result.scheduled} (quiet hours or a mail server to retry)")
    if result.bounced:
        parts.append(f"bounced {result.bounced}")
    if result.failed:
        parts.append(f"failed {result.failed}")
    return ", ".join(parts)


def _show(result: SendResult, out: Path | None) -> None:
    what = f"survey {result.survey_id} v{result.version} to {result.audience}, by {result.channel}"
    if result.channel == "link":
        what = f"survey {result.survey_id} v{result.version} as one link anyone may answer"
    if result.dry_run:
        console.print(f"dry run: {what} — nothing stored, nothing sent", highlight=False)
        console.print(
            f"recipients {result.recipients}: would send {result.sent} now, "
            f"{result.scheduled} after quiet hours",
            highlight=False,
        )
    else:
        console.print(f"distribution {result.distribution_id}: {what}", highlight=False)
        if result.anonymous_link:
            console.print(f"anonymous link: {result.anonymous_link}", highlight=False)
        else:
            console.print(f"recipients {result.recipients}: {_counts(result)}", highlight=False)
    if result.skipped:
        table = Table(title=f"skipped {sum(result.skipped.values())}")
        table.add_column("reason")
        table.add_column("recipients", justify="right")
        for reason, n in result.skipped.items():
            table.add_row(reason, str(n))
        console.print(table)
    elif result.recipients:
        console.print("skipped: none", highlight=False)
    if out is not None and result.links:
        console.print(
            f"links: {out} ({len(result.links)} rows; they expire "
            f"{result.expires_at:%Y-%m-%d %H:%M} UTC)",
            highlight=False,
        )
    for error in result.errors:
        errors.print(f"error: {error}", highlight=False, soft_wrap=True)


def send_command(
    survey: Annotated[str, typer.Argument(help="The survey's id.")],
    list_name: Annotated[
        str | None, typer.Option("--list", help="A target list: its members.")
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="field=value over customers, repeatable (one field repeated: any of its values): "
            "segment, region, city, gender, customer_id, or an imported attribute.",
        ),
    ] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="An account (id or name): its contacts.")
    ] = None,
    roles: Annotated[
        list[str] | None,
        typer.Option(
            "--roles",
            help="With --account: these roles (repeat); default the survey's required_roles, "
            "else every contact.",
        ),
    ] = None,
    milestone: Annotated[
        str | None, typer.Option("--milestone", help="With --account: the milestone (id or name).")
    ] = None,
    anonymous: Annotated[
        bool, typer.Option("--anonymous", help="One link anyone may answer.")
    ] = False,
    channel: Annotated[
        str, typer.Option(help="email, csv (a file of links: --out) or webhook (--webhook URL).")
    ] = "email",
    out: Annotated[Path | None, typer.Option("--out", help="The links file (csv).")] = None,
    webhook: Annotated[
        str | None, typer.Option("--webhook", help="URL that gets one signed JSON per recipient.")
    ] = None,
    expires_days: Annotated[
        int | None,
        typer.Option(min=1, max=3650, help="Links expire after (default: the survey's, else 14)."),
    ] = None,
    reminders: Annotated[
        int | None,
        typer.Option(min=0, max=10, help="Reminders at most (default: the survey's, else 2)."),
    ] = None,
    remind_after: Annotated[
        str | None,
        typer.Option(help="First reminder after, then between them: 72h, 3d (default 72h)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count who would get it and who is skipped, why.")
    ] = False,
    now: Now = None,
) -> None:
    """Send a survey to a target list, customers matching --where, an account's roles, or as an
    anonymous link; skipped recipients are counted by reason."""
    from cxloop.surveys.distribution_schemas import DistributionCreate

    audience = distribution_reads.audience_from_options(
        list_name=list_name,
        where=where or [],
        account=account,
        roles=roles or [],
        milestone=milestone,
        anonymous=anonymous,
    )
    if channel not in ("email", "csv", "webhook"):
        raise Invalid("is not a channel: email, csv or webhook", "channel", channel)
    if channel == "csv" and out is None and not dry_run and not anonymous:
        raise Invalid("needs --out FILE for the links", "channel", "csv")
    if channel == "webhook" and not webhook:
        raise Invalid("needs --webhook URL", "channel", "webhook")
    after = rules.parse_delay(remind_after) if remind_after else None
    if after == 0:
        raise Invalid("must be at least 1h", "remind-after", remind_after)
    request = DistributionCreate(
        audience=audience,
        channel=channel,
        webhook_url=webhook,
        expires_days=expires_days,
        reminders=reminders,
        remind_after_hours=after,
        dry_run=dry_run,
    )
    store = existing_store()
    with unit_of_work(store) as session:
        result = sending.send(
            session=session,
            settings=store.settings,
            survey_id=survey,
            request=request,
            now=parse_now(now),
            created_by="cli",
        )
    if out is not None and result.links:
        distribution_reads.write_links(out, result.links)
    _show(result, out)
    if result.failed:
        errors.print(
            f"{result.failed} invitations wait: `cxloop surveys tick` sends them once the "
            "channel answers",
            highlight=False,
        )
        raise typer.Exit(1)


OUTBOX = "notify.deliver_due"
"""Every tick sends what is due in the notification outbox (README: Notifications)."""


def survey_jobs() -> list[str]:
    """The jobs ``surveys tick`` runs: every ``surveys.*`` job, then the outbox."""
    return [name for name in tick.names() if name.startswith("surveys.")] + [OUTBOX]


def tick_command(
    now: Now = None,
    job: Annotated[
        list[str] | None,
        typer.Option("--job", help="Only this job (repeat): surveys.* or notify.deliver_due."),
    ] = None,
) -> None:
    """Run the survey jobs once: triggers, scheduled sends, reminders, expiries, owner alerts and
    answers into feedback, then the outbox (cron this, or let `cxloop serve` run it).

    The loop's jobs are `cxloop loop tick`'s: a cron line for surveys does not start working
    cases."""
    allowed = survey_jobs()
    chosen = list(dict.fromkeys(job)) if job else allowed
    unknown = [name for name in chosen if name not in allowed]
    if unknown:
        raise Invalid(f"is not a survey job ({', '.join(allowed)})", "job", ", ".join(unknown))
    moment = parse_now(now)
    store = existing_store()
    try:
        outcomes = tick.run(store.settings, moment, chosen, sessions=store.sessions)
    finally:
        store.close()
    show_outcomes("survey jobs", outcomes)


def links_command(
    distribution: Annotated[int, typer.Argument(help="The distribution's number.")],
    out: Annotated[Path, typer.Option("--out", help="Write the links to this CSV file.")],
) -> None:
    """Write a distribution's personal links to a CSV file again (skipped recipients left out)."""
    store = existing_store()
    with unit_of_work(store) as session:
        rows = distribution_reads.links(
            session=session, settings=store.settings, distribution_id=distribution
        )
    written = distribution_reads.write_links(out, rows)
    console.print(f"{out}: {written} links of distribution {distribution}", highlight=False)
