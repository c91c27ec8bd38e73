"""CLI start-up benchmark: how long ``cxloop --help`` and error exits take, start to exit.

Each case runs ``python -m cxloop …`` in a fresh process (what the ``cxloop`` script does),
``--repeat`` times; the table shows the best wall time (the least disturbed by other load) and
the median CPU seconds (user + system: nearly independent of load). The target is 0.5 s.
The store named by ``CXLOOP_DATABASE_URL`` is a file that does not exist, so error exits are the
"no store" refusal a mistyped path gives. ``python -c pass`` is the interpreter's own floor.

    .venv/bin/python bench/cli_bench.py              # 5 runs per case
    .venv/bin/python bench/cli_bench.py --repeat 11

Results: ``bench/results/cli_<UTC>.json`` and ``cli_latest.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NAME = "cli"
TARGET_SECONDS = 0.5
RESULTS = Path(__file__).resolve().parent / "results"
CASES: dict[str, list[str]] = {
    "python -c pass (floor)": [],
    "cxloop --help": ["--help"],
    "cxloop metrics --help": ["metrics", "--help"],
    "cxloop insights --help": ["insights", "--help"],
    "cxloop import --help": ["import", "--help"],
    "cxloop nosuch (usage error)": ["nosuch"],
    "cxloop metrics nps --by nosuch (no store)": ["metrics", "nps", "--by", "nosuch"],
    "cxloop feedback list (no store)": ["feedback", "list"],
}


def _once(args: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, int]:
    command = [sys.executable, "-m", "cxloop", *args] if args else [sys.executable, "-c", "pass"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.returncode


def measure(repeat: int) -> dict[str, Any]:
    rows = {}
    with tempfile.TemporaryDirectory(prefix="cxloop-cli-bench-") as folder:
        env = {
            **os.environ,
            "CXLOOP_DATABASE_URL": f"sqlite:///{folder}/missing.db",
            "COLUMNS": "100",
        }
        for label, args in CASES.items():
            runs = [_once(args, env, folder) for _ in range(repeat)]
            walls, cpus, codes = zip(*runs, strict=True)
            rows[label] = {
                "args": args,
                "exit_code": codes[0],
                "best_seconds": round(min(walls), 3),
                "median_seconds": round(statistics.median(walls), 3),
                "median_cpu_seconds": round(statistics.median(cpus), 3),
                "within_target": min(walls) < TARGET_SECONDS,
            }
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    args, _ = parser.parse_known_args(argv)
    load = os.getloadavg()[0]
    report: dict[str, Any] = {
        "benchmark": NAME,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "repeat": args.repeat,
        "target_seconds": TARGET_SECONDS,
        "load_before": round(load, 2),
        "cases": measure(args.repeat),
        "load_after": round(os.getloadavg()[0], 2),
    }
    _print(report)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    body = json.dumps(report, indent=2) + "\n"
    for path in (RESULTS / f"{NAME}_{stamp}.json", RESULTS / f"{NAME}_latest.json"):
        path.write_text(body, encoding="utf-8")
    return 0


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"CLI start-up, best of {report['repeat']} (target < 0.5 s)")
    for column in ("command", "exit", "best s", "median s", "CPU s"):
        table.add_column(column, justify="right" if column != "command" else "left")
    for label, row in report["cases"].items():
        table.add_row(
            label,
            str(row["exit_code"]),
            f"{row['best_seconds']:.2f}",
            f"{row['median_seconds']:.2f}",
            f"{row['median_cpu_seconds']:.2f}",
        )
    console = Console()
    console.print(table)
    busiest = max(report["load_before"], report["load_after"])
    if busiest > (report["cpus"] or 1) / 2:
        console.print(
            f"[yellow]load average {busiest:.1f} on {report['cpus']} CPUs: wall times are noisy, "
            "compare CPU s or re-run on a quiet machine[/yellow]"
        )


if __name__ == "__main__":
    sys.exit(main())
