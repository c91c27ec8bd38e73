"""The overview service: its tiles, trends and volume are the metrics services' own numbers
(report, index_report, compare), the changes are Benjamini–Hochberg-adjusted over the page, and
stores the demo never shows (empty, CSAT only, Chinese values, a cut-off previous period, an
unknown where value) answer in words."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from cxloop import api
from cxloop.config import Settings
from cxloop.dashboards.filters import filter_options
from cxloop.dashboards.overview import overview
from cxloop.dashboards.overview_schemas import OverviewResult
from cxloop.db.session import make_engine, make_session_factory, session_scope
from cxloop.errors import Invalid
from cxloop.metrics import service as metrics_service
from cxloop.metrics.comparisons import compare
from cxloop.metrics.filters import Scope, parse_scope
from cxloop.metrics.monitoring import list_alerts, scan_alerts
from cxloop.metrics.target_store import set_targets, target_status
from cxloop.metrics.targets import TargetSpec
from tests.web.overview_support import demo_copy, settings_for

NOW = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)


class Store:
    def __init__(self, database: Path) -> None:
        self.settings = settings_for(database)
        self.factory = make_session_factory(make_engine(self.settings))

    def overview(self, **options: Any) -> OverviewResult:
        with session_scope(self.factory) as session:
            return overview(session=session, settings=self.settings, now=NOW, **options)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(demo_copy(tmp_path_factory, "overview-demo"))


def _store(folder: Path, feedback: list[dict[str, Any]], customers: Any = ()) -> Store:
    database = folder / "cxloop.db"
    store = api.connect(settings=Settings(database_url=f"sqlite:///{database}"))
    try:
        if customers:
            api.import_records(store, "customers", list(customers))
        if feedback:
            api.import_records(store, "feedback", feedback)
    finally:
        store.close()
    return Store(database)


def test_tiles_trends_and_volume_are_the_metrics_services_numbers(demo: Store) -> None:
    result = demo.overview(period="month")
    assert result.current == "2026-10" and result.previous == "2026-09"
    tiles = {t.metric: t for t in result.tiles}
    assert list(tiles) == ["nps", "csat", "ces", "cx_index"]
    for name in ("nps", "csat", "ces"):
        report = metrics_service.report(settings=demo.settings, name=name, period="month")
        rows = {r.label: r for r in report.rows}
        trend = next(t for t in result.trends if t.metric == name)
        assert [(p.label, p.n, p.score, p.ci_low, p.ci_high) for p in trend.points] == [
            (r.label, r.n, r.score, r.ci_low, r.ci_high) for r in report.rows
        ]
        current = rows[result.current]
        assert (tiles[name].n, tiles[name].score, tiles[name].ci_low) == (
            current.n,
            current.score,
            current.ci_low,
        )
    index = metrics_service.index_report(settings=demo.settings, name="cx_index", period="month")
    current = next(r for r in index.rows if r.label == result.current)
    assert tiles["cx_index"].score == pytest.approx(current.score)
    assert tiles["cx_index"].n == current.n
    responses = metrics_service.report(settings=demo.settings, name="responses", period="month")
    assert [(v.label, v.n) for v in result.volume] == [(r.label, r.n) for r in responses.rows]


def test_changes_equal_compare_and_q_values_are_bh_over_every_tile(demo: Store) -> None:
    result = demo.overview(period="month")
    p_values = []
    for tile in result.tiles:
        assert tile.change is not None, tile.note
        assert (tile.change.base, tile.change.current) == ("2026-09", "2026-10")
        p_values.append(tile.change.p_value)
        if tile.kind == "metric":
            row = compare(settings=demo.settings, metric=tile.metric, period="month", now=NOW).rows[
                0
            ]
            assert tile.change.difference == pytest.approx(row.difference)
            assert tile.change.p_value == pytest.approx(row.p_value)
            assert tile.change.ci_low == pytest.approx(row.ci_low)
    expected = stats.false_discovery_control(np.array(p_values), method="bh")
    assert [t.change.q_value for t in result.tiles] == pytest.approx(list(expected))  # type: ignore[union-attr]
    for tile in result.tiles:
        assert tile.change.significant == (tile.change.q_value < result.alpha)  # type: ignore[union-attr, operator]


def test_index_change_is_a_z_test_from_both_periods_intervals(demo: Store) -> None:
    result = demo.overview(period="quarter")
    tile = next(t for t in result.tiles if t.kind == "index")
    rows = {
        r.label: r
        for r in metrics_service.index_report(
            settings=demo.settings, name="cx_index", period="quarter"
        ).rows
    }
    base, current = rows[result.previous], rows[result.current]
    z = stats.norm.ppf(0.975)
    se = np.hypot(
        (base.ci_high - base.ci_low) / (2 * z),  # type: ignore[operator]
        (current.ci_high - current.ci_low) / (2 * z),  # type: ignore[operator]
    )
    assert tile.change is not None
    assert tile.change.difference == pytest.approx(current.score - base.score)  # type: ignore[operator]
    assert tile.change.p_value == pytest.approx(
        2 * stats.norm.sf(abs(current.score - base.score) / se)  # type: ignore[operator]
    )


def test_a_chinese_region_filter_narrows_every_number(demo: Store) -> None:
    scope = parse_scope(where=["region=上海"], now=NOW.replace(tzinfo=None))
    result = demo.overview(scope=scope, period="quarter")
    report = metrics_service.report(
        settings=demo.settings, name="nps", period="quarter", scope=scope
    )
    nps = next(t for t in result.tiles if t.metric == "nps")
    assert nps.n == next(r.n for r in report.rows if r.label == result.current)
    whole = next(t for t in demo.overview(period="quarter").tiles if t.metric == "nps")
    assert 0 < nps.n < whole.n
    assert "region=上海" in result.scope.describe()


def test_an_unknown_where_value_is_invalid_naming_field_and_value(demo: Store) -> None:
    scope = parse_scope(where=["segment=platinum"], now=NOW.replace(tzinfo=None))
    with pytest.raises(Invalid) as caught:
        demo.overview(scope=scope)
    problem = caught.value.problems[0]
    assert (problem.field, problem.value) == ("where.segment", "platinum")
    assert "matches no stored segment" in problem.reason


def test_a_bad_period_is_invalid(demo: Store) -> None:
    with pytest.raises(Invalid) as caught:
        demo.overview(period="day")
    assert caught.value.problems[0].field == "period"


def test_a_since_that_cuts_off_the_previous_period_leaves_tiles_without_a_change(
    demo: Store,
) -> None:
    scope = Scope(since=dt.datetime(2026, 10, 1))
    result = demo.overview(scope=scope, period="month")
    assert result.current == "2026-10"
    for tile in result.tiles:
        assert tile.change is None and tile.score is not None
        assert "2026-09" in (tile.note or "")


def test_targets_and_open_alerts_are_shown(demo: Store, tmp_path: Path) -> None:
    with session_scope(demo.factory) as session:
        set_targets(
            session=session,
            targets_in=[TargetSpec(metric="nps", period="month", target=10.0, label="NPS ≥ 10")],
        )
        scan_alerts(session=session, settings=demo.settings, as_of=NOW, metrics=("nps",))
    result = demo.overview()
    assert [(t.label, t.target) for t in result.targets] == [("NPS ≥ 10", 10.0)]
    with session_scope(demo.factory) as session:
        judged = target_status(session=session, settings=demo.settings).rows
    assert [(t.status, t.estimate, t.reason) for t in result.targets] == [
        (t.status, t.estimate, t.reason) for t in judged
    ]
    with session_scope(demo.factory) as session:
        open_alerts = list_alerts(session=session, status="open")
    assert result.open_alerts == len(open_alerts) > 0
    assert {a.id for a in result.alerts} <= {a.id for a in open_alerts}


def test_an_empty_store_says_so(tmp_path: Path) -> None:
    store = _store(tmp_path, [])
    result = store.overview()
    assert result.empty and result.current is None
    assert [t.score for t in result.tiles] == [None, None, None, None]
    assert result.tiles[0].note == "No NPS answers in all data."
    assert not result.response_rate.surveys_sent
    assert result.response_rate.note.startswith("No surveys sent")
    assert result.notes[0].startswith("No feedback")
    with session_scope(store.factory) as session:
        assert filter_options(session=session).values["segment"] == []


def _csat_rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(80):
        month = 9 if i < 40 else 10
        rows.append(
            {
                "feedback_id": f"f{i}",
                "channel": "微信" if i % 2 else "门店",
                "touchpoint": "配送",
                "created_at": f"2026-{month:02d}-{1 + i % 28:02d}T10:00:00+08:00",
                "csat": 5 if i % 3 else 2,
                "customer_id": f"c{i % 5}",
            }
        )
    return rows


def test_a_store_with_only_csat_answers_shows_csat_and_says_what_is_missing(
    tmp_path: Path,
) -> None:
    customers = [{"customer_id": f"c{i}", "segment": "会员", "region": "华东"} for i in range(5)]
    store = _store(tmp_path, _csat_rows(), customers)
    result = store.overview(period="month")
    tiles = {t.metric: t for t in result.tiles}
    assert tiles["csat"].score is not None and tiles["csat"].change is not None
    assert tiles["csat"].n == 40
    assert (
        tiles["nps"].score is None and tiles["nps"].note == "No NPS answers in 2026-10 (all data)."
    )
    assert tiles["cx_index"].score is None  # the shipped index needs NPS and CES too
    assert "nps, csat, ces" in (tiles["cx_index"].note or "")
    with session_scope(store.factory) as session:
        options = filter_options(session=session)
    assert options.values["channel"] == ["store", "wechat"]  # ingest maps 微信/门店
    assert options.values["touchpoint"] == ["配送"]
    assert options.values["region"] == ["华东"]
    scope = parse_scope(where=["channel=wechat", "touchpoint=配送"], now=NOW.replace(tzinfo=None))
    narrowed = {t.metric: t for t in store.overview(scope=scope).tiles}
    assert narrowed["csat"].n == 20


def test_each_index_of_an_indices_file_is_a_tile(tmp_path: Path) -> None:
    path = tmp_path / "indices.yaml"
    path.write_text(
        "indices:\n  sat_index:\n    label: 满意度指数\n    components:\n"
        "      - {metric: csat, weight: 1}\n",
        encoding="utf-8",
    )
    store = _store(tmp_path, _csat_rows())
    result = store.overview(indices_file=path)
    index = result.tiles[-1]
    assert [t.kind for t in result.tiles] == ["metric"] * 3 + ["index"]
    assert (index.metric, index.label, index.n) == ("sat_index", "满意度指数", 40)
    csat = result.tiles[1]
    assert index.score == pytest.approx(100 * csat.score)  # type: ignore[operator]


def test_the_response_rate_counts_invitations_as_survey_tracking_does(tmp_path: Path) -> None:
    from cxloop.surveys.models import Distribution, Invitation, Survey
    from cxloop.surveys.tracking import response_rates

    store = _store(tmp_path, _csat_rows())
    sent = dt.datetime(2026, 10, 1, 9)
    states = ["completed", "completed", "completed", "sent", "bounced"]
    with session_scope(store.factory) as session:
        session.add(Survey(survey_id="csat-1", title="满意度", current_version=1))
        session.flush()
        distribution = Distribution(
            survey_id="csat-1", version=1, audience_kind="list", audience={"list": "t"},
            channel="email", link_days=14, allow_edits=False, max_reminders=0, status="active",
        )  # fmt: skip
        session.add(distribution)
        session.flush()
        for i, status in enumerate(states):
            session.add(
                Invitation(
                    distribution_id=distribution.id, survey_id="csat-1", public_id=f"p{i}",
                    customer_id=f"c{i}", email=f"c{i}@example.com", context={}, status=status,
                    sent_at=sent, completed_at=sent if status == "completed" else None,
                    bounced_at=sent if status == "bounced" else None,
                    expires_at=sent + dt.timedelta(days=14),
                )
            )  # fmt: skip
    rate = store.overview().response_rate
    assert (rate.surveys_sent, rate.invited, rate.sent, rate.delivered, rate.completed) == (
        True, 5, 5, 4, 3,
    )  # fmt: skip
    with session_scope(store.factory) as session:
        tracked = response_rates(session=session)[0]
    assert (rate.score, rate.ci_low, rate.ci_high) == (
        tracked.score,
        tracked.ci_low,
        tracked.ci_high,
    )
    assert rate.score == 0.75 and rate.small_n


def test_viewers_get_no_score_of_one_answer_when_filtering_to_an_account(tmp_path: Path) -> None:
    one = {"feedback_id": "b2b-1", "channel": "email", "account_id": "ACME", "csat": 5,
           "created_at": "2026-10-20T10:00:00+08:00"}  # fmt: skip
    store = _store(tmp_path, [*_csat_rows(), one])
    scope = parse_scope(where=["account=ACME"], now=NOW.replace(tzinfo=None))
    shown = next(t for t in store.overview(scope=scope).tiles if t.metric == "csat")
    assert (shown.n, shown.score) == (1, 1.0)
    hidden = store.overview(scope=scope, hide_singletons=True)
    csat = next(t for t in hidden.tiles if t.metric == "csat")
    assert (csat.n, csat.score, csat.change) == (1, None, None)
    assert "one person's answer" in (csat.note or "")
    trend = next(t for t in hidden.trends if t.metric == "csat")
    assert [p.score for p in trend.points if p.n == 1] == [None]
    whole = next(t for t in store.overview(hide_singletons=True).tiles if t.metric == "csat")
    assert whole.score is not None  # no account or role named: nothing withheld


def test_viewers_get_no_change_from_a_previous_period_of_one_answer(tmp_path: Path) -> None:
    rows = [
        {"feedback_id": f"b2b-{i}", "channel": "email", "account_id": "ACME", "csat": csat,
         "created_at": created}
        for i, (csat, created) in enumerate(
            [(1, "2026-09-20T10:00:00+08:00"), (5, "2026-10-20T10:00:00+08:00"),
             (4, "2026-10-21T10:00:00+08:00")]
        )
    ]  # fmt: skip
    store = _store(tmp_path, [*_csat_rows(), *rows])
    scope = parse_scope(where=["account=ACME"], now=NOW.replace(tzinfo=None))
    shown = next(t for t in store.overview(scope=scope).tiles if t.metric == "csat")
    assert shown.change is not None and shown.change.n_base == 1  # the September answer
    hidden = store.overview(scope=scope, hide_singletons=True)
    csat = next(t for t in hidden.tiles if t.metric == "csat")
    assert (csat.n, csat.change) == (2, None) and csat.score == shown.score
    assert "one person's answer" in (csat.note or "")


def test_the_overview_reads_the_snapshot_its_freshness_names_with_the_stores_numbers(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    from cxloop.dashboards.freshness import refresh_snapshot

    live = Store(demo_copy(tmp_path_factory, "overview-snapshot"))  # a row is added below
    snapped = Store(Path(live.settings.database_url.removeprefix("sqlite:///")))
    snapped.settings = live.settings.model_copy(update={"analytics_snapshot_dir": tmp_path})
    refresh_snapshot(snapped.settings)
    before, snap = live.overview(), snapped.overview()
    assert (before.freshness.source, snap.freshness.source) == ("store", "snapshot")
    assert before.model_dump(exclude={"freshness"}) == snap.model_dump(exclude={"freshness"})
    # the numbers come from the snapshot: an answer stored after its refresh is not in them
    late = {"feedback_id": "late-1", "channel": "email", "nps": 0,
            "created_at": f"{before.current}-15T10:00:00+08:00"}  # fmt: skip
    store = api.connect(settings=live.settings)
    try:
        api.import_records(store, "feedback", [late])
    finally:
        store.close()
    nps = next(t for t in live.overview().tiles if t.metric == "nps")
    kept = next(t for t in snapped.overview().tiles if t.metric == "nps")
    assert nps.n == kept.n + 1


def test_feedback_without_a_score_after_the_last_answers_does_not_make_the_current_period(
    tmp_path: Path,
) -> None:
    """The demo's case follow-ups (no score) land in November; the tiles stay on October."""
    notes = [
        {
            "feedback_id": f"note{i}",
            "channel": "email",
            "created_at": f"2026-11-{1 + i:02d}T10:00:00+08:00",
            "text": "已回访，客户表示满意",
        }
        for i in range(5)
    ]
    store = _store(tmp_path, _csat_rows() + notes)
    result = store.overview(period="month")
    assert (result.current, result.previous) == ("2026-10", "2026-09")
    tiles = {t.metric: t for t in result.tiles}
    assert tiles["csat"].n == 40 and tiles["csat"].change is not None
    assert [p.n for p in result.volume][-1] == 5  # the notes still count as responses


def test_the_filter_bars_values_are_read_from_the_snapshot_when_it_is_whole(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    from cxloop.dashboards.freshness import refresh_snapshot

    live = Store(demo_copy(tmp_path_factory, "filters-snapshot"))  # a row is added below
    snapped = live.settings.model_copy(update={"analytics_snapshot_dir": tmp_path})
    refresh_snapshot(snapped)
    with session_scope(live.factory) as session:
        assert filter_options(snapped, session=session) == filter_options(session=session)
    late = {"feedback_id": "late-ch", "channel": "飞鸽传书", "nps": 9,
            "created_at": "2026-11-02T10:00:00+08:00"}  # fmt: skip
    store = api.connect(settings=live.settings)
    try:
        api.import_records(store, "feedback", [late])
    finally:
        store.close()
    with session_scope(live.factory) as session:
        assert "飞鸽传书" in filter_options(session=session).values["channel"]
        assert "飞鸽传书" not in filter_options(snapped, session=session).values["channel"]
