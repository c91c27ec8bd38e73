"""``cxloop metrics targets|alerts|accounts``: targets, stored alerts and B2B account health.

Register with ``metrics_app.add_typer(targets_app, name="targets")`` (same for ``alerts_app``
and ``accounts_app``). The metric code loads inside the commands.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cxloop.cli import display
from cxloop.cli.context import console, existing_store, unit_of_work

targets_app = typer.Typer(help="Targets per metric and slice.", no_args_is_help=True)
alerts_app = typer.Typer(help="Spikes, drops, emerging topics and missed targets.")
accounts_app = typer.Typer(help="B2B account health: role-weighted NPS and coverage.")


def _slice(pairs: list[str] | None) -> dict[str, str]:
    from cxloop.errors import Invalid, Problem

    bad = [Problem("slice", p, "is not dimension=value") for p in pairs or [] if "=" not in p]
    if bad:
        raise Invalid(bad)
    return dict(p.split("=", 1) for p in pairs or [])


@targets_app.command("set")
def set_target(
    metric: Annotated[str, typer.Option(help="nps, csat, ces or responses.")],
    target: Annotated[float, typer.Option(help="The value to reach (or stay under).")],
    slice_: Annotated[
        list[str] | None, typer.Option("--slice", help="dimension=value, repeatable.")
    ] = None,
    direction: Annotated[str, typer.Option(help="at_least or at_most.")] = "at_least",
    period: Annotated[str | None, typer.Option(help="day, week, month or quarter.")] = None,
    label: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create or replace the target of a metric in a slice."""
    from cxloop.metrics import target_store, targets

    spec = targets.parse_targets(
        {
            "targets": [
                {
                    "metric": metric,
                    "slice": _slice(slice_),
                    "target": target,
                    "direction": direction,
                    "period": period,
                    "label": label,
                }
            ]
        }
    )
    store = existing_store()
    with unit_of_work(store) as session:
        [stored] = target_store.set_targets(
            session=session, targets_in=spec, settings=store.settings
        )
    console.print(f"target {stored.id}: {stored.metric} {stored.slice} {stored.target:g}")


@targets_app.command("list")
def list_targets() -> None:
    """Stored targets as YAML (what ``load`` reads)."""
    from cxloop.metrics import target_store

    with unit_of_work(existing_store()) as session:
        sys.stdout.write(target_store.export_targets(session=session))


@targets_app.command("load")
def load_targets(path: Annotated[Path, typer.Argument(help="YAML file: targets: [...]")]) -> None:
    """Store every target of a YAML file; every problem is reported at once."""
    from cxloop.errors import Invalid
    from cxloop.metrics import target_store

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"cannot be read: {exc}", "file", str(path)) from None
    store = existing_store()
    with unit_of_work(store) as session:
        stored = target_store.load_targets(session=session, yaml_text=text, settings=store.settings)
    console.print(f"{len(stored)} targets stored")


@targets_app.command("delete")
def delete_target(target_id: int) -> None:
    """Delete one target by id."""
    from cxloop.metrics import target_store

    with unit_of_work(existing_store()) as session:
        target_store.delete_target(session=session, target_id=target_id)
    console.print(f"target {target_id} deleted")


@targets_app.command("status")
def target_status(
    min_n: Annotated[int, typer.Option("--min-n", min=0)] = 30,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(help="Judge the last complete periods before this UTC time."),
    ] = None,
) -> None:
    """Each target's current value, interval, n and status.

    Periodic targets are judged on the last complete period before now, or on the last
    complete period of the data when the data end earlier (or before ``--as-of``)."""
    from cxloop.metrics import target_store

    store = existing_store()
    with unit_of_work(store) as session:
        result = target_store.target_status(
            session=session, settings=store.settings, min_n=min_n, as_of=as_of
        )
    for note in dict.fromkeys(r.note for r in result.rows if r.note):
        console.print(note)
    table = Table(title=f"targets (n < {min_n}: small_n)")
    columns = ("id", "metric", "slice", "period", "n", "estimate", "interval", "target", "status")
    for column in columns:
        table.add_column(column)
    for r in result.rows:
        interval = f"{r.ci_low:.3g} … {r.ci_high:.3g}" if r.ci_low is not None else "–"
        estimate = "–" if r.estimate is None else f"{r.estimate:.3g}"
        goal = f"{'≥' if r.direction == 'at_least' else '≤'} {r.target:g}"
        cells = (str(r.target_id), r.metric, str(r.slice), r.period_label or "all data")
        table.add_row(*cells, display.count(r.n, r.n < min_n), estimate, interval, goal, r.status)
    console.print(table)
    if any(r.n < min_n for r in result.rows):
        console.print(display.small_n_note(min_n))


@alerts_app.command("scan")
def scan(threshold: Annotated[float, typer.Option(min=0.1)] = 4.0) -> None:
    """Scan weekly metrics, topic complaints and targets; store new alerts."""
    from cxloop.loop import alert_rules

    store = existing_store()
    with unit_of_work(store) as session:
        result = alert_rules.scan(
            session=session, settings=store.settings, now=dt.datetime.now(dt.UTC),
            threshold=threshold,
        )  # fmt: skip
    console.print(f"{result.found} found: {result.inserted} new, {result.updated} updated")
    if result.cases is not None:
        console.print(result.cases.sentence(), highlight=False)


@alerts_app.command("list")
def list_alerts(
    status: Annotated[str | None, typer.Option(help="open, acknowledged or resolved.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO date: created on or after.")] = None,
) -> None:
    """Stored alerts, oldest first."""
    from cxloop.metrics import monitoring

    start = dt.datetime.fromisoformat(since) if since else None
    with unit_of_work(existing_store()) as session:
        alerts = monitoring.list_alerts(session=session, status=status, since=start)
    table = Table(title="alerts")
    for column in ("id", "kind", "subject", "week", "status", "reason"):
        table.add_column(column)
    for a in alerts:
        week = display.period_label(a.period_start, "week")
        table.add_row(str(a.id), a.kind, a.subject, week, a.status, a.reason)
    console.print(table)


@alerts_app.command("ack")
def acknowledge(alert_id: int) -> None:
    """Mark an alert acknowledged."""
    from cxloop.metrics import monitoring

    with unit_of_work(existing_store()) as session:
        alert = monitoring.set_alert_status(
            session=session, alert_id=alert_id, status="acknowledged"
        )
    console.print(f"alert {alert.id} {alert.status}")


@accounts_app.callback(invoke_without_command=True)
def accounts(
    account: Annotated[str | None, typer.Option("--account", help="One account id.")] = None,
    weights: Annotated[
        str | None, typer.Option(help="Role weights, e.g. decision_maker=3,purchaser=2,user=1.")
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="Answers of the last N days.")] = 365,
) -> None:
    """Role-weighted NPS per account with its interval and coverage gaps."""
    from cxloop.metrics import monitoring
    from cxloop.metrics.accounts import parse_weights

    store = existing_store()
    store.close()
    report = monitoring.account_health(
        settings=store.settings,
        account_id=account,
        weights=parse_weights(weights) if weights else None,
        days=days,
    )
    table = Table(title=f"account health, weights {report.weights}")
    for column in ("account", "n", "weighted NPS", "interval", "gaps"):
        table.add_column(column)
    for r in report.accounts:
        score = "–" if r.score is None else f"{r.score:+.1f}"
        interval = "–" if r.ci_low is None else f"{r.ci_low:+.1f} … {r.ci_high:+.1f}"
        table.add_row(
            r.account_id,
            display.count(r.n, r.small_n),
            score,
            interval,
            "; ".join(r.gaps),
            style="dim" if r.small_n else None,
        )
    console.print(table)
    if any(r.small_n for r in report.accounts):
        console.print(display.small_n_note(report.min_n))
