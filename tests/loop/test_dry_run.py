"""A dry run over a real store's past feedback: its counts (matches, cases it would open and
feedback it would attach, by rule, severity, priority and for VIPs) equal what this test works
out on its own from the rows it stored; nothing is written; the window's edges hold."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop import api
from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.loop import dry_run as dry
from cxloop.loop.facts import FeedbackFacts
from cxloop.loop.models import Case, FeedbackCheck
from cxloop.loop.priority import priority
from cxloop.loop.rules import load_rules

NOW = dt.datetime(2026, 12, 7, 9, 0)
SINCE, UNTIL = dt.datetime(2026, 11, 1), dt.datetime(2026, 12, 1)
SETTINGS = Settings(database_url="sqlite://")
RULES = """\
- id: detractor
  name: 贬损者
  when: nps <= 6
  severity: high
  window_hours: 48
- id: 差评
  name: 应用商店差评
  when: channel == 'app_review' and rating <= 2
  severity: medium
- id: vip-passive
  name: 高价值中立者
  when: nps_group == '被动者' and value_percentile >= 60
  severity: low
  topic: loyalty/vip
- id: all-scores
  name: 关闭的规则
  when: nps <= 10
  severity: critical
  enabled: false
"""
CUSTOMERS: list[dict[str, Any]] = [
    {"customer_id": "c1", "name": "甲", "segment": "regular", "spend": 100},
    {"customer_id": "c2", "name": "乙", "segment": "VIP", "spend": 200},
    {"customer_id": "c3", "name": "丙", "segment": "regular", "spend": 300},
    {"customer_id": "c4", "name": "丁", "segment": "regular", "vip": "是", "spend": 400},
    {"customer_id": "c5", "name": "戊", "segment": "regular", "spend": 500},
    {"customer_id": "c6", "name": "己", "segment": "new", "spend": 0},
]


def _feedback() -> list[dict[str, Any]]:
    """Rows that vary like an export: some unlinked, some without a score, a few outside the
    window (the day before and the first instant after it)."""
    rng = random.Random(14)
    rows: list[dict[str, Any]] = []
    start = dt.datetime(2026, 10, 31, 12, 0)
    for i in range(90):
        at = start + dt.timedelta(hours=rng.randrange(0, 33 * 24))
        channel = rng.choice(["survey", "survey", "app_review", "email"])
        row: dict[str, Any] = {
            "feedback_id": f"f{i:03d}",
            "channel": channel,
            "created_at": at.isoformat() + "Z",
        }
        customer = rng.choice([*(c["customer_id"] for c in CUSTOMERS), None])
        if customer is not None:
            row["customer_id"] = customer
        if channel == "app_review":
            row["rating"] = rng.choice([1, 2, 3, 5])
        elif rng.random() < 0.9:
            row["nps"] = rng.randrange(0, 11)
        rows.append(row)
    for feedback_id, at in (
        ("edge-in", "2026-11-01T00:00:00Z"),
        ("edge-out", "2026-12-01T00:00:00Z"),
    ):
        rows.append(
            {
                "feedback_id": feedback_id,
                "channel": "survey",
                "created_at": at,
                "customer_id": "c1",
                "nps": 0,
            }
        )
    return rows


ROWS = _feedback()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dry") / "template.db"
    store = api.connect(settings=Settings(database_url=f"sqlite:///{path}"))
    customers = [{k: v for k, v in c.items() if k != "spend"} for c in CUSTOMERS]
    assert api.import_records(store, "customers", customers).inserted == 6
    orders = [
        {
            "order_id": f"o-{c['customer_id']}",
            "customer_id": c["customer_id"],
            "amount": c["spend"],
            "ordered_at": "2026-10-01",
        }
        for c in CUSTOMERS
        if c["spend"]
    ]
    assert api.import_records(store, "orders", orders).inserted == 5
    assert api.import_records(store, "feedback", ROWS).inserted == len(ROWS)
    store.close()
    return path


@pytest.fixture
def session(template: Path, tmp_path: Path) -> Iterator[Session]:
    path = tmp_path / "store.db"
    shutil.copy(template, path)
    store = api.connect(settings=Settings(database_url=f"sqlite:///{path}"))
    with store.sessions() as opened:
        yield opened
    store.close()


def _percentiles() -> dict[str, float]:
    """Percent of customers who spent less in the year (the value a rule's value_percentile
    reads), worked out from the spends above."""
    spends = sorted(c["spend"] for c in CUSTOMERS)
    return {
        c["customer_id"]: 100.0 * sum(s < c["spend"] for s in spends) / len(spends)
        for c in CUSTOMERS
    }


def _expected(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The dry run's counts, worked out here from the rows (not through the rule engine)."""
    value = _percentiles()
    vip = {c["customer_id"] for c in CUSTOMERS if c["segment"].lower() == "vip" or "vip" in c}
    vip |= {c for c, p in value.items() if p >= 80}
    inside = sorted(
        (r for r in rows if SINCE <= dt.datetime.fromisoformat(r["created_at"][:-1]) < UNTIL),
        key=lambda r: (r["created_at"], ":" + r["feedback_id"]),
    )
    windows = {"detractor": 48, "差评": 168, "vip-passive": 168}
    severity = {"detractor": "high", "差评": "medium", "vip-passive": "low"}
    opened_at: dict[tuple[str, str], dt.datetime] = {}
    out: dict[str, Any] = {
        "looked_at": len(inside),
        "matched": 0,
        "open": 0,
        "attach": 0,
        "vip": 0,
        "rules": {r: [0, 0, 0] for r in windows},
        "levels": dict.fromkeys(dry.LEVEL_ORDER, 0),
    }
    for row in inside:
        at = dt.datetime.fromisoformat(row["created_at"][:-1])
        customer = row.get("customer_id")
        nps, rating = row.get("nps"), row.get("rating")
        hits = []
        if nps is not None and nps <= 6:
            hits.append(("detractor", "rule:detractor"))
        if row["channel"] == "app_review" and rating is not None and rating <= 2:
            hits.append(("差评", "rule:差评"))
        if nps in (7, 8) and customer is not None and value[customer] >= 60:
            hits.append(("vip-passive", "loyalty/vip"))
        if hits:
            out["matched"] += 1
        key = f"customer:{customer}" if customer else f"feedback::{row['feedback_id']}"
        for rule, topic in hits:
            out["rules"][rule][0] += 1
            seen = opened_at.get((key, topic))
            if seen is not None and seen >= at - dt.timedelta(hours=windows[rule]):
                out["rules"][rule][2] += 1
                out["attach"] += 1
                continue
            opened_at[(key, topic)] = at
            out["rules"][rule][1] += 1
            out["open"] += 1
            out["vip"] += customer in vip
            level = priority(severity[rule], value.get(customer or ""), None).level
            out["levels"][level] += 1
    return out


def test_counts_equal_the_ones_worked_out_from_the_stored_rows(session: Session) -> None:
    report = dry.dry_run(
        session=session,
        settings=SETTINGS,
        rules=load_rules(RULES),
        since=SINCE,
        until=UNTIL,
        now=NOW,
        rules_from="test",
        batch_size=7,
    )
    want = _expected(ROWS)
    assert want["open"] > 10 and want["attach"] > 3 and want["vip"] > 2  # the data tests it
    assert (report.looked_at, report.matched) == (want["looked_at"], want["matched"])
    assert (report.would_open, report.would_attach) == (want["open"], want["attach"])
    assert report.vip_cases == want["vip"]
    got = {r.rule_id: [r.matches, r.opened, r.attached] for r in report.rules}
    assert got == {**want["rules"], "all-scores": [0, 0, 0]}
    assert report.by_priority == want["levels"]
    assert report.by_severity == {
        "critical": 0,
        "high": want["rules"]["detractor"][1],
        "medium": want["rules"]["差评"][1],
        "low": want["rules"]["vip-passive"][1],
    }
    detractors = next(r for r in report.rules if r.rule_id == "detractor")
    assert len(detractors.examples) == 10 and detractors.examples[0] == ":edge-in"
    assert report.headline().startswith(
        f"would have opened {want['open']} cases in 2026-11-01 … 2026-11-30 UTC, "
        f"{want['vip']} for VIPs"
    )


def test_a_dry_run_writes_nothing(session: Session) -> None:
    dry.dry_run(
        session=session,
        settings=SETTINGS,
        rules=load_rules(RULES),
        since=SINCE,
        until=UNTIL,
        now=NOW,
    )
    session.commit()
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    assert session.scalar(select(func.count()).select_from(FeedbackCheck)) == 0


def test_batch_size_does_not_change_the_result(session: Session) -> None:
    runs = [
        dry.dry_run(
            session=session,
            settings=SETTINGS,
            rules=load_rules(RULES),
            since=SINCE,
            until=UNTIL,
            now=NOW,
            batch_size=size,
        )
        for size in (1, 13, 5000)
    ]
    assert runs[0] == runs[1] == runs[2]


def test_rules_all_switched_off_open_nothing_but_count_the_feedback(session: Session) -> None:
    report = dry.dry_run(
        session=session,
        settings=SETTINGS,
        rules=load_rules("[]"),
        since=SINCE,
        until=UNTIL,
        now=NOW,
    )
    assert report.looked_at == _expected(ROWS)["looked_at"]
    assert (report.matched, report.would_open, report.rules) == (0, 0, [])


def test_a_window_that_ends_before_it_starts_is_refused(session: Session) -> None:
    with pytest.raises(Invalid, match="is not before until"):
        dry.dry_run(
            session=session,
            settings=SETTINGS,
            rules=load_rules(RULES),
            since=UNTIL,
            until=SINCE,
            now=NOW,
        )


def test_simulation_attaches_within_the_window_and_opens_after_it() -> None:
    rules = load_rules(RULES)
    simulation = dry.Simulation(rules)
    base = dt.datetime(2026, 11, 2, 10, 0)
    for hours, feedback_id in ((0, "a"), (47, "b"), (49, "c"), (96, "d")):
        facts = FeedbackFacts(feedback_id=feedback_id, customer_id="c9", nps=2)
        simulation.add(facts, base + dt.timedelta(hours=hours))
    report = simulation.report(rules_from="t", since=SINCE, until=UNTIL)
    # a opens; b (47 h later) joins; c is 49 h after the case opened: a new case; d joins c's
    assert (report.would_open, report.would_attach) == (2, 2)


def test_one_feedback_joins_a_case_once_when_two_rules_share_its_topic() -> None:
    rules = load_rules(
        "- {id: a, name: A, when: nps <= 6, severity: high, topic: delivery}\n"
        "- {id: b, name: B, when: nps <= 3, severity: low, topic: delivery}\n"
    )
    simulation = dry.Simulation(rules)
    simulation.add(FeedbackFacts(feedback_id="x", customer_id="c", nps=1), SINCE)
    report = simulation.report(rules_from="t", since=SINCE, until=UNTIL)
    assert (report.would_open, report.would_attach) == (1, 0)
    assert [(r.matches, r.opened) for r in report.rules] == [(1, 1), (1, 0)]


@pytest.mark.parametrize(
    ("values", "vip"),
    [
        ({"value_percentile": 80}, True),
        ({"value_percentile": 79.9}, False),
        ({"segment": "VIP"}, True),
        ({"tier": "Strategic"}, True),
        ({"tier": "金卡"}, True),
        ({"attributes": {"vip": True}}, True),
        ({"attributes": {"vip": "是"}}, True),
        ({"attributes": {"vip": "no"}}, False),
        ({"segment": "regular", "tier": "standard"}, False),
        ({}, False),
    ],
)
def test_who_counts_as_a_vip(values: dict[str, Any], vip: bool) -> None:
    assert dry.is_vip(FeedbackFacts(**values)) is vip


@pytest.mark.parametrize(
    ("since", "until", "window"),
    [
        (None, None, (dt.datetime(2026, 11, 7, 9, 0), NOW)),
        ("7d", None, (dt.datetime(2026, 11, 30, 9, 0), NOW)),
        ("2026-11", "2026-11", (SINCE, UNTIL)),
        ("2026-11-01", "2026-11-30", (SINCE, UNTIL)),
        ("1m", "2026-11-30", (dt.datetime(2026, 11, 1), UNTIL)),
    ],
)
def test_the_window_reads_lengths_dates_and_periods(
    since: str | None, until: str | None, window: tuple[dt.datetime, dt.datetime]
) -> None:
    assert dry.window(since, until, now=NOW) == window


def test_a_bad_window_names_the_option() -> None:
    with pytest.raises(Invalid) as caught:
        dry.window("last week", "2026-13-01", now=NOW)
    assert {p.field for p in caught.value.problems} == {"since", "until"}


def test_old_simulated_cases_are_forgotten_without_changing_the_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules = load_rules(RULES)
    feed = [
        (FeedbackFacts(feedback_id=f"x{i}", customer_id=f"c{i // 3}", nps=i % 7), hours)
        for i, hours in enumerate(range(0, 24 * 60, 5))
    ]

    def run() -> tuple[dry.DryRunReport, int]:
        simulation = dry.Simulation(rules)
        for facts, hours in feed:
            simulation.add(facts, SINCE + dt.timedelta(hours=hours))
        report = simulation.report(rules_from="t", since=SINCE, until=UNTIL)
        return report, len(simulation.opened_at)

    kept, all_cases = run()
    monkeypatch.setattr(dry, "PRUNE_EVERY", 3)
    pruned, recent = run()
    assert pruned == kept and kept.would_attach > 0
    assert recent < all_cases
