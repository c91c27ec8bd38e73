"""Metrics benchmark: NPS by channel × month on DuckDB over Parquet, in plain pandas, and on SQLite.

One run generates synthetic responses with a fixed numpy seed (not timed): ``feedback_id``,
``channel`` (six channels, unequal shares), ``created_at`` (uniform over 24 calendar months,
2024-11 … 2026-10, naive UTC microseconds as ``cxloop export parquet`` writes them) and ``nps``
(0–10, skewed towards promoters, 12 % NULL). They are written to ``<tmp>/feedback.parquet`` so
``cxloop.engines.duckdb_backend`` reads them, then three contenders compute the same table:

* ``duckdb`` — ``cxloop.metrics.nps(feedback_table(duckdb_backend(tmp)), by=["channel"],
  period="month")``: the whole product call, connecting, reading the Parquet file (from the OS
  page cache), aggregating in DuckDB and computing scores and intervals. Warm: run once untimed,
  then the best of 3.
* ``pandas`` — the same computation in plain pandas on the same Parquet file **already loaded in
  memory** (``pd.read_parquet``, not timed; its time is reported as ``pandas_load_seconds``):
  drop NULL scores, truncate ``created_at`` to the month, group by channel × month, count
  responses, promoters (9–10) and detractors (0–6), then the score; the interval on those
  per-slice counts (144 rows at 6 channels × 24 months) comes from cxloop's own
  ``metrics.intervals.nps_interval``, so both sides use one interval method.
  Warmed by one untimed call too, then the best of 3.
* ``sqlite`` — a store made by ``cxloop.api.connect("sqlite:///…")`` (its migrations build the
  ``feedback`` table and indexes), filled with the first rows of the same data by a bulk
  ``executemany`` (not timed), then ``nps(feedback_table(store_backend(store.settings)), …)``.
  Warm, best of 3.

Every contender's table is checked against pandas on the same rows: same slices, equal ``n``
and ``promoters``/``detractors``, ``score``/``ci_low``/``ci_high`` within 1e-9; a mismatch
exits 1. The ratio is pandas seconds / DuckDB seconds.

    .venv/bin/python bench/metrics_bench.py            # 10,000,000 rows; SQLite 1,000,000
    .venv/bin/python bench/metrics_bench.py --quick    # 1,000,000 rows; SQLite 100,000
    .venv/bin/python bench/metrics_bench.py --rows 3000000 --sqlite-rows 200000

Results go to ``bench/results/metrics_<UTC timestamp>.json`` and ``metrics_latest.json``
(``metrics_quick_latest.json`` for ``--quick``). Targets (issue 5, at 10,000,000 rows): DuckDB at
least 5× faster than pandas and under 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

NAME = "metrics"
DEFAULT_ROWS = 10_000_000
QUICK_ROWS = 1_000_000
DEFAULT_SQLITE_ROWS = 1_000_000
QUICK_SQLITE_ROWS = 100_000
SEED = 20_261_123
REPEATS = 3
TOLERANCE = 1e-9
TARGET_RATIO = 5.0
TARGET_DUCKDB_SECONDS = 1.0
TARGET_ROWS = 10_000_000
CHANNELS = ("survey", "review", "social", "chat", "email", "ticket")
CHANNEL_SHARES = (0.35, 0.25, 0.15, 0.10, 0.10, 0.05)
NPS_SHARES = (0.03, 0.02, 0.03, 0.03, 0.04, 0.07, 0.08, 0.12, 0.18, 0.2, 0.2)
NULL_SHARE = 0.12
FIRST_MONTH = dt.datetime(2024, 11, 1)
MONTHS = 24
INSERT_BATCH = 100_000
RESULTS = Path(__file__).resolve().parent / "results"


# --- synthetic data -------------------------------------------------------------------------


def generate(rows: int, seed: int) -> Any:
    """A pyarrow table of ``rows`` responses with the columns NPS needs (fixed seed)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    start = np.datetime64(FIRST_MONTH, "us")
    end = np.datetime64(_add_months(FIRST_MONTH, MONTHS), "us")
    span = int((end - start) / np.timedelta64(1, "us"))
    micros = start.astype("int64") + rng.integers(0, span, rows, dtype="int64")
    codes = rng.choice(len(CHANNELS), rows, p=CHANNEL_SHARES).astype("int8")
    scores = rng.choice(11, rows, p=NPS_SHARES).astype("int64")
    missing = rng.random(rows) < NULL_SHARE
    channel = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(CHANNELS)).cast(pa.string())
    ids = pa.array(np.char.add("s", np.arange(rows).astype("U10")))
    return pa.table(
        {
            "feedback_id": ids,
            "channel": channel,
            "created_at": pa.array(micros, type=pa.timestamp("us")),
            "nps": pa.array(scores, mask=missing, type=pa.int64()),
        }
    )


def _add_months(moment: dt.datetime, months: int) -> dt.datetime:
    year, month = divmod(moment.month - 1 + months, 12)
    return moment.replace(year=moment.year + year, month=month + 1)


# --- contenders -----------------------------------------------------------------------------


def pandas_nps(frame: Any, confidence: float = 0.95) -> Any:
    """NPS by channel × month in plain pandas: counts per slice, then score and interval."""
    import pandas as pd

    from cxloop.metrics.intervals import nps_interval

    answered = frame[frame["nps"].notna()]
    scores = answered["nps"]
    counts = (
        pd.DataFrame(
            {
                "channel": answered["channel"],
                "period": answered["created_at"].dt.to_period("M").dt.to_timestamp(),
                "promoters": scores >= 9,
                "detractors": scores <= 6,
            }
        )
        .groupby(["channel", "period"], sort=True, observed=True)
        .agg(
            n=("promoters", "size"),
            promoters=("promoters", "sum"),
            detractors=("detractors", "sum"),
        )
        .reset_index()
    )
    n = counts["n"].to_numpy(dtype="float64")
    pro = counts["promoters"].to_numpy(dtype="float64")
    det = counts["detractors"].to_numpy(dtype="float64")
    counts["score"] = (pro - det) * 100 / n
    # The interval on the per-slice counts (a few hundred rows) is cxloop's own formula, so the
    # two tables agree whatever interval method cxloop settles on; the work is the group-by.
    _, counts["ci_low"], counts["ci_high"] = nps_interval(pro, det, n, confidence=confidence)
    return counts


def best_of(call: Callable[[], Any], repeats: int, *, warm: bool) -> tuple[float, list[float], Any]:
    """Best wall time of ``repeats`` calls (after one untimed call when ``warm``)."""
    result = call() if warm else None
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return min(times), times, result


def duckdb_call(folder: Path) -> Callable[[], Any]:
    from cxloop.engines import duckdb_backend, feedback_table
    from cxloop.metrics import nps

    def call() -> Any:
        backend = duckdb_backend(folder)
        try:
            return nps(feedback_table(backend), by=["channel"], period="month")
        finally:
            backend.disconnect()

    return call


def fill_store(folder: Path, data: Any) -> Any:
    """A fresh SQLite store (cxloop's migrations) holding ``data``; returns its settings."""
    from cxloop.api import connect

    url = f"sqlite:///{folder / 'store.db'}"
    store = connect(url)
    settings = store.settings
    store.close()
    loaded = (
        dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    )
    columns = data.to_pydict()
    stamps = [
        moment.isoformat(sep=" ", timespec="microseconds") for moment in columns["created_at"]
    ]
    rows = zip(columns["feedback_id"], columns["channel"], stamps, columns["nps"], strict=True)
    connection = sqlite3.connect(folder / "store.db")
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA cache_size=-65536")
        sql = (
            "INSERT INTO feedback (feedback_id, channel, created_at, nps, row_hash, loaded_at,"
            " updated_at) VALUES (?, ?, ?, ?, lower(hex(randomblob(16))), ?, ?)"
        )
        batch: list[tuple[Any, ...]] = []
        for feedback_id, channel, created_at, score in rows:
            batch.append((feedback_id, channel, created_at, score, loaded, loaded))
            if len(batch) == INSERT_BATCH:
                connection.executemany(sql, batch)
                batch.clear()
        connection.executemany(sql, batch)
        connection.commit()
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return settings


def sqlite_call(settings: Any) -> Callable[[], Any]:
    from cxloop.engines import feedback_table, store_backend
    from cxloop.metrics import nps

    def call() -> Any:
        backend = store_backend(settings)
        try:
            return nps(feedback_table(backend), by=["channel"], period="month")
        finally:
            backend.disconnect()

    return call


def disagreement(got: Any, expected: Any) -> list[str]:
    """What differs between a cxloop table and the pandas one (empty when they agree)."""
    import numpy as np
    import pandas as pd

    keys = ["channel", "period"]
    left = got.assign(channel=got["channel"].astype(str), period=pd.to_datetime(got["period"]))
    right = expected.assign(
        channel=expected["channel"].astype(str), period=pd.to_datetime(expected["period"])
    )
    merged = left.merge(right, on=keys, how="outer", suffixes=("", "_pd"), indicator=True)
    problems = []
    unmatched = int((merged["_merge"] != "both").sum())
    if unmatched:
        problems.append(f"{unmatched} slices in only one table")
    merged = merged[merged["_merge"] == "both"]
    for column in ("n", "promoters", "detractors"):
        if not (merged[column].astype("int64") == merged[f"{column}_pd"].astype("int64")).all():
            problems.append(f"{column} differs")
    for column in ("score", "ci_low", "ci_high"):
        gap = np.abs(merged[column].to_numpy(float) - merged[f"{column}_pd"].to_numpy(float))
        if not np.all(gap <= TOLERANCE):
            problems.append(f"{column} differs by up to {np.nanmax(gap):.3g}")
    return problems


# --- run ------------------------------------------------------------------------------------


def run(rows: int, sqlite_rows: int, seed: int) -> dict[str, Any]:
    import pandas as pd
    import pyarrow.parquet as pq

    report: dict[str, Any] = {"rows": rows, "sqlite_rows": sqlite_rows, "seed": seed}
    with tempfile.TemporaryDirectory(prefix="cxloop-metrics-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        data = generate(max(rows, sqlite_rows), seed)
        pq.write_table(data.slice(0, rows), folder / "feedback.parquet")
        report["generate_seconds"] = round(time.perf_counter() - started, 2)
        report["parquet_mb"] = round((folder / "feedback.parquet").stat().st_size / 2**20, 1)

        started = time.perf_counter()
        frame = pd.read_parquet(
            folder / "feedback.parquet", columns=["channel", "created_at", "nps"]
        )
        report["pandas_load_seconds"] = round(time.perf_counter() - started, 3)
        report["pandas_frame_mb"] = round(frame.memory_usage(deep=True).sum() / 2**20, 1)

        duck, duck_times, duck_table = best_of(duckdb_call(folder), REPEATS, warm=True)
        panda, panda_times, panda_table = best_of(
            functools.partial(pandas_nps, frame), REPEATS, warm=True
        )
        report["slices"] = len(panda_table)
        problems = {"duckdb": disagreement(duck_table, panda_table)}
        del frame

        sqlite_data = data.slice(0, sqlite_rows)
        del data
        started = time.perf_counter()
        settings = fill_store(folder, sqlite_data)
        report["sqlite_fill_seconds"] = round(time.perf_counter() - started, 2)
        report["sqlite_mb"] = round((folder / "store.db").stat().st_size / 2**20, 1)
        lite, lite_times, lite_table = best_of(sqlite_call(settings), REPEATS, warm=True)
        reference = pandas_nps(sqlite_data.select(["channel", "created_at", "nps"]).to_pandas())
        problems["sqlite"] = disagreement(lite_table, reference)

    report["engines"] = [
        _row("duckdb", rows, duck, duck_times, panda / duck),
        _row("pandas", rows, panda, panda_times, 1.0),
        _row("sqlite", sqlite_rows, lite, lite_times, None),
    ]
    report["ratio_pandas_over_duckdb"] = round(panda / duck, 2)
    # both from the same Parquet file: DuckDB's time includes its read, pandas' call does not
    report["ratio_pandas_from_parquet_over_duckdb"] = round(
        (report["pandas_load_seconds"] + panda) / duck, 2
    )
    report["problems"] = {name: found for name, found in problems.items() if found}
    at_target_size = rows >= TARGET_ROWS
    report["targets_met"] = {
        "at_target_size": at_target_size,
        "ratio": panda / duck >= TARGET_RATIO,
        "duckdb_seconds": duck < TARGET_DUCKDB_SECONDS,
    }
    return report


def _row(
    engine: str, rows: int, best: float, times: list[float], ratio: float | None
) -> dict[str, Any]:
    return {
        "engine": engine,
        "rows": rows,
        "seconds": round(best, 4),
        "all_seconds": [round(t, 4) for t in times],
        "rows_per_s": round(rows / best),
        "pandas_over_this": None if ratio is None else round(ratio, 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=None, help="rows for DuckDB and pandas")
    parser.add_argument("--sqlite-rows", type=int, default=None, help="rows in the SQLite store")
    parser.add_argument("--quick", action="store_true", help="1,000,000 rows; SQLite 100,000")
    parser.add_argument("--seed", type=int, default=SEED)
    args, _ = parser.parse_known_args(argv)
    rows = args.rows or (QUICK_ROWS if args.quick else DEFAULT_ROWS)
    sqlite_rows = args.sqlite_rows or (
        QUICK_SQLITE_ROWS if args.quick else min(DEFAULT_SQLITE_ROWS, rows)
    )
    load_before = os.getloadavg()
    body = run(rows, sqlite_rows, args.seed)
    import duckdb
    import ibis
    import pandas as pd

    report: dict[str, Any] = {
        "benchmark": NAME,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": {
            "duckdb": duckdb.__version__,
            "ibis": ibis.__version__,
            "pandas": pd.__version__,
        },
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "targets": {
            "pandas_over_duckdb_at_least": TARGET_RATIO,
            "duckdb_seconds_under": TARGET_DUCKDB_SECONDS,
            "at_rows": TARGET_ROWS,
        },
        **body,
    }
    _print(report)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2) + "\n"
    latest = f"{NAME}_quick_latest.json" if args.quick else f"{NAME}_latest.json"
    for path in (RESULTS / f"{NAME}_{stamp}.json", RESULTS / latest):
        path.write_text(text, encoding="utf-8")
    return 1 if report["problems"] else 0


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="NPS by channel × month (warm, best of 3)")
    for column in ("engine", "rows", "seconds", "rows/s", "pandas ÷ this"):
        table.add_column(column, justify="right")
    for row in report["engines"]:
        ratio = row["pandas_over_this"]
        table.add_row(
            row["engine"],
            f"{row['rows']:,}",
            f"{row['seconds']:.3f}",
            f"{row['rows_per_s']:,.0f}",
            "" if ratio is None else f"{ratio:.2f}×",
        )
    console.print(table)
    met = report["targets_met"]
    duck = report["engines"][0]["seconds"]
    size = "" if met["at_target_size"] else f" (measured at {report['rows']:,}, not 10,000,000)"
    console.print(
        f"Targets at {TARGET_ROWS:,} rows{size}: DuckDB ≥ {TARGET_RATIO:g}× faster than pandas — "
        f"{report['ratio_pandas_over_duckdb']:.2f}× {'met' if met['ratio'] else 'NOT met'}; "
        f"DuckDB < {TARGET_DUCKDB_SECONDS:g} s — {duck:.3f} s "
        f"{'met' if met['duckdb_seconds'] else 'NOT met'}"
    )
    console.print(
        "Counting pandas' read_parquet too (DuckDB's time includes its read): "
        f"{report['ratio_pandas_from_parquet_over_duckdb']:.2f}×"
    )
    console.print(
        f"{report['slices']} slices; pandas load from Parquet {report['pandas_load_seconds']} s "
        f"({report['pandas_frame_mb']} MB in memory, not timed); "
        f"Parquet {report['parquet_mb']} MB; "
        f"SQLite fill {report['sqlite_fill_seconds']} s ({report['sqlite_mb']} MB, not timed); "
        f"load average {report['load_average_before'][0]} → {report['load_average_after'][0]} "
        f"on {report['cpus']} CPUs"
    )
    for engine, found in report["problems"].items():
        console.print(f"[red]{engine} disagrees with pandas: {'; '.join(found)}[/red]")


if __name__ == "__main__":
    sys.exit(main())
