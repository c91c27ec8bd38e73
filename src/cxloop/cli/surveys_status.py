"""``cxloop surveys status|rates``: a survey's response funnel, its response rate with an
interval, B2B completeness by account and role; response rates sliced across surveys."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxloop.cli import display
from cxloop.cli.context import console, existing_store, unit_of_work
from cxloop.cli.lazy import lazy_module

if TYPE_CHECKING:
    from cxloop.surveys import b2b_status, tracking
    from cxloop.surveys.b2b_status import CompletenessRow
    from cxloop.surveys.tracking import FunnelRow, RateRow
else:
    tracking = lazy_module("cxloop.surveys.tracking")
    b2b_status = lazy_module("cxloop.surveys.b2b_status")

MinN = Annotated[
    int,
    typer.Option("--min-n", min=0, help="Mark rates over fewer delivered invitations with *."),
]
Confidence = Annotated[
    float, typer.Option(min=0.5, max=0.999, help="Confidence of the Wilson interval.")
]
Output = Annotated[str, typer.Option("--format", help="table or json")]
DELIVERY_COLUMNS = ("invited", "skipped", "sent", "delivered", "bounced", "expired")
RESPONSE_COLUMNS = ("delivered", "opened", "started", "completed", "partial")
"""The funnel in two tables that fit a terminal: getting there, then answering."""


def _rate(rate: RateRow, min_n: int) -> tuple[str, str]:
    mark = f" {display.SMALL_N_MARK}" if rate.small_n and rate.n else ""
    shown = display.share(rate.score) + mark
    return shown, display.interval(rate.ci_low, rate.ci_high, display.share)


def _funnel_tables(
    survey: str, rows: list[tuple[str, FunnelRow]], min_n: int, percent: str
) -> tuple[Table, Table]:
    delivery = Table(title=f"{survey}: delivery")
    responses = Table(title=f"{survey}: responses")
    for table, columns in ((delivery, DELIVERY_COLUMNS), (responses, RESPONSE_COLUMNS)):
        table.add_column("distribution")
        for name in columns:
            table.add_column(name, justify="right")
    delivery.add_column("channel")
    responses.add_column("response rate", justify="right")
    responses.add_column(f"{percent} interval", justify="right")
    for label, row in rows:
        rate, interval = _rate(row.rate, min_n)
        delivery.add_row(
            label, *(f"{getattr(row, n):,}" for n in DELIVERY_COLUMNS), row.channel or "all"
        )
        responses.add_row(
            label, *(f"{getattr(row, n):,}" for n in RESPONSE_COLUMNS), rate, interval
        )
    return delivery, responses


def _check_format(output: str) -> None:
    if output not in ("table", "json"):
        raise typer.BadParameter(f"{output!r} is not one of: table, json", param_hint="--format")


def status_command(
    survey: Annotated[str, typer.Argument(help="The survey's id.")],
    min_n: MinN = 30,
    confidence: Confidence = 0.95,
    output: Output = "table",
) -> None:
    """A survey's funnel per distribution, its response rate with an interval, and B2B
    completeness by account and role (missing roles marked)."""
    _check_format(output)
    store = existing_store()
    with unit_of_work(store) as session:
        funnel = tracking.funnel(
            session=session, survey_id=survey, confidence=confidence, min_n=min_n
        )
        roles = b2b_status.completeness(session=session, survey_id=survey)
    if output == "json":
        payload = {
            "funnel": funnel.model_dump(mode="json"),
            "completeness": [r.model_dump(mode="json") for r in roles],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    rows = [(f"#{d.distribution_id} {d.name or ''}".strip(), d) for d in funnel.distributions]
    if len(rows) != 1:
        rows.append(("all", funnel.total))
    percent = f"{confidence:.0%}"
    for table in _funnel_tables(survey, rows, min_n, percent):
        console.print(table)
    if not funnel.distributions:
        console.print(f"{survey} has not been sent yet (`cxloop surveys send {survey} …`)")
    total = funnel.total
    if total.skipped:
        reasons = ", ".join(f"{k} {v:,}" for k, v in total.skip_reasons.items())
        console.print(f"skipped: {reasons}", highlight=False)
    if total.anonymous:
        console.print(f"anonymous link: {total.anonymous:,} completed (outside the rate)")
    console.print(
        "response rate = completed / delivered (Wilson interval); partial: saved, not submitted",
        style="dim",
    )
    if any(d.rate.small_n and d.rate.n for _, d in rows):
        console.print(display.small_n_note(min_n), style="dim")
    if roles:
        _completeness(survey, roles)


def _completeness(survey: str, roles: list[CompletenessRow]) -> None:
    table = Table(title=f"{survey}: B2B completeness by account and role")
    for name in ("account", "milestone", "role", "invited", "answered", "status"):
        table.add_column(name, justify="right" if name in ("invited", "answered") else "left")
    complete = incomplete = unreached = 0
    seen: set[tuple[str | None, str | None]] = set()
    for r in roles:
        key = (r.account, r.milestone)
        first = key not in seen
        if first:
            seen.add(key)
            complete += r.complete
            incomplete += r.reached and not r.complete
            unreached += not r.reached
        account = f"{r.account} {r.account_name or ''}".strip() if first else ""
        milestone = f"{r.milestone or '–'} {r.milestone_name or ''}".strip() if first else ""
        state = "MISSING" if r.missing else "answered"
        state = state if r.required else "(not required)"
        state = state if r.reached else "not reached"
        table.add_row(account, milestone, r.role, f"{r.invited:,}", f"{r.answered:,}", state)
    console.print(table)
    line = f"{complete:,} complete, {incomplete:,} incomplete (every required role must answer)"
    if unreached:
        line += f"; {unreached:,} not reached (every invitation was skipped)"
    console.print(line)


def rates_command(
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by", help="segment, role, account, channel, survey or distribution (repeatable)."
        ),
    ] = None,
    survey: Annotated[str | None, typer.Option(help="Only this survey.")] = None,
    min_n: MinN = 30,
    confidence: Confidence = 0.95,
    output: Output = "table",
) -> None:
    """Response rates (completed / delivered) with intervals, by segment, role, account,
    channel, survey or distribution."""
    _check_format(output)
    store = existing_store()
    with unit_of_work(store) as session:
        rows = tracking.response_rates(
            session=session, by=by or (), survey_id=survey, confidence=confidence, min_n=min_n
        )
    if output == "json":
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False))
        return
    dims = list(by or ())
    table = Table(title="response rate" + (f" of {survey}" if survey else ""))
    for name in dims:
        table.add_column(name)
    for name in ("delivered", "completed", "rate", f"{confidence:.0%} interval"):
        table.add_column(name, justify="right")
    for r in rows:
        rate, interval = _rate(r, min_n)
        labels = [r.slice.get(name) or display.DASH for name in dims]
        table.add_row(*labels, f"{r.n:,}", f"{r.completed:,}", rate, interval)
    if not rows:
        console.print("no invitations yet")
        return
    console.print(table)
    if any(r.small_n and r.n for r in rows):
        console.print(display.small_n_note(min_n), style="dim")
