"""The overview's parts that do not come from feedback: the survey response rate (sent against
answered) and the stored metric targets with their status."""

from __future__ import annotations

import math

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.dashboards.overview_schemas import ResponseRate
from cxloop.metrics.intervals import wilson_interval
from cxloop.metrics.target_store import target_status
from cxloop.metrics.targets import TargetStatusRow
from cxloop.surveys.tracking import invitation_frame


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def response_rate(*, session: Session, confidence: float, min_n: int) -> ResponseRate:
    """Invitations of every survey: how many were sent, delivered and answered, and the rate
    completed / delivered with its Wilson interval (as ``surveys.rates.response_rate`` counts
    it, from the same step flags ``cxloop surveys rates`` reads)."""
    frame = invitation_frame(session=session)
    invited = len(frame)
    if invited == 0:
        return ResponseRate(
            surveys_sent=False, invited=0, sent=0, delivered=0, completed=0, score=None,
            ci_low=None, ci_high=None, small_n=True,
            note="No surveys sent: the response rate needs survey invitations.",
        )  # fmt: skip
    sent = int(frame["sent"].sum())
    delivered = int(frame["delivered"].sum())
    completed = int(((frame["delivered"] > 0) & (frame["completed"] > 0)).sum())
    share, low, high = wilson_interval([completed], [delivered], confidence=confidence)
    note = (
        f"{completed} of {delivered} delivered invitations answered ({sent} sent, "
        f"{invited} invited, all surveys)."
        if delivered
        else f"No invitation delivered yet ({invited} invited, {sent} sent)."
    )
    return ResponseRate(
        surveys_sent=sent > 0,
        invited=invited,
        sent=sent,
        delivered=delivered,
        completed=completed,
        score=_finite(share[0]),
        ci_low=_finite(low[0]),
        ci_high=_finite(high[0]),
        small_n=delivered < min_n,
        note=note,
    )


def target_rows(
    *, session: Session, settings: Settings, min_n: int, confidence: float
) -> list[TargetStatusRow]:
    """Every stored target judged on its current value (``cxloop metrics targets status``)."""
    return target_status(
        session=session, settings=settings, min_n=min_n, confidence=confidence
    ).rows
