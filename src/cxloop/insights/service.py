"""Insights on the store: gather tables through Ibis, run the pure analyses, store churn scores.

Entry points (CLI, web) open the session and the settings; this module opens an Ibis connection
per call and closes it, and only flushes the session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend
from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete
from sqlalchemy.orm import Session

from cxloop import engines
from cxloop.config import Settings
from cxloop.db.base import utcnow
from cxloop.errors import Invalid
from cxloop.insights import profiles
from cxloop.insights.models import ChurnScore
from cxloop.insights.schemas import InsightReport, report

CHURN_HORIZON_DAYS = 90
"""Churn scoring predicts cancellation within this many days."""
PROFILE_COLUMNS = (
    "customer_id",
    "segment",
    "region",
    "value",
    "churned",
    "churn_risk",
    "last_nps",
    "last_order_at",
)
NOT_FEATURES = ("sub_active", "sub_churned", "last_order_at")
"""Columns that define the churn label, or repeat another as a timestamp: never model inputs."""


@contextmanager
def open_backend(settings: Settings) -> Iterator[BaseBackend]:
    """An Ibis connection to the store, closed on exit."""
    backend = engines.store_backend(settings)
    try:
        yield backend
    finally:
        backend.disconnect()


def resolve_as_of(backend: BaseBackend, as_of: dt.datetime | None) -> dt.datetime:
    """``as_of`` as naive UTC, or the latest activity in the store when not given."""
    if as_of is not None:
        if as_of.tzinfo is not None:
            as_of = as_of.astimezone(dt.UTC).replace(tzinfo=None)
        return as_of
    end = profiles.data_end(backend)
    if end is None:
        raise Invalid("the store has no feedback, orders or events yet", "as_of", None)
    return end


def latest_churn_scores(backend: BaseBackend) -> pd.DataFrame:
    """Each customer's most recent stored churn score (``customer_id``, ``churn_risk``,
    ``reasons``, ``model_version``, ``scored_at``), picked in the engine: one row per customer
    comes back however many models have scored them."""
    columns = ["customer_id", "churn_risk", "reasons", "model_version", "scored_at"]
    if "churn_scores" not in set(backend.list_tables()):
        return pd.DataFrame(columns=columns)
    scores = backend.table("churn_scores")
    ranked = scores.mutate(
        newest=ibis.row_number().over(
            group_by=scores.customer_id, order_by=[ibis.desc("scored_at"), "model_version"]
        )
    )
    latest = ranked.filter(ranked.newest == 0)
    return latest.select(
        "customer_id", "reasons", "model_version", "scored_at", churn_risk=latest.probability
    ).to_pandas()[columns]


def customer_profiles(
    backend: BaseBackend, *, as_of: dt.datetime | None = None
) -> tuple[pd.DataFrame, dt.datetime]:
    """One row per customer for target lists (``PROFILE_COLUMNS``) and the as-of date used."""
    when = resolve_as_of(backend, as_of)
    features = profiles.customer_features(backend, when)
    frame = features.reset_index()
    frame["churned"] = frame.get("sub_churned", pd.Series(pd.NA, index=frame.index))
    scores = latest_churn_scores(backend)[["customer_id", "churn_risk"]]
    frame = frame.merge(scores, on="customer_id", how="left")
    for column in PROFILE_COLUMNS:
        if column not in frame:
            frame[column] = pd.NA
    frame["churn_risk"] = pd.to_numeric(frame["churn_risk"], errors="coerce")
    frame["last_nps"] = pd.to_numeric(frame["last_nps"], errors="coerce")
    return frame[list(PROFILE_COLUMNS)], when


def topic_mentions(backend: BaseBackend, *, since: dt.datetime, as_of: dt.datetime) -> pd.DataFrame:
    """Topic mentions by customers between ``since`` and ``as_of``."""
    return profiles.mentions(backend, since, as_of)


@dataclass(frozen=True)
class ChurnTrainingSet:
    """Features as of ``cutoff`` for customers active then, labelled by cancellation after it."""

    features: pd.DataFrame
    label: pd.Series
    cutoff: dt.datetime
    as_of: dt.datetime


def churn_training_set(
    backend: BaseBackend, *, as_of: dt.datetime, horizon_days: int = CHURN_HORIZON_DAYS
) -> ChurnTrainingSet:
    """Members active at ``as_of - horizon``: their features then, and whether they had
    cancelled without renewal by ``as_of`` (the label). No feature looks past the cutoff."""
    cutoff = as_of - dt.timedelta(days=horizon_days)
    before = profiles.customer_features(backend, cutoff)
    after = profiles.subscription_state(backend, as_of)
    if "sub_active" not in before:
        raise Invalid("no subscriptions are stored: churn needs them", "subscriptions", None)
    active = before.index[before["sub_active"].astype("boolean").fillna(False).to_numpy()]
    label = after["churned"].reindex(active).astype("boolean").fillna(False).astype(bool)
    features = before.loc[active].drop(columns=[c for c in NOT_FEATURES if c in before])
    return ChurnTrainingSet(features, label, cutoff, as_of)


class ChurnRun(BaseModel):
    """What a scoring run did: trained on whom, scored whom, with which model."""

    model_config = ConfigDict(frozen=True)

    model_version: str
    as_of: dt.datetime
    cutoff: dt.datetime
    trained_on: int
    churn_rate: float
    scored: int
    cv_roc_auc: float | None
    cv_pr_auc: float | None
    method: str
    caveats: list[str]


def score_churn(
    *,
    session: Session,
    settings: Settings,
    as_of: dt.datetime | None = None,
    horizon_days: int = CHURN_HORIZON_DAYS,
    evaluate: bool = True,
    top_reasons: int = 3,
) -> ChurnRun:
    """Train a churn model on past members and store a score for every member active now.

    Training rows: members active ``horizon_days`` before ``as_of``, with features from then and
    the label "cancelled without renewal by as_of". Scored rows: members active at ``as_of``,
    with features from now. Scores replace earlier ones of the same model version.
    """
    from cxloop.insights.churn import ChurnModel

    with open_backend(settings) as backend:
        when = resolve_as_of(backend, as_of)
        train = churn_training_set(backend, as_of=when, horizon_days=horizon_days)
        now = profiles.customer_features(backend, when)
    caveats = []
    positives = int(train.label.sum())
    # 13: five-fold cross-validation trains on 4/5 of them, and the model needs 10 per class
    if len(train.label) < 50 or positives < 13 or positives == len(train.label):
        raise Invalid(
            f"too few members to learn from ({len(train.label)} members active at "
            f"{train.cutoff:%Y-%m-%d}, {positives} of them cancelled by {when:%Y-%m-%d}); "
            "need at least 50 members and 13 cancellations",
            "subscriptions",
            None,
        )
    data = train.features.assign(churned=train.label.to_numpy())
    model = ChurnModel(random_state=0)
    cv_auc = cv_pr = None
    if evaluate:
        cv = model.cross_validate(data, target="churned", folds=5, seeds=(0,))
        cv_auc, cv_pr = cv.estimate("roc_auc"), cv.estimate("pr_auc")
    model.fit(data, target="churned")
    active = now.index[
        now.get("sub_active", pd.Series(False, index=now.index))
        .astype("boolean")
        .fillna(False)
        .to_numpy()
    ]
    scoring = now.loc[active].drop(columns=[c for c in NOT_FEATURES if c in now])
    if scoring.empty:
        caveats.append("no member is active at the as-of date: nothing was scored")
    probabilities = model.predict_proba(scoring) if len(scoring) else np.array([])
    reasons = _reasons_by_customer(model.reasons(scoring, top=top_reasons)) if len(scoring) else {}
    version = str(model.model_version_)
    session.execute(delete(ChurnScore).where(ChurnScore.model_version == version))
    stamp = utcnow()
    session.add_all(
        ChurnScore(
            customer_id=str(customer),
            model_version=version,
            probability=float(p),
            reasons=reasons.get(customer, []),
            scored_at=stamp,
        )
        for customer, p in zip(scoring.index, probabilities, strict=True)
    )
    session.flush()
    caveats.append(
        f"label: a member active on {train.cutoff:%Y-%m-%d} whose subscription ended without "
        f"renewal by {when:%Y-%m-%d}; scores are the probability of that within the next "
        f"{horizon_days} days"
    )
    return ChurnRun(
        model_version=version,
        as_of=when,
        cutoff=train.cutoff,
        trained_on=len(train.label),
        churn_rate=float(train.label.mean()),
        scored=len(scoring),
        cv_roc_auc=cv_auc,
        cv_pr_auc=cv_pr,
        method="ChurnModel (cxloop.insights.churn) on behaviour + voice features per customer",
        caveats=caveats,
    )


def _reasons_by_customer(reasons: pd.DataFrame) -> dict[object, list[dict[str, object]]]:
    """The long reasons table (row, rank, feature, value, contribution) as JSON-safe lists."""
    out: dict[object, list[dict[str, object]]] = {}
    for record in reasons.sort_values(["row", "rank"]).to_dict("records"):
        value: Any = record["value"]
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and np.isnan(value):
            value = None
        out.setdefault(record["row"], []).append(
            {
                "feature": str(record["feature"]),
                "value": value,
                "contribution": round(float(record["contribution"]), 4),
            }
        )
    return out


def churn_risks(*, settings: Settings, top: int = 20) -> InsightReport:
    """The customers with the highest stored churn risk, with the reasons behind each score."""
    with open_backend(settings) as backend:
        latest = latest_churn_scores(backend)
    if latest.empty:
        raise Invalid("no churn scores are stored: run `cxloop insights churn`", "churn", None)
    latest = latest.rename(columns={"churn_risk": "probability"}).sort_values(
        "probability", ascending=False
    )
    shown = latest.head(top).assign(
        reasons=lambda f: [
            "; ".join(f"{r['feature']} = {r['value']}" for r in reasons) for reasons in f["reasons"]
        ]
    )
    return report(
        "churn",
        shown[["customer_id", "probability", "reasons", "model_version", "scored_at"]],
        n=len(latest),
        method="latest stored score per customer (cxloop insights churn)",
        caveats=[
            "reasons are the features that raised this customer's risk most against a typical "
            "member (change in log-odds with that feature at its training baseline)"
        ],
        details={"mean_probability": float(latest["probability"].mean())},
    )
