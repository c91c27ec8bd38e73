"""The target list and alerts pages in Chromium, as admin, analyst, agent and viewer: the member
counts and alerts shown equal the API's, zh and en render, an analyst builds a list through the
form (HTMX) with preview counts equal to ``POST /api/v1/targets/preview``, a viewer gets no
form. Screenshots: ``targets_<role>_<lang>.png``, ``alerts_<role>.png``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cxloop.act import service as act_service
from cxloop.act.schemas import TargetListCreate, TargetQuery, TopicMention
from cxloop.loop import alert_rules
from cxloop.web.deps import COOKIE
from tests.act.test_service import _load
from tests.web.browser import ARTIFACTS, serve
from tests.web.support import ROLES, Api, build_api
from tests.web.test_alerts_page import _plant

pytestmark = pytest.mark.browser

LIST = "客服 投诉"


@dataclass
class Site:
    url: str
    api: Api


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Four customers, ten weeks of NPS with a drop scanned into an alert and its case, and
    one refreshed list named in Chinese."""
    folder = tmp_path_factory.mktemp("targets-browser")
    api_ = build_api(folder / "cxloop.db")
    _load(api_.store, folder / "files")
    _plant(api_)
    settings = api_.store.settings
    with api_.store.sessions() as session:
        alert_rules.scan(session=session, settings=settings, now=dt.datetime.now(dt.UTC))
        query = TargetQuery(mentioned=[TopicMention(topic="service", within_days=3650)])
        act_service.create(session=session, list_in=TargetListCreate(name=LIST, query=query))
        act_service.refresh(session=session, settings=settings, name=LIST)
        session.commit()
    try:
        with serve(api_.app) as url:
            yield Site(url, api_)
    finally:
        api_.store.close()


def sign_in(page: Any, site: Site, role: str) -> dict[str, str]:
    page.context.add_cookies([{"name": COOKIE, "value": site.api.tokens[role], "url": site.url}])
    return site.api.auth(role)


def numbers(page: Any, selector: str) -> list[str]:
    return page.locator(selector).evaluate_all("els => els.map(e => e.dataset.value)")


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_lists_and_alerts_with_the_apis_numbers(
    site: Site, browser_page: Any, role: str
) -> None:
    page = browser_page
    auth = sign_in(page, site, role)
    ARTIFACTS.mkdir(exist_ok=True)
    lists = page.request.get(f"{site.url}/api/v1/targets", headers=auth).json()
    for lang in ("en", "zh"):
        page.goto(f"{site.url}/targets?lang={lang}")
        assert page.locator("html").get_attribute("lang") == ("en" if lang == "en" else "zh-CN")
        shown = numbers(page, '#lists td[data-field="members"]')
        assert shown == [str(x["member_count"]) for x in lists] and shown != ["0"]
        assert (page.locator("#new-list").count() == 1) is (role in ("admin", "analyst"))
        page.screenshot(path=str(ARTIFACTS / f"targets_{role}_{lang}.png"), full_page=True)
    page.goto(f"{site.url}/alerts?lang=en")
    alerts = page.request.get(f"{site.url}/api/v1/metrics/alerts?status=open", headers=auth).json()
    shown_ids = page.locator("#alerts tbody tr").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.alert))"
    )
    assert sorted(shown_ids) == sorted(a["id"] for a in alerts) and shown_ids
    assert page.locator('#alerts a[href^="/cases/"]').count() >= 1
    page.screenshot(path=str(ARTIFACTS / f"alerts_{role}.png"), full_page=True)
    assert page.cxloop_watch.problems() == []


def test_an_analyst_builds_a_list_with_the_previewed_counts_of_the_api(
    site: Site, browser_page: Any
) -> None:
    page = browser_page
    auth = sign_in(page, site, "analyst")
    page.goto(f"{site.url}/targets?lang=en")
    page.locator("#new-list").click()
    page.wait_for_url(f"{site.url}/targets/new")
    page.locator("#f-segments").fill("vip, regular")
    page.locator("#add-topic").click()  # HTMX swaps the builder with a second topic row
    page.locator("#f-topic-1").wait_for()
    page.locator("#f-topic-0").fill("service")
    page.locator("#f-within_days-0").fill("3650")
    page.locator("#preview").click()
    page.locator("#steps").wait_for()
    page.locator("#funnel-chart svg").first.wait_for(timeout=10_000)
    query = {
        "segments": ["vip", "regular"],
        "mentioned": [{"topic": "service", "within_days": 3650}],
    }
    api_preview = page.request.post(
        f"{site.url}/api/v1/targets/preview", data=query, headers=auth
    ).json()
    shown = numbers(page, "#steps td[data-value]")
    assert [int(v) for v in shown] == [s["remaining"] for s in api_preview["steps"]]
    page.screenshot(path=str(ARTIFACTS / "targets_builder_analyst_en.png"), full_page=True)
    page.locator("#f-name").fill("vip 客服")
    page.locator("#save").click()
    page.wait_for_url("**/targets/vip%20%E5%AE%A2%E6%9C%8D?done=created")
    assert page.locator("#list-name").inner_text() == "vip 客服"
    assert page.cxloop_watch.problems() == []


def test_a_viewer_sees_the_lists_but_no_form(site: Site, browser_page: Any) -> None:
    page = browser_page
    sign_in(page, site, "viewer")
    response = page.goto(f"{site.url}/targets/new?lang=en")
    assert response is not None and response.status == 403
    assert page.locator("#builder-form").count() == 0
    page.goto(f"{site.url}/targets?lang=en")
    page.locator("#lists a").first.click()
    page.locator("#read-only").wait_for()
    assert page.locator("#refresh").count() == 0
