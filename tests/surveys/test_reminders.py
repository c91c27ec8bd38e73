"""Reminders reach only those who have not answered, after the delay, at most N times, never
after an opt-out; B2B reminders reach only the roles still missing; expiry ends unused links."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from cxloop.privacy import preferences
from cxloop.surveys import reminders
from cxloop.surveys import service as survey_service
from cxloop.surveys.distribution_schemas import Audience
from cxloop.surveys.models import Invitation
from tests.smtp import SmtpServer
from tests.surveys.conftest import B2BCompany, B2CCompany
from tests.surveys.test_sending import _base, _invitations, _send, _survey

HOUR = dt.timedelta(hours=1)
THREE = Audience(
    kind="where", where=["customer_id=c-001", "customer_id=c-002", "customer_id=c-003"]
)


def _invitation(**values: Any) -> Invitation:
    base: dict[str, Any] = {
        "status": "sent",
        "sent_at": dt.datetime(2026, 3, 1, 9),
        "reminders_sent": 0,
        "expires_at": dt.datetime(2026, 3, 15, 9),
        "account_id": None,
        "role": None,
        "last_reminded_at": None,
    }
    base.update(values)
    return Invitation(**base)


def test_due_is_after_the_delay_below_the_limit_and_only_while_waiting() -> None:
    rule = reminders.Policy(after_hours=72, max_reminders=2)
    sent = dt.datetime(2026, 3, 1, 9)
    assert not reminders.due(_invitation(), rule, sent + 71 * HOUR)
    assert reminders.due(_invitation(), rule, sent + 72 * HOUR)
    assert reminders.due(_invitation(status="opened"), rule, sent + 80 * HOUR)
    for status in ("completed", "bounced", "expired", "skipped", "scheduled"):
        assert not reminders.due(_invitation(status=status), rule, sent + 80 * HOUR), status
    assert not reminders.due(_invitation(reminders_sent=2), rule, sent + 500 * HOUR)
    once = _invitation(reminders_sent=1, last_reminded_at=sent + 72 * HOUR)
    assert not reminders.due(once, rule, sent + 100 * HOUR)
    assert reminders.due(once, rule, sent + 144 * HOUR)
    assert not reminders.due(_invitation(), rule, dt.datetime(2026, 3, 15, 9))  # link expired


def test_b2b_reminders_go_only_to_roles_nobody_answered_for() -> None:
    rule = reminders.Policy(72, 2, required_roles=("decision_maker", "purchaser", "user"))
    missing = reminders.missing_by_account(
        rule.required_roles,
        [("A", "决策者"), ("A", None), ("A", None), ("B", None)],
    )
    assert missing == {"A": ["purchaser", "user"], "B": ["decision_maker", "purchaser", "user"]}
    later = dt.datetime(2026, 3, 5, 9)
    decision_maker = _invitation(account_id="A", role="decision_maker")
    purchaser = _invitation(account_id="A", role="采购")
    assert not reminders.due(decision_maker, rule, later, missing)
    assert reminders.due(purchaser, rule, later, missing)


def _complete(company: B2CCompany | B2BCompany, invitation_id: int, when: dt.datetime) -> None:
    with company.store.sessions.begin() as session:
        row = session.get(Invitation, invitation_id)
        assert row is not None
        row.status, row.completed_at = "completed", when


def _remind(company: B2CCompany | B2BCompany, settings: Any, now: dt.datetime) -> dict[str, int]:
    with company.store.sessions.begin() as session:
        return reminders.remind(session=session, settings=settings, now=now)


def test_reminders_reach_non_responders_at_most_twice_and_never_after_an_opt_out(
    b2c_company: B2CCompany, smtp_server: SmtpServer
) -> None:
    settings = smtp_server.settings(**_base(b2c_company.settings))
    survey_id = _survey(b2c_company)
    now = b2c_company.now
    result = _send(b2c_company, settings, survey_id, now, audience=THREE)
    first, second, third = _invitations(b2c_company, result.distribution_id)
    _complete(b2c_company, first.id, now + HOUR)
    smtp_server.clear()

    assert _remind(b2c_company, settings, now + 71 * HOUR)["sent"] == 0
    assert _remind(b2c_company, settings, now + 72 * HOUR)["sent"] == 2
    reminded = {a.lower() for e in smtp_server.envelopes for a in e.rcpt_tos}
    assert reminded == {str(second.email), str(third.email)}
    assert all("提醒" in m["Subject"] or "Reminder" in m["Subject"] for m in smtp_server.messages)
    assert _remind(b2c_company, settings, now + 73 * HOUR)["sent"] == 0

    with b2c_company.store.sessions.begin() as session:
        preferences.opt_out(session=session, address=str(third.email), channel="email")
    counts = _remind(b2c_company, settings, now + 144 * HOUR)
    assert (counts["sent"], counts["skipped"]) == (1, 1)
    assert _remind(b2c_company, settings, now + 300 * HOUR)["sent"] == 0  # two is the limit
    assert len(smtp_server.to(str(second.email))) == 2
    assert len(smtp_server.to(str(third.email))) == 1
    rows = {r.id: r for r in _invitations(b2c_company, result.distribution_id)}
    assert rows[second.id].reminders_sent == 2 and rows[second.id].status == "sent"


def test_an_archived_survey_reminds_nobody(
    b2c_company: B2CCompany, smtp_server: SmtpServer
) -> None:
    settings = smtp_server.settings(**_base(b2c_company.settings))
    survey_id = _survey(b2c_company)
    now = b2c_company.now
    result = _send(b2c_company, settings, survey_id, now, audience=THREE)
    smtp_server.clear()
    with b2c_company.store.sessions.begin() as session:
        survey_service.archive(session=session, survey_id=survey_id)
    assert _remind(b2c_company, settings, now + 72 * HOUR)["sent"] == 0
    assert smtp_server.messages == []
    rows = _invitations(b2c_company, result.distribution_id)
    assert [r.reminders_sent or 0 for r in rows] == [0, 0, 0]


def test_b2b_reminders_reach_only_missing_roles_of_the_account(
    b2b_company: B2BCompany, smtp_server: SmtpServer
) -> None:
    settings = smtp_server.settings(**_base(b2b_company.settings))
    survey_id = _survey(b2b_company)
    now = b2b_company.now
    result = _send(
        b2b_company,
        settings,
        survey_id,
        now,
        audience=Audience(kind="account", account="A-100", milestone="M-1"),
    )
    assert result.sent == 4
    rows = _invitations(b2b_company, result.distribution_id)
    chen = next(r for r in rows if r.contact_id == "K-1")  # one of two decision makers
    _complete(b2b_company, chen.id, now + HOUR)
    smtp_server.clear()
    counts = _remind(b2b_company, settings, now + 24 * HOUR)
    assert counts["sent"] == 2
    reminded = {a.lower() for e in smtp_server.envelopes for a in e.rcpt_tos}
    assert reminded == {"liu.pm@hd-precision.cn", "wu.lei@hd-precision.cn"}  # project lead, user


def test_expiry_marks_unanswered_invitations_and_leaves_answered_ones(
    b2c_company: B2CCompany,
) -> None:
    survey_id = _survey(b2c_company)
    now = b2c_company.now
    result = _send(
        b2c_company,
        b2c_company.settings,
        survey_id,
        now,
        audience=THREE,
        channel="csv",
        expires_days=3,
    )
    first = _invitations(b2c_company, result.distribution_id)[0]
    _complete(b2c_company, first.id, now + HOUR)
    with b2c_company.store.sessions.begin() as session:
        assert reminders.expire(session=session, now=now + 71 * HOUR) == 0
        assert reminders.expire(session=session, now=now + 72 * HOUR) == 2
        assert reminders.expire(session=session, now=now + 100 * HOUR) == 0
    statuses = [r.status for r in _invitations(b2c_company, result.distribution_id)]
    assert statuses == ["completed", "expired", "expired"]
    with b2c_company.store.sessions() as session:
        assert session.scalars(select(Invitation.status)).all() == statuses


def test_customers_sent_a_survey_with_required_roles_are_reminded_like_anyone(
    b2c_company: B2CCompany, smtp_server: SmtpServer
) -> None:
    """Required roles are for account sends: a ``--where`` send of a milestone survey has no
    roles on its invitations, and its non-responders are still reminded."""
    text = b2c_company.survey_yaml.read_text(encoding="utf-8")
    b2c_company.survey_yaml.write_text(
        text + "required_roles: [decision maker, project lead]\n", encoding="utf-8"
    )
    settings = smtp_server.settings(**_base(b2c_company.settings))
    survey_id = _survey(b2c_company)
    now = b2c_company.now
    result = _send(b2c_company, settings, survey_id, now, audience=THREE)
    first, second, third = _invitations(b2c_company, result.distribution_id)
    assert {first.role, second.role, third.role} == {None}
    _complete(b2c_company, first.id, now + HOUR)
    smtp_server.clear()
    assert _remind(b2c_company, settings, now + 72 * HOUR)["sent"] == 2
    reminded = {a.lower() for e in smtp_server.envelopes for a in e.rcpt_tos}
    assert reminded == {str(second.email), str(third.email)}
