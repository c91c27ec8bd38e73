"""A topic as a user names it — its path (``delivery/speed``), its zh/en name (物流配送,
``Delivery``) or part of a name (物流) — turned into the topic paths stored features use.

A name that matches nothing is an error listing close matches, never an empty page: a typo in
a topic must not look like "nobody mentioned it".
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from cxloop.errors import Invalid, Problem
from cxloop.feedback.models import FeedbackTopic
from cxloop.text.taxonomy import Taxonomy, topic_spellings

TOPICS: Table = FeedbackTopic.__table__  # type: ignore[assignment]


def _fold(text: str) -> str:
    """The same folding as ``topic_spellings``: any case, no spaces, no outer slashes."""
    return "".join(text.casefold().split()).strip("/")


def candidates(taxonomy: Taxonomy, stored: Sequence[str]) -> dict[str, list[str]]:
    """Every spelling a topic answers to (folded: any case, no spaces) → its paths: the
    taxonomy's own (``topic_spellings``: paths, zh and en names, names joined like a path,
    unique leaf ids) and the paths of stored features (an older taxonomy's topic still finds
    its rows)."""
    spellings = {key: list(paths) for key, paths in topic_spellings(taxonomy).items()}
    for path in stored:
        found = spellings.setdefault(_fold(path), [])
        if path not in found:
            found.append(path)
    return spellings


def match(name: str, spellings: dict[str, list[str]]) -> list[str]:
    """The paths ``name`` means: an exact path or name first (a name two topics share means
    both), else every topic whose path or name contains it (物流 → delivery; at least two
    Chinese or three other characters)."""
    key = _fold(name)
    if not key:
        return []
    if key in spellings:
        return spellings[key]
    if len(key) < (2 if any(ord(c) > 0x2E7F for c in key) else 3):
        return []  # "e" or "物" inside a name says nothing
    found: list[str] = []
    for spelling, paths in spellings.items():
        if key in spelling:
            found += [p for p in paths if p not in found]
    return _roots(found)


def close_spellings(name: str, spellings: dict[str, list[str]], n: int = 5) -> list[str]:
    """The spellings most like ``name``, whole or in part (物料 is close to 物流配送 through
    物流): difflib's ratio against the spelling and against each stretch of its length."""
    key = _fold(name)
    scored = []
    for spelling in spellings:
        matcher = difflib.SequenceMatcher(None, key, spelling)
        score = matcher.ratio()
        width = len(key)
        for start in range(max(len(spelling) - width + 1, 0)):
            matcher.set_seq2(spelling[start : start + width])
            score = max(score, matcher.ratio())
        if score >= 0.5:
            scored.append((score, spelling))
    return [s for _, s in sorted(scored, key=lambda p: (-p[0], p[1]))[:n]]


def _below_any(path: str, others: list[str]) -> bool:
    return any(path.startswith(other + "/") for other in others)


def _roots(paths: list[str]) -> list[str]:
    """``paths`` without those under another one (subtopics are included by their parent)."""
    return [p for p in paths if not any(p.startswith(q + "/") for q in paths if q != p)]


def resolve(*, session: Session, names: Sequence[str], field: str = "topic") -> list[list[str]]:
    """The topic paths of each name, in order; ``Invalid`` naming every name that matches
    nothing, with the closest paths and names."""
    from cxloop.feedback.enrichment import active_taxonomy

    taxonomy = active_taxonomy(session=session)
    stored = list(session.scalars(select(TOPICS.c.topic).distinct()))
    spellings = candidates(taxonomy, stored)
    resolved, problems = [], []
    labels = {row.path: f"{row.path} ({row.zh} / {row.en})" for row in taxonomy.describe()}
    for name in names:
        paths = match(name, spellings)
        if paths:
            resolved.append(paths)
            continue
        ranked = dict.fromkeys(p for c in close_spellings(name, spellings) for p in spellings[c])
        shown = [p for n, p in enumerate(ranked) if not _below_any(p, list(ranked)[:n])]
        hint = ", ".join(labels.get(p, p) for p in shown[:5])
        problems.append(
            Problem(
                field,
                name,
                "is not a topic path, zh or en name"
                + (f"; close matches: {hint}" if hint else "")
                + " (`cxloop taxonomy show` lists every topic)",
            )
        )
    if problems:
        raise Invalid(problems)
    return resolved
