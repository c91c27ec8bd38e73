"""The voice × behaviour frame: time logic on hand-made rows, and the same table from the SQLite
store and from DuckDB over a Parquet export of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import ibis
import pandas as pd
import pytest
from ibis.backends import BaseBackend

from cxloop import engines
from cxloop.api import connect
from cxloop.config import Settings
from cxloop.demo.generator import DemoConfig
from cxloop.demo.service import load_demo
from cxloop.errors import Invalid
from cxloop.insights.frames import (
    Exposure,
    churn_outcome,
    customer_voice_frame,
    order_outcome,
    with_customers,
)

SMALL = DemoConfig(seed=7, n_customers=400, n_accounts=8)
TABLES = ("feedback", "feedback_text", "feedback_topic", "customers", "orders", "subscriptions")
UNTIL = dt.datetime(2026, 10, 31)
EXPOSURES = [
    Exposure("support_slow", topic="service/responsiveness", sentiment="negative"),
    Exposure("delivery", topic="delivery"),
    Exposure("complaint", intent="complaint"),
    Exposure("detractor", nps_group="detractor", versus="promoter"),
]


def day(n: int) -> dt.datetime:
    return dt.datetime(2026, 1, 1) + dt.timedelta(days=n)


def _tiny() -> dict[str, ibis.Table]:
    """c1 complains on day 10 (after a survey on day 2); c2 only praises, from day 5."""
    feedback = ibis.memtable(
        {
            "feedback_id": ["f1", "f2", "f3", "f4"],
            "customer_id": ["c1", "c1", "c2", None],
            "created_at": [day(2), day(10), day(5), day(1)],
            "nps": [9, None, 3, 0],
        },
        schema={
            "feedback_id": "string",
            "customer_id": "string",
            "created_at": "timestamp",
            "nps": "int64",
        },
    )
    topics = ibis.memtable(
        {
            "feedback_id": ["f2", "f3", "f4"],
            "topic": ["service/responsiveness"] * 3,
            "topic_l1": ["service"] * 3,
            "sentiment": ["negative", "positive", "negative"],
        }
    )
    orders = ibis.memtable(
        {
            "customer_id": ["c1", "c1", "c1", "c2", "c2"],
            "ordered_at": [day(1), day(8), day(20), day(4), day(30)],
            "amount": [10.0, 20.0, 40.0, 5.0, 7.0],
            "status": ["completed"] * 4 + ["refunded"],
        }
    )
    subs = ibis.memtable(
        {
            "customer_id": ["c1", "c2"],
            "started_at": [day(0), day(0)],
            "ended_at": [day(60), day(3)],
            "renewed": [False, False],
            "plan": ["monthly", "annual"],
            "amount": [29.0, 299.0],
        }
    )
    return {"feedback": feedback, "topics": topics, "orders": orders, "subs": subs}


def test_outcomes_count_only_after_the_voice_that_exposed_the_customer() -> None:
    t = _tiny()
    frame = customer_voice_frame(
        t["feedback"],
        exposures=[Exposure("slow", topic="service", sentiment="negative")],
        feedback_topic=t["topics"],
    )
    got = order_outcome(frame, t["orders"], observed_until=day(200), window_days=90)
    rows = got.execute().set_index(["customer_id", "exposed"])
    # c1 said it on day 10: the day-8 order is before, the day-20 order after
    said = rows.loc[("c1", True)]
    assert said["anchor_at"] == day(10)
    assert (said["orders_before"], said["orders_after"]) == (2, 1) and said["spend_after"] == 40.0
    # before saying it, c1 was unexposed at their first feedback (day 2): exposure is what was
    # known at the anchor, never what they said later
    before = rows.loc[("c1", False)]
    assert before["anchor_at"] == day(2)
    assert (before["orders_before"], before["orders_after"]) == (1, 2)
    # c2 never said it: anchored at their first feedback (day 5); the refund is not an order
    never = rows.loc[("c2", False)]
    assert never["anchor_at"] == day(5)
    assert (never["orders_before"], never["orders_after"]) == (1, 0)
    assert ("c2", True) not in rows.index
    assert len(rows) == 3  # unlinked feedback (f4) counts for no one


def test_windows_that_end_after_the_data_are_dropped() -> None:
    t = _tiny()
    frame = customer_voice_frame(
        t["feedback"], exposures=[Exposure("slow", topic="service")], feedback_topic=t["topics"]
    )
    got = order_outcome(frame, t["orders"], observed_until=day(97), window_days=90).execute()
    kept = sorted(zip(got["customer_id"], got["exposed"], strict=True))
    # any sentiment counts here, so c2 said it in their first feedback (day 5): exposed only;
    # c1's exposed window (day 10 + 90) runs past day 97 and is dropped, its day-2 one is kept
    assert kept == [("c1", False), ("c2", True)]


def test_customers_whose_subscription_ended_before_the_anchor_are_not_at_risk() -> None:
    t = _tiny()
    frame = customer_voice_frame(
        t["feedback"],
        exposures=[Exposure("slow", topic="service", sentiment="negative")],
        feedback_topic=t["topics"],
    )
    got = churn_outcome(frame, t["subs"], observed_until=day(200)).execute()
    assert set(got["customer_id"]) == {"c1"}  # c2 cancelled on day 3, before speaking
    assert got["churned"].tolist() == [1, 1] and set(got["plan_amount"]) == {29.0}
    short = churn_outcome(frame, t["subs"], observed_until=day(200), window_days=30).execute()
    assert short["churned"].tolist() == [0, 0]  # day 60 is 50 and 58 days after the anchors


def test_unknown_renewal_is_churn_unless_another_subscription_follows() -> None:
    """A billing export without ``renewed``: an end with no subscription after it is churn; a
    new one starting within RENEWAL_GAP_DAYS (a plan change) or one still running is not; a
    comeback months later does not undo the churn; an explicit renewal is never churn."""
    people = ["gone", "switched", "overlap", "comeback", "renewed", "dropped"]
    feedback = ibis.memtable(
        {
            "feedback_id": [f"f{i}" for i in range(len(people))],
            "customer_id": people,
            "created_at": [day(10)] * len(people),
            "nps": [5] * len(people),
        }
    )
    subs = ibis.memtable(
        {
            "customer_id": [
                "gone",
                "switched",
                "switched",
                "overlap",
                "overlap",
                "comeback",
                "comeback",
                "renewed",
                "dropped",
            ],
            "started_at": [
                day(0),
                day(0),
                day(63),
                day(0),
                day(5),
                day(0),
                day(150),
                day(0),
                day(0),
            ],
            "ended_at": [
                day(60),
                day(60),
                None,
                day(60),
                day(400),
                day(60),
                None,
                day(60),
                day(60),
            ],
            "renewed": [None, None, None, None, None, None, None, True, False],
            "plan": ["monthly"] * 9,
            "amount": [29.0] * 9,
        },
        schema={
            "customer_id": "string",
            "started_at": "timestamp",
            "ended_at": "timestamp",
            "renewed": "boolean",
            "plan": "string",
            "amount": "float64",
        },
    )
    frame = customer_voice_frame(
        feedback, exposures=[Exposure("det", nps_group="detractor", versus="promoter")]
    )
    got = churn_outcome(frame, subs, observed_until=day(300)).execute()
    churned = dict(zip(got["customer_id"], got["churned"], strict=True))
    assert churned == {
        "gone": 1,
        "switched": 0,
        "overlap": 0,
        "comeback": 1,
        "renewed": 0,
        "dropped": 1,
    }


def test_nps_groups_compare_first_answers_and_leave_the_rest_out() -> None:
    t = _tiny()
    frame = customer_voice_frame(
        t["feedback"], exposures=[Exposure("det", nps_group="detractor", versus="promoter")]
    )
    rows = frame.execute().set_index("customer_id")
    assert rows["exposed"].to_dict() == {"c1": False, "c2": True}
    assert rows.loc["c1", "anchor_at"] == day(2)


def test_malformed_exposures_are_refused_with_every_problem() -> None:
    t = _tiny()
    with pytest.raises(Invalid) as error:
        customer_voice_frame(
            t["feedback"],
            exposures=[Exposure("a"), Exposure("b", nps_group="fans"), Exposure("b", topic="x")],
        )
    assert {p.field for p in error.value.problems} == {"a", "b", "exposures"}


# --- the same frame on SQLite and DuckDB -------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("frames")
    settings = Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}", import_batch_size=1000)
    store = connect(settings=settings)
    try:
        load_demo(sessions=store.sessions, settings=settings, folder=folder / "files", config=SMALL)
    finally:
        store.close()
    return settings


@pytest.fixture(scope="module")
def backends(
    sqlite_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, BaseBackend]]:
    folder: Path = tmp_path_factory.mktemp("frames_parquet")
    engines.export_parquet(sqlite_settings, folder, omit={}, tables=TABLES)
    opened = {
        "sqlite": engines.store_backend(sqlite_settings),
        "duckdb": engines.duckdb_backend(folder),
    }
    yield opened
    for backend in opened.values():
        backend.disconnect()


def _full_frame(backend: BaseBackend) -> pd.DataFrame:
    """Topics and NPS in one frame, intents in another: SQLite (3.40) overflows its parser
    stack on the query with all three kinds of exposure at once."""
    parts = [_frame(backend, EXPOSURES[:2] + EXPOSURES[3:]), _frame(backend, EXPOSURES[2:3])]
    rows = pd.concat(parts, ignore_index=True)
    rows["exposed"] = rows["exposed"].astype(bool)
    rows["anchor_at"] = pd.to_datetime(rows["anchor_at"]).astype("datetime64[us]")
    rows = rows.sort_values(["exposure", "customer_id", "exposed"], ignore_index=True)
    return rows.astype({c: "object" for c in ("customer_id", "exposure", "segment", "plan")})


def _frame(backend: BaseBackend, exposures: list[Exposure]) -> pd.DataFrame:
    frame = customer_voice_frame(
        backend.table("feedback"),
        exposures=exposures,
        feedback_topic=backend.table("feedback_topic"),
        feedback_text=backend.table("feedback_text"),
        end=UNTIL,
    )
    frame = with_customers(frame, backend.table("customers"))
    frame = order_outcome(frame, backend.table("orders"), observed_until=UNTIL)
    return churn_outcome(frame, backend.table("subscriptions"), observed_until=UNTIL).execute()


def test_sqlite_and_duckdb_build_identical_frames(backends: dict[str, BaseBackend]) -> None:
    expected = _full_frame(backends["sqlite"])
    got = _full_frame(backends["duckdb"])
    assert len(expected) > 200 and expected["exposed"].any() and expected["churned"].any()
    assert set(expected["exposure"]) == {e.name for e in EXPOSURES}
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
