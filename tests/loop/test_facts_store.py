"""The facts alert rules decide on, read from a real store built through ingest: Chinese and
English text enriched by the real engine, a customer without orders, unlinked feedback, a B2B
contact of an account with an owner, churn scores from two model versions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from cxloop.api import Store, connect
from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.ingest import service as ingest_service
from cxloop.ingest import undo as undo_service
from cxloop.insights import profiles
from cxloop.insights.models import ChurnScore
from cxloop.loop import facts_store

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)

CUSTOMERS: list[dict[str, Any]] = [
    {"customer_id": "C-1", "name": "王芳", "region": "华东", "segment": "VIP", "vip": "yes"},
    {"customer_id": "C-2", "name": "Li Na", "region": "华北", "segment": "mass"},
    {"customer_id": "C-3", "name": "赵敏", "region": "华南"},  # never ordered
    {"customer_id": "C-4", "name": "孙丽"},
    {"customer_id": "C-5", "name": "周杰"},
]
ORDERS: list[dict[str, Any]] = [
    {"order_id": "O-1", "customer_id": "C-1", "ordered_at": "2026-11-01", "amount": 900},
    {"order_id": "O-2", "customer_id": "C-1", "ordered_at": "2026-06-01", "amount": 300},
    {"order_id": "O-3", "customer_id": "C-2", "ordered_at": "2026-10-01", "amount": 50},
    {"order_id": "O-4", "customer_id": "C-4", "ordered_at": "2026-09-01", "amount": 200},
    {"order_id": "O-5", "customer_id": "C-5", "ordered_at": "2026-09-01", "amount": 100},
    # more than a year before NOW: not in the value
    {"order_id": "O-6", "customer_id": "C-2", "ordered_at": "2025-01-01", "amount": 99_999},
]
ACCOUNTS: list[dict[str, Any]] = [
    {"account_id": "A-1", "name": "华为", "tier": "strategic", "owner": "zhao.min",
     "annual_value": 500_000, "segment": "enterprise", "region": "华南"},
    {"account_id": "A-2", "name": "Acme", "tier": "standard", "annual_value": 10_000},
]  # fmt: skip
CONTACTS: list[dict[str, Any]] = [
    {"contact_id": "P-1", "account_id": "A-1", "name": "陈总", "role": "决策者"},
]
FEEDBACK: list[dict[str, Any]] = [
    {"id": "f1", "channel": "survey", "customer_id": "C-1", "created_at": "2026-12-03 10:00",
     "nps": 2, "text": "配送太慢了，等了两个小时，客服态度也很差，再这样我就投诉到消费者协会"},
    {"id": "f2", "channel": "review", "customer_id": "C-3", "created_at": "2026/12/03",
     "rating": 1,
     "text": "The delivery was late and the driver was rude. I will cancel my subscription."},
    {"id": "f3", "channel": "weibo", "author": "路人甲", "created_at": "2026-12-02",
     "text": "还行吧"},
    {"id": "f4", "channel": "survey", "contact_id": "P-1", "created_at": "2026-12-01",
     "nps": 9},
    {"id": "f5", "channel": "email", "customer_id": "C-404", "created_at": "2026-12-01",
     "csat": 2},
]  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("facts") / "cxloop.db"
    settings = Settings(database_url=f"sqlite:///{path}")
    store = connect(settings=settings)
    with session_scope(store.sessions) as session:
        for kind, rows in (
            ("customers", CUSTOMERS),
            ("accounts", ACCOUNTS),
            ("contacts", CONTACTS),
            ("orders", ORDERS),
            ("feedback", FEEDBACK),
        ):
            done = ingest_service.import_records(
                session=session, settings=settings, kind=kind, records=rows
            )
            assert done.quarantined == 0, done.rejected
        session.add_all(
            [
                ChurnScore(customer_id="C-1", model_version="m1", probability=0.2, reasons=[],
                           scored_at=dt.datetime(2026, 11, 1)),
                ChurnScore(customer_id="C-1", model_version="m2", probability=0.85, reasons=[],
                           scored_at=dt.datetime(2026, 12, 1)),
            ]
        )  # fmt: skip
    yield store
    store.close()


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    with session_scope(store.sessions) as session:
        yield session


def ids(session: Session) -> dict[str, str]:
    """source id → stored feedback id (the store prefixes the source)."""
    from cxloop.feedback.models import Feedback

    return {f.external_id or f.feedback_id: f.feedback_id for f in session.query(Feedback)}


def facts(session: Session) -> dict[str, Any]:
    known = ids(session)
    found = facts_store.facts_for(session, list(known.values()), now=NOW)
    return {source: found[stored] for source, stored in known.items()}


def test_a_chinese_detractor_has_its_text_features_value_rank_and_latest_churn_score(
    session: Session,
) -> None:
    f1 = facts(session)["f1"]
    assert (f1.customer_id, f1.nps, f1.nps_group, f1.channel) == ("C-1", 2, "detractor", "survey")
    assert (f1.sentiment, f1.intent, f1.language) == ("negative", "complaint", "zh")
    assert "escalation" in f1.flags and len(f1.flags) == len(set(f1.flags))
    assert ("delivery/speed", "negative") in f1.aspects
    assert f1.topics[0] == "delivery/speed" and "service/attitude" in f1.topics
    assert (f1.segment, f1.region, f1.attributes.get("vip")) == ("VIP", "华东", "yes")
    # spend in the year before NOW: C-1 1200, C-4 200, C-5 100, C-2 50, C-3 0 → above 4 of 5
    assert f1.value_percentile == 80.0
    assert f1.churn_risk == 0.85  # the newest score, not the first model's


def test_a_customer_without_orders_ranks_lowest_and_has_no_churn_score(session: Session) -> None:
    f2 = facts(session)["f2"]
    assert (f2.customer_id, f2.language, f2.rating) == ("C-3", "en", 1.0)
    assert f2.value_percentile == 0.0
    assert f2.churn_risk is None and f2.segment is None and f2.region == "华南"
    assert "churn_intent" in f2.flags


def test_old_orders_do_not_count_toward_value(session: Session) -> None:
    # C-2 spent 99,999 two years ago and 50 this year: the second lowest of five
    from cxloop.feedback.models import Feedback

    row = Feedback(
        feedback_id="t:c2", channel="survey", customer_id="C-2", row_hash="x" * 32,
        created_at=dt.datetime(2026, 12, 1), nps=5,
    )  # fmt: skip
    session.add(row)
    session.flush()
    found = facts_store.facts_for(session, ["t:c2"], now=NOW)["t:c2"]
    assert found.value_percentile == 20.0
    session.rollback()


def test_unlinked_feedback_has_no_customer_attributes(session: Session) -> None:
    f3 = facts(session)["f3"]
    assert f3.customer_id is None and f3.account_id is None
    assert (f3.value_percentile, f3.churn_risk, f3.segment, f3.role) == (None, None, None, None)
    assert f3.attributes == {}


def test_a_b2b_contact_brings_account_tier_owner_role_and_account_value(session: Session) -> None:
    f4 = facts(session)["f4"]
    assert (f4.account_id, f4.role, f4.tier, f4.account_owner) == (
        "A-1",
        "decision_maker",
        "strategic",
        "zhao.min",
    )
    assert (f4.segment, f4.region, f4.nps_group, f4.sentiment) == (
        "enterprise",
        "华南",
        "promoter",
        "neutral",
    )
    assert f4.value_percentile == 50.0  # the higher of two accounts' annual values


def test_a_customer_id_nobody_stored_gives_none_not_an_error(session: Session) -> None:
    f5 = facts(session)["f5"]
    assert (f5.customer_id, f5.csat, f5.value_percentile, f5.segment) == ("C-404", 2, None, None)


def test_unknown_ids_are_left_out(session: Session) -> None:
    assert facts_store.facts_for(session, ["nope", "nope"], now=NOW) == {}


def test_many_ids_take_a_fixed_number_of_queries(store: Store, session: Session) -> None:
    known = list(ids(session).values())
    many = known + [f"missing:{i}" for i in range(1200)]  # three IN lists
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        found = facts_store.facts_for(session, many, now=NOW)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert len(found) == len(known)
    # per table at most ceil(1205 / 500) = 3 IN lists, plus the value ranks: never per row
    assert len(statements) <= 3 * 3 + 4 + 6


def test_value_ranks_are_read_again_once_orders_are_imported(
    store: Store, session: Session
) -> None:
    f1 = ids(session)["f1"]
    assert facts_store.facts_for(session, [f1], now=NOW)[f1].value_percentile == 80.0
    order = {"order_id": "O-9", "customer_id": "C-3", "ordered_at": "2026-11-30", "amount": 5000}
    done = ingest_service.import_records(
        session=session, settings=store.settings, kind="orders", records=[order]
    )
    assert done.inserted == 1
    # C-3 now spends the most: C-1 is above 3 of 5
    assert facts_store.facts_for(session, [f1], now=NOW)[f1].value_percentile == 60.0
    undo_service.undo_run(session=session, run_id=done.run_id)
    assert facts_store.facts_for(session, [f1], now=NOW)[f1].value_percentile == 80.0


def test_the_value_window_is_the_one_target_lists_use() -> None:
    assert facts_store.SPEND_DAYS == profiles.SPEND_DAYS


def test_cancelled_and_refunded_orders_are_not_value(store: Store, session: Session) -> None:
    """One definition of spend: the rank the rules read leaves out what the story and target
    lists leave out (W's note: the rank counted a refunded order the story did not show)."""
    f1 = ids(session)["f1"]
    before = facts_store.facts_for(session, [f1], now=NOW)[f1].value_percentile
    orders = [
        {"order_id": f"O-{status}", "customer_id": "C-3", "ordered_at": "2026-11-30",
         "amount": 9000, "status": status}
        for status in ("refunded", "cancelled")
    ]  # fmt: skip
    done = ingest_service.import_records(
        session=session, settings=store.settings, kind="orders", records=orders
    )
    assert done.inserted == 2
    try:
        assert facts_store.facts_for(session, [f1], now=NOW)[f1].value_percentile == before
    finally:
        undo_service.undo_run(session=session, run_id=done.run_id)
    assert facts_store.NOT_COUNTED_ORDER_STATUSES == profiles.NOT_COUNTED_ORDER_STATUSES
