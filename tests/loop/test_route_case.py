"""``service.route_case``: routing never refuses a match. A rule naming a team that is gone, or
routing rules naming one, fall back to the first team by name and say which team was missing;
with no team stored at all there is nothing to route to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from cxloop.api import Store
from cxloop.loop import service as loop_service
from cxloop.loop.routing import load_routing
from tests.loop.case_support import detractor, match_of, set_up_teams


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    with store.sessions() as opened:
        yield opened
        opened.rollback()


def test_no_team_stored_routes_nowhere(session: Session) -> None:
    facts = detractor("f-1")
    assert loop_service.route_case(session, None, facts, match_of(facts)) is None


def test_a_rule_team_that_is_gone_falls_back_to_the_first_team_and_says_so(
    session: Session,
) -> None:
    set_up_teams(session)
    facts = detractor("f-1")
    match = match_of(facts).model_copy(update={"team": "售后三组"})
    routed = loop_service.route_case(session, None, facts, match)
    assert routed is not None and routed.team == "east"  # the first team by name
    assert routed.reason.startswith("the alert rule's team 售后三组 is not a team")


def test_routing_rules_naming_a_gone_team_name_that_team_not_the_default(
    session: Session,
) -> None:
    set_up_teams(session)
    rules = load_routing("default_team: 客服一组\nrules:\n  - {region: 华东, team: 华南组}\n")
    facts = detractor("f-1")
    routed = loop_service.route_case(session, rules, facts, match_of(facts))
    assert routed is not None and routed.team == "east"
    assert routed.reason.startswith("the routing file names teams that are not stored (华南组)")
