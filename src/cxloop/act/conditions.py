"""Check a target query's values against what is stored, so a typo never yields an empty list.

Pure: takes the customer profiles, the topics stored in feedback and the taxonomy's names.
Segments and regions must equal a stored value (case included: ``vip`` is not ``VIP``); topics
are a taxonomy path (``delivery/speed``), a unique topic id (``speed``) or a zh/en topic name
(``物流速度``, ``Delivery speed``), resolved to their path. Anything else is refused with the
closest stored values (``difflib.get_close_matches``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import pandas as pd

from cxloop.act.schemas import TargetQuery
from cxloop.errors import Invalid, Problem

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
    """Topic paths and their zh/en names (the active taxonomy) plus the topics stored in
    feedback, to turn what a person typed into one path."""

    def __init__(self, names: Iterable[tuple[str, str, str]], stored: Iterable[str]) -> None:
        self.names = {path: (zh, en) for path, zh, en in names}
        self.stored = {str(t) for t in stored}
        self.paths = sorted(set(self.names) | self.stored)
        self._by_key: dict[str, set[str]] = {}
        for path in self.paths:
            zh, en = self.names.get(path, ("", ""))
            for key in (path, path.rsplit("/", 1)[-1], zh, en):
                if key:
                    self._by_key.setdefault(key.strip().casefold(), set()).add(path)

    def label(self, path: str) -> str:
        zh, en = self.names.get(path, ("", ""))
        return f"{path} ({zh} / {en})" if zh or en else path

    def resolve(self, text: str) -> str:
        """The one topic path ``text`` names; ``ValueError`` with close matches otherwise."""
        wanted = text.strip().rstrip("/")
        if wanted in self.paths:
            return wanted
        found = self._by_key.get(wanted.casefold(), set())
        if len(found) == 1:
            return next(iter(found))
        if len(found) > 1:
            choices = ", ".join(sorted(found))
            raise ValueError(f"names more than one topic: {choices}; write its path")
        keys = list(self._by_key)
        close = difflib.get_close_matches(wanted.casefold(), keys, n=CLOSE_MATCHES, cutoff=0.6)
        paths = list(dict.fromkeys(p for k in close for p in sorted(self._by_key[k])))
        unknown = "is not a topic (path, id, or zh/en name)"
        if paths:
            matches = "; ".join(self.label(p) for p in paths[:CLOSE_MATCHES])
            raise ValueError(f"{unknown}; close matches: {matches}")
        firsts = sorted({p.split("/", 1)[0] for p in self.paths})
        raise ValueError(f"{unknown}; top-level topics: {', '.join(firsts)}")

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
