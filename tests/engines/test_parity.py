"""One metric call, every engine: the SQLite store, DuckDB over a Parquet export of it, and
PostgreSQL (``-m postgres``) give identical tables on the same (small) demo company."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from cxloop import engines
from cxloop.api import connect, import_records
from cxloop.config import Settings
from cxloop.demo.generator import DemoConfig
from cxloop.demo.service import load_demo
from cxloop.metrics import indices
from cxloop.metrics import service as metrics_service
from cxloop.metrics.schemas import MetricName
from cxloop.metrics.scores import METRICS

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")

SMALL = DemoConfig(seed=7, n_customers=400, n_accounts=8)
SLICINGS = [
    pytest.param(("channel",), "month", id="channel x month"),
    pytest.param(("touchpoint", "journey_stage"), "week", id="touchpoint x stage x week"),
    pytest.param(("account_id",), None, id="account"),
    pytest.param((), "quarter", id="quarter"),
    pytest.param(("segment",), "month", id="segment x month"),
    pytest.param(("region", "role"), None, id="region x role"),
]


EDGES = {
    "edge-sunday-last-instant": ("2025-03-30T23:59:59.999500+00:00", "2025-03-24"),
    "edge-sunday-last-microsecond": ("2026-01-04T23:59:59.999999+00:00", "2025-12-29"),
    "edge-new-years-eve": ("2024-12-31T23:59:59.999999+00:00", "2024-12-30"),
    "edge-new-year": ("2025-01-01T00:00:00+00:00", "2024-12-30"),
    "edge-leap-day": ("2024-02-29T23:59:59.999999+00:00", "2024-02-26"),
}
"""Answers at calendar edges (feedback_id: created_at, first day of its week), added to the demo:
the last instant of a Sunday, a year boundary and 29 February."""


def _load_demo(database_url: str, folder: Path) -> Settings:
    """The small demo company imported through the real importer (text features stored, for
    the text metrics), plus the ``EDGES`` answers."""
    settings = Settings(database_url=database_url, import_batch_size=1000, enrich_on_import=True)
    store = connect(settings=settings)
    try:
        load_demo(sessions=store.sessions, settings=settings, folder=folder, config=SMALL)
        edges = [
            {
                "feedback_id": key,
                "channel": "forum",
                "touchpoint": "edge-calendar",
                "created_at": stamp,
                "nps": 10,
                "ces": 4,
            }
            for key, (stamp, _) in EDGES.items()
        ]
        assert import_records(store, "feedback", edges).inserted == len(edges)
    finally:
        store.close()
    return settings


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("parity")
    return _load_demo(f"sqlite:///{folder / 'cxloop.db'}", folder / "files")


@pytest.fixture(scope="module")
def sqlite_backend(sqlite_demo: Settings) -> Iterator[BaseBackend]:
    backend = engines.store_backend(sqlite_demo)
    yield backend
    backend.disconnect()


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def other_backend(
    request: pytest.FixtureRequest,
    sqlite_demo: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BaseBackend]:
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "duckdb":
        metrics_service.export_parquet(settings=sqlite_demo, out_dir=folder)
        backend = engines.duckdb_backend(folder)
    else:
        url = request.getfixturevalue("postgres_module_url")
        backend = engines.store_backend(_load_demo(url, folder / "files"))
    yield backend
    backend.disconnect()


@pytest.mark.parametrize(("by", "period"), SLICINGS)
@pytest.mark.parametrize("metric", [m.value for m in MetricName])
def test_every_metric_gives_identical_tables_on_every_engine(
    sqlite_backend: BaseBackend,
    other_backend: BaseBackend,
    metric: str,
    by: tuple[str, ...],
    period: str | None,
) -> None:
    expected = metrics_service.run_metric(sqlite_backend, metric, by=by, period=period)
    got = metrics_service.run_metric(other_backend, metric, by=by, period=period)
    assert expected["n"].sum() > 100
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.parametrize(("by", "period"), SLICINGS[::2])
def test_topic_incidence_by_full_topic_and_the_index_are_identical_on_every_engine(
    sqlite_backend: BaseBackend,
    other_backend: BaseBackend,
    by: tuple[str, ...],
    period: str | None,
) -> None:
    def topics(backend: BaseBackend) -> pd.DataFrame:
        return metrics_service.run_metric(
            backend, "topic_incidence", by=by, period=period, level="topic"
        )

    def index(backend: BaseBackend) -> pd.DataFrame:
        table = metrics_service.sliceable_feedback(backend, by)
        return indices.experience_index(
            table, indices.default_indices()["cx_index"], by=by, period=period
        )

    expected_topics, expected_index = topics(sqlite_backend), index(sqlite_backend)
    assert expected_topics["mentioned"].sum() > 100 and expected_index["score"].notna().any()
    pd.testing.assert_frame_equal(topics(other_backend), expected_topics, check_exact=True)
    pd.testing.assert_frame_equal(index(other_backend), expected_index, check_exact=True)


def test_profile_dimensions_keep_one_row_per_feedback_and_fill_b2c_and_b2b(
    sqlite_backend: BaseBackend,
) -> None:
    """The joins add columns, never rows; B2C answers get the customer's segment, B2B answers
    (no customer) the account's, and only contacts' answers have a role."""
    plain = engines.feedback_table(sqlite_backend).count().execute()
    joined = metrics_service.sliceable_feedback(sqlite_backend, ["segment", "region", "role"])
    rows = joined.select("customer_id", "account_id", "contact_id", "segment", "role").execute()
    assert len(rows) == plain
    b2b = rows.customer_id.isna() & rows.account_id.notna()
    assert set(rows.segment[b2b]) <= {"enterprise", "mid_market", "smb"} and b2b.sum() > 0
    assert set(rows.segment[rows.customer_id.notna()].dropna()) <= {"new", "regular", "vip"}
    assert rows.role[rows.contact_id.isna()].isna().all()
    assert rows.role[rows.contact_id.notna()].notna().all()


def test_store_counts_agree_with_plain_pandas_on_the_stored_rows(
    sqlite_demo: Settings, sqlite_backend: BaseBackend
) -> None:
    """An engine-free check of what the engines count: NPS by channel × month in pandas."""
    rows = pd.read_sql_table(
        "feedback", sqlite_demo.database_url, columns=["channel", "created_at", "nps"]
    ).dropna(subset=["nps"])
    rows["period"] = rows.created_at.dt.to_period("M").dt.start_time.astype("datetime64[us]")
    expected = rows.groupby(["channel", "period"]).nps.agg(
        n="count",
        promoters=lambda s: int((s >= 9).sum()),
        detractors=lambda s: int((s <= 6).sum()),
    )
    got = METRICS["nps"](
        engines.feedback_table(sqlite_backend), by=["channel"], period="month"
    ).set_index(["channel", "period"])
    assert got["n"].tolist() == expected["n"].tolist()
    assert got["promoters"].tolist() == expected["promoters"].tolist()
    assert got["detractors"].tolist() == expected["detractors"].tolist()
    assert got.index.tolist() == expected.index.tolist()


@pytest.mark.parametrize("engine", ["sqlite", "other"])
def test_edge_answers_fall_in_the_right_week(
    sqlite_backend: BaseBackend, other_backend: BaseBackend, engine: str
) -> None:
    """A Sunday's last instant stays in its week (Monday-based, UTC) on every engine."""
    backend = sqlite_backend if engine == "sqlite" else other_backend
    table = engines.feedback_table(backend)
    table = table.filter(table.touchpoint == "edge-calendar")
    got = METRICS["responses"](table, period="week")
    expected = pd.Series([week for _, week in EDGES.values()]).value_counts().sort_index()
    assert got.period.dt.strftime("%Y-%m-%d").tolist() == expected.index.tolist()
    assert got.n.tolist() == expected.tolist()
