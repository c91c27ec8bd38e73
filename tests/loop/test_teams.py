"""Teams on a real store: saved whole (roster order kept, dropped members removed), read with
each member's open load, and asked who leads or works where."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cxloop.api import Store
from cxloop.db.session import session_scope
from cxloop.errors import NotFound
from cxloop.loop import teams as loop_teams
from cxloop.loop.schemas import TeamWrite
from tests.cli.support import run_cxloop
from tests.loop.case_support import EAST, SERVICE, detractor, open_case, set_up_teams


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    with session_scope(store.sessions) as session:
        yield session


def test_a_saved_team_keeps_its_roster_order_and_saving_again_replaces_it(
    session: Session,
) -> None:
    set_up_teams(session)
    team = loop_teams.get_team(session=session, name="客服一组")
    assert [m.name for m in team.members] == [
        "wang.fang",
        "li.na",
        "zhang.wei",
        "chen.lead",
        "zhou.left",
    ]
    assert (team.lead, team.members[2].email) == ("chen.lead", "ZHANG.WEI@EXAMPLE.COM")
    changed = SERVICE.model_copy(
        update={"members": [SERVICE.members[2], SERVICE.members[0]], "sla_policy": "vip"}
    )
    saved = loop_teams.save_team(session=session, team_in=changed)
    assert [m.name for m in saved.members] == ["zhang.wei", "wang.fang"]
    assert saved.sla_policy == "vip"
    assert [t.name for t in loop_teams.list_teams(session=session)] == ["east", "客服一组"]


def test_routing_sees_active_agents_with_their_open_loads(session: Session) -> None:
    set_up_teams(session)
    open_case(session, detractor("s:1", customer_id="C-1"))
    open_case(session, detractor("s:2", customer_id="C-2", region="East China"))
    roster = {t.name: t for t in loop_teams.roster(session)}
    service = roster["客服一组"]
    assert [(m.name, m.open_cases, m.active) for m in service.members] == [
        ("wang.fang", 1, True),
        ("li.na", 0, True),
        ("zhang.wei", 0, True),
        ("zhou.left", 0, False),
    ]  # the lead takes no routed cases
    assert [(m.name, m.open_cases) for m in roster["east"].members] == [("zhao.min", 1)]
    assert loop_teams.last_assigned(session) == {"客服一组": "wang.fang", "east": "zhao.min"}
    read = loop_teams.get_team(session=session, name="east")
    assert [(m.name, m.open_cases) for m in read.members] == [("zhao.min", 1)]


def test_memberships_say_who_leads_and_who_works_where(session: Session) -> None:
    set_up_teams(session)
    loop_teams.save_team(
        session=session,
        team_in=EAST.model_copy(update={"members": [*EAST.members, SERVICE.members[0]]}),
    )
    assert loop_teams.memberships(session, "wang.fang") == {"客服一组": "agent", "east": "agent"}
    assert loop_teams.memberships(session, "chen.lead") == {"客服一组": "lead"}
    assert loop_teams.memberships(session, "qian.lead") == {"east": "lead"}  # lead, not on roster
    assert loop_teams.memberships(session, "zhou.left") == {}  # inactive
    assert loop_teams.memberships(session, "nobody") == {}


def test_an_unknown_team_is_named_with_the_teams_there_are(session: Session) -> None:
    with pytest.raises(NotFound, match="no team 'east' \\(teams: none yet\\)"):
        loop_teams.get_team(session=session, name="east")
    set_up_teams(session)
    with pytest.raises(NotFound, match="teams: east, 客服一组"):
        loop_teams.get_team(session=session, name="客服二组")


def test_a_team_file_with_mistakes_is_refused_with_the_field_and_value() -> None:
    with pytest.raises(ValidationError) as wrong:
        TeamWrite.model_validate(
            {
                "name": " ",
                "members": [{"name": "li.na"}, {"name": "LI.NA", "role": "boss"}],
            }
        )
    found = {(".".join(map(str, e["loc"])), e["msg"]) for e in wrong.value.errors()}
    assert ("name", "Value error, must be a non-empty name") in found
    assert any(loc == "members.1.role" for loc, _ in found)
    with pytest.raises(ValidationError, match=r"lists LI\.NA twice"):
        TeamWrite.model_validate({"name": "x", "members": [{"name": "li.na"}, {"name": "LI.NA"}]})


def test_a_bare_member_name_is_an_agent_of_that_name_and_a_bare_number_is_named() -> None:
    team = TeamWrite.model_validate({"name": "售后", "members": ["wang.fang", {"name": "li.na"}]})
    assert [(m.name, m.role, m.active) for m in team.members] == [
        ("wang.fang", "agent", True),
        ("li.na", "agent", True),
    ]
    with pytest.raises(ValidationError) as wrong:
        TeamWrite.model_validate({"name": "售后", "members": [42]})
    assert wrong.value.errors()[0]["loc"] == ("members", 0)


def test_names_and_mails_longer_than_the_store_keeps_are_refused() -> None:
    with pytest.raises(ValidationError) as wrong:
        TeamWrite.model_validate(
            {
                "name": "east",
                "lead": "l" * 129,
                "sla_policy": "p" * 65,
                "members": [{"name": "li.na", "email": "x" * 310 + "@example.com"}],
            }
        )
    found = {".".join(map(str, e["loc"])) for e in wrong.value.errors()}
    assert found == {"lead", "sla_policy", "members.0.email"}
    assert TeamWrite.model_validate({"name": "east", "lead": " chen.lead "}).lead == "chen.lead"


def test_teams_set_warns_of_a_team_without_a_lead_and_saves_it(tmp_path: Path) -> None:
    teams_file = tmp_path / "teams.yaml"
    teams_file.write_text(
        "- name: 客服一组\n  lead: chen.lead\n  members: [{name: wang.fang}]\n"
        "- name: 夜班\n  members: [{name: sun.li}]\n",
        encoding="utf-8",
    )
    saved = run_cxloop(tmp_path, "teams", "set", str(teams_file))
    assert saved.returncode == 0, saved.stdout + saved.stderr  # warned, not refused
    assert saved.stdout.splitlines() == [
        "team 客服一组: lead chen.lead, 1 active agent",
        "team 夜班: lead –, 1 active agent",
        "warning: team 夜班 has no lead: its escalations will reach nobody",
    ]
    listed = run_cxloop(tmp_path, "teams", "list", "--format", "json")
    assert {t["name"]: t["warnings"] for t in json.loads(listed.stdout)} == {
        "客服一组": [],
        "夜班": ["team 夜班 has no lead: its escalations will reach nobody"],
    }
