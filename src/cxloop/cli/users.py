"""``cxloop user add|list`` and ``cxloop token create``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxloop.cli.context import console, open_store, unit_of_work
from cxloop.cli.lazy import lazy_module
from cxloop.errors import Invalid
from cxloop.privacy.roles import Role
from cxloop.privacy.schemas import TokenCreate, UserCreate

if TYPE_CHECKING:
    from cxloop.privacy import service as privacy_service
else:  # imported when a command runs: --help starts without SQLAlchemy
    privacy_service = lazy_module("cxloop.privacy.service")

user_app = typer.Typer(help="People who may use cxloop, each with one role.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[Role, typer.Option(help="admin, analyst, agent or viewer.")],
    password: Annotated[
        str | None,
        typer.Option(
            help="For the web login; asked for when omitted and --token-only is not given."
        ),
    ] = None,
    token_only: Annotated[
        bool,
        typer.Option(
            "--token-only",
            help="No password and no web login: the user works through API tokens "
            "(`cxloop token create`).",
        ),
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", hidden=True, help="Old name of --token-only.")
    ] = False,
) -> None:
    """Add a user with a role."""
    token_only = token_only or no_password
    if token_only and password is not None:
        raise Invalid(
            "cannot go with --token-only: a token-only user has no password", "password", "***"
        )
    if password is None and not token_only:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    store = open_store()
    with unit_of_work(store) as session:
        user = privacy_service.create_user(
            session=session, user_in=UserCreate(username=username, password=password, role=role)
        )
        how = "API tokens only" if token_only else "web login and API tokens"
        console.print(f"user {user.username} ({user.role}) added: {how}")


@user_app.command("list")
def user_list() -> None:
    store = open_store()
    with unit_of_work(store) as session:
        table = Table(title="users")
        for column in ("id", "username", "role", "active"):
            table.add_column(column)
        for u in privacy_service.list_users(session=session):
            table.add_row(str(u.id), u.username, u.role, "yes" if u.active else "no")
    console.print(table)


@token_app.command("create")
def token_create(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    days: Annotated[int | None, typer.Option(min=1, help="Expiry in days; none = never.")] = None,
) -> None:
    """Create an API token for a user and print it (the only time it is shown)."""
    store = open_store()
    with unit_of_work(store) as session:
        issued = privacy_service.create_token(
            session=session, token_in=TokenCreate(username=username, name=name, days=days)
        )
    typer.echo(issued.token)
