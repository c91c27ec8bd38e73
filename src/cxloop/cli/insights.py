"""``cxloop insights …``: drivers, outcomes, segments, churn, CLV, funnels, paths, cohorts,
association rules and A/B read-outs, each printed with its n, method and caveats.

The analyses load inside each command so other ``cxloop`` commands start without scikit-learn.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cxloop.cli import display
from cxloop.cli.context import console, existing_store, unit_of_work
from cxloop.cli.filters import Last, Since, Until, Where, scope_from_options
from cxloop.csv_cells import safe_cell
from cxloop.errors import Invalid

if TYPE_CHECKING:
    from cxloop.insights.schemas import InsightReport

insights_app = typer.Typer(
    help="What drives experience, what voice does to behaviour, who will churn, what "
    "customers are worth.",
    no_args_is_help=True,
)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


Format = Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")]
AsOf = Annotated[
    dt.datetime | None,
    typer.Option(help="UTC date the analysis looks back from (default: latest activity)."),
]
MAX_SHOWN_COLUMNS = 10
SHOWN = {
    "drivers": ("driver", "importance", "ci_low", "ci_high", "share", "performance", "quadrant"),
    "clv": ("customer_id", "frequency", "p_alive", "expected_purchases", "expected_spend", "clv"),
    "funnel": ("segment", "step", "n", "conversion_from_previous", "ci_low", "ci_high", "drop_off"),
    "cohorts": ("cohort", "period_index", "cohort_size", "n", "retention", "ci_low", "ci_high"),
    "rules": ("antecedents", "consequents", "support", "confidence", "lift", "count"),
    "abtest": ("variant", "n", "estimate", "difference", "ci_low", "ci_high", "p_adjusted"),
    "churn": ("customer_id", "probability", "reasons"),
    "outcomes": (
        "exposure",
        "n_exposed",
        "crude",
        "estimate",
        "ci_low",
        "ci_high",
        "q_value",
        "significant",
        "value_at_stake",
    ),
    "churner_topics": ("topic", "share_churned", "share_stayed", "estimate", "q_value"),
}
"""The columns a terminal table shows per analysis; CSV and JSON carry every column."""


RANKED = frozenset({"probability", "churn_risk"})
"""Columns shown with 4 decimals so that close risks still rank (0.0312 vs 0.0309)."""


MONEY = frozenset({"monetary", "monetary_mean", "expected_spend", "clv", "total_clv"})
"""Columns (and details) in the store's currency, shown with it (``CXLOOP_CURRENCY``)."""


def _cell(value: Any, column: str = "") -> str:
    if column in RANKED and isinstance(value, float) and not math.isnan(value):
        return f"{value:.4f}"
    if column in MONEY and isinstance(value, int | float) and not display.missing(value):
        from cxloop.config import get_settings

        return display.money(value, get_settings().currency, 0 if abs(value) >= 1000 else 2)
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if value.is_integer() and abs(value) < 1e15:
            return f"{value:,.0f}"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    if isinstance(value, list) and column.endswith("_ci") and len(value) == 2:
        return " … ".join(_cell(v) for v in value)  # an interval, rounded like its estimate
    if isinstance(value, list):
        return " + ".join(str(v) for v in value)
    return str(value)


def show(result: InsightReport, output: OutputFormat, *, title: str | None = None) -> None:
    """Print a report as a table (with n, method and caveats), CSV or JSON."""
    if output is OutputFormat.json:
        typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=1))
        return
    if output is OutputFormat.csv:
        import pandas as pd

        frame = pd.DataFrame(result.rows, columns=result.columns)
        typer.echo(frame.map(safe_cell).to_csv(index=False), nl=False)
        return
    preferred = [c for c in SHOWN.get(result.analysis, ()) if c in result.columns]
    columns = preferred or result.columns[:MAX_SHOWN_COLUMNS]
    table = Table(title=title or f"{result.analysis} (n = {result.n:,})")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in result.rows:
        table.add_row(*(_cell(row.get(c), c) for c in columns))
    console.print(table)
    if len(result.columns) > len(columns):
        hidden = ", ".join(c for c in result.columns if c not in columns)
        console.print(f"more columns with --format csv or json: {hidden}", style="dim")
    for key, value in result.details.items():
        console.print(f"{key}: {_cell(value, key) if not isinstance(value, dict) else value}")
    console.print(f"method: {result.method}", style="dim")
    for caveat in result.caveats:
        console.print(f"caveat: {caveat}", style="dim")


def _settings() -> Any:
    store = existing_store()
    store.close()
    return store.settings


@insights_app.command("drivers")
def drivers_command(
    outcome: Annotated[str, typer.Option(help="nps, csat, ces or rating")] = "nps",
    min_mentions: Annotated[int, typer.Option(min=1, help="Leave out rarer topics.")] = 30,
    boot: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for intervals.")] = 200,
    since: Since = None,
    until: Until = None,
    last: Last = None,
    where: Where = None,
    output: Format = OutputFormat.table,
) -> None:
    """Key drivers: which negatively mentioned topics move the score, and what to fix first."""
    from cxloop.insights import analyses

    result = analyses.drivers(
        settings=_settings(),
        outcome=outcome,
        min_mentions=min_mentions,
        n_boot=boot,
        scope=scope_from_options(since, until, last, where),
    )
    show(result, output)


@insights_app.command("outcomes")
def outcomes_command(
    outcome: Annotated[str, typer.Option(help="churn, repurchase, orders or spend")] = "churn",
    confounder: Annotated[
        list[str] | None,
        typer.Option(
            "--confounder",
            help="Adjust for this (repeatable); default depends on the outcome, e.g. segment, "
            "orders_before, tenure_days.",
        ),
    ] = None,
    method: Annotated[str, typer.Option(help="regression (g-computation) or ipw")] = "regression",
    window: Annotated[int, typer.Option(min=7, max=730, help="Days after the feedback.")] = 90,
    min_customers: Annotated[int, typer.Option(min=5, help="Leave out rarer topics.")] = 30,
    boot: Annotated[int, typer.Option(min=20, max=2000, help="Bootstrap resamples.")] = 200,
    reverse: Annotated[
        bool, typer.Option(help="Instead: what did churned members say before, vs stayers.")
    ] = False,
    as_of: AsOf = None,
    since: Since = None,
    until: Until = None,
    last: Last = None,
    where: Where = None,
    output: Format = OutputFormat.table,
) -> None:
    """What saying something (a complaint or praise of a topic, an intent, a flag, a low NPS)
    does to behaviour afterwards, adjusted for confounders."""
    from cxloop.insights import voice_reports

    scope = scope_from_options(since, until, last, where)
    settings = _settings()
    if reverse:
        show(
            voice_reports.churner_topics(
                settings=settings, min_customers=min_customers, as_of=as_of, scope=scope
            ),
            output,
        )
        return
    result = voice_reports.outcomes(
        settings=settings,
        outcome=outcome,
        confounders=confounder,
        method=method,
        window_days=window,
        min_customers=min_customers,
        n_boot=boot,
        as_of=as_of,
        scope=scope,
    )
    show(result, output)


@insights_app.command("account-churn")
def account_churn_command(
    role: Annotated[str, typer.Option(help="Contact role whose answers are compared.")] = (
        "decision_maker"
    ),
    output: Format = OutputFormat.table,
) -> None:
    """B2B: NPS of one role at accounts that then churned, against accounts that renewed."""
    from cxloop.insights import voice_reports

    show(voice_reports.account_churn_voice(settings=_settings(), role=role), output)


@insights_app.command("clv")
def clv_command(
    calibration_end: Annotated[
        dt.datetime | None, typer.Option(help="Default: last order.")
    ] = None,
    horizon: Annotated[int, typer.Option(min=1, help="Weeks ahead.")] = 52,
    discount: Annotated[float, typer.Option(min=0, max=1, help="Discount rate per week.")] = 0.01,
    top: Annotated[int, typer.Option(min=1)] = 20,
    output: Format = OutputFormat.table,
) -> None:
    """Customer lifetime value: BG/NBD purchases × Gamma–Gamma spend, discounted."""
    from cxloop.insights import analyses

    result = analyses.clv(
        settings=_settings(),
        calibration_end=calibration_end,
        horizon=horizon,
        discount_rate=discount,
        top=top,
    )
    show(result, output, title=f"top {top} customers by CLV (of {result.n:,})")


@insights_app.command("segments")
def segments_command(
    method: Annotated[str, typer.Option(help="rfm, clusters or lifecycle")] = "rfm",
    as_of: AsOf = None,
    since: Since = None,
    until: Until = None,
    last: Last = None,
    where: Where = None,
    output: Format = OutputFormat.table,
) -> None:
    """Customer segments: RFM names, k-means clusters described in words, or lifecycle stages
    (--where segment/region; --until is the as-of date; RFM counts orders since --since)."""
    from cxloop.insights import analyses

    scope = scope_from_options(since, until, last, where)
    show(analyses.segments(settings=_settings(), method=method, as_of=as_of, scope=scope), output)


@insights_app.command("churn")
def churn_command(
    as_of: AsOf = None,
    horizon: Annotated[int, typer.Option(min=7, help="Days ahead the risk is for.")] = 90,
    evaluate: Annotated[bool, typer.Option(help="Cross-validate before scoring.")] = True,
    accept_weak_model: Annotated[
        bool,
        typer.Option(
            "--accept-weak-model",
            help="Store scores even when the cross-validated ROC-AUC interval reaches 0.6 or "
            "lower (or was not evaluated); recorded with the scores.",
        ),
    ] = False,
    top: Annotated[int, typer.Option(min=1)] = 20,
    output: Format = OutputFormat.table,
) -> None:
    """Train on past members, store a churn risk for every active member, show the riskiest.

    Refuses (exit 2) when the cross-validated ROC-AUC interval reaches 0.6 or lower."""
    from cxloop.insights import service as insights_service

    store = existing_store()
    with unit_of_work(store) as session:
        run = insights_service.score_churn(
            session=session,
            settings=store.settings,
            as_of=as_of,
            horizon_days=horizon,
            evaluate=evaluate,
            accept_weak_model=accept_weak_model,
        )
    if output is OutputFormat.table:
        auc = f"{run.cv_roc_auc:.3f}" if run.cv_roc_auc is not None else "not evaluated"
        if run.cv_auc_low is not None and run.cv_auc_high is not None:
            auc += f" (95 % interval {run.cv_auc_low:.3f}–{run.cv_auc_high:.3f})"
        console.print(
            f"model {run.model_version}: trained on {run.trained_on:,} members "
            f"({run.churn_rate:.1%} cancelled), scored {run.scored:,}; "
            f"cross-validated ROC-AUC {auc}"
        )
        for caveat in run.caveats:
            console.print(f"caveat: {caveat}", style="dim")
    show(insights_service.churn_risks(settings=store.settings, top=top), output)


@insights_app.command("churn-cv")
def churn_cv_command(
    file: Annotated[Path, typer.Argument(help="CSV with one row per customer.")],
    target: Annotated[str, typer.Option(help="The churn column (yes/no, 0/1, true/false).")],
    folds: Annotated[int, typer.Option(min=2, max=20)] = 5,
    seeds: Annotated[int, typer.Option(min=1, max=10, help="Repeats with other seeds.")] = 3,
) -> None:
    """How well cxloop's churn model predicts on any customer table (cross-validated)."""
    import pandas as pd

    from cxloop.insights.churn import ChurnModel

    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise Invalid(f"cannot be read as CSV: {exc}", "file", str(file)) from None
    result = ChurnModel().cross_validate(frame, target=target, folds=folds, seeds=range(seeds))
    table = Table(title=f"{file.name}: {result.n:,} rows, {result.base_rate:.1%} churned")
    for column in ("model", "metric", "estimate", "sd", "ci_low", "ci_high"):
        table.add_column(column)
    for row in result.table.to_dict("records"):
        table.add_row(
            *(_cell(row[c]) for c in ("model", "metric", "estimate", "sd")),
            _cell(row["ci_low"]),
            _cell(row["ci_high"]),
        )
    console.print(table)
    console.print(f"method: {result.method}", style="dim")
    console.print(f"caveat: {result.caveats}", style="dim")


@insights_app.command("funnel")
def funnel_command(
    steps: Annotated[str, typer.Option(help="Event types in order, comma-separated.")],
    window: Annotated[str, typer.Option(help="Conversion window from the first step.")] = "7D",
    by: Annotated[str | None, typer.Option(help="segment or region")] = None,
    since: Since = None,
    until: Until = None,
    last: Last = None,
    where: Where = None,
    output: Format = OutputFormat.table,
) -> None:
    """Ordered funnel over stored events: who reaches each step, conversion, drop-off
    (--since/--until on the events' time, --where segment/region of the customer)."""
    from cxloop.insights import analyses

    wanted = [s.strip() for s in steps.split(",") if s.strip()]
    scope = scope_from_options(since, until, last, where)
    show(
        analyses.funnel(settings=_settings(), steps=wanted, window=window, by=by, scope=scope),
        output,
    )


@insights_app.command("paths")
def paths_command(
    start: Annotated[str, typer.Option(help="Event type a path starts at.")],
    end: Annotated[str, typer.Option(help="Event type a path ends at.")],
    max_steps: Annotated[int, typer.Option(min=2, max=20)] = 6,
    top: Annotated[int, typer.Option(min=1)] = 10,
    output: Format = OutputFormat.table,
) -> None:
    """The most frequent event sequences between two events, within a session."""
    from cxloop.insights import analyses

    show(
        analyses.paths(settings=_settings(), start=start, end=end, max_steps=max_steps, top=top),
        output,
    )


@insights_app.command("cohorts")
def cohorts_command(
    period: Annotated[str, typer.Option(help="day, week, month or quarter")] = "month",
    source: Annotated[str, typer.Option(help="orders or events")] = "orders",
    output: Format = OutputFormat.table,
) -> None:
    """Retention by acquisition cohort."""
    from cxloop.insights import analyses

    show(analyses.cohorts(settings=_settings(), period=period, source=source), output)


@insights_app.command("rules")
def rules_command(
    baskets: Annotated[
        str, typer.Option(help="topics (per feedback) or orders (per customer)")
    ] = "topics",
    min_support: Annotated[float, typer.Option(min=0.0001, max=1)] = 0.01,
    min_confidence: Annotated[float, typer.Option(min=0, max=1)] = 0.2,
    top: Annotated[int, typer.Option(min=1)] = 30,
    output: Format = OutputFormat.table,
) -> None:
    """Association rules: topics mentioned together, or products bought together."""
    from cxloop.insights import analyses

    result = analyses.rules(
        settings=_settings(),
        baskets=baskets,
        min_support=min_support,
        min_confidence=min_confidence,
        top=top,
    )
    show(result, output)


@insights_app.command("abtest")
def abtest_command(
    file: Annotated[Path, typer.Argument(help="CSV with a variant column and a metric column.")],
    variant: Annotated[str, typer.Option(help="The variant column.")],
    metric: Annotated[str, typer.Option(help="nps:COLUMN, share:COLUMN or mean:COLUMN")],
    control: Annotated[str | None, typer.Option(help="Default: 'control' or the first.")] = None,
    output: Format = OutputFormat.table,
) -> None:
    """A/B read-out: each variant against control with an interval, a test fitting the metric,
    Benjamini–Hochberg across variants and a sample-ratio check."""
    import pandas as pd

    from cxloop.insights.abtest import ab_test
    from cxloop.insights.schemas import report

    kind, _, column = metric.partition(":")
    if kind not in ("nps", "share", "mean") or not column:
        raise Invalid("must be nps:COLUMN, share:COLUMN or mean:COLUMN", "metric", metric)
    try:
        frame = pd.read_csv(file)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise Invalid(f"cannot be read as CSV: {exc}", "file", str(file)) from None
    if control is not None and frame[variant].dtype != object and variant in frame:
        frame[variant] = frame[variant].astype(str)
    result = ab_test(frame, variant_col=variant, metric=(kind, column), control=control)
    show(
        report(
            "abtest",
            result.table,
            n=result.n,
            method=result.method,
            caveats=result.caveats,
            details={
                "control": result.control,
                "sample_ratio_p": result.srm_p_value,
                "sample_ratio_mismatch": result.sample_ratio_mismatch,
            },
        ),
        output,
    )
