"""The insights service's voice × behaviour reports over the store: what saying a topic does
to churn, orders or spend afterwards, what churned members said before leaving, and what B2B
decision makers scored before their account churned.

Split from ``analyses.py`` (drivers, CLV, segments, journeys, rules) to keep each file to one
question; like it, nothing here opens a database session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from ibis.backends import BaseBackend

from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.insights.analyses import store_table as _table
from cxloop.insights.schemas import InsightReport, report
from cxloop.insights.service import open_backend, resolve_as_of

OUTCOMES = {
    "churn": ("churned", "binary"),
    "repurchase": ("repurchased", "binary"),
    "orders": ("orders_after", "count"),
    "spend": ("spend_after", "amount"),
}
"""Outcome name → (frame column, kind)."""
DEFAULT_CONFOUNDERS = {
    "churn": ("segment", "followup_days", "orders_before", "tenure_days", "plan"),
    "repurchase": ("segment", "orders_before", "tenure_days"),
    "orders": ("segment", "orders_before", "tenure_days"),
    "spend": ("segment", "spend_before", "tenure_days"),
}
"""What each outcome is adjusted for unless the analyst names other confounders: who the
customer is, how they behaved before, and (for churn) how long they were watched."""
MAX_TOPICS = 15


def _exposures(backend: BaseBackend, min_customers: int, end: dt.datetime) -> list[Any]:
    """Negative mentions of each topic said by at least ``min_customers`` customers (the most
    said first, at most ``MAX_TOPICS``), plus detractors vs promoters."""
    from cxloop.insights.frames import Exposure

    f = _table(backend, "feedback", "feedback")
    t = _table(backend, "feedback_topic", "feedback with text")
    said = (
        f.filter(f.customer_id.notnull(), f.created_at <= end)
        .select("feedback_id", "customer_id")
        .join(t.filter(t.sentiment == "negative").select("feedback_id", "topic"), "feedback_id")
    )
    counts = said.group_by("topic").aggregate(customers=said.customer_id.nunique()).to_pandas()
    counts = counts[counts["customers"] >= min_customers].sort_values(
        ["customers", "topic"], ascending=[False, True]
    )
    topics = counts["topic"].head(MAX_TOPICS).tolist()
    exposures = [Exposure(topic, topic=topic, sentiment="negative") for topic in topics]
    return [*exposures, Exposure("detractor vs promoter", nps_group="detractor", versus="promoter")]


def outcomes(
    *,
    settings: Settings,
    outcome: str = "churn",
    confounders: Sequence[str] | None = None,
    method: str = "regression",
    window_days: int = 90,
    min_customers: int = 30,
    n_boot: int = 200,
    as_of: dt.datetime | None = None,
) -> InsightReport:
    """What saying each topic (negatively) does to churn, repurchase, orders or spend after
    the feedback, adjusted for the named confounders, with the crude figure beside it."""
    from cxloop.insights.frames import (
        churn_outcome,
        customer_voice_frame,
        order_outcome,
        with_customers,
    )
    from cxloop.insights.outcomes import outcome_effects

    if outcome not in OUTCOMES:
        raise Invalid(f"is not one of: {', '.join(OUTCOMES)}", "outcome", outcome)
    column, kind = OUTCOMES[outcome]
    with open_backend(settings) as backend:
        end = resolve_as_of(backend, as_of)
        exposures = _exposures(backend, min_customers, end)
        frame = customer_voice_frame(
            backend.table("feedback"),
            exposures=exposures,
            feedback_topic=backend.table("feedback_topic"),
            end=end,
        )
        frame = with_customers(frame, _table(backend, "customers", "customers"))
        frame = order_outcome(
            frame, _table(backend, "orders", "orders"), observed_until=end, window_days=window_days
        )
        if outcome == "churn":
            frame = churn_outcome(
                frame, _table(backend, "subscriptions", "subscriptions"), observed_until=end
            )
        data = frame.execute()
    adjust = list(confounders) if confounders is not None else list(DEFAULT_CONFOUNDERS[outcome])
    missing = [c for c in adjust if c not in data.columns]
    if missing:
        raise Invalid(
            f"is not a column of the voice × behaviour frame ({', '.join(sorted(data.columns))})",
            "confounders",
            missing,
        )
    value = "plan_amount" if outcome == "churn" else "spend_before"
    result = outcome_effects(
        data,
        outcome=column,
        kind=kind,  # type: ignore[arg-type]
        confounders=adjust,
        method=method,  # type: ignore[arg-type]
        value_col=value,
        n_boot=n_boot,
    )
    return report(
        "outcomes",
        result.table,
        n=result.n,
        method=result.method,
        caveats=result.caveats,
        details={
            "outcome": column,
            "window_days": None if outcome == "churn" else window_days,
            "confounders": adjust,
            "as_of": end,
            "value_at_stake_from": value,
        },
    )


def churner_topics(
    *, settings: Settings, min_customers: int = 30, as_of: dt.datetime | None = None
) -> InsightReport:
    """The reverse question: what did members who cancelled say before, vs those who stayed."""
    from cxloop.insights.frames import churn_outcome, customer_voice_frame
    from cxloop.insights.outcomes import churner_topics as said_before

    with open_backend(settings) as backend:
        end = resolve_as_of(backend, as_of)
        exposures = [e for e in _exposures(backend, min_customers, end) if e.topic]
        if not exposures:
            raise Invalid(
                f"no topic was said negatively by {min_customers} or more customers",
                "min_customers",
                min_customers,
            )
        frame = customer_voice_frame(
            backend.table("feedback"),
            exposures=exposures,
            feedback_topic=backend.table("feedback_topic"),
            end=end,
        )
        data = churn_outcome(
            frame, _table(backend, "subscriptions", "subscriptions"), observed_until=end
        ).execute()
    result = said_before(data, [e.name for e in exposures])
    return report(
        "churner_topics",
        result.table,
        n=result.n,
        method=result.method,
        caveats=result.caveats,
        details={"as_of": end},
    )


def account_churn_voice(
    *, settings: Settings, role: str = "decision_maker", confidence: float = 0.95
) -> InsightReport:
    """B2B: what one role (decision makers by default) scored at accounts whose contract then
    ended without renewal, against accounts that renewed — one mean NPS per account, so a
    talkative account counts once, compared by Welch's t-test."""
    import numpy as np

    from cxloop.metrics.compare import mean_difference

    with open_backend(settings) as backend:
        as_of = resolve_as_of(backend, None)
        subs = _table(backend, "subscriptions", "subscriptions (contracts)")
        contracts = (
            subs.filter(subs.account_id.notnull())
            .select("account_id", "started_at", "ended_at", "renewed")
            .to_pandas()
        )
        f = _table(backend, "feedback", "feedback")
        c = _table(backend, "contacts", "contacts")
        answers = (
            f.filter(f.nps.notnull(), f.contact_id.notnull())
            .select("account_id", "contact_id", "nps", "created_at")
            .join(c.filter(c.role == role).select("contact_id"), "contact_id")
            .to_pandas()
        )
    if contracts.empty:
        raise Invalid("no account has a contract (a subscription with account_id)", "role", role)
    contracts = contracts.sort_values(["account_id", "started_at"])
    ended = pd.to_datetime(contracts["ended_at"])
    contracts["running"] = ended.isna() | (ended > pd.Timestamp(as_of))  # as subscription_state
    by_account = contracts.groupby("account_id")
    last_renewed = by_account["renewed"].last().astype("boolean")
    state = pd.DataFrame(
        {
            "churned": ~by_account["running"].any() & (last_renewed != True),  # noqa: E712
            "ended_at": by_account["ended_at"].max(),
        }
    )
    answers = answers.join(state, on="account_id", how="inner")
    # what they said before leaving: a churned account's answers after its end are left out
    before_end = ~answers["churned"] | (
        pd.to_datetime(answers["created_at"]) <= pd.to_datetime(answers["ended_at"])
    )
    answers = answers[before_end]
    means = answers.groupby("account_id").agg(
        mean=("nps", "mean"), size=("nps", "size"), churned=("churned", "first")
    )
    rows, sums = [], {}
    for label, flag in (("renewed", False), ("churned", True)):
        part = means[means["churned"] == flag]
        values = part["mean"].to_numpy(dtype="float64")
        sums[label] = (float(values.sum()), float((values**2).sum()), len(values))
        rows.append(
            {
                "group": label,
                "accounts": len(part),
                "answers": int(part["size"].sum()),
                "mean_nps": float(values.mean()) if len(values) else float("nan"),
            }
        )
    result = mean_difference(*sums["renewed"], *sums["churned"], confidence=confidence)
    caveats = [
        f"one mean {role} NPS per account; accounts without a {role} answer are left out",
        "descriptive: what they said before the contract ended, not why it ended",
    ]
    if min(sums["renewed"][2], sums["churned"][2]) < 10:
        caveats.append("fewer than 10 accounts in a group: the interval is wide")
    return report(
        "account_churn_voice",
        pd.DataFrame(rows),
        n=len(means),
        method=f"{result.method}, churned − renewed, on per-account means",
        caveats=caveats,
        details={
            "role": role,
            "difference": result.difference,
            "ci_low": result.ci_low,
            "ci_high": result.ci_high,
            "p_value": result.p_value if np.isfinite(result.p_value) else None,
        },
    )
