"""Per-customer behaviour and voice, as of a date, built over Ibis tables of the store.

Pure over Ibis tables (no session): the aggregation runs in the engine and only one row per
customer comes back. Used by churn scoring (features as of a past date, label after it) and by
target lists (profiles as of now). Times are naive UTC, as stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd
from ibis.backends import BaseBackend

SPEND_DAYS = 365
"""Customer value = order spend over this many days before the as-of date."""
NOT_COUNTED_ORDER_STATUSES = ("cancelled", "refunded")
"""Orders with these statuses are not counted as spend or purchases."""


def _tables(backend: BaseBackend) -> set[str]:
    return set(backend.list_tables())


def data_end(backend: BaseBackend) -> dt.datetime | None:
    """The latest activity in the store (feedback, order or event), the default as-of date."""
    have = _tables(backend)
    candidates: list[Any] = []
    for table, column in (
        ("feedback", "created_at"),
        ("orders", "ordered_at"),
        ("events", "occurred_at"),
    ):
        if table in have:
            candidates.append(backend.table(table)[column].max().execute())
    found = [pd.Timestamp(c) for c in candidates if c is not None and not pd.isna(c)]
    return max(found).to_pydatetime() if found else None


def counted(orders: ibis.Table) -> ibis.Table:
    """The orders of known customers that count as purchases: not cancelled or refunded (any
    other status, or none). The one definition every analysis uses."""
    status = orders.status.fill_null("")
    return orders.filter(orders.customer_id.notnull(), ~status.isin(NOT_COUNTED_ORDER_STATUSES))


def counted_orders(backend: BaseBackend) -> ibis.Table:
    """``counted`` over the store's ``orders`` table."""
    return counted(backend.table("orders"))


def order_features(backend: BaseBackend, as_of: dt.datetime) -> pd.DataFrame:
    """Spend and order counts before ``as_of``: value (365 d), orders in 90/365 d, last order."""
    if "orders" not in _tables(backend):
        return pd.DataFrame(columns=["customer_id"]).set_index("customer_id")
    o = counted_orders(backend)
    o = o.filter(o.ordered_at <= as_of)
    year = as_of - dt.timedelta(days=SPEND_DAYS)
    quarter = as_of - dt.timedelta(days=90)
    in_year = o.ordered_at > year
    agg = o.group_by("customer_id").aggregate(
        value=in_year.ifelse(o.amount.cast("float64"), 0.0).sum(),
        orders_365d=in_year.ifelse(1, 0).sum(),
        orders_90d=(o.ordered_at > quarter).ifelse(1, 0).sum(),
        orders_total=o.count(),
        first_order_at=o.ordered_at.min(),
        last_order_at=o.ordered_at.max(),
    )
    return agg.to_pandas().set_index("customer_id")


def voice_features(backend: BaseBackend, as_of: dt.datetime) -> pd.DataFrame:
    """Feedback before ``as_of`` per customer: count, latest NPS, mean sentiment, complaints
    (and when the last one and the last negative feedback were), and negative mentions per
    first-level topic (``neg_<topic>`` columns)."""
    have = _tables(backend)
    if "feedback" not in have:
        return pd.DataFrame(columns=["customer_id"]).set_index("customer_id")
    f = backend.table("feedback")
    f = f.filter(f.customer_id.notnull(), f.created_at <= as_of)
    base = f.group_by("customer_id").aggregate(
        feedback_count=f.count(), last_feedback_at=f.created_at.max()
    )
    frame = base.to_pandas().set_index("customer_id")
    scored = f.filter(f.nps.notnull())
    latest = scored.mutate(
        rank=ibis.row_number().over(group_by=scored.customer_id, order_by=ibis.desc("created_at"))
    )
    last = latest.filter(latest["rank"] == 0).select("customer_id", last_nps=latest.nps)
    frame = frame.join(last.to_pandas().set_index("customer_id"), how="left")
    if "feedback_text" in have:
        t = backend.table("feedback_text")
        joined = f.select("feedback_id", "customer_id", "created_at").join(t, "feedback_id")
        complaint, negative = joined.intent == "complaint", joined.sentiment == "negative"
        text = joined.group_by("customer_id").aggregate(
            mean_sentiment=joined.sentiment_score.cast("float64").mean(),
            negative_feedback=negative.ifelse(1, 0).sum(),
            complaints=complaint.ifelse(1, 0).sum(),
            last_complaint_at=joined.created_at.max(where=complaint),
            last_negative_at=joined.created_at.max(where=negative),
        )
        frame = frame.join(text.to_pandas().set_index("customer_id"), how="left")
    if "feedback_topic" in have:
        tp = backend.table("feedback_topic")
        neg = tp.filter(tp.sentiment == "negative")
        joined = f.select("feedback_id", "customer_id").join(neg, "feedback_id")
        counts = joined.group_by("customer_id", "topic_l1").aggregate(n=joined.count()).to_pandas()
        if not counts.empty:
            wide = counts.pivot_table(
                index="customer_id", columns="topic_l1", values="n", aggfunc="sum", fill_value=0
            )
            wide.columns = [f"neg_{c}" for c in wide.columns]
            frame = frame.join(wide, how="left")
    return frame


def mentions(backend: BaseBackend, since: dt.datetime, as_of: dt.datetime) -> pd.DataFrame:
    """Topic mentions per customer between ``since`` and ``as_of``: customer_id, topic,
    sentiment, created_at."""
    columns = ["customer_id", "topic", "sentiment", "created_at"]
    have = _tables(backend)
    if not {"feedback", "feedback_topic"} <= have:
        return pd.DataFrame(columns=columns)
    f = backend.table("feedback")
    f = f.filter(f.customer_id.notnull(), f.created_at > since, f.created_at <= as_of)
    tp = backend.table("feedback_topic")
    joined = f.select("feedback_id", "customer_id", "created_at").join(tp, "feedback_id")
    return joined.select(*columns).to_pandas()


def subscription_state(backend: BaseBackend, as_of: dt.datetime) -> pd.DataFrame:
    """Per customer with a subscription started by ``as_of``: ``active`` (one runs at as_of),
    ``churned`` (none runs and the last one was not renewed: ``renewed`` false *or unknown* —
    billing exports often have an end date and no renewal column), ``plan`` of the latest."""
    if "subscriptions" not in _tables(backend):
        return pd.DataFrame(columns=["customer_id", "active", "churned", "plan"]).set_index(
            "customer_id"
        )
    s = backend.table("subscriptions")
    s = s.filter(s.customer_id.notnull(), s.started_at <= as_of)
    frame = s.select("customer_id", "plan", "started_at", "ended_at", "renewed").to_pandas()
    if frame.empty:
        return pd.DataFrame(columns=["customer_id", "active", "churned", "plan"]).set_index(
            "customer_id"
        )
    ended = pd.to_datetime(frame["ended_at"])
    frame["running"] = ended.isna() | (ended > pd.Timestamp(as_of))
    frame = frame.sort_values(["customer_id", "started_at"], kind="stable")
    state = frame.groupby("customer_id").tail(1).set_index("customer_id")[["plan"]]
    state.insert(0, "active", frame.groupby("customer_id")["running"].any())
    state["churned"] = ~state["active"] & ~renewed_for_sure(
        frame.groupby("customer_id").tail(1).set_index("customer_id")["renewed"]
    )
    return state[["active", "churned", "plan"]]


def renewed_for_sure(renewed: pd.Series) -> pd.Series:
    """True only where renewal is known to be true: unknown (NA, blank) counts as not renewed,
    decided here once because pandas' three-valued logic would read ``~active & NA`` as false.
    The series is taken row by row (``groupby().last()`` would skip a blank last value)."""
    return renewed.astype("boolean").fillna(False).astype(bool)


def customer_attributes(backend: BaseBackend) -> pd.DataFrame:
    """Non-personal customer attributes: segment, region, signed_up_at."""
    if "customers" not in _tables(backend):
        return pd.DataFrame(columns=["customer_id", "segment", "region", "signed_up_at"])
    c = backend.table("customers")
    return c.select("customer_id", "segment", "region", "signed_up_at").to_pandas()


def customer_features(backend: BaseBackend, as_of: dt.datetime) -> pd.DataFrame:
    """One row per known customer (in the customers table, an order or a subscription):
    attributes, behaviour and voice as of ``as_of``.

    Everything is measured at or before ``as_of``, so a label taken after it does not leak in.
    ``last_order_at`` is kept as a timestamp (for target lists); models use ``days_since_order``.
    """
    customers = customer_attributes(backend).set_index("customer_id")
    frame = customers.join(order_features(backend, as_of), how="outer")
    frame = frame.join(voice_features(backend, as_of), how="left")
    subs = subscription_state(backend, as_of)
    # outer: a billing export often names members that no customers file lists
    frame = frame.join(subs.add_prefix("sub_"), how="outer")
    signed = pd.to_datetime(frame.pop("signed_up_at"))
    first = pd.to_datetime(frame.pop("first_order_at")) if "first_order_at" in frame else signed
    start = signed.fillna(first)
    frame["tenure_days"] = (pd.Timestamp(as_of) - start).dt.days
    if "last_order_at" not in frame:
        frame["last_order_at"] = pd.NaT
    frame["last_order_at"] = pd.to_datetime(frame["last_order_at"])
    frame["days_since_order"] = (pd.Timestamp(as_of) - frame["last_order_at"]).dt.days
    # how long ago they last spoke, complained, said something negative: recency of a
    # complaint says more about leaving soon than the count of complaints over the years
    for stamp, days in (
        ("last_feedback_at", "days_since_feedback"),
        ("last_complaint_at", "days_since_complaint"),
        ("last_negative_at", "days_since_negative"),
    ):
        if stamp in frame:
            frame[days] = (pd.Timestamp(as_of) - pd.to_datetime(frame.pop(stamp))).dt.days
    counts = [c for c in frame.columns if c.startswith(("orders_", "neg_"))]
    counts += [c for c in ("value", "feedback_count", "negative_feedback", "complaints")]
    for column in counts:
        if column in frame:
            frame[column] = frame[column].fillna(0)
    frame.index.name = "customer_id"
    return frame
