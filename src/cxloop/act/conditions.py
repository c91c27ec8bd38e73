"""Check a target query's values against what is stored, so a typo never yields an empty list.

Pure: takes the customer profiles, the topics stored in feedback and the taxonomy's names.
Segments and regions must equal a stored value (case included: ``vip`` is not ``VIP``); topics
are a taxonomy path (``delivery/speed``), a unique topic id (``speed``) or a zh/en topic name
(``速度``, ``Speed``), resolved to their path by ``text.taxonomy.resolve_topic``. Anything
else is refused with the closest stored values (``difflib.get_close_matches``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import pandas as pd

from cxloop.act.schemas import TargetQuery
from cxloop.errors import Invalid, Problem
from cxloop.text.taxonomy import Taxonomy, resolve_topic

CLOSE_MATCHES = 3
LISTED_VALUES = 12
"""With no close match, at most this many stored values are listed in the error."""


def suggest(value: str, stored: Sequence[str], *, label: str) -> str:
    """The reason a value is unknown, with the closest stored values (case-blind first)."""
    folded = {s.casefold(): s for s in stored}
    close: list[str] = []
    if value.casefold() in folded:
        close.append(folded[value.casefold()])
    found = difflib.get_close_matches(value.casefold(), list(folded), n=CLOSE_MATCHES, cutoff=0.6)
    close += [folded[f] for f in found if folded[f] not in close]
    if close:
        return f"is not a stored {label}; close matches: {', '.join(close[:CLOSE_MATCHES])}"
    if not stored:
        return f"is not a stored {label}: no {label} is stored yet"
    shown = sorted(stored, key=str)[:LISTED_VALUES]
    more = f" … ({len(stored)} in all)" if len(stored) > LISTED_VALUES else ""
    return f"is not a stored {label}; stored: {', '.join(shown)}{more}"


def _stored(values: pd.Series) -> list[str]:
    return sorted({str(v) for v in values.dropna().tolist() if str(v).strip()})


class TopicCatalog:
    """The active taxonomy and the topics stored in feedback, to turn what a person typed
    into one topic path (``text.taxonomy.resolve_topic`` does the naming)."""

    def __init__(self, taxonomy: Taxonomy, stored: Iterable[str]) -> None:
        self.taxonomy = taxonomy
        self.names = {row.path: (row.zh, row.en) for row in taxonomy.describe()}
        self.stored = {str(t) for t in stored}

    def label(self, path: str) -> str:
        zh, en = self.names.get(path, ("", ""))
        return f"{path} ({zh} / {en})" if zh or en else path

    def resolve(self, text: str) -> str:
        """The one topic path ``text`` names (a stored path, or a taxonomy path, zh/en name
        or unique id); ``ValueError`` with close matches otherwise."""
        wanted = text.strip().rstrip("/")
        if wanted in self.stored:
            return wanted
        try:
            return resolve_topic(wanted, self.taxonomy)
        except Invalid as exc:
            raise ValueError("; ".join(p.reason for p in exc.problems)) from None

    def mentioned(self, path: str) -> bool:
        """Some stored feedback mentions this topic or one below it."""
        return any(t == path or t.startswith(path + "/") for t in self.stored)


def check_query(
    query: TargetQuery, profiles: pd.DataFrame, topics: TopicCatalog
) -> tuple[TargetQuery, list[str]]:
    """The query with topics resolved to their paths, and caveats; ``Invalid`` naming every
    value that is not stored (field, value, close matches)."""
    problems: list[Problem] = []
    for field, column in (("segments", "segment"), ("regions", "region")):
        wanted: list[str] | None = getattr(query, field)
        if not wanted:
            continue
        stored = _stored(profiles[column]) if column in profiles else []
        for i, value in enumerate(wanted):
            if value not in stored:
                reason = suggest(value, stored, label=column)
                problems.append(Problem(f"query.{field}[{i}]", value, reason))
    caveats: list[str] = []
    mentioned = []
    for i, mention in enumerate(query.mentioned or []):
        try:
            path = topics.resolve(mention.topic)
        except ValueError as exc:
            problems.append(Problem(f"query.mentioned[{i}].topic", mention.topic, str(exc)))
            continue
        if path != mention.topic:
            caveats.append(f"topic {mention.topic!r} read as {topics.label(path)}")
        if not topics.mentioned(path):
            caveats.append(f"no stored feedback mentions {topics.label(path)} yet")
        mentioned.append(mention.model_copy(update={"topic": path}))
    if problems:
        raise Invalid(problems)
    if query.mentioned:
        query = query.model_copy(update={"mentioned": mentioned})
    return query, caveats
