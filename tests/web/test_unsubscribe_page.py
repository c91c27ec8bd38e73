"""The unsubscribe link of a survey mail: a confirmation page in the recipient's language, a
one-click POST (RFC 8058) that needs no login, an opt-out honoured by every later send, and a
clear page for a tampered link."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxloop.surveys import sending
from cxloop.surveys.distribution_schemas import Audience, DistributionCreate, SendResult
from tests.smtp import SmtpServer
from tests.web.support import Api, build_api

SURVEY = {
    "id": "quick",
    "title": {"zh": "快速调查", "en": "Quick survey"},
    "questions": [{"id": "nps", "type": "nps", "required": True, "text": "推荐我们吗？"}],
}
ONE = Audience(kind="where", where=["segment=gold"])


@pytest.fixture
def api(tmp_path: Path) -> Api:
    built = build_api(tmp_path / "api.db")
    made = built.client.post("/api/v1/surveys", json=SURVEY, headers=built.auth("admin"))
    assert made.status_code == 201, made.text
    return built


def _send(api: Api, smtp_server: SmtpServer) -> SendResult:
    settings = smtp_server.settings(
        database_url=api.store.settings.database_url,
        survey_cap_contact_days=0,
        survey_quiet_hours="",
    )
    with api.store.sessions.begin() as session:
        return sending.send(
            session=session,
            settings=settings,
            survey_id="quick",
            request=DistributionCreate(audience=ONE),
        )


def _unsubscribe_path(smtp_server: SmtpServer) -> str:
    header = smtp_server.messages[-1]["List-Unsubscribe"]
    return header.strip("<>").removeprefix("http://127.0.0.1:8000")


def test_one_click_unsubscribe_is_honoured_by_every_later_send(
    api: Api, smtp_server: SmtpServer
) -> None:
    assert _send(api, smtp_server).sent == 1
    path = _unsubscribe_path(smtp_server)
    assert path.startswith("/u/")

    page = api.client.get(path)
    assert page.status_code == 200
    assert "退订调查消息" in page.text and "l***@example.com" in page.text
    assert "li.na@example.com" not in page.text
    assert f'action="{path}"' in page.text

    english = api.client.get(path + "?lang=en")
    assert "Unsubscribe from survey messages" in english.text

    done = api.client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200 and "您已退订" in done.text
    assert api.client.post(path).status_code == 200  # again: fine, nothing new

    again = _send(api, smtp_server)
    assert (again.sent, again.skipped) == (0, {"opted_out": 1})
    assert len(smtp_server.messages) == 1


def test_a_tampered_or_foreign_link_gets_a_clear_page_and_records_nothing(
    api: Api, smtp_server: SmtpServer
) -> None:
    _send(api, smtp_server)
    path = _unsubscribe_path(smtp_server)
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    for bad in (tampered, "/u/nonsense", "/u/" + "A" * 60):
        page = api.client.post(bad)
        assert page.status_code == 400, bad
        assert "这个退订链接无效" in page.text
    # a survey link is not an unsubscribe link
    body = smtp_server.messages[-1].get_body(("plain",))
    assert body is not None
    survey_path = "/u/" + body.get_content().split("/s/")[1].split()[0]
    assert api.client.post(survey_path).status_code == 400
    assert _send(api, smtp_server).sent == 1  # still subscribed
