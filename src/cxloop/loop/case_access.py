"""Cases as one person sees them: their queue (admins all teams, agents and leads their own
teams, viewers and analysts every team's to read only), one case with the actions they may take
on it, the customer's story beside it, and personal data masked unless they own the case (or are
an admin). The CLI, the API and the pages call these, so all refuse the same things."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from cxloop.errors import Forbidden, Invalid, Problem
from cxloop.feedback.models import Feedback
from cxloop.feedback.pii_masking import mask_text
from cxloop.loop import teams
from cxloop.loop.calendar import BusinessCalendar
from cxloop.loop.case_actions import allow
from cxloop.loop.case_reads import get_case, load, queue, utc
from cxloop.loop.hours import problems_of
from cxloop.loop.models import Case
from cxloop.loop.schemas import CaseCreate, CaseDetail, CaseRead, QueueRead, TeamRead, TeamWrite
from cxloop.loop.states import SYSTEM_ROLE, Actor, CaseView, may, refusal
from cxloop.loop.story import customer_story
from cxloop.loop.story_schemas import CustomerStory
from cxloop.privacy.masking import mask_value
from cxloop.privacy.roles import Permission, allows

FREE_TEXT = ("text", "summary", "reason", "evidence", "why")
"""History entries' fields that people write (or rules explain) in their own words."""


def actor_of(username: str, role: str) -> Actor:
    """A signed-in user (one role) as the loop's ``Actor``; teams come from the store."""
    return Actor(username, frozenset({role}))


def _sees_all(actor: Actor) -> bool:
    return bool({"admin", SYSTEM_ROLE} & actor.roles)


def reads_only(actor: Actor) -> bool:
    """Viewers and analysts read every team's cases (masked, no actions); they work none."""
    if _sees_all(actor) or "agent" in actor.roles:
        return False
    return any(allows(role, Permission.read_data) for role in actor.roles)


def caller_queue(
    *,
    session: Session,
    actor: Actor,
    now: dt.datetime,
    team: str | None = None,
    owner: str | None = None,
    statuses: Collection[str] | None = None,
    limit: int = 100,
    offset: int = 0,
    priorities: Collection[str] | None = None,
    topic: str | None = None,
) -> QueueRead:
    """The cases ``actor`` may see: an admin's, viewer's or analyst's are every team's, an
    agent's or lead's those of their teams (``team`` narrows to one of them; another team is
    ``Forbidden``). Titles are masked on cases the actor may not read personal data of."""
    scope: list[str] | None = None
    if not _sees_all(actor) and not reads_only(actor):
        if "agent" not in actor.roles:
            why = refusal(actor.roles, {}, "read", CaseView(team, None, "new"))
            raise Forbidden(f"{actor.name} may not read cases: {why}")
        mine = teams.memberships(session, actor.name)
        if team is not None and team not in mine:
            listed = ", ".join(sorted(mine)) or "none"
            raise Forbidden(
                f"{actor.name} may not read the cases of team {team}: not a member "
                f"(their teams: {listed})"
            )
        scope = sorted(mine)
    found = queue(
        session=session,
        now=now,
        team=team,
        owner=owner,
        statuses=statuses,
        limit=limit,
        offset=offset,
        teams=scope,
        priorities=priorities,
        topic=topic,
    )
    return found.model_copy(update={"items": [as_seen(actor, c) for c in found.items]})


def read_case(*, session: Session, actor: Actor, case_id: int, now: dt.datetime) -> CaseDetail:
    """One case for ``actor`` (``Forbidden`` to an agent outside its team): its feedback,
    history and the actions this actor may take now (none for viewers and analysts); free
    text masked unless they own the case or are an admin."""
    row = readable(session, actor, case_id)
    view = CaseView(row.team, row.owner, row.status)
    detail = get_case(session=session, case_id=case_id, now=now)
    mine = teams.memberships(session, actor.name)
    actions = [a for a in detail.allowed_actions if may(actor.roles, mine, a, view)]
    detail = detail.model_copy(update={"allowed_actions": actions})
    return detail if reads_pii(actor, row.owner) else masked(detail)


def readable(session: Session, actor: Actor, case_id: int) -> Case:
    """The case ``case_id`` if ``actor`` may read it: ``NotFound``, else ``Forbidden`` for an
    agent of another team (or a role that reads no data)."""
    row = load(session, case_id)
    if not reads_only(actor):
        allow(session, actor, "read", CaseView(row.team, row.owner, row.status))
    return row


def case_story(
    *, session: Session, actor: Actor, case_id: int, limit: int = 20, now: dt.datetime | None = None
) -> CustomerStory:
    """The customer's (and account's) story beside case ``case_id``, for whoever may read
    the case; personal data masked unless they own it (or are an admin)."""
    row = readable(session, actor, case_id)
    return customer_story(
        session=session,
        customer_id=row.customer_id,
        account_id=row.account_id,
        reveal_pii=reads_pii(actor, row.owner),
        exclude_case=row.id,
        limit=limit,
        now=now,
    )


def business_seconds_left(
    calendar: BusinessCalendar, case: CaseRead, now: dt.datetime
) -> float | None:
    """Working time from ``now`` to the case's next due time on ``calendar`` (negative:
    overdue by that much working time); None when no clock runs or it stands still while the
    case waits on the customer."""
    due = case.next_due
    if due is None or case.status == "waiting_on_customer":
        return None
    at = utc(now)
    if due >= at:
        return calendar.business_time_between(at, due).total_seconds()
    return -calendar.business_time_between(due, at).total_seconds()


def reads_pii(actor: Actor, owner: str | None) -> bool:
    """Only the case's owner and admins see personal data on a case: the other agents and
    leads of the team, viewers and analysts see it masked (the lead's decision, issue 14)."""
    return _sees_all(actor) or (owner is not None and actor.name == owner)


def as_seen(actor: Actor, case: CaseRead) -> CaseRead:
    """``case`` as ``actor`` may see it: its title masked unless they own it or are an admin
    (what a work action answers, as the queue and the case show it)."""
    if reads_pii(actor, case.owner):
        return case
    return case.model_copy(update={"title": mask_text(case.title)})


def masked(detail: CaseDetail) -> CaseDetail:
    """``detail`` with personal data in its title and its history's free text masked."""
    history = [
        event.model_copy(update={"data": _masked_data(event.data)}) for event in detail.history
    ]
    case = detail.case.model_copy(update={"title": mask_text(detail.case.title)})
    return detail.model_copy(update={"case": case, "history": history})


def _masked_data(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _masked_value(v) if k in FREE_TEXT else v for k, v in data.items()}


def _masked_value(value: Any) -> Any:
    """A text masked; a list of texts (a rule's ``why``: the values that held) item by item."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_text(v) if isinstance(v, str) else v for v in value]
    return value


def parse_teams(data: Any, where: str = "teams") -> list[TeamWrite]:
    """A teams file's data (a list of teams, or ``{teams: [...]}``) as teams to save; every
    problem is named by its path (``teams[0].members[2].role``), value and reason."""
    if isinstance(data, dict) and set(data) == {"teams"}:
        data = data["teams"]
    if not isinstance(data, list) or not data:
        raise Invalid(
            "must be a list of teams (name, lead, members: [{name, email, role}])", where, data
        )
    problems: list[Problem] = []
    found: list[TeamWrite] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        try:
            team = TeamWrite.model_validate(item)
        except ValidationError as exc:
            problems.extend(problems_of(exc, f"{where}[{index}]", thing="a team"))
            continue
        if team.name in seen:
            problems.append(Problem(f"{where}[{index}].name", team.name, "names a team twice"))
        seen.add(team.name)
        found.append(team)
    if problems:
        raise Invalid(problems)
    return found


def save_teams(*, session: Session, teams_in: list[TeamWrite]) -> list[TeamRead]:
    """Save each team whole (create or replace its roster); teams not named stay as they are.
    A name given twice is refused (which roster would win is not the caller's intent)."""
    seen: set[str] = set()
    twice = []
    for index, team in enumerate(teams_in):
        if team.name in seen:
            twice.append(Problem(f"teams[{index}].name", team.name, "names a team twice"))
        seen.add(team.name)
    if twice:
        raise Invalid(twice)
    return [teams.save_team(session=session, team_in=t) for t in teams_in]


def visible_teams(*, session: Session, read_pii: bool) -> list[TeamRead]:
    """Every team with its roster; members' e-mail addresses masked without ``read_pii``."""
    found = teams.list_teams(session=session)
    if read_pii:
        return found
    return [
        t.model_copy(
            update={
                "members": [
                    m.model_copy(update={"email": mask_value("email", m.email)}) for m in t.members
                ]
            }
        )
        for t in found
    ]


def feedback_case(
    *, session: Session, feedback_id: str, title: str | None = None, **fields: Any
) -> CaseCreate:
    """A by-hand case about one stored feedback row: its customer and account, and a title
    naming the feedback and its score unless one is given."""
    row = session.get(Feedback, feedback_id)
    if row is None:
        raise Invalid("is not a stored feedback id", "feedback", feedback_id)
    score = next(
        (
            f"{n.upper()} {v:g}"
            for n in ("nps", "csat", "ces", "rating")
            if (v := getattr(row, n)) is not None
        ),
        None,
    )
    shown = f"feedback {feedback_id} ({row.channel}{', ' + score if score else ''})"
    return CaseCreate(
        title=title or shown,
        customer_id=row.customer_id,
        account_id=row.account_id,
        contact_id=row.contact_id,
        feedback_ids=[feedback_id],
        **fields,
    )
