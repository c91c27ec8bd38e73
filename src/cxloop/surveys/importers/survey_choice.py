"""Which survey an export fills: the one named, else the survey already holding its responses
(a second download of one export is not a second survey), else an id made from the tool's
survey id or the file's name without the dates and copies a tool or browser add."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.errors import Invalid
from cxloop.surveys.importers.model import ParsedExport
from cxloop.surveys.importers.store import external_id
from cxloop.surveys.models import SurveyResponse

_SURVEY_ID = re.compile(r"^[A-Za-z0-9][\w.-]*$")
_NOT_ID = re.compile(r"[^\w.-]+")
_WJX_SUFFIX = re.compile(r"_[0-3]$")
"""问卷星 names its downloads ``<title>_0.xls`` (按选项文本), ``_2`` (按选项序号), ``_3``."""
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DOWNLOAD_SUFFIXES = (
    re.compile(r"\s*\(\d{1,3}\)$"),  # a browser's second copy: "export (1).csv"
    # Qualtrics: "<survey>_March 28, 2024_10.15" (spaces may arrive as "+")
    re.compile(
        rf"_(?:{_MONTHS})[ +]\d{{1,2}},?[ +]\d{{4}}_\d{{1,2}}[.:]\d{{2}}(?:[.:]\d{{2}})?$", re.I
    ),
    # dated downloads: "<survey>_2024-03-28", "_20240328_1015" (a date, not any 8 digits; six
    # digits are left alone: a LimeSurvey sid, and SurveyMonkey's "Data_All_220905" says nothing
    # else — a second download of it is found by its response ids instead)
    re.compile(
        r"[ _-]+(?:(?:19|20)\d\d-?(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12]\d|3[01]))"
        r"(?:[ _T-]+\d{1,2}[.:-]?\d{2}(?:[.:-]?\d{2})?)?$"
    ),
)
"""Dates and times a tool or browser adds to a download's name: two downloads of one survey
must name the same survey."""
HOLDER_SAMPLE = 500
"""Response ids looked up to find the survey that already holds an export's responses (one
query; a re-download of the same export shares its first ids)."""


def survey_for(
    session: Session, parsed: ParsedExport, default: str, named: str | None
) -> tuple[str, str | None]:
    """The survey to import into, and a note when the choice needs one.

    Unnamed, it is the survey that already holds these responses (same tool, same response
    ids), so a second download of one export under another name is not a second survey with
    every score counted twice; else ``default``. Two surveys holding them are refused: the
    user names one. A named survey is used as named, with a note if another holds them too."""
    found = _holders(session, parsed)
    if named is not None:
        others = {sid: n for sid, n in found.items() if sid != named}
        if not others:
            return named, None
        listed = ", ".join(f"{sid} ({n})" for sid, n in others.items())
        return named, (
            f"responses of this export are stored in survey {listed} too (counted among the "
            f"first {HOLDER_SAMPLE} response ids): metrics over both count them twice"
        )
    if not found or default in found:
        return default, None
    if len(found) == 1:
        (holder, n), *_ = found.items()
        return holder, (
            f"matched survey {holder} by its response ids ({n} of this export's first "
            f"{HOLDER_SAMPLE} ids are stored there), not a new survey {default}; name "
            "another with --survey"
        )
    listed = ", ".join(f"{sid} ({n} responses)" for sid, n in found.items())
    raise Invalid(
        f"is not named, and this export's responses are stored in more than one survey: "
        f"{listed}; name the one to import into with --survey",
        "--survey",
        None,
    )


def _holders(session: Session, parsed: ParsedExport) -> dict[str, int]:
    """Surveys holding any of the export's first response ids, with how many (most first)."""
    keys = list(
        dict.fromkeys(
            external_id(parsed.tool, r.response_id.strip())
            for r in parsed.responses
            if r.response_id and r.response_id.strip()
        )
    )[:HOLDER_SAMPLE]
    if not keys:
        return {}
    rows = session.execute(
        select(SurveyResponse.survey_id, func.count())
        .where(SurveyResponse.external_id.in_(keys))
        .group_by(SurveyResponse.survey_id)
        .order_by(func.count().desc(), SurveyResponse.survey_id)
    ).all()
    return {str(sid): int(n) for sid, n in rows}


def default_survey_id(parsed: ParsedExport, path: Path) -> str:
    """The survey an export fills when none is named: the tool's own survey id, else the file
    name without the dates and times Qualtrics or a browser add and without
    问卷星's ``_0``/``_2``/``_3`` suffix, as an id (letters, digits, ``_.-``;
    ``wjx_门店回访`` when the name starts with a Chinese character)."""
    raw = parsed.source_survey_id or _download_name(path.stem)
    text = _NOT_ID.sub("_", unicodedata.normalize("NFKC", raw)).strip("_.-")
    if not text:
        return f"{parsed.tool}_import"
    if not (text[0].isascii() and text[0].isalnum()):  # an id starts with a letter or digit
        text = f"{parsed.tool}_{text}"
    return text[:64]


def _download_name(stem: str) -> str:
    """A download's name without what the tool or browser added (dates, times, copies)."""
    name = stem.strip()
    for suffix in (*_DOWNLOAD_SUFFIXES, _WJX_SUFFIX):
        shorter = suffix.sub("", name).strip()
        if shorter:
            name = shorter
    return name


def check_survey_id(survey_id: str) -> None:
    """Refuses a named survey id cxloop cannot store (``Invalid`` naming ``--survey``)."""
    if not _SURVEY_ID.match(survey_id) or len(survey_id) > 64:
        raise Invalid(
            "must start with a letter or digit and hold only letters, digits, _ . - (64 at most)",
            "--survey",
            survey_id,
        )
