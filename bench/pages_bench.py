"""Pages benchmark: server time of every dashboard page and of the API call behind it, on the
store and on the analytics snapshot, at 1,000,000 feedback rows and on the demo.

The store: the demo company (``cxloop.demo``, built once into the cache folder) copied, then
its feedback with text features and topics replicated inside SQLite (``INSERT … SELECT`` over
a counter: no text engine, no Python row loop) up to ``--rows`` feedback; each copy gets new
ids, its created_at moved by a fixed pseudo-random offset of up to ±7 days, and its customer
mapped onto one of 30 copies of the demo's customers (whose orders, subscriptions and events are
copied the same way). Accounts, contacts and projects stay the demo's. Built once per size in
the cache folder (``--cache``, default ``~/.cache/cxloop/pages-bench``, outside the repo).

Then the snapshot is refreshed (full build, timed) and each page that exists is requested
through Starlette's ``TestClient`` with a signed-in admin. **Server time** is measured by an
ASGI wrapper around the app: from the moment the app is called until it has sent the whole
response body — the time inside the app, without the test client's transport. One untimed
warm-up, then ``--runs`` timed runs (default 5) per page and per source, p50 and p95; a page
whose requests pass ``--budget`` seconds stops early (the runs taken are listed; a page whose
warm-up alone passes the budget has that one cold run). The API call behind a page is the
"Same numbers as the API" link the page shows (else the known ``/api/v1/dashboard/<view>``);
pages not built yet are listed as "not built".

    .venv/bin/python bench/pages_bench.py                   # 1,000,000 rows and the demo
    .venv/bin/python bench/pages_bench.py --rows 200000 --runs 3
    .venv/bin/python bench/pages_bench.py --only demo

Results: ``bench/results/pages_<UTC stamp>.json`` and ``pages_latest.json``. Goals (issue 15):
each page under 300 ms on the demo and under 1 s at 1,000,000 feedback rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pages_store import big_store, copy_store, demo_store, first_ids, signed_in_token

NAME = "pages"
DEFAULT_ROWS = 1_000_000
PAGES = (
    ("/", "overview"),
    ("/journey", "journey"),
    ("/topics", "topics"),
    ("/drivers", "drivers"),
    ("/customers/{customer}", "customers/{customer}"),
    ("/accounts/{account}", "accounts/{account}"),
    ("/targets", "targets"),
    ("/alerts", "alerts"),
    ("/reports", "reports"),
    ("/cases", None),
    ("/loop/health", None),
    ("/feedback", "feedback"),
)
"""Each page and the dashboard API view behind it when the page shows no API link."""
RESULTS = Path(__file__).resolve().parent / "results"


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


class Timed:
    """ASGI wrapper: seconds from the call into the app to its last body message."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last = time.perf_counter() - started

        await self.app(scope, receive, timed_send)


# --- timing --------------------------------------------------------------------------------


def _not_built(response: Any) -> bool:
    """FastAPI's own 404 for a path no route has (a page's 404 for an unknown id is HTML)."""
    if response.status_code != 404:
        return False
    try:
        return bool(response.json() == {"detail": "Not Found"})
    except ValueError:
        return False


API_LINK = re.compile(r'href="(/api/v1/[^"]+)"')


def _measure(get: Callable[[], Any], timer: Timed, runs: int, budget: float) -> dict[str, Any]:
    first = get()
    samples: list[float] = []
    cold = timer.last
    spent = cold
    status = first.status_code
    if cold <= budget:
        while len(samples) < runs and (spent <= budget or not samples):
            response = get()
            status = response.status_code
            samples.append(timer.last)
            spent += timer.last
    if not samples:
        samples = [cold]
    return {
        "status": status,
        "runs": len(samples),
        "cold_only": cold > budget,
        "p50_ms": round(1000 * statistics.median(samples), 1),
        "p95_ms": round(1000 * _percentile(samples, 95), 1),
        "samples_ms": [round(1000 * s, 1) for s in samples],
    }


def _client(database: Path, snapshot: Path | None, token: str) -> tuple[Any, Timed]:
    from fastapi.testclient import TestClient

    from cxloop.config import Settings
    from cxloop.web.app import create_app
    from cxloop.web.deps import COOKIE

    settings = Settings(database_url=f"sqlite:///{database}", analytics_snapshot_dir=snapshot)
    timer = Timed(create_app(settings))
    client = TestClient(timer, raise_server_exceptions=False)
    client.cookies.set(COOKIE, token)
    return client, timer


def _one_url(
    database: Path, snapshot: Path | None, token: str, url: str, api: bool, runs: int, budget: float
) -> dict[str, Any]:
    """Probe one URL, then time it (run in a child process the parent may stop)."""
    client, timer = _client(database, snapshot, token)
    headers = {"Authorization": f"Bearer {token}"} if api else {}

    def get() -> Any:
        return client.get(url, headers=headers, follow_redirects=False)

    first = get()
    if _not_built(first):
        return {"built": False, "url": url}
    found: dict[str, Any] = {"built": True, "url": url, "first_ms": round(1000 * timer.last, 1)}
    if not api and first.status_code == 200:
        linked = API_LINK.findall(first.text)
        found["api_link"] = linked[0].replace("&amp;", "&") if linked else None
    if first.status_code >= 500:
        found["error"] = first.text[-300:]
    found.update(_measure(get, timer, runs, budget))
    return found


def _in_child(limit: float, *args: Any) -> dict[str, Any]:
    """``_one_url`` in a forked process, stopped after ``limit`` seconds (a request that takes
    minutes cannot be interrupted inside one process)."""
    import multiprocessing
    import queue as queue_module

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=lambda: queue.put(_one_url(*args)), daemon=True)
    child.start()
    try:
        return dict(queue.get(timeout=limit))
    except queue_module.Empty:  # the child ran past the limit
        return {"built": True, "url": args[3], "over_s": limit}
    finally:
        if child.is_alive():
            child.kill()
        child.join()


def bench_source(
    database: Path,
    snapshot: Path | None,
    token: str,
    runs: int,
    budget: float,
    limit: float,
    pages: Sequence[str] = (),
) -> dict[str, Any]:
    """Every page (or those in ``pages``) and its API call on one store, read live or through
    the snapshot."""
    ids = first_ids(database)
    out: dict[str, Any] = {}
    for template, view in PAGES:
        if pages and template not in pages:
            continue
        page = template.format(**ids)
        found = _in_child(limit, database, snapshot, token, page, False, runs, budget)
        if not found.get("built"):
            out[template] = {"built": False}
            print(f"    {page:<32} not built", flush=True)
            continue
        row: dict[str, Any] = {"built": True, "url": page, "page": found}
        api = found.get("api_link")
        if api is None and view is not None:
            api = "/api/v1/dashboard/" + view.format(**ids)
        if api is not None:
            row["api"] = _in_child(limit, database, snapshot, token, api, True, runs, budget)
        out[template] = row
        print(
            f"    {page:<32} page {_cell(found):>16}  api {_cell(row.get('api')):>16}", flush=True
        )
    return out


def bench_store(
    name: str,
    database: Path,
    cache: Path,
    runs: int,
    budget: float,
    limit: float,
    options: argparse.Namespace | None = None,
) -> dict[str, Any]:
    from cxloop.config import Settings
    from cxloop.dashboards.freshness import refresh_snapshot

    token = signed_in_token(database)
    snapshot = cache / f"snapshot-{name}"
    settings = Settings(database_url=f"sqlite:///{database}", analytics_snapshot_dir=snapshot)
    full = options is None or not options.keep_snapshot
    done = refresh_snapshot(settings, full=full)
    print(
        f"  snapshot {'full build' if full else 'refresh'}: {done.seconds:.1f} s "
        f"({done.counts.get('feedback', 0):,} feedback)"
    )
    again = refresh_snapshot(settings)
    print(f"  snapshot refresh with nothing new: {again.seconds:.1f} s ({again.mode})")
    result: dict[str, Any] = {
        "database": str(database),
        "feedback_rows": done.counts.get("feedback", 0),
        "snapshot_full_build_s" if full else "snapshot_refresh_s": done.seconds,
        "snapshot_noop_refresh_s": again.seconds,
    }
    pages = options.pages if options is not None else ()
    for source, folder in (("snapshot", snapshot), ("store", None)):
        if options is not None and options.sources and source not in options.sources:
            continue
        print(f"  {name} · {source}", flush=True)
        result[source] = bench_source(database, folder, token, runs, budget, limit, pages)
    return result


# --- report --------------------------------------------------------------------------------


def _cell(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "–"
    if entry.get("built") is False:
        return "not built"
    if "over_s" in entry:
        return f">{entry['over_s']:.0f} s"
    mark = "*" if entry.get("cold_only") else ""
    bad = "" if entry.get("status") == 200 else f" [{entry.get('status')}]"
    return f"{entry['p50_ms']:.0f}/{entry['p95_ms']:.0f}{mark}{bad}"


def table(results: dict[str, Any]) -> str:
    lines = []
    for name, found in results.items():
        lines.append(f"\n{name} ({found['feedback_rows']:,} feedback) — server ms p50/p95")
        lines.append(
            f"{'page':<24}{'store page':>16}{'snapshot page':>16}{'store api':>16}"
            f"{'snapshot api':>16}{'store/snap':>11}"
        )
        for template, _ in PAGES:
            live, snap = (
                found.get("store", {}).get(template, {}),
                found.get("snapshot", {}).get(template, {}),
            )
            if not live and not snap:
                continue
            if live.get("built") is False:
                lines.append(f"{template:<24}{'not built':>16}")
                continue
            ratio = ""
            if "p50_ms" in live.get("page", {}) and "p50_ms" in snap.get("page", {}):
                ratio = f"{live['page']['p50_ms'] / max(snap['page']['p50_ms'], 0.1):.1f}×"
            lines.append(
                f"{template:<24}{_cell(live.get('page')):>16}{_cell(snap.get('page')):>16}"
                f"{_cell(live.get('api')):>16}{_cell(snap.get('api')):>16}{ratio:>11}"
            )
    lines.append("* one cold run only (its warm-up passed the budget); [n]: HTTP status")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per page and source")
    parser.add_argument(
        "--limit", type=float, default=180.0, help="stop a page (or API call) after this long"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(
            os.environ.get("CXLOOP_BENCH_CACHE", Path.home() / ".cache" / "cxloop" / "pages-bench")
        ),
    )
    parser.add_argument("--demo-db", type=Path, help="use this demo store instead of building one")
    parser.add_argument("--only", choices=("demo", "big"))
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 3 runs")
    parser.add_argument(
        "--pages", type=lambda v: tuple(v.split(",")), default=(),
        help="only these pages, comma-separated as listed (e.g. /,/topics)",
    )  # fmt: skip
    parser.add_argument(
        "--sources", type=lambda v: tuple(v.split(",")), default=(),
        help="only these sources: snapshot, store",
    )  # fmt: skip
    parser.add_argument(
        "--keep-snapshot", action="store_true",
        help="refresh the cached snapshot (incremental) instead of a full build",
    )  # fmt: skip
    args, _unknown = parser.parse_known_args(argv)
    if args.quick:
        args.rows, args.runs = 100_000, 3
    cache: Path = args.cache
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    demo_source = args.demo_db or demo_store(cache)
    demo = cache / "demo-copy" / "cxloop.db"
    copy_store(demo_source, demo)  # the bench adds a user: never to the store it was given
    results: dict[str, Any] = {}
    if args.only != "big":
        print("demo store", flush=True)
        results["demo"] = bench_store("demo", demo, cache, args.runs, args.budget, args.limit, args)
    if args.only != "demo":
        print(f"{args.rows:,} feedback rows", flush=True)
        big = big_store(cache, demo_source, args.rows)
        results[f"rows_{args.rows}"] = bench_store(
            f"rows-{args.rows}", big, cache, args.runs, args.budget, args.limit, args
        )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = {
        "benchmark": NAME,
        "stamp": stamp,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "method": "server time = ASGI wrapper around the app (call to last body byte), TestClient, "
        "signed-in admin; 1 untimed warm-up then --runs timed runs; p50/p95",
        "runs": args.runs,
        "budget_s": args.budget,
        "seconds": round(time.perf_counter() - started, 1),
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    for path in (RESULTS / f"{NAME}_{stamp}.json", RESULTS / f"{NAME}_latest.json"):
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(table(results))  # after the files: a table bug must not lose a run
    print(f"written: bench/results/{NAME}_{stamp}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
