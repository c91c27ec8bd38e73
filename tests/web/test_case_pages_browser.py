"""The agent's screen in a real Chromium: an agent logs in, opens the highest-priority case from
the queue, sees the customer's orders and posts, adds a note and resolves it; an agent of
another team gets 403 on that case; a viewer sees the customer's personal data masked.

Screenshots of each step are kept in ``test-artifacts/`` (and the fixture's last one)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.web.browser import ARTIFACTS, serve
from tests.web.case_pages_support import PHONE, Desk, build_desk
from tests.web.support import PASSWORD

pytestmark = pytest.mark.browser


@dataclass
class Served:
    url: str
    desk: Desk


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    desk = build_desk(tmp_path_factory.mktemp("case-browser") / "cxloop.db")
    try:
        with serve(desk.api.app) as url:
            yield Served(url=url, desk=desk)
    finally:
        desk.close()


def log_in(page: Any, served: Served, user: str, lang: str = "en") -> None:
    page.goto(f"{served.url}/login?lang={lang}")
    page.locator("#username").fill(user)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"{served.url}/")


def snap(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"case_pages_{name}.png"), full_page=True)


def test_an_agent_opens_the_most_urgent_case_reads_the_story_notes_and_resolves_it(
    served: Served, browser_page: Any
) -> None:
    page = browser_page
    log_in(page, served, "wang.fang")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    page.wait_for_url(f"{served.url}/cases")
    first = page.locator("#queue tbody tr").first
    assert first.locator(".prio").inner_text() == "p1"
    assert first.locator("[data-field=left]").inner_text().endswith("left")
    snap(page, "queue")
    first.locator("th a").click()
    case_id = served.desk.cases["p1_owned"]
    page.wait_for_url(f"{served.url}/cases/{case_id}")
    story = page.locator("#story")
    assert story.locator("[data-order=O-100]").is_visible()  # the customer's orders
    assert "空气净化器 X3" in story.locator("#orders").inner_text()
    voice = story.locator("#voice").inner_text()
    assert "配送太慢了" in voice and "The purifier is quiet." in voice  # posts, every channel
    assert "li.na@example.com" in story.locator("[data-field=email]").inner_text()  # the owner
    assert page.locator("#masked-note").count() == 0
    snap(page, "case")

    page.locator("#note-text").fill("客户要求今天回电")
    page.locator("#do-note").click()
    page.wait_for_url(f"{served.url}/cases/{case_id}?done=note")
    assert page.locator("#flash").inner_text() == "Note added."
    assert "客户要求今天回电" in page.locator("#history").inner_text()

    page.locator("#resolve-summary").fill("已补发，客户确认收到")
    page.locator("#resolve-cause").select_option("delivery")
    page.locator("#do-resolve").click()
    page.wait_for_url(f"{served.url}/cases/{case_id}?done=resolve")
    assert page.locator("#case-status").get_attribute("data-status") == "resolved"
    assert page.locator("#case-root-cause").inner_text() == "delivery"
    assert page.locator("#do-resolve").count() == 0  # a resolved case offers no resolve
    snap(page, "resolved")


def test_an_agent_of_another_team_gets_403_on_that_case(served: Served, browser_page: Any) -> None:
    page = browser_page
    log_in(page, served, "zhao.min")
    response = page.goto(f"{served.url}/cases/{served.desk.cases['p1_owned']}")
    assert response is not None and response.status == 403
    assert "zhao.min may not read this case" in page.locator("#refusal").inner_text()
    assert PHONE not in page.content()
    snap(page, "other_team_403")


def test_a_viewer_sees_the_customers_personal_data_masked(
    served: Served, browser_page: Any
) -> None:
    page = browser_page
    log_in(page, served, "viewer", lang="zh")
    page.goto(f"{served.url}/cases/{served.desk.cases['b2b']}")
    assert page.locator("#masked-note").inner_text() == "个人信息已脱敏：这不是您的工单。"
    contacts = page.locator("#contacts").inner_text()
    assert "s***@hd.cn" in contacts and "sun@hd.cn" not in contacts
    assert page.locator("#no-actions").is_visible() and page.locator("#do-note").count() == 0
    page.goto(f"{served.url}/cases/{served.desk.cases['overdue']}")
    email = page.locator("[data-field=email]").inner_text()
    assert email == "t***@example.com"
    snap(page, "viewer_masked")
