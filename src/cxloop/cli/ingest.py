"""``cxloop import``, ``cxloop imports list`` and ``cxloop quarantine list|export``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast, get_args

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cxloop.cli.context import console, open_store, unit_of_work
from cxloop.cli.lazy import lazy_module
from cxloop.csv_cells import safe_cell
from cxloop.errors import Invalid, UnreadableFile
from cxloop.ingest.fields import KINDS, DateOrder, get_kind
from cxloop.ingest.schemas import ImportSummary, QuarantinedRowRead

if TYPE_CHECKING:
    from cxloop.dashboards import freshness
    from cxloop.ingest import service as ingest_service
    from cxloop.ingest import undo as undo_service
    from cxloop.loop import evaluation
else:  # imported when a command runs: --help and option errors start without pandas
    ingest_service = lazy_module("cxloop.ingest.service")
    evaluation = lazy_module("cxloop.loop.evaluation")
    freshness = lazy_module("cxloop.dashboards.freshness")
    undo_service = lazy_module("cxloop.ingest.undo")

quarantine_app = typer.Typer(
    help="Rows that imports rejected, with the reason.", no_args_is_help=True
)
DATE_ORDERS = get_args(DateOrder)
imports_app = typer.Typer(help="Past import runs; undo one.", no_args_is_help=True)


def _defaults(pairs: list[str], option: str = "--set") -> dict[str, str]:
    defaults = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise Invalid("must look like field=value", option, pair)
        defaults[name.strip()] = value.strip()
    return defaults


def import_command(
    kind: Annotated[str, typer.Argument(help="One of: " + ", ".join(KINDS))],
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, XLS, JSON Lines or Parquet file.")],
    mapping: Annotated[
        Path | None,
        typer.Option(help="YAML: 'source column: field', or columns/defaults/values/overrides."),
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="Override the detected encoding.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Fill blanks: the value for rows whose cell is empty or whose file lacks the "
            "field, e.g. --set channel=review (present values are kept).",
        ),
    ] = None,
    force_set: Annotated[
        list[str] | None,
        typer.Option(
            "--force-set",
            help="Override: the value for every row, present or not, e.g. --force-set source=jd.",
        ),
    ] = None,
    date_order: Annotated[
        str | None,
        typer.Option(
            help="How 11/07/2026 reads: auto (decided per file), day-first or month-first. "
            "Default: the date_order setting (auto).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import a file; bad rows are quarantined with the reason, the rest stored (idempotent)."""
    if date_order is not None and date_order not in DATE_ORDERS:
        raise Invalid(
            "is not a date order; use " + ", ".join(DATE_ORDERS), "--date-order", date_order
        )
    get_kind(kind)
    if not file.exists():  # before the store is opened: an error exit stays fast
        raise UnreadableFile(f"{file}: no such file")
    defaults = _defaults(set_ or [])
    overrides = _defaults(force_set or [], "--force-set")
    store = open_store()
    total = ingest_service.count_records(file)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
        transient=True,
    ) as bar:
        task = bar.add_task(f"import {kind}", total=total)
        with store.sessions() as session:
            summary = ingest_service.import_file(
                session=session,
                settings=store.settings,
                kind=kind,
                path=file,
                mapping_path=mapping,
                encoding=encoding,
                defaults=defaults,
                overrides=overrides,
                date_order=cast("DateOrder | None", date_order),
                progress=lambda n: bar.advance(task, n),
            )
            cases = evaluation.after_import(
                session=session, settings=store.settings, kind=kind, run_id=summary.run_id,
                now=dt.datetime.now(dt.UTC),
            )  # fmt: skip
            session.commit()
    store.close()
    snapshot = freshness.refresh_after_import(store.settings)  # None unless the setting is on
    if as_json:
        if cases is None:
            typer.echo(summary.model_dump_json())
        else:
            typer.echo(json.dumps({**summary.model_dump(mode="json"), "cases": cases.model_dump()}))
        return
    _print_summary(summary)
    if cases is not None:
        console.print(cases.sentence(), highlight=False)
    if snapshot is not None:
        console.print(snapshot, highlight=False)


def _print_summary(summary: ImportSummary) -> None:
    table = Table(title=f"{summary.kind} ← {summary.source}")
    for column in ("read", "inserted", "updated", "unchanged", "quarantined"):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            f"{getattr(summary, c):,}"
            for c in ("read", "inserted", "updated", "unchanged", "quarantined")
        )
    )
    console.print(table)
    if summary.linked or summary.identity_conflicts:
        console.print(
            f"linked to customers: {summary.linked:,}; "
            f"identity conflicts (not merged): {summary.identity_conflicts:,}"
        )
    _print_warnings(summary)
    for rejected in summary.rejected[:10]:
        for problem in rejected.problems:
            console.print(
                f"[yellow]row {rejected.row}[/], field [bold]{problem.field}[/]: "
                f"{problem.value!r} {problem.reason}",
                highlight=False,
            )
    if summary.quarantined:
        console.print(
            f"{summary.quarantined:,} row{'s' if summary.quarantined != 1 else ''} quarantined: "
            f"cxloop quarantine list --run {summary.run_id}"
        )
    console.print(f"done in {summary.seconds:.1f} s")


def _print_warnings(summary: ImportSummary) -> None:
    """File decisions first (loud when voice is missing), then the first row warnings."""
    if summary.attributes_only:
        console.print(
            "kept only in attributes (no field): " + ", ".join(summary.attributes_only),
            highlight=False,
        )
    rows = [w for w in summary.warnings if w.row is not None]
    for warning in summary.warnings:
        if warning.row is not None:
            continue
        where = f"{warning.value}: " if warning.value else ""
        console.print(
            f"[bold red]WARNING[/] {where}{warning.reason}"
            if warning.field == "text/score"
            else f"[yellow]note[/] {where}{warning.reason}",
            highlight=False,
        )
    for warning in rows[:10]:
        console.print(
            f"[yellow]warning: row {warning.row}[/], field [bold]{warning.field}[/]: "
            f"{warning.value!r} {warning.reason} (row stored without it)",
            highlight=False,
        )
    if summary.warned > min(len(rows), 10):
        console.print(f"{summary.warned:,} rows stored with a value left out (see --json)")


@quarantine_app.command("list")
def quarantine_list(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    run: Annotated[int | None, typer.Option(help="Only this import run.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show rejected rows: run, row, field, value and reason."""
    store = open_store()
    with unit_of_work(store) as session:
        rows = [
            QuarantinedRowRead.model_validate(r)
            for r in ingest_service.list_quarantine(
                session=session, kind=kind, run_id=run, limit=limit
            )
        ]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False))
        return
    table = Table(title=f"quarantine ({len(rows)} shown)")
    for column in ("run", "kind", "row", "field", "value", "reason"):
        table.add_column(column)
    for r in rows:
        for n, p in enumerate(r.problems):  # every problem of the row, not just the first
            value = "" if p.get("value") is None else str(p["value"])[:40]
            first = n == 0
            table.add_row(
                str(r.import_run_id) if first else "",
                r.kind if first else "",
                str(r.row_number) if first else "",
                str(p.get("field")),
                value,
                str(p.get("reason")),
            )
    console.print(table)


@quarantine_app.command("export")
def quarantine_export(
    output: Annotated[Path, typer.Argument(help="Where to write: .csv or .xlsx.")],
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    run: Annotated[int | None, typer.Option(help="Only this import run.")] = None,
) -> None:
    """Write rejected rows (their own columns, then quarantine_run, _row, _problems) to fix."""
    store = open_store()
    records = []
    with unit_of_work(store) as session:
        offset = 0
        while batch := ingest_service.list_quarantine(
            session=session, kind=kind, run_id=run, limit=5000, offset=offset
        ):
            for r in batch:
                problems = "; ".join(
                    f"{p['field']}: {p['value']!r} {p['reason']}" for p in r.problems
                )
                records.append(  # the row as it was, then cxloop's columns (never overwritten)
                    {
                        **{k: v for k, v in r.raw.items() if not k.startswith("quarantine_")},
                        "quarantine_run": r.import_run_id,
                        "quarantine_kind": r.kind,
                        "quarantine_row": r.row_number,
                        "quarantine_problems": problems,
                    }
                )
            offset += len(batch)
    import pandas as pd

    frame = pd.DataFrame(records).map(safe_cell)  # a bad row's "=…" is shown, never run
    if output.suffix.lower() == ".xlsx":
        frame.to_excel(output, index=False)
    elif output.suffix.lower() == ".csv":
        frame.to_csv(output, index=False, encoding="utf-8-sig")
    else:
        raise Invalid("must end in .csv or .xlsx", "output", str(output))
    console.print(f"wrote {len(frame):,} rows to {output}")


@quarantine_app.command("clear")
def quarantine_clear(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    run: Annotated[int | None, typer.Option(help="Only this import run.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every quarantined row.")] = False,
) -> None:
    """Delete quarantined rows once they are fixed and re-imported."""
    if kind is None and run is None and not all_:
        raise Invalid("say what to clear: --run N, --kind KIND or --all", "quarantine clear", "")
    store = open_store()
    with unit_of_work(store) as session:
        removed = ingest_service.clear_quarantine(session=session, kind=kind, run_id=run)
    console.print(f"removed {removed:,} quarantined rows")


@imports_app.command("undo")
def imports_undo(
    run: Annotated[int, typer.Argument(help="The run id, as `cxloop imports list` shows it.")],
    force: Annotated[
        bool, typer.Option("--force", help="Also a run still marked running (its process died).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Remove what an import run inserted (rows, text features, identities); rows it updated
    cannot be restored and are listed."""
    store = open_store()
    with unit_of_work(store) as session:
        result = undo_service.undo_run(session=session, run_id=run, force=force)
    store.close()
    if as_json:
        typer.echo(result.model_dump_json())
        return
    if result.already_undone:
        console.print(result.message, highlight=False)
        return
    console.print(
        f"import run {result.run_id} ({result.kind} ← {result.source}) undone: {result.message}",
        highlight=False,
    )
    if result.not_restored_keys:
        shown = ", ".join(result.not_restored_keys[:20])
        more = result.not_restored - min(result.not_restored, 20)
        tail = f" and {more:,} more (--json lists the first 100)" if more else ""
        console.print(
            f"[yellow]not restored[/] (updated by this run, earlier values not kept): "
            f"{shown}{tail}",
            highlight=False,
        )


@imports_app.command("list")
def imports_list(limit: Annotated[int, typer.Option(min=1)] = 20) -> None:
    """Recent import runs with their counts."""
    store = open_store()
    with unit_of_work(store) as session:
        runs = ingest_service.list_runs(session=session, limit=limit)
        table = Table(title="imports")
        for column in (
            "run",
            "kind",
            "source",
            "status",
            "read",
            "inserted",
            "updated",
            "unchanged",
            "quarantined",
        ):
            table.add_column(column)
        for r in runs:
            table.add_row(
                str(r.id),
                r.kind,
                r.source_name[-40:],
                r.status,
                f"{r.rows_read:,}",
                f"{r.inserted:,}",
                f"{r.updated:,}",
                f"{r.unchanged:,}",
                f"{r.quarantined:,}",
            )
    console.print(table)
