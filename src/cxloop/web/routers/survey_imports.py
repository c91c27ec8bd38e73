"""Bring a survey's history: upload another tool's response export (and its definition file),
and read any survey's responses in the one documented shape, as JSON or CSV.

Whoever may manage surveys may import (the import creates or versions one); every reader may
export, with personal data in text answers masked for roles without ``read_pii``.
"""

from __future__ import annotations

import inspect
import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, cast
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from cxloop.errors import Invalid, Problem, UnreadableFile
from cxloop.privacy.roles import Permission, allows
from cxloop.surveys import export as survey_export
from cxloop.surveys.export import ResponsesExport
from cxloop.surveys.importers import service as import_service
from cxloop.surveys.importers.model import TOOLS, Tool
from cxloop.surveys.importers.schemas import ImportSummary
from cxloop.web.deps import Reader, SessionDep, SettingsDep, SurveyManager

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"])
MAX_UPLOAD = 200 * 1024 * 1024
"""Bytes one uploaded file may have (a decade of answers is tens of MB)."""
CHUNK = 1024 * 1024
NAME_BYTES = 200
"""Bytes of an upload's saved name (disks hold 255; the summary shows the name)."""


class Format(StrEnum):
    json = "json"
    csv = "csv"


ToolName = StrEnum("ToolName", {name: name for name in ("auto", *TOOLS)})  # type: ignore[misc]


@router.post("/import", response_model=ImportSummary)
def import_responses(
    file: Annotated[UploadFile, File(description="The tool's response export.")],
    session: SessionDep,
    settings: SettingsDep,
    user: SurveyManager,
    definition: Annotated[
        UploadFile | None, File(description="Qualtrics .qsf or LimeSurvey .lss/.lsa.")
    ] = None,
    survey: Annotated[str | None, Form(max_length=64)] = None,
    tool: Annotated[ToolName, Form()] = ToolName["auto"],
    timezone: Annotated[str | None, Form(max_length=64)] = None,
    columns: Annotated[str | None, Form(description="问卷网: column mapping (JSON).")] = None,
    encoding: Annotated[
        str | None, Form(max_length=40, description="A text file's encoding, e.g. cp1252.")
    ] = None,
    date_order: Annotated[
        Literal["auto", "day-first", "month-first"] | None,
        Form(description="How 5/9/22 reads (default: the date_order setting)."),
    ] = None,
) -> ImportSummary:
    """Import an export: the survey created or matched, answers stored, bad rows quarantined
    (listed in ``rejected``); the same file again adds nothing."""
    mapping = _columns(columns)
    with _form_words(), _saved(file, definition) as (path, definition_path):
        summary = import_service.import_export(
            session=session,
            settings=settings,
            path=path,
            tool=None if tool.value == "auto" else cast(Tool, tool.value),
            definition_path=definition_path,
            survey_id=survey or None,
            timezone=timezone or None,
            columns=mapping,
            actor=f"api:{user.username}",
            encoding=encoding or None,
            date_order=date_order,
        )
    return summary.model_copy(update={"notes": [api_words(n) for n in summary.notes]})


_FORM_FIELDS = frozenset(inspect.signature(import_responses).parameters) - {
    "session",
    "settings",
    "user",
}
"""The import's form fields (``file``, ``definition``, ``survey``, ``tool``, ``timezone``…)."""


@router.get("/{survey_id}/responses", response_model=ResponsesExport)
def survey_responses(
    survey_id: str,
    session: SessionDep,
    user: Reader,
    output: Annotated[Format, Query(alias="format", description="json or csv.")] = Format.json,
    completed_only: Annotated[bool, Query(description="Leave partials out.")] = False,
) -> Any:
    """A survey's responses: labels, numbers and texts by question id (texts masked for roles
    without personal data); ``format=csv`` downloads one row per response."""
    exported = survey_export.responses(
        session=session,
        survey_id=survey_id,
        completed_only=completed_only,
        reveal_pii=allows(user.role, Permission.read_pii),
    )
    if output is Format.json:
        return exported
    return Response(
        survey_export.to_csv(exported),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": attachment(f"{survey_id}-responses.csv")},
    )


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` for a download of any name (问卷星 survey ids are Chinese):
    RFC 6266's ``filename*=UTF-8''…`` (RFC 5987 percent-encoding) for browsers, with an ASCII
    ``filename`` fallback for clients that read only that; HTTP headers are Latin-1, so the
    name cannot go in as it is. Written here because Starlette builds this only inside
    ``FileResponse`` (a file on disk), not for a body made in memory."""
    stem, dot, suffix = filename.rpartition(".")
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem if dot else filename).strip("_.")
    fallback = f"{ascii_stem or 'download'}{dot}{suffix if dot else ''}"
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


_OPTION = re.compile(
    r"--([a-z][a-z-]*)"
    rf"(?: ([A-Z]+\b|\w[\w/-]*[\d/-][\w/-]*|(?:{'|'.join(('auto', *TOOLS))})\b))?"
)
"""A CLI option in a service message, with its value when one follows (``--timezone``,
``--survey ID``, ``--encoding latin-1``, ``--tool wenjuan``; not ``--definition to``)."""


def _form_field(name: str) -> str | None:
    """The form field of this endpoint a CLI option stands for (``date-order`` → ``date_order``),
    or None when the endpoint has no such field."""
    field = name.replace("-", "_")
    return field if field in _FORM_FIELDS else None


def api_words(text: str) -> str:
    """A service message (written for the CLI) in the API's words: ``--timezone`` → the
    ``"timezone"`` field, ``--encoding latin-1`` → ``encoding=latin-1``; ``--survey ID`` →
    the ``"survey"`` field. Options the endpoint has no field for stay as written."""

    def say(match: re.Match[str]) -> str:
        field = _form_field(match[1])
        if field is None:
            return match[0]
        value = match[2]
        if value and not value.isupper():
            return f"{field}={value}"
        return f'the "{field}" field'

    return _OPTION.sub(say, text)


@contextmanager
def _form_words() -> Iterator[None]:
    """The import service names CLI options (``--timezone``: the CLI shows its errors as they
    are); an API client gets the names of this endpoint's form fields instead."""
    try:
        yield
    except Invalid as exc:
        problems = [
            Problem(
                (_form_field(p.field[2:]) or p.field) if p.field.startswith("--") else p.field,
                p.value,
                api_words(p.reason),
            )
            for p in exc.problems
        ]
        raise Invalid(problems) from None
    except UnreadableFile as exc:
        raise UnreadableFile(api_words(str(exc))) from None


def _columns(raw: str | None) -> dict[str, Any] | None:
    """The ``columns`` form field: a JSON object, or ``Invalid`` saying why not."""
    if raw is None or not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise Invalid("is not valid JSON", "columns", raw[:200]) from None
    if not isinstance(data, dict) or not data:
        raise Invalid("must be a JSON object: {column in the file: what it is}", "columns")
    return {str(k): v for k, v in data.items()}


@contextmanager
def _saved(file: UploadFile, definition: UploadFile | None) -> Iterator[tuple[Path, Path | None]]:
    """The uploads as files under their own names (the name is the default survey id and is
    how a definition's format is told) in a folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="cxloop-import-") as folder:
        path = _save(file, Path(folder) / "export", "file")
        definition_path = None
        if definition is not None and definition.filename:
            definition_path = _save(definition, Path(folder) / "definition", "definition")
        yield path, definition_path


def _save(upload: UploadFile, folder: Path, field: str) -> Path:
    name = _file_name(upload.filename or "")
    if not name or name in (".", ".."):
        raise Invalid("needs a file name (e.g. survey.csv)", field)
    folder.mkdir()
    target = folder / name
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD:
                raise Invalid(f"is over {MAX_UPLOAD // 1024 // 1024} MB", field, name)
            out.write(chunk)
    if size == 0:
        raise Invalid("is empty", field, name)
    return target


def _file_name(raw: str) -> str:
    """The client's file name as a name the disk holds: its last part, at most ``NAME_BYTES``
    bytes of UTF-8 with its extension kept (it tells the format)."""
    name = Path(raw.replace("\\", "/")).name.strip()
    if len(name.encode()) <= NAME_BYTES:
        return name
    suffix = Path(name).suffix if len(Path(name).suffix) <= 16 else ""
    stem = name[: len(name) - len(suffix)]
    while len((stem + suffix).encode()) > NAME_BYTES:
        stem = stem[:-1]
    return stem.strip() + suffix
