"""The insights service's voice × behaviour reports over the store: what a complaint or praise
of a topic, an intent, a flag or a low NPS does to churn, orders or spend afterwards, what
churned members said before leaving, and what B2B decision makers scored before their account
churned. Empty analyses are refused with the reason (``Invalid``), never an empty table.

Split from ``analyses.py`` (drivers, CLV, segments, journeys, rules) to keep each file to one
question; like it, nothing here opens a database session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, get_args

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.insights import profiles
from cxloop.insights.analyses import store_table as _table
from cxloop.insights.frames import RENEWAL_GAP_DAYS
from cxloop.insights.profiles import renewed_for_sure
from cxloop.insights.schemas import InsightReport, report
from cxloop.insights.service import open_backend, resolve_as_of
from cxloop.metrics.filters import Scope
from cxloop.text.schemas import FlagName

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
MAX_TOPICS = 12
"""At most this many topics said negatively, and as many said positively (the most said)."""
TOPIC_SENTIMENTS = {"negative": "complaint", "positive": "praise"}
"""A topic said with this sentiment is an exposure of this kind."""
FLAGS = get_args(FlagName)


def _voice(backend: BaseBackend, scope: Scope | None) -> ir.Table:
    """The feedback in ``scope`` (its window and where conditions; a where value matching no
    stored value is refused with close matches), or all of it."""
    if scope is None or scope.empty:
        return _table(backend, "feedback", "feedback")
    from cxloop.metrics.service import check_scope, scoped_feedback

    check_scope(backend, scope)
    return scoped_feedback(backend, scope)


def _words(scope: Scope | None) -> str:
    """`` in scope (…)`` for messages, empty without a scope."""
    return f" in scope ({scope.describe()})" if scope is not None and not scope.empty else ""


def _linked(feedback: ir.Table, end: dt.datetime) -> ir.Table:
    """Feedback linked to a customer before ``end``: what outcome frames are built from."""
    return feedback.filter(feedback.customer_id.notnull(), feedback.created_at < end)


def _flags(backend: BaseBackend) -> ir.Table:
    """(feedback_id, flag): one row per flag a feedback raised, found in the engine by the
    flag's quoted name in the stored JSON (portable; no JSON functions differ by engine)."""
    text = backend.table("feedback_text")
    as_text = text.flags.cast("string")
    parts = [
        text.filter(as_text.contains(f'"{flag}"')).select("feedback_id", flag=ibis.literal(flag))
        for flag in FLAGS
    ]
    return ibis.union(*parts, distinct=False)


def _said_by(rows: ir.Table, column: str, min_customers: int) -> pd.DataFrame:
    """Customers per value of ``column`` (and sentiment, for topics), those said by enough."""
    keys = [column, "sentiment"] if column == "topic" else [column]
    counts = rows.group_by(keys).aggregate(customers=rows.customer_id.nunique()).to_pandas()
    counts = counts[counts["customers"] >= min_customers]
    return counts.sort_values(["customers", column], ascending=[False, True])


def _exposures(
    backend: BaseBackend, feedback: ir.Table, min_customers: int, end: dt.datetime
) -> list[Any]:
    """What customers said, as exposures, each said by at least ``min_customers`` customers:
    topics said negatively (complaints) and positively (praise), at most ``MAX_TOPICS`` of
    each, the most said first; intents; flags (churn intent, escalation, safety); and
    detractors vs promoters when NPS was asked."""
    from cxloop.insights.frames import Exposure

    rows = _linked(feedback, end).select("feedback_id", "customer_id", "nps")
    topics = _table(backend, "feedback_topic", "feedback with text")
    topics = topics.filter(topics.sentiment.isin(list(TOPIC_SENTIMENTS)))
    said = _said_by(
        rows.join(topics.select("feedback_id", "topic", "sentiment"), "feedback_id"),
        "topic",
        min_customers,
    )
    found = [
        Exposure(f"{topic} {sentiment}", topic=topic, sentiment=sentiment)
        for sentiment in TOPIC_SENTIMENTS
        for topic in said.loc[said["sentiment"] == sentiment, "topic"].head(MAX_TOPICS)
    ]
    text = backend.table("feedback_text").select("feedback_id", "intent")
    intents = rows.join(text.filter(text.intent != "none"), "feedback_id")
    found += [
        Exposure(f"intent: {intent}", intent=intent)
        for intent in _said_by(intents, "intent", min_customers)["intent"]
    ]
    flags = rows.join(_flags(backend), "feedback_id")
    found += [
        Exposure(f"flag: {flag}", flag=flag)
        for flag in _said_by(flags, "flag", min_customers)["flag"]
    ]
    if int(rows.filter(rows.nps.notnull()).count().execute()):
        found.append(Exposure("detractor vs promoter", nps_group="detractor", versus="promoter"))
    return found


def exposure_kind(exposure: Any) -> str:
    """The kind of an exposure in words: complaint, praise, intent, flag or nps group."""
    if exposure.topic is not None:
        return TOPIC_SENTIMENTS.get(str(exposure.sentiment), "topic")
    return "intent" if exposure.intent else "flag" if exposure.flag else "nps group"


def _frame(
    backend: BaseBackend,
    feedback: ir.Table,
    exposures: Sequence[Any],
    *,
    outcome: str,
    window_days: int,
    end: dt.datetime,
) -> pd.DataFrame:
    """The voice × behaviour frame of every exposure, one query per kind of exposure (SQLite's
    parser overflows on one query joining topics, intents and flags at once)."""
    from cxloop.insights.frames import (
        churn_outcome,
        customer_voice_frame,
        order_outcome,
        with_customers,
    )

    parts = []
    for kind in ("topic", "intent", "flag"):
        group = [e for e in exposures if getattr(e, kind) is not None]
        if kind == "topic":
            group += [e for e in exposures if e.nps_group is not None]
        if not group:
            continue
        frame = customer_voice_frame(
            feedback,
            exposures=group,
            feedback_topic=backend.table("feedback_topic"),
            feedback_text=backend.table("feedback_text"),
            feedback_flag=_flags(backend) if kind == "flag" else None,
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
        parts.append(frame.execute())
    filled = [p for p in parts if len(p)]
    return pd.concat(filled, ignore_index=True) if len(filled) > 1 else (filled or parts)[0]


def _check_store(
    backend: BaseBackend, feedback: ir.Table, outcome: str, end: dt.datetime, scope: str
) -> list[str]:
    """Refuses, with the reason, a store the outcome cannot be measured on; returns caveats
    about how renewal was read."""
    rows = _linked(feedback, end)
    if not int(rows.count().execute()):
        raise Invalid(
            f"no feedback{scope} is linked to a customer before as-of {end:%Y-%m-%d}: outcomes "
            "follow customers, so feedback needs a customer id (or an email, phone or member id "
            "that identifies one)",
            "feedback",
            None,
        )
    if outcome != "churn":
        o = profiles.counted(_table(backend, "orders", "orders"))
        if not int(o.filter(o.ordered_at < end).count().execute()):
            raise Invalid(
                f"no counted orders of known customers before as-of {end:%Y-%m-%d}: the "
                f"{outcome} outcome is measured on orders (import orders with a customer id)",
                "orders",
                None,
            )
        return []
    s = _table(backend, "subscriptions", "subscriptions")
    s = s.filter(s.customer_id.notnull(), s.started_at < end)
    ended = s.filter(s.ended_at.notnull(), s.ended_at < end)
    counts = ended.aggregate(ended=ended.count(), unknown=ended.renewed.isnull().sum()).execute()
    if not int(s.count().execute()):
        raise Invalid(
            f"no subscriptions of known customers started before as-of {end:%Y-%m-%d}: churn is "
            "an ended subscription (import subscriptions with a customer id)",
            "subscriptions",
            None,
        )
    unknown = int(counts["unknown"].iloc[0] or 0)
    if not unknown:
        return []
    return [
        f"renewal unknown for {unknown:,} of {int(counts['ended'].iloc[0]):,} ended subscriptions: "
        f"each counts as churn unless the customer held another subscription within "
        f"{RENEWAL_GAP_DAYS} days of its end"
    ]


def _why_empty(
    feedback: ir.Table, outcome: str, window_days: int, end: dt.datetime, scope: str
) -> Invalid:
    """Why a frame came back without rows, in a sentence naming the setting to change."""
    rows = _linked(feedback, end)
    span = rows.aggregate(first=rows.created_at.min(), last=rows.created_at.max()).execute()
    first, last = (pd.Timestamp(span[c].iloc[0]) for c in ("first", "last"))
    latest = end - dt.timedelta(days=window_days)
    if first > pd.Timestamp(latest):
        return Invalid(
            f"no customer has a full {window_days}-day follow-up window before as-of "
            f"{end:%Y-%m-%d}: the feedback{scope} linked to customers runs from "
            f"{first:%Y-%m-%d} to {last:%Y-%m-%d}, none of it on or before {latest:%Y-%m-%d}; "
            "use a shorter --window or a later --as-of",
            "window_days",
            window_days,
        )
    if outcome == "churn":
        return Invalid(
            f"no customer heard from by {latest:%Y-%m-%d} held a subscription when they spoke "
            "(every subscription of theirs had ended before, or none is stored)",
            "subscriptions",
            None,
        )
    return Invalid("no customer heard from has a row to compare", "window_days", window_days)


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
    scope: Scope | None = None,
) -> InsightReport:
    """What saying something — a complaint or praise of a topic, an intent, a flag, a low NPS —
    does to churn, repurchase, orders or spend after the feedback, adjusted for the named
    confounders, with the crude figure beside it. ``scope`` narrows the feedback read (its
    window and who answered); outcomes are followed up to ``as_of`` (default: the data's end)."""
    from cxloop.insights.outcomes import outcome_effects

    if outcome not in OUTCOMES:
        raise Invalid(f"is not one of: {', '.join(OUTCOMES)}", "outcome", outcome)
    column, kind = OUTCOMES[outcome]
    with open_backend(settings) as backend:
        end = resolve_as_of(backend, as_of)
        feedback, words = _voice(backend, scope), _words(scope)
        notes = _check_store(backend, feedback, outcome, end, words)
        exposures = _exposures(backend, feedback, min_customers, end)
        if not exposures:
            raise Invalid(
                f"no topic, intent or flag was said{words} by {min_customers} or more customers "
                f"before as-of {end:%Y-%m-%d}, and no NPS was asked: lower --min-customers",
                "min_customers",
                min_customers,
            )
        data = _frame(
            backend, feedback, exposures, outcome=outcome, window_days=window_days, end=end
        )
        if data.empty:
            raise _why_empty(feedback, outcome, window_days, end, words)
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
        exposures=[e.name for e in exposures],
        outcome=column,
        kind=kind,  # type: ignore[arg-type]
        confounders=adjust,
        method=method,  # type: ignore[arg-type]
        value_col=value,
        n_boot=n_boot,
    )
    table = result.table
    table.insert(1, "exposure_kind", [exposure_kind(e) for e in exposures])
    return report(
        "outcomes",
        table,
        n=int(data["customer_id"].nunique()),  # customers, not rows over exposures
        method=result.method,
        caveats=[*result.caveats, *notes],
        details={
            "outcome": column,
            "window_days": None if outcome == "churn" else window_days,
            "confounders": adjust,
            "as_of": end,
            "scope": scope.describe() if scope else "all data",
            "value_at_stake_from": value,
        },
    )


def churner_topics(
    *,
    settings: Settings,
    min_customers: int = 30,
    as_of: dt.datetime | None = None,
    scope: Scope | None = None,
) -> InsightReport:
    """The reverse question: what did members who cancelled say before (complaints, praise,
    intents, flags), vs those who stayed."""
    from cxloop.insights.frames import churn_outcome, customer_voice_frame
    from cxloop.insights.outcomes import churner_topics as said_before

    with open_backend(settings) as backend:
        end = resolve_as_of(backend, as_of)
        feedback, words = _voice(backend, scope), _words(scope)
        notes = _check_store(backend, feedback, "churn", end, words)
        found = _exposures(backend, feedback, min_customers, end)
        exposures = [e for e in found if not e.nps_group]
        if not exposures:
            raise Invalid(
                f"no topic, intent or flag was said by {min_customers} or more customers before "
                f"as-of {end:%Y-%m-%d}: lower --min-customers",
                "min_customers",
                min_customers,
            )
        parts = []
        for kind in ("topic", "intent", "flag"):
            group = [e for e in exposures if getattr(e, kind) is not None]
            if group:
                frame = customer_voice_frame(
                    feedback,
                    exposures=group,
                    feedback_topic=backend.table("feedback_topic"),
                    feedback_text=backend.table("feedback_text"),
                    feedback_flag=_flags(backend) if kind == "flag" else None,
                    end=end,
                )
                subs = _table(backend, "subscriptions", "subscriptions")
                parts.append(churn_outcome(frame, subs, observed_until=end).execute())
    filled = [p for p in parts if len(p)]
    if not filled:
        raise Invalid(
            f"no customer heard from before as-of {end:%Y-%m-%d} held a subscription when they "
            "spoke (every subscription of theirs had ended before, or none is stored)",
            "subscriptions",
            None,
        )
    data = pd.concat(filled, ignore_index=True)
    result = said_before(data, [e.name for e in exposures])
    return report(
        "churner_topics",
        result.table,
        n=int(data["customer_id"].nunique()),  # customers, not rows over exposures
        method=result.method,
        caveats=[*result.caveats, *notes],
        details={"as_of": end, "scope": scope.describe() if scope else "all data"},
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
    last = contracts.groupby("account_id").tail(1).set_index("account_id")
    state = pd.DataFrame(
        {
            # unknown renewal of the last contract, with none running, is churn (as for members)
            "churned": ~by_account["running"].any() & ~renewed_for_sure(last["renewed"]),
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
