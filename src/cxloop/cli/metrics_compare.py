"""``cxloop metrics compare``: is a change between periods, or a group's difference, real?

The rules (which periods, which base) live in ``cxloop.metrics.comparisons``; this module parses
options and prints. Registered on ``metrics_app`` by ``cli.app``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxloop.cli import display
from cxloop.cli.context import console
from cxloop.cli.filters import Last, Since, Until, Where, scope_from_options
from cxloop.cli.metrics import By, Confidence, Format, MinN, OutputFormat, PeriodOption
from cxloop.csv_cells import safe_cell

if TYPE_CHECKING:
    from cxloop.metrics.comparisons import CompareResult


def _score(metric: str, value: float | None, *, change: bool = False) -> str:
    if value is None:
        return display.DASH
    if metric == "csat":
        return f"{value * 100:+.1f} pp" if change else display.share(value)
    if metric == "nps":
        return display.number(value, 1, signed=True)
    return display.number(value, 2, signed=change)


def _title(result: CompareResult) -> str:
    if result.kind == "groups":
        against = "the rest" if result.base == "rest" else result.base
        head = f"{result.metric}: each {result.current} against {against}"
    else:
        head = f"{result.metric}: {result.current} against {result.base}"
    where = result.scope.conditions()
    if where and result.kind == "periods":
        head += " · " + ", ".join(f"{f}={'|'.join(v)}" for f, v in where.items())
    elif result.kind == "groups" and not result.scope.empty:
        head += f" · {result.scope.describe()}"
    return head


def _table(result: CompareResult) -> Table:
    keys = [d.value for d in result.by]
    group = [result.group.value] if result.group else []
    table = Table(title=_title(result))
    base, current = ("rest", "group") if result.kind == "groups" else ("base", "current")
    if result.base not in ("rest",) and result.kind == "groups":
        base = "baseline"
    headers = [
        *keys,
        *group,
        f"n {base}",
        f"n {current}",
        base,
        current,
        "change",
        f"{result.confidence:.0%} interval",
        "p",
        "q",
        "significant",
    ]
    for column in headers:
        table.add_column(column, justify="left" if column in (*keys, *group) else "right")
    m = result.metric
    for row in result.rows:
        cells = [display.DASH if row.slice[k] is None else str(row.slice[k]) for k in keys]
        if group:
            cells.append(display.DASH if row.group is None else row.group)
        cells += [
            display.count(row.n_base, row.n_base < result.min_n),
            display.count(row.n_current, row.n_current < result.min_n),
            _score(m, row.score_base),
            _score(m, row.score_current),
            _score(m, row.difference, change=True),
            display.interval(row.ci_low, row.ci_high, lambda v: _score(m, v, change=True)),
            display.p_value(row.p_value),
            display.p_value(row.q_value),
            "yes" if row.significant else "no",
        ]
        table.add_row(*cells, style="bold" if row.significant else None)
    return table


def compare_command(
    metric: Annotated[str, typer.Argument(help="nps, csat or ces.")],
    by: By = None,
    period: PeriodOption = None,
    baseline: Annotated[
        str | None,
        typer.Option(help="Groups: compare each group with this one instead of the rest."),
    ] = None,
    base_since: Annotated[
        str | None, typer.Option("--base-since", help="Start of the base window (as --since).")
    ] = None,
    base_until: Annotated[
        str | None, typer.Option("--base-until", help="End of the base window (as --until).")
    ] = None,
    since: Since = None,
    until: Until = None,
    last: Last = None,
    where: Where = None,
    min_n: MinN = 30,
    confidence: Confidence = 0.95,
    alpha: Annotated[
        float, typer.Option(min=0.001, max=0.5, help="False discovery rate (BH q below).")
    ] = 0.05,
    output: Format = OutputFormat.table,
) -> None:
    """Is it real? --period month: the last complete month against the one before (per --by
    slice); --base-since/--base-until: that window against --since/--until/--last; neither:
    each group of the last --by against the rest (or --baseline). Tested, with BH q-values."""
    from cxloop.cli.metrics import _existing_store
    from cxloop.metrics import comparisons

    scope = scope_from_options(since, until, last, where)
    base_scope = None
    if base_since or base_until:
        base_scope = scope_from_options(base_since, base_until)
    result = comparisons.compare(
        settings=_existing_store(),
        metric=metric,
        by=by or [],
        period=period,
        baseline=baseline,
        scope=scope,
        base_scope=base_scope,
        min_n=min_n,
        confidence=confidence,
        alpha=alpha,
    )
    if output is OutputFormat.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    if output is OutputFormat.csv:
        import pandas as pd

        group = {result.group.value: "group"} if result.group else {}
        records = [
            {
                **row.slice,
                **{name: getattr(row, field) for name, field in group.items()},
                **row.model_dump(exclude={"slice", "group"}),
            }
            for row in result.rows
        ]
        sys.stdout.write(pd.DataFrame(records).map(safe_cell).to_csv(index=False))
        return
    console.print(_table(result))
    tested = sum(r.p_value is not None for r in result.rows)
    console.print(
        f"significant: q < {result.alpha:g} (Benjamini–Hochberg over {tested} tests); "
        f"{result.method}"
    )
    if any(min(r.n_base, r.n_current) < result.min_n for r in result.rows):
        console.print(display.small_n_note(result.min_n))
