"""Run every benchmark in ``bench/`` (each ``*_bench.py`` module with a ``main(argv)``).

    .venv/bin/python bench/run.py                 # all benchmarks, full size
    .venv/bin/python bench/run.py --quick         # flags go to every benchmark
    .venv/bin/python bench/run.py --only import --rows 250000
    .venv/bin/python bench/run.py --list

Exit status: 0 when every benchmark returned 0, else the first non-zero status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

BENCH_DIR = Path(__file__).resolve().parent
SUFFIX = "_bench"


def discover() -> dict[str, str]:
    """Benchmark name (``import``) → module name (``import_bench``), sorted by name."""
    modules = sorted(p.stem for p in BENCH_DIR.glob(f"*{SUFFIX}.py"))
    return {m.removesuffix(SUFFIX): m for m in modules}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run cxloop's benchmarks; unknown flags (--rows N, --quick, …) are passed on."
    )
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only this benchmark (repeatable)"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args, passed = parser.parse_known_args(argv)
    found = discover()
    if args.list:
        for name, file_stem in found.items():
            print(f"{name}\t{BENCH_DIR / file_stem}.py")
        return 0
    unknown = sorted(set(args.only or ()) - set(found))
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; have {', '.join(found)}")
    selected = {n: m for n, m in found.items() if not args.only or n in args.only}
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    status = 0
    for name, module_name in selected.items():
        print(f"== benchmark: {name} ({' '.join(passed) or 'defaults'})", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(module_name)
        entry = cast(Callable[[Sequence[str]], int], module.main)
        code = entry(list(passed))
        print(f"== {name}: exit {code} after {time.perf_counter() - started:.1f}s", flush=True)
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main())
