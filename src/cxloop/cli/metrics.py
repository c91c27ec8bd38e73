"""``cxloop metrics nps|csat|ces|responses|sentiment|topic_incidence``, ``cxloop metrics index``
and ``cxloop export parquet``.

Ibis and the metric code load inside the commands, so other ``cxloop`` commands start without
them.
"""

from __future__ import annotations

import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxloop.cli.context import console, existing_store
from cxloop.config import Settings

if TYPE_CHECKING:
    import pandas as pd

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
MinN = Annotated[int, typer.Option("--min-n", min=0, help="Below this n a row is greyed.")]
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
        return "–"
    if metric == "nps":
        return f"{value:+.1f}"
    if metric == "csat":
        return f"{value:.1%}"
    if metric == "ces":
        return f"{value:.2f}"
    if metric == "sentiment":
        return f"{value:+.3f}"
    if metric == "topic_incidence":
        return f"{value:.1%}"
    if metric == "index":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def _extra(name: str, value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.1%}" if "share" in name else f"{value:.2f}"
    return str(value)


def _table(
    metric: str, frame: pd.DataFrame, keys: list[str], min_n: int, confidence: float
) -> Table:
    extras = [c for c in frame.columns if c not in keys and c not in _STANDARD]
    table = Table(title=f"{metric} (rows with n < {min_n} greyed)")
    estimate = [] if metric == "responses" else [metric, f"{confidence:.0%} interval"]
    for column in (*keys, "n", *estimate, *extras):
        table.add_column(column, justify="left" if column in keys else "right")
    for row in frame.to_dict("records"):
        cells = [
            row[k].date().isoformat() if k == "period" else str(row[k] if row[k] else "–")
            for k in keys
        ]
        cells.append(f"{row['n']:,}")
        if estimate:
            cells.append(_shown(metric, row["score"]))
            cells.append(f"{_shown(metric, row['ci_low'])} … {_shown(metric, row['ci_high'])}")
        cells += [_extra(name, row[name]) for name in extras]
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
) -> None:
    """A metric's DataFrame as CSV or a table (JSON is the service's result model)."""
    if output is OutputFormat.csv:
        if "period" in keys:
            frame["period"] = frame["period"].dt.date
        sys.stdout.write(frame.to_csv(index=False))
        return
    if frame.empty:
        console.print("no responses" + ("" if metric == "responses" else f" with {metric}"))
        return
    console.print(_table(metric, frame, keys, min_n, confidence))


def _run(
    metric: str,
    by: list[str] | None,
    period: str | None,
    min_n: int,
    confidence: float,
    output: OutputFormat,
    level: str | None = None,
) -> None:
    from cxloop.metrics import service as metrics_service

    settings = _existing_store()
    dimensions = by or []
    if output is OutputFormat.json:
        result = metrics_service.report(
            settings=settings,
            name=metric,
            by=dimensions,
            period=period,
            min_n=min_n,
            confidence=confidence,
            level=level,
        )
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    frame = metrics_service.compute(
        settings=settings,
        name=metric,
        by=dimensions,
        period=period,
        min_n=min_n,
        confidence=confidence,
        level=level,
    )
    keys = [*(by or []), *(["period"] if period else []), *([level] if level else [])]
    _show(metric, frame, keys, output, min_n, confidence)


def _command(metric: str) -> None:
    def command(
        by: By = None,
        period: PeriodOption = None,
        min_n: MinN = 30,
        confidence: Confidence = 0.95,
        output: Format = OutputFormat.table,
    ) -> None:
        _run(metric, by, period, min_n, confidence, output)

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
    min_n: MinN = 30,
    confidence: Confidence = 0.95,
    output: Format = OutputFormat.table,
) -> None:
    """Share of enriched feedback with text mentioning each topic (Wilson interval) and its
    net sentiment."""
    _run("topic_incidence", by, period, min_n, confidence, output, level=level)


@metrics_app.command("index")
def index(
    name: Annotated[str, typer.Argument(help="Index name in the file (e.g. cx_index).")],
    file: IndicesFile = None,
    by: By = None,
    period: PeriodOption = None,
    min_n: MinN = 30,
    confidence: Confidence = 0.95,
    output: Format = OutputFormat.table,
) -> None:
    """A custom experience index (0…100) from a YAML file, with a delta-method interval."""
    from cxloop.metrics import service as metrics_service

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
    )
    keys = [*(by or []), *(["period"] if period else [])]
    _show("index", frame, keys, output, min_n, confidence)


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
