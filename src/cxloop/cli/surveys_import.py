"""``cxloop surveys import`` (another tool's response export → a cxloop survey with its answers)
and ``cxloop surveys responses`` (a survey's answers in the one documented shape).

Options are checked before the store is opened or the file read: an unknown tool, a missing
file, an unknown zone or a survey id cxloop cannot store is one line and exit code 2.
"""

from __future__ import annotations

import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.table import Table
from rich.text import Text

from cxloop.cli.context import console, existing_store, open_store, unit_of_work
from cxloop.cli.lazy import lazy_module
from cxloop.errors import Invalid, UnreadableFile

if TYPE_CHECKING:
    from cxloop.surveys import export as survey_export
    from cxloop.surveys.importers.model import Tool
    from cxloop.surveys.importers.schemas import ImportSummary
else:  # imported when a command runs: --help and option errors start without the store
    survey_export = lazy_module("cxloop.surveys.export")

TOOL_NAMES = ("auto", "qualtrics", "surveymonkey", "limesurvey", "formbricks", "wjx", "wenjuan")
"""``--tool`` values (``cxloop.surveys.importers.model.TOOLS`` plus auto), kept here so option
errors need no import of the importers."""
SURVEY_ID = re.compile(r"^[A-Za-z0-9][\w.-]*$")
"""``definitions.SurveyId``'s rule, so a bad ``--survey`` is refused before any work."""
SHOWN_PROBLEMS = 10


class SummaryFormat(StrEnum):
    text = "text"
    json = "json"


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


def import_command(
    file: Annotated[
        Path, typer.Argument(help="The tool's response export: CSV, TSV, XLSX or XLS.")
    ],
    definition: Annotated[
        Path | None,
        typer.Option(
            help="The survey's definition exported by the tool (Qualtrics .qsf, LimeSurvey "
            ".lss/.lsa): decodes numeric codes into labels."
        ),
    ] = None,
    survey: Annotated[
        str | None,
        typer.Option(
            help="Store into this survey (matched onto its current version when it exists); "
            "default: the tool's survey id or the file name."
        ),
    ] = None,
    tool: Annotated[
        str,
        typer.Option(help="Which tool wrote the file: " + ", ".join(TOOL_NAMES) + "."),
    ] = "auto",
    timezone: Annotated[
        str | None,
        typer.Option(help="Zone of times the file does not state (default: the timezone setting)."),
    ] = None,
    columns: Annotated[
        Path | None,
        typer.Option(
            help="问卷网 or an unknown layout: the column mapping you confirmed (YAML or JSON)."
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="A text file's encoding when sniffing reads it wrong (e.g. cp1252, latin-1, "
            "gbk); default: sniffed (UTF-8, UTF-16, GB18030, Windows-1252)."
        ),
    ] = None,
    date_order: Annotated[
        str | None,
        typer.Option(
            help="How 5/9/22 reads: day-first, month-first or auto (from the file's dates, "
            "month-first when none tells). Default: the date_order setting."
        ),
    ] = None,
    output: Annotated[
        SummaryFormat, typer.Option("--format", help="text or json (the summary).")
    ] = SummaryFormat.text,
) -> None:
    """Import another tool's response export (Qualtrics, SurveyMonkey, LimeSurvey, Formbricks,
    问卷星, 问卷网) as a survey with its answers and feedback; re-importing adds nothing."""
    mapping = _check_options(file, definition, survey, tool, timezone, columns)
    from cxloop.surveys.importers import service as import_service

    store = open_store()
    with store.sessions() as session:
        summary = import_service.import_export(
            session=session,
            settings=store.settings,
            path=file,
            tool=None if tool == "auto" else cast("Tool", tool),
            definition_path=definition,
            survey_id=survey,
            timezone=timezone,
            columns=mapping,
            actor="cli",
            encoding=encoding,
            date_order=date_order,
        )
    store.close()
    if output is SummaryFormat.json:
        sys.stdout.write(summary.model_dump_json(indent=2) + "\n")
        return
    print_summary(summary)


def _check_options(
    file: Path,
    definition: Path | None,
    survey: str | None,
    tool: str,
    timezone: str | None,
    columns: Path | None,
) -> dict[str, Any] | None:
    """Every option problem at once (exit 2), before the store or the file is touched."""
    from cxloop.errors import Problem

    problems: list[Problem] = []
    if tool not in TOOL_NAMES:
        problems.append(Problem("--tool", tool, "is not a tool; use " + ", ".join(TOOL_NAMES)))
    if survey is not None and (len(survey) > 64 or not SURVEY_ID.match(survey)):
        problems.append(
            Problem(
                "--survey",
                survey,
                "is not a survey id: letters, digits, '_', '.', '-', starting with a letter "
                "or digit, at most 64",
            )
        )
    if timezone is not None:
        problems += _zone_problems(timezone)
    for option, path in (("file", file), ("--definition", definition), ("--columns", columns)):
        if path is not None and not path.is_file():
            reason = "is a folder, not a file" if path.is_dir() else "no such file"
            problems.append(Problem(option, str(path), reason))
    if problems:
        raise Invalid(problems)
    return read_columns(columns) if columns is not None else None


def _zone_problems(name: str) -> list[Any]:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from cxloop.errors import Problem

    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return [Problem("--timezone", name, "is not a known IANA zone (e.g. Asia/Shanghai)")]
    return []


def read_columns(path: Path) -> dict[str, Any]:
    """A column mapping file (YAML, of which JSON is a part) as a dict; ``Invalid`` naming the
    file, where in it and why otherwise."""
    from cxloop.surveys.definitions import read_yaml

    try:
        data = read_yaml(path.read_bytes().decode("utf-8-sig"), "--columns")
    except UnicodeDecodeError:
        raise Invalid("is not UTF-8 text", "--columns", str(path)) from None
    except Invalid as exc:
        where = "; ".join(f"{p.field}: {p.reason}" for p in exc.problems)
        raise Invalid(where, "--columns", str(path)) from None
    if not isinstance(data, dict) or not data:
        raise Invalid("must be a mapping: 'column in the file: what it is'", "--columns", str(path))
    return {str(k): v for k, v in data.items()}


def print_summary(summary: ImportSummary) -> None:
    """The summary as a user reads it: what was read, what it became, what was left out."""
    state = "created" if summary.survey_created else "matched"
    read = (  # a mapped file may come from any tool: the mapping, not 问卷网, says how it reads
        f"read through your {summary.layout}"
        if summary.tool == "wenjuan"
        else f"{summary.tool} export, {summary.layout}"
    )
    console.print(
        Text(
            f"{summary.file}: {read}, {summary.value_mode}\n"
            f"survey {summary.survey_id} version {summary.survey_version} ({state}), "
            f"{summary.questions} questions"
            + (f"; times in {summary.timezone}" if summary.timezone else "")
        ),
        soft_wrap=True,
    )
    table = Table(title=f"responses ← {summary.file}")
    counts = ("responses_read", "inserted", "updated", "unchanged", "quarantined")
    for column in (*counts, "feedback_stored"):
        table.add_column(column.replace("_", " "), justify="right")
    table.add_row(*(f"{getattr(summary, c):,}" for c in (*counts, "feedback_stored")))
    console.print(table)
    if summary.excluded:
        left = ", ".join(f"{reason} {n:,}" for reason, n in sorted(summary.excluded.items()))
        console.print(Text(f"left out on purpose (not stored): {left}"))
    if summary.mapped:
        console.print("mapped (column → what it became):")
        for column, meaning in summary.mapped.items():
            console.print(Text(f"  {column} → {meaning}"))
    if summary.kept_raw:
        console.print(Text("kept raw: " + "; ".join(summary.kept_raw)), soft_wrap=True)
    for note in dict.fromkeys(summary.notes):  # one note per question may repeat for a matrix
        console.print(Text(f"note: {note}"), soft_wrap=True)
    for problem in summary.rejected[:SHOWN_PROBLEMS]:
        value = "" if problem.value is None else f"{problem.value!r} "
        console.print(
            Text(f"row {problem.row}, field {problem.field}: {value}{problem.reason}"),
            style="yellow",
            soft_wrap=True,
        )
    if summary.quarantined:
        plural = "s" if summary.quarantined != 1 else ""
        run = f" --run {summary.import_run_id}" if summary.import_run_id else ""
        console.print(
            Text(f"{summary.quarantined:,} row{plural} quarantined: cxloop quarantine list{run}")
        )


def responses_command(
    survey: Annotated[str, typer.Argument(help="The survey's id.")],
    output_format: Annotated[
        ExportFormat, typer.Option("--format", help="json or csv.")
    ] = ExportFormat.json,
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of the screen.")
    ] = None,
    completed_only: Annotated[
        bool, typer.Option("--completed-only", help="Leave partial responses out.")
    ] = False,
) -> None:
    """A survey's responses as JSON or CSV: labels, numbers and texts by question id, in one
    documented shape (imported and collected alike)."""
    if output is not None and output.is_dir():
        raise Invalid("is a folder; name a file", "--output", str(output))
    store = existing_store()
    with unit_of_work(store) as session:
        exported = survey_export.responses(
            session=session, survey_id=survey, completed_only=completed_only
        )
    store.close()
    if output_format is ExportFormat.csv:
        body = survey_export.to_csv(exported)
    else:
        body = survey_export.to_json(exported)
    if output is None:
        sys.stdout.write(body)
        return
    try:  # a BOM so Excel opens Chinese CSV as UTF-8
        encoding = "utf-8-sig" if output_format is ExportFormat.csv else "utf-8"
        output.write_text(body, encoding=encoding, newline="")
    except OSError as exc:
        raise UnreadableFile(f"{output}: cannot write: {exc.strerror}") from None
    count = len(exported.responses)
    console.print(
        Text(f"wrote {count:,} response{'s' if count != 1 else ''} of {survey} to {output}")
    )
