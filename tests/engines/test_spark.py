"""Spark (``-m spark``) gives the tables SQLite and DuckDB give: every metric, by dimensions and
period, on the small demo company of the parity tests, read from the same Parquet export.

One Spark session serves the whole module (starting one costs 7–25 s). Without pyspark or Java
the module skips; with ``CXLOOP_REQUIRE_SERVICES=1`` and ``CXLOOP_REQUIRE_SPARK=1`` (what
``.ci/run`` sets after installing the ``spark`` extra) it fails instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from cxloop import engines
from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.metrics import service as metrics_service
from cxloop.metrics.schemas import MetricName
from cxloop.metrics.scores import METRICS
from tests.conftest import REQUIRE_SERVICES
from tests.engines.parity_support import (
    EDGES,
    SLICINGS,
    index_table,
    load_demo_with_edges,
    topic_table,
)

pytestmark = [
    pytest.mark.spark,
    # one Spark session for the module: under pytest-xdist (--dist loadgroup) one worker runs it all
    pytest.mark.xdist_group("spark"),
    pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
    # pyspark 4.0's toPandas passes copy= to astype, deprecated in pandas 3: upstream, not ours
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]

REQUIRE_SPARK = REQUIRE_SERVICES and os.environ.get("CXLOOP_REQUIRE_SPARK") == "1"
"""Missing Spark is a failure, not a skip: CI installs the extra and sets both variables."""
EVERY_METRIC = sorted({*METRICS, *(m.value for m in MetricName)})
"""The registry of ``cxloop.metrics.scores`` and every name the API serves (topic incidence)."""


def _unavailable(reason: str) -> None:
    """Skip with ``reason``, or fail when CI requires Spark."""
    if REQUIRE_SPARK:
        pytest.fail(
            f"{reason} — required because CXLOOP_REQUIRE_SPARK=1 and CXLOOP_REQUIRE_SERVICES=1",
            pytrace=False,
        )
    pytest.skip(reason, allow_module_level=True)


def _java_found() -> bool:
    """pyspark runs ``$JAVA_HOME/bin/java`` when JAVA_HOME is set, else ``java`` on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        return (Path(java_home) / "bin" / "java").is_file()
    return shutil.which("java") is not None


if importlib.util.find_spec("pyspark") is None:
    _unavailable(
        "pyspark not installed: pip install -e '.[spark]' (make test EXTRAS=dev,train,spark)"
    )
if not _java_found():
    _unavailable("Java not found: Spark needs java 17+ on PATH or in JAVA_HOME")


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The parity tests' small demo company (with their calendar-edge answers) in SQLite."""
    folder = tmp_path_factory.mktemp("spark-demo")
    return load_demo_with_edges(f"sqlite:///{folder / 'cxloop.db'}", folder / "files")


@pytest.fixture(scope="module")
def parquet_dir(sqlite_demo: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spark-parquet")
    metrics_service.export_parquet(settings=sqlite_demo, out_dir=folder)
    return folder


@pytest.fixture(scope="module")
def sqlite_backend(sqlite_demo: Settings) -> Iterator[BaseBackend]:
    backend = engines.store_backend(sqlite_demo)
    yield backend
    backend.disconnect()


@pytest.fixture(scope="module")
def duckdb_backend(parquet_dir: Path) -> Iterator[BaseBackend]:
    backend = engines.duckdb_backend(parquet_dir)
    yield backend
    backend.disconnect()


@pytest.fixture(scope="module")
def spark_backend(parquet_dir: Path) -> Iterator[BaseBackend]:
    """The module's one Spark session, stopped after its last test."""
    with pytest.MonkeyPatch.context() as patch:
        # the JVM reads this at start: without it Spark warns that the host name resolves
        # to loopback (the session binds to 127.0.0.1 by its own settings either way)
        patch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        backend = engines.spark_backend(parquet_dir)
    yield backend
    backend.disconnect()


def test_every_exported_file_is_a_table_of_a_local_utc_session(
    spark_backend: BaseBackend, parquet_dir: Path
) -> None:
    from pyspark.sql import SparkSession

    assert set(spark_backend.list_tables()) == {p.stem for p in parquet_dir.glob("*.parquet")}
    session = SparkSession.getActiveSession()
    assert session is not None
    conf = session.sparkContext.getConf()
    assert conf.get("spark.master") == "local[2]"
    assert conf.get("spark.driver.host") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false"
    assert session.conf.get("spark.sql.session.timeZone") == "UTC"
    assert session.conf.get("spark.sql.shuffle.partitions") == "4"


def test_a_missing_folder_is_refused_before_spark_starts(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="parquet_dir"):
        engines.spark_backend(tmp_path / "absent")


def test_a_bad_file_raises_and_leaves_the_running_session_usable(
    spark_backend: BaseBackend, tmp_path: Path
) -> None:
    """A second backend reuses the process's session; its failure must not stop that one."""
    (tmp_path / "feedback.parquet").write_bytes(b"not parquet")
    with pytest.raises(Exception, match=r"feedback\.parquet"):
        engines.spark_backend(tmp_path)
    assert engines.feedback_table(spark_backend).count().execute() > 100


@pytest.mark.parametrize(("by", "period"), SLICINGS)
@pytest.mark.parametrize("metric", EVERY_METRIC)
def test_every_metric_gives_the_duckdb_and_sqlite_table_on_spark(
    sqlite_backend: BaseBackend,
    duckdb_backend: BaseBackend,
    spark_backend: BaseBackend,
    metric: str,
    by: tuple[str, ...],
    period: str | None,
) -> None:
    expected = metrics_service.run_metric(duckdb_backend, metric, by=by, period=period)
    store = metrics_service.run_metric(sqlite_backend, metric, by=by, period=period)
    got = metrics_service.run_metric(spark_backend, metric, by=by, period=period)
    assert expected["n"].sum() > 100
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    pd.testing.assert_frame_equal(got, store, check_exact=True)


@pytest.mark.parametrize(("by", "period"), SLICINGS[::2])
def test_topic_incidence_by_full_topic_and_the_index_are_identical_on_spark(
    duckdb_backend: BaseBackend,
    spark_backend: BaseBackend,
    by: tuple[str, ...],
    period: str | None,
) -> None:
    expected_topics = topic_table(duckdb_backend, by, period)
    expected_index = index_table(duckdb_backend, by, period)
    assert expected_topics["mentioned"].sum() > 100 and expected_index["score"].notna().any()
    pd.testing.assert_frame_equal(
        topic_table(spark_backend, by, period), expected_topics, check_exact=True
    )
    pd.testing.assert_frame_equal(
        index_table(spark_backend, by, period), expected_index, check_exact=True
    )


def test_edge_answers_fall_in_the_right_week_on_spark(spark_backend: BaseBackend) -> None:
    """A Sunday's last instant stays in its Monday-based UTC week, whatever the JVM's zone."""
    table = engines.feedback_table(spark_backend)
    table = table.filter(table.touchpoint == "edge-calendar")
    got = METRICS["responses"](table, period="week")
    expected = pd.Series([week for _, week in EDGES.values()]).value_counts().sort_index()
    assert got.period.dt.strftime("%Y-%m-%d").tolist() == expected.index.tolist()
    assert got.n.tolist() == expected.tolist()
