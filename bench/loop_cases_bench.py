"""Loop cases benchmark: detractor answers posted one per request to ``POST /api/v1/feedback``,
each timed from the request sent to its case stored with owner, priority and SLA due time.

A fresh embedded SQLite store (not timed) holds three teams with agents, a routing file
(delivery topics to the delivery team), 900 customers with a year of orders (value ranks) and
churn scores, and three alert rules (a detractor complaining about delivery, about service,
about quality; each de-duplicated on the topic it matched). ``cxloop.web.app:create_app`` runs
in its own ``uvicorn`` process on 127.0.0.1, as ``cxloop serve`` does; one untimed request
loads the text engine first.

The answers (fixed seed): each is a detractor (NPS 0–6) of one customer with a Chinese or
English complaint about delivery, service or quality; about 20 % repeat a (customer, topic)
posted earlier (within the rules' window), which must join the open case, not open another.
``--concurrency`` clients post at once (1: one request at a time); each client, after its
response, reads the store with plain ``sqlite3`` until the answer's case has an owner, a
priority and a resolution due time: that moment ends the timing (the API answers after the
commit, so the read finds it at once; it is the check that the case is really there).

Afterwards the store is counted: cases must equal the distinct (customer, topic) pairs posted,
attached answers the repeats, and every case must have owner, priority and due times; any
mismatch or failed request exits 1. Goal (issue 14): p95 under 1 s on the embedded store.

    .venv/bin/python bench/loop_cases_bench.py                   # 1,000 answers, one at a time
    .venv/bin/python bench/loop_cases_bench.py --concurrency 4   # four clients at once
    .venv/bin/python bench/loop_cases_bench.py --quick           # 200 answers

Results: ``bench/results/loop_cases_<UTC>.json`` and ``loop_cases_latest.json``
(``loop_cases_quick_latest.json`` for ``--quick``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from http_load import start_server
from survey_submit_bench import machine_info

NAME = "loop_cases"
RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
SEED = 20_261_206
GOAL_P95_S = 1.0
CUSTOMERS = 900
REPEAT_SHARE = 0.2
RULES_YAML = """\
- id: detractor-delivery
  name: 贬损者抱怨配送
  when: nps_group == 'detractor' and aspect == 'delivery/*:negative'
  severity: high
  topic: matched
- id: detractor-service
  name: 贬损者抱怨服务
  when: nps_group == 'detractor' and aspect == 'service/*:negative'
  severity: high
  topic: matched
- id: detractor-quality
  name: 贬损者抱怨质量
  when: nps_group == 'detractor' and aspect == 'quality/*:negative'
  severity: medium
"""
ROUTING_YAML = """\
default_team: 客服一组
strategy: least_loaded
rules:
  - topic: delivery/*
    team: 配送组
"""
TEAMS = {
    "客服一组": ["wang.fang", "li.na", "zhang.wei", "liu.yang", "chen.jing"],
    "配送组": ["zhao.min", "sun.li", "zhou.jie"],
    "质量组": ["wu.hao", "zheng.xin"],
}
TEXTS = {
    # kind → complaints the text engine reads as that one topic (checked: delivery/speed,
    # service/attitude, quality); a kind is the case topic the repeat must join
    "delivery": ("配送太慢了，等了两天才到", "外卖送得太慢了，饭都凉了"),
    "service": (
        "客服态度很差，问了半天没人理",
        "客服态度恶劣，电话一直打不通",
        "The support agent was rude to me",
    ),
    "quality": (
        "东西质量太差了，很失望",
        "质量很差，用了两天就坏了",
        "Poor quality, it broke after two days",
    ),
}


@dataclass(frozen=True)
class Answer:
    key: str
    customer: str
    kind: str
    text: str
    nps: int
    repeat: bool


def plan(n: int, rng: random.Random) -> list[Answer]:
    """``n`` detractor answers; about ``REPEAT_SHARE`` repeat a (customer, kind) posted before."""
    posted: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    out = []
    for i in range(n):
        repeat = bool(posted) and rng.random() < REPEAT_SHARE
        if repeat:
            customer, kind = rng.choice(posted)
        else:
            while True:
                pair = (f"C-{rng.randrange(CUSTOMERS):04d}", rng.choice(tuple(TEXTS)))
                if pair not in seen:
                    break
            customer, kind = pair
            seen.add(pair)
            posted.append(pair)
        text = rng.choice(TEXTS[kind])
        out.append(Answer(f"bench-{i:05d}", customer, kind, text, rng.randrange(7), repeat))
    return out


def prepare_store(folder: Path, rng: random.Random) -> tuple[Path, str, dict[str, str]]:
    """The store (teams, customers, orders, churn scores, rules), an analyst's API token and
    the server's environment; made through the product's own services."""
    from cxloop import api
    from cxloop.config import Settings
    from cxloop.db.session import session_scope
    from cxloop.insights.models import ChurnScore
    from cxloop.loop import rule_store, teams
    from cxloop.loop.schemas import TeamWrite
    from cxloop.privacy import service as privacy_service
    from cxloop.privacy.roles import Role
    from cxloop.privacy.schemas import TokenCreate, UserCreate

    database = folder / "cxloop.db"
    routing = folder / "routing.yaml"
    routing.write_text(ROUTING_YAML, encoding="utf-8")
    env = {
        "CXLOOP_DATABASE_URL": f"sqlite:///{database}",
        "CXLOOP_SECRET_KEY": "b" * 48,
        "CXLOOP_LOOP_ROUTING": str(routing),
        "CXLOOP_TEXT_WORKERS": "1",
    }
    settings = Settings(
        database_url=env["CXLOOP_DATABASE_URL"], secret_key=env["CXLOOP_SECRET_KEY"]
    )
    store = api.connect(settings=settings)
    now = dt.datetime.now(dt.UTC)
    customers = [
        {"customer_id": f"C-{i:04d}", "name": f"客户{i}", "segment": rng.choice(("VIP", "mass"))}
        for i in range(CUSTOMERS)
    ]
    orders = [
        {
            "order_id": f"O-{i:05d}",
            "customer_id": f"C-{rng.randrange(CUSTOMERS):04d}",
            "ordered_at": (now - dt.timedelta(days=rng.randrange(360))).strftime("%Y-%m-%d"),
            "amount": round(rng.uniform(10, 800), 2),
        }
        for i in range(3 * CUSTOMERS)
    ]
    assert api.import_records(store, "customers", customers).inserted == CUSTOMERS
    assert api.import_records(store, "orders", orders).inserted == len(orders)
    with session_scope(store.sessions) as session:
        for name, agents in TEAMS.items():
            members = [{"name": a} for a in agents] + [{"name": f"{name}.lead", "role": "lead"}]
            team = {"name": name, "lead": f"{name}.lead", "members": members}
            teams.save_team(session=session, team_in=TeamWrite.model_validate(team))
        session.add_all(
            ChurnScore(
                customer_id=f"C-{i:04d}",
                model_version="bench",
                probability=rng.random(),
                reasons=[],
            )
            for i in range(0, CUSTOMERS, 3)
        )
        rule_store.save_rules(session=session, text=RULES_YAML, actor="bench", now=now)
        privacy_service.create_user(
            session=session, user_in=UserCreate(username="bench", role=Role("analyst"))
        )
        token = privacy_service.create_token(
            session=session, token_in=TokenCreate(username="bench", name="bench")
        ).token
    store.close()
    return database, token, env


CASE_OF = (
    "SELECT c.owner, c.priority, c.resolution_due FROM loop_case_feedback cf "
    "JOIN loop_cases c ON c.id = cf.case_id WHERE cf.feedback_id = ?"
)


class Client:
    """One client: its own HTTP connection and its own read connection to the store."""

    def __init__(self, base_url: str, token: str, database: Path) -> None:
        import httpx

        self.http = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        self.db = sqlite3.connect(database, timeout=30, check_same_thread=False)

    def post(self, answer: Answer) -> tuple[float, dict[str, Any] | str]:
        """Seconds from the request sent to the case seen stored, and the response's counts
        (or what went wrong)."""
        row = {
            "feedback_id": answer.key, "source": "bench", "channel": "survey",
            "created_at": dt.datetime.now(dt.UTC).isoformat(), "customer_id": answer.customer,
            "nps": answer.nps, "text": answer.text,
        }  # fmt: skip
        started = time.perf_counter()
        response = self.http.post("/api/v1/feedback", json={"rows": [row]})
        if response.status_code != 200:
            return (
                time.perf_counter() - started,
                f"HTTP {response.status_code}: {response.text[:200]}",
            )
        deadline = started + 30
        while True:
            found = self.db.execute(CASE_OF, (f"bench:{answer.key}",)).fetchone()
            if (found and all(found)) or time.perf_counter() > deadline:
                break
            time.sleep(0.005)
        took = time.perf_counter() - started
        if not (found and all(found)):
            return took, f"{answer.key}: no case with owner, priority and due time after 30 s"
        cases: dict[str, Any] = response.json().get("cases") or {}
        return took, cases

    def close(self) -> None:
        self.http.close()
        self.db.close()


def run_load(
    base_url: str, token: str, database: Path, answers: list[Answer], clients: int
) -> dict[str, Any]:
    pool = [Client(base_url, token, database) for _ in range(clients)]
    free = list(pool)
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    totals: dict[str, int] = {}

    def one(answer: Answer) -> None:
        with lock:
            client = free.pop()
        try:
            took, outcome = client.post(answer)
        finally:
            with lock:
                free.append(client)
        with lock:
            latencies.append(took)
            if isinstance(outcome, str):
                failures.append(outcome)
            else:
                for name, value in outcome.items():
                    if isinstance(value, int):
                        totals[name] = totals.get(name, 0) + value

    # warm-up (untimed): a promoter of no bench customer loads the text engine, opens nothing
    warm = Answer("warm-up", "C-warm", "service", "很好，谢谢", 10, False)
    pool[0].http.post("/api/v1/feedback", json={"rows": [{
        "feedback_id": warm.key, "source": "bench", "channel": "survey", "nps": 10,
        "created_at": dt.datetime.now(dt.UTC).isoformat(), "text": warm.text}]})  # fmt: skip
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as executor:
        list(executor.map(one, answers))
    wall = time.perf_counter() - started
    for client in pool:
        client.close()
    ordered = sorted(latencies)
    return {
        "answers": len(answers),
        "wall_seconds": round(wall, 2),
        "answers_per_s": round(len(answers) / wall, 1),
        "p50_s": round(statistics.median(ordered), 4),
        "p95_s": round(ordered[max(0, int(0.95 * len(ordered)) - 1)], 4),
        "p99_s": round(ordered[max(0, int(0.99 * len(ordered)) - 1)], 4),
        "max_s": round(ordered[-1], 4),
        "mean_s": round(statistics.fmean(ordered), 4),
        "reported_by_api": totals,
        "failures": len(failures),
        "failure_samples": failures[:5],
    }


def count_store(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:

        def one(sql: str) -> int:
            return int(connection.execute(sql).fetchone()[0])

        return {
            "cases": one("SELECT count(*) FROM loop_cases"),
            "case_feedback": one("SELECT count(*) FROM loop_case_feedback"),
            "cases_missing_owner_priority_or_due": one(
                "SELECT count(*) FROM loop_cases WHERE owner IS NULL OR priority IS NULL "
                "OR resolution_due IS NULL OR first_response_due IS NULL"
            ),
            "feedback_checked": one("SELECT count(*) FROM loop_feedback_checks"),
            "lock_rows_left": one("SELECT count(*) FROM loop_state WHERE key LIKE 'case-open:%'"),
        }


def verdict(
    answers: list[Answer], load: dict[str, Any], stored: dict[str, int]
) -> tuple[dict[str, int], list[str]]:
    distinct = len({(a.customer, a.kind) for a in answers})
    repeats = sum(a.repeat for a in answers)
    expected = {"cases": distinct, "attached": repeats}
    problems = []
    if load["failures"]:
        problems.append(f"{load['failures']} requests failed: {load['failure_samples']}")
    if stored["cases"] != distinct:
        problems.append(
            f"{stored['cases']} cases stored, {distinct} distinct (customer, topic) posted"
        )
    if stored["case_feedback"] - stored["cases"] != repeats:
        attached = stored["case_feedback"] - stored["cases"]
        problems.append(f"{attached} answers attached to open cases, {repeats} repeats posted")
    if stored["cases_missing_owner_priority_or_due"]:
        problems.append(
            f"{stored['cases_missing_owner_priority_or_due']} cases lack owner, priority or due"
        )
    if stored["lock_rows_left"]:
        problems.append(f"{stored['lock_rows_left']} case lock rows left in loop_state")
    return expected, problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--answers", type=int, default=None, help="answers to post (1000)")
    parser.add_argument("--concurrency", type=int, default=1, help="clients at once (1)")
    parser.add_argument("--quick", action="store_true", help="200 answers instead of 1,000")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (store, log)")
    args, _ = parser.parse_known_args(argv)
    n = args.answers or (200 if args.quick else 1000)
    if n < 1 or args.concurrency < 1:
        parser.error("--answers and --concurrency must be at least 1")
    rng = random.Random(SEED)
    answers = plan(n, rng)
    tmp = Path(tempfile.mkdtemp(prefix="cxloop-loop-bench-"))
    report: dict[str, Any] = {
        "benchmark": NAME,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "concurrency": args.concurrency,
        "goal_p95_s": GOAL_P95_S,
        "load_before": round(os.getloadavg()[0], 2),
    }
    try:
        database, token, env = prepare_store(tmp, rng)
        server = start_server(
            "cxloop.web.app:create_app", {**os.environ, **env}, tmp / "server.log", ROOT / "src"
        )
        try:
            report["load"] = run_load(server.base_url, token, database, answers, args.concurrency)
        finally:
            server.stop()
        report["stored"] = count_store(database)
        report["expected"], report["problems"] = verdict(answers, report["load"], report["stored"])
        report["server_log_tail"] = (tmp / "server.log").read_text(errors="replace")[-2000:]
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    report["goal_met"] = report["load"]["p95_s"] < GOAL_P95_S
    report["load_after"] = round(os.getloadavg()[0], 2)
    _print(report)
    _write(report, quick=args.quick)
    return 1 if report["problems"] else 0


def _write(report: dict[str, Any], *, quick: bool) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    body = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    latest = f"{NAME}_quick_latest.json" if quick else f"{NAME}_latest.json"
    for path in (RESULTS / f"{NAME}_{stamp}.json", RESULTS / latest):
        path.write_text(body, encoding="utf-8")


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    load, stored, expected = report["load"], report["stored"], report["expected"]
    console = Console(width=max(110, Console().width))
    table = Table(
        title=f"Detractor answers → cases: {load['answers']:,} posts, "
        f"{report['concurrency']} at a time (goal: p95 < {GOAL_P95_S:g} s)"
    )
    columns = ("answers/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "cases", "attached", "failed")
    for column in columns:
        table.add_column(column, justify="right")
    table.add_row(
        f"{load['answers_per_s']:,.1f}",
        *(f"{1000 * load[k]:,.1f}" for k in ("p50_s", "p95_s", "p99_s", "max_s")),
        f"{stored['cases']:,} / {expected['cases']:,}",
        f"{stored['case_feedback'] - stored['cases']:,} / {expected['attached']:,}",
        str(load["failures"]),
    )
    console.print(table)
    console.print(
        "cases: stored / distinct (customer, topic) posted; attached: stored / repeats posted; "
        f"goal {'met' if report['goal_met'] else 'NOT met'}"
    )
    cpus = report["machine"]["cpu_count"] or 1
    if max(report["load_before"], report["load_after"]) > cpus / 2:
        console.print(
            f"[yellow]load average up to {max(report['load_before'], report['load_after']):.1f} "
            f"on {cpus} CPUs: latencies are noisy on a busy machine[/yellow]"
        )
    for problem in report["problems"]:
        console.print(f"[red]problem:[/red] {problem}")


if __name__ == "__main__":
    sys.exit(main())
