"""``cxloop targets …``: saved target lists over voice and behaviour."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from cxloop.cli.context import console, existing_store, unit_of_work
from cxloop.errors import Invalid

targets_app = typer.Typer(
    help="Target lists: who to act on, from what they say and what they do.",
    no_args_is_help=True,
)
AsOf = Annotated[
    dt.datetime | None,
    typer.Option(help="Evaluate as of this UTC time (default: the latest activity in the store)."),
]


def _load(path: Path) -> Any:
    """A YAML or JSON file as data, or ``Invalid`` naming the file and the parse error."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise Invalid(f"cannot be read: {exc.strerror}", "file", str(path)) from None
    except yaml.YAMLError as exc:
        raise Invalid(f"is not valid YAML: {exc}", "file", str(path)) from None


def _show_preview(name: str, preview: Any) -> None:
    table = Table(title=f"{name}: {preview.matched:,} of {preview.customers:,} customers")
    table.add_column("condition")
    table.add_column("customers left", justify="right")
    for step in preview.steps:
        table.add_row(step.condition, f"{step.remaining:,}")
    console.print(table)
    if preview.sample:
        sample = Table(title=f"first {len(preview.sample)} (highest churn risk first)")
        columns = [c for c in preview.sample[0] if c not in HIDDEN]
        for column in columns:
            sample.add_column(column, overflow="fold")
        for row in preview.sample:
            sample.add_row(*(_cell(row[c], c) for c in columns))
        console.print(sample)
    for caveat in preview.caveats:
        console.print(f"note: {caveat}", style="dim")


HIDDEN = frozenset({"churn_model", "churn_model_auc"})
"""Repeated on every row; the table states the model once, in a note."""
DIGITS = {"churn_risk": 4, "churn_model_auc": 3, "last_nps": 0}
"""Churn risks with 4 decimals, so close ones still rank (0.0312 above 0.0309)."""


def _cell(value: object, column: str = "") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, list):
        return "; ".join(map(str, value)) or "–"
    if isinstance(value, float):
        return f"{value:.{DIGITS[column]}f}" if column in DIGITS else f"{value:,.2f}"
    return str(value)


@targets_app.command("create")
def create_command(
    file: Annotated[Path, typer.Argument(help="YAML with name, query and optional schedule.")],
) -> None:
    """Save a target list from a YAML definition (see the README for the fields)."""
    from cxloop.act import service as act_service

    definition = act_service.parse_definition(_load(file))
    store = existing_store()
    with unit_of_work(store) as session:
        saved = act_service.create(
            session=session, list_in=definition, created_by="cli", settings=store.settings
        )
    console.print(f"saved target list {saved.name!r} (refresh it with `cxloop targets refresh`)")


@targets_app.command("preview")
def preview_command(
    what: Annotated[str, typer.Argument(help="A saved list's name, or a YAML definition file.")],
    as_of: AsOf = None,
    sample: Annotated[int, typer.Option(min=0, max=100)] = 10,
) -> None:
    """Count who a list would hold now, condition by condition, without saving anything."""
    from cxloop.act import service as act_service

    store = existing_store()
    path = Path(what)
    with unit_of_work(store) as session:
        if path.suffix.lower() in (".yaml", ".yml", ".json") and path.exists():
            query = act_service.parse_definition(_load(path)).query
            name = path.stem
        else:
            query = act_service.get(session=session, name=what).query
            name = what
        preview = act_service.preview(
            settings=store.settings, query=query, as_of=as_of, sample=sample, session=session
        )
    _show_preview(name, preview)


@targets_app.command("list")
def list_command() -> None:
    """Saved target lists with their size at the last refresh."""
    from cxloop.act import service as act_service

    store = existing_store()
    with unit_of_work(store) as session:
        rows = act_service.list_all(session=session)
    table = Table(title="target lists")
    for column in ("name", "members", "refreshed", "every", "webhook", "description"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.name,
            "–" if r.member_count is None else f"{r.member_count:,}",
            r.refreshed_at.strftime("%Y-%m-%d %H:%M") if r.refreshed_at else "never",
            f"{r.refresh_hours} h" if r.refresh_hours else "–",
            "yes" if r.webhook_url else "–",
            r.description or "",
        )
    console.print(table)


@targets_app.command("refresh")
def refresh_command(
    name: Annotated[str, typer.Argument(help="The list to refresh.")],
    as_of: AsOf = None,
    push: Annotated[bool, typer.Option(help="POST the members to the list's webhook.")] = True,
) -> None:
    """Re-run a list's query, store its members, and push them to its webhook if it has one."""
    from cxloop.act import service as act_service

    store = existing_store()
    with unit_of_work(store) as session:
        result = act_service.refresh(
            session=session, settings=store.settings, name=name, as_of=as_of, push=push
        )
    console.print(
        f"{result.name}: {result.members:,} members as of {result.as_of:%Y-%m-%d %H:%M} "
        f"(+{result.added:,} −{result.removed:,})" + (", pushed" if result.pushed else "")
    )
    for basis in result.churn_models:
        console.print(f"note: {basis.summary}", style="dim")
    if result.push_error:
        raise Invalid(result.push_error, "webhook", name)


@targets_app.command("refresh-due")
def refresh_due_command() -> None:
    """Refresh every list whose schedule is due: run it from cron or a timer."""
    from cxloop.act import service as act_service

    store = existing_store()
    with unit_of_work(store) as session:
        results = act_service.refresh_due(session=session, settings=store.settings)
    for r in results:
        if r.error:
            console.print(f"{r.name}: not refreshed: {r.error}")
            continue
        failed = f" (push failed: {r.push_error})" if r.push_error else ""
        console.print(f"{r.name}: {r.members:,} members{failed}")
    if not results:
        console.print("no list is due")
    if any(r.error for r in results):
        raise typer.Exit(1)  # a scheduler sees the failure; the other lists were refreshed


@targets_app.command("members")
def members_command(
    name: Annotated[str, typer.Argument()],
    limit: Annotated[int, typer.Option(min=1)] = 20,
    output: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """The members stored by the list's last refresh (ids and non-personal facts)."""
    from cxloop.act import service as act_service

    store = existing_store()
    with unit_of_work(store) as session:
        frame = act_service.members(session=session, name=name)
        about = act_service.about(session=session, name=name)
    if output == "csv":
        typer.echo(act_service.to_csv(frame), nl=False)
        return
    if output == "json":
        typer.echo(json.dumps(json.loads(frame.to_json(orient="records")), ensure_ascii=False))
        return
    table = Table(title=f"{name}: {len(frame):,} members (first {min(limit, len(frame))})")
    columns = [c for c in frame.columns if c not in HIDDEN]
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in frame.head(limit).to_dict("records"):
        table.add_row(*(_cell(row[c], c) for c in columns))
    console.print(table)
    for field, value in about:
        if field == "churn model":
            console.print(f"note: {value}", style="dim")


@targets_app.command("export")
def export_command(
    name: Annotated[str, typer.Argument()],
    path: Annotated[Path, typer.Argument(help="Output file, .csv or .xlsx")],
) -> None:
    """Write the list's members to CSV or Excel."""
    from cxloop.act import service as act_service

    store = existing_store()
    with unit_of_work(store) as session:
        count = act_service.export(session=session, name=name, path=path)
        about = act_service.about(session=session, name=name)
    console.print(f"wrote {count:,} members to {path}")
    for field, value in about:
        if field == "churn model":
            console.print(f"note: {value}", style="dim")


@targets_app.command("delete")
def delete_command(name: Annotated[str, typer.Argument()]) -> None:
    """Delete a saved list and its members."""
    from cxloop.act import service as act_service

    store = existing_store()
    with unit_of_work(store) as session:
        act_service.remove(session=session, name=name)
    console.print(f"deleted target list {name!r}")
