"""Import benchmark: cxloop's file importer against the floor (sqlite3 + csv + executemany).

One run generates a synthetic feedback CSV (fixed seed, not timed), then imports it twice, each
contender in its own fresh interpreter so neither inherits the other's memory or warm caches:

* ``cxloop`` — ``cxloop.api.connect("sqlite:///…")`` then ``cxloop.api.import_file(store,
  "feedback", path)``: sniffing, hashing the file, validation, keys, row hashes, upsert lookup,
  quarantine, identity linking, inserts.
  Text enrichment is off (``CXLOOP_ENRICH_ON_IMPORT=false``): the floor analyses no text, and
  ``text_bench.py`` measures the analysis, including an import with enrichment on.
* ``floor`` — plain ``sqlite3``: ``csv.reader`` rows straight into ``executemany`` against a copy
  of cxloop's own ``feedback`` table (same columns, primary key and indexes; same PRAGMAs: WAL,
  synchronous=NORMAL, 64 MiB page cache, checkpoint every 8192 pages),
  committed every 20,000 rows. No validation at all: the fastest any importer could be here.

Timed: the import call only (file read + work + commit), after imports and schema setup.
Peak memory: the child's own high-water mark (``VmHWM``; see ``_peak_rss_kib``).

    .venv/bin/python bench/import_bench.py            # 1,000,000 rows
    .venv/bin/python bench/import_bench.py --quick    # 100,000 rows
    .venv/bin/python bench/import_bench.py --rows 250000 --profile   # cProfile cxloop only

Results go to ``bench/results/import_<UTC timestamp>.json`` and ``import_latest.json``.
Heavy imports (numpy, cxloop, rich) stay inside functions: workers re-run this file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

NAME = "import"
DEFAULT_ROWS = 1_000_000
QUICK_ROWS = 100_000
PROFILE_ROWS = 100_000
SEED = 20_260_301
FLOOR_BATCH = 20_000
STORE_ONLY = {"CXLOOP_ENRICH_ON_IMPORT": "false"}
"""Text analysis is measured by ``text_bench.py``; here cxloop stores, as the floor does."""
SHARE_TARGET = 0.5  # cxloop should reach at least half the floor's rate
PEAK_LIMIT_MB = 500.0
RESULTS = Path(__file__).resolve().parent / "results"
EXTRA_COLUMN = "device"
HEADER = [
    "feedback_id",
    "channel",
    "source",
    "created_at",
    "text",
    "nps",
    "csat",
    "ces",
    "rating",
    "author_email",
    "touchpoint",
    "journey_stage",
    EXTRA_COLUMN,
]


# --- synthetic data -------------------------------------------------------------------------

ZH_PHRASES = (
    "物流很快",
    "包装完好",
    "客服态度很好，耐心解答了我的问题",
    "质量一般，和描述不太一样",
    "退款流程太复杂了，等了一个星期",
    "App 更新后经常闪退",
    "会员积分规则看不懂",
    "价格有点贵",
    "性价比很高，会回购",
    "送货员很有礼貌",
    "发票开了三次才开对",
    "颜色和图片有色差",
    "尺码偏小，建议买大一码",
    "安装师傅准时上门，服务专业",
    "电话一直打不通",
    "在线客服回复太慢",
    "第二次购买了，一如既往的好",
    "说明书写得不清楚",
    "续费的时候被多扣了钱",
    "希望能增加更多支付方式",
    "页面加载很慢",
    "优惠券用不了",
    "味道不错",
    "门店环境干净整洁",
    "排队时间太长",
)
EN_PHRASES = (
    "Fast delivery.",
    "The app keeps crashing after the last update.",
    "Support was friendly and solved my issue in minutes",
    "Quality is not what the photos show",
    "Refund took far too long",
    "Great value for money, will buy again!",
    'The "premium" plan is not worth it',
    "Checkout failed twice, then charged me twice",
    "Love the new dashboard",
    "Couldn't find the invoice anywhere",
    "Onboarding was smooth",
    "Too many emails, please stop",
    "Packaging was damaged, product fine",
    "Agent hung up on me",
    "Easy to set up, works as advertised",
    "Search results are irrelevant",
    "Prices went up again without notice",
    "Helpful staff at the store",
    "Delivery window was missed, no call",
    "Best purchase this year",
)
CHANNELS = ("review", "review", "survey", "评论", "问卷", "ticket", "chat", "微博", "email", "nps")
SOURCES = ("tmall", "jd", "app_store", "wjx", "qualtrics", "zendesk", "weibo", "xiaohongshu")
TOUCHPOINTS = ("app", "web", "store", "hotline", "delivery", "wechat_mini_program", "")
STAGES = ("awareness", "purchase", "delivery", "onboarding", "usage", "renewal", "support", "")
DEVICES = (
    "iPhone 15 / iOS 18.2",
    "HUAWEI Mate 60 / HarmonyOS 4",
    "Xiaomi 14 / Android 14",
    "Web Chrome 131",
    "Web Safari 18",
    "小程序 8.0.50",
    "",
    "",
)


def _texts(rng: Any, rows: int) -> list[str]:
    """Short reviews in Chinese, English or both; 1–6 phrases, a few long ones, a few blank."""
    language = rng.choice(3, size=rows, p=[0.6, 0.35, 0.05])
    counts = rng.geometric(0.45, size=rows).clip(1, 6)
    long = rng.random(rows) < 0.01
    counts[long] = rng.integers(15, 40, size=int(long.sum()))
    blank = rng.random(rows) < 0.03
    newline = rng.random(rows) < 0.02
    zh_pick = rng.integers(0, len(ZH_PHRASES), size=(rows, 40))
    en_pick = rng.integers(0, len(EN_PHRASES), size=(rows, 40))
    texts: list[str] = []
    for i in range(rows):
        if blank[i]:
            texts.append("")
            continue
        n = int(counts[i])
        if language[i] == 0:
            text = "，".join(ZH_PHRASES[j] for j in zh_pick[i, :n]) + "。"
        elif language[i] == 1:
            text = " ".join(EN_PHRASES[j] for j in en_pick[i, :n])
        else:
            text = ZH_PHRASES[zh_pick[i, 0]] + " " + EN_PHRASES[en_pick[i, 0]]
        if newline[i]:
            text = text + "\n" + ZH_PHRASES[zh_pick[i, -1]]
        texts.append(text)
    return texts


def _maybe(rng: Any, values: list[str], blank_share: float) -> list[str]:
    blank = rng.random(len(values)) < blank_share
    return ["" if b else v for v, b in zip(values, blank.tolist(), strict=True)]


def generate_csv(path: Path, rows: int, seed: int = SEED) -> None:
    """Write ``rows`` synthetic feedback rows to ``path`` (UTF-8, header first), deterministic
    for a given seed. Every row is valid for cxloop, so both contenders store all of them."""
    import csv

    import numpy as np

    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00")
    seconds = rng.integers(0, 900 * 24 * 3600, size=rows)
    stamps = np.datetime_as_string(start + seconds.astype("timedelta64[s]"), unit="s").tolist()
    style = rng.choice(3, size=rows, p=[0.8, 0.1, 0.1]).tolist()
    created = [
        s.replace("T", " ") if k == 0 else s + "+08:00" if k == 1 else s[:16].replace("-", "/")
        for s, k in zip(stamps, style, strict=True)
    ]
    channels = rng.choice(np.array(CHANNELS, dtype=object), size=rows).tolist()
    sources = rng.choice(np.array(SOURCES, dtype=object), size=rows).tolist()
    nps = _maybe(rng, rng.integers(0, 11, size=rows).astype(str).tolist(), 0.4)
    csat = _maybe(rng, rng.integers(1, 6, size=rows).astype(str).tolist(), 0.5)
    ces = _maybe(rng, rng.integers(1, 8, size=rows).astype(str).tolist(), 0.7)
    rating = _maybe(rng, (rng.integers(10, 51, size=rows) / 10).astype(str).tolist(), 0.3)
    authors = rng.integers(0, rows // 3 + 1, size=rows).tolist()
    upper = (rng.random(rows) < 0.1).tolist()
    emails = _maybe(
        rng,
        [
            f"User{a}@Example.COM" if u else f"user{a}@example.com"
            for a, u in zip(authors, upper, strict=True)
        ],
        0.25,
    )
    touchpoints = rng.choice(np.array(TOUCHPOINTS, dtype=object), size=rows).tolist()
    stages = rng.choice(np.array(STAGES, dtype=object), size=rows).tolist()
    devices = rng.choice(np.array(DEVICES, dtype=object), size=rows).tolist()
    texts = _texts(rng, rows)
    ids = [f"R{n:08d}" for n in range(1, rows + 1)]
    columns = (
        ids,
        channels,
        sources,
        created,
        texts,
        nps,
        csat,
        ces,
        rating,
        emails,
        touchpoints,
        stages,
        devices,
    )
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(zip(*columns, strict=True))


# --- measurement helpers (used inside workers) ----------------------------------------------


def _status_kib(key: str) -> int | None:
    """A ``/proc/self/status`` field in KiB (Linux), or None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _peak_rss_kib() -> int:
    """This process's own RSS high-water mark.

    ``VmHWM`` belongs to the process's current address space only. ``ru_maxrss`` of a child can
    include its parent's RSS at fork/exec time (Linux folds the old address space's high-water
    mark into it on exec), so it is only the fallback where ``/proc`` is missing.
    """
    hwm = _status_kib("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def _children_peak_kib(stop: Any, peaks: dict[int, int]) -> None:
    """Poll the ``VmHWM`` of this process's children (cxloop's import worker) until ``stop``."""
    me = os.getpid()
    while not stop.wait(0.05):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{me}\n" not in status:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    pid = int(entry.name)
                    peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))


def _mib(kib: float) -> float:
    return round(kib / 1024, 1)


def _feedback_schema(db_path: Path) -> list[str]:
    """The CREATE statements of cxloop's ``feedback`` table and its indexes, in order."""
    import sqlite3

    connection = sqlite3.connect(db_path)
    try:
        rows = connection.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'feedback' AND sql IS NOT NULL "
            "ORDER BY type = 'index', name"
        ).fetchall()
    finally:
        connection.close()
    return [str(sql) for (sql,) in rows]


def _count_rows(db_path: Path) -> int:
    import sqlite3

    connection = sqlite3.connect(db_path)
    try:
        return int(connection.execute("SELECT count(*) FROM feedback").fetchone()[0])
    finally:
        connection.close()


def _db_bytes(db_path: Path) -> int:
    return sum(
        p.stat().st_size for p in (db_path, db_path.with_name(db_path.name + "-wal")) if p.exists()
    )


# --- workers: each runs in a fresh interpreter ----------------------------------------------


def worker_generate(csv_path: Path, rows: int, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    generate_csv(csv_path, rows, seed)
    return {"seconds": round(time.perf_counter() - started, 3)}


def worker_schema(db_path: Path) -> dict[str, Any]:
    from cxloop.api import connect

    store = connect(f"sqlite:///{db_path}")
    store.close()
    return {"statements": _feedback_schema(db_path)}


def worker_cxloop(
    csv_path: Path, db_path: Path, profile_path: Path | None = None
) -> dict[str, Any]:
    import cxloop
    from cxloop.api import connect, import_file

    baseline = _status_kib("VmRSS")
    started = time.perf_counter()
    store = connect(f"sqlite:///{db_path}")
    setup = time.perf_counter() - started
    profiler = None
    if profile_path is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    import threading

    stop, worker_peaks = threading.Event(), {}  # type: ignore[var-annotated]
    watcher = threading.Thread(target=_children_peak_kib, args=(stop, worker_peaks), daemon=True)
    watcher.start()
    started = time.perf_counter()
    summary = import_file(store, "feedback", csv_path)
    seconds = time.perf_counter() - started
    stop.set()
    watcher.join()
    own_peak = _peak_rss_kib()
    worker_peak = max(worker_peaks.values(), default=0)
    if profiler is not None and profile_path is not None:
        profiler.disable()
        profiler.dump_stats(profile_path)
    store.close()
    return {
        "seconds": seconds,
        "setup_seconds": setup,
        "baseline_rss_kib": baseline,
        # cxloop reads big files in a worker process: count both (sum of peaks = upper bound)
        "peak_rss_kib": own_peak + worker_peak,
        "rows_written": _count_rows(db_path),
        "db_bytes": _db_bytes(db_path),
        "details": {
            "cxloop_version": cxloop.__version__,
            "import_batch_size": store.settings.import_batch_size,
            "summary_read": summary.read,
            "summary_inserted": summary.inserted,
            "summary_updated": summary.updated,
            "summary_unchanged": summary.unchanged,
            "summary_quarantined": summary.quarantined,
            "summary_linked": summary.linked,
            "summary_seconds": summary.seconds,
            "status": summary.status,
            "main_process_peak_mib": _mib(own_peak),
            "worker_process_peak_mib": _mib(worker_peak),
        },
    }


def worker_floor(csv_path: Path, db_path: Path, statements: list[str]) -> dict[str, Any]:
    """sqlite3 + csv.reader + executemany into cxloop's own table shape, nothing else.

    Blank cells become NULL inside SQLite (``NULLIF``); the extra column goes to ``attributes``
    as it is; ``row_hash``/``loaded_at``/``updated_at`` (NOT NULL) get SQL constants.
    """
    import csv
    import itertools
    import sqlite3

    baseline = _status_kib("VmRSS")
    started = time.perf_counter()
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA cache_size=-65536")  # same page cache as cxloop's engine
    connection.execute("PRAGMA wal_autocheckpoint=8192")  # and the same checkpoint interval
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    table_columns = {row[1] for row in connection.execute("PRAGMA table_info(feedback)")}
    setup = time.perf_counter() - started

    started = time.perf_counter()
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        targets = [name if name in table_columns else "attributes" for name in header]
        names = ", ".join(f'"{t}"' for t in targets)
        marks = ", ".join("NULLIF(?, '')" for _ in targets)
        sql = (
            f"INSERT INTO feedback ({names}, row_hash, loaded_at, updated_at) "
            f"VALUES ({marks}, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
        while batch := list(itertools.islice(reader, FLOOR_BATCH)):
            connection.executemany(sql, batch)
            connection.commit()
    seconds = time.perf_counter() - started
    connection.close()
    return {
        "seconds": seconds,
        "setup_seconds": setup,
        "baseline_rss_kib": baseline,
        "peak_rss_kib": _peak_rss_kib(),
        "rows_written": _count_rows(db_path),
        "db_bytes": _db_bytes(db_path),
        "details": {"batch": FLOOR_BATCH, "sqlite_version": sqlite3.sqlite_version},
    }


def _worker_main(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    if args.worker == "generate":
        result = worker_generate(paths[0], args.rows, args.seed)
    elif args.worker == "schema":
        result = worker_schema(paths[0])
    elif args.worker == "cxloop":
        profile = Path(args.profile_out) if args.profile_out else None
        result = worker_cxloop(paths[0], paths[1], profile)
    elif args.worker == "floor":
        statements = json.loads(paths[2].read_text(encoding="utf-8"))
        result = worker_floor(paths[0], paths[1], statements)
    else:  # pragma: no cover - argparse restricts the choices
        raise SystemExit(f"unknown worker {args.worker}")
    print(json.dumps(result))
    return 0


# --- the parent: runs workers, reports ------------------------------------------------------


@dataclass
class ChildRun:
    """What one worker process reported, plus what the parent saw from outside."""

    result: dict[str, Any]
    wall_seconds: float
    wait4_maxrss_kib: int
    load_before: float | None


def run_worker(
    worker: str, *args: str, rows: int = 0, seed: int = SEED, env: dict[str, str] | None = None
) -> ChildRun:
    """Run ``worker`` in a fresh interpreter; its last stdout line is its JSON result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", worker]
    command += ["--rows", str(rows), "--seed", str(seed), *args]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )
    assert process.stdout is not None
    output = process.stdout.read()
    process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"worker {worker} failed with exit code {process.returncode}")
    lines = [line for line in output.splitlines() if line.strip()]
    return ChildRun(json.loads(lines[-1]), wall, usage.ru_maxrss, load)


@dataclass
class Contender:
    name: str
    seconds: float
    rows_per_s: float
    rows_written: int
    peak_rss_mb: float
    baseline_rss_mb: float | None
    wait4_maxrss_mb: float
    setup_seconds: float
    process_seconds: float
    db_mb: float
    load_before: float | None
    details: dict[str, Any] = field(default_factory=dict)


def _contender(name: str, run: ChildRun, rows: int) -> Contender:
    result = run.result
    baseline = result.get("baseline_rss_kib")
    return Contender(
        name=name,
        seconds=round(result["seconds"], 3),
        rows_per_s=round(rows / result["seconds"], 1) if result["seconds"] else 0.0,
        rows_written=int(result["rows_written"]),
        peak_rss_mb=_mib(result["peak_rss_kib"]),
        baseline_rss_mb=_mib(baseline) if baseline is not None else None,
        wait4_maxrss_mb=_mib(run.wait4_maxrss_kib),
        setup_seconds=round(result["setup_seconds"], 3),
        process_seconds=round(run.wall_seconds, 3),
        db_mb=round(result["db_bytes"] / 2**20, 1),
        load_before=run.load_before,
        details=result.get("details", {}),
    )


def machine_info() -> dict[str, Any]:
    import sqlite3

    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": None,
        "memory_gb": None,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        info["memory_gb"] = round(pages * size / 2**30, 1)
    except (ValueError, OSError):
        pass
    return info


def _print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    rows = report["rows"]
    table = Table(title=f"Import {rows:,} feedback rows into SQLite")
    for column in ("", "seconds", "rows/s", "vs floor", "peak MB", "base MB", "rows", "DB MB"):
        table.add_column(column, justify="right" if column else "left")
    floor_rate = report["contenders"]["floor"]["rows_per_s"]
    for item in report["contenders"].values():
        share = item["rows_per_s"] / floor_rate if floor_rate else 0.0
        table.add_row(
            item["name"],
            f"{item['seconds']:.2f}",
            f"{item['rows_per_s']:,.0f}",
            f"{share:.1%}",
            f"{item['peak_rss_mb']:,.0f}",
            "-" if item["baseline_rss_mb"] is None else f"{item['baseline_rss_mb']:,.0f}",
            f"{item['rows_written']:,}",
            f"{item['db_mb']:,.0f}",
        )
    console = Console(width=max(Console().width, 100))
    console.print(table)
    console.print(
        f"cxloop at [bold]{report['ratio']:.1%}[/] of the floor's rate "
        f"(target ≥ {SHARE_TARGET:.0%}); peak {report['contenders']['cxloop']['peak_rss_mb']:,.0f}"
        f" MB (limit {PEAK_LIMIT_MB:,.0f} MB); CSV {report['csv_mb']:,.0f} MB generated in "
        f"{report['generate_seconds']:.1f}s; whole run {report['total_seconds']:.1f}s."
    )
    loads = {n: c["load_before"] for n, c in report["contenders"].items()}
    cpus = report["machine"]["cpus_usable"] or report["machine"]["cpu_count"] or 1
    if any(load is not None and load > 0.5 * cpus for load in loads.values()):
        shown = ", ".join(f"{n} {load:.1f}" for n, load in loads.items() if load is not None)
        console.print(
            f"[yellow]note:[/] 1-min load average before each contender ({shown}) on {cpus} "
            "CPUs: other work was running, so timings are noisy; compare ratios, re-run quiet."
        )
    for problem in report["problems"]:
        console.print(f"[red]problem:[/] {problem}")


def _write_results(report: dict[str, Any], stamp: str) -> list[Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    body = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    paths = [RESULTS / f"{NAME}_{stamp}.json", RESULTS / f"{NAME}_latest.json"]
    for path in paths:
        path.write_text(body, encoding="utf-8")
    return paths


def run_benchmark(rows: int, seed: int = SEED, keep: bool = False) -> dict[str, Any]:
    """Generate, import with both contenders, and return the report (also written to disk)."""
    begun = time.perf_counter()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(tempfile.mkdtemp(prefix="cxloop-bench-"))
    try:
        csv_path = folder / "feedback.csv"
        print(f"[{NAME}] generating {rows:,} rows into {csv_path} …", flush=True)
        generated = run_worker("generate", str(csv_path), rows=rows, seed=seed)
        schema = run_worker("schema", str(folder / "schema.db"))
        statements_path = folder / "schema.json"
        statements_path.write_text(json.dumps(schema.result["statements"]), encoding="utf-8")

        print(f"[{NAME}] floor: sqlite3 + csv.reader + executemany …", flush=True)
        floor_run = run_worker(
            "floor", str(csv_path), str(folder / "floor.db"), str(statements_path)
        )
        print(f"[{NAME}] cxloop: connect + import_file (default: reader process) …", flush=True)
        cxloop_run = run_worker("cxloop", str(csv_path), str(folder / "cxloop.db"), env=STORE_ONLY)
        print(f"[{NAME}] cxloop, one process (CXLOOP_IMPORT_PARALLEL=false) …", flush=True)
        single_run = run_worker(
            "cxloop",
            str(csv_path),
            str(folder / "cxloop-1p.db"),
            env={**STORE_ONLY, "CXLOOP_IMPORT_PARALLEL": "false"},
        )

        floor = _contender("floor", floor_run, rows)
        ours = _contender("cxloop", cxloop_run, rows)
        single = _contender("cxloop 1 process", single_run, rows)
        ratio = ours.rows_per_s / floor.rows_per_s if floor.rows_per_s else 0.0
        problems = [
            f"{c.name} stored {c.rows_written:,} rows, expected {rows:,}"
            for c in (ours, single, floor)
            if c.rows_written != rows
        ]
        report: dict[str, Any] = {
            "benchmark": NAME,
            "timestamp": stamp,
            "machine": machine_info(),
            "rows": rows,
            "seed": seed,
            "csv_mb": round(csv_path.stat().st_size / 2**20, 1),
            "generate_seconds": generated.result["seconds"],
            "contenders": {
                "cxloop": asdict(ours),
                "cxloop_one_process": asdict(single),
                "floor": asdict(floor),
            },
            "ratio": round(ratio, 4),
            "ratio_one_process": round(single.rows_per_s / floor.rows_per_s, 4)
            if floor.rows_per_s
            else 0.0,
            "share_target": SHARE_TARGET,
            "peak_limit_mb": PEAK_LIMIT_MB,
            "within_targets": ratio >= SHARE_TARGET and ours.peak_rss_mb <= PEAK_LIMIT_MB,
            "problems": problems,
            "total_seconds": 0.0,
        }
        report["total_seconds"] = round(time.perf_counter() - begun, 1)
        for path in _write_results(report, stamp):
            print(f"[{NAME}] wrote {path}", flush=True)
        return report
    finally:
        if keep:
            print(f"[{NAME}] kept {folder}", flush=True)
        else:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


def run_profile(rows: int, seed: int = SEED, top: int = 30) -> Path:
    """cProfile cxloop's import of ``rows`` rows; writes ``import_profile_latest.{prof,txt}``."""
    import io
    import pstats
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="cxloop-bench-"))
    try:
        csv_path = folder / "feedback.csv"
        print(f"[{NAME}] generating {rows:,} rows for profiling …", flush=True)
        run_worker("generate", str(csv_path), rows=rows, seed=seed)
        RESULTS.mkdir(parents=True, exist_ok=True)
        prof = RESULTS / f"{NAME}_profile_latest.prof"
        run = run_worker(
            "cxloop", str(csv_path), str(folder / "cxloop.db"), "--profile-out", str(prof)
        )
        out = io.StringIO()
        stats = pstats.Stats(str(prof), stream=out)
        out.write(
            f"cxloop import_file of {rows:,} rows: {run.result['seconds']:.2f}s under cProfile\n"
        )
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
        text_path = RESULTS / f"{NAME}_profile_latest.txt"
        text_path.write_text(out.getvalue(), encoding="utf-8")
        print(out.getvalue())
        print(f"[{NAME}] wrote {prof} and {text_path}", flush=True)
        return text_path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--rows",
        type=int,
        default=None,
        help=f"rows to generate and import (default {DEFAULT_ROWS:,})",
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows")
    parser.add_argument("--seed", type=int, default=SEED, help="generator seed")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (CSV, DBs)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help=f"cProfile cxloop only (default {PROFILE_ROWS:,} rows)",
    )
    parser.add_argument(
        "--worker", choices=("generate", "schema", "cxloop", "floor"), help=argparse.SUPPRESS
    )
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return _worker_main(args)
    if args.rows is not None and args.rows < 1:
        raise SystemExit("--rows must be at least 1")
    if args.profile:
        run_profile(args.rows or PROFILE_ROWS, args.seed)
        return 0
    rows = args.rows or (QUICK_ROWS if args.quick else DEFAULT_ROWS)
    report = run_benchmark(rows, args.seed, keep=args.keep)
    _print_table(report)
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
