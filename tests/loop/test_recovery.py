"""Recovery and "does the loop keep customers?": the next answer after a resolution, one row
per customer, and a planted effect recovered by the adjusted churn comparison on a real store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from cxloop import api
from cxloop.behaviour.models import Subscription
from cxloop.config import Settings
from cxloop.customers.models import Customer
from cxloop.db.session import session_scope
from cxloop.feedback.models import Feedback
from cxloop.loop.health import ALL
from cxloop.loop.health_store import LoopHealth, loop_health
from cxloop.loop.models import Case, CaseFeedback
from cxloop.loop.recovery import Answer, churn_of_recovered, customer_rows, next_answers

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
CELLS = {  # (segment, recovered): (detractors, churned)
    ("vip", True): (210, 21),  # 10 %
    ("vip", False): (90, 27),  # 30 %
    ("regular", True): (90, 18),  # 20 %
    ("regular", False): (210, 84),  # 40 %
}
"""Recovery lowers churn by 20 points in each segment; VIPs are recovered more often and churn
less anyway (the confounder), so the crude difference (13 % − 37 % = −24 pts) overstates it.
Standardised to both segments: 15 % recovered vs 35 % unrecovered, −20 pts."""


def d(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, 9, 10, hour) + dt.timedelta(days=day)


def test_the_next_answer_is_the_first_after_the_resolution() -> None:
    answers = [
        Answer("c1", d(1), 2),
        Answer("c1", d(3), 9),
        Answer("c1", d(5), 4),
        Answer("c2", d(2), 8),
    ]
    found = next_answers(
        {1: ("c1", d(2)), 2: ("c1", d(3)), 3: ("c2", d(2)), 4: ("c3", d(0))}, answers
    )
    assert found[1] == Answer("c1", d(3), 9)
    assert found[2] == Answer("c1", d(5), 4)  # an answer at the resolution itself is not after it
    assert found[3] is None and found[4] is None


def test_a_customer_with_several_cases_counts_once_by_the_earliest_next_answer() -> None:
    rows = customer_rows(
        [
            ("c1", Answer("c1", d(5), 3)),
            ("c1", Answer("c1", d(2), 9)),
            ("c2", Answer("c2", d(1), 7)),
        ]
    )
    assert rows.set_index("customer_id")["exposed"].to_dict() == {"c1": True, "c2": True}
    assert len(rows) == 2


def _planted(session: Session) -> None:
    rng = np.random.default_rng(7)
    i = 0
    for (segment, recovered), (n, churned) in CELLS.items():
        for k in range(n):
            i += 1
            customer, opened = f"c{i:04d}", d(i % 30, 9)
            resolved = opened + dt.timedelta(days=1)
            answered = resolved + dt.timedelta(days=5 + i % 7)
            session.add(
                Customer(
                    customer_id=customer,
                    segment=segment,
                    signed_up_at=dt.datetime(2024, 1, 1)
                    + dt.timedelta(days=int(rng.integers(0, 500))),
                    row_hash="h" * 32,
                )
            )
            for fid, at, nps in (
                (f"fb-{i}", opened - dt.timedelta(hours=2), int(rng.integers(0, 7))),
                (
                    f"fb-{i}-next",
                    answered,
                    (9 if k % 2 else 7) if recovered else int(rng.integers(0, 7)),
                ),
            ):
                session.add(
                    Feedback(
                        feedback_id=fid,
                        channel="survey",
                        customer_id=customer,
                        created_at=at,
                        nps=nps,
                        row_hash="h" * 32,
                    )
                )
            session.add(
                Subscription(
                    subscription_id=f"s-{i}",
                    customer_id=customer,
                    plan="monthly",
                    started_at=dt.datetime(2025, 1, 1),
                    ended_at=answered + dt.timedelta(days=30) if k < churned else None,
                    renewed=False if k < churned else None,
                    amount=99.0,
                    row_hash="h" * 32,
                )
            )
            session.add(
                Case(
                    id=i,
                    status="verified" if recovered else "closed_unverified",
                    title="贬损者",
                    customer_id=customer,
                    origin_feedback_id=f"fb-{i}",
                    topic="配送/速度",
                    dedupe_key=f"customer:{customer}",
                    severity="high",
                    priority="p2",
                    priority_score=48.0,
                    priority_explanation=[],
                    team="客服一组",
                    opened_at=opened,
                    resolved_at=resolved,
                    closed_at=resolved + dt.timedelta(days=3),
                    created_by="cxloop",
                )
            )
    session.flush()
    session.add_all(
        CaseFeedback(case_id=j, feedback_id=f"fb-{j}", attached_at=d(0)) for j in range(1, i + 1)
    )
    session.flush()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopHealth]:
    folder: Path = tmp_path_factory.mktemp("recovery")
    settings = Settings(database_url=f"sqlite:///{folder / 'planted.db'}")
    store = api.connect(settings=settings)
    with session_scope(store.sessions) as session:
        _planted(session)
        yield loop_health(session=session, settings=settings, now=NOW)
    store.close()


def test_recovery_rate_counts_passives_and_promoters(planted: LoopHealth) -> None:
    r = next(r for r in planted.rows if r.group == ALL)
    assert (r.recovery.hits, r.recovery.n, r.recovery.rate, r.no_next_answer) == (300, 600, 0.5, 0)


def test_the_adjusted_churn_difference_recovers_the_planted_effect(planted: LoopHealth) -> None:
    churn = planted.churn
    assert (churn.n, churn.n_recovered, churn.n_unrecovered) == (600, 300, 300)
    assert (churn.churn_recovered, churn.churn_unrecovered, churn.crude) == (0.13, 0.37, -0.24)
    assert "segment" in churn.confounders and "plan_amount" not in churn.confounders  # constant
    assert churn.estimate is not None and churn.ci_low is not None and churn.ci_high is not None
    assert churn.ci_low < -0.20 < churn.ci_high
    assert churn.ci_high < 0  # excludes "no difference"
    assert abs(churn.estimate + 0.20) < abs(churn.crude + 0.20)  # the confounder is taken out
    assert churn.verdict.startswith("recovered detractors churned less: ")
    assert not churn.too_few


def test_a_handful_of_detractors_is_too_few_to_tell_and_gets_only_the_crude_figure() -> None:
    ids = [f"c{i}" for i in range(12)]
    rows = customer_rows((c, Answer(c, d(i), 9 if i % 2 else 2)) for i, c in enumerate(ids))
    customers = pd.DataFrame(
        {"customer_id": ids, "segment": "vip", "signed_up_at": dt.datetime(2025, 1, 1)}
    )
    subscriptions = pd.DataFrame(
        {
            "customer_id": ids,
            "started_at": dt.datetime(2025, 1, 1),
            "ended_at": [d(i + 30) if i < 4 else None for i in range(12)],
            "renewed": [False if i < 4 else None for i in range(12)],
            "plan": "monthly",
            "amount": 99.0,
        }
    )
    churn = churn_of_recovered(
        rows, customers=customers, subscriptions=subscriptions, observed_until=d(200)
    )
    assert (churn.n, churn.n_recovered, churn.n_unrecovered) == (12, 6, 6)
    assert (churn.churn_recovered, churn.churn_unrecovered) == (0.3333, 0.3333)  # c1, c3 / c0, c2
    assert churn.too_few and churn.estimate is None and churn.crude == 0.0
    assert churn.verdict.startswith("too few to tell (6 recovered, 6 unrecovered; 30 each needed)")


def test_an_interval_the_bootstrap_could_not_draw_is_said_not_printed_as_nan() -> None:
    """A tiny or one-valued group gives NaN bounds: the verdict says so in words."""
    import pandas as pd

    from cxloop.loop.recovery import _verdict

    row = pd.Series(
        {"estimate": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"),
         "crude": -0.5, "crude_ci_low": float("nan"), "crude_ci_high": float("nan")}
    )  # fmt: skip
    said = _verdict(row, adjusted=False, too_few=True, n1=2, n0=2, min_n=10)
    assert "nan" not in said
    assert (
        said == "too few to tell (2 recovered, 2 unrecovered): -50.0 pts, no interval "
        "(crude (too few to adjust))"
    )
    assert "cannot compare" in _verdict(row, adjusted=True, too_few=True, n1=2, n0=2, min_n=10)
