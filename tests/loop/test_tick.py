"""The loop's clock on a real store with an injected clock and the built-in CN policy: each SLA
warning and escalation fires at the business-hour moment computed by hand below — across a
weekend, 国庆 and 春节 2026, and onto adjusted working Saturdays (调休) — not a minute before,
exactly once, and a restarted ticker fires and queues nothing again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from cxloop.api import Store, connect
from cxloop.db.session import session_scope
from cxloop.jobs import clock
from cxloop.jobs import tick as jobs_tick
from cxloop.jobs.loop_jobs import LOOP_JOBS
from cxloop.loop import service as loop_service
from cxloop.loop import teams as loop_teams
from cxloop.loop.models import Case, CaseEvent, LoopState
from cxloop.loop.policy import sla_policy
from cxloop.loop.schemas import CaseCreate, TeamWrite
from cxloop.loop.states import Actor
from tests.loop import tick_support
from tests.loop.tick_support import (
    MINUTE,
    fired,
    open_case,
    outbox,
    outbox_size,
    settings_for,
    sh,
    tick,
    utc,
)

template = tick_support.template
db_path = tick_support.db_path
store = tick_support.store

# p2 (severity high): first response 2h, warned at 1h36m; resolution 8h, warned at 6h24m.
# p3 (severity medium): first response 4h, warned at 3h12m; resolution 16h, warned at 12h48m.
# Working time: Mon–Fri 09:00–12:00 and 13:00–18:00 (Asia/Shanghai), CN holidays and 调休.
SCENARIOS = [
    pytest.param(
        sh(2026, 12, 4, 17),  # Friday 17:00: one working hour left, then the weekend
        "high",
        [
            (sh(2026, 12, 7, 9, 36), "warned", "first_response"),  # 1h Fri + 36m Mon
            (sh(2026, 12, 7, 10), "escalated", "first_response"),  # 1h Fri + 1h Mon
            (sh(2026, 12, 7, 15, 24), "warned", "resolution"),  # 1h + 3h morning + 2h24m
            (sh(2026, 12, 7, 17), "escalated", "resolution"),  # 1h + 3h + 4h
        ],
        id="weekend",
    ),
    pytest.param(
        sh(2026, 9, 30, 17),  # the eve of 国庆: Oct 1–7 are off, work resumes Thursday Oct 8
        "high",
        [
            (sh(2026, 10, 8, 9, 36), "warned", "first_response"),
            (sh(2026, 10, 8, 10), "escalated", "first_response"),
            (sh(2026, 10, 8, 15, 24), "warned", "resolution"),
            (sh(2026, 10, 8, 17), "escalated", "resolution"),
        ],
        id="national-day",
    ),
    pytest.param(
        sh(2026, 10, 9, 17),  # Friday; Saturday Oct 10 is a 调休 working day
        "high",
        [
            (sh(2026, 10, 10, 9, 36), "warned", "first_response"),
            (sh(2026, 10, 10, 10), "escalated", "first_response"),
            (sh(2026, 10, 10, 15, 24), "warned", "resolution"),
            (sh(2026, 10, 10, 17), "escalated", "resolution"),
        ],
        id="adjusted-saturday",
    ),
    pytest.param(
        sh(2026, 2, 13, 17),  # Friday before 春节: Sat Feb 14 worked (调休), Feb 15–23 off
        "medium",
        [
            (sh(2026, 2, 14, 11, 12), "warned", "first_response"),  # 1h Fri + 2h12m Sat
            (sh(2026, 2, 14, 12), "escalated", "first_response"),  # 1h Fri + 3h Sat
            (sh(2026, 2, 24, 13, 48), "warned", "resolution"),  # 1h + 8h Sat + 3h48m Tue
            (sh(2026, 2, 24, 17), "escalated", "resolution"),  # 1h + 8h Sat + 7h Tue
        ],
        id="spring-festival",
    ),
]


@pytest.mark.parametrize(("opened", "severity", "moments"), SCENARIOS)
def test_warnings_and_escalations_fire_at_the_business_hour_moments(
    store: Store,
    opened: dt.datetime,
    severity: str,
    moments: list[tuple[dt.datetime, str, str]],
) -> None:
    case_id = open_case(store, opened, severity=severity)
    with session_scope(store.sessions) as session:
        case = loop_service.get_case(session=session, case_id=case_id).case
    stored = [
        case.first_response_warn_at,
        case.first_response_due,
        case.resolution_warn_at,
        case.resolution_due,
    ]
    assert stored == [utc(moment) for moment, _, _ in moments]

    expected: list[tuple[str, str, dt.datetime]] = []
    for moment, kind, target in moments:
        early = tick(store, moment - MINUTE)
        assert (early["warned"], early["escalated"]) == (0, 0), f"fired before {moment}"
        assert fired(store, case_id) == expected
        on_time = tick(store, moment)
        assert (on_time["warned"], on_time["escalated"]) == (
            int(kind == "warned"),
            int(kind == "escalated"),
        )
        expected.append((kind, target, utc(moment)))
        assert fired(store, case_id) == expected
    later = tick(store, moments[-1][0] + dt.timedelta(days=30))
    assert (later["cases"], later["warned"], later["escalated"]) == (0, 0, 0)
    assert fired(store, case_id) == expected


def test_an_escalation_names_the_lead_and_fires_once_however_often_the_ticker_runs(
    store: Store,
) -> None:
    case_id = open_case(store, sh(2026, 12, 4, 17))
    late = sh(2026, 12, 8, 9)  # past every moment of the case: all four are due at once
    first = tick(store, late)
    assert (first["cases"], first["warned"], first["escalated"]) == (1, 0, 2)
    for _ in range(3):
        again = tick(store, late + dt.timedelta(hours=1))
        assert (again["cases"], again["warned"], again["escalated"]) == (0, 0, 0)
    with session_scope(store.sessions) as session:
        escalations = list(
            session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "escalated")
            )
        )
    assert [(e.data["target"], e.data["to"]) for e in escalations] == [
        ("first_response", "chen.lead"),
        ("resolution", "chen.lead"),
    ]


def test_a_restarted_ticker_fires_nothing_and_queues_nothing_twice(
    db_path: Path, smtp_server: object
) -> None:
    settings = smtp_server.settings(  # type: ignore[attr-defined]
        database_url=f"sqlite:///{db_path}", loop_notify_languages={"li.na": "en"}
    )
    first = connect(settings=settings)
    try:
        case_id = open_case(first, sh(2026, 12, 4, 17))
        tick(first, sh(2026, 12, 4, 17, 1))  # the owner's "assigned" mail
        tick(first, sh(2026, 12, 7, 9, 36))  # first-response warning
        tick(first, sh(2026, 12, 7, 10))  # and escalation
        queued = outbox(first)
    finally:
        first.close()
    assert [key for _, _, key in queued] == [
        f"case:{case_id}:event:{e}:{kind}:mail"
        for e, kind in zip(
            _event_ids(db_path, case_id), ("assigned", "warning", "escalated"), strict=True
        )
    ]
    assert [target for _, target, _ in queued] == [
        "wang.fang@example.com",
        "wang.fang@example.com",
        "chen.lead@example.com",
    ]

    restarted = connect(settings=settings_for(db_path, smtp_host="127.0.0.1"))  # a new engine
    try:
        for at in (sh(2026, 12, 4, 17, 1), sh(2026, 12, 7, 9, 36), sh(2026, 12, 7, 10)):
            again = tick(restarted, at)
            assert (again["warned"], again["escalated"], again["mails"]) == (0, 0, 0)
        assert outbox_size(restarted) == 3
        # the watermark lost (rewound to the start): the outbox keys still refuse repeats
        with session_scope(restarted.sessions) as session:
            state = session.get(LoopState, "notices")
            assert state is not None
            state.value = {"event_id": 0, "gaps": {}}
        tick(restarted, sh(2026, 12, 7, 10))
        assert outbox(restarted) == queued
    finally:
        restarted.close()


def test_a_late_tick_escalates_without_warning_of_a_due_time_already_passed(
    db_path: Path,
) -> None:
    store = connect(settings=settings_for(db_path, smtp_host="127.0.0.1"))  # mails are queued
    try:
        case_id = open_case(store, sh(2026, 12, 4, 17))
        tick(store, sh(2026, 12, 4, 17, 1))  # the owner's "assigned" mail
        # the server was down all Monday: at 16:00 the first response's warning (09:36) and
        # breach (10:00) are both due, and the resolution's warning (15:24) alone
        late = tick(store, sh(2026, 12, 7, 16))
        assert (late["cases"], late["warned"], late["escalated"]) == (1, 1, 1)
        assert fired(store, case_id) == [
            ("escalated", "first_response", utc(sh(2026, 12, 7, 16))),
            ("warned", "resolution", utc(sh(2026, 12, 7, 16))),
        ]
        # days later: the resolution's breach is due; its warning fired already, on time
        assert tick(store, sh(2026, 12, 9, 9))["escalated"] == 1
        again = tick(store, sh(2026, 12, 30, 9))  # the skipped warning never fires later
        assert (again["cases"], again["warned"], again["escalated"]) == (0, 0, 0)
        with session_scope(store.sessions) as session:
            row = session.get(Case, case_id)
            assert row is not None and row.first_response_warned_at == sh(2026, 12, 7, 8).replace(
                tzinfo=None
            )
        kinds = [key.split(":")[-2] for _, _, key in outbox(store)]
        assert kinds == ["assigned", "escalated", "warning", "escalated"]
    finally:
        store.close()


def test_a_team_without_a_lead_counts_the_notices_that_reach_nobody(store: Store) -> None:
    with session_scope(store.sessions) as session:
        loop_teams.save_team(
            session=session, team_in=TeamWrite(name="夜班", members=[{"name": "sun.li"}])
        )
        case = loop_service.open_by_hand(
            session=session,
            case_in=CaseCreate(title="夜间投诉", severity="high", team="夜班"),
            policy=sla_policy(store.settings),
            actor=Actor("root", frozenset({"admin"})),
            now=sh(2026, 12, 4, 17),
        )
    tick(store, sh(2026, 12, 4, 17, 1))
    warned = tick(store, sh(2026, 12, 7, 9, 36))  # no owner, no lead: the warning reaches nobody
    assert (warned["warned"], warned["no_lead"], warned["no_address"]) == (1, 1, 0)
    late = tick(store, sh(2026, 12, 8, 9))  # both escalations (the resolution's warning skipped)
    assert (late["escalated"], late["no_lead"], late["no_address"]) == (2, 2, 0)
    with session_scope(store.sessions) as session:
        escalated = session.scalars(
            select(CaseEvent.data).where(
                CaseEvent.case_id == case.id, CaseEvent.kind == "escalated"
            )
        )
        assert [data["to"] for data in escalated] == ["", ""]


def _event_ids(path: Path, case_id: int) -> list[int]:
    """Ids of the case's assigned, warned and escalated events (in that order of kinds)."""
    reader = connect(settings=settings_for(path))
    try:
        with session_scope(reader.sessions) as session:
            rows = session.execute(
                select(CaseEvent.id, CaseEvent.kind, CaseEvent.data)
                .where(CaseEvent.case_id == case_id)
                .order_by(CaseEvent.id)
            ).all()
    finally:
        reader.close()
    wanted = []
    for kind in ("assigned", "warned", "escalated"):
        wanted.append(next(i for i, k, d in rows if k == kind and d.get("target") != "resolution"))
    return wanted


def test_the_loop_jobs_are_registered_and_run_on_the_servers_clock_too(db_path: Path) -> None:
    settings = settings_for(db_path)
    outcomes = jobs_tick.run(settings, dt.datetime(2026, 12, 7, 2, 0), only=LOOP_JOBS)
    assert list(outcomes) == list(LOOP_JOBS)
    assert {name: o.error for name, o in outcomes.items()} == dict.fromkeys(LOOP_JOBS)
    assert outcomes["loop.fire_timers"].counts["cases"] == 0
    assert set(LOOP_JOBS) <= set(clock.due_jobs({}, 0.0, skip=clock.WEB_SKIPS))
