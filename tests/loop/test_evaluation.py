"""Alert rules at work on a real store: each condition family matches stored, enriched rows and
opens a case with owner, priority and SLA due times; a repeat attaches; a changed row is looked
at again, an unchanged one never; a row whose text is not read yet waits; rules saved after a
row was stored leave it alone; two transactions on one customer and topic open one case."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cxloop.api import Store, connect
from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.feedback import service as feedback_service
from cxloop.loop import evaluation, rule_store
from cxloop.loop import service as loop_service
from cxloop.loop.models import CaseFeedback, FeedbackCheck, LoopState
from tests.loop.case_support import (
    add_feedback,
    detractor,
    match_of,
    policy,
    routing,
    set_up_teams,
)
from tests.loop.evaluation_support import (
    build,
    cases,
    copy_of,
    feedback,
    fill,
    import_feedback,
    matched,
)

SERVICE_BAD = "客服态度很差，问了半天没人理"
DELIVERY_SLOW = "配送太慢了，等了两天才到"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("evaluation"))


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


def test_each_condition_family_opens_a_case_with_owner_priority_and_due_times(
    shop: tuple[Store, Settings],
) -> None:
    store, settings = shop
    import_feedback(
        store,
        settings,
        [
            feedback("f-vip", "C-1", DELIVERY_SLOW, nps=8),  # aspect + top-20 % value
            feedback("f-low", "C-4", DELIVERY_SLOW, nps=8),  # same words, value rank 60
            feedback("f-svc", "C-3", SERVICE_BAD, nps=2),  # detractor + service aspect
            feedback("f-esc", "C-5", "再不解决我就投诉到消费者协会"),  # escalation flag
            feedback("f-churn", "C-2", "东西质量太差了，很失望", nps=7),  # churn risk 0.9
            feedback("f-anon", None, SERVICE_BAD, nps=1),  # unlinked detractor: its own case
        ],
    )
    counts = pending(store, settings)
    assert counts.as_counts() == {
        "checked": 6, "matched": 5, "opened": 5, "attached": 0, "unchanged": 0, "skipped": 0,
    }  # fmt: skip
    with session_scope(store.sessions) as session:
        assert matched(session) == {
            "f-vip": ["vip-delivery"],
            "f-low": [],
            "f-svc": ["detractor-service"],
            "f-esc": ["escalation"],
            "f-churn": ["churn-risk"],
            "f-anon": ["detractor-service"],
        }
        opened = {c.rule_id: c for c in cases(session) if c.customer_id != "C-3"}
        assert opened["vip-delivery"].topic == "delivery/speed"
        assert opened["escalation"].severity == "critical"
        assert opened["churn-risk"].topic == "rule:churn-risk"
        assert opened["detractor-service"].dedupe_key == "feedback:crm:f-anon"
        for case in cases(session):
            assert case.owner and case.team and case.priority in ("p1", "p2", "p3", "p4")
            assert case.first_response_due and case.resolution_due
            assert case.resolution_due > case.opened_at
    # nothing new: a second run looks at nothing
    assert pending(store, settings).checked == 0


def test_a_repeat_on_the_same_topic_attaches_to_the_open_case(
    shop: tuple[Store, Settings],
) -> None:
    store, settings = shop
    import_feedback(store, settings, [feedback("f-1", "C-3", SERVICE_BAD, nps=2)])
    assert pending(store, settings).opened == 1
    import_feedback(store, settings, [feedback("f-2", "C-3", "客服态度还是很差", nps=1)])
    again = pending(store, settings)
    assert (again.checked, again.opened, again.attached) == (1, 0, 1)
    with session_scope(store.sessions) as session:
        assert len(cases(session)) == 1
        attached = session.scalars(select(CaseFeedback.feedback_id).order_by("feedback_id"))
        assert list(attached) == ["crm:f-1", "crm:f-2"]


def test_a_changed_row_is_evaluated_again_and_an_unchanged_one_is_not(
    shop: tuple[Store, Settings],
) -> None:
    store, settings = shop
    import_feedback(store, settings, [feedback("f-1", "C-4", "一切都很好，谢谢", nps=9)])
    first = pending(store, settings)
    assert (first.checked, first.matched) == (1, 0)
    import_feedback(store, settings, [feedback("f-1", "C-4", "一切都很好，谢谢", nps=9)])
    assert pending(store, settings).checked == 0  # same row: not looked at twice
    run = import_feedback(store, settings, [feedback("f-1", "C-4", SERVICE_BAD, nps=1)])
    with session_scope(store.sessions) as session:
        changed = evaluation.evaluate_run(session=session, settings=settings, run_id=run, now=now())
    assert (changed.checked, changed.opened) == (1, 1)
    with session_scope(store.sessions) as session:
        assert matched(session) == {"f-1": ["detractor-service"]}
        check = session.get(FeedbackCheck, "crm:f-1")
        assert check is not None and check.rule_set_version == 1
        # the job after the request: the row is checked as it is now, nothing happens again
        assert (
            evaluation.evaluate_pending(session=session, settings=settings, now=now()).checked == 0
        )


def test_a_row_whose_text_is_not_read_yet_waits_and_is_evaluated_once_enriched(
    base: Path, tmp_path: Path
) -> None:
    store, settings = copy_of(base, tmp_path, enrich_on_import=False)
    try:
        import_feedback(store, settings, [feedback("f-1", "C-3", SERVICE_BAD, nps=2)])
        import_feedback(store, settings, [feedback("f-2", "C-4", None, nps=1)])  # no text
        waiting = pending(store, settings)
        assert (waiting.skipped, waiting.checked, waiting.opened) == (1, 1, 0)
        with session_scope(store.sessions) as session:
            assert set(matched(session)) == {"f-2"}  # the waiting row has no check yet
            feedback_service.enrich_stored(session=session, feedback_ids=["crm:f-1"])
        done = pending(store, settings)  # the watermark waited for it
        assert (done.skipped, done.checked, done.opened) == (0, 1, 1)
    finally:
        store.close()


def test_rules_saved_after_feedback_was_stored_open_no_case_for_it(
    shop: tuple[Store, Settings],
) -> None:
    store, settings = shop
    import_feedback(store, settings, [feedback("old", "C-3", SERVICE_BAD, nps=2)])
    time.sleep(0.01)
    with session_scope(store.sessions) as session:
        text = rule_store.current_read(session).yaml + "# v2\n"
        saved = rule_store.save_rules(session=session, text=text, actor="analyst", now=now())
        assert saved.version == 2
    assert pending(store, settings).as_counts() == evaluation.EvaluationCounts().as_counts()
    import_feedback(store, settings, [feedback("new", "C-3", SERVICE_BAD, nps=2)])
    assert pending(store, settings).opened == 1
    with session_scope(store.sessions) as session:
        assert matched(session) == {"new": ["detractor-service"]}
        assert session.get(FeedbackCheck, "crm:new").rule_set_version == 2  # type: ignore[union-attr]


def test_a_store_without_rules_counts_nothing_and_writes_nothing(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'none.db'}")
    store = connect(settings=settings)
    try:
        run = import_feedback(store, settings, [feedback("f-1", "C-3", SERVICE_BAD, nps=2)])
        with session_scope(store.sessions) as session:
            assert pending(store, settings).as_counts() == evaluation.EvaluationCounts().as_counts()
            assert evaluation.after_import(
                session=session, settings=settings, kind="feedback", run_id=run, now=now()
            ) is None  # fmt: skip
            assert session.scalar(select(func.count()).select_from(FeedbackCheck)) == 0
            assert session.scalar(select(func.count()).select_from(LoopState)) == 0
    finally:
        store.close()


def test_a_failing_evaluation_keeps_the_stored_feedback_and_says_why(
    base: Path, tmp_path: Path
) -> None:
    store, settings = copy_of(base, tmp_path, loop_routing=str(tmp_path / "missing.yaml"))
    try:
        run = import_feedback(store, settings, [feedback("f-1", "C-3", SERVICE_BAD, nps=2)])
        with session_scope(store.sessions) as session:
            counts = evaluation.after_import(
                session=session, settings=settings, kind="feedback", run_id=run, now=now()
            )
            assert counts is not None and counts.error == "Invalid"
            assert "not applied (Invalid)" in counts.sentence()
        with session_scope(store.sessions) as session:
            assert matched(session) == {} and cases(session) == []
            assert session.scalar(select(func.count()).select_from(CaseFeedback)) == 0
            from cxloop.feedback.models import Feedback

            assert session.get(Feedback, "crm:f-1") is not None
    finally:
        store.close()


def test_the_counts_read_as_one_sentence() -> None:
    counts = evaluation.EvaluationCounts(checked=5, matched=4, opened=3, attached=1)
    assert counts.sentence() == (
        "Alert rules: 3 cases opened, 1 attached to open cases (5 feedback rows checked, 4 matches)"
    )
    assert evaluation.EvaluationCounts(checked=1).sentence().startswith("Alert rules: 0 cases")


def test_two_transactions_on_one_customer_and_topic_open_one_case(
    shop: tuple[Store, Settings],
) -> None:
    """The first transaction holds its new case uncommitted while the second looks: without
    the lock the second finds nothing and opens a duplicate; with it, it waits and attaches."""
    race(shop[0])


@pytest.mark.postgres
def test_two_transactions_open_one_case_on_postgresql(postgres_url: str) -> None:
    store = connect(settings=Settings(database_url=postgres_url))
    try:
        with session_scope(store.sessions) as session:
            set_up_teams(session)
        race(store)
    finally:
        store.close()


@pytest.mark.postgres
def test_rules_run_on_postgresql_as_on_sqlite(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, import_batch_size=1000)
    store = connect(settings=settings)
    try:
        fill(store, settings)
        import_feedback(store, settings, [feedback("f-1", "C-3", SERVICE_BAD, nps=2)])
        import_feedback(store, settings, [feedback("f-2", "C-3", "客服态度还是很差", nps=1)])
        import_feedback(store, settings, [feedback("f-3", "C-1", DELIVERY_SLOW, nps=8)])
        counts = pending(store, settings)
        assert (counts.checked, counts.opened, counts.attached) == (3, 2, 1)
        assert pending(store, settings).checked == 0
        with session_scope(store.sessions) as session:
            assert matched(session)["f-3"] == ["vip-delivery"]
    finally:
        store.close()


def race(store: Store) -> None:
    with session_scope(store.sessions) as session:
        add_feedback(session, "race-1", customer_id="C-9")
        add_feedback(session, "race-2", customer_id="C-9")
    first, second = detractor("race-1", customer_id="C-9"), detractor("race-2", customer_id="C-9")
    outcomes: dict[str, str] = {}
    started = threading.Event()

    def other() -> None:
        with session_scope(store.sessions) as session:
            started.set()
            made = loop_service.open_from_match(
                session=session, facts=second, match=match_of(second), policy=policy(),
                routing_rules=routing(), now=now(),
            )  # fmt: skip
            outcomes["second"] = made.outcome

    with session_scope(store.sessions) as session:
        made = loop_service.open_from_match(
            session=session, facts=first, match=match_of(first), policy=policy(),
            routing_rules=routing(), now=now(),
        )  # fmt: skip
        outcomes["first"] = made.outcome
        thread = threading.Thread(target=other)
        thread.start()
        assert started.wait(5)
        time.sleep(0.5)  # the second transaction is waiting on the lock meanwhile
        assert "second" not in outcomes
    thread.join(30)
    assert outcomes == {"first": "opened", "second": "attached"}
    with session_scope(store.sessions) as session:
        assert [c.customer_id for c in cases(session)] == ["C-9"]
        assert session.scalar(select(func.count()).select_from(CaseFeedback)) == 2
        locks = session.scalar(select(func.count()).select_from(LoopState))
        assert locks == 0  # the lock rows are gone with their transactions
