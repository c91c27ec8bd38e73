"""``cxloop reports …``: export a view as CSV/XLSX, the overview report as HTML/PDF, and
scheduled e-mailed reports (add, list, remove, and the tick that sends the due ones)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cxloop.cli.context import console, existing_store, unit_of_work
from cxloop.cli.job_runs import parse_now, show_outcomes
from cxloop.errors import Invalid

reports_app = typer.Typer(
    help="Reports: export a view as CSV/XLSX, the overview as HTML/PDF, scheduled mails.",
    no_args_is_help=True,
)
schedule_app = typer.Typer(help="Scheduled e-mailed reports.", no_args_is_help=True)
reports_app.add_typer(schedule_app, name="schedule")

Query = Annotated[
    str,
    typer.Option(
        "--query", "-q", help="Filters as the page's URL query string: 'last=6m&where=region=华东'."
    ),
]
Role = Annotated[
    str, typer.Option(help="Render as this role sees it (masking): admin, analyst, agent, viewer.")
]
ROLES = ("admin", "analyst", "agent", "viewer")


def _role(role: str) -> str:
    if role not in ROLES:
        raise Invalid(f"is not a role ({', '.join(ROLES)})", "role", role)
    return role


@reports_app.command("export")
def export_command(
    view: Annotated[str, typer.Argument(help="metrics, target_list, loop_health, overview…")],
    output: Annotated[Path, typer.Option("--output", "-o", help="A .csv or .xlsx file.")],
    query: Query = "",
    role: Role = "analyst",
    table: Annotated[
        str | None, typer.Option(help="CSV only: which table (default the first).")
    ] = None,
) -> None:
    """Export one view with its filters as CSV (one table) or XLSX (a sheet per table)."""
    from cxloop.reports import service as reports_service

    fmt = output.suffix.lower().lstrip(".")
    store = existing_store()
    try:
        with unit_of_work(store) as session:
            found = reports_service.export(
                session=session, settings=store.settings, view=view, fmt=fmt,
                query=query.lstrip("?"), role=_role(role), table=table,
            )  # fmt: skip
    finally:
        store.close()
    output.write_bytes(found.content)
    console.print(f"wrote {output} ({len(found.content):,} bytes)")


@reports_app.command("render")
def render_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="A .pdf or .html file.")],
    query: Query = "",
    role: Role = "analyst",
    lang: Annotated[str, typer.Option(help="zh or en.")] = "zh",
    section: Annotated[
        list[str] | None, typer.Option(help="Add a section (repeat): journey, topics, drivers.")
    ] = None,
) -> None:
    """The overview report (scores with intervals and n, targets, alerts, chosen sections)."""
    from cxloop.reports import service as reports_service

    fmt = output.suffix.lower().lstrip(".")
    store = existing_store()
    try:
        with unit_of_work(store) as session:
            found = reports_service.render(
                session=session, settings=store.settings, query=query.lstrip("?"),
                role=_role(role), lang=lang, sections=section or [], fmt=fmt,
            )  # fmt: skip
    finally:
        store.close()
    output.write_bytes(found.content)
    console.print(f"wrote {output} ({len(found.content):,} bytes)")


@schedule_app.command("add")
def schedule_add_command(
    name: Annotated[str, typer.Argument(help="What the mail's subject calls it.")],
    to: Annotated[list[str], typer.Option("--to", help="A recipient's e-mail (repeat).")],
    every: Annotated[str, typer.Option(help="daily, weekly or monthly.")] = "weekly",
    at: Annotated[str, typer.Option(help="Local time HH:MM.")] = "08:00",
    weekday: Annotated[str, typer.Option(help="Weekly: mon … sun.")] = "mon",
    day: Annotated[int, typer.Option(help="Monthly: day 1 … 28.")] = 1,
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Asia/Shanghai",
    query: Query = "",
    role: Role = "viewer",
    lang: Annotated[str, typer.Option(help="zh or en.")] = "zh",
    section: Annotated[
        list[str] | None, typer.Option(help="Add a section (repeat): journey, topics, drivers.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="pdf (attached) or html (body).")] = "pdf",
) -> None:
    """Mail the report every day, week or month, rendered as ROLE sees it."""
    from pydantic import ValidationError

    from cxloop.reports import service as reports_service
    from cxloop.reports.schemas import ScheduleCreate

    try:
        schedule_in = ScheduleCreate(
            name=name, frequency=every, at=at,
            weekday=weekday if every == "weekly" else None,
            day=day if every == "monthly" else None, timezone=timezone,
            role=role, query=query, sections=section or [], language=lang,
            recipients=to, format=fmt,
        )  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise Invalid(first["msg"], field, first.get("input")) from None
    store = existing_store()
    try:
        with unit_of_work(store) as session:
            read = reports_service.create_schedule(
                session=session, schedule_in=schedule_in, created_by="cli",
                settings=store.settings,
            )  # fmt: skip
    finally:
        store.close()
    console.print(
        f"schedule {read.id} '{read.name}': {read.when} {read.timezone}, "
        f"next {read.next_due_at:%Y-%m-%d %H:%M} UTC, {len(read.recipients)} recipient(s)"
    )


@schedule_app.command("list")
def schedule_list_command() -> None:
    """Stored schedules with their next due time (UTC) and last period sent."""
    from cxloop.reports import service as reports_service

    store = existing_store()
    try:
        with unit_of_work(store) as session:
            rows = reports_service.list_schedules(session=session)
    finally:
        store.close()
    if not rows:
        console.print("no report schedules yet (cxloop reports schedule add …)")
        return
    table = Table(title="report schedules")
    for column in ("id", "name", "when", "role", "filters", "to", "format", "next (UTC)", "last"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r.id), r.name, f"{r.when} {r.timezone}", r.role, r.query or "–",
            ", ".join(r.recipients), f"{r.format} {r.language}",
            f"{r.next_due_at:%Y-%m-%d %H:%M}", r.last_sent_period or "–",
        )  # fmt: skip
    console.print(table)


@schedule_app.command("remove")
def schedule_remove_command(schedule_id: Annotated[int, typer.Argument(help="Its id.")]) -> None:
    """Stop and delete a schedule (its run log goes with it)."""
    from cxloop.reports import service as reports_service

    store = existing_store()
    try:
        with unit_of_work(store) as session:
            reports_service.remove_schedule(session=session, schedule_id=schedule_id)
    finally:
        store.close()
    console.print(f"removed schedule {schedule_id}")


@reports_app.command("tick")
def tick_command(
    now: Annotated[
        str | None,
        typer.Option(help="Act as if it were this time (UTC unless it has an offset)."),
    ] = None,
) -> None:
    """Send the scheduled reports that are due, once per schedule and period (cron this, or
    let `cxloop serve` run it)."""
    from cxloop.jobs import tick

    moment = parse_now(now)
    store = existing_store()
    try:
        outcomes = tick.run(store.settings, moment, ["reports.send_due"], sessions=store.sessions)
    finally:
        store.close()
    show_outcomes("report jobs", outcomes)
