"""Enrichment benchmark: ``cxloop import`` of feedback with text analysis on one core and on all.

The file is ``import_bench``'s synthetic feedback CSV (zh, en and mixed reviews of 1–6 phrases,
a few long ones, a few blank; fixed seed). It is imported into fresh SQLite stores, each
contender in its own fresh interpreter so every one pays for loading the models as a user's
import does:

* ``store only`` — ``CXLOOP_ENRICH_ON_IMPORT=false``: what the import costs without analysis;
* ``text, 1 process`` — ``CXLOOP_TEXT_WORKERS=1``: analysis in the importing process;
* ``text, N workers`` — ``CXLOOP_TEXT_WORKERS`` = the usable CPUs (the default).

    .venv/bin/python bench/enrich_bench.py                 # 20,000 rows
    .venv/bin/python bench/enrich_bench.py --quick         # 5,000 rows
    .venv/bin/python bench/enrich_bench.py --rows 100000

Columns: ``rows/s`` (wall time of the import call), ``CPU s`` (user + system seconds of the
child and every process it started: the analysis workers included), ``×`` (rate against
``text, 1 process``), ``main CPU s`` (the importing process alone: reading, storing, and
handing texts to the workers). The load average before each contender is kept: on a shared
machine the wall-time ratio is only meaningful when the load stays under the number of CPUs,
while CPU seconds barely move with load. Results: ``bench/results/enrich_<UTC>.json`` and
``enrich_latest.json`` (``enrich_quick_latest.json`` for ``--quick``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NAME = "enrich"
DEFAULT_ROWS = 20_000
QUICK_ROWS = 5_000
RESULTS = Path(__file__).resolve().parent / "results"


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def child(csv_path: Path, db_path: Path) -> dict[str, Any]:
    """One import in this (fresh) process; settings come from the environment."""
    from cxloop.api import connect, import_file

    store = connect(f"sqlite:///{db_path}")
    started = time.perf_counter()
    summary = import_file(store, "feedback", csv_path)
    seconds = time.perf_counter() - started
    store.close()
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": seconds,
        "main_cpu_seconds": round(own.ru_utime + own.ru_stime, 2),
        "inserted": summary.inserted,
        "enriched": summary.enriched,
        "text_workers": store.settings.text_workers,
    }


def _run(csv_path: Path, db_path: Path, env: dict[str, str]) -> dict[str, Any]:
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(csv_path), str(db_path)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"[{NAME}] child failed:\n{result.stderr}")
    run: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    run["cpu_seconds"] = round(
        (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2
    )
    run["load_before"] = round(load, 2)
    return run


def measure(rows: int, seed: int) -> dict[str, Any]:
    from import_bench import generate_csv

    cpus = _cpus()
    contenders = {
        "store_only": {"CXLOOP_ENRICH_ON_IMPORT": "false"},
        "text_one_process": {"CXLOOP_ENRICH_ON_IMPORT": "true", "CXLOOP_TEXT_WORKERS": "1"},
        "text_all_cpus": {"CXLOOP_ENRICH_ON_IMPORT": "true", "CXLOOP_TEXT_WORKERS": str(cpus)},
    }
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cxloop-enrich-bench-") as folder:
        csv_path = Path(folder) / "feedback.csv"
        generate_csv(csv_path, rows, seed)
        for name, env in contenders.items():
            run = _run(csv_path, Path(folder) / f"{name}.db", env)
            run["rows_per_s"] = round(rows / run["seconds"], 1)
            run["seconds"] = round(run["seconds"], 2)
            results[name] = run
    one = results["text_one_process"]["rows_per_s"]
    for run in results.values():
        run["vs_one_process"] = round(run["rows_per_s"] / one, 2)
    return {"cpus": cpus, "contenders": results}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows")
    parser.add_argument("--seed", type=int, default=20_260_301)
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    rows = args.rows or (QUICK_ROWS if args.quick else DEFAULT_ROWS)
    report: dict[str, Any] = {
        "benchmark": NAME,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": rows,
        "seed": args.seed,
        "python": sys.version.split()[0],
        **measure(rows, args.seed),
        "load_after": round(os.getloadavg()[0], 2),
    }
    _print(report)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    body = json.dumps(report, indent=2) + "\n"
    latest = f"{NAME}_quick_latest.json" if args.quick else f"{NAME}_latest.json"
    for path in (RESULTS / f"{NAME}_{stamp}.json", RESULTS / latest):
        path.write_text(body, encoding="utf-8")
    return 0


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Feedback import with text enrichment, {report['rows']:,} rows")
    columns = ("contender", "text workers", "seconds", "rows/s", "×", "CPU s", "main CPU s", "load")
    for column in columns:
        table.add_column(column, justify="right")
    labels = {
        "store_only": "store only",
        "text_one_process": "text, 1 process",
        "text_all_cpus": f"text, {report['cpus']} workers",
    }
    for name, run in report["contenders"].items():
        table.add_row(
            labels[name],
            "–" if name == "store_only" else str(run["text_workers"]),
            f"{run['seconds']:.2f}",
            f"{run['rows_per_s']:,.0f}",
            f"{run['vs_one_process']:.2f}",
            f"{run['cpu_seconds']:.1f}",
            f"{run['main_cpu_seconds']:.1f}",
            f"{run['load_before']:.2f}",
        )
    console = Console()
    console.print(table)
    busiest = max(run["load_before"] for run in report["contenders"].values())
    if busiest > report["cpus"] / 2:
        console.print(
            f"[yellow]load average reached {busiest:.1f} on {report['cpus']} CPUs: wall times "
            "are noisy, compare CPU s or re-run on a quiet machine[/yellow]"
        )


if __name__ == "__main__":
    if str(Path(__file__).resolve().parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
