"""Survey tracking over the API and on the pages: funnel, response rates, B2B completeness.

Every number a page shows is compared with the API's for the same survey."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

from cxloop import api
from cxloop.web.deps import COOKIE
from tests.surveys.tracking_support import add_distribution, add_invitation, add_survey
from tests.web.browser import serve
from tests.web.support import Api, build_api

STATUSES = ["completed"] * 6 + ["sent"] * 7 + ["opened", "started", "bounced", "skipped"]


def seed(store: api.Store) -> None:
    """post-delivery: one e-mail distribution of 17 invitations (6 completed of 15 delivered);
    milestone: a B2B survey at account A-1 missing one of two required roles."""
    assert api.import_records(
        store, "accounts", [{"account_id": "A-1", "name": "华东精密", "owner": "zhao@hd.cn"}]
    ).inserted
    with store.sessions() as session:
        add_survey(session)
        mail = add_distribution(session, name="march")
        for i, status in enumerate(STATUSES):
            role = "user" if i % 3 else "decision_maker"
            reason = "capped_contact" if status == "skipped" else None
            add_invitation(session, mail, status, role=role, skip_reason=reason)
        add_survey(session, "milestone", required_roles=["decision_maker", "purchaser"])
        b2b = add_distribution(session, "milestone", account_id="A-1", milestone_id="M-1")
        add_invitation(session, b2b, "completed", role="decision_maker")
        add_invitation(session, b2b, "sent", role="purchaser")
        session.commit()


@pytest.fixture(scope="module")
def surveyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = build_api(tmp_path_factory.mktemp("survey-pages") / "cxloop.db", seed=False)
    seed(built.store)
    with built.client:
        yield built
    built.store.close()
    built.app.state.engine.dispose()


def test_funnel_api_for_a_viewer(surveyed: Api) -> None:
    got = surveyed.client.get(
        "/api/v1/surveys/post-delivery/funnel", headers=surveyed.auth("viewer")
    )
    assert got.status_code == 200, got.text
    body = got.json()
    (march,) = body["distributions"]
    assert (march["invited"], march["skipped"], march["delivered"], march["completed"]) == (
        17,
        1,
        15,
        6,
    )
    assert march["skip_reasons"] == {"capped_contact": 1}
    assert march["rate"]["n"] == 15 and march["rate"]["score"] == pytest.approx(0.4)
    assert march["rate"]["ci_low"] < 0.4 < march["rate"]["ci_high"]


def test_response_rates_api_by_role_and_bad_dimension(surveyed: Api) -> None:
    viewer = surveyed.auth("viewer")
    got = surveyed.client.get(
        "/api/v1/surveys/post-delivery/response-rates?by=role&min_n=1", headers=viewer
    )
    assert got.status_code == 200, got.text
    rows = {r["slice"]["role"]: (r["n"], r["completed"]) for r in got.json()}
    # i % 3 == 0 are decision makers: 0, 3 completed; 6, 9, 12 sent; 15 bounced
    assert rows == {"decision_maker": (5, 2), "user": (10, 4)}
    bad = surveyed.client.get(
        "/api/v1/surveys/post-delivery/response-rates?by=colour", headers=viewer
    )
    assert bad.status_code == 422 and "colour" in bad.text


def test_rates_across_surveys_by_survey(surveyed: Api) -> None:
    got = surveyed.client.get(
        "/api/v1/surveys/rates?by=survey&min_n=1", headers=surveyed.auth("viewer")
    )
    assert got.status_code == 200, got.text
    rows = {r["slice"]["survey"]: (r["n"], r["completed"]) for r in got.json()}
    assert rows == {"milestone": (2, 1), "post-delivery": (15, 6)}


def test_completeness_api(surveyed: Api) -> None:
    got = surveyed.client.get(
        "/api/v1/surveys/milestone/completeness", headers=surveyed.auth("viewer")
    )
    assert got.status_code == 200, got.text
    rows = [(r["account"], r["role"], r["answered"], r["missing"]) for r in got.json()]
    assert rows == [("A-1", "decision_maker", 1, False), ("A-1", "purchaser", 0, True)]
    assert {r["complete"] for r in got.json()} == {False}


def test_tracking_api_needs_a_token_and_knows_the_survey(surveyed: Api) -> None:
    assert surveyed.client.get("/api/v1/surveys/post-delivery/funnel").status_code == 401
    missing = surveyed.client.get(
        "/api/v1/surveys/nope/completeness", headers=surveyed.auth("viewer")
    )
    assert missing.status_code == 404 and "nope" in missing.text


# --- pages: login by cookie, numbers equal to the API's ---------------------------------------


class Cells(HTMLParser):
    """``data-field`` cells by the id of the nearest enclosing element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.field: str | None = None
        self.cells: dict[str, dict[str, str]] = {}
        self.options: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in VOID:
            return
        self.stack.append(values.get("id"))
        if values.get("data-option"):
            self.options.append(json.loads(values["data-option"] or "{}"))
        self.field = values.get("data-field")

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()
        self.field = None

    def handle_data(self, data: str) -> None:
        if self.field and data.strip():
            owner = next((i for i in reversed(self.stack) if i), "")
            row = self.cells.setdefault(owner, {})
            row[self.field] = (row.get(self.field, "") + data).strip()


VOID = {"input", "br", "meta", "link", "img", "hr"}


def parse(html: str) -> Cells:
    cells = Cells()
    cells.feed(html)
    return cells


def page(api_: Api, url: str, role: str = "viewer", **headers: str) -> str:
    got = api_.client.get(
        url, headers={"Cookie": f"{COOKIE}={api_.tokens[role]}", **headers}, follow_redirects=False
    )
    assert got.status_code == 200, got.text
    return got.text


def share(text: str) -> float:
    """``40.0%`` → 0.4"""
    return float(text.rstrip("%").replace(",", "")) / 100


def test_survey_list_shows_the_api_numbers(surveyed: Api) -> None:
    html = page(surveyed, "/surveys?lang=en")
    api_total = surveyed.client.get(
        "/api/v1/surveys/post-delivery/funnel", headers=surveyed.auth("viewer")
    ).json()["total"]
    row = parse(html).cells["survey-post-delivery"]
    assert int(row["delivered"]) == api_total["rate"]["n"] == 15
    assert int(row["completed"]) == api_total["rate"]["completed"]
    assert share(row["rate"]) == pytest.approx(api_total["rate"]["score"], abs=0.0005)
    low, high = (share(x) for x in row["interval"].split(" – "))
    assert low == pytest.approx(api_total["rate"]["ci_low"], abs=0.0005)
    assert high == pytest.approx(api_total["rate"]["ci_high"], abs=0.0005)
    assert int(row["distributions"]) == 1
    assert "Delivery survey" in html and "milestone" in html


def test_detail_funnel_table_and_chart_match_the_api(surveyed: Api) -> None:
    html = page(surveyed, "/surveys/post-delivery?lang=zh")
    api_ = surveyed.client.get(
        "/api/v1/surveys/post-delivery/funnel", headers=surveyed.auth("viewer")
    ).json()
    (march,) = api_["distributions"]
    parsed = parse(html)
    row = parsed.cells[f"distribution-{march['distribution_id']}"]
    for step in ("invited", "skipped", "sent", "delivered", "bounced", "opened", "started"):
        assert int(row[step]) == march[step], step
    assert int(row["completed"]) == march["completed"] and int(row["partial"]) == march["partial"]
    assert share(row["rate"]) == pytest.approx(march["rate"]["score"], abs=0.0005)
    funnel_chart, rate_chart = parsed.options
    steps = ("invited", "sent", "delivered", "opened", "started", "completed")
    assert funnel_chart["series"][0]["data"] == [api_["total"][s] for s in steps]
    assert funnel_chart["yAxis"]["data"][0] == "已邀请"  # the chart speaks the page's language
    base, band, point = rate_chart["series"]
    rate = march["rate"]
    assert point["data"] == [round(100 * rate["score"], 1)]
    assert base["data"] == [round(100 * rate["ci_low"], 1)]
    assert base["data"][0] + band["data"][0] == pytest.approx(round(100 * rate["ci_high"], 1))
    assert "配送体验调查" in html and 'lang="zh-CN"' in html


def test_rates_partial_by_role_matches_the_api(surveyed: Api) -> None:
    html = page(surveyed, "/surveys/post-delivery?by=role&lang=en", **{"HX-Request": "true"})
    assert "<html" not in html and html.lstrip().startswith('<section id="rates"')
    api_rows = surveyed.client.get(
        "/api/v1/surveys/post-delivery/response-rates?by=role", headers=surveyed.auth("viewer")
    ).json()
    shown = re.findall(
        r'<th scope="row">([^<]+)</th><td class="num" data-field="n">([\d,]+)</td>'
        r'<td class="num" data-field="completed">([\d,]+)</td>',
        html,
    )
    expected = [("decision maker" if r["slice"]["role"] == "decision_maker" else r["slice"]["role"],
                 str(r["n"]), str(r["completed"])) for r in api_rows]  # fmt: skip
    assert shown == expected


def test_preview_in_chinese_and_english_is_read_only(surveyed: Api) -> None:
    zh = page(surveyed, "/surveys/post-delivery/preview?lang=zh")
    en = page(surveyed, "/surveys/post-delivery/preview?lang=en")
    assert "您向朋友推荐我们的可能性有多大？" in zh and "How likely" not in zh
    assert "How likely are you to recommend us?" in en and "您向朋友" not in en
    assert "nps &lt;= 6" in en  # the display logic is shown
    assert zh.count("<fieldset disabled>") == 2 and "<form" not in zh.split("<main")[1]
    assert len(re.findall(r'name="nps"', en)) == 11  # 0–10


def test_completeness_page_marks_missing_roles_like_the_api(surveyed: Api) -> None:
    html = page(surveyed, "/surveys/milestone/completeness?lang=en")
    api_rows = surveyed.client.get(
        "/api/v1/surveys/milestone/completeness", headers=surveyed.auth("viewer")
    ).json()
    parsed = parse(html)
    assert parsed.cells["summary"] == {"complete": "0", "accounts": "1"}
    pattern = r'<tr data-role="([^"]+)">.*?"answered">(\d+)<.*?"status">(.*?)</td>'
    roles = re.findall(pattern, html, re.S)
    assert [(r, int(n)) for r, n, _ in roles] == [(r["role"], r["answered"]) for r in api_rows]
    assert ["missing" in status for _, _, status in roles] == [r["missing"] for r in api_rows]
    assert "华东精密" in html and "incomplete" in html


def test_pages_need_a_login(surveyed: Api) -> None:
    for url in ("/surveys", "/surveys/post-delivery", "/surveys/milestone/completeness"):
        got = surveyed.client.get(url, follow_redirects=False)
        assert got.status_code == 303 and got.headers["location"] == "/login"


def test_unknown_survey_page_is_not_found(surveyed: Api) -> None:
    got = surveyed.client.get(
        "/surveys/nope", headers={"Cookie": f"{COOKIE}={surveyed.tokens['viewer']}"}
    )
    assert got.status_code == 404


@pytest.mark.browser
def test_detail_page_in_chromium_draws_both_charts_and_swaps_rates_by_role(
    surveyed: Api, browser_page: Any
) -> None:
    page = browser_page
    with serve(surveyed.app) as url:
        page.context.add_cookies([{"name": COOKIE, "value": surveyed.tokens["viewer"], "url": url}])
        page.goto(f"{url}/surveys/post-delivery?lang=zh")
        assert page.locator("h1").inner_text().startswith("配送体验调查")
        page.wait_for_selector("#funnel-chart .chart svg", timeout=10_000)
        page.wait_for_selector("#rates .chart svg", timeout=10_000)
        assert "已送达" in page.locator("#funnel-chart svg").inner_html()
        api_rate = surveyed.client.get(
            "/api/v1/surveys/post-delivery/funnel", headers=surveyed.auth("viewer")
        ).json()["total"]["rate"]
        shown = page.locator("#rate-total [data-field=rate]").inner_text()
        assert share(shown) == pytest.approx(api_rate["score"], abs=0.0005)
        page.get_by_label("回收率细分：").select_option("role")
        page.wait_for_selector("#rates-table th:text('决策者')", timeout=10_000)
        page.wait_for_selector("#rates .chart svg", timeout=10_000)  # redrawn after the swap
        assert page.locator("#rates-table tbody tr").count() == 2
        page.goto(f"{url}/surveys/milestone/completeness?lang=en")
        assert page.locator("tr[data-role=purchaser] [data-field=status]").inner_text() == "missing"


@pytest.mark.parametrize("role", ["admin", "analyst", "agent", "viewer"])
def test_every_role_reads_the_survey_pages(surveyed: Api, role: str) -> None:
    for url in ("/surveys", "/surveys/post-delivery", "/surveys/milestone/completeness"):
        assert "post-delivery" in page(surveyed, url + "?lang=en", role) or "milestone" in url
