"""``cxloop metrics nps|csat|ces|responses|sentiment|topic_incidence``, ``cxloop metrics index``
and ``cxloop export parquet``; every metric takes ``--since/--until/--last/--where``.

Ibis and the metric code load inside the commands, so other ``cxloop`` commands start without
them. Tables read through ``cli.display``; csv and json keep full precision.
"""

from __future__ import annotations

import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxloop.cli import display
from cxloop.cli.context import console, existing_store, require_store
from cxloop.cli.filters import Last, Since, Until, Where, scope_from_options
from cxloop.csv_cells import safe_cell

if TYPE_CHECKING:
    import pandas as pd

    from cxloop.config import Settings
    from cxloop.metrics.filters import Scope

metrics_app = typer.Typer(
    help="CX metrics with n and a confidence interval, by slice and period.",
    no_args_is_help=True,
)
export_app = typer.Typer(help="Export the store for other engines.", no_args_is_help=True)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


HELP = {
    "nps": "Net Promoter Score (−100…100): promoters 9–10 minus detractors 0–6.",
    "csat": "CSAT: share answering 4–5 of 1–5, with a Wilson interval, and the mean.",
    "ces": "Customer Effort Score: mean of 1–7 with a t interval, and the share easy (5–7).",
    "responses": "Responses per slice and their share of the period's total.",
    "sentiment": "Mean text sentiment (−1…1) of enriched feedback with text, t interval, and "
    "the shares negative and positive.",
    "topic_incidence": "Share of enriched feedback with text mentioning each topic (Wilson "
    "interval) and its net sentiment.",
}
By = Annotated[
    list[str] | None,
    typer.Option(
        "--by",
        help="Dimension to slice by, repeatable: channel, touchpoint, journey_stage, source, "
        "product, language, account_id, segment, region (the customer's, else the "
        "account's), role (the contact's).",
    ),
]
PeriodOption = Annotated[
    str | None, typer.Option(help="day, week, month or quarter (UTC calendar periods).")
]
MinN = Annotated[
    int, typer.Option("--min-n", min=0, help="Below this n a row is marked * (and greyed).")
]
Confidence = Annotated[float, typer.Option(min=0.5, max=0.999, help="Interval level.")]
Format = Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")]
Level = Annotated[
    str, typer.Option("--level", help="topic_l1 (first level) or topic (full taxonomy path).")
]
IndicesFile = Annotated[
    Path | None,
    typer.Option("--file", help="YAML file of indices (default: the shipped cx_index example)."),
]


def _shown(metric: str, value: float) -> str:
    if math.isnan(value):
        return display.DASH
    if metric == "nps":
        return display.number(value, 1, signed=True)
    if metric in ("csat", "topic_incidence"):
        return display.share(value)
    if metric == "ces":
        return display.number(value, 2)
    if metric == "sentiment":
        return display.number(value, 3, signed=True)
    if metric == "index":
        return display.number(value, 1)
    return display.number(value, 0)


def _key(name: str, value: object, period: str | None) -> str:
    if name == "period":
        return display.period_label(value, period)
    return display.DASH if display.missing(value) or value == "" else str(value)


def _title(metric: str, scope: Scope | None) -> str:
    where = f" · {scope.describe()}" if scope is not None and not scope.empty else ""
    return f"{metric}{where}"


def _table(
    metric: str,
    frame: pd.DataFrame,
    keys: list[str],
    min_n: int,
    confidence: float,
    period: str | None = None,
    scope: Scope | None = None,
) -> Table:
    extras = display.shown_columns(c for c in frame.columns if c not in keys and c not in _STANDARD)
    table = Table(title=_title(metric, scope))
    estimate = [] if metric == "responses" else [metric, f"{confidence:.0%} interval"]
    for column in (*keys, "n", *estimate, *extras):
        table.add_column(column, justify="left" if column in keys else "right")
    for row in frame.to_dict("records"):
        cells = [_key(k, row[k], period) for k in keys]
        cells.append(display.count(row["n"], bool(row["small_n"])))
        if estimate:
            cells.append(_shown(metric, row["score"]))
            cells.append(f"{_shown(metric, row['ci_low'])} … {_shown(metric, row['ci_high'])}")
        cells += [display.cell(name, row[name]) for name in extras]
        table.add_row(*cells, style="dim" if row["small_n"] else None)
    return table


_STANDARD = ("n", "score", "ci_low", "ci_high", "small_n")


def _existing_store() -> Settings:
    """The settings of a store that exists (see ``context.existing_store``)."""
    store = existing_store()
    store.close()
    return store.settings


def _show(
    metric: str,
    frame: pd.DataFrame,
    keys: list[str],
    output: OutputFormat,
    min_n: int,
    confidence: float,
    period: str | None = None,
    scope: Scope | None = None,
) -> None:
    """A metric's DataFrame as CSV or a table (JSON is the service's result model)."""
    if output is OutputFormat.csv:
        if "period" in keys:
            frame["period"] = frame["period"].dt.date
        sys.stdout.write(frame.map(safe_cell).to_csv(index=False))
        return
    if frame.empty:
        console.print(_nothing(metric, scope))
        return
    console.print(_table(metric, frame, keys, min_n, confidence, period, scope))
    if frame["small_n"].any():
        console.print(display.small_n_note(min_n))


def _nothing(metric: str, scope: Scope | None) -> str:
    """ "no responses", and with a scope, where the store's answers are (so an empty ``--last``
    window on an old export explains itself)."""
    said = "no responses" + ("" if metric == "responses" else f" with {metric}")
    if scope is None or scope.empty:
        return said
    from cxloop.metrics import service as metrics_service

    span = metrics_service.store_span(_existing_store())
    stored = f"the store's answers run {span[0]:%Y-%m-%d} … {span[1]:%Y-%m-%d}" if span else "none"
    return f"{said} in {scope.describe()} ({stored})"


def _run(
    metric: str,
    by: list[str] | None,
    period: str | None,
    min_n: int,
    confidence: float,
    output: OutputFormat,
    scope: Scope,
    level: str | None = None,
) -> None:
    from cxloop.metrics import service as metrics_service

    settings = _existing_store()
    if output is OutputFormat.json:
        result = metrics_service.report(
            settings=settings,
            name=metric,
            by=by or [],
            period=period,
            min_n=min_n,
            confidence=confidence,
            level=level,
            scope=scope,
        )
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    frame = metrics_service.compute(
        settings=settings,
        name=metric,
        by=by or [],
        period=period,
        min_n=min_n,
        confidence=confidence,
        level=level,
        scope=scope,
    )
    keys = [*(by or []), *(["period"] if period else []), *([level] if level else [])]
    _show(metric, frame, keys, output, min_n, confidence, period, scope)


def _command(metric: str) -> None:
    def command(
        by: By = None,
        period: PeriodOption = None,
        since: Since = None,
        until: Until = None,
        last: Last = None,
        where: Where = None,
        min_n: MinN = 30,
        confidence: Confidence = 0.95,
        output: Format = OutputFormat.table,
    ) -> None:
        require_store()  # refuse a missing store before the metric code loads
        scope = scope_from_options(since, until, last, where)
        _run(metric, by, period, min_n, confidence, output, scope)

    command.__doc__ = HELP[metric]
    metrics_app.command(metric)(command)


for _name in HELP:
    if _name != "topic_incidence":
        _command(_name)


@metrics_app.command("topic_incidence")
def topic_incidence(
    by: By = None,
    period: PeriodOption = None,
    level: Level = "topic_l1",
    since: Since = None,
    until: Until = None,
    last: Last = None,
    where: Where = None,
    min_n: MinN = 30,
    confidence: Confidence = 0.95,
    output: Format = OutputFormat.table,
) -> None:
    """Share of enriched feedback with text mentioning each topic (Wilson interval) and its
    net sentiment."""
    require_store()  # refuse a missing store before the metric code loads
    scope = scope_from_options(since, until, last, where)
    _run("topic_incidence", by, period, min_n, confidence, output, scope, level=level)


@metrics_app.command("index")
def index(
    name: Annotated[str, typer.Argument(help="Index name in the file (e.g. cx_index).")],
    file: IndicesFile = None,
    by: By = None,
    period: PeriodOption = None,
    since: Since = None,
    until: Until = None,
    last: Last = None,
    where: Where = None,
    min_n: MinN = 30,
    confidence: Confidence = 0.95,
    output: Format = OutputFormat.table,
) -> None:
    """A custom experience index (0…100) from a YAML file, with a delta-method interval."""
    from cxloop.metrics import service as metrics_service

    require_store()  # refuse a missing store before the metric code loads
    scope = scope_from_options(since, until, last, where)
    settings = _existing_store()
    dimensions = by or []
    if output is OutputFormat.json:
        result = metrics_service.index_report(
            settings=settings,
            name=name,
            file=file,
            by=dimensions,
            period=period,
            min_n=min_n,
            confidence=confidence,
            scope=scope,
        )
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    _, frame = metrics_service.compute_index(
        settings=settings,
        name=name,
        file=file,
        by=dimensions,
        period=period,
        min_n=min_n,
        confidence=confidence,
        scope=scope,
    )
    keys = [*(by or []), *(["period"] if period else [])]
    _show("index", frame, keys, output, min_n, confidence, period, scope)


@export_app.command("parquet")
def export_parquet(
    output: Annotated[Path, typer.Option("--output", help="Folder for <table>.parquet files.")],
    include_pii: Annotated[
        bool,
        typer.Option(
            "--include-pii",
            help="Keep the personal columns of feedback (author, author_email, author_phone, "
            "…); left out by default.",
        ),
    ] = False,
) -> None:
    """Write feedback and its text features as Parquet files (for DuckDB over Parquet)."""
    from cxloop.metrics import service as metrics_service

    settings = _existing_store()
    written = metrics_service.export_parquet(
        settings=settings, out_dir=output, include_pii=include_pii
    )
    for path in written:
        console.print(f"wrote {path}")
    if not include_pii:
        console.print("personal columns of feedback left out (--include-pii keeps them)")
