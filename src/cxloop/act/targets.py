"""Apply a target query to customer profiles: pure, so preview, refresh and tests agree.

``profiles`` has one row per customer: ``customer_id``, ``segment``, ``region``, ``value``,
``churned``, ``churn_risk``, ``last_nps``, ``last_order_at``. ``mentions`` has one row per
feedback × topic: ``feedback_id``, ``customer_id``, ``topic``, ``sentiment``, ``created_at``.
Members keep the feedback ids and topics that met a topic condition (``feedback_ids``,
``topics``), so whoever acts on the list can read what the customer said.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from cxloop.act.schemas import TargetQuery, TopicMention
from cxloop.insights.frames import NPS_GROUPS

MEMBER_COLUMNS = ("customer_id", "segment", "region", "value", "churn_risk", "last_nps")
MENTION_COLUMNS = ["feedback_id", "customer_id", "topic", "sentiment", "created_at"]


@dataclass(frozen=True)
class Selection:
    """The customers a query selects, how many each condition left, and what to watch for."""

    members: pd.DataFrame
    steps: list[tuple[str, int]]
    caveats: list[str]


def nps_group(score: pd.Series) -> pd.Series:
    """detractor 0–6, passive 7–8, promoter 9–10 (``NPS_GROUPS``); missing stays missing."""
    groups = pd.Series(pd.NA, index=score.index, dtype="object")
    for name, (low, high) in NPS_GROUPS.items():
        groups[(score >= low) & (score <= high)] = name
    return groups


def _mentioned(mentions: pd.DataFrame, want: TopicMention, as_of: dt.datetime) -> pd.DataFrame:
    """The mentions of ``want.topic`` or a topic below it, in the window before as_of."""
    topic = mentions["topic"].astype(str)
    hit = (topic == want.topic) | topic.str.startswith(want.topic.rstrip("/") + "/")
    if want.sentiment != "any":
        hit &= mentions["sentiment"] == want.sentiment
    since = pd.Timestamp(as_of) - pd.Timedelta(days=want.within_days)
    created = pd.to_datetime(mentions["created_at"])
    hit &= (created > since) & (created <= pd.Timestamp(as_of))
    return mentions.loc[hit]


def _member_of(who: set[str]) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda p: p["customer_id"].isin(who)


def _conditions(
    query: TargetQuery, mentions: pd.DataFrame, as_of: dt.datetime, hits: list[pd.DataFrame]
) -> list[tuple[str, Callable[[pd.DataFrame], pd.Series]]]:
    """Each set condition as (words, row filter), cheapest and most selective first."""
    out: list[tuple[str, Callable[[pd.DataFrame], pd.Series]]] = []
    q = query
    segments, regions = q.segments, q.regions
    if segments:
        out.append((f"segment in {segments}", lambda p: p["segment"].isin(segments)))
    if regions:
        out.append((f"region in {regions}", lambda p: p["region"].isin(regions)))
    if q.churned is not None:
        churned = q.churned
        out.append(
            (
                "churned" if churned else "not churned",
                lambda p: p["churned"].astype("boolean").fillna(False) == churned,
            )
        )
    if q.value_top_share is not None:
        share = q.value_top_share

        def top(p: pd.DataFrame) -> pd.Series:
            return p["value_rank"] <= share

        out.append((f"value in the top {share:.0%}", top))
    if q.min_value is not None:
        low = q.min_value
        out.append((f"value >= {low:g}", lambda p: p["value"].fillna(0) >= low))
    if q.nps_groups:
        groups = q.nps_groups
        out.append(
            (f"latest NPS group in {groups}", lambda p: nps_group(p["last_nps"]).isin(groups))
        )
    if q.ordered_within_days is not None:
        since = pd.Timestamp(as_of) - pd.Timedelta(days=q.ordered_within_days)
        out.append(
            (
                f"ordered in the last {q.ordered_within_days} days",
                lambda p: p["last_order_at"] > since,
            )
        )
    if q.no_order_within_days is not None:
        quiet = pd.Timestamp(as_of) - pd.Timedelta(days=q.no_order_within_days)
        out.append(
            (
                f"no order in the last {q.no_order_within_days} days",
                lambda p: ~(p["last_order_at"] > quiet),
            )
        )
    for mention in q.mentioned or []:
        found = _mentioned(mentions, mention, as_of)
        hits.append(found)
        who = set(found["customer_id"].astype(str))
        feel = "" if mention.sentiment == "any" else f" ({mention.sentiment})"
        out.append(
            (
                f"mentioned {mention.topic}{feel} in the last {mention.within_days} days",
                _member_of(who),
            )
        )
    if q.min_churn_risk is not None:
        low_risk = q.min_churn_risk
        out.append((f"churn risk > {low_risk:g}", lambda p: p["churn_risk"] > low_risk))
    if q.max_churn_risk is not None:
        high_risk = q.max_churn_risk
        out.append((f"churn risk <= {high_risk:g}", lambda p: p["churn_risk"] <= high_risk))
    return out


def describe(query: TargetQuery) -> list[str]:
    """The query's conditions in the words preview's steps use, in the order it applies them.

    >>> describe(TargetQuery(segments=["vip"], min_churn_risk=0.5))
    ["segment in ['vip']", 'churn risk > 0.5']
    """
    empty = pd.DataFrame(columns=MENTION_COLUMNS)
    return [words for words, _ in _conditions(query, empty, dt.datetime(2000, 1, 1), [])]


def select(
    profiles: pd.DataFrame, mentions: pd.DataFrame, query: TargetQuery, as_of: dt.datetime
) -> Selection:
    """The customers that meet every condition of ``query``, with the count after each one.

    >>> import pandas as pd, datetime as dt
    >>> p = pd.DataFrame({"customer_id": ["a", "b"], "segment": ["vip", "new"],
    ...     "region": ["north", "south"], "value": [100.0, 5.0], "churned": [False, False],
    ...     "churn_risk": [0.7, 0.1], "last_nps": [3.0, 9.0],
    ...     "last_order_at": pd.to_datetime(["2026-01-01", "2026-02-01"])})
    >>> m = pd.DataFrame(columns=MENTION_COLUMNS)
    >>> q = TargetQuery(value_top_share=0.5, min_churn_risk=0.5)
    >>> select(p, m, q, dt.datetime(2026, 3, 1)).members["customer_id"].tolist()
    ['a']
    """
    frame = profiles.copy()
    frame["last_order_at"] = pd.to_datetime(frame["last_order_at"])
    # share of customers with a value at least this high: 0.2 = in the top 20 %
    frame["value_rank"] = frame["value"].fillna(0).rank(ascending=False, method="max") / max(
        len(frame), 1
    )
    steps = [("all customers", len(frame))]
    hits: list[pd.DataFrame] = []
    for words, keep in _conditions(query, mentions, as_of, hits):
        frame = frame[keep(frame).fillna(False).astype(bool)]
        steps.append((words, len(frame)))
    frame = _with_evidence(frame, hits)
    caveats = []
    if (query.min_churn_risk is not None or query.max_churn_risk is not None) and profiles[
        "churn_risk"
    ].isna().all():
        caveats.append("no churn scores are stored: run `cxloop insights churn` first")
    elif query.min_churn_risk is not None or query.max_churn_risk is not None:
        unscored = int(profiles["churn_risk"].isna().sum())
        if unscored:
            caveats.append(f"{unscored} customers have no churn score and cannot match on it")
    if query.mentioned and mentions.empty:
        caveats.append("no topic mentions are stored: import feedback with text first")
    members = frame.sort_values(["churn_risk", "value"], ascending=False, na_position="last")
    return Selection(members.drop(columns="value_rank"), steps, caveats)


def _with_evidence(frame: pd.DataFrame, hits: list[pd.DataFrame]) -> pd.DataFrame:
    """Each member's qualifying feedback ids (newest first) and topics, as lists; empty lists
    when the query has no topic condition."""
    found = pd.concat(hits) if hits else pd.DataFrame(columns=MENTION_COLUMNS)
    found = found[found["customer_id"].astype(str).isin(set(frame["customer_id"].astype(str)))]
    found = found.assign(created_at=pd.to_datetime(found["created_at"])).sort_values(
        ["created_at", "feedback_id"], ascending=False
    )
    ids: dict[str, list[str]] = {}
    topics: dict[str, list[str]] = {}
    for customer, feedback, topic in zip(
        found["customer_id"].astype(str),
        found["feedback_id"].astype(str),
        found["topic"].astype(str),
        strict=True,
    ):
        if feedback not in ids.setdefault(customer, []):
            ids[customer].append(feedback)
        if topic not in topics.setdefault(customer, []):
            topics[customer].append(topic)
    keys = frame["customer_id"].astype(str)
    return frame.assign(
        feedback_ids=pd.Series([ids.get(k, []) for k in keys], index=frame.index, dtype=object),
        topics=pd.Series([topics.get(k, []) for k in keys], index=frame.index, dtype=object),
    )
