"""Survey definitions: a YAML file (or the API's JSON) checked into a ``SurveyDefinition``.

Pure: no database. Checking reports every problem at once, each named by its path
(``questions[1].show_if``), so a user fixes a file in one pass instead of one error per run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    ValidationError,
    model_validator,
)

from cxloop.errors import Invalid, Problem

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
QuestionType = Literal["nps", "csat", "ces", "rating", "single", "multiple", "matrix", "text"]
SCORED = ("nps", "csat", "ces", "rating")
FIXED_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
ATTRIBUTE_ROOTS = (
    "contact",
    "customer",
    "account",
    "order",
    "milestone",
    "project",
    "subscription",
    "ticket",
    "event",
)
"""Where a ``show_if`` name or a piped ``{root.field}`` may come from besides earlier answers."""
PIPE = re.compile(r"\{([^\W\d]\w*)\.(\w+(?:\.\w+)*)(?:\|([^{}|]*))?\}")
"""``{root.field}``, or ``{root.field|fallback}`` where the value may be missing."""
DEFAULT_TEXT_LENGTH = 4000
OTHER_TEXT_LENGTH = 500

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]
OptionId = Annotated[str, StringConstraints(pattern=r"^[\w-]+$", max_length=64)]
SurveyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][\w.-]*$", max_length=64)]


class LocalText(RootModel[dict[Lang, str]]):
    """A text in zh and/or en; a plain string stands for both."""

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"zh": data, "en": data}
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"zh": str(data), "en": str(data)}
        return data

    @model_validator(mode="after")
    def _not_blank(self) -> LocalText:
        self.root = {lang: text.strip() for lang, text in self.root.items() if text.strip()}
        if not self.root:
            raise ValueError("needs a text (a string, or {zh: …, en: …})")
        return self

    def get(self, lang: str) -> str:
        """The text in ``lang``, else in the other language (never empty)."""
        return self.root.get(lang) or next(iter(self.root.values()))  # type: ignore[call-overload]


class Option(BaseModel):
    """A choice (single/multiple) or a matrix row; ``other``: "other, please specify"."""

    model_config = ConfigDict(extra="forbid")

    id: OptionId
    text: LocalText
    other: bool = False


class Question(BaseModel):
    """One question. A matrix's rows are attributes rated on one scale; each row id names a
    driver for key-driver analysis (so row ids are unique across the survey)."""

    model_config = ConfigDict(extra="forbid")

    id: Identifier
    type: QuestionType
    text: LocalText
    required: bool = False
    show_if: str | None = None
    scale: int | None = None
    options: list[Option] = Field(default_factory=list)
    rows: list[Option] = Field(default_factory=list)
    matrix_scale: int = 5
    min_choices: int | None = None
    max_choices: int | None = None
    max_length: int | None = None
    labels_as_text: bool = False
    """A text question an import made from a choice or scale cxloop cannot hold as asked: its
    answers are labels or numbers, not the respondent's words (never read as feedback text)."""

    @model_validator(mode="after")
    def _defaults(self) -> Question:
        if self.type == "rating" and self.scale is None:
            self.scale = 5
        if self.type == "text" and self.max_length is None:
            self.max_length = DEFAULT_TEXT_LENGTH
        if self.show_if is not None and not self.show_if.strip():
            self.show_if = None
        return self

    @property
    def bounds(self) -> tuple[int, int] | None:
        """The lowest and highest answer of a scored question or a matrix row; None otherwise."""
        if self.type in FIXED_SCALES:
            return FIXED_SCALES[self.type]
        if self.type == "rating":
            return (1, self.scale or 5)
        if self.type == "matrix":
            return (1, self.matrix_scale)
        return None

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


class Reminders(BaseModel):
    """Reminder defaults for this survey's distributions (a send may override them)."""

    model_config = ConfigDict(extra="forbid")

    after_hours: int = Field(72, ge=1, le=24 * 90)
    max: int = Field(2, ge=0, le=10)


class SurveyDefinition(BaseModel):
    """A whole survey. Build it with ``parse_definition`` (which checks everything); plain
    ``model_validate`` only reads a definition that was checked when stored."""

    model_config = ConfigDict(extra="forbid")

    id: SurveyId
    title: LocalText
    questions: list[Question] = Field(min_length=1)
    layout: Literal["one_per_page", "all_on_one"] = "one_per_page"
    languages: tuple[Lang, ...] = LANGS
    default_language: Lang = "zh"
    intro: LocalText | None = None
    thanks: LocalText | None = None
    required_roles: list[str] = Field(default_factory=list)
    touchpoint: str | None = Field(None, max_length=64)
    journey_stage: str | None = Field(None, max_length=64)
    link_days: int | None = Field(None, ge=1, le=365)
    allow_edits: bool = False
    reminders: Reminders = Field(default_factory=Reminders)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def texts(self) -> Iterator[tuple[str, LocalText]]:
        """Every text with its path, for language and piping checks."""
        yield "title", self.title
        for name in ("intro", "thanks"):
            text = getattr(self, name)
            if text is not None:
                yield name, text
        for i, q in enumerate(self.questions):
            yield f"questions[{i}].text", q.text
            for kind in ("options", "rows"):
                for j, o in enumerate(getattr(q, kind)):
                    yield f"questions[{i}].{kind}[{j}].text", o.text


def path(loc: tuple[int | str, ...] | list[int | str], prefix: str = "") -> str:
    """A pydantic location as a path a user reads: ``questions[1].show_if``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "[key]":
            out += f".{part}" if out else str(part)
    return out or "definition"


_KNOWN = {
    "question": sorted(Question.model_fields),
    "option": sorted(Option.model_fields),
    "survey": sorted(SurveyDefinition.model_fields),
    "reminders": sorted(Reminders.model_fields),
}


def _reason(error: Any, model: str) -> str:
    kind, loc = error["type"], error["loc"]
    field = str(loc[-1]) if loc else ""
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        where = "reminders" if "reminders" in loc else model
        if any(part in ("options", "rows") for part in loc):
            where = "option"
        return f"is not a field here (known: {', '.join(_KNOWN[where])})"
    if kind == "string_pattern_mismatch":
        if field == "id" and model == "survey" and len(loc) == 1:
            return "must start with a letter or digit and hold only letters, digits, _ . -"
        if field == "id" and not any(part in ("options", "rows") for part in loc):
            return "must be a name: letters, digits and _, not starting with a digit (e.g. why)"
        return "must hold only letters, digits, _ and -"
    if kind == "literal_error" and field == "type":
        return f"is not a question type ({', '.join(get_args(QuestionType))})"
    if kind == "literal_error" and ("languages" in loc or field == "default_language"):
        return "is not a language (use zh or en)"
    return str(error["msg"]).removeprefix("Value error, ")


def _problems(exc: ValidationError, model: str, prefix: str = "") -> list[Problem]:
    out = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if error["type"] == "literal_error" and loc and loc[-1] == "[key]":
            value: Any = loc[-2] if len(loc) > 1 else None
            reason = "is not a language (use zh or en)"
        else:
            value = error.get("input")
            reason = _reason(error, model)
        if isinstance(value, dict | list):
            value = None  # a whole block is not worth echoing; the path names it
        out.append(Problem(path(loc, prefix), value, reason))
    return out


def parse_definition(data: object) -> SurveyDefinition:
    """``data`` (loaded YAML or JSON) as a checked definition, or ``Invalid`` listing every
    problem by its path: shape (types, missing and unknown fields), then meaning (scales,
    options, display logic over earlier answers, languages, roles)."""
    if not isinstance(data, dict):
        shown = type(data).__name__ if data is not None else "nothing"
        raise Invalid("must be a mapping with id, title and questions", "definition", shown)
    problems: list[Problem] = []
    raw = data.get("questions")
    questions: list[tuple[int, Question]] = []
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            try:
                questions.append((i, Question.model_validate(item)))
            except ValidationError as exc:
                problems.extend(_problems(exc, "question", f"questions[{i}]"))
    header: SurveyDefinition | None = None
    checked = [q for _, q in questions]
    broken: set[str] = set()
    try:
        header = SurveyDefinition.model_validate(
            {**data, "questions": checked} if isinstance(raw, list) and raw else data
        )
    except ValidationError as exc:
        shape = _problems(exc, "survey")
        skipped = isinstance(raw, list) and raw and not questions  # each already reported
        problems.extend(p for p in shape if not (skipped and p.field == "questions"))
        broken = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    from cxloop.surveys.checks import meaning  # it reads this module's types

    items = raw if isinstance(raw, list) else []
    ids = [item.get("id") if isinstance(item, dict) else None for item in items]
    problems.extend(meaning(header or _rest(data, broken, checked), questions, ids, broken))
    if problems:
        raise Invalid(sorted(problems, key=_position))
    assert header is not None
    return header


def _rest(
    data: dict[Any, Any], broken: set[str], checked: list[Question]
) -> SurveyDefinition | None:
    """The survey-level fields that did parse, so their meaning is checked in the same run
    (a bad ``layout`` must not hide a text missing its English); None if even that fails."""
    stand_in = Question(id="_", type="text", text="_")
    rest = {k: v for k, v in data.items() if k not in broken and k != "questions"}
    rest.setdefault("id", "x")
    rest.setdefault("title", "_")
    try:
        return SurveyDefinition.model_validate({**rest, "questions": checked or [stand_in]})
    except ValidationError:
        return None


def _position(problem: Problem) -> int:
    """Survey-level problems first, then question by question (a stable sort keeps the rest)."""
    match = re.match(r"questions\[(\d+)\]", problem.field)
    return int(match.group(1)) + 1 if match else 0


def read_yaml(text: str, source: str = "file") -> object:
    """YAML text as data, or ``Invalid`` naming the line and column of the mistake.

    ruamel.yaml, not PyYAML: survey texts end in question marks, and PyYAML refuses the YAML 1.2
    ``{en: How likely are you to recommend us?}``; ruamel also refuses a key written twice,
    which PyYAML would silently resolve by keeping the last text."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else source
        reason = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise Invalid(f"is not valid YAML: {reason}", where) from None
    except YAMLError as exc:
        raise Invalid(f"is not valid YAML: {exc}", source) from None
    except RecursionError:
        raise Invalid("is nested too deeply to be a survey", source) from None


def load_definition(file: Path) -> SurveyDefinition:
    """The definition in a YAML file, checked; unreadable files and bad YAML are ``Invalid``."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Invalid("no such file", "file", str(file)) from None
    except UnicodeDecodeError:
        raise Invalid("is not UTF-8 text", "file", str(file)) from None
    except OSError as exc:
        raise Invalid(f"cannot be read: {exc.strerror}", "file", str(file)) from None
    return parse_definition(read_yaml(text))


def warnings(definition: SurveyDefinition) -> list[Problem]:
    """What is allowed but probably a mistake: a piped ``{root.field}`` whose root no
    invitation carries (it is piped as empty text, never an error at send time), and a required
    role that is not one of cxloop's own (only contacts imported with it can answer)."""
    from cxloop.surveys.checks import role_warnings

    out: dict[tuple[str, str], Problem] = {}
    for where, text in definition.texts():
        for value in text.root.values():
            for match in PIPE.finditer(value):
                if match.group(1) not in ATTRIBUTE_ROOTS:
                    reason = f"is not a known value; known roots: {', '.join(ATTRIBUTE_ROOTS)}"
                    out[where, match.group(0)] = Problem(where, match.group(0), reason)
    return [*out.values(), *role_warnings(definition.required_roles)]


def canonical(definition: SurveyDefinition) -> dict[str, Any]:
    """The definition as plain JSON data, the same for the same content however it was written
    (comments, key order, a plain string or {zh, en})."""
    data = definition.model_dump(mode="json")
    for question in data["questions"]:  # unset, it is left out: stored hashes stay as they were
        if not question.get("labels_as_text"):
            question.pop("labels_as_text", None)
    return data
