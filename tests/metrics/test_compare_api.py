"""Filters on the metrics API and ``GET /api/v1/metrics/compare`` on a store with planted
effects (``scope_data``): exact counts, so every number below is known in advance."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cxloop.metrics import comparisons
from cxloop.metrics import service as metrics_service
from cxloop.metrics.filters import parse_scope
from tests.metrics import scope_data
from tests.web.support import Api, build_api

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = build_api(tmp_path_factory.mktemp("scope") / "cxloop.db", seed=False)
    scope_data.fill(built.store)
    with built.client:
        yield built
    built.store.close()
    built.app.state.engine.dispose()


def _get(built: Api, url: str, expect: int = 200, **params: Any) -> Any:
    response = built.client.get(url, params=params, headers=built.auth("analyst"))
    assert response.status_code == expect, response.text
    return response.json()


def _one(built: Api, **params: Any) -> dict[str, Any]:
    [row] = _get(built, "/api/v1/metrics/nps", **params)["rows"]
    return row


def test_since_until_and_where_narrow_the_answers(planted: Api) -> None:
    row = _one(planted, since="2025-10", until="2025-10", where="segment=vip")
    assert (row["n"], round(row["score"], 2)) == (30, 83.33)
    body = _get(planted, "/api/v1/metrics/nps", since="2025-10-01", until="2025-10-31")
    assert body["rows"][0]["n"] == 60 + 48 + 30 + 4 + 3
    assert body["scope"] == {
        "since": "2025-10-01T00:00:00",
        "until": "2025-11-01T00:00:00",
        "where": [],
    }


def test_a_shanghai_morning_on_the_first_is_still_the_month_before_in_utc(planted: Api) -> None:
    september = _one(planted, since="2025-09", until="2025-09", where="channel=survey")
    october = _one(planted, since="2025-10", until="2025-10", where="channel=survey")
    assert (september["n"], october["n"]) == (90, 90)
    only_first_day = _one(planted, since="2025-09-30", until="2025-09-30T23:59:59")
    assert only_first_day["n"] == 1  # the boundary answer, at 23:30 UTC


def test_profile_fields_account_and_role_filter_like_the_by_dimensions(planted: Api) -> None:
    assert _one(planted, where="segment:enterprise")["n"] == 3  # the account's segment
    assert _one(planted, where="role=purchaser")["extra"]["promoters"] == 2
    assert _one(planted, where="account=a-1")["n"] == 3  # values match ignoring case
    assert _one(planted, where="region=上海")["n"] == 60
    both = _get(
        planted, "/api/v1/metrics/nps", by="segment", where=["segment=vip", "segment=regular"]
    )
    assert [r["slice"]["segment"] for r in both["rows"]] == ["regular", "vip"]


def test_bad_scopes_are_422_naming_field_and_value(planted: Api) -> None:
    body = _get(planted, "/api/v1/metrics/nps", 422, where=["colour=red", "segment=vipp"])
    fields = [(p["field"], p["value"]) for p in body["detail"]]
    assert fields == [("where", "colour")]
    typo = _get(planted, "/api/v1/metrics/csat", 422, where="segment=vipp")["detail"][0]
    assert typo["field"] == "where.segment" and "close: vip" in typo["reason"]
    both = _get(planted, "/api/v1/metrics/ces", 422, since="2025-01-01", last="30d")["detail"]
    assert both[0]["field"] == "last" and "cannot be combined" in both[0]["reason"]
    assert _get(planted, "/api/v1/metrics/nps", 422, until="yesterday")["detail"][0]["field"] == (
        "until"
    )


def test_index_takes_the_scope_too(planted: Api) -> None:
    body = _get(planted, "/api/v1/metrics/index/cx_index", where="segment=vip", since="2025-10")
    assert body["rows"][0]["n"] == 30


def test_month_over_month_tests_each_slice_and_adjusts_for_many(planted: Api) -> None:
    body = _get(planted, "/api/v1/metrics/compare", metric="nps", period="month", by="channel")
    assert (body["kind"], body["base"], body["current"]) == ("periods", "2025-09", "2025-10")
    rows = {r["slice"]["channel"]: r for r in body["rows"]}
    chat, survey, email = rows["chat"], rows["survey"], rows["email"]
    assert (chat["n_base"], chat["n_current"], round(chat["difference"], 6)) == (48, 48, 100.0)
    assert chat["significant"] and chat["q_value"] < 1e-6
    assert survey["difference"] == pytest.approx(0.0) and not survey["significant"]
    assert survey["p_value"] == pytest.approx(1.0)
    # email answers came in October only: shown, but not a test
    assert (email["n_base"], email["p_value"], email["significant"]) == (0, None, False)


def test_period_comparison_moves_back_with_until_and_refuses_an_empty_base(planted: Api) -> None:
    body = _get(
        planted, "/api/v1/metrics/compare", 422, metric="nps", period="month", until="2025-09-30"
    )
    # September is now the current month, and August has no answers to compare it with
    assert [(p["field"], p["value"]) for p in body["detail"]] == [("base", "2025-08")]


def test_explicit_windows_give_the_same_test_as_the_periods(planted: Api) -> None:
    windows = _get(
        planted, "/api/v1/metrics/compare", metric="csat", by="channel",
        base_since="2025-09", base_until="2025-09", since="2025-10", until="2025-10",
    )  # fmt: skip
    periods = _get(planted, "/api/v1/metrics/compare", metric="csat", by="channel", period="month")
    assert windows["base"] == "2025-09-01 … 2025-09-30"
    assert windows["rows"] == periods["rows"]
    chat = next(r for r in windows["rows"] if r["slice"]["channel"] == "chat")
    # csat: promoters and passives answer 4-5 → 18/48 before, 42/48 after
    assert chat["difference"] == pytest.approx(24 / 48)


def test_groups_each_against_the_rest_or_a_baseline(planted: Api) -> None:
    body = _get(planted, "/api/v1/metrics/compare", metric="nps", by="segment")
    assert (body["kind"], body["base"], body["group"]) == ("groups", "rest", "segment")
    rows = {r["group"]: r for r in body["rows"]}
    vip = rows["vip"]
    assert vip["n_current"] == 60 and vip["n_base"] == 120 + 96 + 4 + 3
    assert vip["difference"] > 50 and vip["significant"]
    assert None in rows  # answers of a customer without a segment are a group of their own
    baseline = _get(
        planted, "/api/v1/metrics/compare", metric="nps", by="segment", baseline="regular"
    )
    assert "regular" not in {r["group"] for r in baseline["rows"]}
    assert baseline["base"] == "segment=regular"
    assert all(r["n_base"] == 216 for r in baseline["rows"])


def test_compare_refusals_name_field_and_value(planted: Api) -> None:
    cases = [
        ({"metric": "sentiment"}, "query.metric"),
        ({"metric": "nps"}, "by"),
        ({"metric": "nps", "period": "month", "since": "2025-09"}, "since"),
        ({"metric": "nps", "by": "segment", "baseline": "gold"}, "baseline"),
        ({"metric": "nps", "period": "month", "until": "2025-08-31"}, "until"),
    ]
    for params, field in cases:
        detail = _get(planted, "/api/v1/metrics/compare", 422, **params)["detail"]
        assert detail[0]["field"] == field, (params, detail)


def test_python_compare_and_compute_take_the_same_scope(planted: Api) -> None:
    settings = planted.app.state.settings
    scope = parse_scope(where=["channel=chat"], now=scope_data.NOW)
    frame = metrics_service.compute(settings=settings, name="nps", period="month", scope=scope)
    assert frame["score"].round(6).tolist() == [-50.0, 50.0]
    result = comparisons.compare(
        settings=settings, metric="nps", period="month", scope=scope, now=scope_data.NOW
    )
    assert (result.base, result.current, result.rows[0].difference) == ("2025-09", "2025-10", 100.0)


def test_insights_endpoints_take_the_scope_and_refuse_what_they_cannot_use(planted: Api) -> None:
    cases = [
        (
            "/api/v1/insights/funnel",
            {"steps": ["view", "buy"], "where": "channel=chat"},
            "where.channel",
        ),
        ("/api/v1/insights/drivers", {"last": "2x"}, "last"),
        ("/api/v1/insights/drivers", {"where": "segment=vipp"}, "where.segment"),
        ("/api/v1/insights/segments", {"method": "lifecycle", "since": "2025-09"}, "since"),
    ]
    for url, params, field in cases:
        detail = _get(planted, url, 422, **params)["detail"]
        assert detail[0]["field"] == field, (url, detail)


def test_a_scope_gives_the_same_numbers_on_duckdb_over_an_export(
    planted: Api, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from cxloop import engines

    settings = planted.app.state.settings
    folder = tmp_path_factory.mktemp("scope-parquet")
    metrics_service.export_parquet(settings=settings, out_dir=folder)
    scope = parse_scope(
        since="2025-09-30", until="2025-10", where=["segment=VIP", "segment=regular"],
        now=scope_data.NOW,
    )  # fmt: skip
    frames = []
    for backend in (engines.store_backend(settings), engines.duckdb_backend(folder)):
        try:
            frame = metrics_service.run_metric(backend, "csat", by=["channel"], scope=scope)
            frames.append(frame.sort_values("channel").reset_index(drop=True))
        finally:
            backend.disconnect()
    assert frames[0].equals(frames[1])
    # 30 Sep (the Shanghai-morning answer) + October: regular survey 61, chat 48, VIP 30
    assert frames[0]["n"].tolist() == [48, 91]
