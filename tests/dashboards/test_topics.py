"""The topic explorer's service (``dashboards.topics.explore``) and naming a discovery candidate
into the taxonomy (``dashboards.topic_naming``), on real SQLite stores built through the import
door: a weekly store with a returns spike, a Chinese-named three-level taxonomy with a topic
nobody mentions, and an empty store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.dashboards import topic_naming
from cxloop.dashboards.highlight import marks
from cxloop.dashboards.schemas_topics import TopicNameRequest, TopicsResult
from cxloop.dashboards.topics import explore
from cxloop.db.session import make_engine, make_session_factory, session_scope
from cxloop.errors import Invalid
from cxloop.feedback import service as feedback_service
from cxloop.feedback.enrichment import active_taxonomy, apply_taxonomy
from cxloop.feedback.schemas import AspectRead, FeedbackFilter
from cxloop.metrics.filters import Scope, parse_scope
from cxloop.metrics.intervals import nps_interval
from cxloop.text.taxonomy import parse_taxonomy
from tests.dashboards.topics_data import (
    CHINESE_TAXONOMY,
    PHONE,
    ROWS,
    build_empty,
    build_weekly,
    settings_for,
)
from tests.shared_build import build_once, copy_sqlite


@pytest.fixture(scope="session")
def weekly_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_once(tmp_path_factory, "topics-weekly", build_weekly) / "store.db"


def _store(source: Path, target: Path) -> Settings:
    copy_sqlite(source, target)
    return settings_for(target)


@pytest.fixture(scope="module")
def weekly(weekly_built: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return _store(weekly_built, tmp_path_factory.mktemp("topics") / "store.db")


@pytest.fixture
def session_of() -> Iterator[object]:
    engines = []

    def open_session(settings: Settings) -> Session:
        engine = make_engine(settings)
        engines.append(engine)
        return make_session_factory(engine)()

    yield open_session
    for engine in engines:
        engine.dispose()


def _explore(settings: Settings, **options: object) -> TopicsResult:
    with session_scope(make_session_factory(make_engine(settings))) as session:
        return explore(session=session, settings=settings, **options)  # type: ignore[arg-type]


def _by_path(result: TopicsResult) -> dict[str, object]:
    return {t.path: t for t in result.topics}


def test_volumes_count_each_feedback_once_and_equal_the_verbatims_total(weekly: Settings) -> None:
    found = _explore(weekly, scope=Scope(), period="week")
    topics = _by_path(found)
    expected = {"delivery": 61, "service": 60, "returns": 32}
    assert {p: topics[p].volume for p in expected} == expected  # type: ignore[attr-defined]
    assert found.feedback == sum(1 for r in ROWS if r.text)
    with session_scope(make_session_factory(make_engine(weekly))) as session:
        for path, volume in expected.items():
            page = feedback_service.list_feedback(
                session=session, filters=FeedbackFilter(topic=(path,)), limit=1
            )
            assert page.total == volume


def test_net_sentiment_has_its_interval_and_n(weekly: Settings) -> None:
    topics = _by_path(_explore(weekly, scope=Scope(), period="week"))
    returns = topics["returns"]
    assert returns.mentions == 32 and returns.negative == 32  # type: ignore[attr-defined]
    assert returns.net_sentiment == -1.0  # type: ignore[attr-defined]
    _, low, high = nps_interval([0], [32], [32])  # the metrics' interval for a net share
    assert returns.net_ci_low == low[0] / 100 == -1.0  # type: ignore[attr-defined]
    assert returns.net_ci_high == pytest.approx(high[0] / 100)  # type: ignore[attr-defined]
    assert returns.net_ci_high < -0.7  # type: ignore[attr-defined]


def test_the_last_weeks_returns_jump_is_flagged_emerging_and_spiking(weekly: Settings) -> None:
    found = _explore(weekly, scope=Scope(), period="week")
    topics = _by_path(found)
    returns = topics["returns"]
    assert [p.mentions for p in returns.trend] == [2] * 9 + [14]  # type: ignore[attr-defined]
    assert "14 of 29" in returns.emerging  # type: ignore[attr-defined]
    assert "returns mentions" in returns.spiking  # type: ignore[attr-defined]
    steady = [t for t in found.topics if t.path != "returns" and (t.emerging or t.spiking)]
    assert steady == []
    assert "robust z" in found.flag_rule


def test_too_few_periods_flag_nothing(weekly: Settings) -> None:
    found = _explore(weekly, scope=Scope(), period="month")
    assert len(found.periods) == 3
    assert all(t.emerging is None and t.spiking is None for t in found.topics)


def test_the_scope_narrows_every_number(weekly: Settings) -> None:
    scope = parse_scope("2026-05-04", None, None, ["touchpoint=售后"], now=dt.datetime(2026, 6, 1))
    topics = _by_path(_explore(weekly, scope=scope, period="week"))
    assert topics["returns"].volume == 14  # type: ignore[attr-defined]
    assert topics["delivery"].volume == 0  # type: ignore[attr-defined]


def test_examples_are_the_newest_three_masked_unless_read_pii(weekly: Settings) -> None:
    masked = _by_path(_explore(weekly, scope=Scope(), period="week"))["delivery"]
    shown = _by_path(_explore(weekly, scope=Scope(), period="week", reveal_pii=True))["delivery"]
    assert masked.examples[0].feedback_id.endswith("pii")  # type: ignore[attr-defined]
    assert len(masked.examples) == 3  # type: ignore[attr-defined]
    first, clear = masked.examples[0], shown.examples[0]  # type: ignore[attr-defined]
    assert PHONE not in first.text and "138****8000" in first.text
    assert PHONE in clear.text
    for example in (first, clear):  # the marks cover the text as shown, the aspect marked
        assert "".join(m.text for m in example.marks) == example.text
        assert [m.sentiment for m in example.marks if m.sentiment] == ["negative"]


def test_a_chinese_taxonomy_shows_names_levels_and_unmentioned_topics(
    weekly_built: Path, tmp_path: Path
) -> None:
    settings = _store(weekly_built, tmp_path / "zh.db")
    with session_scope(make_session_factory(make_engine(settings))) as session:
        apply_taxonomy(session=session, taxonomy=parse_taxonomy(CHINESE_TAXONOMY), workers=1)
    found = _explore(settings, scope=Scope(), period="week", lang="zh")
    topics = _by_path(found)
    assert [t.path for t in found.topics][:2] == ["logistics", "logistics/wait"]
    assert topics["logistics"].name == "物流配送"  # type: ignore[attr-defined]
    refund = topics["after_sales/refund"]
    assert refund.depth == 2 and refund.volume == 32  # type: ignore[attr-defined]
    # one text mentions both 退货 and 退款: counted once under the parents, once per leaf
    assert topics["after_sales/refund/goods"].volume == 32  # type: ignore[attr-defined]
    assert topics["after_sales/refund/money"].volume == 32  # type: ignore[attr-defined]
    assert refund.mentions == 64  # type: ignore[attr-defined]
    privacy = topics["privacy"]
    assert privacy.volume == 0 and privacy.net_sentiment is None  # type: ignore[attr-defined]
    assert privacy.examples == [] and privacy.in_taxonomy  # type: ignore[attr-defined]
    assert _explore(settings, scope=Scope(), lang="en").topics[0].name == "Logistics"


def test_an_empty_store_has_the_tree_and_no_numbers(tmp_path: Path) -> None:
    settings = settings_for(build_empty(tmp_path))
    found = _explore(settings, scope=Scope(), period="month")
    assert found.feedback == 0 and found.periods == []
    assert found.topics and all(t.volume == 0 and t.trend == [] for t in found.topics)


def test_an_unknown_period_is_refused_in_words(weekly: Settings) -> None:
    with pytest.raises(Invalid, match="week, month, quarter"):
        _explore(weekly, scope=Scope(), period="year")


# ---------------------------------------------------------------- naming a candidate


def _name(settings: Settings, **fields: object) -> object:
    request = TopicNameRequest(**fields)  # type: ignore[arg-type]
    with session_scope(make_session_factory(make_engine(settings))) as session:
        return topic_naming.name_candidate(session=session, request=request)


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        (
            {"name_zh": "速度", "terms": ["点赞"]},
            "name_zh",
            "already the name of topic delivery/speed",
        ),
        (
            {"name_en": "Delivery", "terms": ["点赞"]},
            "name_en",
            "already the name of topic delivery",
        ),
        ({"name_zh": "好评/表扬", "terms": ["点赞"]}, "name_zh", "must not contain a slash"),
        ({"name_zh": "  ", "terms": ["点赞"]}, "name", "must not be empty"),
        ({"name_zh": "好评", "terms": []}, "terms", "at least one word"),
        ({"name_zh": "好评", "terms": ["退货"]}, "terms", "already belongs to topic returns"),
        ({"name_zh": "好评", "parent": "nope", "terms": ["点赞"]}, "parent", "not a topic path"),
    ],
)
def test_a_bad_name_is_refused_in_words_and_nothing_is_written(
    weekly: Settings, fields: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(Invalid) as caught:
        _name(weekly, **fields)
    assert any(p.field == field and reason in p.reason for p in caught.value.problems), caught.value
    with session_scope(make_session_factory(make_engine(weekly))) as session:
        assert (
            active_taxonomy(session=session).version
            == _explore(weekly, scope=Scope()).taxonomy_version
        )


def test_naming_a_candidate_writes_a_new_version_and_finds_its_texts(
    weekly_built: Path, tmp_path: Path
) -> None:
    settings = _store(weekly_built, tmp_path / "named.db")
    with session_scope(make_session_factory(make_engine(settings))) as session:
        before = active_taxonomy(session=session).version
        [candidate] = topic_naming.candidates(session=session).candidates
    assert "满意" in candidate.keywords
    done = _name(settings, parent="service", name_zh="好评", name_en="Praise", terms=["满意"])
    assert done.path == "service/praise"  # type: ignore[attr-defined]
    assert done.applied.previous_version == before != done.applied.version  # type: ignore[attr-defined]
    assert done.applied.enrichment.analysed == 20  # type: ignore[attr-defined]
    found = _explore(settings, scope=Scope(), period="week")
    assert found.taxonomy_version == done.applied.version  # type: ignore[attr-defined]
    praise = _by_path(found)["service/praise"]
    assert praise.volume == 20 and praise.name == "好评"  # type: ignore[attr-defined]
    again = _name(settings, name_zh="好评价", name_en="", terms=["下次还来"])
    assert again.path == "topic"  # type: ignore[attr-defined]  # a Chinese name only: a plain id


def test_marks_find_clauses_in_masked_text_and_fall_back_to_the_term() -> None:
    text = "物流太慢，电话138****8000。客服很好"
    aspects = [
        AspectRead(
            topic="delivery", term="物流", sentiment="negative", score=-0.5, clause="物流太慢"
        ),
        AspectRead(
            topic="service", term="客服", sentiment="positive", score=0.5, clause="客服很好吧"
        ),
    ]
    found = marks(text, aspects)
    assert "".join(m.text for m in found) == text
    assert [(m.text, m.sentiment) for m in found if m.sentiment] == [
        ("物流太慢", "negative"),
        ("客服", "positive"),
    ]
    assert marks(None, aspects) == [] and marks("", []) == []


def test_a_term_found_ignoring_case_marks_its_own_letters_after_a_folding_letter() -> None:
    # "ß" folds to "ss": an index into the folded text pointed one letter too far
    text = "Straße gut, Delivery slow"
    late = AspectRead(
        topic="delivery", term="delivery", sentiment="negative", score=-0.5, clause="x"
    )
    found = marks(text, [late])
    assert [m.text for m in found if m.sentiment] == ["Delivery"]
    assert "".join(m.text for m in found) == text


def test_the_engines_aggregates_equal_the_mentions_counted_in_pandas_on_store_and_snapshot(
    weekly_built: Path, tmp_path: Path
) -> None:
    """explore() has the engine aggregate the mentions: its numbers equal those counted here
    from every mention row (three levels, a text under two leaves), read live and from DuckDB."""
    from cxloop import engines
    from cxloop.dashboards.freshness import refresh_snapshot
    from cxloop.metrics import service as metrics_service

    settings = _store(weekly_built, tmp_path / "agg.db")
    with session_scope(make_session_factory(make_engine(settings))) as session:
        apply_taxonomy(session=session, taxonomy=parse_taxonomy(CHINESE_TAXONOMY), workers=1)
    backend = engines.store_backend(settings)
    try:
        table = metrics_service.metric_table(backend, "topic_incidence", [], Scope())
        rows = table.select("feedback_id", "topic", "created_at", s=table.topic_sentiment)
        mentions = rows.filter(rows.topic.notnull()).to_pandas()
    finally:
        backend.disconnect()
    live = _explore(settings, scope=Scope(), period="week")
    snapped = settings.model_copy(update={"analytics_snapshot_dir": tmp_path / "snap"})
    refresh_snapshot(snapped)
    snap = _explore(snapped, scope=Scope(), period="week")
    assert (live.freshness.source, snap.freshness.source) == ("store", "snapshot")
    assert live.model_dump(exclude={"freshness"}) == snap.model_dump(exclude={"freshness"})
    for topic in live.topics:
        under = mentions[(mentions["topic"] == topic.path)
                         | mentions["topic"].str.startswith(topic.path + "/")]  # fmt: skip
        assert topic.volume == under["feedback_id"].nunique(), topic.path
        assert topic.mentions == int(under["s"].notna().sum()), topic.path
        assert topic.negative == int((under["s"] == "negative").sum()), topic.path
        newest = under.drop_duplicates("feedback_id").sort_values(
            ["created_at", "feedback_id"], ascending=[False, True]
        )
        assert [e.feedback_id for e in topic.examples] == list(newest["feedback_id"][:3])
    paths = _by_path(live)
    leaves = ("after_sales/refund/goods", "after_sales/refund/money")
    both = sum(paths[p].volume for p in leaves)  # type: ignore[attr-defined]
    assert 0 < paths["after_sales/refund"].volume < both  # type: ignore[attr-defined]
