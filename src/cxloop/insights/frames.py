"""Per-customer voice × behaviour tables, built in Ibis so the heavy joins run on the engine.

The frame is *long*: one row per customer and exposure (``customer_id``, ``exposure``,
``exposed``, ``anchor_at``), because every exposure has its own anchor, the moment from which its
outcome is counted:

* a customer who said it (mentioned the topic, with the sentiment if one is asked; gave that
  intent; answered in that NPS group) is anchored at the **first** feedback that said it;
* a customer who did not is anchored at their **first feedback in the period** (the comparable
  moment: the time they were first heard), so both groups are "customers we heard from", and
  nobody's outcome is counted before the voice that classed them;
* NPS groups are anchored at the customer's first survey answer in the period, for both sides.

Outcome builders (``order_outcome``, ``churn_outcome``) add what happened in a window *after*
each row's anchor, and confounders measured *up to* the anchor (orders and spend before, tenure,
segment, plan). Every window is compared in epoch seconds (SQLite before 3.46 cannot add
intervals), counts are cast to int64 and money to float64, so SQLite, PostgreSQL and DuckDB give
the same table. Nothing executes here: each function returns an Ibis expression.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from cxloop.errors import Invalid, Problem
from cxloop.insights.profiles import counted

DAY_SECONDS = 86_400
NPS_GROUPS = {"detractor": (0, 6), "passive": (7, 8), "promoter": (9, 10)}
"""NPS answer ranges of each group (inclusive)."""
KEY = ("customer_id", "exposure")
FRAME_COLUMNS = ("customer_id", "exposure", "exposed", "anchor_at")
RENEWAL_GAP_DAYS = 7
"""A subscription of unknown renewal followed within this many days by another one of the same
customer (or overlapped by one still running) was renewed or changed, not churned."""


@dataclass(frozen=True)
class Exposure:
    """What a customer said that may matter: a topic (optionally with its sentiment: a complaint
    when negative, praise when positive), an intent, a flag (churn intent, escalation…), or an
    NPS group. ``versus`` names the NPS group to compare with; customers in neither group are
    left out of that comparison (e.g. passives when detractors meet promoters)."""

    name: str
    topic: str | None = None
    sentiment: str | None = None
    intent: str | None = None
    nps_group: str | None = None
    versus: str | None = None
    flag: str | None = None

    def problems(self) -> list[Problem]:
        """Every rule this exposure breaks (empty when it is well formed)."""
        found = []
        kinds = [x for x in (self.topic, self.intent, self.flag, self.nps_group) if x is not None]
        if len(kinds) != 1:
            found.append(
                Problem(self.name, kinds, "needs exactly one of topic, intent, flag, nps_group")
            )
        for group in (self.nps_group, self.versus):
            if group is not None and group not in NPS_GROUPS:
                found.append(Problem(self.name, group, f"is not one of {sorted(NPS_GROUPS)}"))
        if self.versus is not None and self.nps_group is None:
            found.append(Problem(self.name, self.versus, "versus needs an nps_group"))
        if self.sentiment is not None and self.topic is None:
            found.append(Problem(self.name, self.sentiment, "sentiment needs a topic"))
        return found


def _seconds(value: ir.TimestampValue) -> ir.IntegerValue:
    return value.epoch_seconds().cast("int64")


def _period(feedback: ir.Table, start: dt.datetime | None, end: dt.datetime | None) -> ir.Table:
    """Feedback linked to a customer, created in [start, end)."""
    rows = feedback.filter(feedback.customer_id.notnull())
    if start is not None:
        rows = rows.filter(rows.created_at >= start)
    if end is not None:
        rows = rows.filter(rows.created_at < end)
    return rows.select("feedback_id", "customer_id", "created_at", "nps")


def _rules(exposures: Sequence[Exposure], kind: str) -> ir.Table:
    """The exposures of one kind (topic, intent or flag) as a small table the engine joins on."""
    chosen = [e for e in exposures if getattr(e, kind) is not None]
    return ibis.memtable(
        {
            "exposure": [e.name for e in chosen],
            "rule_value": [str(getattr(e, kind)) for e in chosen],
            "rule_sentiment": [e.sentiment for e in chosen],
        },
        schema={"exposure": "string", "rule_value": "string", "rule_sentiment": "string"},
    )


def _said(
    exposures: Sequence[Exposure],
    kind: str,
    rows: ir.Table,
    features: ir.Table | None,
) -> ir.Table:
    """(customer_id, exposure, said_at): when each customer first said each exposure of one
    kind (a topic matches its full path or its first level). One join per kind, not one query
    per exposure, so SQLite's parser copes with many exposures."""
    if features is None:
        table = {"topic": "feedback_topic", "intent": "feedback_text"}.get(kind, "feedback_flag")
        raise Invalid(f"is needed for a {kind} exposure", table, None)
    rules = _rules(exposures, kind)
    if kind == "topic":
        topics = features.select("feedback_id", "topic", "topic_l1", "sentiment")
        match = topics.join(
            rules,
            ((topics.topic == rules.rule_value) | (topics.topic_l1 == rules.rule_value))
            & (rules.rule_sentiment.isnull() | (topics.sentiment == rules.rule_sentiment)),
        )
    else:  # intent (feedback_text) or flag (one row per feedback and flag)
        texts = features.select("feedback_id", value=features[kind])
        match = texts.join(rules, texts.value == rules.rule_value)
    said = rows.join(match.select("feedback_id", "exposure"), "feedback_id")
    return said.group_by("customer_id", "exposure").aggregate(said_at=said.created_at.min())


def _in_group(nps: ir.IntegerValue, group: str) -> ir.BooleanValue:
    low, high = NPS_GROUPS[group]
    return (nps >= low) & (nps <= high)


def _nps_rows(exposure: Exposure, rows: ir.Table) -> ir.Table:
    """Each customer's first survey answer in the period, classed by NPS group."""
    answers = rows.filter(rows.nps.notnull())
    first = answers.group_by("customer_id").aggregate(anchor_at=answers.created_at.min())
    at_first = answers.join(
        first,
        (answers.customer_id == first.customer_id) & (answers.created_at == first.anchor_at),
    )
    first_nps = at_first.group_by("customer_id", "anchor_at").aggregate(nps=at_first.nps.min())
    group = str(exposure.nps_group)
    exposed = _in_group(first_nps.nps, group)
    if exposure.versus is not None:
        first_nps = first_nps.filter(exposed | _in_group(first_nps.nps, exposure.versus))
        exposed = _in_group(first_nps.nps, group)
    return first_nps.select(
        "customer_id",
        exposure=ibis.literal(exposure.name),
        exposed=exposed,
        anchor_at=first_nps.anchor_at,
    )


def customer_voice_frame(
    feedback: ir.Table,
    *,
    exposures: Sequence[Exposure],
    feedback_topic: ir.Table | None = None,
    feedback_text: ir.Table | None = None,
    feedback_flag: ir.Table | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> ir.Table:
    """One row per customer heard from in [start, end) and exposure: was it said, and since when.

    Columns: ``customer_id``, ``exposure`` (its name), ``exposed`` (bool), ``anchor_at`` (naive
    UTC). Only feedback linked to a customer counts. See the module docstring for the anchors.
    ``feedback_flag`` (``feedback_id``, ``flag``: one row per flag a feedback raised) is needed
    for flag exposures only.

    Examples
    --------
    >>> import ibis, datetime as dt
    >>> fb = ibis.memtable({"feedback_id": ["a", "b", "c"], "customer_id": ["c1", "c1", "c2"],
    ...     "created_at": [dt.datetime(2026, 1, d) for d in (1, 5, 3)], "nps": [9, 3, 8]})
    >>> frame = customer_voice_frame(fb, exposures=[Exposure("detractor", nps_group="detractor")])
    >>> frame.order_by("customer_id").execute()[["customer_id", "exposed"]]
      customer_id  exposed
    0          c1    False
    1          c2    False
    """
    problems = [p for e in exposures for p in e.problems()]
    names = [e.name for e in exposures]
    problems += [
        Problem("exposures", n, "is named twice") for i, n in enumerate(names) if n in names[:i]
    ]
    if not exposures:
        problems.append(Problem("exposures", [], "needs at least one exposure"))
    if problems:
        raise Invalid(problems)
    rows = _period(feedback, start, end)
    parts = [_nps_rows(e, rows) for e in exposures if e.nps_group is not None]
    first_heard = rows.group_by("customer_id").aggregate(first_at=rows.created_at.min())
    kinds = (("topic", feedback_topic), ("intent", feedback_text), ("flag", feedback_flag))
    for kind, features in kinds:
        chosen = [e for e in exposures if getattr(e, kind) is not None]
        if not chosen:
            continue
        said = _said(chosen, kind, rows, features)
        named = ibis.memtable({"exposure": [e.name for e in chosen]}, schema={"exposure": "string"})
        pairs = first_heard.cross_join(named)
        joined = pairs.left_join(
            said,
            (pairs.customer_id == said.customer_id) & (pairs.exposure == said.exposure),
        )
        # exposure as known at the anchor: a customer is unexposed at their first feedback
        # unless that feedback said it, and exposed from the day they first said it; someone
        # who said it later is in both rows. Labelling "never said it" would look into the
        # future: those who leave early have less time to say anything (immortal time).
        parts.append(
            joined.filter(joined.said_at.notnull()).select(
                customer_id=joined.customer_id,
                exposure=joined.exposure,
                exposed=ibis.literal(True),
                anchor_at=joined.said_at,
            )
        )
        parts.append(
            joined.filter(joined.said_at.isnull() | (joined.said_at > joined.first_at)).select(
                customer_id=joined.customer_id,
                exposure=joined.exposure,
                exposed=ibis.literal(False),
                anchor_at=joined.first_at,
            )
        )
    return ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]


def with_customers(
    frame: ir.Table, customers: ir.Table, *, attributes: Sequence[str] = ("segment",)
) -> ir.Table:
    """Adds customer attributes and ``tenure_days`` (signup to anchor; null if unknown)."""
    missing = [a for a in (*attributes, "signed_up_at") if a not in customers.columns]
    if missing:
        raise Invalid([Problem("attributes", a, "is not a customers column") for a in missing])
    people = customers.select("customer_id", "signed_up_at", *attributes)
    joined = frame.left_join(people, "customer_id")
    tenure = (_seconds(joined.anchor_at) - _seconds(joined.signed_up_at)).cast(
        "float64"
    ) / DAY_SECONDS
    return joined.select(*frame.columns, *attributes, tenure_days=tenure)


def _window(
    stamp: ir.TimestampValue, anchor: ir.TimestampValue, window_days: int | None
) -> ir.BooleanValue:
    """``stamp`` after ``anchor`` and, with a window, at most ``window_days`` after it."""
    after = stamp > anchor
    if window_days is None:
        return after
    return after & (_seconds(stamp) - _seconds(anchor) <= window_days * DAY_SECONDS)


def _followed_up(frame: ir.Table, observed_until: dt.datetime, window_days: int | None) -> ir.Table:
    """Rows whose whole outcome window lies before ``observed_until`` (no truncated windows)."""
    if window_days is None:
        return frame.filter(frame.anchor_at < observed_until)
    until = int(observed_until.replace(tzinfo=dt.UTC).timestamp())
    return frame.filter(_seconds(frame.anchor_at) + window_days * DAY_SECONDS <= until)


def order_outcome(
    frame: ir.Table,
    orders: ir.Table,
    *,
    observed_until: dt.datetime,
    window_days: int = 90,
    lookback_days: int = 365,
) -> ir.Table:
    """Adds orders and spend in the ``window_days`` after each anchor (``orders_after``,
    ``spend_after``, ``repurchased``) and in the ``lookback_days`` up to it (``orders_before``,
    ``spend_before``, the customer's value before the voice, a confounder).

    Rows whose window would end after ``observed_until`` are dropped, so every row had the same
    time to order. Orders count as everywhere else in cxloop (``profiles.counted``: not
    cancelled or refunded).
    """
    if window_days <= 0 or lookback_days <= 0:
        raise Invalid("must be positive", "window_days", (window_days, lookback_days))
    frame = _followed_up(frame, observed_until, window_days)
    bought = counted(orders)
    bought = bought.select(
        buyer=bought.customer_id, ordered_at=bought.ordered_at, amount=bought.amount
    )
    joined = frame.left_join(bought, frame.customer_id == bought.buyer)
    after = _window(joined.ordered_at, joined.anchor_at, window_days)
    before = (joined.ordered_at <= joined.anchor_at) & (
        _seconds(joined.anchor_at) - _seconds(joined.ordered_at) < lookback_days * DAY_SECONDS
    )
    amount = joined.amount.cast("float64")
    result = joined.group_by(*frame.columns).aggregate(
        orders_after=after.ifelse(1, 0).sum().cast("int64"),
        spend_after=after.ifelse(amount, 0.0).sum().cast("float64"),
        orders_before=before.ifelse(1, 0).sum().cast("int64"),
        spend_before=before.ifelse(amount, 0.0).sum().cast("float64"),
    )
    return result.mutate(
        orders_after=result.orders_after.coalesce(0),
        spend_after=result.spend_after.coalesce(0.0),
        orders_before=result.orders_before.coalesce(0),
        spend_before=result.spend_before.coalesce(0.0),
        repurchased=(result.orders_after.coalesce(0) > 0).ifelse(1, 0).cast("int64"),
    )


def _with_continuation(subs: ir.Table, observed_until: dt.datetime) -> ir.Table:
    """Adds ``continued``: the holder had another subscription running right after this one
    ended (not ended by then, started by ``RENEWAL_GAP_DAYS`` after it, before
    ``observed_until``). A subscription never continues itself: its own end is not after it."""
    ends = subs.filter(subs.ended_at.notnull()).select(e_holder="holder", e_end="ended_at")
    ends = ends.distinct()
    nexts = subs.select(n_holder="holder", n_start="started_at", n_end="ended_at")
    link = ends.join(
        nexts,
        (ends.e_holder == nexts.n_holder)
        & (_seconds(nexts.n_start) <= _seconds(ends.e_end) + RENEWAL_GAP_DAYS * DAY_SECONDS)
        & (nexts.n_start < observed_until)
        & (nexts.n_end.isnull() | (nexts.n_end > ends.e_end)),
    )
    found = link.group_by("e_holder", "e_end").aggregate(followers=link.count())
    joined = subs.left_join(found, (subs.holder == found.e_holder) & (subs.ended_at == found.e_end))
    return joined.select(*subs.columns, continued=joined.followers.notnull())


def churn_outcome(
    frame: ir.Table,
    subscriptions: ir.Table,
    *,
    observed_until: dt.datetime,
    window_days: int | None = None,
) -> ir.Table:
    """Keeps the rows of customers holding a subscription not ended by their anchor (at risk;
    it may start later, as members join after speaking) and adds
    ``churned`` (1 when a subscription ended without renewal after the anchor, within the window;
    ``window_days=None``: up to ``observed_until``), ``plan``, ``plan_amount`` and
    ``followup_days`` (days the row was watched: anchors differ, so adjust for it when the
    window is open-ended).

    Renewal is read as exported: ``renewed`` false is churn, true is not; unknown (no
    ``renewed`` column, or blank) is churn unless the customer still held another subscription
    right after this one ended (one running then, or starting within ``RENEWAL_GAP_DAYS``: a
    renewal or plan change billed as a new subscription). A customer whose subscriptions had all
    ended before the anchor is not at risk and is left out, so a cancellation can never precede
    the voice that classed the customer.
    """
    if window_days is not None and window_days <= 0:
        raise Invalid("must be positive", "window_days", window_days)
    frame = _followed_up(frame, observed_until, window_days)
    subs = subscriptions.filter(subscriptions.customer_id.notnull())
    subs = subs.select(
        holder=subs.customer_id,
        started_at=subs.started_at,
        ended_at=subs.ended_at,
        renewed=subs.renewed,
        plan=subs.plan,
        plan_amount=subs.amount.cast("float64"),
    )
    subs = _with_continuation(subs, observed_until)
    joined = frame.join(subs, frame.customer_id == subs.holder)
    held = (joined.started_at < observed_until) & (
        joined.ended_at.isnull() | (joined.ended_at > joined.anchor_at)
    )
    joined = joined.filter(held)
    ended = _window(joined.ended_at, joined.anchor_at, window_days) & (
        joined.ended_at < observed_until
    )
    # unknown renewal is decided here, explicitly: SQL's NULL would otherwise read as "stayed"
    not_renewed = (joined.renewed == False) | (  # noqa: E712  (SQL comparison, not identity)
        joined.renewed.isnull() & ~joined.continued
    )
    lost = ended & not_renewed
    until = int(observed_until.replace(tzinfo=dt.UTC).timestamp())
    horizon = (until - _seconds(joined.anchor_at)).cast("float64") / DAY_SECONDS
    if window_days is not None:
        horizon = ibis.least(horizon, float(window_days))
    # the plan held at the anchor (a confounder must not come from after the voice); the first
    # one taken only when the customer joined after speaking
    at_anchor = joined.started_at <= joined.anchor_at
    result = joined.group_by(*frame.columns).aggregate(
        churned=lost.ifelse(1, 0).max().cast("int64"),
        plan_then=joined.plan.max(where=at_anchor),
        amount_then=joined.plan_amount.max(where=at_anchor),
        plan_later=joined.plan.max(),
        amount_later=joined.plan_amount.max(),
        followup_days=horizon.max(),
    )
    return result.select(
        *frame.columns,
        churned=result.churned,
        plan=result.plan_then.coalesce(result.plan_later),
        plan_amount=result.amount_then.coalesce(result.amount_later),
        followup_days=result.followup_days,
    )
