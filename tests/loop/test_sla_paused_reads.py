"""While a case waits on the customer its SLA clocks stand still, and every read says so: the API
and the CLI show ``paused`` (no time counting down, not overdue); and the app's own settings —
not the environment's — decide the calendar the wait is measured on when the case moves on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from cxloop.cli import cases as cases_cli
from cxloop.cli.context import console
from cxloop.loop.models import Case
from cxloop.loop.schemas import CaseRead
from cxloop.web.app import create_app
from tests.loop.case_support import EAST, SERVICE
from tests.web.support import Api, build_api

ALL_DAY_POLICY = """\
calendar:
  timezone: UTC
  hours: {mon-sun: "00:00-24:00"}
targets:
  p1: {first_response: 1h, resolution: 4h}
  p2: {first_response: 2h, resolution: 8h}
  p3: {first_response: 4h, resolution: 16h}
  p4: {first_response: 8h, resolution: 40h}
"""
"""Every hour is a working hour: a 3-day wait costs 72 working hours (on the built-in CN
calendar, at most 3 × 9)."""
WAITED = dt.timedelta(days=3)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("paused")
    built = build_api(folder / "paused.db")
    with built.client:
        teams = [t.model_dump() for t in (SERVICE, EAST)]
        saved = built.client.put("/api/v1/teams", json=teams, headers=built.auth("admin"))
        assert saved.status_code == 200, saved.text
    policy = folder / "all_day.yaml"
    policy.write_text(ALL_DAY_POLICY, encoding="utf-8")
    settings = built.store.settings.model_copy(update={"loop_sla_policy": str(policy)})
    app = create_app(settings)
    client = TestClient(app, raise_server_exceptions=False)
    with client:
        yield Api(app=app, client=client, store=built.store, tokens=built.tokens)
    built.store.close()


def call(api: Api, method: str, url: str, body: Any = None) -> Any:
    response = api.client.request(method, f"/api/v1{url}", json=body, headers=api.auth("admin"))
    assert response.status_code in (200, 201), response.text
    return response.json()


def waiting_case(api: Api) -> int:
    """A case owned by wang.fang, waiting on the customer since 3 days ago, its first
    response due 2 days ago (overdue, were its clocks running)."""
    body = {"title": "客户来电：配送晚了两天", "severity": "high", "team": "客服一组",
            "owner": "wang.fang"}  # fmt: skip
    case_id = int(call(api, "POST", "/cases", body)["id"])
    call(api, "POST", f"/cases/{case_id}/wait", {"reason": "等客户的新地址"})
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with api.store.sessions() as session:
        row = session.get(Case, case_id)
        assert row is not None and row.sla_paused_at is not None
        row.sla_paused_at = now - WAITED
        row.first_response_due = now - dt.timedelta(days=2)
        row.first_response_warn_at = now - dt.timedelta(days=2, hours=1)
        session.commit()
    return case_id


def test_a_waiting_case_reads_paused_not_counting_down_nor_overdue(api: Api) -> None:
    case_id = waiting_case(api)
    case = call(api, "GET", f"/cases/{case_id}")["case"]
    assert case["status"] == "waiting_on_customer"
    assert case["sla_paused"] is True and case["sla_paused_at"] is not None
    assert case["seconds_left"] is None
    assert case["next_due"] is not None  # the due time before the wait, still shown
    queue = call(api, "GET", "/cases?team=客服一组")
    assert [c["sla_paused"] for c in queue["items"] if c["id"] == case_id] == [True]
    assert queue["overdue"] == 0  # past due on paper, but its clocks stand still


def test_moving_on_measures_the_wait_on_the_apps_calendar_not_the_environments(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CXLOOP_LOOP_SLA_POLICY", raising=False)  # the env: built-in CN hours
    case_id = waiting_case(api)
    started = call(api, "POST", f"/cases/{case_id}/start")
    assert started["sla_paused"] is False and started["sla_paused_at"] is None
    # 72 working hours on the app's all-day calendar (the CN one would give at most 27)
    assert started["sla_paused_s"] == pytest.approx(WAITED.total_seconds(), abs=120)
    assert started["seconds_left"] > 0  # the due time moved 3 days later: no longer overdue
    assert call(api, "GET", "/cases?team=客服一组")["overdue"] == 0


def test_the_cli_says_paused_where_it_said_time_left() -> None:
    due = dt.datetime(2026, 12, 7, 2, tzinfo=dt.UTC)
    since = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)
    case = CaseRead.model_validate(
        {name: None for name in CaseRead.model_fields}
        | {"id": 1, "status": "waiting_on_customer", "title": "x", "topic": "manual",
           "severity": "high", "priority": "p2", "priority_score": 48.0,
           "priority_explanation": [], "reopen_count": 0, "created_by": "cli",
           "opened_at": due, "updated_at": due, "owner": "wang.fang", "team": "east",
           "next_due": due, "sla_paused": True, "sla_paused_at": since, "sla_paused_s": 0.0}
    )  # fmt: skip
    zone = ZoneInfo("Asia/Shanghai")
    with console.capture() as captured:
        cases_cli._said(case, zone)
    said = " ".join(captured.get().split())
    assert said.endswith(
        "SLA paused since 2026-12-04 17:30 (next due 2026-12-07 10:00 before the wait)"
    )
    assert "left" not in said
    assert cases_cli.left_of(case) == "paused"
    running = case.model_copy(update={"sla_paused": False, "seconds_left": 3900.0})
    assert cases_cli.left_of(running, zone) == "1h 05m"
