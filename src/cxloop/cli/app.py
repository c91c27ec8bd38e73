"""The ``cxloop`` command: thin commands over the services; errors printed, never tracebacks."""

from __future__ import annotations

import sys
from functools import cache
from typing import Annotated

import typer

from cxloop.cli.lazy import Lazy, LazyGroup
from cxloop.errors import CxloopError, Invalid


class Commands(LazyGroup):
    """``cxloop``'s sub-commands, imported when run (``cxloop --help`` imports none of them)."""

    lazy = {
        "import": Lazy(
            "cxloop.cli.ingest:import_command",
            "Import a file; bad rows are quarantined with the reason, the rest stored "
            "(idempotent).",
            "command",
        ),
        "demo": Lazy(
            "cxloop.cli.demo:demo_command",
            "Fresh demo database: a generated company imported like real files, then served.",
            "command",
        ),
        "channels": Lazy(
            "cxloop.cli.feedback:channels_command",
            "Channel values as stored, with how many feedback rows carry each (most first).",
            "command",
        ),
        "quarantine": Lazy(
            "cxloop.cli.ingest:quarantine_app", "Rows that imports rejected, with the reason."
        ),
        "imports": Lazy("cxloop.cli.ingest:imports_app", "Past import runs; undo one."),
        "user": Lazy("cxloop.cli.users:user_app", "People who may use cxloop, each with one role."),
        "token": Lazy("cxloop.cli.users:token_app", "API tokens (stored hashed; shown once)."),
        "text": Lazy(
            "cxloop.cli.text:text_app",
            "Text analytics: language, sentiment, topics, intent, emotion, keywords (zh + en).",
        ),
        "taxonomy": Lazy(
            "cxloop.cli.taxonomy:taxonomy_app",
            "The topic taxonomy: show, validate, apply (re-analyses only what changed), export.",
        ),
        "metrics": Lazy(
            "cxloop.cli.app:metrics_app",
            "CX metrics with n and a confidence interval, by slice and period.",
            "factory",
        ),
        "export": Lazy("cxloop.cli.metrics:export_app", "Export the store for other engines."),
        "analytics": Lazy(
            "cxloop.cli.analytics:analytics_app",
            "The analytics snapshot (DuckDB over Parquet) dashboards read at scale.",
        ),
        "insights": Lazy(
            "cxloop.cli.insights:insights_app",
            "What drives experience, what voice does to behaviour, who will churn, what "
            "customers are worth.",
        ),
        "targets": Lazy(
            "cxloop.cli.targets:targets_app",
            "Target lists: who to act on, from what they say and what they do.",
        ),
        "feedback": Lazy(
            "cxloop.cli.feedback:feedback_app",
            "Read stored feedback with its text features, filtered.",
        ),
        "notify": Lazy(
            "cxloop.cli.notify:notify_app",
            "Notifications: queued mails and webhooks, dead letters, resends.",
        ),
        "teams": Lazy(
            "cxloop.cli.teams:teams_app",
            "Teams that work cases: leads and members (agents), saved from a YAML file.",
        ),
        "cases": Lazy(
            "cxloop.cli.cases:cases_app",
            "Cases: open by hand, the queue by priority and SLA left, one case, and its actions.",
        ),
        "rules": Lazy(
            "cxloop.cli.rules:rules_app",
            "Alert rules: check, save as versions, show, and dry-run over past feedback.",
        ),
        "surveys": Lazy(
            "cxloop.cli.app:surveys_app",
            "Surveys: definitions, distribution, reminders and response rates.",
        ),
        "loop": Lazy(
            "cxloop.cli.app:loop_app",
            "The loop's clock and health: SLA warnings and escalations, notices, follow-ups.",
        ),
        "dashboards": Lazy(
            "cxloop.cli.dashboards:dashboards_app",
            "Dashboards: fit the slow views ahead (stored results).",
        ),
        "reports": Lazy(
            "cxloop.cli.reports:reports_app",
            "Reports: export a view as CSV/XLSX, the overview as HTML/PDF, scheduled mails.",
        ),
    }


class SurveyCommands(LazyGroup):
    """``cxloop surveys``' commands live in several modules (one per owner); each registers
    with one line here: ``"name": Lazy("cxloop.cli.module:function", "help line", "command")``
    (or kind ``app`` for a sub-group). The help line must equal the command's docstring's
    first paragraph (tests/cli/test_surveys_cli.py checks every entry)."""

    lazy = {
        "validate": Lazy(
            "cxloop.cli.surveys:validate_command",
            "Check a survey definition file; every problem is named by its path.",
            "command",
        ),
        "create": Lazy(
            "cxloop.cli.surveys:create_command",
            "Store a survey definition; a changed definition becomes a new version.",
            "command",
        ),
        "list": Lazy(
            "cxloop.cli.surveys:list_command",
            "Stored surveys with their latest version.",
            "command",
        ),
        "show": Lazy(
            "cxloop.cli.surveys:show_command",
            "A survey's questions in order, with types, options and display logic.",
            "command",
        ),
        "import": Lazy(
            "cxloop.cli.surveys_import:import_command",
            "Import another tool's response export (Qualtrics, SurveyMonkey, LimeSurvey, "
            "Formbricks, 问卷星, 问卷网) as a survey with its answers and feedback; re-importing "
            "adds nothing.",
            "command",
        ),
        "responses": Lazy(
            "cxloop.cli.surveys_import:responses_command",
            "A survey's responses as JSON or CSV: labels, numbers and texts by question id, in "
            "one documented shape (imported and collected alike).",
            "command",
        ),
        "archive": Lazy(
            "cxloop.cli.surveys:archive_command",
            "Archive a survey: it sends nothing and takes no new answers; its answers stay.",
            "command",
        ),
        "status": Lazy(
            "cxloop.cli.surveys_status:status_command",
            "A survey's funnel per distribution, its response rate with an interval, and B2B "
            "completeness by account and role (missing roles marked).",
            "command",
        ),
        "rates": Lazy(
            "cxloop.cli.surveys_status:rates_command",
            "Response rates (completed / delivered) with intervals, by segment, role, account, "
            "channel, survey or distribution.",
            "command",
        ),
        "send": Lazy(
            "cxloop.cli.surveys_send:send_command",
            "Send a survey to a target list, customers matching --where, an account's roles, or "
            "as an anonymous link; skipped recipients are counted by reason.",
            "command",
        ),
        "tick": Lazy(
            "cxloop.cli.surveys_send:tick_command",
            "Run the survey jobs once: triggers, scheduled sends, reminders, expiries, owner "
            "alerts and answers into feedback, then the outbox (cron this, or let `cxloop serve` "
            "run it).",
            "command",
        ),
        "links": Lazy(
            "cxloop.cli.surveys_send:links_command",
            "Write a distribution's personal links to a CSV file again (skipped recipients left "
            "out).",
            "command",
        ),
        "on": Lazy(
            "cxloop.cli.surveys_triggers:on_command",
            "Send a survey after each event of a kind, after a delay (a standing distribution).",
            "command",
        ),
        "triggers": Lazy(
            "cxloop.cli.surveys_triggers:triggers_command",
            "Standing distributions sent after events, with their events and invitations.",
            "command",
        ),
    }


surveys_app = typer.Typer(
    cls=SurveyCommands,
    help="Surveys: definitions, distribution, reminders and response rates.",
    no_args_is_help=True,
)


class LoopCommands(LazyGroup):
    """``cxloop loop``'s commands, one module per owner (the help line is the command's
    docstring's first paragraph, as for ``cxloop surveys``)."""

    lazy = {
        "tick": Lazy(
            "cxloop.cli.loop:tick_command",
            "Run the loop's jobs once: alert rules on new feedback, SLA warnings and escalations "
            "with their notices, follow-ups, then the outbox (cron this, or let `cxloop serve` "
            "run it).",
            "command",
        ),
        "health": Lazy(
            "cxloop.cli.loop_health:health_command",
            "Loop health: response and resolution times, SLA compliance, backlog, reopen, "
            "verification and recovery rates, and whether recovered customers stay.",
            "command",
        ),
    }


loop_app = typer.Typer(
    cls=LoopCommands,
    help="The loop's clock and health: SLA warnings and escalations, notices, follow-ups.",
    no_args_is_help=True,
)


app = typer.Typer(
    cls=Commands,
    help="cxloop: customer experience and voice of customer — say × do.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
identity_app = typer.Typer(help="Identity links between voice and customers.", no_args_is_help=True)
app.add_typer(identity_app, name="identity")


@cache
def metrics_app() -> typer.Typer:
    """``cxloop metrics``: its own commands plus monitoring and comparison, from three modules."""
    from cxloop.cli import metric_monitoring as monitoring_cli
    from cxloop.cli import metrics as metrics_cli
    from cxloop.cli import metrics_compare as compare_cli

    metrics_cli.metrics_app.add_typer(monitoring_cli.targets_app, name="targets")
    metrics_cli.metrics_app.add_typer(monitoring_cli.alerts_app, name="alerts")
    metrics_cli.metrics_app.add_typer(monitoring_cli.accounts_app, name="accounts")
    metrics_cli.metrics_app.command("compare")(compare_cli.compare_command)
    return metrics_cli.metrics_app


@app.command()
def init() -> None:
    """Create the database, or upgrade it to this version's schema."""
    from cxloop.cli.context import console, open_store
    from cxloop.db import migrate

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

    from cxloop.cli.context import open_store
    from cxloop.web import access_log
    from cxloop.web.app import create_app

    store = open_store()
    settings = store.settings.model_copy(update={"background_jobs": True})  # survey jobs too
    store.close()
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        log_config=access_log.log_config(),  # link tokens masked: /s/AXMA…[masked]
    )


@identity_app.command("conflicts")
def identity_conflicts(limit: Annotated[int, typer.Option(min=1)] = 50) -> None:
    """Identities claimed by two customers: reported here, never merged automatically."""
    from rich.table import Table

    from cxloop.cli.context import console, open_store, unit_of_work
    from cxloop.customers import service as customers_service

    store = open_store()
    with unit_of_work(store) as session:
        table = Table(title="identity conflicts")
        for column in ("kind", "value", "belongs to", "also claimed by", "source"):
            table.add_column(column)
        for c in customers_service.list_conflicts(session=session, limit=limit):
            table.add_row(c.kind, c.value, c.owner, c.claimed_by, c.source)
    console.print(table)


def _say(field: str, value: object, reason: str) -> None:
    from cxloop.cli.context import errors

    shown = "" if value is None or value == "" else f"{value!r} "
    reason = reason.removeprefix("Value error, ")
    errors.print(f"error: {field or 'input'}: {shown}{reason}", highlight=False, soft_wrap=True)


def main() -> None:
    """Run the CLI; known errors become clear lines on stderr and exit code 2."""
    try:
        app()
    except CxloopError as exc:
        from cxloop.cli.context import errors

        if isinstance(exc, Invalid):
            for p in exc.problems:
                _say(p.field, p.value, p.reason)
        else:
            errors.print(f"error: {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except Exception as exc:
        if not _reported(exc):
            raise
        sys.exit(2)


def _reported(exc: Exception) -> bool:
    """Print a settings/option rule or a database failure as lines; False for anything else.

    A library not imported yet cannot have raised: its exceptions are looked up in
    ``sys.modules`` instead of importing pydantic and SQLAlchemy for every command.
    """
    from cxloop.cli.context import errors

    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(exc, pydantic.ValidationError):
        for e in exc.errors():  # settings or command options that break a rule
            field = ".".join(str(x) for x in e["loc"])
            secret = field.endswith(("password", "token", "webhooks"))  # URLs carry tokens
            _say(field, None if secret else e.get("input"), e["msg"])
        return True
    failures = sys.modules.get("sqlalchemy.exc")
    if failures is None or not isinstance(
        exc, (failures.OperationalError, failures.NoSuchModuleError, failures.ArgumentError)
    ):
        return False
    from cxloop.config import get_settings

    url = get_settings().database_url
    reason = getattr(exc, "orig", None) or exc
    errors.print(
        f"error: cannot use the database {make_url_safe(url)}: {str(reason).strip()}",
        highlight=False,
        soft_wrap=True,
    )
    return True


def make_url_safe(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an invalid URL)"
