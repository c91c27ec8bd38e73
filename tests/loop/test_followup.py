"""The follow-up that verifies a fix, through the real survey form: a resolved case's customer
gets a mail (a real SMTP server), opens the link and answers; 9 verifies the case, 3 reopens
it to its owner, no answer in the window closes it unverified, and a reopened case resolved
again is asked again (round 2). Every step run twice changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from cxloop.db.session import session_scope
from cxloop.feedback.models import Feedback
from cxloop.loop import case_actions
from cxloop.loop import followup_survey as survey
from cxloop.loop.models import CaseFollowup
from cxloop.surveys import service as surveys_service
from cxloop.surveys.models import Invitation
from cxloop.surveys.response_feedback import ingest_pending
from tests.loop import followup_support
from tests.loop.case_support import LEAD, WANG, policy
from tests.loop.followup_support import Desk

mail = followup_support.mail
base_store = followup_support.base_store
desk = followup_support.desk

ZH_ADDRESS = "wang.fang@example.com"
EN_ADDRESS = "amy.lee@example.com"
DAY = dt.timedelta(days=1)
NOTHING_SENT = {
    "sent": 0,
    "not_sent": 0,
    "waiting_quiet_hours": 0,
    "no_mail_server": 0,
    "failed": 0,
    "taken": 0,
    "survey_archived": 0,
}


def test_answering_9_on_the_form_verifies_the_case(desk: Desk) -> None:
    case_id = desk.resolved_case(customer_id="C-ZH")
    assert desk.step("send_due") == NOTHING_SENT | {"sent": 1}

    (message,) = desk.mails_to(ZH_ADDRESS)
    assert "您的问题解决了吗" in str(message["Subject"])
    page = desk.client.get(desk.link(ZH_ADDRESS))
    assert "请打分 0–10（0 = 完全没有，10 = 完全解决）" in page.text
    posted = desk.answer(desk.link(ZH_ADDRESS), 9)
    assert posted.status_code == 200 and "感谢您的回答" in posted.text
    assert desk.case(case_id).status == "resolved"  # the answer is stored; the step decides

    counts = desk.step("record_answers")
    assert counts == {"verified": 1, "reopened": 0, "late": 0, "unreadable": 0, "not_sent": 0}
    case = desk.case(case_id)
    assert case.status == "verified" and case.verified_at is not None
    (followup,) = desk.followups(case_id)
    assert (followup.outcome, followup.score, followup.solved, followup.round) == (
        "verified",
        9.0,
        True,
        1,
    )
    verified = [e for e in desk.events(case_id) if e.data.get("to") == "verified"]
    assert verified[0].actor == "cxloop"
    assert verified[0].data["evidence"] == (
        f"follow-up {followup.id} (round 1): the customer answered 9"
    )
    kinds = [e.kind for e in desk.events(case_id)]
    assert kinds[-3:] == ["followup_sent", "followup_answered", "status_changed"]


def test_answering_3_reopens_the_case_to_its_owner_and_round_2_asks_again(desk: Desk) -> None:
    case_id = desk.resolved_case(customer_id="C-ZH")
    desk.step("send_due")
    desk.answer(desk.link(ZH_ADDRESS), 3)

    later = desk.now + dt.timedelta(minutes=30)
    assert desk.step("record_answers", later)["reopened"] == 1
    case = desk.case(case_id)
    assert (case.status, case.owner, case.reopen_count) == ("reopened", "wang.fang", 1)
    assert case.resolved_at is None
    restarted = policy().deadlines(later, case.priority).resolution_due  # the clock restarts
    assert case.resolution_due == restarted.astimezone(dt.UTC).replace(tzinfo=None)
    reopened = [e for e in desk.events(case_id) if e.data.get("to") == "reopened"]
    assert reopened[0].data["reason"] == "the customer answered 3: not solved"
    (first,) = desk.followups(case_id)
    assert (first.outcome, first.score, first.solved) == ("reopened", 3.0, False)

    # nothing to ask while the case is open again
    assert desk.step("send_due", later) == NOTHING_SENT
    with session_scope(desk.store.sessions) as session:
        desk.resolve(session, case_id, later + dt.timedelta(hours=1))
    again = later + dt.timedelta(hours=2)
    assert desk.step("send_due", again)["sent"] == 1
    assert len(desk.mails_to(ZH_ADDRESS)) == 2
    desk.answer(desk.link(ZH_ADDRESS), 8)
    assert desk.step("record_answers", again)["verified"] == 1
    rounds = {f.round: f.outcome for f in desk.followups(case_id)}
    assert rounds == {1: "reopened", 2: "verified"}
    assert desk.case(case_id).status == "verified"


def test_no_answer_in_the_window_closes_the_case_unverified_and_a_late_answer_changes_nothing(
    desk: Desk,
) -> None:
    case_id = desk.resolved_case(customer_id="C-ZH")
    desk.step("send_due")
    (followup,) = desk.followups(case_id)
    assert followup.due_at == desk.now.replace(tzinfo=None) + 7 * DAY  # loop_followup_days

    assert desk.step("close_expired", desk.now + 7 * DAY - dt.timedelta(minutes=1)) == {
        "closed_unverified": 0,
        "withdrawn": 0,
    }
    assert desk.case(case_id).status == "resolved"
    expired = desk.now + 7 * DAY
    assert desk.step("close_expired", expired)["closed_unverified"] == 1
    case = desk.case(case_id)
    assert case.status == "closed_unverified" and case.closed_at is not None
    (followup,) = desk.followups(case_id)
    assert (followup.outcome, followup.reason) == ("closed_unverified", "no answer within 7 days")

    # the customer answers after all (the link still works on the real clock): recorded only
    desk.answer(desk.link(ZH_ADDRESS), 2)
    assert desk.step("record_answers", expired + DAY)["late"] == 1
    assert desk.case(case_id).status == "closed_unverified"
    (followup,) = desk.followups(case_id)
    assert (followup.outcome, followup.score, followup.solved) == ("closed_unverified", 2.0, False)
    assert followup.reason is not None and "not reopened by a late answer" in followup.reason
    late = [e for e in desk.events(case_id) if e.kind == "followup_answered"]
    assert late[0].data["late"] is True


def test_a_customer_without_e_mail_is_not_sent_a_follow_up_and_the_case_stays_resolved(
    desk: Desk,
) -> None:
    case_id = desk.resolved_case(customer_id="C-NOMAIL")
    assert desk.step("send_due") == NOTHING_SENT | {"not_sent": 1}
    assert desk.mail.messages == []
    (followup,) = desk.followups(case_id)
    assert (followup.outcome, followup.reason) == (
        "not_sent",
        "customer C-NOMAIL has no e-mail address",
    )
    assert desk.case(case_id).status == "resolved"
    assert desk.step("close_expired", desk.now + 30 * DAY)["closed_unverified"] == 0
    assert desk.case(case_id).status == "resolved"  # a lead may close it by hand


def test_a_case_without_anyone_to_ask_is_not_sent(desk: Desk) -> None:
    case_id = desk.resolved_case(account_id="A-1")
    assert desk.step("send_due")["not_sent"] == 1
    (followup,) = desk.followups(case_id)
    assert followup.reason == "the case names an account but no contact"


def test_the_b2b_contact_gets_the_follow_up_and_a_feedback_author_stands_in_for_a_customer(
    desk: Desk,
) -> None:
    b2b = desk.resolved_case(account_id="A-1", contact_id="K-1")
    author = desk.resolved_case(feedback_ids=["ticket:T-9"], author_email="Zhou.Author@Example.com")
    assert desk.step("send_due")["sent"] == 2
    assert len(desk.mails_to("liu.pm@hd-precision.cn")) == 1
    assert len(desk.mails_to("zhou.author@example.com")) == 1
    with desk.store.sessions() as session:
        invitations = {
            row.case_id: session.get(Invitation, row.invitation_id)
            for row in session.scalars(select(CaseFollowup))
        }
        contact = invitations[b2b]
        assert contact is not None and (contact.contact_id, contact.account_id) == ("K-1", "A-1")
        by_author = invitations[author]
        assert by_author is not None and by_author.email == "zhou.author@example.com"


def test_english_customers_are_asked_in_english(desk: Desk) -> None:
    desk.resolved_case(customer_id="C-EN")
    desk.step("send_due")
    (message,) = desk.mails_to(EN_ADDRESS)
    assert "Was your problem solved?" in str(message["Subject"])
    page = desk.client.get(desk.link(EN_ADDRESS))
    assert "Rate 0–10 (0 = not at all, 10 = completely)" in page.text
    assert "10 = completely" in page.text
    posted = desk.answer(desk.link(EN_ADDRESS), 7)  # 7 is solved (loop_followup_solved_from)
    assert "Thank you!" in posted.text
    assert desk.step("record_answers")["verified"] == 1


def test_every_step_run_twice_changes_nothing(desk: Desk) -> None:
    answered = desk.resolved_case(customer_id="C-ZH")
    waiting = desk.resolved_case(customer_id="C-TWO")
    unreachable = desk.resolved_case(customer_id="C-NOMAIL")
    assert desk.step("send_due") == NOTHING_SENT | {"sent": 2, "not_sent": 1}
    assert desk.step("send_due") == NOTHING_SENT
    assert len(desk.mail.messages) == 2
    desk.answer(desk.link(ZH_ADDRESS), 10)
    assert desk.step("record_answers")["verified"] == 1
    assert set(desk.step("record_answers").values()) == {0}
    expired = desk.now + 8 * DAY
    assert desk.step("close_expired", expired)["closed_unverified"] == 1
    assert set(desk.step("close_expired", expired).values()) == {0}
    assert set(desk.step("run", expired).values()) == {0}
    statuses = {c: desk.case(c).status for c in (answered, waiting, unreachable)}
    assert statuses == {
        answered: "verified",
        waiting: "closed_unverified",
        unreachable: "resolved",
    }
    with desk.store.sessions() as session:
        assert len(session.scalars(select(CaseFollowup)).all()) == 3


def test_quiet_hours_and_a_missing_mail_server_hold_the_follow_up_back(desk: Desk) -> None:
    at_night = dt.datetime(2026, 12, 8, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    case_id = desk.resolved_case(customer_id="C-ZH", at=at_night)
    quiet = {"survey_quiet_hours": "21:00-08:00"}
    assert desk.step("send_due", at_night, **quiet)["waiting_quiet_hours"] == 1
    assert desk.step("send_due", at_night, smtp_host=None)["no_mail_server"] == 1
    assert desk.followups(case_id) == [] and desk.mail.messages == []
    morning = at_night + dt.timedelta(hours=9)
    assert desk.step("send_due", morning, **quiet)["sent"] == 1
    (followup,) = desk.followups(case_id)
    assert followup.sent_at == morning.astimezone(dt.UTC).replace(tzinfo=None)


def test_an_opted_out_customer_is_not_sent_and_the_reason_says_so(desk: Desk) -> None:
    from cxloop.surveys import preferences_io

    with session_scope(desk.store.sessions) as session:
        preferences_io.opt_out(session, "sun.qi@example.com", "email", "test")
    case_id = desk.resolved_case(customer_id="C-TWO")
    assert desk.step("send_due")["not_sent"] == 1
    (followup,) = desk.followups(case_id)
    assert followup.reason == "the invitation to customer C-TWO was skipped: opted_out"
    assert followup.invitation_id is not None


def test_the_follow_up_survey_is_a_normal_survey_whose_answer_is_no_nps(desk: Desk) -> None:
    desk.resolved_case(customer_id="C-ZH")
    desk.step("send_due")
    desk.answer(desk.link(ZH_ADDRESS), 9)
    with desk.store.sessions() as session:
        listed = [s.survey_id for s in surveys_service.list_all(session=session)]
        question = surveys_service.get_version(session=session, survey_id=survey.SURVEY_ID)
    assert survey.SURVEY_ID in listed
    assert [q.type for q in question.questions] == ["single"]
    assert [o.id for o in question.questions[0].options] == [str(n) for n in range(11)]
    # the survey outbox: the app's drain thread (woken by the submit) or this call stores it
    with session_scope(desk.store.sessions) as session:
        ingest_pending(session=session, settings=desk.settings)
    with desk.store.sessions() as session:
        (row,) = session.scalars(select(Feedback).where(Feedback.channel == "survey")).all()
        assert (row.customer_id, row.nps, row.csat, row.touchpoint) == (
            "C-ZH",
            None,
            None,
            "case_followup",
        )
        assert (row.attributes or {}).get("answer.solved") == "9"


def test_a_survey_archived_by_someone_stops_follow_ups(desk: Desk) -> None:
    with session_scope(desk.store.sessions) as session:
        survey.ensure(session)
        surveys_service.archive(session=session, survey_id=survey.SURVEY_ID)
    case_id = desk.resolved_case(customer_id="C-ZH")
    assert desk.step("send_due")["survey_archived"] == 1
    assert desk.followups(case_id) == []


def test_a_case_reopened_by_hand_withdraws_its_pending_follow_up(desk: Desk) -> None:
    case_id = desk.resolved_case(customer_id="C-ZH")
    desk.step("send_due")
    with session_scope(desk.store.sessions) as session:
        case_actions.reopen(
            session=session, case_id=case_id, actor=LEAD, now=desk.now, policy=policy()
        )
        case_actions.start(session=session, case_id=case_id, actor=WANG, now=desk.now)
    assert desk.step("close_expired", desk.now + 8 * DAY) == {
        "closed_unverified": 0,
        "withdrawn": 1,
    }
    assert desk.case(case_id).status == "in_progress"
    desk.answer(desk.link(ZH_ADDRESS), 10)  # an answer to the old round verifies nothing
    assert desk.step("record_answers", desk.now + 8 * DAY)["late"] == 1
    assert desk.case(case_id).status == "in_progress"
    (followup,) = desk.followups(case_id)
    assert (followup.outcome, followup.score, followup.reason) == (
        "withdrawn",
        10.0,
        "answered 10 after the case was in_progress: recorded, it answers an earlier round "
        "and changes nothing",
    )


def test_a_mail_server_that_is_down_leaves_the_follow_up_pending_until_the_retry(
    desk: Desk,
) -> None:
    from cxloop.surveys import sending
    from tests.smtp import free_port

    case_id = desk.resolved_case(customer_id="C-ZH")
    assert desk.step("send_due", smtp_port=free_port())["failed"] == 1
    (followup,) = desk.followups(case_id)
    assert (followup.outcome, followup.sent_at) == ("pending", None)
    assert followup.reason is not None and "the survey tick retries" in followup.reason
    later = desk.now + dt.timedelta(minutes=5)
    with session_scope(desk.store.sessions) as session:  # the survey tick's retry
        naive = later.replace(tzinfo=None)
        retried = sending.send_scheduled(session=session, settings=desk.settings, now=naive)
    assert retried["sent"] == 1 and len(desk.mails_to(ZH_ADDRESS)) == 1
    assert desk.step("record_answers", later)["verified"] == 0
    (followup,) = desk.followups(case_id)
    assert followup.sent_at == later.replace(tzinfo=None) and followup.reason is None


def test_links_handed_over_without_mail_verify_the_same_way(desk: Desk) -> None:
    """channel csv: a store that sends its own SMS (or the demo) gets the link, no mail."""
    from cxloop.loop import followup
    from cxloop.surveys import distribution_reads

    case_id = desk.resolved_case(customer_id="C-NOMAIL")  # a phone, no e-mail
    without_mail = desk.settings.model_copy(update={"smtp_host": None})
    with session_scope(desk.store.sessions) as session:
        counts = followup.send_due(
            session=session, settings=without_mail, now=desk.now, channel="csv"
        )
        assert counts["sent"] == 1
        invitation = session.scalars(select(Invitation)).one()
        (link,) = distribution_reads.links(
            session=session, settings=desk.settings, distribution_id=invitation.distribution_id
        )
    assert desk.mail.messages == [] and invitation.status == "sent"
    desk.answer(link.link.removeprefix(desk.settings.public_url.rstrip("/")), 10)
    assert desk.step("record_answers")["verified"] == 1
    assert desk.case(case_id).status == "verified"


def test_an_answer_after_the_case_moved_on_by_hand_withdraws_the_pending_follow_up(
    desk: Desk,
) -> None:
    """Answered before ``close_expired`` saw the case move: not left pending for ever."""
    case_id = desk.resolved_case(customer_id="C-ZH")
    desk.step("send_due")
    with session_scope(desk.store.sessions) as session:
        case_actions.reopen(
            session=session, case_id=case_id, actor=LEAD, now=desk.now, policy=policy()
        )
    desk.answer(desk.link(ZH_ADDRESS), 10)
    assert desk.step("record_answers")["late"] == 1
    (followup,) = desk.followups(case_id)
    assert (followup.outcome, followup.score) == ("withdrawn", 10.0)
    assert desk.case(case_id).status == "reopened"


def test_a_failing_step_does_not_make_the_next_run_mail_the_customer_again(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job runs in one unit of work: a failure rolls back everything it recorded, so the
    mail (which cannot be unsent) goes out in the last step."""
    from cxloop.jobs import tick as jobs_tick
    from cxloop.loop import followup

    desk.resolved_case(customer_id="C-ZH")

    def broken(**_: object) -> dict[str, int]:
        raise RuntimeError("the SLA policy file cannot be read")

    def job() -> str | None:
        outcomes = jobs_tick.run(
            desk.settings, desk.now, ["loop.followups"], sessions=desk.store.sessions
        )
        return outcomes["loop.followups"].error

    monkeypatch.setattr(followup, "close_expired", broken)
    assert job() == "RuntimeError: the SLA policy file cannot be read"
    monkeypatch.undo()
    assert job() is None
    assert job() is None
    assert len(desk.mails_to(ZH_ADDRESS)) == 1


def test_an_answer_without_a_score_is_counted_once_and_the_window_still_closes_the_case(
    desk: Desk,
) -> None:
    from cxloop.surveys.models import SurveyResponse

    case_id = desk.resolved_case(customer_id="C-ZH")
    desk.step("send_due")
    desk.answer(desk.link(ZH_ADDRESS), 9)
    with session_scope(desk.store.sessions) as session:
        (response,) = session.scalars(select(SurveyResponse))
        response.answers = {"solved": "n/a"}  # e.g. stored by an edited survey's form
    assert desk.step("record_answers")["unreadable"] == 1
    assert desk.step("record_answers")["unreadable"] == 0
    assert desk.case(case_id).status == "resolved"
    expired = desk.step("close_expired", desk.now + 8 * DAY)
    assert expired == {"closed_unverified": 1, "withdrawn": 0}
    (followup,) = desk.followups(case_id)
    assert (followup.outcome, followup.score) == ("closed_unverified", None)
