"""The owner's alert as mailed after a real B2B send: the deadline reads as the invitation's
link expiry (same local time, zone named) and the roles' lines say only what happened."""

from __future__ import annotations

import datetime as dt
import re

from cxloop.notify import mail
from cxloop.surveys import b2b_status
from cxloop.surveys.distribution_schemas import Audience
from tests.smtp import SmtpServer
from tests.surveys.conftest import B2BCompany
from tests.surveys.test_reminders import _complete, _remind
from tests.surveys.test_sending import _base, _invitations, _send, _survey

HOUR = dt.timedelta(hours=1)


def _text(message: object) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]


def test_alert_deadline_is_the_invitations_expiry_in_the_same_zone(
    b2b_company: B2BCompany, smtp_server: SmtpServer
) -> None:
    settings = smtp_server.settings(**_base(b2b_company.settings))
    assert settings.timezone == "Asia/Shanghai"
    survey_id = _survey(b2b_company)
    now = b2b_company.now
    audience = Audience(kind="account", account="A-100", milestone="M-1")
    result = _send(b2b_company, settings, survey_id, now, audience=audience)
    assert result.sent == 4
    chen = next(
        r for r in _invitations(b2b_company, result.distribution_id) if r.contact_id == "K-1"
    )
    invitation = _text(smtp_server.to("chen.ceo@hd-precision.cn")[0])
    expiry = re.search(r"链接有效期至 (.+)。", invitation)
    assert expiry is not None and expiry.group(1).endswith("（Asia/Shanghai）")
    _complete(b2b_company, chen.id, now + HOUR)
    assert _remind(b2b_company, settings, now + 24 * HOUR)["sent"] == 2  # project lead, user
    smtp_server.clear()

    later = now + dt.timedelta(days=13)  # the links expire after 14 days: within 48 hours
    with b2b_company.store.sessions.begin() as session:
        alerts = b2b_status.owner_alerts(session=session, settings=settings, now=later)
    assert [(a.account, a.outcome) for a in alerts] == [("A-100", "sent")]
    (alert,) = smtp_server.to(b2b_company.owner)
    body = _text(alert)
    deadline = re.search(r"截止时间（调查链接失效时间）：(.+)", body)
    assert deadline is not None and deadline.group(1) == expiry.group(1)
    assert "项目负责人：已邀请 1 人，已发提醒 1 次" in body
    assert "使用者：已邀请 1 人，已发提醒 1 次" in body
    assert "决策者" not in body and "已收到定向提醒" not in body
    assert (
        alert["Subject"] == "「华东精密制造有限公司」的「上线验收」调查还缺项目负责人、使用者的回答"
    )


def test_english_mails_name_the_zone_of_their_times() -> None:
    when = dt.datetime(2026, 12, 20, 8, 54, tzinfo=dt.UTC)
    context = {
        "survey_title": "Delivery survey",
        "survey_url": "https://cx.example.com/s/t",
        "unsubscribe_url": None,
        "recipient_name": None,
        "expires_at": when,
    }
    for template in ("survey_invitation", "survey_reminder"):
        _, text, html = mail.render(template, "en", context, tz="Asia/Shanghai")
        assert "until Dec 20, 2026, 4:54 PM (Asia/Shanghai)." in text
        assert "4:54 PM (Asia/Shanghai)" in html
        _, text, _ = mail.render(template, "zh", context, tz="Europe/London")
        assert "2026年12月20日 08:54（Europe/London）" in text
    alert = {
        "owner_name": None,
        "account_name": "Northwind",
        "milestone_name": None,
        "missing_roles": ["decision maker"],
        "role_status": [{"role": "decision maker", "invited": 0, "reminded": 0}],
        "deadline": when,
        "survey_title": "Go-live review",
        "status_url": None,
    }
    subject, text, _ = mail.render("survey_owner_alert", "en", alert, tz="Asia/Shanghai")
    assert subject == 'Northwind: the survey "Go-live review" still misses decision maker'
    assert "Dec 20, 2026, 4:54 PM (Asia/Shanghai)" in text and "milestone" not in text
    assert "decision maker: nobody invited (no contact in this role, or skipped)" in text
