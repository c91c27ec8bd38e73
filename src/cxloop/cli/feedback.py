"""``cxloop feedback list|show`` and ``cxloop channels``: the verbatims behind every number.

The store and the feedback service load inside the commands, so other ``cxloop`` commands
start without them. The CLI runs as the local admin: personal data is shown unless
``--mask-pii`` asks for what an analyst or viewer would see.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cxloop.cli.filters import Last, Since, Until, Where

if TYPE_CHECKING:
    from rich.console import Console

    from cxloop.feedback.schemas import FeedbackFilter, FeedbackItem, FeedbackPage


def _console() -> Console:
    from cxloop.cli.context import console

    return console


def _errors() -> Console:
    """The CLI's stderr console; imported when printing so ``--help`` loads no store code."""
    from cxloop.cli.context import errors

    return errors


feedback_app = typer.Typer(
    help="Read stored feedback with its text features, filtered.", no_args_is_help=True
)
PAGE = 1000
"""Rows per query when ``--all`` pages through everything."""
TEXT_WIDTH = 60
"""Characters of text a table row shows (csv and json keep it whole)."""


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _many(help_text: str) -> Any:
    return typer.Option(help=help_text + " Repeatable: any of the values.")


Format = Annotated[
    OutputFormat,
    typer.Option("--format", help="table (text shortened), csv or json (everything in full)."),
]
MaskPii = Annotated[
    bool,
    typer.Option(
        "--mask-pii", help="Mask personal data as analysts and viewers see it (l***@example.com)."
    ),
]
Values = list[str] | None


def _filter(
    where: Values, since: str | None, until: str | None, last: str | None, **fields: Any
) -> FeedbackFilter:
    """The options as a ``FeedbackFilter``: the time window and ``--where`` parsed by the
    metrics' rules (so ``--last 30d`` reads the same rows a metric does), then every field."""
    from cxloop.feedback.schemas import FeedbackFilter
    from cxloop.metrics.filters import WHERE_COLUMNS, parse_scope

    for name, text, end in (("since", since, False), ("until", until, True)):
        _check_range(name, text, end)
    scope = parse_scope(
        since, until, last, where or (), now=dt.datetime.now(dt.UTC).replace(tzinfo=None)
    )
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    for column, chosen in scope.columns().items():
        name = WHERE_COLUMNS.get(column, column)
        values[name] = (*values.get(name, ()), *chosen)
    return FeedbackFilter(since=scope.since, until=scope.until, **values)


def _check_range(name: str, text: str | None, end: bool) -> None:
    """A bound whose offset pushes it outside the years 1–9999 is a clear error, not a crash."""
    from cxloop.errors import Invalid
    from cxloop.metrics.filters import parse_moment

    if text is None or not text.strip():
        return
    try:
        parse_moment(text, field=name, end=end)
    except OverflowError:
        raise Invalid("is out of range once converted to UTC", name, text) from None


@feedback_app.command("list")
def list_command(
    since: Since = None,
    until: Until = None,
    last: Last = None,
    where: Where = None,
    channel: Annotated[Values, _many("Channel as stored (`cxloop channels` lists them).")] = None,
    touchpoint: Annotated[Values, _many("Touchpoint.")] = None,
    segment: Annotated[Values, _many("The customer's segment, else its account's.")] = None,
    account: Annotated[Values, _many("Account id.")] = None,
    customer: Annotated[Values, _many("Customer id.")] = None,
    topic: Annotated[
        Values, _many("Topic path (delivery/speed), zh/en name (物流, Delivery); subtopics count.")
    ] = None,
    aspect: Annotated[
        Values, _many("topic:sentiment, e.g. delivery:negative or 物流:negative.")
    ] = None,
    sentiment: Annotated[Values, _many("positive, neutral or negative (the whole text).")] = None,
    intent: Annotated[Values, _many("complaint, praise, suggestion, question or none.")] = None,
    flag: Annotated[Values, _many("churn_intent, escalation or safety.")] = None,
    min_score: Annotated[float | None, typer.Option(help="Lowest score kept.")] = None,
    max_score: Annotated[float | None, typer.Option(help="Highest score kept.")] = None,
    score_field: Annotated[
        str, typer.Option(help="The score --min/--max-score bound: nps, csat, ces or rating.")
    ] = "nps",
    search: Annotated[
        str | None, typer.Option(help="Text or title containing this, any case (中文 too).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Rows to show.")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="Rows to skip (newest first).")] = 0,
    all_: Annotated[
        bool, typer.Option("--all", help="Every matching row (pages through).")
    ] = False,
    output: Format = OutputFormat.table,
    mask_pii: MaskPii = False,
) -> None:
    """Feedback matching every filter, newest first, with language, sentiment, topics and
    their sentiment, intent, flags and emotions as stored."""
    from cxloop.cli.context import require_store

    require_store()  # a missing store is refused before the filters load the metric code
    from cxloop.feedback import service as feedback_service

    filters = _filter(
        where,
        since,
        until,
        last,
        channel=channel or (),
        touchpoint=touchpoint or (),
        segment=segment or (),
        account_id=account or (),
        customer_id=customer or (),
        topic=topic or (),
        aspect=aspect or (),
        sentiment=sentiment or (),
        intent=intent or (),
        flag=flag or (),
        min_score=min_score,
        max_score=max_score,
        score_field=score_field,
        search=search,
    )
    from cxloop.cli.context import existing_store, unit_of_work

    store = existing_store()
    with unit_of_work(store) as session:
        page = feedback_service.list_feedback(
            session=session,
            filters=filters,
            limit=PAGE if all_ else limit,
            offset=offset,
            reveal_pii=not mask_pii,
        )
        for note in page.notes:
            _errors().print(f"note: {note}", highlight=False, soft_wrap=True)
        out = _Output(output, page)
        out.add(page.items)
        final = page.items[-1] if page.items else None
        while all_ and final is not None and offset + out.shown < page.total:
            more = feedback_service.list_feedback(
                session=session,
                filters=filters,
                limit=PAGE,
                reveal_pii=not mask_pii,
                count=False,
                after=final,
            )
            out.add(more.items)
            final = more.items[-1] if more.items else None
        out.close()
    if not out.shown:
        raise typer.Exit(1)


class _Output:
    """Writes pages as they come: csv and json stream (``--all`` holds no more than a page in
    memory); the table is printed at the end."""

    def __init__(self, output: OutputFormat, page: FeedbackPage) -> None:
        self.output, self.page, self.shown = output, page, 0
        self.rows: list[FeedbackItem] = []
        if output is OutputFormat.csv:
            self.writer = csv.DictWriter(sys.stdout, fieldnames=csv_columns(), lineterminator="\n")
            self.writer.writeheader()
        elif output is OutputFormat.json:
            sys.stdout.write('{"items": [')

    def add(self, items: list[FeedbackItem]) -> None:
        if self.output is OutputFormat.csv:
            self.writer.writerows(csv_row(i) for i in items)
        elif self.output is OutputFormat.json:
            for n, item in enumerate(items, start=self.shown):
                sys.stdout.write(("," if n else "") + item.model_dump_json())
        else:
            self.rows += items
        self.shown += len(items)

    def close(self) -> None:
        page = self.page
        if self.output is OutputFormat.json:
            tail = {
                "total": page.total,
                "limit": max(page.limit, self.shown),
                "offset": page.offset,
                "notes": page.notes,
            }
            sys.stdout.write("], " + json.dumps(tail, ensure_ascii=False)[1:] + "\n")
        elif self.output is OutputFormat.table:
            _print_table(page, self.rows)


def _print_table(page: FeedbackPage, items: list[FeedbackItem]) -> None:
    if not items:
        hint = " (see the notes above)" if page.notes else ""
        _errors().print(f"no feedback matches these filters{hint}", highlight=False)
        return
    first = page.offset + 1
    table = Table(
        title=f"feedback {first:,}–{page.offset + len(items):,} of {page.total:,}, newest first"
    )
    table.add_column("created (UTC)", min_width=10)
    table.add_column("id", no_wrap=True)
    table.add_column("channel\nscore", min_width=6)
    table.add_column("feeling", min_width=8)
    table.add_column("topics", overflow="fold", min_width=8, max_width=24)
    table.add_column("text", overflow="fold", min_width=12, max_width=TEXT_WIDTH)
    for item in items:
        table.add_row(
            item.created_at.strftime("%Y-%m-%d\n%H:%M"),
            item.feedback_id,
            f"{item.channel}\n{_score(item)}",
            _feeling(item),
            _topics(item, "\n", short=True),
            _short(item.text),
        )
    _console().print(table)
    if page.total > page.offset + len(items):
        _console().print(
            f"{page.total - page.offset - len(items):,} more: --offset "
            f"{page.offset + len(items)}, or --all --format csv for everything",
            style="dim",
        )


def _short(text: str | None) -> str:
    if not text:
        return "–"
    flat = " ".join(text.split())
    return flat if len(flat) <= TEXT_WIDTH else flat[: TEXT_WIDTH - 1] + "…"


def _score(item: FeedbackItem) -> str:
    """The first score the row has (csv, json and `show` give them all)."""
    for name in ("nps", "csat", "ces", "rating"):
        if (value := getattr(item, name)) is not None:
            return f"{name} {value:g}"
    return "–"


def _feeling(item: FeedbackItem) -> str:
    """Sentiment with its score, then intent and flags (``!churn_intent``), a line each."""
    f = item.features
    if f is None:
        return "not analysed"
    lines = [f"{f.sentiment} {f.sentiment_score:+.2f}"]
    lines += [f.intent] if f.intent != "none" else []
    return "\n".join(lines + [f"!{flag}" for flag in f.flags])


SHORT = {"positive": "+", "neutral": "~", "negative": "-"}
"""Marks for a topic's sentiment in a table cell: ASCII, so they survive piping."""


def _topics(item: FeedbackItem, joiner: str, *, short: bool = False) -> str:
    f = item.features
    if f is None:
        return "" if joiner == ";" else "–"
    if short:
        return joiner.join(f"{SHORT.get(t.sentiment, '?')}{t.topic}" for t in f.topics) or "–"
    return joiner.join(f"{t.topic}:{t.sentiment}" for t in f.topics)


FEATURE_CSV_COLUMNS = (
    "language",
    "sentiment",
    "sentiment_score",
    "intent",
    "flags",
    "emotions",
    "aspects",
    "keywords",
)


def csv_columns() -> list[str]:
    """An item's own fields (from its schema, so a new field is never left out), its text
    features flattened, then ``attributes`` as JSON."""
    from cxloop.feedback.schemas import FeedbackItem

    own = [n for n in FeedbackItem.model_fields if n not in ("features", "attributes")]
    return [*own, *FEATURE_CSV_COLUMNS, "attributes"]


def csv_row(item: FeedbackItem) -> dict[str, Any]:
    """One item as a flat row: lists joined by ``;``, aspects as ``topic:sentiment;…``; a
    text a spreadsheet would run as a formula (``=HYPERLINK(…)``) starts with ``'``."""
    from cxloop.csv_cells import safe_row

    row = item.model_dump(mode="json", exclude={"features", "attributes"})
    f = item.features
    row |= {
        "language": f.language if f else None,
        "sentiment": f.sentiment if f else None,
        "sentiment_score": f.sentiment_score if f else None,
        "intent": f.intent if f else None,
        "flags": ";".join(f.flags) if f else None,
        "emotions": ";".join(f.emotions) if f else None,
        "aspects": _topics(item, ";") if f else None,
        "keywords": ";".join(f.keywords) if f else None,
        "attributes": json.dumps(item.attributes, ensure_ascii=False) if item.attributes else None,
    }
    return safe_row(row)


@feedback_app.command("show")
def show_command(
    feedback_id: Annotated[str, typer.Argument(help="The id `cxloop feedback list` shows.")],
    output: Format = OutputFormat.table,
    mask_pii: MaskPii = False,
) -> None:
    """One feedback in full: its fields, its text and every stored text feature."""
    from cxloop.cli.context import existing_store, unit_of_work
    from cxloop.feedback import service as feedback_service

    store = existing_store()
    with unit_of_work(store) as session:
        item = feedback_service.get_feedback(
            session=session, feedback_id=feedback_id, reveal_pii=not mask_pii
        )
    if output is OutputFormat.json:
        typer.echo(json.dumps(item.model_dump(mode="json"), ensure_ascii=False))
        return
    if output is OutputFormat.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=csv_columns(), lineterminator="\n")
        writer.writeheader()
        writer.writerow(csv_row(item))
        return
    table = Table(title=f"feedback {item.feedback_id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    fields = item.model_dump(exclude={"features"}, exclude_none=True)
    for name, value in fields.items():
        shown = value.strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, dt.datetime) else value
        table.add_row(name, str(shown))
    f = item.features
    if f is None:
        table.add_row("features", "not analysed yet (`cxloop text enrich`)")
    else:
        table.add_row("language", f.language + (" (mixed zh/en)" if f.mixed else ""))
        table.add_row("sentiment", f"{f.sentiment} {f.sentiment_score:+.3f}")
        table.add_row("intent", f.intent)
        table.add_row("flags", ", ".join(f.flags) or "–")
        table.add_row("emotions", ", ".join(f.emotions) or "–")
        table.add_row("topics", _topics(item, ", ") or "–")
        for a in f.aspects:
            table.add_row("aspect", f"{a.topic} {a.sentiment} {a.score:+.2f}: {a.clause}")
        table.add_row("keywords", ", ".join(f.keywords) or "–")
        if not f.current:
            table.add_row("note", "the text changed since it was analysed: features are stale")
    _console().print(table)


def channels_command(
    since: Since = None,
    until: Until = None,
    last: Last = None,
    where: Where = None,
    output: Format = OutputFormat.table,
) -> None:
    """Channel values as stored, with how many feedback rows carry each (most first)."""
    from cxloop.feedback import service as feedback_service

    filters = _filter(where, since, until, last)
    from cxloop.cli.context import existing_store, unit_of_work

    store = existing_store()
    with unit_of_work(store) as session:
        counts = feedback_service.channel_counts(session=session, filters=filters)
    if output is OutputFormat.json:
        typer.echo(json.dumps([c.model_dump() for c in counts], ensure_ascii=False))
    elif output is OutputFormat.csv:
        writer = csv.DictWriter(
            sys.stdout, fieldnames=["channel", "n", "share"], lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(c.model_dump() for c in counts)
    elif counts:
        table = Table(title="feedback by channel", caption=f"{sum(c.n for c in counts):,} rows")
        table.add_column("channel")
        table.add_column("n", justify="right")
        table.add_column("share", justify="right")
        for c in counts:
            table.add_row(c.channel, f"{c.n:,}", f"{c.share:.1%}")
        _console().print(table)
    if not counts:
        _errors().print("no feedback is stored in this window", highlight=False)
        raise typer.Exit(1)
