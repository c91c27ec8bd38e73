"""The drivers and outcomes view (``dashboards.drivers``) on real SQLite stores: the demo company
(numbers equal the insights service's own, a drill's customers equal the members of the list
saved from it), a store of Chinese topic names without any behaviour data, too few answers, and
an empty store — each answered in words."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cxloop.act import service as act_service
from cxloop.api import Store, connect, import_records
from cxloop.config import Settings
from cxloop.dashboards import drivers as view
from cxloop.dashboards.schemas_drivers import DrillKey, DrillSave
from cxloop.errors import Conflict, Invalid
from cxloop.insights import analyses, voice_reports
from cxloop.insights import service as insights_service
from cxloop.metrics.filters import Scope, parse_scope
from tests.insights.conftest import _build_demo
from tests.shared_build import build_once, copy_sqlite

N_BOOT, MIN_MENTIONS, MIN_CUSTOMERS = 20, 60, 120
"""Few resamples and exposures: these tests check plumbing and equality, not the intervals."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    built = build_once(tmp_path_factory, "insights-demo", _build_demo)
    target = tmp_path_factory.mktemp("drivers-demo") / "cxloop.db"
    copy_sqlite(built / "cxloop.db", target)
    store = connect(settings=Settings(database_url=f"sqlite:///{target}"))
    yield store
    store.close()


def test_quadrant_is_the_insights_drivers_report_with_median_lines(demo: Store) -> None:
    found = view.drivers_outcomes(
        settings=demo.settings,
        scope=Scope(),
        part="quadrant",
        score="nps",
        n_boot=N_BOOT,
        min_mentions=MIN_MENTIONS,
    )
    assert found.has_feedback and found.say_do is None
    quadrant = found.quadrant
    assert quadrant is not None and quadrant.available, quadrant
    direct = analyses.drivers(
        settings=demo.settings, outcome="nps", n_boot=N_BOOT, min_mentions=MIN_MENTIONS
    )
    assert quadrant.n == direct.n
    assert [r.driver for r in quadrant.rows] == [r["driver"] for r in direct.rows]
    for row, same in zip(quadrant.rows, direct.rows, strict=True):
        assert row.importance == same["importance"]
        assert (row.ci_low, row.ci_high) == (same["ci_low"], same["ci_high"])
        assert row.performance == same["performance_scaled"]
        assert row.quadrant == same["quadrant"]
        assert row.drill == DrillKey(topic=row.topic, sentiment="negative")
    importance = sorted(r.importance or 0 for r in quadrant.rows)
    middle = len(importance) // 2
    median = (
        importance[middle]
        if len(importance) % 2
        else (importance[middle - 1] + importance[middle]) / 2
    )
    assert quadrant.importance_line == pytest.approx(median)
    for row in quadrant.rows:  # the quadrant agrees with the lines drawn
        high = (row.importance or 0) >= (quadrant.importance_line or 0)
        good = (row.performance or 0) >= (quadrant.performance_line or 0)
        assert (
            row.quadrant
            == {
                (True, False): "fix first",
                (True, True): "keep",
                (False, True): "monitor",
                (False, False): "low priority",
            }[(high, good)]
        )


def test_say_do_is_the_insights_outcomes_report_with_a_drill_per_topic_row(demo: Store) -> None:
    found = view.say_do(
        settings=demo.settings,
        scope=Scope(),
        outcome="churn",
        n_boot=N_BOOT,
        min_customers=MIN_CUSTOMERS,
    )
    assert found.available, found.reason
    direct = voice_reports.outcomes(
        settings=demo.settings, outcome="churn", n_boot=N_BOOT, min_customers=MIN_CUSTOMERS
    )
    assert found.n == direct.n and len(found.rows) == len(direct.rows)
    for row, same in zip(found.rows, direct.rows, strict=True):
        assert row.exposure == same["exposure"]
        assert (row.crude, row.estimate) == (same["crude"], same["estimate"])
        assert (row.ci_low, row.ci_high) == (same["ci_low"], same["ci_high"])
        assert row.value_at_stake == same["value_at_stake"]
        if row.exposure_kind in ("complaint", "praise"):
            assert row.drill is not None and row.drill.topic == row.exposure.rsplit(" ", 1)[0]
        elif row.exposure_kind == "nps group":
            assert row.drill == DrillKey(nps_group="detractor")
        else:  # intents and flags: a target list cannot say them, and the row says so
            assert row.drill is None and row.drill_note and "no customer list" in row.drill_note


@pytest.mark.parametrize(
    "key",
    [DrillKey(topic="delivery", sentiment="negative"), DrillKey(nps_group="detractor")],
    ids=["complaint", "detractor"],
)
def test_a_saved_drill_holds_exactly_the_customers_the_drill_showed(
    demo: Store, key: DrillKey
) -> None:
    scope = parse_scope("2026-05-01", None, None, ["segment=VIP"], now=dt.datetime(2026, 12, 1))
    with demo.sessions() as session:
        drill = view.drill(
            settings=demo.settings, session=session, scope=scope, key=key, limit=5000
        )
        assert 0 < drill.matched == drill.shown
        assert drill.query.segments == ["vip"]  # the view ignores case, a list does not
        assert all(c.segment == "vip" for c in drill.customers)
        assert all(c.name is None or "*" in c.name for c in drill.customers)  # masked
        name = f"drill {key.topic or key.nps_group}"
        saved = view.save_drill(
            session=session, settings=demo.settings, scope=scope, key=key,
            save=DrillSave(name=name), created_by="analyst",
        )  # fmt: skip
        members = act_service.members(session=session, name=name)
        assert set(members["customer_id"]) == {c.customer_id for c in drill.customers}
        assert saved.members == drill.matched == saved.target_list.member_count
        with pytest.raises(Conflict):
            view.save_drill(
                session=session, settings=demo.settings, scope=scope, key=key,
                save=DrillSave(name=name), created_by="analyst",
            )  # fmt: skip
        session.rollback()


def test_a_complaint_drill_reaches_back_to_since_and_names_filters_a_list_cannot_carry(
    demo: Store,
) -> None:
    scope = parse_scope(
        "2026-05-01", "2026-08-31", None, ["channel=app"], now=dt.datetime(2026, 12, 1)
    )
    query, not_carried = view.drill_query(
        settings=demo.settings, scope=scope, key=DrillKey(topic="delivery", sentiment="negative")
    )
    assert query.mentioned is not None
    mention = query.mentioned[0]
    assert (mention.topic, mention.sentiment) == ("delivery", "negative")
    with insights_service.open_backend(demo.settings) as backend:
        as_of = insights_service.resolve_as_of(backend, None)  # the store's latest activity
    assert mention.within_days == (as_of - dt.datetime(2026, 5, 1)).days + 1
    # the window reaches back to since, and less than a day before it
    start = as_of - dt.timedelta(days=mention.within_days)
    assert dt.datetime(2026, 4, 30) <= start < dt.datetime(2026, 5, 1)
    assert "channel=app" in not_carried
    assert any(n.startswith("until 2026-09-01") for n in not_carried)


def test_an_account_segment_filter_is_named_not_carried_not_refused(demo: Store) -> None:
    # the view matches an account's segment too; a list selects customers by their own segment
    scope = parse_scope(
        None, None, None, ["segment=Enterprise", "region=上海"], now=dt.datetime(2026, 12, 1)
    )
    query, not_carried = view.drill_query(
        settings=demo.settings, scope=scope, key=DrillKey(nps_group="detractor")
    )
    assert query.segments is None
    assert query.regions == ["上海"]
    assert "segment=Enterprise" in not_carried


def test_a_drill_without_a_cell_is_refused_in_words(demo: Store) -> None:
    with pytest.raises(Invalid, match="give a topic or an nps_group"):
        view.drill_query(settings=demo.settings, scope=Scope(), key=DrillKey())
    with pytest.raises(Invalid, match="needs a sentiment"):
        view.drill_query(settings=demo.settings, scope=Scope(), key=DrillKey(topic="delivery"))


def test_an_unknown_filter_value_is_refused_with_the_stored_ones(demo: Store) -> None:
    scope = parse_scope(None, None, None, ["segment=vipp"], now=dt.datetime(2026, 12, 1))
    with pytest.raises(Invalid, match="close: vip"):
        view.drivers_outcomes(settings=demo.settings, scope=scope, part="none")


# --- stores the demo never shows ----------------------------------------------------------------

TEXTS = ("配送太慢了，很失望", "物流太慢，包装破了", "客服态度很差", "质量不错，很满意", "")


def _feedback(count: int, *, customers: bool = True) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        row: dict[str, Any] = {
            "feedback_id": f"z{i}",
            "channel": "问卷",
            "created_at": (dt.datetime(2026, 3, 1) + dt.timedelta(hours=7 * i)).isoformat(),
            "nps": (i * 7) % 11,
            "text": TEXTS[i % len(TEXTS)],
        }
        if customers:
            row["customer_id"] = f"客户{i % 40}"
        rows.append(row)
    return rows


ZH_TOPICS = {"delivery": "物流", "service": "客服", "quality": "质量", "packaging": "包装"}


def _chinese_topics(database: Path) -> None:
    """Every stored topic renamed to a flat Chinese topic, as a one-level Chinese taxonomy would
    store it (``delivery/speed`` → ``物流``; two of one feedback become one)."""
    with sqlite3.connect(database) as db:
        for english, chinese in ZH_TOPICS.items():
            db.execute(
                "UPDATE OR REPLACE feedback_topic SET topic = ?, topic_l1 = ? WHERE topic_l1 = ?",
                (chinese, chinese, english),
            )
        left = db.execute("SELECT DISTINCT topic_l1 FROM feedback_topic").fetchall()
    assert {t for (t,) in left} <= set(ZH_TOPICS.values()), left


@pytest.fixture(scope="module")
def voice_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """160 answers of 40 customers, Chinese topics, no orders, subscriptions or events."""
    database = tmp_path_factory.mktemp("drivers-zh") / "cxloop.db"
    store = connect(settings=Settings(database_url=f"sqlite:///{database}"))
    customers = [{"customer_id": f"客户{i}", "segment": "会员"} for i in range(40)]
    assert import_records(store, "customers", customers).inserted == 40
    assert import_records(store, "feedback", _feedback(160)).inserted == 160
    _chinese_topics(database)
    yield store
    store.close()


def test_chinese_topics_without_behaviour_data(voice_only: Store) -> None:
    found = view.drivers_outcomes(
        settings=voice_only.settings, scope=Scope(), n_boot=20, min_mentions=5, min_customers=5
    )
    assert found.quadrant is not None and found.quadrant.available, found.quadrant
    assert "物流" in [r.topic for r in found.quadrant.rows]
    assert found.say_do is not None and not found.say_do.available
    assert "subscriptions" in (found.say_do.reason or "")  # churn is an ended subscription
    spend = view.say_do(
        settings=voice_only.settings, scope=Scope(), outcome="spend", min_customers=5, n_boot=20
    )
    assert not spend.available and "orders" in (spend.reason or "")
    with voice_only.sessions() as session:
        key = DrillKey(topic="物流", sentiment="negative")
        drill = view.drill(settings=voice_only.settings, session=session, scope=Scope(), key=key)
        saved = view.save_drill(
            session=session, settings=voice_only.settings, scope=Scope(), key=key,
            save=DrillSave(name="物流差评客户"), created_by="analyst",
        )  # fmt: skip
        members = act_service.members(session=session, name="物流差评客户")
        assert drill.matched > 0 and saved.members == drill.matched
        assert set(members["customer_id"]) == {c.customer_id for c in drill.customers}
        session.rollback()


def test_too_few_answers_say_why_in_words(tmp_path: Path) -> None:
    store = connect(settings=Settings(database_url=f"sqlite:///{tmp_path / 'few.db'}"))
    try:
        assert import_records(store, "feedback", _feedback(4, customers=False)).inserted == 4
        found = view.drivers_outcomes(settings=store.settings, scope=Scope(), n_boot=20)
    finally:
        store.close()
    assert found.has_feedback
    assert found.quadrant is not None and not found.quadrant.available
    assert "30 or more negative mentions" in (found.quadrant.reason or "")
    assert found.say_do is not None and not found.say_do.available
    assert "linked to a customer" in (found.say_do.reason or "")


def test_an_empty_store_has_no_sections_and_says_so(tmp_path: Path) -> None:
    store = connect(settings=Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    try:
        found = view.drivers_outcomes(settings=store.settings, scope=Scope())
    finally:
        store.close()
    assert not found.has_feedback
    assert found.quadrant is None and found.say_do is None
    assert found.freshness.source == "store"
