"""B2B account health (pure): role-weighted NPS, who has answered, and project/milestone views.

**Weighted NPS.** Each answer counts with its contact's role weight (default decision_maker 3,
purchaser 2, user 1, every other or unknown role ``default_weight`` 1): NPS = 100·Σw·x / Σw with
x = +1 promoter (9–10), 0 passive, −1 detractor. Its interval is Rocks' adjusted-Wald interval
(``intervals.nps_interval``) on the **weighted** promoter and detractor shares with the Kish
effective sample size n_eff = (Σw)² / Σw² in place of n: weights that favour a few answers make
the interval wider, as they should. Equal weights give exactly the unweighted interval.
Each answer is one unit: a contact who answered twice counts twice (a caveat, not corrected).

**Coverage.** Per account and role: how many contacts hold the role, how many answered in the
last ``coverage_days`` before ``as_of``, and when the role last answered. A role in the weights
with no answer in the window (or no contact at all) is a gap, in words a CSM can act on.

**Projects and milestones.** Feedback carries no project id, so answers are attributed by account
and date: a project gets its account's answers from its start date to its end date plus
``follow_days``; a milestone gets those from the earlier to the later of its due date and its
completion date, plus ``follow_days`` (surveys follow a milestone by days). Windows of the same
account can overlap, so one answer may count for two projects or milestones. These views use the
plain (unweighted) NPS with Rocks' interval.

Written here rather than taken from a library: survey-weighted NPS with a Kish effective n is a
few lines on top of the interval code the other metrics share.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from cxloop.errors import Invalid, Problem
from cxloop.metrics import intervals

DEFAULT_WEIGHTS: dict[str, float] = {"decision_maker": 3.0, "purchaser": 2.0, "user": 1.0}
"""Role values as the contacts table holds them (the demo also has recommender, influencer,
employee: those take ``default_weight``, as does any role a company imports under its own name —
roles are open, see customers/roles.py)."""
UNKNOWN_ROLE = "unknown"
"""Role of an answer whose contact is missing from the contacts table."""

HEALTH_COLUMNS = (
    "account_id",
    "n",
    "n_effective",
    "score",
    "ci_low",
    "ci_high",
    "small_n",
    "promoters",
    "passives",
    "detractors",
    "roles_answered",
)
COVERAGE_COLUMNS = (
    "account_id",
    "role",
    "weight",
    "contacts",
    "contacts_answered",
    "responses",
    "last_answered_at",
    "covered",
    "gap",
)
WINDOW_COLUMNS = ("n", "score", "ci_low", "ci_high", "small_n", "window_start", "window_end")


def parse_weights(text: str) -> dict[str, float]:
    """``"decision_maker=3,purchaser=2"`` as a dict, or ``Invalid`` naming every bad part."""
    weights: dict[str, float] = {}
    problems = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        role, sep, value = part.partition("=")
        try:
            weight = float(value) if sep else float("nan")
        except ValueError:
            weight = float("nan")
        if not role.strip() or not np.isfinite(weight) or weight < 0:
            problems.append(Problem("weights", part, "is not role=weight with a weight ≥ 0"))
            continue
        weights[role.strip()] = weight
    if problems:
        raise Invalid(problems)
    return weights


def check_weights(weights: Mapping[str, float], default_weight: float) -> None:
    """``Invalid`` for a negative or non-finite weight (a zero weight drops the role)."""
    problems = [
        Problem(f"weights.{role}", w, "is not a finite number ≥ 0")
        for role, w in weights.items()
        if not (np.isfinite(w) and w >= 0)
    ]
    if not (np.isfinite(default_weight) and default_weight >= 0):
        problems.append(Problem("default_weight", default_weight, "is not a finite number ≥ 0"))
    if problems:
        raise Invalid(problems)


def weighted_nps(
    scores: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray,
    *,
    confidence: float = 0.95,
) -> tuple[float, float, float, float]:
    """Weighted NPS, its interval and the Kish effective n (see the module docstring).

    >>> score, low, high, n_eff = weighted_nps([10, 10, 3], [3, 1, 1])
    >>> round(score, 1), round(n_eff, 3)
    (60.0, 2.273)
    """
    x = np.asarray(scores, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum()
    if len(x) == 0 or total <= 0:
        return (np.nan, np.nan, np.nan, 0.0)
    n_eff = total**2 / (w**2).sum()
    pro = (w * (x >= 9)).sum() / total
    det = (w * (x <= 6)).sum() / total
    _, low, high = intervals.nps_interval(
        [pro * n_eff], [det * n_eff], [n_eff], confidence=confidence
    )
    return float((pro - det) * 100), float(low[0]), float(high[0]), float(n_eff)


def with_roles(
    responses: pd.DataFrame,
    contacts: pd.DataFrame,
    weights: Mapping[str, float],
    default_weight: float,
) -> pd.DataFrame:
    """Answers with their contact's ``role`` and ``weight``; the account comes from the answer,
    or from the contact when the answer has none."""
    people = contacts[["contact_id", "account_id", "role"]].rename(
        columns={"account_id": "contact_account"}
    )
    joined = responses.merge(people, on="contact_id", how="left")
    joined["account_id"] = joined["account_id"].where(
        joined["account_id"].notna(), joined["contact_account"]
    )
    joined["role"] = joined["role"].fillna(UNKNOWN_ROLE).astype(str)
    joined["weight"] = joined["role"].map(lambda r: float(weights.get(r, default_weight)))
    joined["created_at"] = pd.to_datetime(joined["created_at"])
    return joined.drop(columns="contact_account")


def _window(
    frame: pd.DataFrame, as_of: dt.datetime, days: int | None, column: str = "created_at"
) -> pd.DataFrame:
    end = pd.Timestamp(as_of)
    keep = frame[column] <= end
    if days is not None:
        keep &= frame[column] > end - pd.Timedelta(days=days)
    return frame[keep]


def account_health(
    responses: pd.DataFrame,
    contacts: pd.DataFrame,
    *,
    as_of: dt.datetime,
    days: int | None = 365,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    default_weight: float = 1.0,
    min_n: int = 5,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Role-weighted NPS per account over the ``days`` before ``as_of`` (None: all before it).

    ``responses`` has ``account_id``, ``contact_id``, ``created_at`` and ``nps`` (answers
    without an NPS are ignored); ``contacts`` has ``contact_id``, ``account_id``, ``role``.
    Returns ``HEALTH_COLUMNS`` sorted by account; ``promoters``/``passives``/``detractors`` are
    plain counts, ``small_n`` is ``n < min_n``.

    >>> answers = pd.DataFrame({"account_id": ["A"] * 3, "contact_id": ["k1", "k2", "k3"],
    ...     "created_at": pd.to_datetime(["2026-01-02"] * 3), "nps": [10, 10, 3]})
    >>> people = pd.DataFrame({"contact_id": ["k1", "k2", "k3"], "account_id": ["A"] * 3,
    ...     "role": ["decision_maker", "user", "user"]})
    >>> health = account_health(answers, people, as_of=dt.datetime(2026, 2, 1), min_n=1)
    >>> health[["account_id", "n", "score"]].to_dict("records")
    [{'account_id': 'A', 'n': 3, 'score': 60.0}]
    """
    check_weights(weights, default_weight)
    answered = with_roles(responses[responses["nps"].notna()], contacts, weights, default_weight)
    answered = _window(answered, as_of, days)
    answered = answered[answered["account_id"].notna()]
    rows = []
    for account, group in answered.groupby("account_id", sort=True):
        x = group["nps"].to_numpy(dtype=np.float64)
        score, low, high, n_eff = weighted_nps(
            x, group["weight"].to_numpy(dtype=np.float64), confidence=confidence
        )
        promoters, detractors = int((x >= 9).sum()), int((x <= 6).sum())
        rows.append(
            {
                "account_id": account,
                "n": len(x),
                "n_effective": n_eff,
                "score": score,
                "ci_low": low,
                "ci_high": high,
                "small_n": len(x) < min_n,
                "promoters": promoters,
                "passives": len(x) - promoters - detractors,
                "detractors": detractors,
                "roles_answered": ",".join(sorted(group["role"].unique())),
            }
        )
    return pd.DataFrame(rows, columns=list(HEALTH_COLUMNS))


def role_coverage(
    responses: pd.DataFrame,
    contacts: pd.DataFrame,
    *,
    as_of: dt.datetime,
    coverage_days: int = 180,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    default_weight: float = 1.0,
    accounts: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per account and role: contacts, who answered in the window, and the gap in words.

    Roles shown: every role the account's contacts hold, plus every role in ``weights`` with a
    positive weight (a missing decision maker is a gap too). ``accounts`` adds accounts that
    have contacts or answers elsewhere (default: every account seen in either frame).
    """
    check_weights(weights, default_weight)
    answered = _window(
        with_roles(responses, contacts, weights, default_weight), as_of, coverage_days
    )
    ever = with_roles(responses, contacts, weights, default_weight)
    ever = ever[ever["created_at"] <= pd.Timestamp(as_of)]
    key_roles = [r for r, w in weights.items() if w > 0]
    ids = sorted(
        set(accounts)
        if accounts is not None
        else set(contacts["account_id"].dropna()) | set(answered["account_id"].dropna())
    )
    rows = []
    for account in ids:
        people = contacts[contacts["account_id"] == account]
        mine = answered[answered["account_id"] == account]
        history = ever[ever["account_id"] == account]
        roles = sorted(set(people["role"].astype(str)) | set(key_roles) | set(mine["role"]))
        for role in roles:
            holders = people[people["role"] == role]
            said = mine[mine["role"] == role]
            last = history.loc[history["role"] == role, "created_at"].max()
            covered = len(said) > 0
            gap = None
            if len(holders) == 0 and role != UNKNOWN_ROLE and not covered:
                gap = f"no {role} contact on file"
            elif not covered and role != UNKNOWN_ROLE:
                last_seen = "never" if pd.isna(last) else f"last {pd.Timestamp(last).date()}"
                gap = f"no {role} has answered in {coverage_days} days ({last_seen})"
            rows.append(
                {
                    "account_id": account,
                    "role": role,
                    "weight": float(weights.get(role, default_weight)),
                    "contacts": len(holders),
                    "contacts_answered": int(said["contact_id"].nunique()),
                    "responses": len(said),
                    "last_answered_at": None if pd.isna(last) else pd.Timestamp(last),
                    "covered": covered,
                    "gap": gap,
                }
            )
    return pd.DataFrame(rows, columns=list(COVERAGE_COLUMNS))


def _plain_nps(x: np.ndarray, min_n: int, confidence: float) -> dict[str, object]:
    promoters, detractors = int((x >= 9).sum()), int((x <= 6).sum())
    score, low, high = intervals.nps_interval(
        [promoters], [detractors], [len(x)], confidence=confidence
    )
    return {
        "n": len(x),
        "score": float(score[0]) if len(x) else np.nan,
        "ci_low": float(low[0]),
        "ci_high": float(high[0]),
        "small_n": len(x) < min_n,
    }


def _in_windows(
    answered: pd.DataFrame,
    windows: pd.DataFrame,
    id_column: str,
    min_n: int,
    confidence: float,
) -> pd.DataFrame:
    """NPS of each window's account answers between ``window_start`` and ``window_end``."""
    rows = []
    for record in windows.to_dict("records"):
        mine = answered[answered["account_id"] == record["account_id"]]
        start, end = record["window_start"], record["window_end"]
        if pd.isna(start) or pd.isna(end):
            x = np.array([], dtype=np.float64)
        else:
            inside = (mine["created_at"] >= start) & (mine["created_at"] < end)
            x = mine.loc[inside, "nps"].to_numpy(dtype=np.float64)
        rows.append(
            {
                **{k: record[k] for k in (id_column, "account_id")},
                **_plain_nps(x, min_n, confidence),
                "window_start": start,
                "window_end": end,
            }
        )
    columns = [id_column, "account_id", *WINDOW_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def project_health(
    responses: pd.DataFrame,
    projects: pd.DataFrame,
    *,
    follow_days: int = 14,
    min_n: int = 5,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """NPS and answers per project: its account's answers from ``start_date`` to ``end_date``
    plus ``follow_days`` (see the module docstring). Columns: project_id, account_id, name,
    status, then ``WINDOW_COLUMNS``."""
    answered = responses[responses["nps"].notna()].assign(
        created_at=lambda f: pd.to_datetime(f["created_at"])
    )
    windows = projects[["project_id", "account_id"]].copy()
    windows["window_start"] = pd.to_datetime(projects["start_date"])
    windows["window_end"] = pd.to_datetime(projects["end_date"]) + pd.Timedelta(
        days=follow_days + 1
    )
    frame = _in_windows(answered, windows, "project_id", min_n, confidence)
    info = projects[["project_id", "name", "status"]]
    merged = frame.merge(info, on="project_id", how="left")
    order = ["project_id", "account_id", "name", "status", *WINDOW_COLUMNS]
    return merged[order].sort_values("project_id", kind="stable").reset_index(drop=True)


def milestone_health(
    responses: pd.DataFrame,
    milestones: pd.DataFrame,
    projects: pd.DataFrame,
    *,
    follow_days: int = 14,
    min_n: int = 5,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """NPS and answers per milestone: its account's answers from the earlier to the later of
    ``due_date`` and ``completed_at``, plus ``follow_days``. Columns: milestone_id, project_id,
    account_id, name, status, then ``WINDOW_COLUMNS``."""
    answered = responses[responses["nps"].notna()].assign(
        created_at=lambda f: pd.to_datetime(f["created_at"])
    )
    linked = milestones.merge(projects[["project_id", "account_id"]], on="project_id", how="left")
    due = pd.to_datetime(linked["due_date"])
    done = pd.to_datetime(linked["completed_at"]).dt.normalize()
    first = pd.concat([due, done], axis=1).min(axis=1)
    last = pd.concat([due, done], axis=1).max(axis=1)
    windows = linked[["milestone_id", "account_id"]].copy()
    windows["window_start"] = first
    windows["window_end"] = last + pd.Timedelta(days=follow_days + 1)
    frame = _in_windows(answered, windows, "milestone_id", min_n, confidence)
    info = linked[["milestone_id", "project_id", "name", "status"]]
    merged = frame.merge(info, on="milestone_id", how="left")
    order = ["milestone_id", "project_id", "account_id", "name", "status", *WINDOW_COLUMNS]
    return merged[order].sort_values("milestone_id", kind="stable").reset_index(drop=True)


# --- report shapes (what the service, API and CLI return) -------------------------------------


def json_number(value: Any) -> float | None:
    """JSON has no NaN: an undefined number is None."""
    if value is None or pd.isna(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def json_stamp(value: Any) -> dt.datetime | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


class AccountHealthRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str
    name: str | None
    n: int
    n_effective: float
    score: float | None
    ci_low: float | None
    ci_high: float | None
    small_n: bool
    promoters: int
    passives: int
    detractors: int
    roles_answered: list[str]
    gaps: list[str]


class CoverageRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str
    role: str
    weight: float
    contacts: int
    contacts_answered: int
    responses: int
    last_answered_at: dt.datetime | None
    covered: bool
    gap: str | None


class WindowRow(BaseModel):
    """NPS of a project or milestone window (``window_end`` exclusive)."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str = Field(description="project or milestone")
    account_id: str | None
    name: str | None
    status: str | None
    n: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    small_n: bool
    window_start: dt.datetime | None
    window_end: dt.datetime | None


class AccountHealthReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: dt.datetime
    days: int | None
    coverage_days: int
    weights: dict[str, float]
    default_weight: float
    min_n: int
    method: str
    caveats: list[str]
    accounts: list[AccountHealthRow]
    coverage: list[CoverageRow]
    projects: list[WindowRow]
    milestones: list[WindowRow]


def account_row(
    account: str, name: str | None, row: Mapping[Any, Any] | None, gaps: list[str]
) -> AccountHealthRow:
    row = row or {}
    return AccountHealthRow(
        account_id=account,
        name=name,
        n=int(row.get("n", 0)),
        n_effective=float(row.get("n_effective", 0.0)),
        score=json_number(row.get("score")),
        ci_low=json_number(row.get("ci_low")),
        ci_high=json_number(row.get("ci_high")),
        small_n=bool(row.get("small_n", True)),
        promoters=int(row.get("promoters", 0)),
        passives=int(row.get("passives", 0)),
        detractors=int(row.get("detractors", 0)),
        roles_answered=str(row.get("roles_answered", "")).split(",") if row else [],
        gaps=gaps,
    )


def coverage_row(row: Mapping[Any, Any]) -> CoverageRow:
    gap = row["gap"] if isinstance(row["gap"], str) else None
    return CoverageRow(
        **{**row, "last_answered_at": json_stamp(row["last_answered_at"]), "gap": gap}
    )


def window_row(row: Mapping[Any, Any], kind: str) -> WindowRow:
    return WindowRow(
        id=str(row[f"{kind}_id"]),
        kind=kind,
        account_id=row["account_id"] if isinstance(row["account_id"], str) else None,
        name=row["name"] if isinstance(row["name"], str) else None,
        status=row["status"] if isinstance(row["status"], str) else None,
        n=int(row["n"]),
        score=json_number(row["score"]),
        ci_low=json_number(row["ci_low"]),
        ci_high=json_number(row["ci_high"]),
        small_n=bool(row["small_n"]),
        window_start=json_stamp(row["window_start"]),
        window_end=json_stamp(row["window_end"]),
    )


def hide_single_answers(report: AccountHealthReport) -> AccountHealthReport:
    """The report without any score that rests on one answer: at account level that is one
    person's NPS, which roles that may not see individual answers (viewers) must not read."""
    blank = {"score": None, "ci_low": None, "ci_high": None}
    accounts = [
        row.model_copy(update={**blank, "promoters": 0, "passives": 0, "detractors": 0})
        if row.n == 1
        else row
        for row in report.accounts
    ]
    projects = [r.model_copy(update=blank) if r.n == 1 else r for r in report.projects]
    milestones = [r.model_copy(update=blank) if r.n == 1 else r for r in report.milestones]
    hidden = sum(r.n == 1 for r in report.accounts) + sum(
        r.n == 1 for r in (*report.projects, *report.milestones)
    )
    caveats = [*report.caveats]
    if hidden:
        caveats.append(f"{hidden} scores resting on a single answer are hidden for this role")
    return report.model_copy(
        update={
            "accounts": accounts,
            "projects": projects,
            "milestones": milestones,
            "caveats": caveats,
        }
    )
