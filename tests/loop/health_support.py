"""A scripted week of cases for loop health, built through the real case service with an
injected clock on the CN calendar (Mon–Fri 09:00–18:00, lunch 12:00–13:00), so every number the
health measures give can be worked out by hand (see ``tests/loop/test_health.py``).

Now is Thursday 2026-12-10 12:00 in Shanghai. The cases (default SLA policy: p1 1h/4h,
p2 2h/8h, p3 4h/16h, p4 8h/40h of business time):

* A  p2, 客服一组/wang.fang, C-A (NPS 3). Opened Mon 09:00, contact Mon 10:00, resolved Mon
  14:00, follow-up verified Tue 10:00 (its answer, NPS 9, is not a "next answer"); C-A's next
  answer Wed 09:00 is NPS 5: not recovered.
* B  p2, 客服一组/li.na, C-B (NPS 2). Opened Mon 16:00, contact Tue 10:00 (first response
  missed: due Mon 18:00), resolved Tue 15:00, follow-up reopened Wed 10:00 (new resolution due
  Thu 10:00), resolved again Wed 17:00, second follow-up closed unverified Thu 11:00. C-B answered
  NPS 1 on Tue 16:00 (before the last resolution: not counted) and NPS 8 on Thu 09:00: recovered.
* C  p3, east/zhao.min, C-C (NPS 5). Opened Mon 11:00, resolved Mon 17:00 without a logged
  contact (first response judged at the resolution: missed, due Mon 16:00). No answer since.
* D  p1, 客服一组/zhang.wei, C-D, no feedback. Opened Tue 09:00, nothing done: both due times
  (Tue 10:00, Tue 14:00) passed: missed; open 2 d 3 h.
* E  p4, east, nobody. Opened Thu 11:00: not yet due (not judged); open 1 h.
* G  p3, 客服一组, nobody. Opened Wed 09:00, closed by the lead Wed 10:00 (a duplicate): both
  clocks stopped before their due time: met; never resolved.
* F  p3, 客服一组/wang.fang, opened 2026-08-03 (before the 90-day period): only in the backlog
  (> 7 d).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cxloop import api
from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.loop import service as loop_service
from cxloop.loop.models import CaseFollowup
from cxloop.loop.schemas import CaseCreate
from cxloop.loop.states import SYSTEM, Actor
from tests.loop.case_support import ADMIN, LEAD, SH, add_feedback, policy, set_up_teams

NOW = dt.datetime(2026, 12, 10, 12, 0, tzinfo=SH)
WEEK = {"mon": 7, "tue": 8, "wed": 9, "thu": 10}


def at(day: str, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of the scripted week (Shanghai)."""
    return dt.datetime(2026, 12, WEEK[day], hour, minute, tzinfo=SH)


def stored(moment: dt.datetime) -> dt.datetime:
    """As the store keeps times: naive UTC."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _open(
    session: Session,
    when: dt.datetime,
    severity: str,
    team: str,
    owner: str | None = None,
    customer: str | None = None,
    feedback: list[str] | None = None,
    topic: str = "配送/速度",
) -> int:
    case_in = CaseCreate.model_validate(
        {
            "title": f"{customer or team} · {topic}",
            "severity": severity,
            "team": team,
            "owner": owner,
            "customer_id": customer,
            "feedback_ids": feedback or [],
            "topic": topic,
        }
    )
    made = loop_service.open_by_hand(
        session=session, case_in=case_in, policy=policy(), actor=ADMIN, now=when
    )
    return made.id


def _answer(session: Session, feedback_id: str, customer: str, nps: int, when: dt.datetime) -> None:
    add_feedback(session, feedback_id, customer_id=customer, nps=nps, created_at=stored(when))


def _followup(
    session: Session, case_id: int, rnd: int, outcome: str, when: dt.datetime, **values: Any
) -> None:
    session.add(
        CaseFollowup(
            case_id=case_id,
            round=rnd,
            survey_id="case-followup",
            sent_at=stored(when - dt.timedelta(hours=20)),
            due_at=stored(when + dt.timedelta(days=7)),
            outcome=outcome,
            **values,
        )
    )
    session.flush()


def build(session: Session) -> dict[str, int]:
    """The scripted week (see the module docstring); returns case ids by letter."""
    set_up_teams(session)
    act: dict[str, Any] = {"session": session, "actor": ADMIN}
    ids: dict[str, int] = {}
    _answer(session, "fb-a", "C-A", 3, at("mon", 8))
    _answer(session, "fb-b", "C-B", 2, at("mon", 15))
    _answer(session, "fb-c", "C-C", 5, at("mon", 10))
    ids["F"] = _open(
        session, dt.datetime(2026, 8, 3, 10, tzinfo=SH), "medium", "客服一组", "wang.fang"
    )
    ids["A"] = _open(session, at("mon", 9), "high", "客服一组", "wang.fang", "C-A", ["fb-a"])
    ids["C"] = _open(
        session, at("mon", 11), "medium", "east", "zhao.min", "C-C", ["fb-c"], topic="包装"
    )
    ids["B"] = _open(session, at("mon", 16), "high", "客服一组", "li.na", "C-B", ["fb-b"])
    loop_service.log_contact(
        case_id=ids["A"], channel="phone", summary="回电", now=at("mon", 10), **act
    )
    loop_service.resolve(case_id=ids["A"], now=at("mon", 14), **act)
    loop_service.resolve(case_id=ids["C"], now=at("mon", 17), **act)
    ids["D"] = _open(
        session, at("tue", 9), "critical", "客服一组", "zhang.wei", "C-D", topic="退款"
    )
    loop_service.log_contact(
        case_id=ids["B"], channel="phone", summary="回电", now=at("tue", 10), **act
    )
    _answer(session, "survey:500", "C-A", 9, at("tue", 9, 30))  # A's follow-up answer
    _followup(session, ids["A"], 1, "verified", at("tue", 10), response_id=500, score=9)
    loop_service.verify(session=session, case_id=ids["A"], actor=SYSTEM, now=at("tue", 10))
    loop_service.resolve(case_id=ids["B"], now=at("tue", 15), **act)
    _answer(session, "fb-b-tue", "C-B", 1, at("tue", 16))
    _answer(session, "fb-a-wed", "C-A", 5, at("wed", 9))
    ids["G"] = _open(session, at("wed", 9), "medium", "客服一组", topic="重复")
    loop_service.close(session=session, case_id=ids["G"], actor=LEAD, now=at("wed", 10))
    _followup(session, ids["B"], 1, "reopened", at("wed", 10), score=3)
    loop_service.reopen(
        session=session, case_id=ids["B"], actor=SYSTEM, now=at("wed", 10), policy=policy()
    )
    li = Actor("li.na", frozenset({"agent"}))
    loop_service.start(session=session, case_id=ids["B"], actor=li, now=at("wed", 10, 30))
    loop_service.resolve(session=session, case_id=ids["B"], actor=li, now=at("wed", 17))
    _answer(session, "fb-b-thu", "C-B", 8, at("thu", 9))
    _followup(session, ids["B"], 2, "closed_unverified", at("thu", 11))
    loop_service.close_unverified(
        session=session, case_id=ids["B"], actor=SYSTEM, now=at("thu", 11)
    )
    ids["E"] = _open(session, at("thu", 11), "low", "east", topic="包装")
    return ids


def scripted_store(folder: Path) -> tuple[Settings, dict[str, int]]:
    """A SQLite store in ``folder`` holding the scripted week, committed."""
    settings = Settings(database_url=f"sqlite:///{folder / 'health.db'}", import_batch_size=1000)
    store = api.connect(settings=settings)
    try:
        with session_scope(store.sessions) as session:
            ids = build(session)
    finally:
        store.close()
    return settings, ids
