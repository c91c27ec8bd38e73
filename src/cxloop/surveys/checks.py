"""What a well-shaped survey definition must also mean: scales and options that fit the question
type, unique ids, display logic over earlier answers only, texts in every listed language, and
B2B roles named once each (a role cxloop has no name for is only warned about). Pure; every
problem is named by its path.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from cxloop.customers.roles import CANONICAL_ROLES, canonical_role
from cxloop.errors import Problem
from cxloop.surveys import expressions
from cxloop.surveys.b2b import normalise_role
from cxloop.surveys.definitions import (
    ATTRIBUTE_ROOTS,
    DEFAULT_TEXT_LENGTH,
    SCORED,
    Question,
    SurveyDefinition,
)

CHOICE = ("single", "multiple")
ONLY: dict[str, tuple[tuple[str, ...], str]] = {
    "scale": (("rating",), "only rating questions have a scale (nps is 0–10, csat 1–5, ces 1–7)"),
    "options": (CHOICE, "only single and multiple questions have options"),
    "rows": (("matrix",), "only matrix questions have rows"),
    "matrix_scale": (("matrix",), "only matrix questions have a matrix_scale"),
    "min_choices": (("multiple",), "only multiple questions have min_choices"),
    "max_choices": (("multiple",), "only multiple questions have max_choices"),
    "max_length": (("text",), "only text questions have max_length"),
    "labels_as_text": (("text",), "only text questions hold labels as text"),
}


def meaning(
    header: SurveyDefinition | None,
    questions: Sequence[tuple[int, Question]],
    raw_ids: Sequence[object] = (),
    broken: Collection[str] = (),
) -> list[Problem]:
    """Every problem of meaning. ``questions``: the ones whose shape was right, with their
    index; ``raw_ids``: every question's id as written, so a question that failed its shape
    check is not reported a second time as "unknown" by a later ``show_if``; ``broken``: the
    survey-level fields whose shape was wrong (``header`` then stands in for the rest)."""
    problems: list[Problem] = []
    for i, q in questions:
        problems.extend(_question(f"questions[{i}]", q))
    problems.extend(_ids(questions))
    problems.extend(_display_logic(questions, raw_ids))
    if header is not None:
        problems.extend(_header(header, broken))
    return problems


def _question(at: str, q: Question) -> list[Problem]:
    out = []
    for field, (types, reason) in ONLY.items():
        if _given(q, field) and q.type not in types:
            value = getattr(q, field)
            shown = [o.id for o in value] if isinstance(value, list) else value  # ids, not reprs
            out.append(Problem(f"{at}.{field}", shown, reason))
    if q.type == "rating" and q.scale is not None and not 2 <= q.scale <= 11:
        out.append(Problem(f"{at}.scale", q.scale, "a rating has 2 to 11 points"))
    if q.type == "matrix":
        if not 2 <= q.matrix_scale <= 11:
            out.append(Problem(f"{at}.matrix_scale", q.matrix_scale, "must be 2 to 11 points"))
        if not q.rows:
            out.append(Problem(f"{at}.rows", None, "a matrix needs at least one row to rate"))
        for j, row in enumerate(q.rows):
            if not row.id.isidentifier() or not row.id.isascii():
                reason = "a row id names a driver: letters, digits and _, not starting with a digit"
                out.append(Problem(f"{at}.rows[{j}].id", row.id, reason))
            if row.other:
                out.append(Problem(f"{at}.rows[{j}].other", True, "rows cannot be 'other'"))
    if q.type in CHOICE:
        if len(q.options) < 2:
            out.append(Problem(f"{at}.options", len(q.options), "needs at least two options"))
        others = [j for j, o in enumerate(q.options) if o.other]
        for j in others[1:]:
            reason = f"only one option may be 'other' (options[{others[0]}] already is)"
            out.append(Problem(f"{at}.options[{j}].other", True, reason))
        out.extend(_duplicates(f"{at}.options", [o.id for o in q.options], "option"))
    else:
        for j, o in enumerate(q.options if q.type != "matrix" else []):
            if o.other:
                out.append(Problem(f"{at}.options[{j}].other", True, "only choices have 'other'"))
    if q.type == "multiple":
        out.extend(_choices(at, q))
    if q.type == "text" and q.max_length is not None and not 1 <= q.max_length <= 20_000:
        out.append(Problem(f"{at}.max_length", q.max_length, "must be 1 to 20,000 characters"))
    return out


def _given(q: Question, field: str) -> bool:
    """Written in the file with a value of its own (a full dump sent back through the API
    carries ``scale: null``, ``options: []``, ``max_length: 4000`` and must still pass)."""
    value = getattr(q, field)
    default = Question.model_fields[field].get_default(call_default_factory=True)
    if q.type == "text" and field == "max_length" and value == DEFAULT_TEXT_LENGTH:
        return False
    return field in q.model_fields_set and value not in (None, [], default)


def _choices(at: str, q: Question) -> list[Problem]:
    out = []
    low, high, n = q.min_choices, q.max_choices, len(q.options)
    if low is not None and not 0 <= low <= n:
        out.append(Problem(f"{at}.min_choices", low, f"must be 0 to {n} (the options)"))
    if high is not None and not 1 <= high <= n:
        out.append(Problem(f"{at}.max_choices", high, f"must be 1 to {n} (the options)"))
    if low is not None and high is not None and low > high:
        out.append(Problem(f"{at}.min_choices", low, f"is more than max_choices ({high})"))
    return out


def _duplicates(at: str, ids: list[str], what: str) -> list[Problem]:
    first: dict[str, int] = {}
    out = []
    for j, value in enumerate(ids):
        if value in first:
            reason = f"is already the id of {what} [{first[value]}]"
            out.append(Problem(f"{at}[{j}].id", value, reason))
        first.setdefault(value, j)
    return out


def _ids(questions: Sequence[tuple[int, Question]]) -> list[Problem]:
    """Question ids are unique; matrix row ids too, across the survey, since each names a driver
    in the feedback row's answers (two matrices rating ``speed`` would collide)."""
    out = []
    owner: dict[str, str] = {}
    for i, q in questions:
        if q.id in owner:
            reason = f"is already the id of {owner[q.id]}"
            out.append(Problem(f"questions[{i}].id", q.id, reason))
        owner.setdefault(q.id, f"questions[{i}]")
    for i, q in questions:
        for j, row in enumerate(q.rows if q.type == "matrix" else []):
            if row.id in owner:
                reason = f"is already the id of {owner[row.id]} (a row id names a driver)"
                out.append(Problem(f"questions[{i}].rows[{j}].id", row.id, reason))
            owner.setdefault(row.id, f"questions[{i}].rows[{j}]")
    return out


def _display_logic(
    questions: Sequence[tuple[int, Question]], raw_ids: Sequence[object]
) -> list[Problem]:
    out = []
    parsed = {q.id: q for _, q in questions}
    written = [str(x) for x in raw_ids] if raw_ids else [q.id for _, q in questions]
    for i, q in questions:
        if q.show_if is None:
            continue
        at = f"questions[{i}].show_if"
        try:
            tree = expressions.parse(q.show_if)
        except expressions.ExpressionError as exc:
            out.append(Problem(at, q.show_if, f"{exc.reason} (column {exc.column})"))
            continue
        earlier = [x for x in written[:i] if x != q.id]
        for reason in _names(tree, q.id, earlier, written[i + 1 :], parsed):
            out.append(Problem(at, q.show_if, reason))
    return out


def _names(
    tree: expressions.Expr,
    own: str,
    earlier: list[str],
    later: list[str],
    parsed: dict[str, Question],
) -> list[str]:
    reasons = []
    for name in expressions.names(tree):
        root, _, rest = name.path.partition(".")
        if root in earlier:
            q = parsed.get(root)
            if q is not None and rest:
                rows = [r.id for r in q.rows] if q.type == "matrix" else []
                if rest not in rows:
                    where = f"rows: {', '.join(rows)}" if rows else "only a matrix has rows"
                    reasons.append(f"{name.path!r}: {root} has no row {rest!r} ({where})")
        elif root == own:
            reasons.append(f"{root!r} is this question: show_if can only use earlier answers")
        elif root in later:
            reasons.append(
                f"{root!r} comes after this question: show_if can only use earlier answers"
            )
        elif root in ATTRIBUTE_ROOTS and rest:
            continue
        else:
            known = ", ".join(earlier) or "none"
            reasons.append(
                f"{name.path!r} is not an earlier question ({known}) nor an attribute such as "
                "contact.role or customer.segment"
            )
    for test in expressions.comparisons(tree):
        if isinstance(test, expressions.Compare):
            reasons.extend(_values(test, parsed, earlier))
    return reasons


def _values(
    test: expressions.Compare, parsed: dict[str, Question], earlier: list[str]
) -> list[str]:
    """A question compared with a value it can never take: a word for a score, a score off its
    scale, an option it does not have, or an order between choices."""
    sides = [test.left, test.right]
    name = next((s for s in sides if isinstance(s, expressions.Name)), None)
    if name is None or name.path.partition(".")[0] not in earlier:
        return []
    q = parsed.get(name.path.partition(".")[0])
    if q is None:
        return []
    consts = [s for s in sides if isinstance(s, expressions.Const)]
    if isinstance(test.right, tuple):
        consts = list(test.right)
    reasons = []
    scored = q.type in SCORED or (q.type == "matrix" and "." in name.path)
    bounds = q.bounds
    for const in consts:
        value = const.value
        if scored and bounds is not None:
            if isinstance(value, bool) or not isinstance(value, float):
                reasons.append(f"{name.path} is a number: compare it with a number, not {value!r}")
            elif not bounds[0] <= value <= bounds[1]:
                reasons.append(
                    f"{_number(value)} is outside {name.path}'s scale {bounds[0]}–{bounds[1]}"
                )
        elif q.type in CHOICE:
            ids = [o.id for o in q.options]
            shown = _number(value) if isinstance(value, float) else value
            if str(shown) not in ids:
                reasons.append(f"{shown!r} is not an option of {q.id} ({', '.join(ids)})")
    if q.type in CHOICE and test.op in ("<", "<=", ">", ">="):
        reasons.append(f"{q.id}'s options have no order: use ==, != or in")
    return reasons


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _header(header: SurveyDefinition, broken: Collection[str] = ()) -> list[Problem]:
    if "languages" in broken or "default_language" in broken:
        return _roles(header.required_roles)  # which texts are missing depends on them
    out = []
    languages = list(header.languages)
    if not languages:
        out.append(Problem("languages", [], "needs at least one language (zh, en)"))
    for j, lang in enumerate(languages):
        if lang in languages[:j]:
            out.append(Problem(f"languages[{j}]", lang, "is listed twice"))
    if languages and header.default_language not in languages:
        reason = f"is not among languages ({', '.join(languages)})"
        out.append(Problem("default_language", header.default_language, reason))
    for where, text in header.texts():
        for lang in languages:
            if lang not in text.root:
                given = ", ".join(text.root)
                reason = (
                    f"has no {lang} text (only {given}): give {{zh: …, en: …}}, a plain string "
                    f"for both, or list only {given} under languages"
                )
                out.append(Problem(where, text.get(lang), reason))
    out.extend(_roles(header.required_roles))
    return out


def _roles(roles: list[str]) -> list[Problem]:
    """Required roles in the one spelling contacts are imported with (``决策者`` →
    ``decision_maker``). Roles are open, as contact imports keep any role as written: only a
    role named twice is an error; one cxloop has no name for is a warning (see
    :func:`role_warnings`)."""
    out = []
    seen: dict[str, int] = {}
    for j, role in enumerate(roles):
        normal = normalise_role(role)
        if not normal:
            out.append(Problem(f"required_roles[{j}]", role, "is empty"))
        elif normal in seen:
            reason = f"is the same role as required_roles[{seen[normal]}]"
            out.append(Problem(f"required_roles[{j}]", role, reason))
        seen.setdefault(normal, j)
        roles[j] = canonical_role(role)
    return out


def role_warnings(roles: Sequence[str]) -> list[Problem]:
    """A required role that is not one of cxloop's own is allowed (行政助理, office manager) but
    only contacts imported with that role can answer it: say so, or every account stays
    incomplete without a word."""
    out = []
    for j, role in enumerate(roles):
        if canonical_role(role) not in CANONICAL_ROLES:
            reason = (
                "is not a role cxloop knows (" + ", ".join(CANONICAL_ROLES) + "); kept as written"
                " — import contacts with this role, or the account is never complete"
            )
            out.append(Problem(f"required_roles[{j}]", role, reason))
    return out
