"""One answer, one case: a feedback several rules match opens (or joins) one case, by its most
severe match, the others recorded on it; a ``topic: matched`` answer joins the customer's open
case on any topic it matched; answers without a customer from one author share a case, keyed
by a hash of the address. The dry run counts what evaluation does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cxloop.api import Store
from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.loop import dry_run, evaluation, rule_store
from cxloop.loop.models import CaseEvent, CaseFeedback
from tests.loop.evaluation_support import build, cases, copy_of, feedback, import_feedback

THREE_RULES = "再不解决我就投诉到消费者协会，客服态度很差"  # escalation flag + service aspects
SERVICE_BAD = "客服态度很差，问了半天没人理"  # service/attitude first
TWO_TOPICS = "问题一直没解决，客服态度也很差"  # service/resolution, then service/attitude


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("evaluation_dedupe"))


@pytest.fixture
def shop(base: Path, tmp_path: Path) -> Iterator[tuple[Store, Settings]]:
    store, settings = copy_of(base, tmp_path)
    yield store, settings
    store.close()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def pending(store: Store, settings: Settings) -> evaluation.EvaluationCounts:
    with session_scope(store.sessions) as session:
        return evaluation.evaluate_pending(session=session, settings=settings, now=now())


def simulated(store: Store, settings: Settings) -> tuple[int, int]:
    """(would open, would attach) of the rules in force over the last two days."""
    with session_scope(store.sessions) as session:
        stored = rule_store.current_rules(session)
        assert stored is not None
        today = dt.datetime.now()
        report = dry_run.dry_run(
            session=session, settings=settings, rules=stored.rules,
            since=today - dt.timedelta(days=2), until=today + dt.timedelta(days=1), now=now(),
        )  # fmt: skip
        return report.would_open, report.would_attach


def test_one_feedback_matching_three_rules_opens_one_case_by_the_most_severe(
    shop: tuple[Store, Settings],
) -> None:
    store, settings = shop
    import_feedback(store, settings, [feedback("f-3", "C-2", THREE_RULES, nps=1)])
    counts = pending(store, settings)
    assert (counts.matched, counts.opened, counts.attached, counts.unchanged) == (3, 1, 0, 2)
    assert simulated(store, settings) == (1, 0)
    with session_scope(store.sessions) as session:
        (case,) = cases(session)
        assert (case.rule_id, case.severity) == ("escalation", "critical")
        also = session.scalars(
            select(CaseEvent.data).where(CaseEvent.kind == "also_matched").order_by(CaseEvent.id)
        ).all()
        assert [(e["rule_id"], e["feedback_id"]) for e in also] == [
            ("detractor-service", "crm:f-3"),
            ("churn-risk", "crm:f-3"),
        ]
        assert all(e["why"] for e in also)
    # the row changes and is evaluated again: still one case, nothing recorded twice
    import_feedback(store, settings, [feedback("f-3", "C-2", THREE_RULES, nps=0)])
    again = pending(store, settings)
    assert (again.checked, again.opened, again.unchanged) == (1, 0, 3)
    with session_scope(store.sessions) as session:
        assert len(cases(session)) == 1
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.kind == "also_matched"))
        assert len(list(kinds)) == 2


def test_a_matched_topic_answer_joins_the_open_case_on_any_topic_it_matched(
    shop: tuple[Store, Settings],
) -> None:
    store, settings = shop
    import_feedback(store, settings, [feedback("f-1", "C-3", SERVICE_BAD, nps=2)])
    assert pending(store, settings).opened == 1
    import_feedback(store, settings, [feedback("f-2", "C-3", TWO_TOPICS, nps=1)])
    again = pending(store, settings)
    assert (again.opened, again.attached) == (0, 1)
    assert simulated(store, settings) == (1, 1)
    with session_scope(store.sessions) as session:
        (case,) = cases(session)
        assert case.topic == "service/attitude"
        attached = session.scalars(select(CaseFeedback.feedback_id).order_by("feedback_id"))
        assert list(attached) == ["crm:f-1", "crm:f-2"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"author_email": "Li.Na@Example.COM"}, {"author_email": " li.na@example.com"}),
        ({"author_phone": "138 0013 8000"}, {"author_phone": "+86 13800138000"}),
    ],
)
def test_answers_without_a_customer_from_one_author_share_a_case(
    shop: tuple[Store, Settings], first: dict[str, str], second: dict[str, str]
) -> None:
    store, settings = shop
    import_feedback(store, settings, [feedback("a-1", None, SERVICE_BAD, nps=1, **first)])
    import_feedback(store, settings, [feedback("a-2", None, SERVICE_BAD, nps=2, **second)])
    counts = pending(store, settings)
    assert (counts.opened, counts.attached) == (1, 1)
    assert simulated(store, settings) == (1, 1)
    with session_scope(store.sessions) as session:
        (case,) = cases(session)
        assert case.customer_id is None
        kind, _, digest = case.dedupe_key.partition(":")
        assert kind == "author" and len(digest) == 16
        assert "example" not in case.dedupe_key and "138" not in case.dedupe_key
