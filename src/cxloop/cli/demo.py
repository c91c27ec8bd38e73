"""``cxloop demo``: a fresh database with a realistic company, served with a login."""

from __future__ import annotations

import secrets
import shutil
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cxloop.api import Store, connect
from cxloop.cli.context import console
from cxloop.config import Settings, get_settings
from cxloop.db.session import session_scope
from cxloop.demo import loop as demo_loop
from cxloop.demo.generator import DemoConfig
from cxloop.demo.loop_files import HOLD_BACK_DAYS
from cxloop.loop.evaluation import EvaluationCounts
from cxloop.privacy import service as privacy_service
from cxloop.privacy.roles import Role
from cxloop.privacy.schemas import UserCreate


def demo_command(
    folder: Annotated[
        Path, typer.Option(help="Where the demo files and database go (recreated each run).")
    ] = Path("cxloop-demo"),
    seed: Annotated[int, typer.Option(help="Same seed, same company.")] = DemoConfig.seed,
    serve: Annotated[bool, typer.Option(help="Serve the API and web page afterwards.")] = True,
    port: Annotated[int | None, typer.Option(help="Default 8000 (CXLOOP_PORT).")] = None,
) -> None:
    """Fresh demo database: a generated company imported like real files, then served."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    database = (folder / "demo.db").resolve()
    settings = get_settings().model_copy(update={"database_url": f"sqlite:///{database}"})
    store = connect(settings=settings)
    table = Table(title="demo import (the same path as real files)")
    for column in ("kind", "file", "read", "inserted", "quarantined", "linked by identity"):
        table.add_column(column, justify="right")
    with console.status("generating and importing the demo company, closing its loop…"):
        built = demo_loop.load_demo_with_loop(
            sessions=store.sessions,
            settings=settings,
            folder=folder / "files",
            config=DemoConfig(seed=seed),
        )
    for s in built.summaries:
        table.add_row(
            s.kind,
            Path(s.source).name,
            f"{s.read:,}",
            f"{s.inserted:,}",
            f"{s.quarantined:,}",
            f"{s.linked:,}",
        )
    console.print(table)
    print_loop(built)
    password = secrets.token_urlsafe(9)
    with session_scope(store.sessions) as session:
        privacy_service.create_user(
            session=session,
            user_in=UserCreate(username="admin", password=password, role=Role.admin),
        )
        token = privacy_service.create_token(
            session=session, token_in=privacy_service.TokenCreate(username="admin", name="demo")
        )
    if serve:
        _warm_drivers(store, settings)
    store.close()
    port = port or settings.port
    url = f"http://{settings.host}:{port}/"
    # plain lines, never wrapped: they are meant to be copied
    typer.echo(f"\ncxloop demo database: {database}")
    if not serve:
        typer.echo(f"serve it with: CXLOOP_DATABASE_URL=sqlite:///{database} cxloop serve")
    typer.echo(f"web page: {url}   login: admin / {password}")
    for user in built.users:
        typer.echo(f"login: {user.name} / {user.password}   ({user.role}: {user.teams})")
    typer.echo(f"API: curl -H 'Authorization: Bearer {token.token}' {url}api/v1/overview")
    typer.echo(f"API docs: {url}docs")
    typer.echo(f"to use this database later: CXLOOP_DATABASE_URL=sqlite:///{database}")
    if serve:
        typer.echo("serving until Ctrl-C …")
        import uvicorn

        from cxloop.web.app import create_app

        served = settings.model_copy(update={"background_jobs": True})  # as `cxloop serve`:
        # the loop's clock keeps warning and escalating the demo's cases as working hours pass
        uvicorn.run(create_app(served), host=settings.host, port=port, log_level="warning")


def _warm_drivers(store: Store, settings: Settings) -> None:
    """Fit the drivers page's default view before serving: the server's clock would otherwise
    fit it in the server's process right after start, and the first pages would wait on it."""
    from cxloop.dashboards import drivers

    started = time.perf_counter()
    with session_scope(store.sessions) as session:
        drivers.warm(session=session, settings=settings)
    typer.echo(f"drivers and outcomes fitted and stored in {time.perf_counter() - started:.0f} s")


def print_loop(built: demo_loop.DemoLoop) -> None:
    """The loop the demo closed: rules, calendar, cases by status, the timers that fired."""
    by_status = " · ".join(f"{status} {n}" for status, n in built.by_status.items())
    lines = [
        f"alert rules: version {built.rules_version}, {built.rules_enabled} enabled "
        "(files/rules.yaml); teams: files/teams.yaml",
        f"SLA policy: {built.policy}",
        f"the newest {HOLD_BACK_DAYS} days of feedback arrived after them. "
        + EvaluationCounts(**built.evaluation).sentence(),
        f"cases: {by_status}",
        f"at warning: case {', '.join(map(str, built.warned)) or '–'}; "
        f"escalated: case {', '.join(map(str, built.escalated)) or '–'}",
    ]
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
