"""B2B end to end: a milestone survey with three required roles sent to an account's contacts
over a real SMTP server (aiosmtpd), answered through the respondent form over HTTP, reminded and
escalated by ``tick`` at injected later times, until the account is complete.

Checks the issue's "Done when": reported incomplete while roles are missing; reminders reach only
the missing roles (not a second decision maker once one answered); the account owner is alerted
by mail; after the missing roles answer, it is complete — and nobody is mailed again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cxloop.config import Settings
from cxloop.jobs import tick
from cxloop.surveys import b2b, definitions, sending
from cxloop.surveys import service as survey_service
from cxloop.surveys.b2b_status import CompletenessRow
from cxloop.surveys.distribution_schemas import Audience, DistributionCreate
from cxloop.surveys.models import Invitation, SurveyResponse
from cxloop.web.app import create_app
from tests.cli.support import run_cxloop
from tests.smtp import SmtpServer
from tests.surveys.conftest import B2BCompany, links_by_address, recipients, text_of, with_mail

SURVEY = "e2e-milestone"
REV = re.compile(r'name="_rev" value="(\d+)"')
REQUIRED = ["decision_maker", "project_lead", "user"]


@pytest.fixture
def mail_settings(b2b_company: B2BCompany, smtp_server: SmtpServer) -> Settings:
    return with_mail(b2b_company.settings, smtp_server)


@pytest.fixture
def client(mail_settings: Settings) -> Iterator[TestClient]:
    app = create_app(mail_settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    app.state.engine.dispose()


def answer(client: TestClient, path: str, nps: int, comment: str) -> None:
    """Open the link and submit the one-page form as a browser without JavaScript would."""
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    assert "上线验收" in page.text  # the milestone's name piped into the question
    rev = REV.search(page.text)
    assert rev, "the form carries no _rev"
    form = {"_rev": rev.group(1), "_page": ["nps", "comment"], "nps": str(nps), "comment": comment}
    done = client.post(path, data=form)
    assert done.status_code == 200, done.text[:500]
    assert 'name="_rev"' not in done.text  # the thanks page, not the form again


def completeness(company: B2BCompany) -> dict[str, CompletenessRow]:
    with company.store.sessions() as session:
        rows = b2b.completeness(session=session, survey_id=SURVEY)
    assert {r.account for r in rows} == {company.account_id}
    return {b2b.normalise_role(r.role): r for r in rows}


def status_cli(company: B2BCompany) -> str:
    """``cxloop surveys status`` as the account team runs it."""
    done = run_cxloop(
        company.database.parent,
        "surveys",
        "status",
        SURVEY,
        env={"CXLOOP_DATABASE_URL": company.settings.database_url},
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return " ".join(done.stdout.split())


def test_milestone_survey_reminds_only_missing_roles_alerts_owner_then_completes(
    b2b_company: B2BCompany, smtp_server: SmtpServer, mail_settings: Settings, client: TestClient
) -> None:
    company, settings, now = b2b_company, mail_settings, b2b_company.now
    with company.store.sessions() as session:
        definition = definitions.load_definition(company.survey_yaml)
        survey_service.create(session=session, definition=definition, created_by="e2e")
        result = sending.send(
            session=session,
            settings=settings,
            survey_id=SURVEY,
            request=DistributionCreate(
                audience=Audience(
                    kind="account",
                    account=company.account_id,
                    roles=REQUIRED,
                    milestone=company.milestone_id,
                ),
                # answers due in two days: the owner alert (deadline within 48 h) is due at
                # the first tick; the distribution's deadline is its links' expiry
                expires_days=2,
            ),
            now=now,
            created_by="e2e",
        )
        session.commit()
    # every contact of the account in a required role is mailed; the other account's is not
    assert result.sent == 4, result
    assert result.skipped == {}
    contacts = {c.email: c for c in company.contacts}
    assert recipients(smtp_server) == sorted(contacts)
    assert company.other_account_contact.email not in recipients(smtp_server)
    links = links_by_address(smtp_server)
    assert len(set(links.values())) == 4

    # one decision maker answers: incomplete, the project lead and the end user missing
    first = company.role("decision_maker")[0]
    answer(client, links[first.email], 9, "交付很顺利，团队响应快")
    rows = completeness(company)
    assert [role for role, row in rows.items() if row.missing] == ["project_lead", "user"]
    assert not rows["decision_maker"].missing and rows["decision_maker"].answered == 1
    assert not any(row.complete for row in rows.values())
    shown = status_cli(company)
    assert "0 complete, 1 incomplete" in shown and shown.count("MISSING") == 2

    # a day later the tick reminds only the missing roles and alerts the owner
    smtp_server.clear()
    outcomes = tick.run(settings, now=now + dt.timedelta(hours=25))
    assert all(o.error is None for o in outcomes.values()), outcomes
    assert outcomes["surveys.remind"].counts["sent"] == 2
    expected = sorted([company.role("project_lead")[0].email, company.role("user")[0].email])
    mailed = recipients(smtp_server)
    assert company.owner in mailed
    assert sorted(a for a in mailed if a != company.owner) == expected
    second = company.role("decision_maker")[1]
    assert second.email not in mailed  # the role is covered: no reminder for them
    (alert,) = smtp_server.to(company.owner)
    alert_text = text_of(alert)
    assert "华东精密制造有限公司" in alert_text and "上线验收" in alert_text
    # the missing roles, named in the owner's language; the answered role is not listed
    listed = re.findall(r"^\s*- ([^：]+)：(.+)$", alert_text, flags=re.MULTILINE)
    assert sorted(role for role, _ in listed) == sorted(["项目负责人", "使用者"]), alert_text
    # what happened, not a claim: this tick's reminders went out before the alert
    assert {said for _, said in listed} == {"已邀请 1 人，已发提醒 1 次"}, alert_text
    reminder_links = links_by_address(smtp_server, besides=company.owner)
    for contact in (company.role("project_lead")[0], company.role("user")[0]):
        assert reminder_links[contact.email] == links[contact.email]  # the same personal link

    # the missing roles answer: complete; a later tick mails nobody, the owner is not re-alerted
    answer(client, links[company.role("project_lead")[0].email], 6, "上线计划有点赶")
    answer(client, links[company.role("user")[0].email], 10, "系统很好用")
    rows = completeness(company)
    assert all(row.complete for row in rows.values()), rows
    assert not any(row.missing for row in rows.values())
    shown = status_cli(company)
    assert "1 complete, 0 incomplete" in shown and "MISSING" not in shown
    smtp_server.clear()
    outcomes = tick.run(settings, now=now + dt.timedelta(hours=50))
    assert all(o.error is None for o in outcomes.values()), outcomes
    assert smtp_server.messages == []

    with company.store.sessions() as session:
        completed = session.scalars(
            select(SurveyResponse).where(SurveyResponse.status == "completed")
        ).all()
        roles = sorted(b2b.normalise_role(r.role or "") for r in completed)
        statuses = {
            contact: status
            for contact, status in session.execute(select(Invitation.contact_id, Invitation.status))
        }
    assert roles == ["decision_maker", "project_lead", "user"]
    assert statuses[second.contact_id] != "completed"
