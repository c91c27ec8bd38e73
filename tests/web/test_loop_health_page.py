"""The loop health page (``/loop/health``) over a real SQLite store: the same numbers as
``GET /api/v1/loop/health`` for the same filters, for every reader role, in zh and en; filters
kept in the URL; "too few" shown as such; the churn interval drawn; bad filters named."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest

from cxloop import api
from cxloop.loop import service as loop_service
from cxloop.loop.recovery import ChurnComparison
from cxloop.web.pages.loop_health import _chart
from tests.web.case_pages_support import ADMIN, Desk, build_desk

READERS = ("viewer", "analyst", "admin", "wang.fang")
"""A viewer, an analyst, an admin and an agent: every role reads loop health."""
RATES = ("first_response_sla", "resolution_sla", "reopen", "verification", "recovery")
SPREADS = ("first_response_hours", "resolution_hours")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """W's desk plus three worked cases: answered and resolved within a day, one reopened."""
    built = build_desk(tmp_path_factory.mktemp("loop-health") / "cxloop.db")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    for n in range(3):
        opened = start + dt.timedelta(days=n)
        case_id = built.open(f"投诉 {n}", "high", owner="wang.fang", now=opened)
        with built.api.store.sessions() as session:
            common: dict[str, Any] = {"session": session, "case_id": case_id, "actor": ADMIN}
            loop_service.log_contact(
                **common, channel="phone", summary="回电", now=opened + dt.timedelta(hours=1)
            )
            loop_service.resolve(**common, now=opened + dt.timedelta(hours=5))
            if n == 0:
                loop_service.reopen(**common, now=opened + dt.timedelta(hours=6))
            session.commit()
    plant_churn(built)
    with built.api.client:
        yield built
    built.close()


def plant_churn(built: Desk) -> None:
    """Four detractors worked and resolved 8 days ago whose next answer came 5 days ago: two
    recovered (9) who kept their subscription, two not (3) whose subscription then ended."""
    now = dt.datetime.now(dt.UTC)

    def day(n: int) -> str:
        return (now - dt.timedelta(days=n)).isoformat()

    people = [("r-1", 9, None), ("r-2", 9, None), ("r-3", 3, day(2)), ("r-4", 3, day(1))]
    rows: dict[str, list[dict[str, Any]]] = {
        "customers": [{"customer_id": c, "segment": "gold"} for c, _, _ in people],
        "subscriptions": [
            {"subscription_id": f"S-{c}", "customer_id": c, "plan": "滤芯订阅",
             "started_at": "2026-01-01", "ended_at": ended, "renewed": ended is None}
            for c, _, ended in people
        ],
        "feedback": [
            row
            for c, nps, _ in people
            for row in (
                {"feedback_id": f"d-{c}", "source": "crm", "channel": "survey",
                 "customer_id": c, "nps": 2, "created_at": day(9), "text": "太差了"},
                {"feedback_id": f"n-{c}", "source": "crm", "channel": "survey",
                 "customer_id": c, "nps": nps, "created_at": day(5)},
            )
        ],
    }  # fmt: skip
    for kind, records in rows.items():
        done = api.import_records(built.api.store, kind, records)
        assert done.inserted == len(records), (kind, done)
    for c, _, _ in people:
        opened = now - dt.timedelta(days=9, hours=-1)
        case_id = built.open(
            f"贬损者 {c}", "high", owner="li.na", customer_id=c, feedback_ids=[f"crm:d-{c}"],
            now=opened,
        )  # fmt: skip
        with built.api.store.sessions() as session:
            loop_service.resolve(
                session=session, case_id=case_id, actor=ADMIN, now=now - dt.timedelta(days=8)
            )
            session.commit()


def attrs(tag: str) -> dict[str, str]:
    return {k: unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}


def page_groups(html: str) -> dict[str, dict[str, Any]]:
    """The table's rows: group → {cases, backlog, each rate and spread as the page shows it}."""
    table = re.search(r'<table id="groups">.*?</table>', html, re.S)
    assert table, html[:2000]
    out: dict[str, dict[str, Any]] = {}
    for group, body in re.findall(r'<tr data-group="([^"]*)">(.*?)</tr>', table[0], re.S):
        cells = {}
        for tag, text in re.findall(r'(<td [^>]*data-field="[^"]*"[^>]*>)(.*?)</td>', body, re.S):
            found = attrs(tag)
            cells[found["data-field"]] = found | {"text": " ".join(text.split())}
        out[unescape(group)] = cells
    return out


def number(text: str) -> float | None:
    return float(text) if text else None


def same_as_api(shown: dict[str, Any], row: dict[str, Any]) -> None:
    assert int(shown["cases"]["text"]) == row["cases"]
    assert int(shown["backlog"]["text"]) == row["backlog"]
    for name in RATES:
        cell, rate = shown[name], row[name]
        assert (int(cell["data-hits"]), int(cell["data-n"])) == (rate["hits"], rate["n"]), name
        assert number(cell["data-rate"]) == rate["rate"], name
        assert (cell["data-too-few"] == "true") == rate["too_few"], name
        if rate["too_few"] and rate["n"]:
            assert "too few" in cell["text"] or "太少" in cell["text"], (name, cell)
    for name in SPREADS:
        cell, spread = shown[name], row[name]
        assert int(cell["data-n"]) == spread["n"], name
        assert number(cell["data-median"]) == spread["median"], name
        assert number(cell["data-p90"]) == spread["p90"], name


@pytest.mark.parametrize("who", READERS)
def test_the_page_shows_the_apis_numbers_by_team_for_every_reader(desk: Desk, who: str) -> None:
    html = desk.page(who, "/loop/health?by=team&lang=en")
    api = desk.json(who, "/api/v1/loop/health?by=team")
    shown = page_groups(html)
    groups = {r["group"]: r for r in api["rows"] if r["group"] != "(all)"}
    assert set(shown) == set(groups) == {"客服一组", "east"}
    for group, row in groups.items():
        same_as_api(shown[group], row)
    assert shown["客服一组"]["resolution_hours"]["data-median"] != ""  # three resolved cases
    overall = next(r for r in api["rows"] if r["group"] == "(all)")
    tile = re.search(r'data-tile="cases">.*?data-value="(\d+)"', html, re.S)
    assert tile and int(tile[1]) == overall["cases"]
    assert "selected>Team</option>" in html  # the filter kept from the URL


def test_zh_shows_the_same_numbers_by_priority_in_chinese(desk: Desk) -> None:
    html = desk.page("viewer", "/loop/health?by=priority&lang=zh")
    assert '<html lang="zh-CN">' in html and "闭环健康" in html and "优先级" in html
    api = desk.json("viewer", "/api/v1/loop/health?by=priority")
    shown = page_groups(html)
    for row in api["rows"]:
        if row["group"] != "(all)":
            same_as_api(shown[row["group"]], row)
    assert "太少" in html  # the desk's few cases: under 10 in every group


def test_a_period_in_the_url_is_the_apis_period(desk: Desk) -> None:
    url = "since=2026-01-01&until=2026-02-28"
    html = desk.page("analyst", f"/loop/health?{url}&lang=en")
    api = desk.json("analyst", f"/api/v1/loop/health?{url}")
    overall = next(r for r in api["rows"] if r["group"] == "(all)")
    tile = re.search(r'data-tile="cases">.*?data-value="(\d+)"', html, re.S)
    assert tile and int(tile[1]) == overall["cases"] == 1  # the overdue case opened in January
    assert 'value="2026-01-01"' in html and 'value="2026-02-28"' in html
    assert f'href="/api/v1/loop/health?{url.replace("&", "&amp;")}"' in html


def test_churn_too_few_is_said_with_the_apis_verdict(desk: Desk) -> None:
    html = desk.page("viewer", "/loop/health?lang=en")
    churn = desk.json("viewer", "/api/v1/loop/health")["churn"]
    assert churn["too_few"] is True
    section = re.search(r'<section id="churn"[^>]*>.*?</section>', html, re.S)
    assert section and 'data-too-few="true"' in section[0]
    assert "Too few detractors to tell" in section[0]
    verdict = re.search(r'<p id="churn-verdict">(.*?)</p>', section[0], re.S)
    assert verdict and unescape(verdict[1]) == churn["verdict"]


def test_planted_churn_is_drawn_with_the_apis_difference(desk: Desk) -> None:
    html = desk.page("analyst", "/loop/health?lang=en")
    churn = desk.json("analyst", "/api/v1/loop/health")["churn"]
    assert (churn["n_recovered"], churn["n_unrecovered"]) == (2, 2)
    assert (churn["churn_recovered"], churn["churn_unrecovered"]) == (0.0, 1.0)
    arms = dict(
        re.findall(r'<tr data-arm="(\w+)">.*?data-field="churn" data-value="([^"]*)"', html)
    )
    assert arms == {"recovered": "0.0", "unrecovered": "1.0"}
    chart = re.search(r"<div class=\"chart\" id=\"churn-chart\"[^>]*data-option='([^']*)'", html)
    assert chart, "no churn chart"
    option = json.loads(unescape(chart[1]))
    (dots,) = [s for s in option["series"] if s["type"] == "scatter"]
    assert dots["data"][0] == [round(100 * churn["crude"], 2), "crude"] == [-100.0, "crude"]
    assert 'data-too-few="true"' in html  # 2 and 2 customers: under the 30 a group needs


def test_the_churn_chart_draws_each_difference_on_its_interval() -> None:
    churn = ChurnComparison(
        n=80, n_recovered=40, n_unrecovered=40, churn_recovered=0.1, churn_unrecovered=0.3,
        crude=-0.2, crude_ci_low=-0.35, crude_ci_high=-0.05, estimate=-0.18, ci_low=-0.33,
        ci_high=-0.03, confounders=["segment"], too_few=False, verdict="recovered churned less",
    )  # fmt: skip
    option = _chart(churn, "en")
    assert option is not None
    json.dumps(option)  # the page embeds it as JSON
    intervals = [s["data"] for s in option["series"] if s["type"] == "line"]
    assert intervals == [
        [[-35.0, "crude"], [-5.0, "crude"]],
        [[-33.0, "adjusted"], [-3.0, "adjusted"]],
    ]
    (dots,) = [s for s in option["series"] if s["type"] == "scatter"]
    assert dots["data"] == [[-20.0, "crude"], [-18.0, "adjusted"]]
    assert dots["markLine"]["data"] == [{"xAxis": 0}]
    nothing = churn.model_copy(update={"crude": None, "estimate": None})
    assert _chart(nothing, "en") is None


def test_bad_filters_are_named_and_signed_out_readers_go_to_login(desk: Desk) -> None:
    html = desk.page("viewer", "/loop/health?since=2026-13-45&lang=en", status=422)
    error = re.search(r'<p class="flash error" id="error"[^>]*>(.*?)</p>', html, re.S)
    assert error and "since" in error[1] and "2026-13-45" in unescape(error[1])
    html = desk.page("viewer", "/loop/health?since=2026-12-01&until=2026-11-01&lang=en", status=422)
    assert 'id="error"' in html
    with desk.api.client as anonymous:
        got = anonymous.get("/loop/health", follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"] == "/login"


def test_the_nav_links_to_loop_health(desk: Desk) -> None:
    html = desk.page("viewer", "/cases?lang=en")
    assert '<a href="/loop/health">Loop health</a>' in html
