"""Cases and teams: the caller's queue, one case, opening by hand, and each work action.

Agents and admins work cases (``CaseWorker``); which cases is the loop's rule: agents and leads
their own teams', admins every team's. Viewers and analysts read every case, masked, and work
none. Everyone reads the teams; admins save them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field

from cxloop.loop import case_access
from cxloop.loop import service as loop_service
from cxloop.loop.policy import root_causes, sla_policy
from cxloop.loop.priority import Level
from cxloop.loop.schemas import CaseCreate, CaseDetail, CaseRead, QueueRead, TeamRead, TeamWrite
from cxloop.loop.states import Actor
from cxloop.loop.story_schemas import CustomerStory
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import Admin, CaseWorker, Reader, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["cases"])


def _actor(user: User) -> Actor:
    return case_access.actor_of(user.username, user.role)


def _seen(user: User, case: CaseRead) -> CaseRead:
    """What a work action answers, as the caller may see it: the title masked unless the
    case is theirs (or they are an admin), as the queue and the case page show it."""
    return case_access.as_seen(_actor(user), case)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignIn(_Body):
    owner: str = Field(min_length=1, max_length=128, description="An active member of the team.")


class NoteIn(_Body):
    text: str = Field(min_length=1, max_length=10_000)


class ContactIn(_Body):
    channel: str = Field(min_length=1, max_length=64, description="phone, email, chat, visit…")
    summary: str = Field(min_length=1, max_length=10_000)


class RootCauseIn(_Body):
    code: str = Field(min_length=1, max_length=64, description="A code of the root-cause list.")


class ReasonIn(_Body):
    reason: str | None = Field(default=None, max_length=10_000)


class ResolveIn(_Body):
    summary: str | None = Field(default=None, max_length=10_000, description="What was done.")


@router.get("/cases", response_model=QueueRead)
def list_cases(
    session: SessionDep,
    user: Reader,
    team: Annotated[str | None, Query(max_length=128)] = None,
    owner: Annotated[str | None, Query(max_length=128)] = None,
    status: Annotated[list[str] | None, Query(max_length=9, description="Default: open.")] = None,
    priority: Annotated[list[Level] | None, Query(max_length=4, description="p1…p4.")] = None,
    topic: Annotated[str | None, Query(max_length=200, description="Subtopics too.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> QueueRead:
    """The caller's queue, most urgent first (priority, then SLA time left), with counts;
    viewers and analysts read every team's (titles masked)."""
    return case_access.caller_queue(
        session=session, actor=_actor(user), now=_now(), team=team, owner=owner,
        statuses=status, limit=limit, offset=offset, priorities=priority, topic=topic,
    )  # fmt: skip


@router.post("/cases", response_model=CaseRead, status_code=201)
def open_case(
    case_in: CaseCreate, session: SessionDep, settings: SettingsDep, user: CaseWorker
) -> CaseRead:
    """Open a case by hand for a team (the caller's, unless an admin), owned or queued."""
    return _seen(user, loop_service.open_by_hand(
        session=session, case_in=case_in, policy=sla_policy(settings), actor=_actor(user),
        now=_now(),
    ))  # fmt: skip


@router.get("/cases/{case_id}", response_model=CaseDetail)
def read_case(case_id: int, session: SessionDep, user: Reader) -> CaseDetail:
    """One case: attached feedback ids, its history, and the actions the caller may take
    (none for viewers and analysts; personal data masked unless the caller owns the case)."""
    return case_access.read_case(session=session, actor=_actor(user), case_id=case_id, now=_now())


@router.get("/cases/{case_id}/story", response_model=CustomerStory)
def case_story(case_id: int, session: SessionDep, user: Reader) -> CustomerStory:
    """The customer's whole story beside the case: profile and value, orders, subscriptions,
    recent voice with topics and aspects, other cases, churn risk, and the B2B account."""
    return case_access.case_story(session=session, actor=_actor(user), case_id=case_id)


@router.post("/cases/{case_id}/take", response_model=CaseRead)
def take_case(case_id: int, session: SessionDep, user: CaseWorker) -> CaseRead:
    """The caller takes an unowned case of their team."""
    return _seen(
        user, loop_service.take(session=session, case_id=case_id, actor=_actor(user), now=_now())
    )


@router.post("/cases/{case_id}/assign", response_model=CaseRead)
def assign_case(case_id: int, body: AssignIn, session: SessionDep, user: CaseWorker) -> CaseRead:
    """A lead of the case's team (or an admin) gives it to a member."""
    return _seen(
        user,
        loop_service.assign(
            session=session, case_id=case_id, owner=body.owner, actor=_actor(user), now=_now()
        ),
    )


@router.post("/cases/{case_id}/start", response_model=CaseRead)
def start_case(
    case_id: int, session: SessionDep, settings: SettingsDep, user: CaseWorker
) -> CaseRead:
    """Work begins, or resumes after the customer answered (the wait is measured on the app's
    own SLA calendar)."""
    return _seen(user, loop_service.start(
        session=session, case_id=case_id, actor=_actor(user), now=_now(),
        policy=sla_policy(settings),
    ))  # fmt: skip


@router.post("/cases/{case_id}/wait", response_model=CaseRead)
def wait_case(
    case_id: int,
    session: SessionDep,
    user: CaseWorker,
    body: Annotated[ReasonIn | None, Body()] = None,
) -> CaseRead:
    """The next step is the customer's."""
    return _seen(user, loop_service.wait_on_customer(
        session=session, case_id=case_id, actor=_actor(user), now=_now(),
        reason=body.reason if body else None,
    ))  # fmt: skip


@router.post("/cases/{case_id}/note", response_model=CaseRead)
def note_case(case_id: int, body: NoteIn, session: SessionDep, user: CaseWorker) -> CaseRead:
    """A note in the case's history."""
    return _seen(
        user,
        loop_service.note(
            session=session, case_id=case_id, text=body.text, actor=_actor(user), now=_now()
        ),
    )


@router.post("/cases/{case_id}/contact", response_model=CaseRead)
def log_contact(case_id: int, body: ContactIn, session: SessionDep, user: CaseWorker) -> CaseRead:
    """A call, mail or chat with the customer; the first one is the first response."""
    return _seen(user, loop_service.log_contact(
        session=session, case_id=case_id, channel=body.channel, summary=body.summary,
        actor=_actor(user), now=_now(),
    ))  # fmt: skip


@router.post("/cases/{case_id}/root-cause", response_model=CaseRead)
def set_root_cause(
    case_id: int, body: RootCauseIn, session: SessionDep, settings: SettingsDep, user: CaseWorker
) -> CaseRead:
    """File the case under a root-cause code (``CXLOOP_LOOP_ROOT_CAUSES``, else the built-in)."""
    return _seen(user, loop_service.set_root_cause(
        session=session, case_id=case_id, code=body.code, codes=root_causes(settings),
        actor=_actor(user), now=_now(),
    ))  # fmt: skip


@router.post("/cases/{case_id}/resolve", response_model=CaseRead)
def resolve_case(
    case_id: int,
    session: SessionDep,
    settings: SettingsDep,
    user: CaseWorker,
    body: Annotated[ResolveIn | None, Body()] = None,
) -> CaseRead:
    """The team thinks it is fixed; the customer's follow-up verifies it."""
    return _seen(user, loop_service.resolve(
        session=session, case_id=case_id, actor=_actor(user), now=_now(),
        summary=body.summary if body else None, policy=sla_policy(settings),
    ))  # fmt: skip


@router.post("/cases/{case_id}/reopen", response_model=CaseRead)
def reopen_case(
    case_id: int,
    session: SessionDep,
    settings: SettingsDep,
    user: CaseWorker,
    body: Annotated[ReasonIn | None, Body()] = None,
) -> CaseRead:
    """Not solved after all: the resolution clock starts again."""
    return _seen(user, loop_service.reopen(
        session=session, case_id=case_id, actor=_actor(user), now=_now(),
        reason=body.reason if body else None, policy=sla_policy(settings),
    ))  # fmt: skip


@router.post("/cases/{case_id}/close", response_model=CaseRead)
def close_case(
    case_id: int,
    session: SessionDep,
    settings: SettingsDep,
    user: CaseWorker,
    body: Annotated[ReasonIn | None, Body()] = None,
) -> CaseRead:
    """A lead closes the case by hand (a duplicate, spam, nothing to do)."""
    return _seen(user, loop_service.close(
        session=session, case_id=case_id, actor=_actor(user), now=_now(),
        reason=body.reason if body else None, policy=sla_policy(settings),
    ))  # fmt: skip


@router.get("/teams", response_model=list[TeamRead])
def list_teams(session: SessionDep, user: Reader) -> list[TeamRead]:
    """Every team with its roster and open loads; e-mails masked for roles without PII."""
    read_pii = allows(user.role, Permission.read_pii)
    return case_access.visible_teams(session=session, read_pii=read_pii)


@router.put("/teams", response_model=list[TeamRead])
def save_teams(teams_in: list[TeamWrite], session: SessionDep, _user: Admin) -> list[TeamRead]:
    """Create or replace the teams sent (whole rosters); teams not sent stay as they are."""
    return case_access.save_teams(session=session, teams_in=teams_in)
