"""The demo closes its own loop: teams, logins, rules and cases in every status, opened by its
rules from its own newest feedback; a detractor answer posted to it opens a case at once."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cxloop.api import connect
from cxloop.cli.context import console
from cxloop.cli.demo import print_loop
from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.demo import loop_cases
from cxloop.demo.loop import DemoLoop, load_demo_with_loop
from cxloop.feedback.models import Feedback
from cxloop.loop import evaluation, teams
from cxloop.loop import tick as loop_tick
from cxloop.loop.calendar import preset
from cxloop.loop.models import Case, CaseEvent, CaseFollowup, FeedbackCheck
from cxloop.loop.states import STATUSES
from cxloop.privacy import service as privacy_service
from cxloop.privacy.roles import Role
from cxloop.privacy.schemas import TokenCreate, UserCreate
from cxloop.surveys.models import SurveyResponse
from cxloop.web.app import create_app

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 9, 30, tzinfo=SHANGHAI).astimezone(dt.UTC)
"""A Monday, half an hour into the week: the working hours before it lie on Friday."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, DemoLoop]]:
    """The default demo company with its loop closed at ``NOW`` (20–40 s)."""
    folder = tmp_path_factory.mktemp("demo-loop")
    settings = Settings(database_url=f"sqlite:///{folder / 'demo.db'}", import_batch_size=1000)
    store = connect(settings=settings)
    try:
        built = load_demo_with_loop(
            sessions=store.sessions, settings=settings, folder=folder / "files", now=NOW
        )
    finally:
        store.close()
    yield settings, built


def _cases(settings: Settings) -> list[Case]:
    store = connect(settings=settings)
    try:
        with store.sessions() as session:
            return list(session.scalars(select(Case).order_by(Case.id)))
    finally:
        store.close()


@pytest.mark.slow
def test_the_demo_has_cases_in_every_status_opened_by_its_rules(
    demo: tuple[Settings, DemoLoop],
) -> None:
    settings, built = demo
    cases = _cases(settings)
    by_status = {s: sum(c.status == s for c in cases) for s in STATUSES}
    assert all(by_status[s] >= 1 for s in STATUSES), by_status
    assert by_status == built.by_status
    by_rules = [c for c in cases if c.rule_id is not None]
    by_hand = [c for c in cases if c.rule_id is None]
    assert len(by_rules) >= 10 and built.evaluation["opened"] == len(by_rules)
    assert [(c.status, c.created_by, c.owner) for c in by_hand] == [("new", "chen.lead", None)]
    store = connect(settings=settings)
    try:
        with store.sessions() as session:
            latest_run = session.scalar(select(func.max(Feedback.import_run_id)))
            origins = {
                f: run
                for f, run in session.execute(
                    select(Feedback.feedback_id, Feedback.import_run_id).where(
                        Feedback.feedback_id.in_([c.origin_feedback_id for c in by_rules])
                    )
                )
            }
    finally:
        store.close()
    assert set(origins.values()) == {latest_run}, "every rule case comes from the newest feedback"
    assert all(c.team in ("客服一组", "物流体验组") and c.priority for c in cases)
    assert all(c.owner for c in cases if c.status != "new")


@pytest.mark.slow
def test_every_feedback_that_arrived_after_the_rules_was_checked_so_serving_opens_no_more(
    demo: tuple[Settings, DemoLoop],
) -> None:
    settings, built = demo
    store = connect(settings=settings)
    try:
        with store.sessions() as session:  # never committed: the job's run is rolled back
            latest_run = session.scalar(select(func.max(Feedback.import_run_id)))
            arrived = session.scalar(
                select(func.count()).where(Feedback.import_run_id == latest_run)
            )
            checked = session.scalar(select(func.count()).select_from(FeedbackCheck))
            assert arrived == checked == built.evaluation["checked"] > 200
            again = evaluation.evaluate_pending(
                session=session, settings=settings, now=NOW + dt.timedelta(minutes=1)
            )
            assert again.opened == again.checked == 0
            ticked = loop_tick.tick(session=session, settings=settings, now=NOW)
            assert (ticked["warned"], ticked["escalated"]) == (0, 0), "fired once, at build"
            session.rollback()
    finally:
        store.close()


@pytest.mark.slow
def test_one_case_is_at_warning_and_one_is_escalated_to_its_team_lead(
    demo: tuple[Settings, DemoLoop],
) -> None:
    settings, built = demo
    cases = {c.id: c for c in _cases(settings)}
    assert built.escalated and built.warned
    naive_now = NOW.replace(tzinfo=None)
    for case_id in built.warned:
        case = cases[case_id]
        assert case.status == "assigned" and case.first_responded_at is None
        assert case.first_response_warn_at is not None and case.first_response_due is not None
        assert case.first_response_warn_at <= naive_now < case.first_response_due
    for case_id in built.escalated:
        case = cases[case_id]
        assert case.first_response_due is not None and case.first_response_due <= naive_now
    store = connect(settings=settings)
    try:
        with store.sessions() as session:
            escalations = session.execute(
                select(CaseEvent.case_id, CaseEvent.data).where(CaseEvent.kind == "escalated")
            ).all()
            leads = {t.name: t.lead for t in teams.list_teams(session=session)}
    finally:
        store.close()
    assert [case_id for case_id, _ in escalations] == built.escalated
    assert all(data["to"] == leads[str(cases[i].team)] for i, data in escalations)
    open_cases = [c for c in cases.values() if c.status in ("in_progress", "waiting_on_customer")]
    assert all(c.first_responded_at and not c.resolution_warned_at for c in open_cases)


@pytest.mark.slow
def test_worked_cases_carry_notes_contacts_root_causes_and_a_reopen(
    demo: tuple[Settings, DemoLoop],
) -> None:
    settings, _ = demo
    cases = _cases(settings)
    done = [c for c in cases if c.status in ("resolved", "verified", "closed_unverified")]
    assert done and all(c.root_cause and c.first_responded_at and c.resolved_at for c in done)
    assert all(c.verified_at for c in cases if c.status == "verified")
    reopened = [c for c in cases if c.status == "reopened"]
    assert [c.reopen_count for c in reopened] == [1] and reopened[0].owner
    waiting = [c for c in cases if c.status == "waiting_on_customer"]
    assert all(c.sla_paused_at is not None for c in waiting), "its SLA clocks stand still"
    store = connect(settings=settings)
    try:
        with store.sessions() as session:
            kinds = dict(
                session.execute(select(CaseEvent.kind, func.count()).group_by(CaseEvent.kind)).all()
            )
    finally:
        store.close()
    for kind in ("created", "assigned", "note", "contact_logged", "root_cause_set"):
        assert kinds.get(kind, 0) >= 1, kinds


@pytest.mark.slow
def test_verified_reopened_and_unverified_cases_come_from_real_follow_up_answers(
    demo: tuple[Settings, DemoLoop],
) -> None:
    """Each finished case was asked through ``loop.followup``: a completed survey response of
    9 verified it, of 3 reopened it, and no response closed it unverified after the window."""
    settings, _ = demo
    store = connect(settings=settings)
    try:
        with store.sessions() as session:
            rows = session.execute(
                select(Case.id, Case.status, CaseFollowup, SurveyResponse)
                .join(CaseFollowup, CaseFollowup.case_id == Case.id)
                .outerjoin(SurveyResponse, SurveyResponse.id == CaseFollowup.response_id)
                .order_by(Case.id)
            ).all()
            asked = {case_id for case_id, *_ in rows}
            finished = set(
                session.scalars(
                    select(Case.id).where(
                        Case.status.in_(("verified", "reopened", "closed_unverified"))
                    )
                )
            )
    finally:
        store.close()
    assert finished and finished <= asked, "every verified, reopened, unverified case was asked"
    seen = set()
    for _, status, followup, response in rows:
        seen.add(status)
        assert followup.invitation_id is not None and followup.sent_at is not None
        if status == "verified":
            assert (followup.outcome, followup.score) == ("verified", 9.0)
            assert response.status == "completed" and response.answers == {"solved": "9"}
        elif status == "reopened":
            assert (followup.outcome, followup.score, followup.solved) == ("reopened", 3.0, False)
            assert response.status == "completed" and response.answers == {"solved": "3"}
        else:
            assert status == "closed_unverified" and followup.outcome == "closed_unverified"
            assert response is None and followup.answered_at is None
            assert followup.due_at <= NOW.replace(tzinfo=None)
    assert seen == {"verified", "reopened", "closed_unverified"}


def test_a_follow_up_script_moves_onto_a_feedback_with_a_customer_to_ask() -> None:
    scripts = dict(zip("abc", loop_cases.CORE[2:5], strict=True))  # closed, reopened, resolved
    moved = loop_cases.reachable_first(scripts, {"a": True, "b": False, "c": True})
    assert [moved[k].ends for k in "abc"] == ["reopened", "closed", "resolved"]
    kept = loop_cases.reachable_first(scripts, {"a": False, "b": False, "c": True})
    assert [kept[k].ends for k in "abc"] == ["closed", "reopened", "resolved"]


@pytest.mark.slow
def test_the_demo_logins_work_and_its_teams_have_agents_and_leads(
    demo: tuple[Settings, DemoLoop],
) -> None:
    settings, built = demo
    assert built.rules_version == 1 and built.rules_enabled == 5
    assert built.policy.startswith("CN business calendar (Asia/Shanghai)")
    assert "p1 1h/4h" in built.policy and "p4 8h/40h" in built.policy
    store = connect(settings=settings)
    try:
        with store.sessions() as session:
            for user in built.users:
                issued = privacy_service.login(
                    session=session, username=user.name, password=user.password
                )
                assert issued.token
            roles = {u.username: u.role for u in privacy_service.list_users(session=session)}
            saved = teams.list_teams(session=session)
    finally:
        store.close()
    assert roles["guest"] == "viewer" and roles["wang.fang"] == roles["chen.lead"] == "agent"
    for team in saved:
        agents = [m for m in team.members if m.role == "agent" and m.active]
        assert team.lead and len(agents) >= 2, team


@pytest.mark.slow
def test_a_detractor_answer_posted_to_the_demo_opens_a_case_within_a_second(
    demo: tuple[Settings, DemoLoop], tmp_path: Path
) -> None:
    source, _ = demo
    shutil.copy(source.database_url.removeprefix("sqlite:///"), tmp_path / "demo.db")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}")
    store = connect(settings=settings)
    with session_scope(store.sessions) as session:
        privacy_service.create_user(
            session=session, user_in=UserCreate(username="etl", role=Role.analyst)
        )
        token = privacy_service.create_token(
            session=session, token_in=TokenCreate(username="etl", name="test")
        ).token

    def answer(n: int) -> dict[str, object]:
        return {
            "feedback_id": f"posted-{n}",
            "channel": "survey",
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "customer_id": f"C000{n}00",
            "nps": 2,
            "text": "客服态度很差，打了三次电话都没人理",
        }

    took = []
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200  # the app is up: time the posts alone
        for n in (1, 2):  # the first loads the text engine into the process; the second is warm
            started = time.perf_counter()
            response = client.post(
                "/api/v1/feedback",
                json={"rows": [answer(n)]},
                headers={"Authorization": f"Bearer {token}"},
            )
            took.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
            assert response.json()["cases"]["opened"] == 1
        with store.sessions() as session:  # another connection: the cases are committed
            cases = [
                session.scalar(select(Case).where(Case.customer_id == f"C000{n}00")) for n in (1, 2)
            ]
    store.close()
    print(
        "\nPOST /api/v1/feedback → case stored: "
        + ", then ".join(f"{seconds * 1000:.0f} ms" for seconds in took)
    )
    for case in cases:
        assert case is not None and case.rule_id == "detractor-service"
        assert case.team == "客服一组" and case.owner in ("wang.fang", "li.na")
        assert case.priority and case.first_response_due and case.resolution_due


def test_working_hours_are_counted_back_over_the_national_day_holiday() -> None:
    calendar = preset("CN")
    end = dt.datetime(2026, 10, 8, 9, 30, tzinfo=SHANGHAI)  # the first working day after it
    start = loop_cases.back(calendar, end, 1.0)
    assert start < dt.datetime(2026, 10, 1, tzinfo=SHANGHAI)
    assert calendar.business_time_between(start, end) == dt.timedelta(hours=1)
    assert calendar.is_working(start)
    weekend = dt.datetime(2026, 12, 6, 15, 0, tzinfo=SHANGHAI)  # a Sunday
    assert loop_cases.back(calendar, weekend, 0.5) == dt.datetime(
        2026, 12, 4, 17, 30, tzinfo=SHANGHAI
    )


def test_fewer_cases_than_the_core_keep_the_newest_scripts() -> None:
    assert [s.ends for s in loop_cases.plan(3)] == ["escalated", "warning", "assigned"]
    many = loop_cases.plan(len(loop_cases.CORE) + 5)
    assert [s.ends for s in many[5:]] == [s.ends for s in loop_cases.CORE]
    assert {s.ends for s in many[:5]} <= {"verified", "closed_unverified"}
    opened = [s.opened for s in many[:5]]
    assert opened == sorted(opened, reverse=True), "older history first"


@pytest.mark.slow
def test_the_demo_command_prints_the_loop_it_closed(demo: tuple[Settings, DemoLoop]) -> None:
    _, built = demo
    with console.capture() as captured:
        print_loop(built)
    text = captured.get()
    assert "alert rules: version 1, 5 enabled (files/rules.yaml)" in text
    assert "SLA policy: CN business calendar (Asia/Shanghai)" in text
    assert f"Alert rules: {built.evaluation['opened']} cases opened" in text
    assert "cases: new 1 · assigned " in text and "closed_unverified " in text
    assert f"escalated: case {', '.join(map(str, built.escalated))}" in text
