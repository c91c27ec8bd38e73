"""The target list pages over a real SQLite store: the lists and their members as the API gives
them for every reader, the builder's preview equal to ``POST /api/v1/targets/preview``, bad
input shown next to its field in the service's words with nothing saved, Chinese names, a list
whose topic left the taxonomy, and a push to a receiver that answers 500 said in words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from cxloop.act.models import TargetList
from cxloop.api import connect
from cxloop.config import Settings
from cxloop.web.app import create_app
from cxloop.web.deps import COOKIE
from tests.act.test_service import _load
from tests.http_receiver import Receiver
from tests.shared_build import copy_sqlite
from tests.web.support import ROLES, Api, build_api

RAISE = True
SLOW_SUPPORT = {
    "name": "客服 投诉",
    "query": {"mentioned": [{"topic": "service", "sentiment": "negative", "within_days": 3650}]},
}
"""A list named in Chinese: customers who complained about service."""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A store with users of each role and the act tests' four customers, built once."""
    folder = tmp_path_factory.mktemp("target-pages")
    api_ = build_api(folder / "cxloop.db")
    _load(api_.store, folder / "files")
    api_.store.close()
    return folder / "cxloop.db", api_.tokens


def copy_site(built: tuple[Path, dict[str, str]], folder: Path) -> Api:
    """The app over a fresh copy of the built store (its users' tokens kept)."""
    copy_sqlite(built[0], folder / "cxloop.db")
    settings = Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}")
    app = create_app(settings)
    client = TestClient(app, raise_server_exceptions=RAISE)
    return Api(app=app, client=client, store=connect(settings=settings), tokens=built[1])


@pytest.fixture
def site(built: tuple[Path, dict[str, str]], tmp_path: Path) -> Iterator[Api]:
    """A fresh copy of the built store per test (tests save lists)."""
    api_ = copy_site(built, tmp_path)
    api_.client = TestClient(api_.app, raise_server_exceptions=RAISE)
    with api_.client:
        yield api_
    api_.store.close()


def get(api_: Api, role: str, url: str, **kw: Any) -> Any:
    headers = {"Cookie": f"{COOKIE}={api_.tokens[role]}", **kw.pop("headers", {})}
    return api_.client.get(url, headers=headers, follow_redirects=False, **kw)


def post(api_: Api, role: str, url: str, data: Any, **kw: Any) -> Any:
    headers = {"Cookie": f"{COOKIE}={api_.tokens[role]}", **kw.pop("headers", {})}
    return api_.client.post(url, data=data, headers=headers, follow_redirects=False, **kw)


def values(html: str, table: str) -> list[str]:
    """The ``data-value`` of each ``td`` in the table ``id``."""
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td class="num" data-(?:field="\w+" data-)?value="([^"]*)"', body)


def test_no_lists_yet_is_said_in_words_and_only_managers_get_the_builder(site: Api) -> None:
    for role in ROLES:
        page = get(site, role, "/targets?lang=en")
        assert page.status_code == 200, role
        assert 'id="empty"' in page.text
        assert ('href="/targets/new"' in page.text) is (role in ("admin", "analyst"))
    refused = get(site, "viewer", "/targets/new?lang=en")
    assert refused.status_code == 403
    assert "may not build target lists" in refused.text
    posted = post(site, "agent", "/targets/new", {"do": "save", "name": "x"})
    assert posted.status_code == 403
    assert site.client.get("/api/v1/targets", headers=site.auth("admin")).json() == []


def test_preview_counts_equal_the_api_step_by_step(site: Api) -> None:
    form = {"do": "preview", "segments": "vip, regular", "topic": "service", "within_days": "3650"}
    page = post(site, "analyst", "/targets/new?lang=en", form)
    assert page.status_code == 200, page.text
    query = {
        "segments": ["vip", "regular"],
        "mentioned": [{"topic": "service", "within_days": 3650}],
    }
    api_preview = site.client.post(
        "/api/v1/targets/preview", json=query, headers=site.auth("analyst")
    ).json()
    shown = [int(v) for v in values(page.text, "steps")]
    assert shown == [s["remaining"] for s in api_preview["steps"]]
    assert len(shown) == 3 and shown[0] == api_preview["customers"] == 5  # 4 + the seed c-1
    assert 'id="funnel-chart"' in page.text
    for step in api_preview["steps"]:
        assert unescape(step["condition"]) in unescape(page.text)
    assert site.client.get("/api/v1/targets", headers=site.auth("admin")).json() == []


def test_a_topic_row_is_added_without_javascript(site: Api) -> None:
    page = post(site, "analyst", "/targets/new", {"do": "add_topic", "topic": "service"})
    assert page.status_code == 200
    assert 'id="f-topic-1"' in page.text and 'value="service"' in page.text
    partial = post(
        site, "analyst", "/targets/new", {"do": "add_topic"}, headers={"HX-Request": "1"}
    )
    assert partial.text.lstrip().startswith('<div id="builder"')


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"segments": "VIP"}, "segments", "is not a stored segment; close matches: vip"),
        ({"topic": "servce"}, "topic-0", "close matches: service"),
        ({"min_value": "lots"}, "min_value", "valid number"),
        ({"name": ""}, "name", "must not be empty"),
        ({"ordered_within_days": "90", "no_order_within_days": "90"}, "query", "must be longer"),
        ({"webhook_url": "not a url"}, "webhook_url", "URL"),
    ],
)
def test_bad_input_is_named_next_to_its_field_and_nothing_is_saved(
    site: Api, form: dict[str, str], field: str, words: str
) -> None:
    body = {"do": "save", "name": "ok", **form}
    page = post(site, "analyst", "/targets/new?lang=en", body)
    assert page.status_code == 422, page.text
    found = re.search(rf'data-field="{re.escape(field)}">([^<]*)<', page.text)
    assert found is not None, page.text
    assert words in unescape(found.group(1))
    assert site.client.get("/api/v1/targets", headers=site.auth("admin")).json() == []


def test_a_taken_name_is_refused_next_to_the_name(site: Api) -> None:
    assert post(site, "analyst", "/targets/new", {"do": "save", "name": "first"}).status_code == 303
    page = post(site, "admin", "/targets/new", {"do": "save", "name": "first", "segments": "vip"})
    assert page.status_code == 409
    assert re.search(r'data-field="name">[^<]*already exists', page.text)
    lists = site.client.get("/api/v1/targets", headers=site.auth("admin")).json()
    assert [(x["name"], {k for k, v in x["query"].items() if v}) for x in lists] == [
        ("first", set())
    ]


def test_a_chinese_list_is_saved_refreshed_and_read_by_every_role(site: Api) -> None:
    form = {"do": "save", "name": SLOW_SUPPORT["name"], "topic": "service",
            "sentiment": "negative", "within_days": "3650"}  # fmt: skip
    saved = post(site, "analyst", "/targets/new", form)
    assert saved.status_code == 303
    where = f"/targets/{quote(SLOW_SUPPORT['name'])}"
    assert saved.headers["location"] == f"{where}?done=created"
    refreshed = post(site, "analyst", f"{where}/refresh", {})
    assert refreshed.status_code == 303 and "done=refresh" in refreshed.headers["location"]
    api_list = site.client.get(f"/api/v1{where}", headers=site.auth("viewer")).json()
    members = site.client.get(f"/api/v1{where}/members", headers=site.auth("viewer")).json()
    assert api_list["member_count"] == len(members) >= 1
    for role in ROLES:
        listing = get(site, role, "/targets?lang=zh")
        assert values(listing.text, "lists") == [str(api_list["member_count"])]
        page = get(site, role, f"{where}?lang=en")
        assert page.status_code == 200
        assert f'data-value="{api_list["member_count"]}"' in page.text
        shown = re.findall(r'<tr data-customer="([^"]+)"', page.text)
        assert shown == [m["customer_id"] for m in members]
        assert ('id="refresh"' in page.text) is (role in ("admin", "analyst"))
        assert "mentioned service (negative) in the last 3650 days" in page.text
    csv = get(site, "viewer", f"{where}/members.csv")
    assert csv.status_code == 200 and csv.text.startswith("customer_id,")
    assert (
        csv.text
        == site.client.get(f"/api/v1{where}/members?format=csv", headers=site.auth("viewer")).text
    )
    refused = post(site, "viewer", f"{where}/refresh", {})
    assert refused.status_code == 403


def test_a_list_whose_topic_left_the_taxonomy_reads_and_says_why_it_cannot_refresh(
    site: Api,
) -> None:
    assert post(site, "admin", "/targets/new", {"do": "save", "name": "gone",
                "topic": "service"}).status_code == 303  # fmt: skip
    with site.store.sessions.begin() as session:
        gone = {"mentioned": [{"topic": "retired/topic", "sentiment": "any", "within_days": 90}]}
        session.execute(update(TargetList).values(definition=gone))
    listing = get(site, "viewer", "/targets?lang=en")
    assert listing.status_code == 200 and "mentioned retired/topic" in listing.text
    page = post(site, "admin", "/targets/gone/refresh?lang=en", {})
    assert page.status_code == 422
    assert "retired/topic" in unescape(page.text) and 'id="error"' in page.text


def test_a_push_to_a_receiver_answering_500_is_said_in_words(
    site: Api, http_receiver: Receiver
) -> None:
    assert post(site, "admin", "/targets/new", {"do": "save", "name": "hooked"}).status_code == 303
    scheduled = post(
        site, "admin", "/targets/hooked/schedule",
        {"refresh_hours": "24", "webhook_url": http_receiver.url},
    )  # fmt: skip
    assert scheduled.status_code == 303
    assert (
        site.client.get("/api/v1/targets/hooked", headers=site.auth("admin")).json()[
            "refresh_hours"
        ]
        == 24
    )
    assert post(site, "admin", "/targets/hooked/refresh", {}).status_code == 303
    http_receiver.fail_next(10, status=500)
    pushed = post(site, "admin", "/targets/hooked/push", {})
    assert pushed.status_code == 303
    page = get(site, "admin", pushed.headers["location"] + "&lang=en")
    said = re.search(r'id="push-error">([^<]*)<', page.text)
    assert said is not None and "500" in unescape(said.group(1))
    bad = post(site, "admin", "/targets/hooked/schedule", {"refresh_hours": "soon"})
    assert bad.status_code == 422 and "valid integer" in bad.text


def test_member_names_are_masked_unless_the_role_reads_personal_data(site: Api) -> None:
    form = {"do": "save", "name": "gold", "segments": "gold"}  # the seed customer c-1, Li Na
    assert post(site, "admin", "/targets/new", form).status_code == 303
    assert post(site, "admin", "/targets/gold/refresh", {}).status_code == 303
    names = {}
    for role in ROLES:
        page = get(site, role, "/targets/gold?lang=en")
        names[role] = re.findall(r'<td data-field="name">([^<]*)</td>', page.text)
    assert names["admin"] == names["agent"] == ["Li Na"]
    assert names["viewer"] == names["analyst"] == ["L****"]


def test_the_api_pushes_and_schedules_for_managers_only(site: Api, http_receiver: Receiver) -> None:
    assert post(site, "admin", "/targets/new", {"do": "save", "name": "api"}).status_code == 303
    body = {"refresh_hours": 12, "webhook_url": http_receiver.url}
    viewer = site.client.put("/api/v1/targets/api/schedule", json=body, headers=site.auth("viewer"))
    assert viewer.status_code == 403
    done = site.client.put("/api/v1/targets/api/schedule", json=body, headers=site.auth("analyst"))
    assert done.status_code == 200 and done.json()["refresh_hours"] == 12
    never = site.client.post("/api/v1/targets/api/push", headers=site.auth("analyst"))
    assert never.status_code == 422 and "never refreshed" in never.text
    site.client.post("/api/v1/targets/api/refresh", headers=site.auth("analyst"))
    before = len(http_receiver.requests)
    pushed = site.client.post("/api/v1/targets/api/push", headers=site.auth("analyst")).json()
    assert pushed["pushed"] is True and pushed["members"] == 5
    assert http_receiver.requests[before].json()["count"] == 5
