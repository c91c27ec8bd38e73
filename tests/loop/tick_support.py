"""A store for the ticker's tests: one team with two agents (one reads notices in English) and a
lead, the built-in CN SLA policy (p2: first response 2h, resolution 8h; p3: 4h and 16h; warnings
at 80 %), cases opened by hand at a chosen moment, and ``tick`` run as the job runs it (its own
unit of work, committed) at an injected clock.

The store is migrated once per module (``template``) and copied for each test."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from cxloop.api import Store, connect
from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.loop import service as loop_service
from cxloop.loop import teams as loop_teams
from cxloop.loop import tick as loop_tick
from cxloop.loop.models import CaseEvent
from cxloop.loop.policy import sla_policy
from cxloop.loop.schemas import CaseCreate, TeamWrite
from cxloop.loop.states import Actor
from cxloop.notify.models import Delivery

SH = ZoneInfo("Asia/Shanghai")
MINUTE = dt.timedelta(minutes=1)
TEAM = TeamWrite(
    name="客服一组",
    lead="chen.lead",
    members=[
        {"name": "wang.fang", "email": "wang.fang@example.com"},
        {"name": "li.na", "email": "li.na@example.com"},
        {"name": "zhao.min"},
        {"name": "chen.lead", "role": "lead", "email": "chen.lead@example.com"},
    ],
)
LEAD = Actor("chen.lead", frozenset({"agent"}))
WANG = Actor("wang.fang", frozenset({"agent"}))
SECRET = "whsec-loop-tick-0123"


def sh(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)  # type: ignore[misc]


def utc(moment: dt.datetime) -> dt.datetime:
    """As ``CaseRead`` gives times: aware UTC."""
    return moment.astimezone(dt.UTC)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated store with the team, made once per module."""
    path = tmp_path_factory.mktemp("tick") / "template.db"
    store = connect(settings=Settings(database_url=f"sqlite:///{path}"))
    try:
        with session_scope(store.sessions) as session:
            loop_teams.save_team(session=session, team_in=TEAM)
    finally:
        store.close()
    return path


@pytest.fixture
def db_path(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "cxloop.db"
    shutil.copyfile(template, path)
    return path


def settings_for(path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{path}",
        "loop_notify_languages": {"li.na": "en"},
        "webhook_secret": SECRET,
    }
    return Settings(**(values | extra))


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    store = connect(settings=settings_for(db_path))
    yield store
    store.close()


def open_case(
    store: Store,
    at: dt.datetime,
    *,
    severity: str = "high",
    owner: str | None = "wang.fang",
    customer: str = "C-001",
) -> int:
    """A case opened by the lead for ``owner`` at ``at`` (high → p2, medium → p3)."""
    with session_scope(store.sessions) as session:
        case = loop_service.open_by_hand(
            session=session,
            case_in=CaseCreate(
                title="客户投诉配送延误",
                severity=severity,  # type: ignore[arg-type]
                team=TEAM.name,
                owner=owner,
                customer_id=customer,
            ),
            policy=sla_policy(store.settings),
            actor=LEAD,
            now=at,
        )
        return case.id


def tick(store: Store, at: dt.datetime, settings: Settings | None = None) -> dict[str, int]:
    """One ``loop.fire_timers`` run at ``at``, committed."""
    with session_scope(store.sessions) as session:
        return loop_tick.tick(session=session, settings=settings or store.settings, now=at)


def fired(store: Store, case_id: int) -> list[tuple[str, str, dt.datetime]]:
    """(kind, target, at) of every warning and escalation in the case's history."""
    with session_scope(store.sessions) as session:
        events = session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind.in_(("warned", "escalated")))
            .order_by(CaseEvent.id)
        )
        return [(e.kind, e.data["target"], e.at.replace(tzinfo=dt.UTC)) for e in events]


def outbox(store: Store) -> list[tuple[str, str, str]]:
    """(channel, target, key) of every queued notification, oldest first."""
    with session_scope(store.sessions) as session:
        rows = session.execute(
            select(Delivery.channel, Delivery.target, Delivery.key).order_by(Delivery.id)
        )
        return [(str(c), str(t), str(k)) for c, t, k in rows]


def outbox_size(store: Store) -> int:
    with session_scope(store.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(Delivery)) or 0)
