"""One metric call, every engine: the SQLite store, DuckDB over a Parquet export of it, and
PostgreSQL (``-m postgres``) give identical tables on the same (small) demo company."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from cxloop import engines
from cxloop.config import Settings
from cxloop.metrics import service as metrics_service
from cxloop.metrics.schemas import MetricName
from cxloop.metrics.scores import METRICS
from tests.engines.parity_support import (
    EDGES,
    SLICINGS,
    index_table,
    load_demo_with_edges,
    topic_table,
)

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("parity")
    return load_demo_with_edges(f"sqlite:///{folder / 'cxloop.db'}", folder / "files")


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
        backend = engines.store_backend(load_demo_with_edges(url, folder / "files"))
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
    expected_topics = topic_table(sqlite_backend, by, period)
    expected_index = index_table(sqlite_backend, by, period)
    assert expected_topics["mentioned"].sum() > 100 and expected_index["score"].notna().any()
    pd.testing.assert_frame_equal(
        topic_table(other_backend, by, period), expected_topics, check_exact=True
    )
    pd.testing.assert_frame_equal(
        index_table(other_backend, by, period), expected_index, check_exact=True
    )


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
