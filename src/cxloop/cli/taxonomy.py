"""``cxloop taxonomy show|packs|validate|apply|export``: the topic tree feedback is sorted into."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxloop.cli.context import console, errors, open_store, unit_of_work
from cxloop.cli.lazy import lazy_module
from cxloop.cli.text import WORKERS_HELP, Lang, print_enrichment, progress_bar
from cxloop.config import TAXONOMY_PACKS, get_settings
from cxloop.errors import Invalid
from cxloop.text.taxonomy import Taxonomy, load_taxonomy, shipped_taxonomy

if TYPE_CHECKING:
    from cxloop.feedback import enrichment as enrichment_service
else:  # imported when a command runs: --help starts without the store
    enrichment_service = lazy_module("cxloop.feedback.enrichment")

taxonomy_app = typer.Typer(
    help="The topic taxonomy: show, validate, apply (re-analyses only what changed), export.",
    no_args_is_help=True,
)


@taxonomy_app.command("show")
def show(
    file: Annotated[
        Path | None, typer.Option(help="A taxonomy file (default: the store's active one).")
    ] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the topic names.")] = Lang.zh,
) -> None:
    """The topic tree: path, name and number of terms of every topic."""
    if file is not None:
        taxonomy, source = load_taxonomy(file), str(file)
    else:
        store = open_store()
        with unit_of_work(store) as session:
            taxonomy, source = enrichment_service.active_taxonomy(session=session), "active"
        store.close()
    table = Table(title=f"taxonomy {taxonomy.version[:12]} ({source})")
    for column in ("topic", "name", "path", "terms"):
        table.add_column(column, justify="right" if column == "terms" else "left")
    for row in taxonomy.describe():
        depth = row.path.count("/")
        name = row.zh if lang is Lang.zh else row.en
        leaf = row.path.rsplit("/", 1)[-1]
        table.add_row("  " * depth + leaf, name, row.path, str(row.terms))
    console.print(table)


@taxonomy_app.command("packs")
def packs(
    lang: Annotated[Lang, typer.Option(help="Language of the topic names.")] = Lang.zh,
) -> None:
    """The opt-in topic packs, the topics each adds to the shipped default, and whether
    CXLOOP_TAXONOMY_PACKS enables it."""
    enabled = get_settings().taxonomy_packs
    default = set(shipped_taxonomy(()).paths())
    table = Table(title="taxonomy packs (enable with CXLOOP_TAXONOMY_PACKS=name,name)")
    for column in ("pack", "enabled", "topics", "adds"):
        table.add_column(column, justify="right" if column == "topics" else "left")
    for name in TAXONOMY_PACKS:
        added = [r for r in shipped_taxonomy([name]).describe() if r.path not in default]
        shown = [
            f"{r.path} {r.zh if lang is Lang.zh else r.en}" for r in added if "/" not in r.path
        ]
        children = [r.path.split("/", 1)[1] for r in added if "/" in r.path]
        table.add_row(
            name,
            "yes" if name in enabled else "no",
            str(len(added)),
            "; ".join(shown) + (f" ({', '.join(children)})" if children else ""),
        )
    console.print(table)


@taxonomy_app.command("validate")
def validate(file: Annotated[Path, typer.Argument(help="Taxonomy YAML to check.")]) -> None:
    """Check a taxonomy file: every problem with its field path, value and reason (exit 1)."""
    try:
        taxonomy = load_taxonomy(file)
        enrichment_service.check_fits(taxonomy)
    except Invalid as exc:
        for p in exc.problems:
            shown = "" if p.value is None else f"{_short(p.value)} "
            errors.print(f"{p.field or 'file'}: {shown}{p.reason}", highlight=False, soft_wrap=True)
        count = len(exc.problems)
        errors.print(f"{count} problem{'s' if count != 1 else ''} in {file}", highlight=False)
        raise typer.Exit(1) from None
    _print_valid(taxonomy, file)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _print_valid(taxonomy: Taxonomy, file: Path) -> None:
    rows = taxonomy.describe()
    terms = sum(r.terms for r in rows)
    console.print(
        f"{file}: valid — {len(rows)} topics, {terms} terms, version {taxonomy.version[:12]}"
    )


@taxonomy_app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="Taxonomy YAML to make active.")],
    workers: Annotated[int, typer.Option(min=0, help=WORKERS_HELP)] = 0,
) -> None:
    """Make a taxonomy active; re-analyses only feedback containing an added, removed or moved
    term (the rest keep their features). Safe to run again after an interruption."""
    taxonomy = load_taxonomy(file)
    store = open_store()
    with unit_of_work(store) as session, progress_bar() as bar:
        task = bar.add_task("bring feedback up to date", total=None)
        result = enrichment_service.apply_taxonomy(
            session=session,
            taxonomy=taxonomy,
            source_yaml=file.read_text(encoding="utf-8"),
            workers=workers,
            progress=lambda n: bar.advance(task, n),
            checkpoint=session.commit,
        )
    store.close()
    if result.changed:
        console.print(
            f"taxonomy {result.previous_version[:12]} → {result.version[:12]}: "
            f"{result.changed_terms:,} terms added, removed or moved"
        )
    else:
        console.print(f"taxonomy {result.version[:12]} was already active")
    print_enrichment(result.enrichment)


@taxonomy_app.command("export")
def export(
    output: Annotated[
        Path | None, typer.Option(help="Write the YAML here (default: print it).")
    ] = None,
) -> None:
    """The active taxonomy as YAML, to edit and apply again."""
    store = open_store()
    with unit_of_work(store) as session:
        text = enrichment_service.active_taxonomy_yaml(session=session)
    store.close()
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    output.write_text(text, encoding="utf-8")
    console.print(f"wrote the active taxonomy to {output}")
