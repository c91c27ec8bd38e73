"""The sample survey's structure as LimeSurvey exports it: ``.lss`` (XML tables; LimeSurvey 4+
keeps texts in ``*_l10ns`` tables, older versions inline per language) and ``.lsa`` (a zip of the
``.lss`` and the ``.lsr`` responses). Every writer returns the path it wrote.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from tests.surveys.imports.samples_limesurvey import GROUP_ORDER, QUESTIONS, SID, TITLE, Q, table


def _row(fields: Mapping[str, object]) -> str:
    cells = "".join(
        f"<{k}><![CDATA[{v}]]></{k}>" if v != "" else f"<{k}/>" for k, v in fields.items()
    )
    return f"<row>{cells}</row>"


def _table(name: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    fields = "".join(f"<fieldname>{escape(k)}</fieldname>" for k in rows[0])
    return (
        f"<{name}><fields>{fields}</fields><rows>{''.join(_row(r) for r in rows)}</rows></{name}>"
    )


def lss_xml(*, legacy: bool = False, items: tuple[Q, ...] = QUESTIONS) -> str:
    """The survey structure (``items``: other questions than the sample's); ``legacy``: texts
    inline per language (before LimeSurvey 4)."""
    langs = ("zh-Hans", "en")
    questions: list[dict[str, Any]] = []
    subquestions: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    q10n: list[dict[str, Any]] = []
    a10n: list[dict[str, Any]] = []
    sub_id, aid = 500, 9000
    for q in items:
        base = {
            "qid": q.qid,
            "parent_qid": 0,
            "sid": SID,
            "gid": q.gid,
            "type": q.type,
            "title": q.code,
            "other": "Y" if q.other else "N",
            "mandatory": "N",
            "question_order": q.qid - 100,
            "scale_id": 0,
        }
        texts = {"zh-Hans": f"<p>{escape(q.zh)}</p>", "en": escape(q.en)}
        if legacy:
            questions += [{**base, "question": texts[lang], "language": lang} for lang in langs]
        else:
            questions.append(base)
            q10n += [
                {"id": len(q10n) + 1, "qid": q.qid, "question": texts[lang], "language": lang}
                for lang in langs
            ]
        for order, (code, text) in enumerate(q.subs, start=1):
            sub_id += 1
            sub = {
                **base,
                "qid": sub_id,
                "parent_qid": q.qid,
                "type": "T",
                "title": code,
                "question_order": order,
                "other": "N",
            }
            if legacy:
                subquestions += [{**sub, "question": text, "language": lang} for lang in langs]
            else:
                subquestions.append(sub)
                q10n += [
                    {"id": len(q10n) + 1, "qid": sub_id, "question": text, "language": lang}
                    for lang in langs
                ]
        for order, (code, text) in enumerate(reversed(q.answers), start=1):
            aid += 1
            sortorder = len(q.answers) - order + 1  # written out of order: sortorder decides
            row = {
                "aid": aid,
                "qid": q.qid,
                "code": code,
                "sortorder": sortorder,
                "assessment_value": 0,
                "scale_id": 0,
            }
            if legacy:
                answers += [{**row, "answer": text, "language": lang} for lang in langs]
            else:
                answers.append(row)
                a10n += [
                    {"id": len(a10n) + 1, "aid": aid, "answer": text, "language": lang}
                    for lang in langs
                ]
    groups = [{"gid": gid, "sid": SID, "group_order": order} for gid, order in GROUP_ORDER.items()]
    survey = [
        {
            "sid": SID,
            "language": "zh-Hans",
            "additional_languages": "en",
            "datestamp": "Y",
            "ipaddr": "Y",
            "refurl": "Y",
            "anonymized": "N",
        }
    ]
    settings = [
        {"surveyls_survey_id": SID, "surveyls_language": lang, "surveyls_title": TITLE[lang]}
        for lang in langs
    ]
    body = "".join(
        [
            "<LimeSurveyDocType>Survey</LimeSurveyDocType>",
            f"<DBVersion>{'366' if legacy else '624'}</DBVersion>",
            "<languages>"
            + "".join(f"<language>{lang}</language>" for lang in langs)
            + "</languages>",
            _table("answers", answers),
            _table("answer_l10ns", a10n),
            _table("groups", groups),
            _table("questions", list(reversed(questions))),
            _table("subquestions", subquestions),
            _table("question_l10ns", q10n),
            _table("surveys", survey),
            _table("surveys_languagesettings", settings),
        ]
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<document>{body}</document>\n'


def write_lss(folder: Path, *, legacy: bool = False) -> Path:
    path = folder / f"limesurvey_survey_{SID}{'_legacy' if legacy else ''}.lss"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(lss_xml(legacy=legacy), encoding="utf-8")
    return path


def lsr_xml() -> str:
    """The responses table as LimeSurvey archives it: SGQA field names, ``_``-prefixed tags."""
    rows = table("sgqa", False, timings=False)
    fields = "".join(f"<fieldname>{name}</fieldname>" for name in rows[0])
    body = "".join(
        "<row>"
        + "".join(
            f"<{_tag(n)}><![CDATA[{v}]]></{_tag(n)}>" if v else f"<{_tag(n)}/>"
            for n, v in zip(rows[0], row, strict=True)
        )
        + "</row>"
        for row in rows[1:]
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<document>'
        "<LimeSurveyDocType>Responses</LimeSurveyDocType>"
        f"<responses><fields>{fields}</fields><rows>{body}</rows></responses></document>\n"
    )


def _tag(name: str) -> str:
    return f"_{name}" if name[0].isdigit() else name


def write_lsa(folder: Path) -> Path:
    """The survey archive: the .lss and the .lsr responses table."""
    path = folder / f"survey_archive_{SID}.lsa"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"survey_{SID}.lss", lss_xml())
        archive.writestr(f"survey_{SID}_responses.lsr", lsr_xml())
    return path
