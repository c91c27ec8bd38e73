"""The cases API on a real SQLite store: each caller works the cases of their own teams (an
agent of another team gets 403), a lead reassigns, an agent takes and resolves, refusals and
bad input name the field, the value and the reason, and team e-mails are masked for viewers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cxloop.loop import case_access
from cxloop.loop.schemas import CaseDetail, CaseEventRead, CaseRead
from cxloop.privacy import service as privacy_service
from cxloop.privacy.roles import Role
from cxloop.privacy.schemas import TokenCreate, UserCreate
from tests.loop.case_support import EAST, SERVICE
from tests.web.support import Api, build_api

PEOPLE = {"chen.lead": "agent", "wang.fang": "agent", "li.na": "agent", "zhao.min": "agent"}
"""Users behind the teams' roster names (chen.lead leads 客服一组; zhao.min works in east)."""


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    built = build_api(tmp_path / "cases.db")
    with built.store.sessions() as session:
        for name, role in PEOPLE.items():
            privacy_service.create_user(
                session=session, user_in=UserCreate(username=name, role=Role(role))
            )
            issued = privacy_service.create_token(
                session=session, token_in=TokenCreate(username=name, name="tests")
            )
            built.tokens[name] = issued.token
        session.commit()
    with built.client:
        teams = [t.model_dump() for t in (SERVICE, EAST)]
        saved = built.client.put("/api/v1/teams", json=teams, headers=built.auth("admin"))
        assert saved.status_code == 200, saved.text
        yield built
    built.store.close()


def call(api: Api, who: str, method: str, url: str, body: Any = None) -> Any:
    return api.client.request(method, f"/api/v1{url}", json=body, headers=api.auth(who))


def opened(api: Api, who: str = "chen.lead", **values: Any) -> dict[str, Any]:
    body = {"title": "客户来电：配送晚了两天", "severity": "high", "team": "客服一组"}
    response = call(api, who, "POST", "/cases", body | values)
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


def problems(response: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = response.json()["detail"]
    return found


def test_an_agent_of_another_team_gets_403_on_the_case_and_its_queue(api: Api) -> None:
    case = opened(api)
    for method, url, body in (
        ("GET", f"/cases/{case['id']}", None),
        ("POST", f"/cases/{case['id']}/take", None),
        ("POST", f"/cases/{case['id']}/note", {"text": "I'll have a look"}),
        ("GET", "/cases?team=客服一组", None),
        ("POST", "/cases", {"title": "替同事开单", "severity": "low", "team": "客服一组"}),
    ):
        response = call(api, "zhao.min", method, url, body)
        assert response.status_code == 403, (url, response.text)
        [problem] = problems(response)
        assert "zhao.min" in problem["reason"] and "客服一组" in problem["reason"]
    queue = call(api, "zhao.min", "GET", "/cases").json()
    assert queue["items"] == [] and queue["total"] == 0
    assert [c["id"] for c in call(api, "wang.fang", "GET", "/cases").json()["items"]] == [
        case["id"]
    ]


def test_a_viewer_and_an_analyst_read_cases_masked_but_may_not_work_them(api: Api) -> None:
    case = opened(api, title="回电 13800138000")
    for role in ("viewer", "analyst"):
        read = call(api, role, "GET", f"/cases/{case['id']}")
        assert read.status_code == 200, read.text
        assert read.json()["allowed_actions"] == []
        assert "13800138000" not in read.json()["case"]["title"]
        listed = call(api, role, "GET", "/cases").json()
        assert [c["id"] for c in listed["items"]] == [case["id"]]
        assert "13800138000" not in listed["items"][0]["title"]
        response = call(api, role, "POST", f"/cases/{case['id']}/note", {"text": "x"})
        assert response.status_code == 403
        assert f"role '{role}' may not work cases" in problems(response)[0]["reason"]


def test_an_agent_takes_a_lead_reassigns_and_the_new_owner_resolves(api: Api) -> None:
    case = opened(api)
    assert case["status"] == "new" and case["owner"] is None
    taken = call(api, "wang.fang", "POST", f"/cases/{case['id']}/take").json()
    assert (taken["status"], taken["owner"]) == ("assigned", "wang.fang")

    again = call(api, "li.na", "POST", f"/cases/{case['id']}/take")
    assert again.status_code == 403
    assert "belongs to wang.fang" in problems(again)[0]["reason"]
    by_agent = call(api, "li.na", "POST", f"/cases/{case['id']}/assign", {"owner": "li.na"})
    assert by_agent.status_code == 403 and "only a lead" in problems(by_agent)[0]["reason"]

    moved = call(api, "chen.lead", "POST", f"/cases/{case['id']}/assign", {"owner": "li.na"})
    assert moved.status_code == 200 and moved.json()["owner"] == "li.na"
    steps = [
        ("start", None, "in_progress"),
        ("contact", {"channel": "phone", "summary": "道歉并补发"}, "in_progress"),
        ("root-cause", {"code": "delivery"}, "in_progress"),
        ("resolve", {"summary": "补发已签收"}, "resolved"),
    ]
    for action, body, status in steps:
        response = call(api, "li.na", "POST", f"/cases/{case['id']}/{action}", body)
        assert response.status_code == 200, (action, response.text)
        assert response.json()["status"] == status
    detail = call(api, "li.na", "GET", f"/cases/{case['id']}").json()
    assert detail["case"]["root_cause"] == "delivery"
    assert detail["case"]["first_responded_at"] is not None
    assert [e["kind"] for e in detail["history"]] == [
        "created", "assigned", "assigned", "status_changed", "contact_logged",
        "root_cause_set", "status_changed",
    ]  # fmt: skip
    assert [e["actor"] for e in detail["history"]][:3] == ["chen.lead", "wang.fang", "chen.lead"]
    # what each may do next: an agent reopens or notes; verifying is the follow-up's (or a lead's)
    assert "verify" not in detail["allowed_actions"] and "note" in detail["allowed_actions"]
    lead_view = call(api, "chen.lead", "GET", f"/cases/{case['id']}").json()
    assert {"verify", "close", "reopen"} <= set(lead_view["allowed_actions"])


def test_the_queue_is_the_callers_teams_most_urgent_first_with_counts(api: Api) -> None:
    low = opened(api, severity="low", title="包装有点旧")
    high = opened(api, severity="critical", title="威胁投诉到消协")
    east = opened(api, who="admin", team="east", title="华东客户退款慢")
    mine = call(api, "wang.fang", "GET", "/cases").json()
    assert [c["id"] for c in mine["items"]] == [high["id"], low["id"]]
    assert mine["counts"]["new"] == 2 and mine["total"] == 2
    assert all(c["seconds_left"] > 0 for c in mine["items"])
    everything = call(api, "admin", "GET", "/cases").json()
    assert {c["id"] for c in everything["items"]} == {low["id"], high["id"], east["id"]}
    only_east = call(api, "admin", "GET", "/cases?team=east").json()
    assert [c["id"] for c in only_east["items"]] == [east["id"]]


def test_bad_input_names_the_field_the_value_and_the_reason(api: Api) -> None:
    case = opened(api)
    url = f"/cases/{case['id']}"
    checks = [
        (
            "POST",
            f"{url}/assign",
            {"owner": "zhao.min"},
            "owner",
            "zhao.min",
            "not an active member",
        ),
        (
            "POST",
            f"{url}/root-cause",
            {"code": "weather"},
            "root_cause",
            "weather",
            "is not a root cause",
        ),
        ("POST", f"{url}/resolve", None, "status", "new", "cannot resolve a case that is new"),
        (
            "POST",
            "/cases",
            {"title": "x", "severity": "high", "team": "nobody"},
            "team",
            "nobody",
            "is not a team",
        ),
        (
            "POST",
            "/cases",
            {"title": "x", "severity": "urgent!", "team": "east"},
            "severity",
            "urgent!",
            "",
        ),
        ("GET", "/cases?status=open", None, "status", "open", "is not a case status"),
        (
            "POST",
            "/cases",
            {"title": "x", "severity": "high", "team": "east", "customer_id": "C" * 129},
            "customer_id",
            "C" * 129,
            "at most 128 characters",
        ),
    ]
    for method, path, body, field, value, reason in checks:
        response = call(api, "chen.lead", method, path, body)
        assert response.status_code == 422, (path, response.text)
        found = problems(response)
        assert any(
            p["field"].endswith(field) and p["value"] == value and reason in p["reason"]
            for p in found
        ), (path, found)
    missing = call(api, "admin", "GET", "/cases/424242")
    assert missing.status_code == 404 and "no case 424242" in problems(missing)[0]["reason"]


def test_an_unknown_priority_or_status_filter_is_a_422_naming_the_allowed_ones(api: Api) -> None:
    opened(api, severity="critical")  # a p1 case: an ignored filter would list it
    for query, field, value, allowed in [
        ("priority=p5", "query.priority.0", "p5", "'p1', 'p2', 'p3' or 'p4'"),
        ("priority=p1&priority=P2", "query.priority.1", "P2", "'p1', 'p2', 'p3' or 'p4'"),
        ("status=opened", "status", "opened", "new, assigned, in_progress"),
    ]:
        response = call(api, "admin", "GET", f"/cases?{query}")
        assert response.status_code == 422, (query, response.text)
        [problem] = problems(response)
        assert (problem["field"], problem["value"]) == (field, value)
        assert allowed in problem["reason"], problem
    assert call(api, "admin", "GET", "/cases?priority=p1").json()["total"] == 1


def test_saving_a_team_without_a_lead_warns_that_its_escalations_reach_nobody(api: Api) -> None:
    body = [{"name": "夜班", "members": [{"name": "li.na"}]}]
    saved = api.client.put("/api/v1/teams", json=body, headers=api.auth("admin"))
    assert saved.status_code == 200, saved.text  # warned, not refused
    [team] = saved.json()
    assert team["lead"] is None
    assert team["warnings"] == ["team 夜班 has no lead: its escalations will reach nobody"]
    listed = {t["name"]: t["warnings"] for t in call(api, "li.na", "GET", "/teams").json()}
    assert listed == {"夜班": team["warnings"], "客服一组": [], "east": []}


def test_team_emails_are_masked_for_roles_without_pii(api: Api) -> None:
    def emails(role: str) -> set[str]:
        teams = call(api, role, "GET", "/teams").json()
        return {m["email"] for t in teams for m in t["members"] if m["email"]}

    assert "wang.fang@example.com" in emails("agent")
    assert emails("viewer") == {"w***@example.com", "Z***@EXAMPLE.COM"}
    saved = call(api, "agent", "PUT", "/teams", [{"name": "x"}])
    assert saved.status_code == 403
    twice = call(api, "admin", "PUT", "/teams", [{"name": "east"}, {"name": "east"}])
    assert twice.status_code == 422
    assert problems(twice) == [
        {"field": "teams[1].name", "value": "east", "reason": "names a team twice"}
    ]


def test_free_text_is_masked_for_a_reader_who_neither_owns_the_case_nor_reads_pii() -> None:
    now = dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC)
    case = CaseRead.model_validate(
        {name: None for name in CaseRead.model_fields}
        | {"id": 1, "status": "assigned", "title": "回电 13800138000", "topic": "manual",
           "severity": "high", "priority": "p2", "priority_score": 48.0,
           "priority_explanation": [], "reopen_count": 0, "created_by": "cli",
           "opened_at": now, "updated_at": now, "owner": "wang.fang"}
    )  # fmt: skip
    note = CaseEventRead(
        id=1, at=now, actor="li.na", kind="note", data={"text": "邮箱 li.na@example.com"}
    )
    created = CaseEventRead(
        id=2, at=now, actor="cxloop", kind="created",
        data={"why": ["attributes.mobile 13800138000 == 13800138000", "nps_group = detractor"]},
    )  # fmt: skip
    detail = CaseDetail(case=case, feedback_ids=[], history=[note, created], allowed_actions=[])
    viewer = case_access.actor_of("someone", "viewer")
    assert not case_access.reads_pii(viewer, "wang.fang")
    assert case_access.reads_pii(case_access.actor_of("wang.fang", "viewer"), "wang.fang")
    # an agent (or lead) of the team who does not own the case sees it masked (issue 14)
    assert not case_access.reads_pii(case_access.actor_of("li.na", "agent"), "wang.fang")
    assert case_access.reads_pii(case_access.actor_of("root", "admin"), "wang.fang")
    shown = case_access.masked(detail)
    assert "13800138000" not in shown.case.title and shown.case.title.endswith("8000")
    assert shown.history[0].data["text"] == "邮箱 l***@example.com"
    why = shown.history[1].data["why"]  # a rule's why names the values that held
    assert "13800138000" not in str(why) and why[1] == "nps_group = detractor"


def test_a_work_action_answers_the_title_masked_unless_the_case_is_the_callers(api: Api) -> None:
    case = opened(api, title="回电 13800138000", owner="li.na")
    url = f"/cases/{case['id']}"
    titles = {
        who: [c["title"] for c in call(api, who, "GET", "/cases").json()["items"]]
        for who in ("li.na", "wang.fang", "chen.lead")
    }
    assert titles["li.na"] == ["回电 13800138000"]
    assert "13800138000" not in str(titles["wang.fang"] + titles["chen.lead"])  # not theirs
    by_owner = call(api, "li.na", "POST", f"{url}/note", {"text": "已回电"})
    assert by_owner.status_code == 200 and by_owner.json()["title"] == "回电 13800138000"
    for who, action, body in (
        ("wang.fang", "note", {"text": "我也看看"}),  # an agent of the team, not the owner
        ("chen.lead", "assign", {"owner": "wang.fang"}),  # the lead gives it away
    ):
        response = call(api, who, "POST", f"{url}/{action}", body)
        assert response.status_code == 200, (who, response.text)
        assert "13800138000" not in response.json()["title"], who
    taken_over = call(api, "wang.fang", "POST", f"{url}/note", {"text": "我来跟进"})
    assert taken_over.json()["title"] == "回电 13800138000"  # wang.fang owns it now
    by_admin = call(api, "admin", "POST", f"{url}/note", {"text": "ok"})
    assert by_admin.json()["title"] == "回电 13800138000"
