"""``cxloop teams`` and ``cxloop cases`` as a user runs them (real processes on a SQLite file):
teams saved from YAML, a case opened about a feedback row, taken, reassigned by the lead and
resolved; refusals and bad input end in one sentence and exit 2, never a traceback."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cxloop import api
from cxloop.cli import cases as cases_cli
from cxloop.cli.context import console
from cxloop.config import Settings
from cxloop.loop.schemas import CaseRead
from tests.cli.support import run_cxloop

TEAMS = Path(__file__).resolve().parents[2] / "examples" / "loop" / "teams.yaml"


def ok(tmp_path: Path, *args: str) -> str:
    result = run_cxloop(tmp_path, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def refused(tmp_path: Path, *args: str) -> str:
    result = run_cxloop(tmp_path, *args)
    printed = result.stdout + result.stderr
    assert result.returncode == 2, printed
    assert "Traceback" not in printed
    assert result.stderr.startswith("error: "), printed
    return " ".join(result.stderr.split())


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A store with two feedback rows, the example teams and their people as users."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}", import_batch_size=1000)
    store = api.connect(settings=settings)
    rows = [
        {
            "feedback_id": "fb-1",
            "source": "crm",
            "channel": "survey",
            "created_at": "2026-12-01T10:00:00+08:00",
            "customer_id": "c-1",
            "nps": 2,
            "text": "配送太慢了，等了三天",
        },
        {
            "feedback_id": "fb-2",
            "source": "crm",
            "channel": "app_review",
            "created_at": "2026-12-02",
            "text": "包装破损",
        },
    ]
    assert api.import_records(store, "feedback", rows).inserted == 2
    store.close()
    for name in ("wang.fang", "li.na", "chen.lead", "zhao.min"):
        ok(tmp_path, "user", "add", name, "--role", "agent", "--token-only")
    ok(tmp_path, "user", "add", "viewer.only", "--role", "viewer", "--token-only")
    ok(tmp_path, "teams", "set", str(TEAMS))
    return tmp_path


def test_teams_set_reports_each_team_and_list_shows_the_rosters(tmp_path: Path) -> None:
    printed = ok(tmp_path, "teams", "set", str(TEAMS))
    assert "team 客服一组: lead chen.lead, 2 active agents" in printed
    assert "team 华东服务组: lead qian.lead, 1 active agent, 1 inactive" in printed
    listed = json.loads(ok(tmp_path, "teams", "list", "--format", "json"))
    assert [t["name"] for t in listed] == ["华东服务组", "客服一组"]
    assert [m["name"] for m in listed[1]["members"]] == ["wang.fang", "li.na", "chen.lead"]
    assert "wang.fang@example.com" in ok(tmp_path, "teams", "list")  # the CLI is the admin


def test_a_bad_teams_file_names_every_problem_and_stores_nothing(tmp_path: Path) -> None:
    ok(tmp_path, "init")
    bad = tmp_path / "teams.yaml"
    bad.write_text(
        "- name: 客服一组\n  members:\n    - {name: wang.fang, role: boss}\n"
        "- name: 东区\n  members: [{name: a.b}, {name: A.B}]\n"
        "- {lead: nobody}\n",
        encoding="utf-8",
    )
    said = refused(tmp_path, "teams", "set", str(bad))
    assert "teams.yaml[0].members[0].role: 'boss' Input should be 'agent' or 'lead'" in said
    assert "teams.yaml[1].members: " in said and "lists A.B twice" in said
    assert "teams.yaml[2].name: is required" in said
    assert "not a file" in refused(tmp_path, "teams", "set", str(tmp_path / "none.yaml"))
    assert "no teams yet" in ok(tmp_path, "teams", "list")


def test_a_case_is_opened_taken_reassigned_and_resolved_from_the_shell(shop: Path) -> None:
    opening = (
        "cases",
        "open",
        "--feedback",
        "crm:fb-1",
        "--team",
        "客服一组",
        "--severity",
        "high",
    )
    printed = ok(shop, *opening)
    assert "opened case 1: feedback crm:fb-1 (survey, NPS 2) · p2" in printed
    assert "case 1 is new · team 客服一组 · owner –, next due" in " ".join(printed.split())

    assert "zhao.min may not take this case: only agents and leads of team 客服一组" in refused(
        shop, "cases", "take", "1", "--as", "zhao.min"
    )
    assert "--as: is needed" in refused(shop, "cases", "take", "1")
    assert "owner wang.fang" in ok(shop, "cases", "take", "1", "--as", "wang.fang")
    assert "only a lead of team 客服一组" in refused(
        shop, "cases", "assign", "1", "--to", "li.na", "--as", "wang.fang"
    )
    assert "owner li.na" in ok(shop, "cases", "assign", "1", "--to", "li.na", "--as", "chen.lead")
    ok(shop, "cases", "contact", "1", "电话道歉，补发", "--channel", "phone", "--as", "li.na")
    assert "case 1 is resolved" in ok(
        shop, "cases", "resolve", "1", "--note", "补发已签收", "--as", "li.na"
    )

    queue = json.loads(ok(shop, "cases", "list", "--status", "resolved", "--format", "json"))
    assert [(c["id"], c["owner"]) for c in queue["items"]] == [(1, "li.na")]
    assert queue["counts"]["resolved"] == 1
    shown = ok(shop, "cases", "show", "1", "--format", "json")
    detail = json.loads(shown)
    assert detail["feedback_ids"] == ["crm:fb-1"] and detail["case"]["customer_id"] == "c-1"
    assert [e["kind"] for e in detail["history"]] == [
        "created", "assigned", "assigned", "contact_logged", "status_changed",
    ]  # fmt: skip
    table = ok(shop, "cases", "show", "1")
    assert "contact_logged" in table and "severity high +48" in table


def test_bad_input_and_refusals_end_in_one_sentence(shop: Path) -> None:
    ok(shop, "cases", "open", "--customer", "c-1", "--title", "回电", "--team", "客服一组")
    checks = [
        (("cases", "open"), "--feedback: give one: --feedback ID or --customer ID"),
        (("cases", "open", "--customer", "c-1"), "--title: is required with --customer"),
        (("cases", "open", "--feedback", "fb-9", "--team", "客服一组"),
         "feedback: 'fb-9' is not a stored feedback id"),
        (("cases", "open", "--customer", "c-1", "--title", "x", "--team", "nobody"),
         "team: 'nobody' is not a team (teams: 华东服务组, 客服一组)"),
        (("cases", "open", "--customer", "c-1", "--title", "x", "--team", "客服一组",
          "--severity", "urgent"), "--severity: 'urgent'"),
        (("cases", "root-cause", "1", "weather"), "root_cause: 'weather' is not a root cause"),
        (("cases", "resolve", "1"), "status: 'new' cannot resolve a case that is new"),
        (("cases", "show", "7"), "no case 7"),
        (("cases", "show", "1", "--as", "ghost"), "user 'ghost' does not exist"),
        (("cases", "take", "1", "--as", "viewer.only"),
         "viewer.only may not take this case: works cases only as an agent or admin"),
        (("cases", "list", "--team", "客服一组", "--as", "zhao.min"),
         "zhao.min may not read the cases of team 客服一组"),
        (("cases", "list", "--status", "done"), "status: 'done' is not a case status"),
    ]  # fmt: skip
    for args, sentence in checks:
        assert sentence in refused(shop, *args), args


def test_a_case_past_its_due_time_reads_overdue_not_time_left() -> None:
    due = dt.datetime(2026, 12, 7, 2, tzinfo=dt.UTC)
    case = CaseRead.model_validate(
        {name: None for name in CaseRead.model_fields}
        | {"id": 1, "status": "assigned", "title": "x", "topic": "manual", "severity": "high",
           "priority": "p2", "priority_score": 48.0, "priority_explanation": [],
           "reopen_count": 0, "created_by": "cli", "opened_at": due, "updated_at": due,
           "owner": "wang.fang", "team": "east", "next_due": due}
    )  # fmt: skip
    shown = []
    for seconds in (-3900.0, 3900.0):
        with console.capture() as captured:
            cases_cli._said(
                case.model_copy(update={"seconds_left": seconds}), ZoneInfo("Asia/Shanghai")
            )
        shown.append(" ".join(captured.get().split()))
    assert shown[0].endswith("next due 2026-12-07 10:00 (overdue 1h 05m)")
    assert shown[1].endswith("next due 2026-12-07 10:00 (1h 05m left)")
