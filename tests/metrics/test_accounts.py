"""B2B account health: hand-computed weighted NPS and coverage gaps on a constructed set, and on
the demo company the accounts that churned score lower than those that renewed."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3

import numpy as np
import pandas as pd
import pytest

from cxloop.errors import Invalid
from cxloop.metrics import monitoring
from cxloop.metrics.accounts import (
    account_health,
    hide_single_answers,
    milestone_health,
    parse_weights,
    role_coverage,
    weighted_nps,
)
from tests.metrics.test_alerts_store import demo_settings

AS_OF = dt.datetime(2026, 7, 1)
CONTACTS = pd.DataFrame(
    {
        "contact_id": ["dm", "pu", "u1", "u2", "dm2", "us2"],
        "account_id": ["A", "A", "A", "A", "B", "B"],
        "role": ["decision_maker", "purchaser", "user", "user", "decision_maker", "user"],
    }
)
RESPONSES = pd.DataFrame(
    {
        "account_id": ["A", "A", "A", "A", "B", "B"],
        "contact_id": ["dm", "pu", "u1", "u2", "dm2", "us2"],
        "created_at": pd.to_datetime(
            ["2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04", "2025-11-01", "2026-06-05"]
        ),
        "nps": [3.0, 10.0, 10.0, 8.0, 9.0, 10.0],
    }
)


def test_weighted_nps_matches_the_hand_computation() -> None:
    health = account_health(RESPONSES, CONTACTS, as_of=AS_OF, days=None, min_n=3)
    a = health.set_index("account_id").loc["A"]
    # weights 3, 2, 1, 1 (sum 7): promoters 2 + 1 = 3, detractors 3 → NPS 0; n_eff 49 / 15
    assert a["n"] == 4 and a["score"] == pytest.approx(0.0)
    assert a["n_effective"] == pytest.approx(49 / 15)
    assert a["ci_low"] < 0 < a["ci_high"] and not a["small_n"]
    assert (a["promoters"], a["passives"], a["detractors"]) == (2, 1, 1)
    unweighted = account_health(
        RESPONSES, CONTACTS, as_of=AS_OF, days=None, weights={}, min_n=3
    ).set_index("account_id")
    assert unweighted.loc["A", "score"] == pytest.approx(25.0)  # 2 of 4 minus 1 of 4
    assert health.set_index("account_id").loc["B", "small_n"]


def test_equal_weights_give_the_plain_rocks_interval() -> None:
    score, low, high, n_eff = weighted_nps([10, 10, 8, 3], [2, 2, 2, 2])
    assert (score, n_eff) == (25.0, 4.0)
    # Rocks: p=(2+.75)/7, d=(1+.75)/7
    p, d = 2.75 / 7, 1.75 / 7
    half = 1.959963984540054 * math.sqrt((p + d - (p - d) ** 2) / 7)
    assert low == pytest.approx((p - d - half) * 100) and high == pytest.approx(
        (p - d + half) * 100
    )


def test_coverage_names_roles_that_have_not_answered() -> None:
    coverage = role_coverage(RESPONSES, CONTACTS, as_of=AS_OF, coverage_days=180)
    b = coverage[coverage["account_id"] == "B"].set_index("role")
    assert not b.loc["decision_maker", "covered"]  # answered 2025-11-01, 242 days before
    assert b.loc["decision_maker", "gap"] == (
        "no decision_maker has answered in 180 days (last 2025-11-01)"
    )
    assert b.loc["purchaser", "contacts"] == 0
    assert b.loc["purchaser", "gap"] == "no purchaser contact on file"
    assert b.loc["user", "covered"] and pd.isna(b.loc["user", "gap"])
    a = coverage[coverage["account_id"] == "A"].set_index("role")
    assert a["covered"].all() and a.loc["user", "contacts_answered"] == 2


def test_milestone_window_runs_from_due_to_completion_plus_follow_days() -> None:
    projects = pd.DataFrame({"project_id": ["P"], "account_id": ["A"]})
    milestones = pd.DataFrame(
        {
            "milestone_id": ["M1", "M2"],
            "project_id": ["P", "P"],
            "name": ["late", "planned"],
            "status": ["done", "planned"],
            "due_date": ["2026-05-25", "2026-09-01"],
            "completed_at": [pd.Timestamp("2026-05-30 15:00"), pd.NaT],
        }
    )
    rows = milestone_health(RESPONSES, milestones, projects, follow_days=3).set_index(
        "milestone_id"
    )
    assert rows.loc["M1", "n"] == 2  # 05-25 to 05-30 + 3 days: 06-01 and 06-02, not 06-03
    assert rows.loc["M2", "n"] == 0 and np.isnan(rows.loc["M2", "score"])


def test_bad_weights_are_refused_naming_each_part() -> None:
    assert parse_weights("decision_maker=3, user=0.5") == {"decision_maker": 3.0, "user": 0.5}
    with pytest.raises(Invalid) as caught:
        parse_weights("decision_maker=three,user=-1,=2")
    assert [p.value for p in caught.value.problems] == ["decision_maker=three", "user=-1", "=2"]


@pytest.mark.slow
def test_demo_churned_accounts_have_lower_weighted_health(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = demo_settings(tmp_path_factory)
    report = monitoring.account_health(
        settings=settings, as_of=dt.datetime(2026, 11, 23), days=None, min_n=1
    )
    database = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        churned = {
            a
            for (a,) in connection.execute(
                "SELECT account_id FROM subscriptions WHERE status = 'churned'"
            )
        }
    scores = {r.account_id: r.score for r in report.accounts if r.score is not None}
    lost = [s for a, s in scores.items() if a in churned]
    kept = [s for a, s in scores.items() if a not in churned]
    assert len(lost) >= 5 and len(kept) >= 20
    assert np.mean(lost) < np.mean(kept) - 30
    assert report.method and report.caveats and report.coverage and report.milestones
    # for viewers no score rests on one person's answer; the others are left as they are
    hidden = hide_single_answers(report)
    for before, after in zip(report.accounts, hidden.accounts, strict=True):
        if before.n == 1:
            assert after.score is None and after.promoters + after.detractors == 0
        else:
            assert after == before
    singles = sum(r.n == 1 for r in report.accounts)
    assert singles == 0 or any("single answer" in c for c in hidden.caveats)


def test_roles_cxloop_has_no_name_for_weigh_the_default_weight() -> None:
    """Contact roles are open (行政助理 is imported as written): such an answer counts with
    ``default_weight`` (1 unless given), never dropped and never an error."""
    people = pd.DataFrame(
        {
            "contact_id": ["dm", "ad", "om"],
            "account_id": ["A"] * 3,
            "role": ["decision_maker", "行政助理", "office manager"],
        }
    )
    answers = pd.DataFrame(
        {
            "account_id": ["A"] * 3,
            "contact_id": ["dm", "ad", "om"],
            "created_at": pd.to_datetime(["2026-06-01"] * 3),
            "nps": [10.0, 0.0, 0.0],
        }
    )
    health = account_health(answers, people, as_of=AS_OF, days=None, min_n=1)
    assert health.loc[0, "score"] == pytest.approx(20.0)  # weights 3, 1, 1: (3 − 2) / 5
    heavier = account_health(answers, people, as_of=AS_OF, days=None, min_n=1, default_weight=3)
    assert heavier.loc[0, "score"] == pytest.approx(-100 / 3)  # (3 − 6) / 9
    assert health.loc[0, "roles_answered"] == "decision_maker,office manager,行政助理"
