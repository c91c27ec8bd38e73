"""The customer search, customer 360 and account 360 pages over a real SQLite store (TestClient
with each user's session cookie): numbers on the page are the API's, masking follows the role,
unknown ids are 404 pages in words, odd ids and an empty store answer in words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from cxloop.web.deps import COOKIE
from tests.web.case_pages_support import PHONE, Desk
from tests.web.people_support import CHINESE, ODD_ACCOUNT, SLASHED, build_people
from tests.web.support import build_api


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    built = build_people(tmp_path_factory.mktemp("people-pages") / "cxloop.db")
    with built.api.client:
        yield built
    built.close()


def values(html: str, field: str) -> list[str]:
    return re.findall(rf'data-field="{field}" data-value="([^"]*)"', html)


def test_the_customer_page_shows_the_apis_numbers_and_every_part_of_the_story(
    desk: Desk,
) -> None:
    html = desk.page("admin", "/customers/c-1?lang=en")
    api = desk.json("admin", "/api/v1/dashboard/customers/c-1")
    value = api["story"]["value"]
    assert values(html, "percentile") == [str(value["percentile"])]
    assert values(html, "orders") == [str(value["orders"])]
    assert values(html, "orders-total") == [str(api["story"]["orders_total"])]
    assert values(html, "voice-total") == [str(api["story"]["voice_total"])]
    assert "li.na@example.com" in html and PHONE in html  # an admin reads personal data
    assert "滤芯订阅" in html and "days_since_last_order = 16" in html  # subscription, churn
    assert re.search(r"delivery/speed: \S+ \(negative\)", html)  # aspect sentiment
    assert f'<a href="/cases/{desk.cases["p1_owned"]}">' in html
    assert 'href="/api/v1/dashboard/customers/c-1"' in html and 'id="freshness"' in html
    assert 'aria-current="page">Customers' in html


def test_analysts_and_viewers_see_masked_fields_and_agents_only_their_cases_customers(
    desk: Desk,
) -> None:
    for who in ("analyst", "viewer", "li.na"):
        html = desk.page(who, "/customers/c-1?lang=en")
        assert "li.na@example.com" not in html and PHONE not in html, who
        assert "l***@example.com" in html and 'data-masked="true"' in html, who
    assert "li.na@example.com" in desk.page("wang.fang", "/customers/c-1")  # owns its case
    east = desk.page("zhao.min", "/customers/c-2?lang=en")
    assert "another team's case" in east and '<a href="/cases/' not in east


def test_search_is_by_id_for_analysts_and_by_name_for_agents_results_masked_and_paged(
    desk: Desk,
) -> None:
    analyst = desk.page("analyst", "/customers?q=%E6%9D%8E&lang=en")  # 李
    assert "searches customers by id only" in analyst and 'data-value="0"' in analyst
    agent = desk.page("li.na", "/customers?q=%E6%9D%8E&lang=en")
    assert 'data-customer="c-1"' in agent and "李**" in agent  # found by name, masked
    api = desk.json("viewer", "/api/v1/dashboard/customers?q=c")
    page = desk.page("viewer", "/customers?q=c&lang=en")
    assert values(page, "total") == [str(api["total"])]
    assert re.findall(r'data-customer="([^"]+)"', page) == [
        c["customer_id"] for c in api["customers"]
    ]
    assert 'href="/api/v1/dashboard/customers?q=c"' in page
    assert 'href="/accounts/A/%E5%8C%97%E4%BA%AC"' in desk.page("viewer", "/customers?q=A")


def test_unknown_ids_are_404_pages_in_words_and_odd_ids_open(desk: Desk) -> None:
    missing = desk.page("analyst", "/customers/c-404?lang=en", status=404)
    assert "no customer with id &#39;c-404&#39;" in missing and 'role="alert"' in missing
    assert "no account with id" in desk.page("viewer", "/accounts/nope?lang=en", status=404)
    slashed = desk.page("admin", "/customers/" + quote(SLASHED, safe=""))
    assert "Ann O&#39;Neil" in slashed
    assert "欧阳娜娜" in desk.page("admin", "/customers/" + quote(CHINESE))
    got = desk.api.client.get(
        "/api/v1/dashboard/customers/" + quote(SLASHED, safe=""), headers=desk.api.auth("viewer")
    )
    assert got.status_code == 200 and got.json()["customer_id"] == SLASHED
    nothing = desk.page("viewer", "/customers/c-4?lang=en")
    assert "No orders stored." in nothing and "No feedback stored." in nothing
    assert "No case stored for this customer." in nothing


def test_the_account_page_shows_health_with_interval_and_n_contacts_by_role_and_answers(
    desk: Desk,
) -> None:
    url = "/accounts/" + quote(ODD_ACCOUNT)
    html = desk.page("admin", url + "?lang=en")
    api = desk.json("admin", "/api/v1/dashboard/accounts/" + quote(ODD_ACCOUNT, safe=""))
    row = api["health"]["row"]
    assert f'data-n="{row["n"]}" data-value="{row["score"]}"' in html
    assert f'data-ci-low="{row["ci_low"]}"' in html and "Too few answers (n = 3" in html
    assert "行政助理" in html and "no role" in html  # a company's own role, and none
    assert 'data-contact="crm:b2b-2"' not in html  # K-404 is no stored contact…
    assert 'data-feedback="crm:b2b-2"' in html  # …but their answer is shown
    none = desk.page("viewer", "/accounts/A-2?lang=en")
    assert 'id="health-too-few" data-n="0"' in none and "too few for a health score" in none
    one = desk.page("viewer", "/accounts/A-1?lang=en")
    assert 'data-value=""' in one and "hidden for this role" in one  # one person's NPS


def test_zh_and_en_render_and_a_visitor_without_a_session_is_sent_to_log_in(desk: Desk) -> None:
    assert '<html lang="zh-CN"' in desk.page("viewer", "/customers/c-1?lang=zh")
    assert '<html lang="en"' in desk.page("viewer", "/accounts/A-1?lang=en")
    for url in ("/customers", "/customers/c-1", "/accounts/A-1"):
        got = desk.api.client.get(url, follow_redirects=False)
        assert got.status_code == 303 and got.headers["location"] == "/login", url


def test_an_empty_store_says_there_is_nobody_yet(tmp_path: Path) -> None:
    built = build_api(tmp_path / "empty.db", seed=False)
    try:
        built.client.cookies.set(COOKIE, built.tokens["viewer"])
        html = built.client.get("/customers?lang=en").text
        assert "No customers stored yet." in html
        assert built.client.get("/accounts/A-1?lang=en").status_code == 404
    finally:
        built.store.close()
        built.app.state.engine.dispose()
