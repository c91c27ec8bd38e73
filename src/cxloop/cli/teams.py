"""``cxloop teams set|list``: who works the loop's cases, in which team, as agent or lead."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxloop.cli.context import console, existing_store, open_store, unit_of_work
from cxloop.cli.notify import ListFormat
from cxloop.errors import Invalid

if TYPE_CHECKING:
    from cxloop.loop.schemas import TeamRead

teams_app = typer.Typer(
    help="Teams that work cases: leads and members (agents), saved from a YAML file.",
    no_args_is_help=True,
)


def _summary(team: TeamRead) -> str:
    agents = sum(1 for m in team.members if m.role == "agent" and m.active)
    inactive = sum(1 for m in team.members if not m.active)
    parts = [f"{agents} active agent{'s' * (agents != 1)}"]
    if inactive:
        parts.append(f"{inactive} inactive")
    return f"team {team.name}: lead {team.lead or '–'}, " + ", ".join(parts)


@teams_app.command("set")
def set_command(
    file: Annotated[Path, typer.Argument(help="YAML: a list of teams with name, lead, members.")],
) -> None:
    """Create or replace the teams a YAML file lists (whole rosters; other teams stay)."""
    from cxloop.loop import case_access
    from cxloop.loop.hours import read_yaml

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "is not a readable UTF-8 file" if file.is_file() else "is not a file"
        raise Invalid(f"{reason} ({type(exc).__name__})", "FILE", str(file)) from None
    teams_in = case_access.parse_teams(read_yaml(text), where=file.name)
    store = open_store()
    with unit_of_work(store) as session:
        saved = case_access.save_teams(session=session, teams_in=teams_in)
    for team in saved:
        console.print(_summary(team), highlight=False)
        for warning in team.warnings:
            console.print(f"warning: {warning}", highlight=False, markup=False)


@teams_app.command("list")
def list_command(
    output: Annotated[
        ListFormat, typer.Option("--format", help="table or json.")
    ] = ListFormat.table,
) -> None:
    """Teams with their members, roles and open cases (the CLI runs as the local admin)."""
    from cxloop.loop import case_access

    store = existing_store()
    with unit_of_work(store) as session:
        found = case_access.visible_teams(session=session, read_pii=True)
    if output is ListFormat.json:
        sys.stdout.write(
            json.dumps([t.model_dump(mode="json") for t in found], ensure_ascii=False, indent=2)
        )
        sys.stdout.write("\n")
        return
    if not found:
        console.print("no teams yet: save some with `cxloop teams set FILE.yaml`")
        return
    table = Table(title="teams")
    for column in ("team", "lead", "member", "role", "active", "open cases", "e-mail"):
        table.add_column(column, justify="right" if column == "open cases" else "left")
    for team in found:
        for index, m in enumerate(team.members):
            table.add_row(
                team.name if index == 0 else "",
                (team.lead or "–") if index == 0 else "",
                m.name,
                m.role,
                "yes" if m.active else "no",
                str(m.open_cases),
                m.email or "",
            )
        if not team.members:
            table.add_row(team.name, team.lead or "–", "–", "", "", "", "")
    console.print(table)
