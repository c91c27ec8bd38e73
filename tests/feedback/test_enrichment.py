"""Text features of stored feedback: analysed once at import, re-analysed only when needed.

Runs on a real SQLite file, and on PostgreSQL under ``-m postgres``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from cxloop.api import Store, connect, import_file
from cxloop.db.session import session_scope
from cxloop.errors import Invalid
from cxloop.feedback import discovery as discovery_service
from cxloop.feedback import enrichment as enrichment_service
from cxloop.feedback.models import TaxonomyVersion
from cxloop.text.taxonomy import Taxonomy, load_taxonomy, parse_taxonomy

HEADER = "feedback_id,channel,created_at,text,nps"
ROWS = [
    "F1,review,2026-01-01,送货很快但是客服态度很差,6",
    "F2,review,2026-01-02,The zorblax filter broke after a week,3",
    "F3,survey,2026-01-03,,9",
    "F4,survey,2026-01-04,包装很好，价格也便宜,10",
    "F5,chat,2026-01-05,my ZORBLAX is noisy and the app keeps crashing,2",
    "F6,ticket,2026-01-06,退款一直不到账，客服不回复,0",
    "F7,review,2026-01-07,Delivery was late and the driver was rude,1",
    "F8,survey,2026-01-08,12345,8",
]
NEW_TERM = "zorblax"
"""In two texts (F2, F5 — once upper-cased) and in no shipped taxonomy term."""


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _rows(store: Store, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql), params)]


def _enriched_at(store: Store) -> dict[str, Any]:
    return {k: v for k, v in _rows(store, "SELECT feedback_id, enriched_at FROM feedback_text")}


def _topics(store: Store, feedback_id: str) -> dict[str, str]:
    rows = _rows(
        store,
        "SELECT topic, sentiment FROM feedback_topic WHERE feedback_id = :id",
        id=feedback_id,
    )
    return {topic: sentiment for topic, sentiment in rows}


def _with_new_term(base: Taxonomy) -> Taxonomy:
    """The shipped taxonomy plus one English term under quality/product."""
    data = yaml.safe_load(base.to_yaml())
    quality = next(n for n in data["nodes"] if n["id"] == "quality")
    product = next(n for n in quality["children"] if n["id"] == "product")
    product["terms"]["en"].append(NEW_TERM)
    return parse_taxonomy(data)


def test_import_stores_features_for_every_row_and_one_row_per_topic(
    store: Store, tmp_path: Path
) -> None:
    summary = import_file(store, "feedback", _csv(tmp_path / "f.csv", ROWS))
    assert (summary.inserted, summary.enriched) == (len(ROWS), len(ROWS))
    features = {
        r[0]: r[1:]
        for r in _rows(
            store, "SELECT feedback_id, language, sentiment, intent, pii FROM feedback_text"
        )
    }
    assert len(features) == len(ROWS)
    topics = _topics(store, ":F1")
    assert topics["delivery/speed"] == "positive"
    assert topics["service/attitude"] == "negative"
    assert features[":F3"][:2] == ("none", "neutral")  # no text: a neutral row, not a gap
    assert features[":F8"][0] in ("none", "other")
    levels = _rows(
        store, "SELECT topic, topic_l1 FROM feedback_topic WHERE feedback_id = :id", id=":F1"
    )
    assert [level for _, level in levels] == [topic.split("/")[0] for topic, _ in levels]


def test_topic_incidence_and_net_sentiment_come_from_sql(store: Store, tmp_path: Path) -> None:
    import_file(store, "feedback", _csv(tmp_path / "f.csv", ROWS))
    rows = _rows(
        store,
        """SELECT t.topic_l1, count(DISTINCT t.feedback_id),
                  sum(CASE WHEN t.sentiment = 'positive' THEN 1
                           WHEN t.sentiment = 'negative' THEN -1 ELSE 0 END)
           FROM feedback_topic t GROUP BY t.topic_l1""",
    )
    by_topic = {topic: (n, net) for topic, n, net in rows}
    assert by_topic["service"][0] >= 2  # F1 and F6 mention service
    assert by_topic["service"][1] < 0


def test_reimport_of_same_file_analyses_nothing(store: Store, tmp_path: Path) -> None:
    path = _csv(tmp_path / "f.csv", ROWS)
    import_file(store, "feedback", path)
    before = _enriched_at(store)
    again = import_file(store, "feedback", path)
    assert (again.unchanged, again.enriched) == (len(ROWS), 0)
    assert _enriched_at(store) == before


def test_changed_text_is_reanalysed_and_an_edit_elsewhere_is_not(
    store: Store, tmp_path: Path
) -> None:
    import_file(store, "feedback", _csv(tmp_path / "a.csv", ROWS))
    before = _enriched_at(store)
    edited = [
        ROWS[0].replace("但是客服态度很差", "，客服态度也很好"),  # text changed
        ROWS[3].replace(",10", ",7"),  # only the score changed
    ]
    summary = import_file(store, "feedback", _csv(tmp_path / "b.csv", edited))
    assert (summary.updated, summary.enriched) == (2, 1)
    after = _enriched_at(store)
    assert after[":F1"] != before[":F1"]
    assert {k: v for k, v in after.items() if k != ":F1"} == {
        k: v for k, v in before.items() if k != ":F1"
    }
    assert _topics(store, ":F1")["service/attitude"] == "positive"
    stale = _rows(
        store,
        """SELECT count(*) FROM feedback f JOIN feedback_text t ON t.feedback_id = f.feedback_id
           WHERE t.source_row_hash <> f.row_hash""",
    )
    assert stale == [(0,)]  # the score-only edit moved its mark without an analysis


def test_import_with_enrichment_off_leaves_rows_for_reenrich(store: Store, tmp_path: Path) -> None:
    off = store.settings.model_copy(update={"enrich_on_import": False})
    plain = connect(settings=off)
    summary = import_file(plain, "feedback", _csv(tmp_path / "f.csv", ROWS))
    plain.close()
    assert summary.enriched == 0 and _enriched_at(store) == {}
    with session_scope(store.sessions) as session:
        assert enrichment_service.count_stale(session=session) == len(ROWS)
        done = enrichment_service.reenrich(session=session, workers=1)
    assert (done.candidates, done.analysed) == (len(ROWS), len(ROWS))
    assert len(_enriched_at(store)) == len(ROWS)


def test_applying_a_taxonomy_with_one_new_term_reanalyses_only_texts_containing_it(
    store: Store, tmp_path: Path
) -> None:
    import_file(store, "feedback", _csv(tmp_path / "f.csv", ROWS))
    before = _enriched_at(store)
    with session_scope(store.sessions) as session:
        old = enrichment_service.active_taxonomy(session=session)
        new = _with_new_term(old)
        result = enrichment_service.apply_taxonomy(session=session, taxonomy=new, workers=1)
    assert (result.changed, result.changed_terms) == (True, 1)
    assert (result.enrichment.analysed, result.enrichment.refreshed) == (2, len(ROWS) - 2)
    after = _enriched_at(store)
    assert {k for k in after if after[k] != before[k]} == {":F2", ":F5"}
    assert "quality/product" in _topics(store, ":F5")
    versions = _rows(store, "SELECT DISTINCT taxonomy_version FROM feedback_text")
    assert versions == [(new.version,)]
    with session_scope(store.sessions) as session:
        assert enrichment_service.active_taxonomy(session=session).version == new.version
        again = enrichment_service.apply_taxonomy(session=session, taxonomy=new, workers=1)
    assert (again.changed, again.enrichment.candidates) == (False, 0)


def test_reenrich_finishes_what_an_interrupted_run_left_stale(store: Store, tmp_path: Path) -> None:
    import_file(store, "feedback", _csv(tmp_path / "f.csv", ROWS))
    with store.engine.begin() as connection:  # a crash-like state, three kinds of stale
        for table in ("feedback_topic", "feedback_text"):
            connection.execute(
                text(f"DELETE FROM {table} WHERE feedback_id IN (:a, :b)"), {"a": ":F1", "b": ":F2"}
            )
        connection.execute(
            text("UPDATE feedback_text SET model_version = 'old' WHERE feedback_id = :id"),
            {"id": ":F4"},
        )
    new = _with_new_term(load_taxonomy())
    with session_scope(store.sessions) as session:  # an apply killed after storing the taxonomy
        session.add(TaxonomyVersion(version=new.version, yaml=new.to_yaml()))
    session = store.sessions()
    commits = 0

    def commit_then_die_on_the_second() -> None:
        nonlocal commits
        session.commit()
        commits += 1
        if commits == 2:
            raise KeyboardInterrupt  # as Ctrl-C would, between two committed batches

    with pytest.raises(KeyboardInterrupt):
        enrichment_service.enrich_feedback(
            session=session, batch_size=1, checkpoint=commit_then_die_on_the_second
        )
    session.rollback()
    session.close()
    with session_scope(store.sessions) as session:
        left = enrichment_service.count_stale(session=session)
        done = enrichment_service.reenrich(session=session, workers=1, checkpoint=session.commit)
    assert 0 < left < len(ROWS)
    assert done.candidates == left
    with session_scope(store.sessions) as session:
        assert enrichment_service.count_stale(session=session) == 0
        nothing = enrichment_service.reenrich(session=session, workers=1)
    assert nothing.candidates == 0
    features = _rows(store, "SELECT taxonomy_version, model_version FROM feedback_text")
    assert len(features) == len(ROWS)
    assert {v for v, _ in features} == {new.version}
    assert {m for _, m in features} == {enrichment_service.model_version()}
    assert "quality/product" in _topics(store, ":F2")


def test_reenrich_all_reanalyses_every_row(store: Store, tmp_path: Path) -> None:
    import_file(store, "feedback", _csv(tmp_path / "f.csv", ROWS))
    with session_scope(store.sessions) as session:
        stale = enrichment_service.reenrich(session=session, workers=1)
        forced = enrichment_service.reenrich(session=session, all_rows=True, workers=1)
    assert (stale.candidates, stale.analysed) == (0, 0)
    assert (forced.candidates, forced.analysed) == (len(ROWS), len(ROWS))


def test_a_topic_path_too_long_for_the_store_is_refused(store: Store) -> None:
    data = {
        "nodes": [
            {"id": "a" * 70, "name": {"zh": "长", "en": "long"}, "terms": {"en": ["longword"]}}
        ]
    }
    with session_scope(store.sessions) as session, pytest.raises(Invalid) as raised:
        enrichment_service.apply_taxonomy(session=session, taxonomy=parse_taxonomy(data))
    assert raised.value.problems[0].value == "a" * 70


def test_discovered_examples_never_show_personal_data(store: Store, tmp_path: Path) -> None:
    rows = [
        f"D{i},chat,2026-02-{1 + i % 28:02d},"
        f"Please call me back at 138{i:04d}8000 or mail li.na{i}@example.com thanks,"
        for i in range(30)
    ] + [f"E{i},chat,2026-02-01,Where can I find the user manual in pdf {i},5" for i in range(30)]
    import_file(store, "feedback", _csv(tmp_path / "d.csv", rows))
    with session_scope(store.sessions) as session:
        found = discovery_service.discover(session=session, max_topics=4)
    shown = " ".join(e for c in found for e in [*c.examples, *c.keywords])
    assert found and "@example.com" in shown  # masked, not dropped: l***@example.com
    assert "li.na" not in shown and re.search(r"\d{11}", shown) is None


def test_mask_spans_masks_each_span_in_place() -> None:
    masked = discovery_service.mask_spans(
        "邮箱 li.na@example.com 电话 13800138000",
        [
            {"kind": "email", "start": 3, "end": 20},
            {"kind": "phone", "start": 24, "end": 35},
        ],
    )
    assert masked == "邮箱 l***@example.com 电话 138****8000"


@pytest.mark.parametrize("library", enrichment_service.ENGINE_LIBRARIES)
def test_upgrading_a_library_the_engine_uses_changes_the_model_version(
    library: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Features computed before a jieba, py3langid, VADER, scikit-learn, NumPy or phonenumbers
    upgrade are stale after it: the libraries' versions are part of the engine's."""
    installed = enrichment_service.metadata.version

    def upgraded(name: str) -> str:
        return "999.0" if name == library else installed(name)

    enrichment_service.model_version.cache_clear()
    try:
        before = enrichment_service.model_version()
        assert before == enrichment_service.model_version()  # deterministic
        enrichment_service.model_version.cache_clear()
        monkeypatch.setattr(enrichment_service.metadata, "version", upgraded)
        assert enrichment_service.model_version() != before
    finally:
        monkeypatch.undo()
        enrichment_service.model_version.cache_clear()
    assert enrichment_service.model_version() == before
