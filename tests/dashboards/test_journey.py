"""The journey map (``dashboards.journey.journey_map``) on real SQLite stores shaped like real
exports: Chinese stage names, stages no vocabulary knows, answers without a stage or touchpoint,
a store without journey stages, one without touchpoints, one answer only, an empty store."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cxloop.api import Store, connect, import_records
from cxloop.config import Settings
from cxloop.dashboards.freshness import refresh_snapshot
from cxloop.dashboards.journey import journey_map
from cxloop.dashboards.journey_order import journey_rank, order_stages
from cxloop.errors import Invalid
from cxloop.metrics import service as metrics_service
from cxloop.metrics.filters import parse_scope

NOW = dt.datetime(2026, 12, 1)
TEXTS = (
    "配送太慢了，包装也破了",
    "客服态度很差，退款一直没到账",
    "Delivery was late and the packaging was damaged",
    "价格太贵了，质量也不好，客服不理人，物流慢",
    "物流很快，很满意",
    "The app keeps crashing",
    "Great service, thank you",
    "",
)
# stage, touchpoint, how many, first month: 购买 and 使用 are known steps (buy, use), as is
# Onboarding; zeta and 评测会 are not (zeta answered first); None is "(not given)"
CELLS: tuple[tuple[str | None, str | None, int, int], ...] = (
    ("使用", "app", 9, 3),
    ("购买", "app", 12, 2),
    ("购买", "门店", 4, 2),
    ("评测会", "app", 3, 4),
    ("zeta", "门店", 2, 1),
    ("Onboarding", "app", 5, 5),
    (None, "app", 3, 2),
    ("使用", None, 2, 6),
)


def journey_rows(
    cells: tuple[tuple[str | None, str | None, int, int], ...] = CELLS,
) -> list[dict[str, Any]]:
    """Feedback rows for ``cells``: NPS 0–10 in turn (every third without one), CSAT, texts
    with negative aspects in turn; keys left out where a value is not given."""
    rows = []
    serial = 0
    for stage, touchpoint, count, month in cells:
        for i in range(count):
            row: dict[str, Any] = {
                "feedback_id": f"j{serial}",
                "channel": "survey",
                "created_at": f"2026-{month:02d}-{1 + i:02d}T09:00:00",
                "text": TEXTS[serial % len(TEXTS)],
                "csat": 1 + serial % 5,
            }
            if serial % 3:
                row["nps"] = serial % 11
            if stage is not None:
                row["journey_stage"] = stage
            if touchpoint is not None:
                row["touchpoint"] = touchpoint
            rows.append(row)
            serial += 1
    return rows


def _build(folder: Path, name: str, rows: list[dict[str, Any]]) -> Settings:
    settings = Settings(database_url=f"sqlite:///{folder / name}", import_batch_size=1000)
    store = connect(settings=settings)
    try:
        if rows:
            assert import_records(store, "feedback", rows).inserted == len(rows)
    finally:
        store.close()
    return settings


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Settings]:
    """Every store shape, built once for the module (the tests only read them)."""
    folder = tmp_path_factory.mktemp("journey")
    rows = journey_rows()
    no_stage = [{k: v for k, v in r.items() if k != "journey_stage"} for r in rows]
    no_touch = [{k: v for k, v in r.items() if k != "touchpoint"} for r in rows]
    return {
        "full": _build(folder, "full.db", rows),
        "no_stage": _build(folder, "no_stage.db", no_stage),
        "no_touchpoint": _build(folder, "no_touchpoint.db", no_touch),
        "one": _build(folder, "one.db", rows[1:2]),
        "empty": _build(folder, "empty.db", []),
    }


@pytest.fixture
def open_store(stores: dict[str, Settings]) -> Iterator[Any]:
    opened: list[Store] = []

    def session_of(name: str) -> tuple[Any, Settings]:
        store = connect(settings=stores[name], upgrade=False)
        opened.append(store)
        return store.sessions(), stores[name]

    yield session_of
    for store in opened:
        store.close()


def _map(open_store: Any, name: str, **options: Any) -> Any:
    session, settings = open_store(name)
    with session:
        return journey_map(session=session, settings=settings, **options)


def _sql(settings: Settings, query: str) -> list[tuple[Any, ...]]:
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return connection.execute(query).fetchall()


def test_each_cell_holds_the_metrics_report_by_stage_and_touchpoint(open_store: Any) -> None:
    for metric in ("nps", "csat"):
        found = _map(open_store, "full", metric=metric, min_n=3)
        report = metrics_service.report(
            settings=open_store("full")[1], name=metric, by=["journey_stage", "touchpoint"],
            min_n=3,
        )  # fmt: skip
        expected = {
            (r.slice["journey_stage"], r.slice["touchpoint"]): (r.n, r.score, r.ci_low, r.small_n)
            for r in report.rows
        }
        shown = {
            (c.journey_stage, c.touchpoint): (c.n, c.score, c.ci_low, c.small_n)
            for c in found.cells
            if c.n
        }
        assert shown == expected
        whole = metrics_service.report(settings=open_store("full")[1], name=metric, min_n=3)
        assert (found.overall.n, found.overall.score) == (whole.rows[0].n, whole.rows[0].score)


def test_volume_counts_every_feedback_of_the_cell(open_store: Any) -> None:
    found = _map(open_store, "full")
    volumes = {(c.journey_stage, c.touchpoint): c.volume for c in found.cells}
    assert volumes == {(s, t): n for s, t, n, _ in CELLS}
    assert found.volume == sum(n for *_, n, _ in CELLS)


def test_stages_follow_the_journey_then_first_answer_and_not_given_last(open_store: Any) -> None:
    found = _map(open_store, "full")
    assert found.stages == ["购买", "Onboarding", "使用", "zeta", "评测会", None]
    assert found.stage_order == "journey"
    assert found.touchpoints == ["app", "门店", None]  # by volume: 32, 6, 2
    assert (found.has_stages, found.has_touchpoints) == (True, True)
    order = [(c.journey_stage, c.touchpoint) for c in found.cells]
    assert order == sorted(
        order, key=lambda k: (found.stages.index(k[0]), found.touchpoints.index(k[1]))
    )


def test_top_negative_aspects_are_three_at_most_counted_in_one_grid_query(
    open_store: Any,
) -> None:
    found = _map(open_store, "full")
    settings = open_store("full")[1]
    pairs = _sql(
        settings,
        "SELECT f.journey_stage, f.touchpoint, t.topic FROM feedback_topic t "
        "JOIN feedback f ON f.feedback_id = t.feedback_id WHERE t.sentiment = 'negative'",
    )
    counted: dict[tuple[Any, Any], Counter[str]] = defaultdict(Counter)
    for stage, touchpoint, topic in pairs:
        counted[(stage, touchpoint)][topic] += 1
    assert any(len(c) > 3 for c in counted.values()), "the data must hold a cell to cut"
    for cell in found.cells:
        expected = sorted(counted[(cell.journey_stage, cell.touchpoint)].items(),
                          key=lambda p: (-p[1], p[0]))[:3]  # fmt: skip
        assert [(a.topic, a.negative) for a in cell.aspects] == expected
        for aspect in cell.aspects:
            assert aspect.share == pytest.approx(aspect.negative / cell.volume)
            assert aspect.name_en and aspect.name_zh
    delivery = next(a for c in found.cells for a in c.aspects if a.topic == "delivery/speed")
    assert (delivery.name_zh, delivery.name_en) == ("物流配送 › 速度", "Delivery › Speed")


def test_small_cells_are_marked_against_min_n(open_store: Any) -> None:
    found = _map(open_store, "full", metric="csat", min_n=5)
    marks = {(c.journey_stage, c.touchpoint): c.small_n for c in found.cells}
    assert marks[("购买", "app")] is False  # 12 answers
    assert marks[("zeta", "门店")] is True  # 2 answers
    assert all(c.n == c.volume for c in found.cells)  # every row answered CSAT


def test_a_store_without_journey_stages_shows_touchpoints_in_one_not_given_row(
    open_store: Any,
) -> None:
    found = _map(open_store, "no_stage")
    assert found.has_stages is False
    assert found.stage_order == "none"
    assert found.stages == [None]
    assert found.touchpoints == ["app", "门店", None]
    assert sum(c.volume for c in found.cells) == found.volume == sum(n for *_, n, _ in CELLS)


def test_a_store_without_touchpoints_has_one_not_given_column(open_store: Any) -> None:
    found = _map(open_store, "no_touchpoint", metric="sentiment")
    assert (found.has_stages, found.has_touchpoints) == (True, False)
    assert found.touchpoints == [None]
    assert [c.touchpoint for c in found.cells] == [None] * len(found.stages)


def test_one_answer_only_is_one_small_cell(open_store: Any) -> None:
    found = _map(open_store, "one")
    assert len(found.cells) == 1
    cell = found.cells[0]
    assert (cell.journey_stage, cell.touchpoint, cell.volume, cell.n) == ("使用", "app", 1, 1)
    assert cell.small_n is True
    assert (cell.score, cell.ci_low, cell.ci_high) == (-100.0, None, None)  # no interval at n=1
    assert found.stage_order == "journey"


def test_an_empty_store_answers_with_no_cells(open_store: Any) -> None:
    found = _map(open_store, "empty", metric="ces")
    assert found.cells == [] and found.stages == [] and found.touchpoints == []
    assert (found.volume, found.overall.n, found.overall.score) == (0, 0, None)
    assert (found.has_stages, found.stage_order) == (False, "none")


def test_a_metric_no_cell_answers_leaves_n_zero_and_no_score(open_store: Any) -> None:
    found = _map(open_store, "full", metric="ces")
    assert found.cells and all((c.n, c.score, c.small_n) == (0, None, False) for c in found.cells)
    assert found.overall.n == 0


def test_the_scope_narrows_every_cell_and_an_unknown_value_is_named(open_store: Any) -> None:
    scope = parse_scope(since="2026-02", until="2026-02", where=["touchpoint=APP"], now=NOW)
    found = _map(open_store, "full", scope=scope)
    assert {(c.journey_stage, c.touchpoint, c.volume) for c in found.cells} == {
        ("购买", "app", 12),
        (None, "app", 3),
    }
    typo = parse_scope(where=["touchpoint=ap"], now=NOW)
    with pytest.raises(Invalid) as caught:
        _map(open_store, "full", scope=typo)
    assert caught.value.problems[0].field == "where.touchpoint"
    assert "app" in caught.value.problems[0].reason


def test_an_unknown_metric_names_the_field_value_and_choices(open_store: Any) -> None:
    with pytest.raises(Invalid) as caught:
        _map(open_store, "full", metric="topic_incidence")
    problem = caught.value.problems[0]
    assert (problem.field, problem.value) == ("metric", "topic_incidence")
    assert "nps, csat, ces, sentiment" in problem.reason


def test_the_snapshot_gives_the_stores_map_and_says_how_fresh(
    stores: dict[str, Settings], tmp_path: Path
) -> None:
    live = stores["full"]
    snapped = live.model_copy(update={"analytics_snapshot_dir": tmp_path / "snap"})
    refresh_snapshot(snapped)
    store = connect(settings=live, upgrade=False)
    try:
        with store.sessions() as session:
            scope = parse_scope(where=["touchpoint=app"], now=NOW)
            results = [
                journey_map(session=session, settings=s, metric="csat", scope=scope, min_n=3)
                for s in (live, snapped)
            ]
    finally:
        store.close()
    assert [r.freshness.source for r in results] == ["store", "snapshot"]
    shapes = [r.model_dump(exclude={"freshness"}) for r in results]
    assert shapes[0] == shapes[1]


@pytest.mark.parametrize(
    ("name", "step"),
    [("Purchase", 2), ("购买", 2), ("on-boarding", 4), ("Customer Service", None), ("售后", 6)],
)
def test_journey_rank_knows_common_stage_names_in_both_languages(
    name: str, step: int | None
) -> None:
    assert journey_rank(name) == step


def test_stages_without_a_known_name_are_ordered_by_first_answer() -> None:
    first = {"b": dt.datetime(2026, 3, 1), "a": dt.datetime(2026, 5, 1), None: None}
    assert order_stages(first) == (["b", "a", None], "first_seen")
    assert order_stages({None: None}) == ([None], "none")
    assert order_stages({}) == ([], "none")
