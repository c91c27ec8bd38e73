"""``GET /api/v1/metrics/{name}`` and ``cxloop metrics …`` on a small store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cxloop import api
from tests.cli.support import run_cxloop
from tests.web.support import Api, build_api

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")

ROWS = [
    {
        "feedback_id": f"m-{i}",
        "channel": "survey" if i < 10 else "chat",
        "created_at": f"2025-0{1 + i % 2}-15T10:00:00+00:00",
        "nps": [10, 10, 9, 9, 9, 8, 7, 8, 0, 6, 10][i],
    }
    for i in range(11)
]


@pytest.fixture(scope="module")
def metrics_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = build_api(tmp_path_factory.mktemp("metrics") / "cxloop.db", seed=False)
    assert api.import_records(built.store, "feedback", ROWS).inserted == len(ROWS)
    with built.client:
        yield built
    built.store.close()
    built.app.state.engine.dispose()


def test_nps_by_channel_comes_back_with_n_interval_and_small_n(metrics_api: Api) -> None:
    response = metrics_api.client.get(
        "/api/v1/metrics/nps",
        params={"by": "channel", "min_n": 5},
        headers=metrics_api.auth("viewer"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["metric"], body["by"], body["min_n"]) == ("nps", ["channel"], 5)
    chat, survey = body["rows"]
    assert chat["slice"] == {"channel": "chat"} and (chat["n"], chat["small_n"]) == (1, True)
    assert survey["slice"] == {"channel": "survey"}
    assert (survey["n"], survey["score"], survey["small_n"]) == (10, 30.0, False)
    assert survey["ci_low"] < 30 < survey["ci_high"]
    assert survey["extra"] == {"promoters": 5, "passives": 3, "detractors": 2}


def test_periods_come_back_as_their_first_day(metrics_api: Api) -> None:
    response = metrics_api.client.get(
        "/api/v1/metrics/responses", params={"period": "month"}, headers=metrics_api.auth("agent")
    )
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert [(r["period"], r["n"]) for r in rows] == [("2025-01-01", 6), ("2025-02-01", 5)]
    assert [r["label"] for r in rows] == ["2025-01", "2025-02"]
    assert all(r["ci_low"] is None for r in rows)  # a count has no interval: null, never NaN


@pytest.mark.parametrize(
    ("url", "field", "value"),
    [
        ("/api/v1/metrics/loyalty", "path.name", "loyalty"),
        ("/api/v1/metrics/nps?by=author_email", "query.by.0", "author_email"),
        ("/api/v1/metrics/nps?period=year", "query.period", "year"),
        ("/api/v1/metrics/nps?min_n=-1", "query.min_n", "-1"),
    ],
)
def test_unknown_metric_dimension_or_period_is_422_naming_field_and_value(
    metrics_api: Api, url: str, field: str, value: str
) -> None:
    response = metrics_api.client.get(url, headers=metrics_api.auth("analyst"))
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert (problem["field"], problem["value"]) == (field, value)
    assert problem["reason"]


def test_too_many_or_repeated_dimensions_name_field_and_value_like_other_errors(
    metrics_api: Api,
) -> None:
    five = ["channel", "touchpoint", "journey_stage", "source", "product"]
    response = metrics_api.client.get(
        "/api/v1/metrics/nps", params={"by": five}, headers=metrics_api.auth("analyst")
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert (problem["field"], problem["value"]) == ("query.by", five)
    response = metrics_api.client.get(
        "/api/v1/metrics/nps",
        params={"by": ["channel", "source", "channel"]},
        headers=metrics_api.auth("analyst"),
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert (problem["field"], problem["value"]) == ("query.by.2", "channel")


def test_a_report_parses_the_request_once(
    metrics_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxloop.metrics import service

    calls = []
    parse = service._parse

    def counted(*args: Any) -> Any:
        calls.append(args)
        return parse(*args)

    monkeypatch.setattr(service, "_parse", counted)
    response = metrics_api.client.get(
        "/api/v1/metrics/nps", params={"by": "channel"}, headers=metrics_api.auth("viewer")
    )
    assert response.status_code == 200, response.text
    assert len(calls) == 1


def test_cli_refuses_a_missing_sqlite_store_and_says_no_responses_on_an_empty_one(
    tmp_path: Path,
) -> None:
    missing = run_cxloop(tmp_path, "metrics", "nps", "--by", "channel")
    assert missing.returncode == 2, missing.stdout
    assert "CXLOOP_DATABASE_URL" in missing.stderr and "cli.db" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert not (tmp_path / "cli.db").exists()
    api.connect(f"sqlite:///{tmp_path / 'cli.db'}").close()
    empty = run_cxloop(tmp_path, "metrics", "nps")
    assert empty.returncode == 0, empty.stderr
    assert "no responses" in empty.stdout


def test_cli_prints_a_table_csv_and_json_and_refuses_unknown_dimensions(tmp_path: Path) -> None:
    store = api.connect(f"sqlite:///{tmp_path / 'cli.db'}")
    assert api.import_records(store, "feedback", ROWS).inserted == len(ROWS)
    store.close()
    table = run_cxloop(tmp_path, "metrics", "nps", "--by", "channel", "--min-n", "5")
    assert table.returncode == 0, table.stderr
    assert "survey" in table.stdout and "+30.0" in table.stdout and "95% interval" in table.stdout
    csv = run_cxloop(tmp_path, "metrics", "csat", "--period", "month", "--format", "csv")
    assert csv.returncode == 0, csv.stderr
    assert csv.stdout.splitlines()[0] == "period,n,score,ci_low,ci_high,small_n,mean,satisfied"
    js = run_cxloop(tmp_path, "metrics", "responses", "--by", "channel", "--format", "json")
    assert js.returncode == 0 and '"channel": "chat"' in js.stdout, js.stderr
    bad = run_cxloop(tmp_path, "metrics", "ces", "--by", "bogus")
    assert bad.returncode == 2
    assert "error: by: 'bogus' is not one of: channel" in bad.stderr


def test_export_parquet_gives_duckdb_the_same_nps_as_the_store(tmp_path: Path) -> None:
    from cxloop import engines
    from cxloop.config import Settings
    from cxloop.metrics import nps
    from cxloop.privacy.masking import PII_FIELDS

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}")
    store = api.connect(settings=settings)
    assert api.import_records(store, "feedback", ROWS).inserted == len(ROWS)
    store.close()
    done = run_cxloop(tmp_path, "export", "parquet", "--output", "out")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "feedback.parquet").is_file()
    duckdb, sqlite = engines.duckdb_backend(tmp_path / "out"), engines.store_backend(settings)
    duck = nps(engines.feedback_table(duckdb), by=["channel"])
    sql = nps(engines.feedback_table(sqlite), by=["channel"])
    assert duck.equals(sql) and duck.n.tolist() == [1, 10]
    columns = set(engines.feedback_table(duckdb).columns)
    assert not columns & PII_FIELDS["feedback"] and "author" in engines.feedback_table(sqlite)
    duckdb.disconnect()
    sqlite.disconnect()
    kept = run_cxloop(tmp_path, "export", "parquet", "--output", "all", "--include-pii")
    assert kept.returncode == 0, kept.stderr
    backend = engines.duckdb_backend(tmp_path / "all")
    assert PII_FIELDS["feedback"] <= set(engines.feedback_table(backend).columns)
    backend.disconnect()


PROFILES = {
    "customers": [
        {"customer_id": "c-vip", "segment": "vip", "region": "上海"},
        {"customer_id": "c-blank"},
    ],
    "accounts": [{"account_id": "a-1", "name": "Acme", "segment": "enterprise", "region": "北京"}],
    "contacts": [
        {"contact_id": "k-1", "account_id": "a-1", "role": "purchaser"},
        {"contact_id": "k-2", "account_id": "a-1", "role": "user"},
    ],
}
VOICES = [
    # a B2C answer: the customer's segment wins over the account's
    {"customer_id": "c-vip", "account_id": "a-1", "nps": 10, "text": "Delivery was slow and late"},
    # a customer without a segment falls back to the account's
    {"customer_id": "c-blank", "account_id": "a-1", "nps": 3, "text": "The price is too high"},
    {"contact_id": "k-1", "account_id": "a-1", "nps": 8, "text": "Great service, fast delivery"},
    {"contact_id": "k-2", "account_id": "a-1", "nps": 9, "text": "Delivery took too long"},
    {"contact_id": "k-2", "account_id": "a-1", "nps": 6},
]


@pytest.fixture(scope="module")
def profile_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = build_api(tmp_path_factory.mktemp("profiles") / "cxloop.db", seed=False)
    for kind, rows in PROFILES.items():
        assert api.import_records(built.store, kind, rows).inserted == len(rows)
    voices = [
        {"feedback_id": f"v-{i}", "channel": "survey", "created_at": "2025-03-01T10:00:00+00:00"}
        | row
        for i, row in enumerate(VOICES)
    ]
    assert api.import_records(built.store, "feedback", voices).inserted == len(voices)
    with built.client:
        yield built
    built.store.close()
    built.app.state.engine.dispose()


def _get(built: Api, url: str, role: str = "analyst", **params: Any) -> Any:
    response = built.client.get(url, params=params, headers=built.auth(role))
    assert response.status_code == 200, response.text
    return response.json()


def test_segment_is_the_customers_else_the_accounts_and_role_the_contacts(
    profile_api: Api,
) -> None:
    body = _get(profile_api, "/api/v1/metrics/nps", by="segment", min_n=1)
    assert [(r["slice"]["segment"], r["n"]) for r in body["rows"]] == [
        ("enterprise", 4),
        ("vip", 1),
    ]
    assert "the customer's value, else the account's" in body["caveats"]
    roles = _get(profile_api, "/api/v1/metrics/responses", by=["region", "role"])
    assert [(r["slice"], r["n"]) for r in roles["rows"]] == [
        ({"region": "上海", "role": None}, 1),
        ({"region": "北京", "role": "purchaser"}, 1),
        ({"region": "北京", "role": "user"}, 2),
        ({"region": "北京", "role": None}, 1),
    ]


def test_viewers_get_no_person_level_slice_of_one_answer(profile_api: Api) -> None:
    analyst = _get(profile_api, "/api/v1/metrics/nps", by="role", min_n=1)
    viewer = _get(profile_api, "/api/v1/metrics/nps", role="viewer", by="role", min_n=1)
    assert [r["slice"]["role"] for r in analyst["rows"]] == ["purchaser", "user", None]
    assert [r["slice"]["role"] for r in viewer["rows"]] == ["user", None]
    assert (analyst["suppressed"], viewer["suppressed"]) == (0, 1)
    segment = _get(profile_api, "/api/v1/metrics/nps", role="viewer", by="segment", min_n=1)
    assert segment["suppressed"] == 0 and len(segment["rows"]) == 2  # not person-level


def test_text_metrics_count_only_feedback_with_text(profile_api: Api) -> None:
    mood = _get(profile_api, "/api/v1/metrics/sentiment", min_n=1)
    [row] = mood["rows"]
    assert row["n"] == 4 and -1 <= row["ci_low"] <= row["score"] <= row["ci_high"] <= 1
    assert "enriched feedback with text" in mood["caveats"]
    topics = _get(profile_api, "/api/v1/metrics/topic_incidence", min_n=1, level="topic_l1")
    assert topics["level"] == "topic_l1"
    delivery = next(r for r in topics["rows"] if r["slice"]["topic_l1"] == "delivery")
    assert delivery["n"] == 4 and delivery["extra"]["mentioned"] == 3
    assert delivery["score"] == 0.75


def test_index_endpoint_uses_the_shipped_cx_index(profile_api: Api) -> None:
    body = _get(profile_api, "/api/v1/metrics/index/cx_index", by="segment", min_n=1)
    assert body["name"] == "cx_index" and body["scale"] == "0…100"
    assert [c["metric"] for c in body["definition"]["components"]] == ["nps", "csat", "ces"]
    assert all(r["score"] is None for r in body["rows"])  # no CSAT or CES answers: no index
    assert "covariances" in body["method"]


@pytest.mark.parametrize(
    ("url", "field", "value"),
    [
        ("/api/v1/metrics/nps?level=topic", "level", "topic"),
        ("/api/v1/metrics/topic_incidence?level=topic_l3", "query.level", "topic_l3"),
        ("/api/v1/metrics/index/loyalty", "name", "loyalty"),
        ("/api/v1/metrics/index/cx_index?by=author", "query.by.0", "author"),
    ],
)
def test_new_parameters_are_checked_naming_field_and_value(
    profile_api: Api, url: str, field: str, value: str
) -> None:
    response = profile_api.client.get(url, headers=profile_api.auth("analyst"))
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert (problem["field"], problem["value"]) == (field, value) and problem["reason"]


def test_cli_index_from_a_file_topic_incidence_and_bad_yaml(tmp_path: Path) -> None:
    store = api.connect(f"sqlite:///{tmp_path / 'cli.db'}")
    rows = [
        {"feedback_id": f"i-{i}", "channel": "survey", "created_at": "2025-03-01T10:00:00+00:00"}
        | {"nps": 9, "csat": 5, "text": "Delivery was slow" if i % 2 else "Nice price"}
        for i in range(6)
    ]
    assert api.import_records(store, "feedback", rows).inserted == len(rows)
    store.close()
    (tmp_path / "ix.yaml").write_text(
        "indices:\n  loyal:\n    label: Loyal\n    components:\n"
        "      - {metric: nps, weight: 2}\n      - {metric: csat, weight: 1}\n"
    )
    index = run_cxloop(
        tmp_path, "metrics", "index", "loyal", "--file", "ix.yaml", "--format", "csv"
    )
    assert index.returncode == 0, index.stderr
    header, line = index.stdout.splitlines()
    assert header == "n,score,ci_low,ci_high,small_n,n_nps,nps_score,n_csat,csat_score"
    n, score, *_ = line.split(",")
    assert n == "6" and float(score) == pytest.approx(100)  # all promoters, all satisfied
    topics = run_cxloop(tmp_path, "metrics", "topic_incidence", "--level", "topic_l1")
    assert topics.returncode == 0 and "delivery" in topics.stdout, topics.stderr
    (tmp_path / "bad.yaml").write_text("indices:\n  x:\n    label: X\n    components: []\n")
    bad = run_cxloop(tmp_path, "metrics", "index", "x", "--file", "bad.yaml")
    assert bad.returncode == 2
    assert "indices.x.components" in bad.stderr and "Traceback" not in bad.stderr
