"""``cxloop user add|list`` and ``cxloop token create``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cxloop.cli.context import console, open_store, unit_of_work
from cxloop.privacy import service as privacy_service
from cxloop.privacy.roles import Role
from cxloop.privacy.schemas import TokenCreate, UserCreate

user_app = typer.Typer(help="People who may use cxloop, each with one role.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[Role, typer.Option(help="admin, analyst, agent or viewer.")],
    password: Annotated[
        str | None,
        typer.Option(
            help="For the web login; asked for when omitted and --no-password is not given."
        ),
    ] = None,
    no_password: Annotated[bool, typer.Option(help="API tokens only, no web login.")] = False,
) -> None:
    """Add a user with a role."""
    if password is None and not no_password:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    store = open_store()
    with unit_of_work(store) as session:
        user = privacy_service.create_user(
            session=session, user_in=UserCreate(username=username, password=password, role=role)
        )
        console.print(f"user {user.username} ({user.role}) added")


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
