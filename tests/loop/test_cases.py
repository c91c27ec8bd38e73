"""Cases on a real store: opened by a rule match with priority, owner and business-hour SLA
due times; later feedback joins the open case inside the rule's window; worked through the
status machine by the people allowed to; every step in the history; the queue an agent sees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cxloop.api import Store
from cxloop.db.session import session_scope
from cxloop.errors import Forbidden, Invalid
from cxloop.loop import service as loop_service
from cxloop.loop.models import Case, CaseEvent
from cxloop.loop.root_causes import parse_root_causes
from cxloop.loop.schemas import CaseCreate
from cxloop.loop.states import Actor
from tests.loop.case_support import (
    ADMIN,
    FRIDAY_5PM,
    LEAD,
    LI,
    SH,
    VIEWER,
    WANG,
    ZHAO,
    add_feedback,
    detractor,
    open_case,
    policy,
    set_up_teams,
)

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    with session_scope(store.sessions) as session:
        set_up_teams(session)
        yield session


def sh(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)  # type: ignore[misc]


def kinds(session: Session, case_id: int) -> list[str]:
    return [e.kind for e in loop_service.get_case(session=session, case_id=case_id).history]


def by_hand(session: Session, actor: Actor = LEAD, **values: object) -> int:
    data: dict[str, object] = {"title": "客户来电投诉包装破损", "severity": "medium"}
    data.update(values)
    made = loop_service.open_by_hand(
        session=session,
        case_in=CaseCreate.model_validate(data),
        policy=policy(),
        actor=actor,
        now=FRIDAY_5PM,
    )
    return made.id


def test_a_detractor_opens_a_case_with_priority_owner_and_due_times_over_the_weekend(
    session: Session,
) -> None:
    facts = detractor("survey:r-001", customer_id="C-001", value_percentile=95, churn_risk=0.8)
    opened = open_case(session, facts)
    case = opened.case
    assert opened.outcome == "opened"
    assert (case.status, case.priority, case.priority_score) == ("assigned", "p1", 67.08)
    explained = {f["factor"]: f["contribution"] for f in case.priority_explanation}
    assert explained == {"severity": 48.0, "value_percentile": 10.68, "churn_risk": 8.4}
    assert (case.team, case.owner, case.routing_via) == ("客服一组", "wang.fang", "default_team")
    assert "wang.fang: least loaded (0 open, ahead of li.na, zhang.wei in turn)" in (
        case.routing_reason or ""
    )
    assert case.topic == "配送/速度" and case.rule_id == "detractor-delivery"
    # Friday 17:00 in Shanghai, p1: 1 h to first response, 4 h to resolve, warnings at 75 %
    assert case.first_response_warn_at == sh(2026, 12, 4, 17, 45)
    assert case.first_response_due == sh(2026, 12, 4, 18, 0)
    assert case.resolution_warn_at == sh(2026, 12, 7, 11, 0)  # Monday, after the weekend
    assert case.resolution_due == sh(2026, 12, 7, 12, 0)
    detail = loop_service.get_case(session=session, case_id=case.id, now=FRIDAY_5PM)
    assert detail.feedback_ids == ["survey:r-001"]
    assert [e.kind for e in detail.history] == ["created", "assigned"]
    created = detail.history[0]
    assert created.actor == "cxloop" and created.at == FRIDAY_5PM
    assert created.data["why"] and created.data["priority"] == "p1"
    assert detail.case.next_due == sh(2026, 12, 4, 18, 0)
    assert detail.case.seconds_left == 3600.0


def test_later_feedback_joins_the_open_case_inside_the_window_and_opens_a_new_one_after(
    session: Session,
) -> None:
    first = open_case(session, detractor("survey:r-001", customer_id="C-001")).case
    again = open_case(session, detractor("survey:r-001", customer_id="C-001"))
    assert again.outcome == "unchanged" and again.case.id == first.id
    later = FRIDAY_5PM + 71 * HOUR
    joined = open_case(session, detractor("wechat:m-17", customer_id="C-001"), now=later)
    assert (joined.outcome, joined.case.id) == ("attached", first.id)
    detail = loop_service.get_case(session=session, case_id=first.id)
    assert detail.feedback_ids == ["survey:r-001", "wechat:m-17"]
    assert [e.kind for e in detail.history] == ["created", "assigned", "attached"]
    assert detail.history[-1].data["feedback_id"] == "wechat:m-17"
    # another topic of the same customer is another case
    other = detractor("app:9", customer_id="C-001", aspects=(("配送/包装", "negative"),))
    assert open_case(session, other).outcome == "opened"
    # past the rule's 72 hours the customer gets a new case
    after = open_case(session, detractor("email:3", customer_id="C-001"), now=later + 2 * HOUR)
    assert after.outcome == "opened" and after.case.id != first.id
    assert session.scalar(select(func.count()).select_from(Case)) == 3


def test_without_a_customer_the_account_then_the_feedback_itself_de_duplicates(
    session: Session,
) -> None:
    a1 = open_case(session, detractor("b2b:1", account_id="A-100")).case
    a2 = open_case(session, detractor("b2b:2", account_id="A-100"))
    assert (a2.outcome, a2.case.id) == ("attached", a1.id)
    anonymous = [open_case(session, detractor(f"anon:{n}")).outcome for n in range(2)]
    assert anonymous == ["opened", "opened"]


def test_a_resolved_case_takes_no_more_feedback(session: Session) -> None:
    first = open_case(session, detractor("survey:1", customer_id="C-9")).case
    loop_service.start(session=session, case_id=first.id, actor=WANG, now=FRIDAY_5PM)
    loop_service.resolve(session=session, case_id=first.id, actor=WANG, now=FRIDAY_5PM)
    assert open_case(session, detractor("survey:2", customer_id="C-9")).outcome == "opened"


def test_routing_spreads_cases_by_load_and_sends_east_china_to_east(session: Session) -> None:
    owners = [
        open_case(session, detractor(f"s:{n}", customer_id=f"C-{n}")).case.owner for n in range(4)
    ]
    assert owners == ["wang.fang", "li.na", "zhang.wei", "wang.fang"]
    li_case = loop_service.queue(session=session, now=FRIDAY_5PM, owner="li.na").items[0]
    loop_service.close(session=session, case_id=li_case.id, actor=LEAD, now=FRIDAY_5PM)
    assert open_case(session, detractor("s:5", customer_id="C-5")).case.owner == "li.na"
    east = open_case(session, detractor("s:6", customer_id="C-6", region="华东")).case
    assert (east.team, east.owner, east.routing_via) == ("east", "zhao.min", "rules[0]")
    assert "region = 华东" in (east.routing_reason or "")


def test_the_whole_life_of_a_case_is_in_its_history(session: Session) -> None:
    case_id = by_hand(session, team="客服一组", customer_id="C-42")
    assert loop_service.get_case(session=session, case_id=case_id).case.status == "new"
    steps = [
        (loop_service.take, WANG, {}),
        (loop_service.log_contact, WANG, {"channel": "电话", "summary": "已致电，客户同意补发"}),
        (loop_service.start, WANG, {}),
        (loop_service.wait_on_customer, WANG, {"reason": "等客户确认地址"}),
        (loop_service.start, WANG, {}),
        (loop_service.note, LI, {"text": "仓库确认已补发"}),
        (loop_service.set_root_cause, WANG, {"code": "delivery"}),
        (loop_service.resolve, WANG, {"summary": "补发完成"}),
        (loop_service.verify, ADMIN, {"evidence": "follow-up 9"}),
    ]
    for minute, (action, actor, extra) in enumerate(steps, start=1):
        action(
            session=session,
            case_id=case_id,
            actor=actor,
            now=FRIDAY_5PM + dt.timedelta(minutes=minute),
            **extra,
        )
    detail = loop_service.get_case(session=session, case_id=case_id)
    assert [e.kind for e in detail.history] == [
        "created",
        "assigned",
        "contact_logged",
        "status_changed",
        "status_changed",
        "sla_paused",
        "status_changed",
        "sla_resumed",
        "note",
        "root_cause_set",
        "status_changed",
        "status_changed",
    ]
    assert [e.actor for e in detail.history][8] == "li.na"
    assert [e.at for e in detail.history][-1] == FRIDAY_5PM + dt.timedelta(minutes=9)
    moves = [(e.data["from"], e.data["to"]) for e in detail.history if e.kind == "status_changed"]
    assert moves == [
        ("assigned", "in_progress"),
        ("in_progress", "waiting_on_customer"),
        ("waiting_on_customer", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "verified"),
    ]
    case = detail.case
    assert (case.status, case.owner, case.root_cause) == ("verified", "wang.fang", "delivery")
    assert case.first_responded_at == FRIDAY_5PM + dt.timedelta(minutes=2)
    assert case.verified_at == case.closed_at == FRIDAY_5PM + dt.timedelta(minutes=9)
    assert detail.allowed_actions == ["note"]


def test_refused_moves_name_the_status_and_change_nothing(session: Session) -> None:
    case_id = by_hand(session, team="客服一组", owner="wang.fang")
    with pytest.raises(Invalid) as refused:
        loop_service.verify(session=session, case_id=case_id, actor=ADMIN, now=FRIDAY_5PM)
    assert str(refused.value) == (
        "status: 'assigned' cannot verify a case that is assigned (only from: resolved)"
    )
    with pytest.raises(Invalid, match="cannot take a case that is assigned"):
        loop_service.take(session=session, case_id=case_id, actor=ADMIN, now=FRIDAY_5PM)
    assert kinds(session, case_id) == ["created", "assigned"]


def test_an_agent_of_another_team_or_a_viewer_is_refused(session: Session) -> None:
    case_id = by_hand(session, team="客服一组")
    for actor in (ZHAO, VIEWER):
        for action in (loop_service.take, loop_service.start):
            with pytest.raises(Forbidden):
                action(session=session, case_id=case_id, actor=actor, now=FRIDAY_5PM)
    with pytest.raises(Forbidden, match="only agents and leads of team 客服一组"):
        loop_service.note(session=session, case_id=case_id, text="x", actor=ZHAO, now=FRIDAY_5PM)
    loop_service.take(session=session, case_id=case_id, actor=LI, now=FRIDAY_5PM)
    with pytest.raises(Forbidden, match=r"belongs to li\.na: a lead of team 客服一组 reassigns"):
        loop_service.take(session=session, case_id=case_id, actor=WANG, now=FRIDAY_5PM)
    with pytest.raises(Forbidden, match=r"only a lead of team 客服一组 .* may assign"):
        loop_service.assign(
            session=session, case_id=case_id, owner="wang.fang", actor=LI, now=FRIDAY_5PM
        )
    with pytest.raises(Invalid, match="is not an active member of team 客服一组"):
        loop_service.assign(
            session=session, case_id=case_id, owner="zhou.left", actor=LEAD, now=FRIDAY_5PM
        )
    moved = loop_service.assign(
        session=session, case_id=case_id, owner="wang.fang", actor=LEAD, now=FRIDAY_5PM
    )
    assert (moved.owner, moved.status) == ("wang.fang", "assigned")
    assert kinds(session, case_id) == ["created", "assigned", "assigned"]


def test_reopens_are_counted_and_restart_the_resolution_clock(session: Session) -> None:
    case_id = by_hand(session, team="客服一组", owner="wang.fang")
    monday = sh(2026, 12, 7, 10, 0)
    for n in (1, 2):
        loop_service.resolve(session=session, case_id=case_id, actor=WANG, now=monday)
        case = loop_service.reopen(
            session=session, case_id=case_id, actor=ADMIN, now=monday, policy=policy()
        )
        assert (case.status, case.reopen_count, case.resolved_at) == ("reopened", n, None)
        loop_service.start(session=session, case_id=case_id, actor=WANG, now=monday)
    # medium, unknown value and risk → p3: 16 working hours from Monday 10:00 → Wednesday 10:00
    assert case.priority == "p3" and case.resolution_due == sh(2026, 12, 9, 10, 0)
    loop_service.resolve(session=session, case_id=case_id, actor=WANG, now=monday)
    closed = loop_service.close_unverified(
        session=session, case_id=case_id, actor=ADMIN, now=monday
    )
    assert closed.status == "closed_unverified" and closed.closed_at == monday


def test_root_causes_come_from_a_list(session: Session) -> None:
    case_id = by_hand(session, team="客服一组", owner="wang.fang")
    with pytest.raises(Invalid) as wrong:
        loop_service.set_root_cause(
            session=session, case_id=case_id, code="bad-luck", actor=WANG, now=FRIDAY_5PM
        )
    assert wrong.value.problems[0].field == "root_cause"
    assert "product_defect, delivery, staff_behaviour" in wrong.value.problems[0].reason
    own = parse_root_causes({"courier": {"en": "Courier", "zh": "快递员"}, "stock": "缺货"})
    done = loop_service.set_root_cause(
        session=session, case_id=case_id, code="courier", actor=WANG, now=FRIDAY_5PM, codes=own
    )
    assert done.root_cause == "courier"
    with pytest.raises(Invalid, match=r"\(courier, stock\)"):
        loop_service.set_root_cause(
            session=session, case_id=case_id, code="delivery", actor=WANG, now=FRIDAY_5PM, codes=own
        )
    with pytest.raises(Invalid) as bad_list:
        parse_root_causes(["Delivery Late", "ok"])
    assert bad_list.value.problems[0].value == "Delivery Late"


def test_the_queue_is_sorted_by_priority_then_time_left_and_counts_every_status(
    session: Session,
) -> None:
    def make(title: str, severity: str, at: dt.datetime) -> int:
        return loop_service.open_by_hand(
            session=session,
            case_in=CaseCreate(title=title, severity=severity, team="客服一组"),  # type: ignore[arg-type]
            policy=policy(),
            actor=LEAD,
            now=at,
        ).id

    low = make("low", "low", FRIDAY_5PM)
    high_late = make("high late", "high", FRIDAY_5PM + HOUR)
    high_early = make("high early", "high", FRIDAY_5PM)
    critical = make("critical", "critical", FRIDAY_5PM + 2 * HOUR)
    loop_service.take(session=session, case_id=low, actor=WANG, now=FRIDAY_5PM)
    loop_service.log_contact(
        session=session, case_id=high_early, channel="mail", summary="ack", actor=LI, now=FRIDAY_5PM
    )
    done = make("done", "critical", FRIDAY_5PM)
    loop_service.close(session=session, case_id=done, actor=LEAD, now=FRIDAY_5PM)
    monday = sh(2026, 12, 7, 10, 30)
    queue = loop_service.queue(session=session, now=monday, team="客服一组")
    # p1 first (first response due Monday 10:00); among the p2s the one still racing its first
    # response (due Monday 11:00) comes before the one answered (racing resolution, 17:00)
    assert [c.title for c in queue.items] == ["critical", "high late", "high early", "low"]
    assert queue.total == 4 and queue.counts["new"] == 3 and queue.counts["assigned"] == 1
    assert queue.counts["closed"] == 1 and queue.counts["verified"] == 0
    assert queue.overdue == 1  # the critical case's first response was due at 10:00
    mine = loop_service.queue(session=session, now=monday, owner="wang.fang")
    assert [c.title for c in mine.items] == ["low"] and mine.total == 1
    closed = loop_service.queue(session=session, now=monday, statuses=["closed"])
    assert [c.id for c in closed.items] == [done]
    with pytest.raises(Invalid, match="is not a case status"):
        loop_service.queue(session=session, now=monday, statuses=["open"])
    assert [c.id for c in loop_service.queue(session=session, now=monday, team="east").items] == []
    assert {high_late, critical} <= {c.id for c in queue.items if (c.seconds_left or 0) < 3600}


def test_opening_by_hand_checks_team_owner_and_feedback(session: Session) -> None:
    add_feedback(session, "phone:call-7", customer_id="C-7")
    with pytest.raises(Invalid) as wrong:
        by_hand(session, team="客服二组", feedback_ids=["phone:call-7", "phone:nope"])
    found = [(p.field, p.value) for p in wrong.value.problems]
    assert found == [("feedback_ids", "phone:nope"), ("team", "客服二组")]
    assert "teams: east, 客服一组" in wrong.value.problems[1].reason
    with pytest.raises(Invalid, match="not an active member of team east"):
        by_hand(session, team="east", owner="wang.fang")
    with pytest.raises(Forbidden):
        by_hand(session, team="east", actor=WANG)
    with pytest.raises(Forbidden, match="may assign"):
        by_hand(session, team="客服一组", owner="li.na", actor=WANG)
    mine = by_hand(
        session, team="客服一组", owner="wang.fang", actor=WANG, feedback_ids=["phone:call-7"]
    )
    detail = loop_service.get_case(session=session, case_id=mine)
    assert detail.feedback_ids == ["phone:call-7"] and detail.case.created_by == "wang.fang"


def test_sla_timers_fire_once_and_stop_when_answered(session: Session) -> None:
    case = open_case(session, detractor("s:1", customer_id="C-1", value_percentile=95)).case
    # p2: 2 h to first response (warn at 1 h 30), 8 h to resolve (warn at 6 h), from Fri 17:00
    assert case.priority == "p2"

    def fire(at: dt.datetime) -> list[tuple[str, str]]:
        due = loop_service.due_case_ids(session=session, now=at)
        return [f for i in due for f in loop_service.fire_due(session=session, case_id=i, now=at)]

    def next_check() -> dt.datetime | None:
        row = session.get(Case, case.id)
        assert row is not None
        return row.next_check_at

    assert next_check() == dt.datetime(2026, 12, 7, 1, 30)  # Monday 09:30 in Shanghai, as UTC
    assert fire(sh(2026, 12, 7, 9, 0)) == []
    assert fire(sh(2026, 12, 7, 9, 45)) == [("first_response", "warning")]
    assert fire(sh(2026, 12, 7, 9, 50)) == []  # a second tick, or a restarted ticker
    assert fire(sh(2026, 12, 7, 10, 30)) == [("first_response", "breach")]
    assert fire(sh(2026, 12, 7, 10, 31)) == []
    loop_service.log_contact(
        session=session,
        case_id=case.id,
        channel="电话",
        summary="已回电",
        actor=WANG,
        now=sh(2026, 12, 7, 10, 40),
    )
    assert next_check() == dt.datetime(2026, 12, 7, 7, 0)  # resolution warning, 15:00 Shanghai
    # a late tick: the resolution warning (15:00) is overtaken by its breach (17:00)
    assert fire(sh(2026, 12, 7, 18, 0)) == [("resolution", "breach")]
    assert fire(sh(2026, 12, 8, 9, 0)) == []
    loop_service.start(session=session, case_id=case.id, actor=WANG, now=sh(2026, 12, 8, 9, 0))
    loop_service.resolve(session=session, case_id=case.id, actor=WANG, now=sh(2026, 12, 8, 9, 5))
    assert next_check() is None
    history = loop_service.get_case(session=session, case_id=case.id).history
    escalations = [e.data for e in history if e.kind == "escalated"]
    assert escalations == [
        {"target": "first_response", "due": "2026-12-07T02:00:00Z", "to": "chen.lead"},
        {"target": "resolution", "due": "2026-12-07T09:00:00Z", "to": "chen.lead"},
    ]
    warned = select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "warned")
    assert session.scalar(warned) == 1  # the overtaken resolution warning warned nobody


def test_a_timer_another_ticker_fired_since_the_case_was_read_does_not_fire_again(
    session: Session,
) -> None:
    case = open_case(session, detractor("s:1", customer_id="C-1", value_percentile=95)).case
    row = session.get(Case, case.id)
    assert row is not None and row.first_response_escalated_at is None  # this ticker's read
    fired_elsewhere = dt.datetime(2026, 12, 7, 2, 1)
    session.execute(  # a second ticker (cron beside `serve`) fires both first-response timers
        update(Case)
        .where(Case.id == case.id)
        .values(
            first_response_warned_at=fired_elsewhere, first_response_escalated_at=fired_elsewhere
        )
        .execution_options(synchronize_session=False)
    )
    assert row.first_response_escalated_at is None  # the stale copy still says "not fired"
    assert (
        loop_service.fire_due(session=session, case_id=case.id, now=sh(2026, 12, 7, 10, 30)) == []
    )
    escalated = select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "escalated")
    assert session.scalar(escalated) == 0
    assert row.next_check_at == dt.datetime(2026, 12, 7, 7, 0)  # the resolution warning is next
