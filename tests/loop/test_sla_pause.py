"""While a case waits on the customer its SLA clocks stand still: no warning or escalation fires,
and when it moves on every pending due time moves later by the working time it waited (CN
calendar: a wait from Friday 17:30 to Monday 10:00 costs 30 + 60 working minutes, not 64 hours)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from cxloop.api import Store
from cxloop.db.session import session_scope
from cxloop.loop import service as loop_service
from cxloop.loop.models import Case, CaseEvent
from cxloop.loop.schemas import CaseRead
from tests.loop import tick_support
from tests.loop.tick_support import MINUTE, WANG, fired, open_case, sh, tick, utc

template = tick_support.template
db_path = tick_support.db_path
store = tick_support.store

OPENED = sh(2026, 12, 4, 17)
"""Friday; p2: first response warned Mon 09:36, due Mon 10:00; resolution warned Mon 15:24,
due Mon 17:00."""


def act(store: Store, action: str, case_id: int, at: dt.datetime, **extra: object) -> CaseRead:
    with session_scope(store.sessions) as session:
        function = getattr(loop_service, action)
        read: CaseRead = function(session=session, case_id=case_id, actor=WANG, now=at, **extra)
        return read


def history(store: Store, case_id: int, kind: str) -> list[dict[str, object]]:
    with session_scope(store.sessions) as session:
        events = session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
            .order_by(CaseEvent.id)
        )
        return [dict(e.data) for e in events]


def paused(store: Store, case_id: int) -> tuple[dt.datetime | None, float]:
    with session_scope(store.sessions) as session:
        row = session.get(Case, case_id)
        assert row is not None
        return row.sla_paused_at, row.sla_paused_s


def test_no_timer_fires_while_waiting_and_due_times_move_by_the_working_time_waited(
    store: Store,
) -> None:
    case_id = open_case(store, OPENED)
    waiting = act(store, "wait_on_customer", case_id, sh(2026, 12, 4, 17, 30), reason="等地址")
    assert waiting.status == "waiting_on_customer"
    assert paused(store, case_id) == (dt.datetime(2026, 12, 4, 9, 30), 0.0)  # stored in UTC
    for moment in (sh(2026, 12, 7, 10), sh(2026, 12, 7, 17), sh(2026, 12, 8, 9)):
        counts = tick(store, moment)
        assert (counts["cases"], counts["warned"], counts["escalated"]) == (0, 0, 0)
    assert fired(store, case_id) == []

    resumed = act(store, "start", case_id, sh(2026, 12, 7, 10))
    assert paused(store, case_id) == (None, 5400.0)  # Fri 17:30–18:00 + Mon 09:00–10:00
    assert [
        resumed.first_response_warn_at,
        resumed.first_response_due,
        resumed.resolution_warn_at,
        resumed.resolution_due,
    ] == [
        utc(sh(2026, 12, 7, 11, 6)),  # 09:36 + 90 working minutes
        utc(sh(2026, 12, 7, 11, 30)),  # 30 min used before the wait, 1h30m left from 10:00
        utc(sh(2026, 12, 7, 16, 54)),
        utc(sh(2026, 12, 8, 9, 30)),  # 17:00 + 1h to closing + 30 min on Tuesday
    ]
    (note,) = history(store, case_id, "sla_resumed")
    assert note["business_seconds"] == 5400.0
    assert note["moved"] == {
        "first_response_warn_at": "2026-12-07T03:06:00Z",
        "first_response_due": "2026-12-07T03:30:00Z",
        "resolution_warn_at": "2026-12-07T08:54:00Z",
        "resolution_due": "2026-12-08T01:30:00Z",
    }
    assert history(store, case_id, "sla_paused") == [{}]

    assert tick(store, sh(2026, 12, 7, 11, 5))["warned"] == 0
    assert tick(store, sh(2026, 12, 7, 11, 6))["warned"] == 1
    assert tick(store, sh(2026, 12, 7, 11, 30) - MINUTE)["escalated"] == 0
    assert tick(store, sh(2026, 12, 7, 11, 30))["escalated"] == 1


def test_a_first_response_given_before_the_wait_keeps_its_due_time_and_waits_add_up(
    store: Store,
) -> None:
    case_id = open_case(store, OPENED)
    act(store, "log_contact", case_id, sh(2026, 12, 4, 17, 10), channel="电话", summary="已联系")
    act(store, "wait_on_customer", case_id, sh(2026, 12, 4, 17, 20))
    first = act(store, "start", case_id, sh(2026, 12, 7, 9, 30))  # waited 40 + 30 minutes
    assert first.first_response_due == utc(sh(2026, 12, 7, 10))  # answered: history, unmoved
    assert first.resolution_due == utc(sh(2026, 12, 8, 9, 10))  # Mon 17:00 + 70 working min
    act(store, "wait_on_customer", case_id, sh(2026, 12, 7, 11))
    done = act(store, "resolve", case_id, sh(2026, 12, 7, 14), summary="已补发")  # 1h + 1h
    assert done.status == "resolved"
    assert paused(store, case_id) == (None, 70 * 60.0 + 2 * 3600.0)
    assert [e["business_seconds"] for e in history(store, case_id, "sla_resumed")] == [
        4200.0,
        7200.0,
    ]
