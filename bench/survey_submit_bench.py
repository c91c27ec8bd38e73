"""Survey submit benchmark: answers posted to the respondent form by concurrent clients, against
a minimal FastAPI endpoint served the same way (the ceiling), with every accepted answer counted.

Two servers, one after the other, each ``uvicorn`` in its own process on 127.0.0.1 (one worker,
no access log), loaded by the same bounded asyncio client (``httpx.AsyncClient``,
``--concurrency`` workers each posting as soon as its last answer came back, for ``--duration``
seconds after a short untimed warm-up):

* ``ceiling`` — a FastAPI app with one ``POST /submit`` that reads the form body and returns
  200: no store, no validation. Nothing that answers through FastAPI and uvicorn on this machine,
  with this client, can be much faster.
* ``cxloop`` — ``create_app`` over a fresh SQLite store holding one survey (an NPS question, a
  "why" text question shown to detractors, a single-choice question; all on one page) and one
  anonymous distribution; every worker posts a complete answer to the anonymous form
  ``/s/a/{public_id}`` (the path respondents use), so each 2xx is one completed response.

Afterwards the store is opened again and counted: every 2xx submit must be one completed
``survey_responses`` row (a lost or extra answer exits 1), and once the server's background
drain has turned the outbox into feedback (waited for up to ``--drain-timeout`` s; then the bench
drains what is left itself and says so), one ``feedback`` row each. Errors (non-2xx, timeouts,
connection failures) are counted by kind; any error exits 1.

    .venv/bin/python bench/survey_submit_bench.py                  # 50 clients, 60 s each
    .venv/bin/python bench/survey_submit_bench.py --quick          # 10 s each
    .venv/bin/python bench/survey_submit_bench.py --duration 30 --concurrency 20
    .venv/bin/python bench/survey_submit_bench.py --contender ceiling

Results: ``bench/results/survey_submit_<UTC>.json`` and ``survey_submit_latest.json``
(``survey_submit_quick_latest.json`` for ``--quick``). Goals (issue 12): cxloop at least half the
ceiling's submits/s, p99 under 100 ms, no answer lost, no error. The client runs on the same
machine as the server and takes CPU from it: on a small machine both figures are lower than a
remote client would see, and the ceiling is "as fast as this client can drive FastAPI".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from http_load import Submit, drive, start_server, summarise

NAME = "survey_submit"
RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
SEED = 20_261_206
GOAL_SHARE_OF_CEILING = 0.5
GOAL_P99_MS = 100.0
SURVEY_ID = "bench-nps"
SURVEY_YAML = """\
id: bench-nps
title: {zh: 基准调查, en: Benchmark survey}
layout: all_on_one
questions:
  - {id: nps, type: nps, required: true,
     text: {zh: 您向朋友推荐我们的可能性有多大？, en: How likely are you to recommend us?}}
  - {id: why, type: text, show_if: "nps <= 6",
     text: {zh: 我们哪里做得不好？, en: What went wrong?}}
  - id: channel
    type: single
    text: {zh: 您通过哪个渠道下单？, en: Where did you order?}
    options:
      - {id: app, text: {zh: 手机应用, en: App}}
      - {id: web, text: {zh: 网站, en: Website}}
      - {id: other, text: {zh: 其他, en: Other}, other: true}
"""
WHY_TEXTS = (
    "配送太慢了，等了一个多小时",
    "客服态度不好，问题没有解决",
    "The courier was late and the food was cold",
    "包装破损，汤洒了",
    "Price went up again, not worth it",
)


# --- the ceiling app (served by uvicorn --factory in its own process) ----------------------


def ceiling_app() -> Any:
    """One POST that reads the form body and returns 200: the fastest answer FastAPI gives."""
    app = FastAPI()

    @app.post("/submit", response_class=PlainTextResponse)
    async def submit(request: Request) -> str:
        await request.body()
        return "ok"

    @app.get("/healthz", response_class=PlainTextResponse)
    async def healthz() -> str:
        return "ok"

    return app


# --- the load's answers -------------------------------------------------------------------


def answer(rng: random.Random) -> dict[str, str]:
    """One complete answer, varied like real ones: every NPS value, detractors say why."""
    score = rng.choice((0, 2, 4, 5, 6, 7, 8, 8, 9, 9, 10, 10, 10))
    form = {"nps": str(score), "channel": rng.choice(("app", "web", "app", "other"))}
    if form["channel"] == "other":
        form["channel.other"] = "微信小程序"
    if score <= 6:
        form["why"] = rng.choice(WHY_TEXTS)
    return form


def submitter(path: str | None) -> Submit:
    """The ceiling's POST (``path`` None) or the anonymous form's."""
    return ceiling_submit if path is None else cxloop_submit(path)


# --- the cxloop contender: a store with one survey and an anonymous link ---------------------


@dataclass
class Target:
    """Where answers go and how to count what the store kept of them."""

    database: Path
    path: str
    distribution_id: int


def prepare_store(folder: Path) -> Target:
    """A fresh store with the bench survey and one anonymous distribution, made through the
    product's own services (the same calls ``cxloop surveys create`` and ``send --anonymous``
    make)."""
    from cxloop import api
    from cxloop.config import Settings
    from cxloop.surveys import definitions, sending
    from cxloop.surveys import service as survey_service
    from cxloop.surveys.distribution_schemas import Audience, DistributionCreate

    database = folder / "cxloop.db"
    settings = Settings(database_url=f"sqlite:///{database}", secret_key="b" * 48)
    store = api.connect(settings=settings)
    yaml_path = folder / "survey.yaml"
    yaml_path.write_text(SURVEY_YAML, encoding="utf-8")
    with store.sessions() as session:
        definition = definitions.load_definition(yaml_path)
        survey_service.create(session=session, definition=definition, created_by="bench")
        result = sending.send(
            session=session,
            settings=settings,
            survey_id=SURVEY_ID,
            request=DistributionCreate(audience=Audience(kind="anonymous")),
            now=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            created_by="bench",
        )
        session.commit()
    store.close()
    assert result.distribution_id is not None
    with sqlite3.connect(database) as connection:
        (public_id,) = connection.execute(
            "SELECT anonymous_public_id FROM survey_distributions WHERE id = ?",
            (result.distribution_id,),
        ).fetchone()
    return Target(database, f"/s/a/{public_id}", result.distribution_id)


def cxloop_submit(path: str) -> Submit:
    async def submit(client: Any, rng: random.Random) -> Any:
        # each submit is a new respondent: no resume cookie from the last one (with it, the form
        # would rightly answer "already completed")
        client.cookies.clear()
        return await client.post(path, data=answer(rng))

    return submit


async def ceiling_submit(client: Any, rng: random.Random) -> Any:
    return await client.post("/submit", data=answer(rng))


FEEDBACK_OF = "f.feedback_id = r.feedback_id AND f.channel = 'survey'"
"""A response's feedback row: ingest sets ``survey_responses.feedback_id`` to its key."""


def count_stored(target: Target) -> dict[str, int]:
    """What the store holds for the bench distribution, read with plain sqlite3."""
    with sqlite3.connect(target.database) as connection:

        def one(sql: str) -> int:
            return int(connection.execute(sql, (target.distribution_id,)).fetchone()[0])

        return {
            "responses_completed": one(
                "SELECT count(*) FROM survey_responses "
                "WHERE distribution_id = ? AND status = 'completed'"
            ),
            "responses_partial": one(
                "SELECT count(*) FROM survey_responses "
                "WHERE distribution_id = ? AND status != 'completed'"
            ),
            "outbox_pending": one(
                "SELECT count(*) FROM survey_responses WHERE distribution_id = ? "
                "AND status = 'completed' AND feedback_id IS NULL"
            ),
            "ingest_errors": one(
                "SELECT count(*) FROM survey_responses WHERE distribution_id = ? "
                "AND ingest_error IS NOT NULL"
            ),
            "feedback_rows": one(
                f"SELECT count(*) FROM survey_responses r JOIN feedback f ON {FEEDBACK_OF} "
                "WHERE r.distribution_id = ?"
            ),
            "feedback_text_rows": one(
                f"SELECT count(*) FROM survey_responses r JOIN feedback f ON {FEEDBACK_OF} "
                "JOIN feedback_text t ON t.feedback_id = f.feedback_id WHERE r.distribution_id = ?"
            ),
        }


def drain(target: Target, timeout: float) -> dict[str, Any]:
    """Wait for the server's background drain; drain the rest in this process if it stalls."""
    started = time.monotonic()
    counts = count_stored(target)
    while counts["outbox_pending"] and time.monotonic() - started < timeout:
        time.sleep(0.5)
        counts = count_stored(target)
    waited = time.monotonic() - started
    drained_by = "server"
    if counts["outbox_pending"]:
        from cxloop import api
        from cxloop.config import Settings
        from cxloop.surveys import responses

        drained_by = "bench (the server left answers in the outbox)"
        settings = Settings(database_url=f"sqlite:///{target.database}")
        store = api.connect(settings=settings)
        while count_stored(target)["outbox_pending"]:
            with store.sessions() as session:
                stored = responses.ingest_pending(session=session, settings=settings, limit=500)
                session.commit()
            if not stored:
                break
        store.close()
        counts = count_stored(target)
    return {**counts, "drain_wait_seconds": round(waited, 1), "drained_by": drained_by}


# --- the run --------------------------------------------------------------------------------


def measure_ceiling(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)}
    server = start_server(
        "survey_submit_bench:ceiling_app", env, folder / "ceiling.log", Path(__file__).parent
    )
    try:
        load_before = os.getloadavg()[0]
        cpu = server.cpu_seconds()
        load = drive(
            server.base_url,
            submitter,
            None,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            processes=args.client_processes,
            seed=SEED,
        )
        return {**summarise(load, server, cpu), "load_before": round(load_before, 2)}
    finally:
        server.stop()


def measure_cxloop(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    try:
        target = prepare_store(folder)
    except ImportError as error:  # a part of the survey feature is not built yet
        return {"skipped": f"survey services not available: {error}"}
    env = {
        **os.environ,
        "CXLOOP_DATABASE_URL": f"sqlite:///{target.database}",
        "CXLOOP_SECRET_KEY": "b" * 48,
    }
    server = start_server("cxloop.web.app:create_app", env, folder / "cxloop.log", ROOT / "src")
    try:
        load_before = os.getloadavg()[0]
        cpu = server.cpu_seconds()
        load = drive(
            server.base_url,
            submitter,
            target.path,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            processes=args.client_processes,
            seed=SEED,
        )
        result = {**summarise(load, server, cpu), "load_before": round(load_before, 2)}
        result["stored"] = drain(target, args.drain_timeout)
        after = server.cpu_seconds()
        if cpu is not None and after is not None and load.ok_total:
            # the drain's text analysis runs on after the load: the whole cost of an answer
            result["server_cpu_ms_per_submit_with_drain"] = round(
                1000 * (after - cpu) / load.ok_total, 2
            )
    finally:
        server.stop()
    stored = result["stored"]
    result["lost_answers"] = load.ok_total - stored["responses_completed"]
    result["answers_without_feedback"] = stored["responses_completed"] - stored["feedback_rows"]
    result["server_log_tail"] = (folder / "cxloop.log").read_text(errors="replace")[-2000:]
    return result


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpu_model": None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def verdict(report: dict[str, Any]) -> list[str]:
    """Problems that fail the run: lost answers, errors, answers that never became feedback."""
    problems = []
    for name, row in report["contenders"].items():
        if "skipped" in row:
            continue
        if row["errors"]:
            problems.append(f"{name}: {row['errors']} errors {row['errors_by_kind']}")
        if row.get("lost_answers"):
            problems.append(
                f"{name}: {row['submits_2xx_total']} answers accepted but "
                f"{row['stored']['responses_completed']} stored"
            )
        if row.get("answers_without_feedback"):
            problems.append(f"{name}: {row['answers_without_feedback']} answers not in feedback")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=None, help="timed seconds (60)")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--warmup", type=float, default=5.0, help="untimed seconds first (5)")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument(
        "--client-processes",
        type=int,
        default=1,
        help="client processes sharing the workers (1; more on a machine with spare cores)",
    )
    parser.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (store, logs)")
    parser.add_argument(
        "--contender", choices=("ceiling", "cxloop"), action="append", help="only this one"
    )
    args, _ = parser.parse_known_args(argv)
    if args.duration is None:
        args.duration = 10.0 if args.quick else 60.0
    if args.duration <= 0 or args.concurrency < 1:
        parser.error("--duration must be positive and --concurrency at least 1")
    contenders = {"ceiling": measure_ceiling, "cxloop": measure_cxloop}
    report: dict[str, Any] = {
        "benchmark": NAME,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "concurrency": args.concurrency,
        "client_processes": args.client_processes,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "goals": {"share_of_ceiling": GOAL_SHARE_OF_CEILING, "p99_ms": GOAL_P99_MS},
        "contenders": {},
    }
    tmp = tempfile.mkdtemp(prefix="cxloop-survey-bench-")
    try:
        for name, measure in contenders.items():
            if args.contender and name not in args.contender:
                continue
            print(f"-- {name}: {args.concurrency} clients, {args.duration:g} s", flush=True)
            report["contenders"][name] = measure(args, Path(tmp))
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    ceiling = report["contenders"].get("ceiling", {}).get("submits_per_s")
    mine = report["contenders"].get("cxloop", {}).get("submits_per_s")
    if ceiling and mine is not None:
        report["share_of_ceiling"] = round(mine / ceiling, 3)
    report["load_after"] = round(os.getloadavg()[0], 2)
    report["problems"] = verdict(report)
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

    console = Console(width=max(110, Console().width))
    table = Table(
        title=f"Survey submits: {report['concurrency']} clients, {report['duration_s']:g} s "
        f"(goal: ≥ {GOAL_SHARE_OF_CEILING:.0%} of the ceiling, p99 < {GOAL_P99_MS:g} ms)"
    )
    columns = ("contender", "submits/s", "p50 ms", "p95 ms", "p99 ms", "errors", "stored", "fb")
    for column in columns:
        table.add_column(column, justify="left" if column == "contender" else "right")
    for name, row in report["contenders"].items():
        if "skipped" in row:
            table.add_row(name, "—", "—", "—", "—", "—", "—", "—")
            continue
        stored = row.get("stored", {})
        table.add_row(
            name,
            f"{row['submits_per_s']:,.0f}",
            _fmt(row["p50_ms"]),
            _fmt(row["p95_ms"]),
            _fmt(row["p99_ms"]),
            str(row["errors"]),
            f"{stored['responses_completed']:,}/{row['submits_2xx_total']:,}" if stored else "—",
            f"{stored['feedback_rows']:,}" if stored else "—",
        )
    console.print(table)
    for name, row in report["contenders"].items():
        if "skipped" in row:
            console.print(f"{name}: skipped — {row['skipped']}")
    if "share_of_ceiling" in report:
        console.print(f"cxloop at {report['share_of_ceiling']:.0%} of the ceiling's submits/s")
    cpus = report["machine"]["cpu_count"] or 1
    loads = [row.get("load_before", 0) for row in report["contenders"].values()]
    if max([*loads, report["load_after"]]) > cpus / 2:
        console.print(
            f"[yellow]load average up to {max([*loads, report['load_after']]):.1f} on {cpus} "
            "CPUs: rates are noisy, compare the share of the ceiling or re-run when quiet[/yellow]"
        )
    for problem in report["problems"]:
        console.print(f"[red]problem:[/red] {problem}")


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


if __name__ == "__main__":
    sys.exit(main())
