"""``cxloop cases …``: open a case by hand, read the queue and one case, and work it.

The CLI runs as the local admin (recorded as ``cli``); ``--as USER`` acts as a stored user with
their role and team memberships, so an agent's or a lead's refusals can be seen from a shell.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from cxloop.cli.context import console, existing_store, require_store, unit_of_work
from cxloop.cli.notify import ListFormat
from cxloop.errors import Invalid, Problem

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cxloop.config import Settings
    from cxloop.loop.schemas import CaseRead
    from cxloop.loop.states import Actor

cases_app = typer.Typer(
    help="Cases: open by hand, the queue by priority and SLA left, one case, and its actions.",
    no_args_is_help=True,
)
LOCAL = "cli"
"""The name the local admin's actions carry in a case's history."""
AsUser = Annotated[
    str | None,
    typer.Option("--as", help="Act as this stored user (their role and teams); default: admin."),
]
CaseId = Annotated[int, typer.Argument(help="The case's id (see `cxloop cases list`).")]


def _actor(session: Session, as_user: str | None) -> Actor:
    from cxloop.loop.case_access import actor_of
    from cxloop.privacy import service as privacy_service

    if as_user is None:
        return actor_of(LOCAL, "admin")
    user = privacy_service.get_user(session=session, username=as_user)
    if not user.active:
        raise Invalid("is not an active user", "--as", as_user)
    return actor_of(user.username, user.role)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def when(moment: dt.datetime | None, zone: ZoneInfo) -> str:
    """A time in the store's zone, to the minute; a dash for none."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "–"


def left(seconds: float | None) -> str:
    """Wall-clock time to the next due time: ``5h 20m``, ``63h 05m``, ``overdue 1h 05m``; a
    dash for none."""
    if seconds is None:
        return "–"
    minutes = int(abs(seconds) // 60)
    shown = f"{minutes // 60}h {minutes % 60:02d}m"  # hours past a day too: 63h 20m
    return f"overdue {shown}" if seconds < 0 else shown


def left_of(case: CaseRead, zone: ZoneInfo | None = None) -> str:
    """The case's time left, or ``paused`` (since when, with ``zone``) while it waits on the
    customer: its clocks stand still, so no time runs down."""
    if case.sla_paused:
        return f"paused since {when(case.sla_paused_at, zone)}" if zone else "paused"
    return left(case.seconds_left)


def _said(case: CaseRead, zone: ZoneInfo) -> None:
    overdue = case.seconds_left is not None and case.seconds_left < 0
    due = f", next due {when(case.next_due, zone)} ({left(case.seconds_left)}"
    due += ")" if overdue else " left)"  # "(overdue 1h 05m)", not "(overdue 1h 05m left)"
    if case.sla_paused:
        due = f", SLA {left_of(case, zone)} (next due {when(case.next_due, zone)} before the wait)"
    console.print(
        f"case {case.id} is {case.status} · team {case.team or '–'} · owner {case.owner or '–'}"
        + (due if case.next_due else ""),
        highlight=False,
    )


@cases_app.command("open")
def open_command(
    feedback: Annotated[
        str | None, typer.Option(help="A stored feedback id: its customer and account.")
    ] = None,
    customer: Annotated[
        str | None, typer.Option(help="A customer id (without --feedback).")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Required without --feedback.")] = None,
    team: Annotated[str | None, typer.Option(help="The team that works it.")] = None,
    owner: Annotated[
        str | None, typer.Option(help="A member of the team; default: queued.")
    ] = None,
    severity: Annotated[str, typer.Option(help="low, medium, high or critical.")] = "medium",
    topic: Annotated[str | None, typer.Option(help="What it is about, e.g. 配送/速度.")] = None,
    as_user: AsUser = None,
) -> None:
    """Open a case by hand about a feedback row or a customer, for a team."""
    from pydantic import ValidationError

    from cxloop.loop import case_access
    from cxloop.loop import service as loop_service
    from cxloop.loop.policy import sla_policy
    from cxloop.loop.schemas import CaseCreate

    if (feedback is None) == (customer is None):
        raise Invalid("give one: --feedback ID or --customer ID", "--feedback", feedback)
    if feedback is None and not title:
        raise Invalid("is required with --customer (what the case is about)", "--title", title)
    fields: dict[str, Any] = {"severity": severity, "team": team, "owner": owner, "topic": topic}
    store = existing_store()
    policy = sla_policy(store.settings)
    with unit_of_work(store) as session:
        actor = _actor(session, as_user)
        try:
            if feedback is not None:
                case_in = case_access.feedback_case(
                    session=session, feedback_id=feedback, title=title, **fields
                )
            else:
                case_in = CaseCreate(title=title or "", customer_id=customer, **fields)
        except ValidationError as exc:
            raise Invalid([_problem(e) for e in exc.errors()]) from None
        case = loop_service.open_by_hand(
            session=session, case_in=case_in, policy=policy, actor=actor, now=_now()
        )
    console.print(
        f"opened case {case.id}: {case.title} · {case.priority} (score {case.priority_score:g})",
        highlight=False,
    )
    _said(case, _zone(store.settings))


def _problem(error: Any) -> Problem:
    field = "--" + ".".join(str(x) for x in error["loc"]).replace("_", "-")
    return Problem(field, error.get("input"), str(error["msg"]).removeprefix("Value error, "))


@cases_app.command("list")
def list_command(
    team: Annotated[str | None, typer.Option(help="Only this team's cases.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner's cases.")] = None,
    status: Annotated[
        list[str] | None, typer.Option(help="Repeatable; default: every open status.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    output: Annotated[
        ListFormat, typer.Option("--format", help="table or json.")
    ] = ListFormat.table,
    as_user: AsUser = None,
) -> None:
    """The queue, most urgent first (priority, then SLA time left), with counts by status."""
    from cxloop.loop import case_access

    store = existing_store()
    with unit_of_work(store) as session:
        found = case_access.caller_queue(
            session=session, actor=_actor(session, as_user), now=_now(), team=team,
            owner=owner, statuses=status, limit=limit,
        )  # fmt: skip
    if output is ListFormat.json:
        sys.stdout.write(found.model_dump_json(indent=2) + "\n")
        return
    zone = _zone(store.settings)
    if found.items:
        table = Table(title="cases")
        for column in ("id", "pri", "status", "team", "owner", "title", "due", "left"):
            table.add_column(column, justify="right" if column == "id" else "left")
        for c in found.items:
            table.add_row(
                str(c.id), c.priority, c.status, c.team or "–", c.owner or "–", c.title,
                when(c.next_due, zone), left_of(c),
            )  # fmt: skip
        console.print(table)
    counts = " · ".join(f"{s} {n}" for s, n in found.counts.items() if n)
    console.print(
        f"{len(found.items)} of {found.total} shown; by status: {counts or 'none'}; "
        f"overdue {found.overdue}",
        highlight=False,
    )


@cases_app.command("show")
def show_command(
    case_id: CaseId,
    output: Annotated[
        ListFormat, typer.Option("--format", help="table or json.")
    ] = ListFormat.table,
    as_user: AsUser = None,
) -> None:
    """One case: priority and why, SLA due times, attached feedback, and its whole history."""
    from cxloop.loop import case_access

    store = existing_store()
    with unit_of_work(store) as session:
        detail = case_access.read_case(
            session=session, actor=_actor(session, as_user), case_id=case_id, now=_now()
        )
    if output is ListFormat.json:
        sys.stdout.write(detail.model_dump_json(indent=2) + "\n")
        return
    zone, c = _zone(store.settings), detail.case
    console.print(f"case {c.id} · {c.priority} · {c.status}: {c.title}", highlight=False)
    why = ", ".join(
        f"{p['factor']} {'unknown' if p.get('value') is None else p['value']} "
        f"{p.get('contribution', 0):+g}"
        for p in c.priority_explanation
    )
    lines = [
        ("customer", c.customer_id or c.account_id or "–"),
        ("team / owner", f"{c.team or '–'} / {c.owner or '–'} ({c.routing_reason or '–'})"),
        ("severity", f"{c.severity}, priority score {c.priority_score:g}: {why or '–'}"),
        ("opened", when(c.opened_at, zone)),
        ("first response", f"due {when(c.first_response_due, zone)}, "
         f"done {when(c.first_responded_at, zone)}"),
        ("resolution", f"due {when(c.resolution_due, zone)}, done {when(c.resolved_at, zone)}"),
        ("left", left_of(c, zone)),
        ("root cause", c.root_cause or "–"),
        ("feedback", ", ".join(detail.feedback_ids) or "–"),
        ("you may", ", ".join(detail.allowed_actions) or "nothing"),
    ]  # fmt: skip
    for name, value in lines:
        console.print(f"  {name:<15} {value}", highlight=False)
    table = Table(title="history")
    for column in ("at", "who", "what", "details"):
        table.add_column(column, overflow="fold")
    for e in detail.history:
        details = ", ".join(f"{k}={v}" for k, v in e.data.items() if v not in (None, "", []))
        table.add_row(when(e.at, zone), e.actor, e.kind, details)
    console.print(table)


def _act(as_user: str | None, work: Any, *, policy: bool = False) -> None:
    """Run one action as the caller, commit, and say where the case stands now."""
    from cxloop.loop import service as loop_service
    from cxloop.loop.policy import sla_policy

    store = existing_store()
    extra = {"policy": sla_policy(store.settings)} if policy else {}
    with unit_of_work(store) as session:
        actor = _actor(session, as_user)
        case = work(loop_service, session=session, actor=actor, now=_now(), **extra)
    _said(case, _zone(store.settings))


@cases_app.command("take")
def take_command(case_id: CaseId, as_user: AsUser = None) -> None:
    """Take an unowned case of your team (needs --as: the local admin is nobody's agent)."""
    if as_user is None:
        raise Invalid(
            "is needed: take makes the caller the owner; the admin gives a case with "
            "`cxloop cases assign ID --to USER`",
            "--as",
        )
    _act(as_user, lambda s, **kw: s.take(case_id=case_id, **kw))


@cases_app.command("assign")
def assign_command(
    case_id: CaseId,
    to: Annotated[str, typer.Option("--to", help="An active member of the case's team.")],
    as_user: AsUser = None,
) -> None:
    """Give the case to a member of its team (leads and admins)."""
    _act(as_user, lambda s, **kw: s.assign(case_id=case_id, owner=to, **kw))


@cases_app.command("start")
def start_command(case_id: CaseId, as_user: AsUser = None) -> None:
    """Work begins (or resumes after the customer answered)."""
    _act(as_user, lambda s, **kw: s.start(case_id=case_id, **kw), policy=True)


@cases_app.command("wait")
def wait_command(
    case_id: CaseId,
    reason: Annotated[str | None, typer.Option(help="What the customer is to do.")] = None,
    as_user: AsUser = None,
) -> None:
    """The next step is the customer's (waiting on customer)."""
    _act(as_user, lambda s, **kw: s.wait_on_customer(case_id=case_id, reason=reason, **kw))


@cases_app.command("note")
def note_command(
    case_id: CaseId,
    text: Annotated[str, typer.Argument(help="The note.")],
    as_user: AsUser = None,
) -> None:
    """Add a note to the case's history."""
    _act(as_user, lambda s, **kw: s.note(case_id=case_id, text=text, **kw))


@cases_app.command("contact")
def contact_command(
    case_id: CaseId,
    summary: Annotated[str, typer.Argument(help="What was said.")],
    channel: Annotated[str, typer.Option(help="phone, email, chat, visit…")] = "phone",
    as_user: AsUser = None,
) -> None:
    """Log a contact with the customer; the first one is the first response."""
    _act(
        as_user,
        lambda s, **kw: s.log_contact(case_id=case_id, channel=channel, summary=summary, **kw),
    )


@cases_app.command("root-cause")
def root_cause_command(
    case_id: CaseId,
    code: Annotated[str, typer.Argument(help="A root-cause code, e.g. delivery, product_defect.")],
    as_user: AsUser = None,
) -> None:
    """File the case under a root-cause code (CXLOOP_LOOP_ROOT_CAUSES, else the built-in list)."""
    from cxloop.loop.policy import root_causes

    codes = root_causes(require_store())
    _act(as_user, lambda s, **kw: s.set_root_cause(case_id=case_id, code=code, codes=codes, **kw))


@cases_app.command("resolve")
def resolve_command(
    case_id: CaseId,
    note: Annotated[str | None, typer.Option(help="What was done.")] = None,
    as_user: AsUser = None,
) -> None:
    """Resolved by the team; the customer's follow-up verifies it (or reopens it)."""
    _act(as_user, lambda s, **kw: s.resolve(case_id=case_id, summary=note, **kw), policy=True)


@cases_app.command("reopen")
def reopen_command(
    case_id: CaseId,
    reason: Annotated[str | None, typer.Option(help="Why it is not solved.")] = None,
    as_user: AsUser = None,
) -> None:
    """Reopen a resolved or closed case; its resolution clock starts again."""
    _act(as_user, lambda s, **kw: s.reopen(case_id=case_id, reason=reason, **kw), policy=True)


@cases_app.command("close")
def close_command(
    case_id: CaseId,
    reason: Annotated[str | None, typer.Option(help="Why: duplicate, spam, nothing to do…")] = None,
    as_user: AsUser = None,
) -> None:
    """Close a case by hand (leads and admins)."""
    _act(as_user, lambda s, **kw: s.close(case_id=case_id, reason=reason, **kw), policy=True)


from cxloop.cli.case_followups import followups_command  # noqa: E402 - registered here

cases_app.command("followups")(followups_command)
