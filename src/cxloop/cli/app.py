"""The ``cxloop`` command: thin commands over the services; errors printed, never tracebacks."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from cxloop.cli import demo as demo_cli
from cxloop.cli import ingest as ingest_cli
from cxloop.cli import users as users_cli
from cxloop.cli.context import console, errors, open_store, unit_of_work
from cxloop.customers import service as customers_service
from cxloop.db import migrate
from cxloop.errors import CxloopError, Invalid

app = typer.Typer(
    help="cxloop: customer experience and voice of customer — say × do.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
identity_app = typer.Typer(help="Identity links between voice and customers.", no_args_is_help=True)
app.command("import")(ingest_cli.import_command)
app.add_typer(ingest_cli.quarantine_app, name="quarantine")
app.add_typer(ingest_cli.imports_app, name="imports")
app.add_typer(users_cli.user_app, name="user")
app.add_typer(users_cli.token_app, name="token")
app.add_typer(identity_app, name="identity")
app.command("demo")(demo_cli.demo_command)


@app.command()
def init() -> None:
    """Create the database, or upgrade it to this version's schema."""
    store = open_store()
    revision = migrate.current_revision(store.engine)
    console.print(
        f"database {store.engine.url.render_as_string(hide_password=True)} at schema {revision}"
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default 127.0.0.1 (CXLOOP_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Default 8000 (CXLOOP_PORT).")] = None,
) -> None:
    """Serve the HTTP API and web pages."""
    import uvicorn

    from cxloop.web.app import create_app

    store = open_store()
    settings = store.settings
    store.close()
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
    )


@identity_app.command("conflicts")
def identity_conflicts(limit: Annotated[int, typer.Option(min=1)] = 50) -> None:
    """Identities claimed by two customers: reported here, never merged automatically."""
    store = open_store()
    with unit_of_work(store) as session:
        table = Table(title="identity conflicts")
        for column in ("kind", "value", "belongs to", "also claimed by", "source"):
            table.add_column(column)
        for c in customers_service.list_conflicts(session=session, limit=limit):
            table.add_row(c.kind, c.value, c.owner, c.claimed_by, c.source)
    console.print(table)


def main() -> None:
    """Run the CLI; domain errors become one clear line on stderr and exit code 2."""
    try:
        app()
    except CxloopError as exc:
        problems = exc.problems if isinstance(exc, Invalid) else None
        if problems:
            for p in problems:
                errors.print(
                    f"error: {p.field or 'input'}: {p.value!r} {p.reason}", highlight=False
                )
        else:
            errors.print(f"error: {exc}", highlight=False)
        sys.exit(2)
    except ValidationError as exc:
        for e in exc.errors():
            field = ".".join(str(x) for x in e["loc"])
            errors.print(f"error: {field}: {e.get('input')!r} {e['msg']}", highlight=False)
        sys.exit(2)
