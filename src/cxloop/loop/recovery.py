"""Recovery: did the detractors the loop worked on come back happier, and did they stay?

Pure (pandas and Ibis memtables; no store). A detractor case (one with an attached answer of
NPS 0–6) is **recovered** when the customer's next NPS answer after the case's resolution is
passive or promoter (7–10); with no answer since, it is neither (counted as "no next answer",
left out of the rate). Churn of recovered against unrecovered detractors reuses the insights
code: ``frames.with_customers`` and ``frames.churn_outcome`` build the customer frame (anchored
at the next answer, when recovery became known) and ``outcomes.outcome_effects`` gives the
crude and the adjusted (g-computation) difference with a bootstrap interval.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ibis
import pandas as pd
from pydantic import BaseModel, ConfigDict

from cxloop.insights.frames import churn_outcome, with_customers
from cxloop.insights.outcomes import MIN_ADJUSTED_ARM, outcome_effects
from cxloop.loop.health import SOLVED_FROM

CONFOUNDERS = ("segment", "tenure_days", "plan_amount", "followup_days")
"""Adjusted for: segment, tenure (signup to anchor), value (the subscription's amount) and the
days each customer was watched (anchors differ, the churn window is open-ended)."""


@dataclass(frozen=True)
class Answer:
    """One NPS answer of a customer (times naive UTC, as stored)."""

    customer_id: str
    at: dt.datetime
    nps: int


def next_answers(
    resolved: Mapping[int, tuple[str, dt.datetime]], answers: Iterable[Answer]
) -> dict[int, Answer | None]:
    """Case id → the customer's first answer after the case's resolution (None: none yet).

    ``resolved``: case id → (customer id, resolved at). An answer at the very moment of the
    resolution is not after it.
    """
    by_customer: dict[str, list[Answer]] = {}
    for answer in answers:
        by_customer.setdefault(answer.customer_id, []).append(answer)
    for found in by_customer.values():
        found.sort(key=lambda a: a.at)
    out: dict[int, Answer | None] = {}
    for case_id, (customer, at) in resolved.items():
        found = by_customer.get(customer, [])
        index = bisect.bisect_right([a.at for a in found], at)
        out[case_id] = found[index] if index < len(found) else None
    return out


class ChurnComparison(BaseModel):
    """Churn of recovered against unrecovered detractors, one row per customer: crude shares,
    the adjusted difference (recovered − unrecovered) with its interval, and what it means."""

    model_config = ConfigDict(frozen=True)

    n: int
    n_recovered: int
    n_unrecovered: int
    churn_recovered: float | None = None
    churn_unrecovered: float | None = None
    crude: float | None = None
    crude_ci_low: float | None = None
    crude_ci_high: float | None = None
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    confounders: list[str]
    too_few: bool
    verdict: str
    method: str = ""
    caveats: list[str] = []


def customer_rows(cases: Iterable[tuple[str, Answer]]) -> pd.DataFrame:
    """One row per customer (``customer_id``, ``exposure``, ``exposed``: recovered,
    ``anchor_at``: the next answer) from (customer, next answer) pairs: a customer with several
    detractor cases is counted once, by their earliest next answer."""
    first: dict[str, Answer] = {}
    for customer, answer in cases:
        if customer not in first or answer.at < first[customer].at:
            first[customer] = answer
    return pd.DataFrame(
        {
            "customer_id": list(first),
            "exposure": "recovered",
            "exposed": [a.nps >= SOLVED_FROM for a in first.values()],
            "anchor_at": pd.to_datetime([a.at for a in first.values()]),
        },
        columns=["customer_id", "exposure", "exposed", "anchor_at"],
    )


CUSTOMER_SCHEMA = {"customer_id": "string", "segment": "string", "signed_up_at": "timestamp"}
SUBSCRIPTION_SCHEMA = {
    "customer_id": "string",
    "started_at": "timestamp",
    "ended_at": "timestamp",
    "renewed": "boolean",
    "plan": "string",
    "amount": "float64",
}
FRAME_SCHEMA = {
    "customer_id": "string",
    "exposure": "string",
    "exposed": "boolean",
    "anchor_at": "timestamp",
}


def _table(frame: pd.DataFrame, schema: dict[str, str]) -> ibis.Table:
    data = frame.reindex(columns=list(schema)).astype(object).where(frame.notna(), None)
    return ibis.memtable(data, schema=ibis.schema(schema))


def churn_of_recovered(
    rows: pd.DataFrame,
    *,
    customers: pd.DataFrame,
    subscriptions: pd.DataFrame,
    observed_until: dt.datetime,
    min_n: int = 30,
    n_boot: int = 200,
) -> ChurnComparison:
    """Churn after the next answer, recovered − unrecovered, crude and adjusted.

    ``rows`` from ``customer_rows``; ``customers`` (customer_id, segment, signed_up_at) and
    ``subscriptions`` (customer_id, started_at, ended_at, renewed, plan, amount) of those
    customers. Only customers holding a subscription at their anchor are at risk (as in
    ``cxloop insights outcomes``). Under ``min_n`` customers in an arm it says "too few";
    below ``outcomes.MIN_ADJUSTED_ARM`` only the crude difference is given.
    """
    if rows.empty or subscriptions.empty:
        what = (
            "no resolved detractor case has a next answer in the period"
            if rows.empty
            else "none of their customers has a subscription stored"
        )
        return _none(0, 0, 0, f"cannot compare churn: {what}")
    frame = with_customers(_table(rows, FRAME_SCHEMA), _table(customers, CUSTOMER_SCHEMA))
    frame = churn_outcome(
        frame, _table(subscriptions, SUBSCRIPTION_SCHEMA), observed_until=observed_until
    )
    data = frame.execute()
    n1 = int(data["exposed"].sum()) if len(data) else 0
    n0 = len(data) - n1
    if min(n0, n1) < 2:
        return _none(
            len(data),
            n1,
            n0,
            f"cannot compare churn: {n1} recovered and {n0} unrecovered detractors held a "
            "subscription at their next answer",
        )
    adjust = [c for c in CONFOUNDERS if data[c].dropna().nunique() > 1]
    result = outcome_effects(
        data, outcome="churned", kind="binary", confounders=adjust, n_boot=n_boot
    )
    row = result.table.iloc[0]
    adjusted = min(n0, n1) >= MIN_ADJUSTED_ARM
    too_few = min(n0, n1) < min_n
    return ChurnComparison(
        n=len(data),
        n_recovered=n1,
        n_unrecovered=n0,
        churn_recovered=_num(row["mean_exposed"]),
        churn_unrecovered=_num(row["mean_unexposed"]),
        crude=_num(row["crude"]),
        crude_ci_low=_num(row["crude_ci_low"]),
        crude_ci_high=_num(row["crude_ci_high"]),
        estimate=_num(row["estimate"]) if adjusted else None,
        ci_low=_num(row["ci_low"]) if adjusted else None,
        ci_high=_num(row["ci_high"]) if adjusted else None,
        p_value=_num(row["p_value"]) if adjusted else None,
        confounders=adjust,
        too_few=too_few,
        verdict=_verdict(row, adjusted, too_few, n1, n0, min_n),
        method=result.method,
        caveats=[
            f"observational: adjusted for {', '.join(adjust) or 'nothing'}; not proof that the "
            "loop kept them — recovered and unrecovered detractors may differ in ways not "
            "measured",
            *([str(row["caveats"])] if row["caveats"] else []),
        ],
    )


def _num(value: object) -> float | None:
    number = float(value) if isinstance(value, int | float) else float("nan")
    return round(number, 4) if pd.notna(number) else None


def _none(n: int, n1: int, n0: int, why: str) -> ChurnComparison:
    return ChurnComparison(
        n=n, n_recovered=n1, n_unrecovered=n0, confounders=[], too_few=True, verdict=why
    )


def _verdict(row: pd.Series, adjusted: bool, too_few: bool, n1: int, n0: int, min_n: int) -> str:
    """The answer to "does the loop keep customers?" in one sentence."""
    low, high = (
        (row["ci_low"], row["ci_high"]) if adjusted else (row["crude_ci_low"], row["crude_ci_high"])
    )
    kind = "adjusted" if adjusted else "crude (too few to adjust)"
    estimate = row["estimate"] if adjusted else row["crude"]
    if pd.isna(estimate):
        return f"cannot compare churn: no estimate from {n1} recovered and {n0} unrecovered"
    if pd.isna(low) or pd.isna(high):  # a bootstrap of a tiny or one-valued group
        shown = f"{100 * estimate:+.1f} pts, no interval ({kind})"
        return f"too few to tell ({n1} recovered, {n0} unrecovered): {shown}"
    shown = (
        f"{100 * estimate:+.1f} pts, 95 % interval {100 * low:+.1f} to {100 * high:+.1f} ({kind})"
    )
    if too_few:
        return f"too few to tell ({n1} recovered, {n0} unrecovered; {min_n} each needed): {shown}"
    if high < 0:
        return f"recovered detractors churned less: {shown}"
    if low > 0:
        return f"recovered detractors churned more: {shown}"
    return f"no clear difference in churn: {shown}"
