"""B2B account health from the store: role-weighted NPS, role coverage, project and milestone
views (the pure analysis is ``accounts``; this module gathers the frames through Ibis)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd

from cxloop import engines
from cxloop.config import Settings
from cxloop.errors import NotFound
from cxloop.metrics import accounts as account_analysis
from cxloop.metrics.accounts import AccountHealthReport
from cxloop.metrics.target_store import naive_utc


def naive_times(values: pd.Series) -> pd.Series:
    """Timestamps as naive UTC microseconds (the store may hand back aware or naive ones)."""
    stamps = pd.to_datetime(values)
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.astype("datetime64[us]")


def _b2b_frames(settings: Settings) -> dict[str, pd.DataFrame]:
    """Answers linked to an account or contact, and the contact/project/milestone tables, with
    only the columns the analysis needs (no names or addresses of people)."""
    backend = engines.analytics_backend(settings)
    try:
        feedback = engines.feedback_table(backend)
        answers = feedback.filter(feedback.account_id.notnull() | feedback.contact_id.notnull())
        columns = {
            "responses": answers.select("account_id", "contact_id", "created_at", "nps"),
            "contacts": backend.table("contacts").select("contact_id", "account_id", "role"),
            "accounts": backend.table("accounts").select("account_id", "name"),
            "projects": backend.table("projects").select(
                "project_id", "account_id", "name", "status", "start_date", "end_date"
            ),
            "milestones": backend.table("milestones").select(
                "milestone_id", "project_id", "name", "status", "due_date", "completed_at"
            ),
        }
        frames = {name: table.execute() for name, table in columns.items()}
    finally:
        backend.disconnect()
    frames["responses"]["created_at"] = naive_times(frames["responses"]["created_at"])
    frames["responses"]["nps"] = frames["responses"]["nps"].astype("Float64").astype("float64")
    frames["milestones"]["completed_at"] = naive_times(frames["milestones"]["completed_at"])
    return frames


ACCOUNT_METHOD = (
    "Role-weighted NPS per account: each answer counts with its contact's role weight; interval: "
    "Rocks' adjusted Wald on the weighted promoter/detractor shares with the Kish effective n "
    "(Σw)²/Σw². Coverage: per role, contacts who answered in the last coverage_days. Projects "
    "and milestones: plain NPS of the account's answers in the date window."
)


def account_health(
    *,
    settings: Settings,
    account_id: str | None = None,
    weights: Mapping[str, float] | None = None,
    default_weight: float = 1.0,
    as_of: dt.datetime | None = None,
    days: int | None = 365,
    coverage_days: int = 180,
    follow_days: int = 14,
    min_n: int = 5,
    confidence: float = 0.95,
) -> AccountHealthReport:
    """Health, role coverage and project/milestone NPS of every account (or one)."""
    weights = dict(account_analysis.DEFAULT_WEIGHTS if weights is None else weights)
    moment = naive_utc(as_of)
    frames = _b2b_frames(settings)
    if account_id is not None:
        if account_id not in set(frames["accounts"]["account_id"]):
            raise NotFound(f"no account with id {account_id}")
        for name in ("responses", "contacts", "accounts", "projects"):
            frames[name] = frames[name][frames[name]["account_id"] == account_id]
        frames["milestones"] = frames["milestones"][
            frames["milestones"]["project_id"].isin(frames["projects"]["project_id"])
        ]
    ids = sorted(frames["accounts"]["account_id"])
    health = account_analysis.account_health(
        frames["responses"],
        frames["contacts"],
        as_of=moment,
        days=days,
        min_n=min_n,
        confidence=confidence,
        weights=weights,
        default_weight=default_weight,
    )
    coverage = account_analysis.role_coverage(
        frames["responses"],
        frames["contacts"],
        as_of=moment,
        coverage_days=coverage_days,
        accounts=ids,
        weights=weights,
        default_weight=default_weight,
    )
    window = {"follow_days": follow_days, "min_n": min_n}
    projects = account_analysis.project_health(
        frames["responses"], frames["projects"], confidence=confidence, **window
    )
    milestones = account_analysis.milestone_health(
        frames["responses"],
        frames["milestones"],
        frames["projects"],
        confidence=confidence,
        **window,
    )
    names = dict(zip(frames["accounts"]["account_id"], frames["accounts"]["name"], strict=True))
    scored = {r["account_id"]: r for r in health.to_dict("records")}
    gaps = coverage[coverage["gap"].notna()].groupby("account_id")["gap"].apply(list).to_dict()
    rows = [
        account_analysis.account_row(a, names.get(a), scored.get(a), gaps.get(a, [])) for a in ids
    ]
    return AccountHealthReport(
        as_of=moment,
        days=days,
        coverage_days=coverage_days,
        weights=weights,
        default_weight=default_weight,
        min_n=min_n,
        method=ACCOUNT_METHOD,
        caveats=[
            "A contact who answered more than once counts once per answer.",
            "Feedback has no project id: answers are attributed to projects and milestones by "
            "account and date window, and overlapping windows share answers.",
            f"Accounts with n < {min_n} answers are small_n: show them greyed, never ranked.",
        ],
        accounts=rows,
        coverage=[account_analysis.coverage_row(r) for r in coverage.to_dict("records")],
        projects=[account_analysis.window_row(r, "project") for r in projects.to_dict("records")],
        milestones=[
            account_analysis.window_row(r, "milestone") for r in milestones.to_dict("records")
        ],
    )
