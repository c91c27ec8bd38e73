"""Sending a survey on a real store and a real SMTP server (aiosmtpd): one mail and one distinct
link per reachable person, every skip recorded with its reason, quiet hours honoured by the tick,
bounces marking the address, CSV and signed webhook channels, anonymous links, B2B roles."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from cxloop.config import Settings
from cxloop.errors import Invalid, NotFound
from cxloop.notify import webhooks
from cxloop.privacy import preferences
from cxloop.surveys import distribution_reads, sending, tokens
from cxloop.surveys import service as survey_service
from cxloop.surveys.definitions import load_definition
from cxloop.surveys.distribution_schemas import Audience, DistributionCreate, RecipientIn
from cxloop.surveys.models import Distribution, Invitation
from tests.smtp import SmtpServer
from tests.surveys.conftest import B2BCompany, B2CCompany

LINK = re.compile(r"http://127\.0\.0\.1:8000/s/[A-Za-z0-9_-]+")
GOLD = Audience(kind="where", where=["segment=gold"])


B2B_SURVEY = """\
id: milestone-check
title: {zh: 里程碑满意度, en: Milestone satisfaction}
required_roles: [decision_maker, project_lead, user]
questions:
  - id: nps
    type: nps
    required: true
    text: {zh: "{milestone.name}之后，您推荐我们的可能性有多大？", en: "Would you recommend us?"}
reminders: {after_hours: 24, max: 2}
"""


def _survey(company: B2CCompany | B2BCompany) -> str:
    if isinstance(company, B2BCompany):
        company.survey_yaml.write_text(B2B_SURVEY, encoding="utf-8")
    definition = load_definition(company.survey_yaml)
    with company.store.sessions.begin() as session:
        survey_service.create(session=session, definition=definition, created_by="test")
    return definition.id


def _send(
    company: B2CCompany | B2BCompany,
    settings: Settings,
    survey_id: str,
    now: dt.datetime,
    **request: Any,
) -> Any:
    request.setdefault("audience", GOLD)
    with company.store.sessions.begin() as session:
        return sending.send(
            session=session,
            settings=settings,
            survey_id=survey_id,
            request=DistributionCreate(**request),
            now=now,
        )


def _invitations(company: B2CCompany | B2BCompany, distribution_id: int) -> list[Invitation]:
    with company.store.sessions() as session:
        return list(
            session.scalars(
                select(Invitation)
                .where(Invitation.distribution_id == distribution_id)
                .order_by(Invitation.id)
            )
        )


def _prepare_skips(company: B2CCompany, settings: Settings) -> None:
    """An opt-out, a bounce recorded before, and an invitation 5 days ago by another survey."""
    with company.store.sessions.begin() as session:
        preferences.opt_out(session=session, address=str(company.opted_out.email), channel="email")
        preferences.mark_bounced(session=session, address=str(company.bounced.email))
    other = company.survey_yaml.with_name("other.yaml")
    other.write_text(company.survey_yaml.read_text().replace("e2e-delivery", "other"))
    definition = load_definition(other)
    with company.store.sessions.begin() as session:
        survey_service.create(session=session, definition=definition)
    earlier = _send(
        company,
        settings,
        "other",
        company.now - dt.timedelta(days=5),
        audience=Audience(
            kind="recipients", recipients=[RecipientIn(customer_id=company.capped.customer_id)]
        ),
        channel="csv",
    )
    assert earlier.sent == 1


def test_a_send_mails_each_reachable_person_one_distinct_link_and_records_every_skip(
    b2c_company: B2CCompany, smtp_server: SmtpServer
) -> None:
    settings = smtp_server.settings(**_base(b2c_company.settings))
    survey_id = _survey(b2c_company)
    _prepare_skips(b2c_company, settings)

    result = _send(b2c_company, settings, survey_id, b2c_company.now)

    assert result.recipients == 55
    assert result.sent == 50
    assert result.skipped == {
        "no_address": 2,
        "opted_out": 1,
        "bounced_before": 1,
        "capped_contact": 1,
    }
    mails = smtp_server.messages
    assert len(mails) == 50
    links = set()
    for mail in mails:
        found = LINK.findall(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        assert len(set(found)) == 1
        links |= set(found)
        assert mail["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/u/")
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(links) == 50
    mailed = {a.lower() for e in smtp_server.envelopes for a in e.rcpt_tos}
    assert mailed == {str(p.address) for p in b2c_company.reachable}
    english = smtp_server.to(str(b2c_company.english.email))[0]
    assert "Delivery survey" in english["Subject"]
    chinese = smtp_server.to(str(b2c_company.reachable[0].email))[0]
    assert "配送体验调查" in chinese["Subject"]
    rows = _invitations(b2c_company, result.distribution_id)
    assert len(rows) == 55
    assert {r.status for r in rows} == {"sent", "skipped"}
    skipped = {r.customer_id: r.skip_reason for r in rows if r.status == "skipped"}
    assert skipped[b2c_company.opted_out.customer_id] == "opted_out"
    assert skipped[b2c_company.capped.customer_id] == "capped_contact"
    assert all(r.delivered_at == b2c_company.now for r in rows if r.status == "sent")
    with b2c_company.store.sessions.begin() as session:
        read = distribution_reads.get(
            session=session, settings=settings, distribution_id=result.distribution_id
        )
    assert (read.invitations, read.by_status) == (55, {"sent": 50, "skipped": 5})
    assert read.skipped == result.skipped


def _base(settings: Settings) -> dict[str, Any]:
    return {"database_url": settings.database_url, "secret_key": settings.secret_key}


def test_links_read_back_and_open_with_the_stores_key(
    b2c_company: B2CCompany, smtp_server: SmtpServer
) -> None:
    settings = smtp_server.settings(**_base(b2c_company.settings))
    survey_id = _survey(b2c_company)
    result = _send(b2c_company, settings, survey_id, b2c_company.now)
    with b2c_company.store.sessions() as session:
        rows = distribution_reads.links(
            session=session, settings=settings, distribution_id=result.distribution_id
        )
        key = tokens.link_key(session, settings)
    assert len(rows) == 53  # no opt-out, bounce or cap recorded in this store
    mailed = {
        m
        for mail in smtp_server.messages
        for m in LINK.findall(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    }
    assert {r.link for r in rows} == mailed
    token = rows[0].link.rsplit("/", 1)[1]
    content = tokens.read_link(token, key, now=b2c_company.now)
    assert content.expires_at == b2c_company.now + dt.timedelta(days=14)


def test_a_dry_run_counts_and_stores_nothing(b2c_company: B2CCompany) -> None:
    survey_id = _survey(b2c_company)
    result = _send(b2c_company, b2c_company.settings, survey_id, b2c_company.now, dry_run=True)
    assert result.dry_run and result.distribution_id is None
    assert result.sent == 53
    assert result.skipped == {"no_address": 2}
    with b2c_company.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Invitation)) == 0
        assert session.scalar(select(func.count()).select_from(Distribution)) == 0


def test_email_without_a_mail_server_is_refused_before_anything_is_stored(
    b2c_company: B2CCompany,
) -> None:
    survey_id = _survey(b2c_company)
    with pytest.raises(Invalid) as caught:
        _send(b2c_company, b2c_company.settings, survey_id, b2c_company.now)
    assert "CXLOOP_SMTP_HOST" in str(caught.value)
    with b2c_company.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Distribution)) == 0


def test_an_audience_that_names_nobody_is_refused_with_the_values_there_are(
    b2c_company: B2CCompany,
) -> None:
    survey_id = _survey(b2c_company)
    with pytest.raises(Invalid) as caught:
        _send(
            b2c_company,
            b2c_company.settings,
            survey_id,
            b2c_company.now,
            audience=Audience(kind="where", where=["segment=platinum"]),
            channel="csv",
        )
    problem = caught.value.problems[0]
    assert problem.field == "where.segment"
    assert "gold" in problem.reason and "silver" in problem.reason
    with pytest.raises(NotFound):
        _send(
            b2c_company,
            b2c_company.settings,
            survey_id,
            b2c_company.now,
            audience=Audience(kind="list", list_name="nope"),
            channel="csv",
        )


def test_where_reads_imported_attributes_too(b2c_company: B2CCompany) -> None:
    survey_id = _survey(b2c_company)
    result = _send(
        b2c_company,
        b2c_company.settings,
        survey_id,
        b2c_company.now,
        audience=Audience(kind="where", where=["language=EN", "city=上海"]),
        channel="csv",
    )
    assert result.recipients == 1
    assert result.links[0].customer_id == b2c_company.english.customer_id
    assert result.links[0].language == "en"


def test_inside_quiet_hours_the_mail_waits_for_the_tick_after_the_window(
    b2c_company: B2CCompany, smtp_server: SmtpServer
) -> None:
    settings = smtp_server.settings(**_base(b2c_company.settings))
    survey_id = _survey(b2c_company)
    night = b2c_company.now.replace(hour=15)  # 23:00 in Shanghai, 15:00 in London
    result = _send(
        b2c_company,
        settings,
        survey_id,
        night,
        audience=Audience(kind="where", where=["customer_id=c-001", "customer_id=c-013"]),
    )
    assert (result.sent, result.scheduled) == (1, 1)  # London is awake; Shanghai sleeps
    assert len(smtp_server.messages) == 1
    with b2c_company.store.sessions.begin() as session:
        early = sending.send_scheduled(
            session=session, settings=settings, now=night.replace(hour=23, minute=59)
        )
    assert early["sent"] == 0
    morning = night.replace(hour=0) + dt.timedelta(days=1)  # 08:00 in Shanghai
    with b2c_company.store.sessions.begin() as session:
        counts = sending.send_scheduled(session=session, settings=settings, now=morning)
    assert counts["sent"] == 1
    assert len(smtp_server.to("c-001") + smtp_server.messages) >= 2
    rows = _invitations(b2c_company, result.distribution_id)
    assert sorted(r.sent_at or night for r in rows) == sorted([night, morning])


def test_an_archived_survey_sends_none_of_its_waiting_invitations(
    b2c_company: B2CCompany, smtp_server: SmtpServer
) -> None:
    settings = smtp_server.settings(**_base(b2c_company.settings))
    survey_id = _survey(b2c_company)
    night = b2c_company.now.replace(hour=15)  # 23:00 in Shanghai: c-001 waits
    audience = Audience(kind="where", where=["customer_id=c-001"])
    result = _send(b2c_company, settings, survey_id, night, audience=audience)
    assert result.scheduled == 1
    with b2c_company.store.sessions.begin() as session:
        survey_service.archive(session=session, survey_id=survey_id)
    morning = night.replace(hour=0) + dt.timedelta(days=1)
    with b2c_company.store.sessions.begin() as session:
        counts = sending.send_scheduled(session=session, settings=settings, now=morning)
    assert counts["sent"] == 0
    assert smtp_server.messages == []
    assert [r.status for r in _invitations(b2c_company, result.distribution_id)] == ["scheduled"]


def test_a_refused_recipient_bounces_and_is_skipped_next_time(
    b2c_company: B2CCompany, smtp_server: SmtpServer
) -> None:
    settings = smtp_server.settings(**_base(b2c_company.settings), survey_cap_contact_days=0)
    survey_id = _survey(b2c_company)
    people = Audience(
        kind="recipients",
        recipients=[
            RecipientIn(email="bounce.me@example.com", name="X"),
            RecipientIn(customer_id="c-001"),
        ],
    )
    first = _send(b2c_company, settings, survey_id, b2c_company.now, audience=people)
    assert (first.sent, first.bounced) == (1, 1)
    rows = _invitations(b2c_company, first.distribution_id)
    assert rows[0].status == "bounced" and str(rows[0].bounce_reason).startswith("550")
    again = _send(b2c_company, settings, survey_id, b2c_company.now, audience=people)
    assert again.skipped == {"bounced_before": 1}


def test_csv_links_need_no_mail_server(b2c_company: B2CCompany) -> None:
    survey_id = _survey(b2c_company)
    result = _send(b2c_company, b2c_company.settings, survey_id, b2c_company.now, channel="csv")
    # links are handed to the customer's own sender: people without an e-mail get one too
    assert result.sent == 55 and len(result.links) == 55
    assert len({r.link for r in result.links}) == 55
    no_email = {r.customer_id: r.address for r in result.links}
    assert no_email[b2c_company.no_email[0].customer_id] == "customer:c-051"


def test_the_webhook_channel_posts_one_signed_json_per_recipient(
    b2c_company: B2CCompany, http_receiver: Any
) -> None:
    survey_id = _survey(b2c_company)
    secret = "receiver-shares-this-secret"
    settings = b2c_company.settings.model_copy(update={"webhook_secret": secret})
    with pytest.raises(Invalid, match="CXLOOP_WEBHOOK_SECRET"):
        _send(
            b2c_company,
            b2c_company.settings,
            survey_id,
            b2c_company.now,
            audience=Audience(kind="where", where=["customer_id=c-001"]),
            channel="webhook",
            webhook_url=http_receiver.url,
        )
    assert http_receiver.requests == []
    result = _send(
        b2c_company,
        settings,
        survey_id,
        b2c_company.now,
        audience=Audience(kind="where", where=["customer_id=c-001", "customer_id=c-007"]),
        channel="webhook",
        webhook_url=http_receiver.url,
    )
    assert result.sent == 2
    posted = http_receiver.requests
    assert len(posted) == 2
    body = posted[0].json()
    assert body["event"] == "survey.invitation" and body["link"].startswith("http://127.0.0.1")
    assert {p.json()["language"] for p in posted} == {"zh", "en"}
    link_key = str(b2c_company.settings.secret_key)
    for request in posted:
        stamp = request.headers[webhooks.TIMESTAMP_HEADER.lower()]
        signature = request.headers[webhooks.SIGNATURE_HEADER.lower()]
        assert signature == webhooks.sign(secret, stamp, request.body)
        assert signature != webhooks.sign(link_key, stamp, request.body)


def test_an_anonymous_distribution_has_one_link(b2c_company: B2CCompany) -> None:
    survey_id = _survey(b2c_company)
    result = _send(
        b2c_company,
        b2c_company.settings,
        survey_id,
        b2c_company.now,
        audience=Audience(kind="anonymous"),
    )
    assert result.anonymous_link and "/s/a/" in result.anonymous_link
    assert result.recipients == 0
    with b2c_company.store.sessions() as session:
        read = distribution_reads.get(
            session=session, settings=b2c_company.settings, distribution_id=result.distribution_id
        )
    assert read.channel == "link" and read.anonymous_link == result.anonymous_link


def test_an_accounts_roles_at_a_milestone_count_once_for_the_account_cap(
    b2b_company: B2BCompany,
) -> None:
    survey_id = _survey(b2b_company)
    audience = Audience(kind="account", account="A-100", milestone="上线验收")
    result = _send(
        b2b_company,
        b2b_company.settings,
        survey_id,
        b2b_company.now,
        audience=audience,
        channel="csv",
    )
    assert result.sent == 4 and result.skipped == {}
    rows = _invitations(b2b_company, result.distribution_id)
    assert {r.role for r in rows} == {"decision_maker", "project_lead", "user"}
    assert rows[0].context["milestone"]["name"] == "上线验收"
    with b2b_company.store.sessions() as session:
        dist = session.get(Distribution, result.distribution_id)
        assert dist is not None
        assert dist.required_roles == ["decision_maker", "project_lead", "user"]
        assert (dist.account_id, dist.milestone_id) == ("A-100", "M-1")
    later = _send(
        b2b_company,
        b2b_company.settings.model_copy(update={"survey_cap_contact_days": 0}),
        survey_id,
        b2b_company.now + dt.timedelta(days=2),
        audience=Audience(kind="account", account="华东精密制造有限公司", roles=["user"]),
        channel="csv",
    )
    assert later.skipped == {"capped_account": 1}


def test_roles_nobody_holds_are_refused_with_the_roles_there_are(b2b_company: B2BCompany) -> None:
    survey_id = _survey(b2b_company)
    with pytest.raises(Invalid) as caught:
        _send(
            b2b_company,
            b2b_company.settings,
            survey_id,
            b2b_company.now,
            audience=Audience(kind="account", account="A-100", roles=["influencer"]),
            channel="csv",
        )
    assert "decision_maker" in str(caught.value)


def test_a_mail_server_that_is_down_leaves_invitations_for_the_tick(
    b2c_company: B2CCompany, smtp_server: SmtpServer
) -> None:
    from tests.smtp import free_port

    down = smtp_server.settings(**_base(b2c_company.settings), smtp_port=free_port())
    survey_id = _survey(b2c_company)
    three = Audience(kind="where", where=["customer_id=c-001", "customer_id=c-002"])
    result = _send(b2c_company, down, survey_id, b2c_company.now, audience=three)
    assert (result.sent, result.failed, result.scheduled) == (0, 2, 2)
    assert "mail server 127.0.0.1:" in result.errors[0]
    up = smtp_server.settings(**_base(b2c_company.settings))
    with b2c_company.store.sessions.begin() as session:
        counts = sending.send_scheduled(
            session=session, settings=up, now=b2c_company.now + dt.timedelta(minutes=5)
        )
    assert counts["sent"] == 2 and len(smtp_server.messages) == 2


def test_csv_links_count_as_delivered(b2c_company: B2CCompany) -> None:
    survey_id = _survey(b2c_company)
    result = _send(b2c_company, b2c_company.settings, survey_id, b2c_company.now, channel="csv")
    rows = _invitations(b2c_company, result.distribution_id)
    assert all(r.delivered_at == b2c_company.now for r in rows)
