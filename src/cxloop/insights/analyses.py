"""The insights service's read-only half: gather store tables through Ibis, run one pure
analysis, hand back an ``InsightReport`` for the CLI and the API.

Split from ``service.py`` (which writes: churn scores) to keep each file to one job. Nothing here
opens a database session; each call opens and closes its own Ibis connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from ibis.backends import BaseBackend

from cxloop.config import Settings
from cxloop.errors import Invalid, Problem
from cxloop.insights import profiles
from cxloop.insights.schemas import InsightReport, report
from cxloop.insights.service import open_backend, resolve_as_of
from cxloop.metrics.filters import Scope

MAX_DRIVERS = 12
"""Exact Shapley importance is affordable up to this many drivers."""


def store_table(backend: BaseBackend, name: str, what: str) -> Any:
    """A store table, or ``Invalid`` saying what to import first."""
    if name not in set(backend.list_tables()):
        raise Invalid(f"the store has no {name} table: import {what} first", name, None)
    return backend.table(name)


def _orders(backend: BaseBackend) -> pd.DataFrame:
    """Counted orders (not cancelled or refunded) of known customers, with a positive amount."""
    store_table(backend, "orders", "orders")
    o = profiles.counted_orders(backend)
    frame = o.select("customer_id", "ordered_at", "amount", "product", "order_id").to_pandas()
    if frame.empty:
        raise Invalid("the store has no counted orders of known customers", "orders", None)
    return frame


def _events(backend: BaseBackend) -> pd.DataFrame:
    e = store_table(backend, "events", "events")
    frame = e.select("customer_id", "event_type", "occurred_at", "session_id").to_pandas()
    if frame.empty:
        raise Invalid("the store has no events", "events", None)
    return frame


CUSTOMER_FIELDS = ("segment", "region")
"""``--where`` fields a customer-level analysis (segments, funnels) can filter on."""


def _check_customer_scope(scope: Scope, analysis: str, since: bool = True) -> None:
    """``Invalid`` for ``where`` fields that describe answers, not customers (channel, role…),
    and for ``since`` where the analysis needs each customer's whole history."""
    problems = [
        Problem(
            f"where.{field}",
            "|".join(values),
            f"describes answers; {analysis} are of customers: filter by segment or region",
        )
        for field, values in scope.conditions().items()
        if field not in CUSTOMER_FIELDS
    ]
    if not since and scope.since is not None:
        problems.append(
            Problem(
                "since",
                scope.since.isoformat(),
                f"{analysis} use each customer's whole history up to as-of: give until "
                "(the as-of date) instead",
            )
        )
    if problems:
        raise Invalid(problems)


def _in_scope(frame: pd.DataFrame, scope: Scope, backend: BaseBackend, time: str) -> pd.DataFrame:
    """Rows of ``frame`` (with ``customer_id`` and a ``time`` column) inside the scope's window,
    of customers matching its segment/region conditions (ignoring case)."""
    if scope.since is not None:
        frame = frame[pd.to_datetime(frame[time]) >= pd.Timestamp(scope.since)]
    if scope.until is not None:
        frame = frame[pd.to_datetime(frame[time]) < pd.Timestamp(scope.until)]
    kept = _scoped_customers(backend, scope)
    if kept is not None:
        frame = frame[frame["customer_id"].isin(kept)]
    return frame


def _scoped_customers(backend: BaseBackend, scope: Scope) -> set[str] | None:
    """Customers whose segment and region match ``scope`` (None: no customer condition)."""
    conditions = {f: v for f, v in scope.conditions().items() if f in CUSTOMER_FIELDS}
    if not conditions:
        return None
    customers = profiles.customer_attributes(backend)
    keep = pd.Series(True, index=customers.index)
    for field, values in conditions.items():
        wanted = {v.casefold() for v in values}
        keep &= customers[field].astype("string").str.casefold().isin(wanted).fillna(False)
    return set(customers.loc[keep, "customer_id"])


# --- key drivers ---------------------------------------------------------------------------------


def drivers(
    *,
    settings: Settings,
    outcome: str = "nps",
    min_mentions: int = 30,
    n_boot: int = 200,
    confidence: float = 0.95,
    scope: Scope | None = None,
) -> InsightReport:
    """Which negatively mentioned topics move a score: relative importance (Shapley R²) of
    "this answer mentioned topic T negatively" per first-level topic, on answers with text
    (in ``scope``: answers of that window and those customers, channels, roles…)."""
    from cxloop.insights.drivers import key_drivers
    from cxloop.metrics.service import check_scope, scoped_feedback

    if outcome not in ("nps", "csat", "ces", "rating"):
        raise Invalid("is not one of: nps, csat, ces, rating", "outcome", outcome)
    with open_backend(settings) as backend:
        store_table(backend, "feedback", "feedback")
        check_scope(backend, scope)
        f = scoped_feedback(backend, scope)
        scored = f.filter(f[outcome].notnull()).select("feedback_id", outcome)
        topics = store_table(backend, "feedback_topic", "feedback with text (and run enrichment)")
        negative = topics.filter(topics.sentiment == "negative").select("feedback_id", "topic_l1")
        texts = store_table(backend, "feedback_text", "feedback with text")
        answers = scored.join(texts.select("feedback_id"), "feedback_id").to_pandas()
        mentions = negative.join(scored.select("feedback_id"), "feedback_id").to_pandas()
    counts = mentions.drop_duplicates().groupby("topic_l1").size().sort_values(ascending=False)
    kept = [t for t, c in counts.items() if c >= min_mentions][:MAX_DRIVERS]
    if not kept:
        raise Invalid(
            f"no topic has {min_mentions} or more negative mentions in answers with a score",
            "min_mentions",
            min_mentions,
        )
    wide = pd.crosstab(mentions["feedback_id"], mentions["topic_l1"]).clip(upper=1)
    data = answers.set_index("feedback_id").join(wide[kept], how="left").fillna(0)
    data.columns = [outcome, *(f"negative {t}" for t in kept)]
    result = key_drivers(
        data.reset_index(drop=True),
        outcome=outcome,
        drivers=[f"negative {t}" for t in kept],
        n_boot=n_boot,
        confidence=confidence,
    )
    caveats = list(result.caveats)
    if len(counts) > len(kept):
        caveats.append(
            f"{len(counts) - len(kept)} topics with fewer than {min_mentions} negative mentions "
            "(or beyond the 12 most mentioned) were left out"
        )
    return report(
        "drivers",
        result.table,
        n=result.n,
        method=result.method,
        caveats=caveats,
        details={
            "outcome": outcome,
            "r_squared": result.r_squared,
            "r_squared_ci": [result.r_squared_ci_low, result.r_squared_ci_high],
            "scope": (scope or Scope()).describe(),
        },
    )


# --- customer lifetime value ---------------------------------------------------------------------


def clv(
    *,
    settings: Settings,
    calibration_end: dt.datetime | None = None,
    horizon: int = 52,
    discount_rate: float = 0.01,
    top: int = 20,
) -> InsightReport:
    """BG/NBD + Gamma–Gamma on the store's counted orders; the most valuable customers first."""
    from cxloop.insights.clv import fit_clv

    with open_backend(settings) as backend:
        orders = _orders(backend)
    end = calibration_end or pd.Timestamp(orders["ordered_at"].max()).to_pydatetime()
    result = fit_clv(
        orders[orders["amount"] > 0],
        customer_col="customer_id",
        date_col="ordered_at",
        amount_col="amount",
        calibration_end=end,
        freq="W",
        discount_rate=discount_rate,
        horizon=horizon,
    )
    customers = result.customers.sort_values("clv", ascending=False)
    return report(
        "clv",
        customers.head(top),
        n=result.n,
        method=result.method,
        caveats=result.caveats,
        details={
            "params": result.params,
            "calibration_end": end,
            "total_clv": float(customers["clv"].sum()),
            "horizon_weeks": horizon,
            "discount_rate_per_week": discount_rate,
        },
    )


# --- segments ------------------------------------------------------------------------------------


def segments(
    *,
    settings: Settings,
    method: str = "rfm",
    as_of: dt.datetime | None = None,
    scope: Scope | None = None,
) -> InsightReport:
    """RFM segments, k-means clusters over behaviour + voice, or lifecycle stages; ``scope``
    keeps customers of its segment/region, its ``until`` is the as-of date (unless ``as_of``),
    and RFM counts only orders in its window."""
    from cxloop.insights.journeys import lifecycle
    from cxloop.insights.segments import cluster_customers, rfm

    if method not in ("rfm", "clusters", "lifecycle"):
        raise Invalid("is not one of: rfm, clusters, lifecycle", "method", method)
    scope = scope or Scope()
    _check_customer_scope(scope, f"{method} segments", since=method == "rfm")
    with open_backend(settings) as backend:
        when = resolve_as_of(backend, as_of or scope.until)
        kept = _scoped_customers(backend, scope)
        if method == "rfm":
            orders = _in_scope(_orders(backend), scope, backend, "ordered_at")
            if orders.empty:
                raise Invalid(f"has no counted orders in {scope.describe()}", "scope", None)
            result = rfm(orders, as_of=when)
            return report(
                "segments",
                result.segments,
                n=result.n,
                method=result.method,
                caveats=result.caveats,
                details={"as_of": when, "kind": "rfm", "scope": scope.describe()},
            )
        features = profiles.customer_features(backend, when)
    if kept is not None:
        features = features[features.index.isin(kept)]
    if method == "clusters":
        numeric = features.select_dtypes("number").drop(
            columns=[c for c in ("orders_total",) if c in features], errors="ignore"
        )
        numeric = numeric.loc[:, numeric.notna().mean() >= 0.5].fillna(numeric.median())
        clusters = cluster_customers(numeric.reset_index(), id_col="customer_id")
        return report(
            "segments",
            clusters.profiles,
            n=clusters.n,
            method=clusters.method,
            caveats=clusters.caveats,
            details={"as_of": when, "kind": "clusters", "k": clusters.k, "scope": scope.describe()},
        )
    stages = lifecycle(_activity(features, when), as_of=when)
    summary = stages.groupby("stage", observed=False).size().rename("n").reset_index()
    summary["share"] = summary["n"] / max(len(stages), 1)
    return report(
        "segments",
        summary,
        n=int(stages.attrs.get("n", len(stages))),
        method=str(stages.attrs.get("method", "lifecycle rules")),
        caveats=list(stages.attrs.get("caveats", ())),
        details={"as_of": when, "kind": "lifecycle", "scope": scope.describe()},
    )


def _activity(features: pd.DataFrame, when: dt.datetime) -> pd.DataFrame:
    """First and last activity (an order or a feedback) and the churn flag per customer, the
    input of the lifecycle rules; customers with no activity at all are left out."""
    now = pd.Timestamp(when)
    frame = features.reset_index()
    first = now - pd.to_timedelta(frame["tenure_days"], unit="D")
    last_feedback = now - pd.to_timedelta(
        frame.get("days_since_feedback", pd.Series(float("nan"), index=frame.index)), unit="D"
    )
    last = pd.concat([pd.to_datetime(frame["last_order_at"]), last_feedback], axis=1).max(axis=1)
    out = pd.DataFrame(
        {
            "customer_id": frame["customer_id"],
            "first_active_at": first.fillna(last),
            "last_active_at": last,
            "churned": frame.get("sub_churned", pd.Series(pd.NA, index=frame.index))
            .astype("boolean")
            .fillna(False)
            .astype(bool),
        }
    )
    out = out.dropna(subset=["last_active_at"])  # no order or feedback by then: no stage
    out["first_active_at"] = out[["first_active_at", "last_active_at"]].min(axis=1)
    return out


# --- journeys ------------------------------------------------------------------------------------


def funnel(
    *,
    settings: Settings,
    steps: Sequence[str],
    window: str = "7D",
    by: str | None = None,
    scope: Scope | None = None,
) -> InsightReport:
    """Ordered funnel over the store's events, optionally by customer segment or region;
    ``scope`` keeps events of its window (by occurred_at) and customers of its segment/region."""
    from cxloop.insights.funnels import funnel as run_funnel

    if by not in (None, "segment", "region"):
        raise Invalid("is not one of: segment, region", "by", by)
    scope = scope or Scope()
    _check_customer_scope(scope, "funnels")
    with open_backend(settings) as backend:
        events = _in_scope(_events(backend), scope, backend, "occurred_at")
        if events.empty:
            raise Invalid(f"has no events in {scope.describe()}", "scope", None)
        mapping = profiles.customer_attributes(backend)[["customer_id", by]] if by else None
    result = run_funnel(events, steps=list(steps), window=window, by=mapping)
    return report(
        "funnel",
        result.table,
        n=result.n,
        method=result.method,
        caveats=result.caveats,
        details={
            "steps": list(result.steps),
            "window": window,
            "by": by,
            "scope": scope.describe(),
        },
    )


def paths(
    *, settings: Settings, start: str, end: str, max_steps: int = 6, top: int = 10
) -> InsightReport:
    """The most frequent event sequences from ``start`` to ``end`` within a session."""
    from cxloop.insights.journeys import top_paths

    with open_backend(settings) as backend:
        events = _events(backend)
    table = top_paths(
        events, start=start, end=end, max_steps=max_steps, top=top, session_col="session_id"
    )
    return report(
        "paths",
        table,
        n=int(table.attrs.get("n", 0)),
        method=str(table.attrs.get("method", "")),
        caveats=list(table.attrs.get("caveats", ())),
        details={"start": start, "end": end},
    )


def cohorts(*, settings: Settings, period: str = "month", source: str = "orders") -> InsightReport:
    """Retention by acquisition cohort: share of each cohort ordering (or active) per period."""
    from cxloop.insights.journeys import cohort_retention

    with open_backend(settings) as backend:
        if source == "orders":
            activity = _orders(backend).rename(columns={"ordered_at": "occurred_at"})
        elif source == "events":
            activity = _events(backend)
        else:
            raise Invalid("is not one of: orders, events", "source", source)
    table = cohort_retention(activity, period=period)
    return report(
        "cohorts",
        table,
        n=int(table.attrs.get("n", 0)),
        method=str(table.attrs.get("method", "")),
        caveats=list(table.attrs.get("caveats", ())),
        details={"period": period, "source": source},
    )


# --- association rules --------------------------------------------------------------------------


def rules(
    *,
    settings: Settings,
    baskets: str = "topics",
    min_support: float = 0.01,
    min_confidence: float = 0.2,
    top: int = 30,
) -> InsightReport:
    """Topics mentioned together in one feedback, or products bought by the same customer."""
    from cxloop.insights.rules import association_rules, order_baskets, topic_baskets

    with open_backend(settings) as backend:
        if baskets == "topics":
            t = store_table(backend, "feedback_topic", "feedback with text")
            long = topic_baskets(t.select("feedback_id", "topic").to_pandas())
        elif baskets == "orders":
            long = order_baskets(_orders(backend), by="customer_id")
        else:
            raise Invalid("is not one of: topics, orders", "baskets", baskets)
    result = association_rules(long, min_support=min_support, min_confidence=min_confidence)
    return report(
        "rules",
        result.table.head(top),
        n=result.n_baskets,
        method=result.method,
        caveats=result.caveats,
        details={"baskets": baskets, "rules": len(result.table)},
    )
