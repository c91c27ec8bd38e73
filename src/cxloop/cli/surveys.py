"""``cxloop surveys validate|create|list|show|archive``: survey definitions from YAML files.

Other ``cxloop surveys`` commands (send, tick, status, on…) live in their owners' modules and are
registered beside these in ``cli.app.SurveyCommands``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from cxloop.cli.context import console, errors, existing_store, open_store, unit_of_work
from cxloop.cli.lazy import lazy_module
from cxloop.errors import Invalid

if TYPE_CHECKING:
    from cxloop.surveys import definitions, service
    from cxloop.surveys.definitions import Question, SurveyDefinition
else:
    definitions = lazy_module("cxloop.surveys.definitions")
    service = lazy_module("cxloop.surveys.service")

File = Annotated[Path, typer.Argument(help="A survey definition (YAML).")]


def _load_or_exit(file: Path) -> SurveyDefinition:
    """The definition in ``file``, or every problem on stderr and exit code 1."""
    try:
        return definitions.load_definition(file)
    except Invalid as exc:
        count = len(exc.problems)
        errors.print(f"{file}: {count} problem{'s' if count != 1 else ''}", highlight=False)
        for p in exc.problems:
            shown = "" if p.value is None or p.value == "" else f" {p.value!r}"
            errors.print(
                f"error: {p.field or 'file'}:{shown} — {p.reason}", highlight=False, soft_wrap=True
            )
        raise typer.Exit(1) from None


def _warn(definition: SurveyDefinition) -> None:
    for p in definitions.warnings(definition):
        console.print(
            f"warning: {p.field}: {p.value!r} — {p.reason}", highlight=False, soft_wrap=True
        )


def validate_command(file: File) -> None:
    """Check a survey definition file; every problem is named by its path."""
    definition = _load_or_exit(file)
    types = ", ".join(f"{q.id} ({q.type})" for q in definition.questions)
    console.print(
        f"{file}: valid — survey {definition.id!r}, {len(definition.questions)} questions: "
        f"{types}; languages {', '.join(definition.languages)}",
        highlight=False,
        soft_wrap=True,
    )
    _warn(definition)


def create_command(file: File) -> None:
    """Store a survey definition; a changed definition becomes a new version."""
    definition = _load_or_exit(file)
    _warn(definition)
    store = open_store()
    with unit_of_work(store) as session:
        saved = service.create(session=session, definition=definition, created_by="cli")
    state = "new" if saved.changed else "unchanged"
    if saved.reactivated:  # an archived survey created again takes answers again
        state = "new, reactivated" if saved.changed else "reactivated"
    console.print(
        f"survey {saved.survey_id} version {saved.current_version} ({state})", highlight=False
    )


def list_command() -> None:
    """Stored surveys with their latest version."""
    store = existing_store()
    with unit_of_work(store) as session:
        surveys = service.list_all(session=session)
    if not surveys:
        console.print("no surveys yet: `cxloop surveys create FILE` stores one")
        return
    table = Table(title="surveys")
    for column in ("survey", "title", "version", "questions", "status", "updated"):
        table.add_column(column, justify="right" if column in ("version", "questions") else "left")
    for s in surveys:
        cells = (
            s.survey_id,
            " / ".join(dict.fromkeys(s.title.values())),  # a plain-string title is both
            str(s.current_version),
            str(s.questions),
            s.status,
            f"{s.updated_at:%Y-%m-%d %H:%M}",
        )
        table.add_row(*(Text(c) for c in cells))  # user text: brackets are not markup
    console.print(table)


def show_command(
    survey: Annotated[str, typer.Argument(help="The survey's id.")],
    version: Annotated[
        int | None, typer.Option(min=1, help="A stored version (default: the current one).")
    ] = None,
    lang: Annotated[
        str | None, typer.Option(help="zh or en (default: the survey's default language).")
    ] = None,
) -> None:
    """A survey's questions in order, with types, options and display logic."""
    if lang is not None and lang not in ("zh", "en"):
        raise Invalid("must be zh or en", "--lang", lang)
    store = existing_store()
    with unit_of_work(store) as session:
        read = service.get(session=session, survey_id=survey)
        number = version or read.current_version
        definition = service.get_version(session=session, survey_id=survey, version=number)
    language = lang or definition.default_language
    title = definition.title.get(language)
    table = Table(title=Text(f"{definition.id} v{number} ({read.status}): {title}"))
    for column in ("#", "id", "type", "required", "text", "show if", "answers"):
        table.add_column(column, overflow="fold")
    for n, q in enumerate(definition.questions, 1):
        cells = (
            str(n),
            q.id,
            q.type,
            "yes" if q.required else "",
            q.text.get(language),
            q.show_if or "",
            _answers(q, language),
        )
        table.add_row(*(Text(c) for c in cells))
    console.print(table)
    if definition.required_roles:
        console.print(f"required roles: {', '.join(definition.required_roles)}", highlight=False)


def archive_command(survey: Annotated[str, typer.Argument(help="The survey's id.")]) -> None:
    """Archive a survey: it sends nothing and takes no new answers; its answers stay."""
    store = existing_store()
    with unit_of_work(store) as session:
        read = service.archive(session=session, survey_id=survey)
    console.print(
        f"survey {read.survey_id} archived at version {read.current_version} "
        "(`cxloop surveys create` with its file makes it active again)",
        highlight=False,
    )


def _answers(q: Question, language: str) -> str:
    """What a question accepts, as a short line (its scale, options or rows)."""
    low, high = q.bounds or (0, 0)
    if q.type in ("nps", "csat", "ces", "rating"):
        return f"{low}–{high}"
    if q.type in ("single", "multiple"):
        shown = [
            f"{o.id}: {o.text.get(language)}{' (+ text)' if o.other else ''}" for o in q.options
        ]
        limits = ""
        if q.type == "multiple" and (q.min_choices or q.max_choices):
            limits = f" [choose {q.min_choices or 0}–{q.max_choices or len(q.options)}]"
        return "; ".join(shown) + limits
    if q.type == "matrix":
        rows = "; ".join(f"{r.id}: {r.text.get(language)}" for r in q.rows)
        return f"{rows} [{low}–{high}]"
    return f"text, at most {q.max_length or 0:,} characters"
