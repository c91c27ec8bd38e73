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
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cxloop import engines
from cxloop.config import Settings
from cxloop.db.base import utcnow
from cxloop.errors import Invalid
from cxloop.insights import profiles
from cxloop.insights.models import ChurnModelRun, ChurnScore
from cxloop.insights.schemas import InsightReport, report

CHURN_HORIZON_DAYS = 90
"""Churn scoring predicts cancellation within this many days."""
MIN_CHURN_AUC = 0.6
"""Scores are stored only when the cross-validated ROC-AUC's interval lies wholly above this
(0.5 is a coin toss); below it, only on an explicit, recorded override."""
CHURN_FOLDS = 5
PROFILE_COLUMNS = (
    "customer_id",
    "segment",
    "region",
    "value",
    "churned",
    "churn_risk",
    "last_nps",
    "last_order_at",
    "churn_model",
)
NOT_FEATURES = ("sub_active", "sub_churned", "last_order_at")
"""Columns that define the churn label, or repeat another as a timestamp: never model inputs."""


@contextmanager
def open_backend(settings: Settings) -> Iterator[BaseBackend]:
    """An Ibis connection for read-only analyses, closed on exit: the analytics snapshot when
    one is on and whole (``engines.analytics_backend``), else the store."""
    backend = engines.analytics_backend(settings)
    try:
        yield backend
    finally:
        backend.disconnect()


@contextmanager
def open_store(settings: Settings) -> Iterator[BaseBackend]:
    """An Ibis connection to the store itself, closed on exit: for analyses whose results are
    written back (churn scores), which must not lag behind the store."""
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
    scores = latest_churn_scores(backend)[["customer_id", "churn_risk", "model_version"]]
    frame = frame.merge(
        scores.rename(columns={"model_version": "churn_model"}), on="customer_id", how="left"
    )
    for column in PROFILE_COLUMNS:
        if column not in frame:
            frame[column] = pd.NA
    frame["churn_risk"] = pd.to_numeric(frame["churn_risk"], errors="coerce")
    frame["last_nps"] = pd.to_numeric(frame["last_nps"], errors="coerce")
    return frame[list(PROFILE_COLUMNS)], when


def topic_mentions(backend: BaseBackend, *, since: dt.datetime, as_of: dt.datetime) -> pd.DataFrame:
    """Topic mentions by customers between ``since`` and ``as_of``: feedback_id, customer_id,
    topic, sentiment, created_at (the feedback id lets a target list show what was said)."""
    columns = ["feedback_id", "customer_id", "topic", "sentiment", "created_at"]
    if not {"feedback", "feedback_topic"} <= set(backend.list_tables()):
        return pd.DataFrame(columns=columns)
    f = backend.table("feedback")
    f = f.filter(f.customer_id.notnull(), f.created_at > since, f.created_at <= as_of)
    joined = f.select("feedback_id", "customer_id", "created_at").join(
        backend.table("feedback_topic"), "feedback_id"
    )
    return joined.select(*columns).to_pandas()


def stored_topics(backend: BaseBackend) -> list[str]:
    """Every topic path some stored feedback mentions."""
    if "feedback_topic" not in set(backend.list_tables()):
        return []
    topics = backend.table("feedback_topic").select("topic").distinct().to_pandas()
    return sorted(str(t) for t in topics["topic"].dropna())


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


class ChurnModelRead(BaseModel):
    """A stored churn scoring run: which model made the scores, how well it predicted under
    cross-validation, and whether it was stored below the bar on request (``accepted_weak``)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: int
    model_version: str
    method: str
    as_of: dt.datetime
    cutoff: dt.datetime
    horizon_days: int
    trained_on: int
    cancellations: int
    scored: int
    cv_roc_auc: float | None
    cv_auc_low: float | None
    cv_auc_high: float | None
    accepted_weak: bool
    created_at: dt.datetime

    def describe(self) -> str:
        """One sentence for people acting on the scores: model, AUC and interval, override."""
        if self.cv_roc_auc is None:
            quality = "not cross-validated"
        else:
            quality = f"cross-validated ROC-AUC {self.cv_roc_auc:.2f}"
            if self.cv_auc_low is not None and self.cv_auc_high is not None:
                quality += f" (95 % interval {self.cv_auc_low:.2f}–{self.cv_auc_high:.2f})"
        weak = "; stored below the bar with --accept-weak-model" if self.accepted_weak else ""
        return (
            f"churn risk from model {self.model_version} (scored {self.created_at:%Y-%m-%d}), "
            f"{quality}{weak}"
        )


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
    cv_auc_low: float | None = None
    cv_auc_high: float | None = None
    cv_pr_auc: float | None
    accepted_weak_model: bool = False
    method: str
    caveats: list[str]


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _guard(
    auc: float | None, low: float | None, high: float | None, *, accept_weak_model: bool
) -> bool:
    """True when the model is weak (no interval, or one reaching ``MIN_CHURN_AUC``) and the
    caller accepted that; ``Invalid`` with the AUC and its interval when they did not."""
    if auc is not None and low is not None and low > MIN_CHURN_AUC:
        return False
    if accept_weak_model:
        return True
    if auc is None:
        raise Invalid(
            "was not cross-validated (--no-evaluate), so nobody can tell whether its scores "
            "beat a coin toss; no scores were stored. Evaluate it, or pass --accept-weak-model "
            "(API: accept_weak_model=true) to store them anyway, recorded with the scores",
            "churn model",
            "not evaluated",
        )
    interval = "unknown" if low is None or high is None else f"{low:.2f}–{high:.2f}"
    raise Invalid(
        f"is too weak to act on: its interval reaches {MIN_CHURN_AUC} or lower (0.5 is a coin "
        "toss), so no scores were stored. Pass --accept-weak-model (API: "
        "accept_weak_model=true) to store them anyway; the override is recorded with the scores",
        "churn model",
        f"cross-validated ROC-AUC {auc:.2f}, 95 % interval {interval}",
    )


def score_churn(
    *,
    session: Session,
    settings: Settings,
    as_of: dt.datetime | None = None,
    horizon_days: int = CHURN_HORIZON_DAYS,
    evaluate: bool = True,
    top_reasons: int = 3,
    accept_weak_model: bool = False,
) -> ChurnRun:
    """Train a churn model on past members and store a score for every member active now.

    Training rows: members active ``horizon_days`` before ``as_of``, with features from then and
    the label "cancelled without renewal by as_of". Scored rows: members active at ``as_of``,
    with features from now. Scores replace earlier ones of the same model version.

    The model is cross-validated first (``CHURN_FOLDS`` stratified folds, Nadeau–Bengio
    corrected interval over the fold ROC-AUCs); when that interval reaches ``MIN_CHURN_AUC``
    or lower, or the model was not evaluated, nothing is stored unless ``accept_weak_model``.
    A stored run (model, AUC, interval, override, when) is recorded in ``churn_models``.
    """
    from cxloop.insights.churn import ChurnModel

    with open_store(settings) as backend:
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
    cv_auc = cv_pr = low = high = None
    if evaluate:
        cv = model.cross_validate(data, target="churned", folds=CHURN_FOLDS, seeds=(0,))
        cv_auc, cv_pr = cv.estimate("roc_auc"), cv.estimate("pr_auc")
        row = cv.table[(cv.table["model"] == "churn_model") & (cv.table["metric"] == "roc_auc")]
        low, high = _finite(row["ci_low"].iloc[0]), _finite(row["ci_high"].iloc[0])
    weak = _guard(cv_auc, low, high, accept_weak_model=accept_weak_model)
    if weak:
        caveats.append(
            "weak model stored on request (--accept-weak-model): its scores barely beat chance; "
            "target lists on churn risk say so"
        )
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
    method = "ChurnModel (cxloop.insights.churn) on behaviour + voice features per customer"
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
    session.add(
        ChurnModelRun(
            model_version=version,
            method=method,
            as_of=when,
            cutoff=train.cutoff,
            horizon_days=horizon_days,
            trained_on=len(train.label),
            cancellations=positives,
            scored=len(scoring),
            cv_roc_auc=cv_auc,
            cv_auc_low=low,
            cv_auc_high=high,
            accepted_weak=weak,
            created_at=stamp,
        )
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
        cv_auc_low=low,
        cv_auc_high=high,
        cv_pr_auc=cv_pr,
        accepted_weak_model=weak,
        method=method,
        caveats=caveats,
    )


def churn_models(backend: BaseBackend) -> list[ChurnModelRead]:
    """Every stored scoring run, newest first."""
    if "churn_models" not in set(backend.list_tables()):
        return []
    table = backend.table("churn_models")
    frame = table.order_by([ibis.desc("created_at"), ibis.desc("id")]).to_pandas()
    return [
        ChurnModelRead.model_validate({k: _plain(v) for k, v in record.items()})
        for record in frame.to_dict("records")
    ]


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


def latest_churn_model(backend: BaseBackend) -> ChurnModelRead | None:
    """The most recent scoring run (the model the newest scores rest on), or None."""
    runs = churn_models(backend)
    return runs[0] if runs else None


def churn_model_runs(session: Session, versions: set[str]) -> list[ChurnModelRead]:
    """The latest recorded run of each model version in ``versions``, from a session (for
    exports that have no Ibis connection open)."""
    rows = session.scalars(
        select(ChurnModelRun)
        .where(ChurnModelRun.model_version.in_(sorted(versions)))
        .order_by(ChurnModelRun.created_at.desc(), ChurnModelRun.id.desc())
    )
    latest: dict[str, ChurnModelRead] = {}
    for row in rows:
        latest.setdefault(row.model_version, ChurnModelRead.model_validate(row))
    return list(latest.values())


def churn_models_behind(backend: BaseBackend, versions: set[str]) -> list[ChurnModelRead]:
    """The latest run of each model version in ``versions`` (the scores a list rests on);
    a version scored before runs were recorded gets no entry."""
    latest: dict[str, ChurnModelRead] = {}
    for run in churn_models(backend):
        if run.model_version in versions:
            latest.setdefault(run.model_version, run)
    return list(latest.values())


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


def _model_details(run: ChurnModelRead | None) -> dict[str, Any]:
    """The newest model behind the scores, flat (JSON- and table-friendly)."""
    if run is None:
        return {"model_version": None}
    return {
        "model_version": run.model_version,
        "cv_roc_auc": run.cv_roc_auc,
        "cv_auc_low": run.cv_auc_low,
        "cv_auc_high": run.cv_auc_high,
        "accepted_weak_model": run.accepted_weak,
    }


def churn_risks(*, settings: Settings, top: int = 20) -> InsightReport:
    """The customers with the highest stored churn risk, with the reasons behind each score."""
    with open_backend(settings) as backend:
        latest = latest_churn_scores(backend)
        behind = churn_models_behind(backend, set(latest["model_version"].astype(str)))
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
            *(run.describe() for run in behind),
            "reasons are the features that raised this customer's risk most against a typical "
            "member (change in log-odds with that feature at its training baseline)",
        ],
        details={
            "mean_probability": float(latest["probability"].mean()),
            **_model_details(behind[0] if behind else None),
        },
    )
