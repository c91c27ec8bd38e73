"""Reading the verbatims: every filter narrows to exactly the feedback it describes, pages add
up to the total, topics are found by path or zh/en name, and a topic that matches nothing is an
error naming close ones.

Expected sets come from the exported rows (``search_data``) or, for what the text engine read,
from the stored features each unfiltered item carries: the SQL filter and a Python predicate
over the same stored features must agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cxloop import api
from cxloop.config import Settings
from cxloop.errors import Invalid, NotFound
from cxloop.feedback import service as feedback_service
from cxloop.feedback.schemas import FeedbackFilter, FeedbackItem
from tests.conftest import fresh_postgres_database
from tests.feedback.search_data import (
    EN_ROWS,
    EN_SOURCE,
    PHONE,
    SEGMENT,
    ZH_ROWS,
    ZH_SOURCE,
    build_store,
)

ZH = {f"{ZH_SOURCE}:{r.id}": r for r in ZH_ROWS}
EN = {f"{EN_SOURCE}:{r['review_id']}": r for r in EN_ROWS}
ALL = set(ZH) | set(EN)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Session]:
    """The imported exports on SQLite, and on PostgreSQL under ``-m postgres``."""
    with ExitStack() as stack:
        folder = tmp_path_factory.mktemp("search")
        if request.param == "postgres":
            url = stack.enter_context(fresh_postgres_database())
            build_store(folder, url)
        else:
            url = f"sqlite:///{build_store(folder)}"
        store = api.connect(url)
        with store.sessions() as session:
            yield session
        store.close()


@pytest.fixture(scope="module")
def everything(session: Session) -> list[FeedbackItem]:
    page = feedback_service.list_feedback(
        session=session, filters=FeedbackFilter(), limit=1000, reveal_pii=True
    )
    assert page.total == len(ALL) == len(page.items)
    return page.items


def ids(session: Session, **filters: Any) -> set[str]:
    page = feedback_service.list_feedback(
        session=session, filters=FeedbackFilter(**filters), limit=1000, reveal_pii=True
    )
    found = {i.feedback_id for i in page.items}
    assert page.total == len(found)
    return found


def customer_of(feedback_id: str) -> str | None:
    if feedback_id in ZH:
        return ZH[feedback_id].customer
    return EN[feedback_id].get("customer_id") or EN[feedback_id].get("account_id")


def under(topic: str, root: str) -> bool:
    return topic == root or topic.startswith(root + "/")


# ---------------------------------------------------------------- filters on exported fields

EXPORTED: list[tuple[dict[str, Any], Callable[[str], bool]]] = [
    ({"channel": ("app",)}, lambda i: i in ZH and ZH[i].channel == "app"),
    (
        {"channel": ("app", "review")},
        lambda i: (
            (i in EN and EN[i]["channel"] == "review") or (i in ZH and ZH[i].channel == "app")
        ),
    ),
    ({"touchpoint": ("delivery",)}, lambda i: i in ZH and ZH[i].touchpoint == "delivery"),
    ({"segment": ("VIP",)}, lambda i: SEGMENT.get(customer_of(i) or "") == "VIP"),
    ({"segment": ("enterprise",)}, lambda i: i == f"{EN_SOURCE}:R4"),  # the account's segment
    ({"customer_id": ("c1",)}, lambda i: customer_of(i) == "c1"),
    ({"account_id": ("acct-9",)}, lambda i: i == f"{EN_SOURCE}:R4"),
    ({"min_score": 9}, lambda i: i in ZH and (ZH[i].nps or 0) >= 9),
    ({"min_score": 3, "max_score": 5}, lambda i: i in ZH and 3 <= (ZH[i].nps or -1) <= 5),
    ({"score_field": "csat", "max_score": 2}, lambda i: i in EN and EN[i]["csat"] <= 2),
    ({"search": "物流"}, lambda i: i in ZH and "物流" in (ZH[i].text or "")),
    ({"search": "DELIVERY"}, lambda i: i in EN and "delivery" in EN[i]["comment"].lower()),
    ({"search": "%"}, lambda i: False),  # a LIKE wildcard is searched for, not obeyed
    ({"search": "_"}, lambda i: False),
    (
        {"since": dt.datetime(2026, 3, 5), "until": dt.datetime(2026, 3, 12)},
        lambda i: i in {"crm:A5", "crm:A6", "crm:A7", "crm:A8", "crm:A9", "crm:A10", "shop:R1"},
    ),
    ({"linked": False}, lambda i: customer_of(i) in (None, "acct-9")),
]


@pytest.mark.parametrize(("filters", "keep"), EXPORTED, ids=[str(f) for f, _ in EXPORTED])
def test_each_filter_on_exported_fields_narrows_to_exactly_its_rows(
    session: Session, filters: dict[str, Any], keep: Callable[[str], bool]
) -> None:
    expected = {i for i in ALL if keep(i)}
    assert ids(session, **filters) == expected
    assert len(expected) < len(ALL)


def test_time_bounds_with_an_offset_are_compared_in_utc(session: Session) -> None:
    # crm:A10 was written 2026-03-10 09:00 in Shanghai: 01:00 UTC
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert "crm:A10" in ids(session, since=dt.datetime(2026, 3, 10, 9, 0, tzinfo=shanghai))
    assert "crm:A10" not in ids(session, since=dt.datetime(2026, 3, 10, 1, 1))


# ---------------------------------------------------------------- filters on stored features


def features_of(item: FeedbackItem) -> Any:
    assert item.features is not None, item.feedback_id
    return item.features


FEATURED: list[tuple[dict[str, Any], Callable[[FeedbackItem], bool]]] = [
    (
        {"topic": ("delivery",)},
        lambda i: any(under(t.topic, "delivery") for t in i.features.topics),
    ),
    (
        {"topic": ("delivery/speed",)},
        lambda i: any(t.topic == "delivery/speed" for t in i.features.topics),
    ),
    (
        {"aspect": ("delivery:negative",)},
        lambda i: any(
            under(t.topic, "delivery") and t.sentiment == "negative" for t in i.features.topics
        ),
    ),
    (
        {"aspect": ("物流配送:positive",)},
        lambda i: any(
            under(t.topic, "delivery") and t.sentiment == "positive" for t in i.features.topics
        ),
    ),
    ({"sentiment": ("negative",)}, lambda i: i.features.sentiment == "negative"),
    ({"intent": ("complaint",)}, lambda i: i.features.intent == "complaint"),
    ({"flag": ("churn_intent",)}, lambda i: "churn_intent" in i.features.flags),
    ({"language": ("en",)}, lambda i: i.features.language == "en"),
    (
        {"channel": ("app",), "sentiment": ("negative",)},
        lambda i: i.channel == "app" and i.features.sentiment == "negative",
    ),
]


@pytest.mark.parametrize(("filters", "keep"), FEATURED, ids=[str(f) for f, _ in FEATURED])
def test_each_filter_on_stored_features_agrees_with_the_features_items_carry(
    session: Session,
    everything: list[FeedbackItem],
    filters: dict[str, Any],
    keep: Callable[[FeedbackItem], bool],
) -> None:
    expected = {i.feedback_id for i in everything if i.features is not None and keep(i)}
    assert expected, "the planted texts should give this filter something to keep"
    assert len(expected) < len(ALL)
    assert ids(session, **filters) == expected


def test_the_engine_read_the_planted_texts(everything: list[FeedbackItem]) -> None:
    by_id = {i.feedback_id: i for i in everything}
    assert by_id["crm:A6"].features is not None and by_id["crm:A6"].features.language == "none"
    assert "churn_intent" in features_of(by_id["crm:A3"]).flags  # 再也不买了
    assert any(under(t.topic, "delivery") for t in features_of(by_id["crm:A1"]).topics)
    assert features_of(by_id["shop:R1"]).language == "en"


@pytest.mark.parametrize("name", ["delivery", "Delivery", "物流配送", "物流", "DELIVERY "])
def test_a_topic_is_found_by_path_or_by_its_zh_or_en_name(session: Session, name: str) -> None:
    assert ids(session, topic=(name,)) == ids(session, topic=("delivery",))


def test_an_unknown_topic_is_an_error_naming_close_matches(session: Session) -> None:
    with pytest.raises(Invalid) as raised:
        ids(session, topic=("delivry", "物料"))
    problems = raised.value.problems
    assert [(p.field, p.value) for p in problems] == [("topic", "delivry"), ("topic", "物料")]
    assert "close matches: delivery (物流配送 / Delivery)" in problems[0].reason
    assert "delivery" in problems[1].reason


@pytest.mark.parametrize("bad", ["delivery", "delivery:awful", ":negative"])
def test_an_aspect_needs_a_topic_and_a_sentiment(session: Session, bad: str) -> None:
    with pytest.raises(Invalid) as raised:
        ids(session, aspect=(bad,))
    assert raised.value.problems[0].field == "aspect"


def test_a_filter_value_nothing_has_comes_back_with_a_note(session: Session) -> None:
    page = feedback_service.list_feedback(
        session=session, filters=FeedbackFilter(channel=("apps",), segment=("vip",))
    )
    assert page.total == 0
    assert any("channel 'apps'; did you mean app?" in note for note in page.notes), page.notes
    assert any("segment 'vip'; did you mean VIP?" in note for note in page.notes), page.notes


@pytest.mark.parametrize("spelling", ["APP", "ＡＰＰ", "App"])
def test_a_channel_alias_finds_what_the_import_stored(session: Session, spelling: str) -> None:
    """The import stores APP as app; reading by the file's own spelling finds those rows."""
    by_alias = feedback_service.list_feedback(
        session=session, filters=FeedbackFilter(channel=(spelling,)), limit=500
    )
    stored = feedback_service.list_feedback(
        session=session, filters=FeedbackFilter(channel=("app",)), limit=500
    )
    assert by_alias.total == stored.total > 0
    assert {i.feedback_id for i in by_alias.items} == {i.feedback_id for i in stored.items}
    assert not by_alias.notes


# ---------------------------------------------------------------- pages and items


def test_pages_add_up_to_the_total_newest_first(session: Session) -> None:
    seen: list[FeedbackItem] = []
    for offset in range(0, 30, 4):
        page = feedback_service.list_feedback(
            session=session, filters=FeedbackFilter(), limit=4, offset=offset
        )
        assert page.total == len(ALL)
        assert len(page.items) == max(0, min(4, len(ALL) - offset))
        seen += page.items
    assert [i.feedback_id for i in seen] == list(dict.fromkeys(i.feedback_id for i in seen))
    assert {i.feedback_id for i in seen} == ALL
    stamps = [i.created_at for i in seen]
    assert stamps == sorted(stamps, reverse=True)


def test_a_filtered_total_counts_every_match_not_the_page(session: Session) -> None:
    page = feedback_service.list_feedback(
        session=session, filters=FeedbackFilter(channel=("app", "survey")), limit=2, offset=1
    )
    app_or_survey = {i for i in ZH if ZH[i].channel in ("app", "survey")}
    assert page.total == len(app_or_survey) > 3 and len(page.items) == 2


def test_an_item_carries_its_stored_features_and_profile(session: Session) -> None:
    item = feedback_service.get_feedback(session=session, feedback_id="shop:R3", reveal_pii=True)
    assert item.segment == "VIP" and item.region == "US" and item.csat == 1
    f = features_of(item)
    assert f.language == "en" and f.current and f.sentiment == "negative"
    assert "churn_intent" in f.flags
    assert any(a.clause and a.clause in (item.text or "") for a in f.aspects)
    assert {t.topic for t in f.topics} >= {a.topic for a in f.aspects}


def test_personal_data_is_masked_unless_revealed(session: Session) -> None:
    clear = feedback_service.get_feedback(session=session, feedback_id="crm:A5", reveal_pii=True)
    masked = feedback_service.get_feedback(session=session, feedback_id="crm:A5")
    assert PHONE in (clear.text or "") and clear.author_phone
    assert PHONE not in (masked.text or "") and "138****8000" in (masked.text or "")
    assert masked.author_phone and masked.author_phone != clear.author_phone
    for aspect in features_of(masked).aspects:
        assert PHONE not in aspect.clause


def test_a_missing_id_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        feedback_service.get_feedback(session=session, feedback_id="crm:nope")


def test_channels_are_counted_as_stored(session: Session) -> None:
    counts = feedback_service.channel_counts(session=session)
    expected: dict[str, int] = {}
    for channel in [r.channel for r in ZH_ROWS] + [r["channel"] for r in EN_ROWS]:
        expected[channel] = expected.get(channel, 0) + 1
    assert {c.channel: c.n for c in counts} == expected
    assert [c.n for c in counts] == sorted(expected.values(), reverse=True)
    assert sum(c.share for c in counts) == pytest.approx(1)
    vip = feedback_service.channel_counts(session=session, filters=FeedbackFilter(segment=("VIP",)))
    assert sum(c.n for c in vip) == len(ids(session, segment=("VIP",)))


def test_an_empty_store_reads_as_empty(tmp_path: Path) -> None:
    store = api.connect(f"sqlite:///{tmp_path / 'empty.db'}")
    with store.sessions() as session:
        page = feedback_service.list_feedback(
            session=session, filters=FeedbackFilter(channel=("app",), search="物流")
        )
        assert page.total == 0 and page.items == []
        assert feedback_service.channel_counts(session=session) == []
    store.close()


def test_a_text_edited_since_analysis_is_masked_by_its_own_personal_data(tmp_path: Path) -> None:
    """Stored spans belong to the old text: the new one is searched for personal data before
    it is shown, and its features say they are stale (no clause cut from the wrong text)."""
    url = f"sqlite:///{tmp_path / 'edited.db'}"
    row = {"feedback_id": "T-1", "channel": "ticket", "created_at": "2026-03-01 10:00"}
    analysed = api.connect(settings=Settings(database_url=url, enrich_on_import=True))
    api.import_records(analysed, "feedback", [{**row, "text": "快递太慢了，电话13800138000"}])
    analysed.close()
    edited = api.connect(settings=Settings(database_url=url, enrich_on_import=False))
    api.import_records(edited, "feedback", [{**row, "text": "客服没回复，邮箱 li.na@example.com"}])
    with edited.sessions() as session:
        [item] = feedback_service.list_feedback(session=session, filters=FeedbackFilter()).items
    edited.close()
    assert item.text == "客服没回复，邮箱 l***@example.com"
    features = features_of(item)
    assert not features.current and features.aspects  # read in the old text (快递太慢)
    assert all(a.clause == "" for a in features.aspects)


def test_reading_everything_page_after_page_keeps_every_row_once(
    session: Session, everything: list[FeedbackItem], tmp_path: Path
) -> None:
    """Keyset pages (``after`` the last item) give the offset order, ties in time included."""
    url = f"sqlite:///{tmp_path / 'ties.db'}"
    tied = api.connect(settings=Settings(database_url=url, enrich_on_import=False))
    stamp = {"channel": "survey", "created_at": "2026-03-01 10:00"}
    api.import_records(tied, "feedback", [{**stamp, "feedback_id": f"S{n}"} for n in range(7)])
    with tied.sessions() as tied_session:
        for reading, expected in ((session, everything), (tied_session, None)):
            pages: list[FeedbackItem] = []
            page = feedback_service.list_feedback(
                session=reading, filters=FeedbackFilter(), limit=2
            )
            while page.items:
                pages += page.items
                page = feedback_service.list_feedback(
                    session=reading,
                    filters=FeedbackFilter(),
                    limit=2,
                    count=False,
                    after=pages[-1],
                )
            ids = [i.feedback_id for i in pages]
            if expected is None:
                assert sorted(ids) == ids == [f":S{n}" for n in range(7)]
            else:
                assert ids == [i.feedback_id for i in expected]
    tied.close()


@pytest.mark.parametrize(
    ("bounds", "field"),
    [
        ({"min_score": 5, "max_score": 1}, "max_score"),
        ({"since": dt.datetime(2026, 3, 10), "until": dt.datetime(2026, 3, 1)}, "until"),
        ({"since": dt.datetime(2026, 3, 10), "until": dt.datetime(2026, 3, 10)}, "until"),
    ],
)
def test_a_range_that_nothing_can_match_is_refused_on_its_end(
    bounds: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        FeedbackFilter(**bounds)
    assert [e["loc"] for e in raised.value.errors()] == [(field,)]
