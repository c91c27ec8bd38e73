"""Loop health on the scripted week of ``health_support`` (built through the real case service
with an injected clock): every number below is worked out by hand from the module docstring
there, on the CN calendar (09:00–18:00, lunch 12:00–13:00)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from cxloop import api
from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.errors import Invalid
from cxloop.loop.calendar import preset
from cxloop.loop.health import ALL, CaseRow, measure, sla_outcome
from cxloop.loop.health_store import LoopHealth, loop_health
from tests.loop.health_support import NOW, SH, at, scripted_store


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, int]]:
    return scripted_store(tmp_path_factory.mktemp("health"))


@pytest.fixture(scope="module")
def session(scripted: tuple[Settings, dict[str, int]]) -> Iterator[Session]:
    store = api.connect(settings=scripted[0])
    with session_scope(store.sessions) as session:
        yield session
    store.close()


def health(session: Session, settings: Settings, **kwargs: Any) -> LoopHealth:
    return loop_health(session=session, settings=settings, now=NOW, min_n=3, **kwargs)


def row(result: LoopHealth, group: str) -> dict[str, Any]:
    found = [r for r in result.rows if r.group == group]
    assert len(found) == 1, [r.group for r in result.rows]
    return found[0].model_dump()


def test_the_whole_period_matches_the_hand_computed_week(
    session: Session, scripted: tuple[Settings, dict[str, int]]
) -> None:
    result = health(session, scripted[0])
    assert [r.group for r in result.rows] == [ALL]
    r = row(result, ALL)
    assert r["cases"] == 6  # A B C D E G; F opened before the 90 days
    # first contact: A 1 h (business) / 1 h (wall), B Mon 16–18 + Tue 9–10 = 3 h / 18 h
    assert r["first_response_hours"] == {"n": 2, "median": 2.0, "p90": 2.8, "too_few": True}
    assert r["first_response_wall_hours"] == {"n": 2, "median": 9.5, "p90": 16.3, "too_few": True}
    # resolution: A 9–12 + 13–14 = 4 h / 5 h; C 11–12 + 13–17 = 5 h / 6 h;
    # B (last resolution Wed 17:00) Mon 2 + Tue 8 + Wed 7 = 17 h / 49 h
    assert r["resolution_hours"] == {"n": 3, "median": 5.0, "p90": 14.6, "too_few": False}
    assert r["resolution_wall_hours"] == {"n": 3, "median": 6.0, "p90": 40.4, "too_few": False}
    # first response: A met, B missed, C missed at its resolution, D open past due, G met at
    # its close; E not yet due
    assert r["first_response_sla"] == {"hits": 2, "n": 5, "rate": 0.4, "too_few": False}
    # resolution: A, B (Wed 17:00 before the reopened due Thu 10:00), C, G met; D missed
    assert r["resolution_sla"] == {"hits": 4, "n": 5, "rate": 0.8, "too_few": False}
    assert r["backlog"] == 3  # D, E, and F from August
    assert r["ageing"] == {"<1d": 1, "1-3d": 1, "3-7d": 0, ">7d": 1}
    assert r["reopen"] == {"hits": 1, "n": 3, "rate": 0.3333, "too_few": False}  # B of A B C
    # follow-ups: A verified; B reopened, then closed unverified
    assert r["verification"] == {"hits": 1, "n": 3, "rate": 0.3333, "too_few": False}
    # A: next answer NPS 5 (the follow-up's 9 is not one); B: 8 after the last resolution
    # (the 1 between its two resolutions does not count); C: no answer since
    assert r["recovery"] == {"hits": 1, "n": 2, "rate": 0.5, "too_few": True}
    assert r["no_next_answer"] == 1


def test_by_team_splits_every_measure(
    session: Session, scripted: tuple[Settings, dict[str, int]]
) -> None:
    result = health(session, scripted[0], by="team")
    assert [r.group for r in result.rows] == [ALL, "east", "客服一组"]
    service = row(result, "客服一组")
    assert service["cases"] == 4
    assert service["resolution_hours"]["median"] == 10.5  # A 4 h, B 17 h
    assert service["resolution_hours"]["p90"] == 15.7
    assert service["first_response_sla"]["rate"] == 0.5  # A, G met; B, D missed
    assert service["resolution_sla"]["rate"] == 0.75
    assert (service["backlog"], service["ageing"][">7d"]) == (2, 1)
    assert service["reopen"]["rate"] == 0.5
    assert (service["recovery"]["rate"], service["no_next_answer"]) == (0.5, 0)
    east = row(result, "east")
    assert east["first_response_hours"] == {"n": 0, "median": None, "p90": None, "too_few": True}
    assert east["first_response_sla"] == {"hits": 0, "n": 1, "rate": 0.0, "too_few": True}
    assert east["verification"] == {"hits": 0, "n": 0, "rate": None, "too_few": True}
    assert (east["recovery"]["n"], east["no_next_answer"]) == (0, 1)


def test_by_priority_and_owner(session: Session, scripted: tuple[Settings, dict[str, int]]) -> None:
    by_priority = health(session, scripted[0], by="priority")
    counts = {r.group: (r.cases, r.backlog) for r in by_priority.rows}
    assert counts == {ALL: (6, 3), "p1": (1, 1), "p2": (2, 0), "p3": (2, 1), "p4": (1, 1)}
    by_owner = health(session, scripted[0], by="owner")
    counts = {r.group: (r.cases, r.backlog) for r in by_owner.rows}
    assert counts == {
        ALL: (6, 3),
        "li.na": (1, 0),
        "wang.fang": (1, 1),
        "zhang.wei": (1, 1),
        "zhao.min": (1, 0),
        "(none)": (2, 1),
    }
    assert by_owner.rows[-1].group == "(none)"


def test_a_period_chooses_the_cases(
    session: Session, scripted: tuple[Settings, dict[str, int]]
) -> None:
    monday = health(session, scripted[0], since=at("mon", 0), until=at("tue", 0))
    r = row(monday, ALL)
    assert r["cases"] == 3  # A, B, C
    assert r["backlog"] == 3  # the backlog is every case open now, whenever it opened
    assert r["resolution_sla"]["n"] == 3
    august = health(session, scripted[0], since=dt.datetime(2026, 8, 1, tzinfo=SH))
    assert row(august, ALL)["cases"] == 7


def test_no_subscriptions_means_no_churn_comparison_said_in_words(
    session: Session, scripted: tuple[Settings, dict[str, int]]
) -> None:
    churn = health(session, scripted[0]).churn
    assert churn.estimate is None and churn.too_few
    assert "none of their customers has a subscription stored" in churn.verdict


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"by": "region"}, "by"),
        ({"since": dt.datetime(2027, 1, 1, tzinfo=SH)}, "since"),
        ({"min_n": 0}, "min_n"),
    ],
)
def test_bad_requests_name_the_field(
    session: Session, scripted: tuple[Settings, dict[str, int]], kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        loop_health(session=session, settings=scripted[0], now=NOW, **kwargs)
    assert [p.field for p in caught.value.problems] == [field]


def test_an_empty_store_gives_zero_counts_and_no_values(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    store = api.connect(settings=settings)
    with session_scope(store.sessions) as session:
        result = loop_health(session=session, settings=settings, now=NOW, by="team")
    store.close()
    (only,) = result.rows
    assert (only.cases, only.backlog, only.reopen.rate, only.resolution_hours.median) == (
        0,
        0,
        None,
        None,
    )


def test_sla_outcome_judges_a_running_clock_only_once_due() -> None:
    due = at("mon", 12)
    assert sla_outcome(due, at("mon", 12), at("thu", 9)) is True  # exactly on time
    assert sla_outcome(due, at("mon", 12, 1), at("thu", 9)) is False
    assert sla_outcome(due, None, at("mon", 11)) is None
    assert sla_outcome(due, None, at("mon", 12)) is False
    assert sla_outcome(None, None, at("mon", 12)) is None


def test_waiting_on_the_customer_is_not_business_time_spent() -> None:
    case = CaseRow(
        case_id=1,
        team="t",
        owner=None,
        topic="x",
        priority="p2",
        status="resolved",
        opened_at=at("mon", 9),
        resolved_at=at("mon", 18),
        paused_s=3 * 3600,
        ever_resolved=True,
    )
    (r,) = measure([case], by=None, now=NOW, calendar=preset("CN"), min_n=1)
    assert r.resolution_hours.median == 5.0  # 8 working hours less 3 waiting
    assert r.resolution_wall_hours.median == 9.0


def test_a_case_waiting_on_the_customer_is_judged_when_its_clocks_stopped() -> None:
    """Its due times move later when it runs again: passing them while it waits is no miss."""
    waiting = CaseRow(
        case_id=1,
        team="t",
        owner=None,
        topic="x",
        priority="p2",
        status="waiting_on_customer",
        opened_at=at("mon", 9),
        first_responded_at=at("mon", 10),
        first_response_due=at("mon", 12),
        resolution_due=at("tue", 9),
        paused_at=at("mon", 11),
    )
    late = CaseRow(**{**waiting.__dict__, "case_id": 2, "paused_at": at("tue", 10)})
    (r,) = measure([waiting], by=None, now=at("thu", 9), calendar=preset("CN"), min_n=1)
    assert r.resolution_sla.n == 0  # paused before its due time: not judged yet
    assert r.first_response_sla.hits == 1
    (r,) = measure([late], by=None, now=at("thu", 9), calendar=preset("CN"), min_n=1)
    assert r.resolution_sla.model_dump() == {"hits": 0, "n": 1, "rate": 0.0, "too_few": False}
