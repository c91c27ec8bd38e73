"""The ``cxloop`` command: thin commands over the services; errors printed, never tracebacks."""

from __future__ import annotations

import sys
import warnings
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from cxloop.cli import demo as demo_cli
from cxloop.cli import feedback as feedback_cli
from cxloop.cli import ingest as ingest_cli
from cxloop.cli import insights as insights_cli
from cxloop.cli import metric_monitoring as monitoring_cli
from cxloop.cli import metrics as metrics_cli
from cxloop.cli import metrics_compare as compare_cli
from cxloop.cli import targets as targets_cli
from cxloop.cli import taxonomy as taxonomy_cli
from cxloop.cli import text as text_cli
from cxloop.cli import users as users_cli
from cxloop.cli.context import console, errors, open_store, unit_of_work
from cxloop.config import get_settings
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
app.add_typer(text_cli.text_app, name="text")
app.add_typer(taxonomy_cli.taxonomy_app, name="taxonomy")
app.command("demo")(demo_cli.demo_command)
app.add_typer(metrics_cli.metrics_app, name="metrics")
metrics_cli.metrics_app.add_typer(monitoring_cli.targets_app, name="targets")
metrics_cli.metrics_app.add_typer(monitoring_cli.alerts_app, name="alerts")
metrics_cli.metrics_app.add_typer(monitoring_cli.accounts_app, name="accounts")
metrics_cli.metrics_app.command("compare")(compare_cli.compare_command)
app.add_typer(metrics_cli.export_app, name="export")
app.add_typer(insights_cli.insights_app, name="insights")
app.add_typer(targets_cli.targets_app, name="targets")
app.add_typer(feedback_cli.feedback_app, name="feedback")
app.command("channels")(feedback_cli.channels_command)


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


def _say(field: str, value: object, reason: str) -> None:
    shown = "" if value is None or value == "" else f"{value!r} "
    reason = reason.removeprefix("Value error, ")
    errors.print(f"error: {field or 'input'}: {shown}{reason}", highlight=False, soft_wrap=True)


def main() -> None:
    """Run the CLI; known errors become clear lines on stderr and exit code 2."""
    # ibis 12 under pandas 3 warns about an option of its own on every query; not for users
    warnings.filterwarnings("ignore", message="The 'future.infer_string' option is deprecated")
    try:
        app()
    except CxloopError as exc:
        if isinstance(exc, Invalid):
            for p in exc.problems:
                _say(p.field, p.value, p.reason)
        else:
            errors.print(f"error: {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except ValidationError as exc:  # settings or command options that break a rule
        for e in exc.errors():
            field = ".".join(str(x) for x in e["loc"])
            secret = field.endswith(("password", "token"))
            _say(field, None if secret else e.get("input"), e["msg"])
        sys.exit(2)
    except (OperationalError, NoSuchModuleError, ArgumentError) as exc:
        url = get_settings().database_url
        errors.print(
            f"error: cannot use the database {make_url_safe(url)}: "
            f"{str(exc.orig if hasattr(exc, 'orig') and exc.orig else exc).strip()}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)


def make_url_safe(url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an invalid URL)"
