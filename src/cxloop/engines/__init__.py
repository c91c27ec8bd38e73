"""Ibis backends over cxloop's data: the app's SQL store, or DuckDB or Spark over Parquet.

Analytics (``cxloop.metrics``) take the Ibis tables these give and never ask which engine runs
them. Nothing connects at import: every function here opens its connection when called.
"""

from __future__ import annotations

import atexit
import threading
import warnings
from collections.abc import Collection, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, cast

import ibis
from ibis.backends import BaseBackend
from ibis.common.exceptions import TableNotFound
from sqlalchemy.engine import make_url

from cxloop.config import Settings
from cxloop.errors import Invalid

# Upstream deprecations that ibis 12 itself triggers on every query (it reads pandas 3's
# deprecated ``future.infer_string`` option; it calls DuckDB 2's deprecated
# ``fetch_arrow_table``): nothing a user can act on. Ignored only when raised from ibis's own
# modules, so the same deprecations in our code (or the user's) still show.
for _message in (r"The 'future\.infer_string' option is deprecated", r"fetch_arrow_table\(\)"):
    warnings.filterwarnings("ignore", _message, DeprecationWarning, r"ibis\.")

FEEDBACK = "feedback"
"""The table of every response (scores, channel, touchpoint, created_at in naive UTC…)."""
EXPORTED = ("feedback", "feedback_text", "feedback_topic")
"""Tables ``export_parquet`` writes by default: the responses and their text features."""


def store_backend(settings: Settings) -> BaseBackend:
    """An Ibis connection to the store of ``settings.database_url`` (SQLite file or PostgreSQL).

    >>> from cxloop.config import Settings
    >>> backend = store_backend(Settings(database_url="sqlite://"))
    >>> backend.name
    'sqlite'
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        return ibis.sqlite.connect(database if database not in ("", ":memory:") else None)
    kwargs: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "database": url.database,
    }
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    # the URL's query options (sslmode, options, host=/socket/dir, connect_timeout…) go to
    # libpq as they are; a repeated one (multi-host) is joined by commas as libpq expects
    for key, value in url.query.items():
        kwargs.setdefault(key, value if isinstance(value, str) else ",".join(value))
    return ibis.postgres.connect(**kwargs)


def duckdb_backend(parquet_dir: str | Path) -> BaseBackend:
    """An in-memory DuckDB whose tables are views over ``<name>.parquet`` files in a folder.

    DuckDB reads Parquet with its built-in reader, so no extension is downloaded.

    >>> import tempfile
    >>> backend = duckdb_backend(tempfile.mkdtemp())
    >>> backend.name
    'duckdb'
    """
    folder = Path(parquet_dir)
    if not folder.is_dir():
        raise Invalid("is not a folder", "parquet_dir", str(folder))
    backend = ibis.duckdb.connect()
    try:
        for path in sorted(folder.glob("*.parquet")):
            backend.read_parquet(path, table_name=path.stem)
    except BaseException:
        backend.disconnect()
        raise
    return backend


SPARK_CONF = {
    "spark.master": "local[2]",
    "spark.app.name": "cxloop",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
}
"""A local Spark for the export of one company: two cores, bound to loopback only (no LAN name
lookup, nothing reachable from outside), no web UI, UTC like the store, and few shuffle
partitions (Spark's default of 200 is sized for a cluster and slows every small group-by)."""


def spark_backend(parquet_dir: str | Path) -> BaseBackend:
    """A local Spark session (``SPARK_CONF``) whose tables are views over ``<name>.parquet``
    files in a folder, like ``duckdb_backend``; needs the ``spark`` extra and Java 17 or 21.

    The session starts here (a JVM: 6–25 s on a busy 2-core machine), never at import. Spark
    keeps one session per process: one already running is reused (its static settings stay
    as they were), and ``backend.disconnect()`` stops it for every backend sharing it. The
    caller disconnects; on a failure here a session this call started is stopped. Set
    ``SPARK_LOCAL_IP=127.0.0.1`` in the environment to silence the JVM's start-up warning
    about the host name (the session binds to 127.0.0.1 either way).

    >>> backend = spark_backend("exports/acme")  # doctest: +SKIP
    >>> try:  # doctest: +SKIP
    ...     nps(backend.table("feedback"), by="channel")
    ... finally:
    ...     backend.disconnect()
    """
    folder = Path(parquet_dir)
    if not folder.is_dir():
        raise Invalid("is not a folder", "parquet_dir", str(folder))
    from pyspark.sql import SparkSession  # the optional extra: imported only when asked for

    running = SparkSession.getActiveSession()
    builder = SparkSession.builder
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    try:
        session.sparkContext.setLogLevel("ERROR")
        backend = ibis.pyspark.connect(session)
        for path in sorted(folder.glob("*.parquet")):
            backend.read_parquet(path, table_name=path.stem)
    except BaseException:
        if running is None:
            session.stop()
        raise
    return backend


def feedback_table(backend: BaseBackend) -> ibis.Table:
    """The feedback responses of ``backend`` as an Ibis table (nothing runs yet)."""
    try:
        return backend.table(FEEDBACK)
    except TableNotFound:
        raise Invalid(
            "has no feedback table: run `cxloop init` or export it", "backend", None
        ) from None


def export_parquet(
    settings: Settings,
    out_dir: str | Path,
    *,
    omit: Mapping[str, Collection[str]],
    tables: tuple[str, ...] = EXPORTED,
) -> list[Path]:
    """Write the store's ``tables`` as ``<out_dir>/<table>.parquet``, for DuckDB (or Spark),
    leaving out the columns ``omit`` names per table.

    ``omit`` has no default so that no caller writes personal data without deciding to:
    ``cxloop.metrics.service.export_parquet`` passes the PII columns of
    ``cxloop.privacy.masking.PII_FIELDS`` (``{}`` keeps every column).

    Column types come from the store's schema, so the files hold the same values the store does
    (timestamps naive UTC, scores as 64-bit integers); JSON columns are written as JSON text.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    backend = store_backend(settings)
    written = []
    try:
        for name in tables:
            path = folder / f"{name}.parquet"
            table = backend.table(name)
            dropped = [c for c in omit.get(name, ()) if c in table.columns]
            if dropped:
                table = table.drop(*dropped)
            as_text = {c: table[c].cast("string") for c, t in table.schema().items() if t.is_json()}
            table.mutate(**as_text).to_parquet(path)
            written.append(path)
    finally:
        backend.disconnect()
    return written


@cache
def _parts_backend_class() -> type[BaseBackend]:
    """DuckDB whose ``list_tables`` answers from the views made over part files (ibis 12's own
    fails on DuckDB 2.0: FACTS.md). Built on first use: DuckDB is not imported with cxloop."""
    from ibis.backends.duckdb import Backend as DuckDBBackend

    class PartsBackend(DuckDBBackend):
        part_tables: tuple[str, ...] = ()
        kept_open = False

        def list_tables(self, *, like: str | None = None, database: Any = None) -> list[str]:
            return sorted(self.part_tables)

        def disconnect(self) -> None:
            if not self.kept_open:  # the thread's shared snapshot connection stays open
                super().disconnect()

    return PartsBackend


def parquet_parts_backend(
    tables: Mapping[str, Sequence[Path]], json_columns: Mapping[str, Sequence[str]] | None = None
) -> BaseBackend:
    """An in-memory DuckDB with one view per table over its part files (the analytics
    snapshot's layout), ``json_columns`` read back as JSON from their text. Views are bound
    here; DuckDB reads the files when a query runs."""
    backend: Any = _parts_backend_class()().connect()
    try:
        backend.raw_sql("SET enable_progress_bar = false")  # a server's stdout is not a terminal
        for name, paths in tables.items():
            listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
            casts = ", ".join(
                f'CAST("{c}" AS JSON) AS "{c}"' for c in (json_columns or {}).get(name, ())
            )
            columns = f"* REPLACE ({casts})" if casts else "*"
            backend.raw_sql(
                f'CREATE OR REPLACE TEMP VIEW "{name}" AS '
                f"SELECT {columns} FROM read_parquet([{listed}])"
            )
    except BaseException:
        backend.disconnect()
        raise
    backend.part_tables = tuple(tables)
    return backend


def analytics_backend(settings: Settings) -> BaseBackend:
    """Where read-only analytics run: the analytics snapshot (DuckDB over Parquet) when
    ``settings.analytics_snapshot_dir`` holds a whole snapshot of this store, else the store.
    Writers keep ``store_backend``; ``dashboards.freshness`` says which one answered."""
    from cxloop.engines import snapshot
    from cxloop.engines.snapshot_refresh import database_label

    folder = settings.analytics_snapshot_dir
    state = snapshot.read_state(folder)
    if folder is None or state is None or state.database != database_label(settings):
        return store_backend(settings)
    key = (str(folder.resolve()), state.generation)
    thread = threading.get_ident()
    with _LOCK:
        found = _OPEN.get(thread)
    if found is not None and found[0] == key:
        return cast(BaseBackend, found[1])
    backend = parquet_parts_backend(
        {name: snapshot.part_paths(folder, state, name) for name in state.parts},
        state.json_columns,
    )
    backend.kept_open = True
    with _LOCK:
        if not _OPEN:
            atexit.register(_close_all)
        alive = {t.ident for t in threading.enumerate()}
        # this thread's older generation (its files go two refreshes later), finished threads'
        gone = [t for t in _OPEN if t == thread or t not in alive]
        closing = [_OPEN.pop(t)[1] for t in gone]
        _OPEN[thread] = (key, backend)
    for old in closing:
        _close(old)
    return cast(BaseBackend, backend)


def _close(backend: Any) -> None:
    backend.kept_open = False
    backend.disconnect()


def _close_all() -> None:
    """At exit, close every kept snapshot connection while the interpreter still runs (one
    destroyed with its thread, or during shutdown, aborts the process)."""
    with _LOCK:
        closing = [backend for _, backend in _OPEN.values()]
        _OPEN.clear()
    for backend in closing:
        _close(backend)


_LOCK = threading.Lock()
_OPEN: dict[int, tuple[tuple[str, str], Any]] = {}
"""Per thread, the open DuckDB of the current snapshot generation: opening one costs ~35 ms
(connect and bind the views), more than most dashboard queries on it. A connection is used by
one thread at a time; callers' ``disconnect`` leaves it open; it is closed when the thread has
finished (by the next thread that opens one) or at exit, never by a dying thread."""
