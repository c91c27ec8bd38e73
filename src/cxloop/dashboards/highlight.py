"""A verbatim cut into marks: the clauses the text engine read an aspect in, with its sentiment,
found in the text as the reader sees it (masked for roles without read_pii).

Why by search and not by the stored offsets: masking changes the text's length (``138****8000``
is as long as the number, ``l***@example.com`` is not), so offsets into the clear text miss
the masked one. Each aspect's clause arrives masked the same way, so it is found in the masked
text, in text order; a clause that cannot be found (a personal value cut by the clause's edge
is masked differently) falls back to the aspect's term. Pure: no database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cxloop.dashboards.schemas_topics import Mark
from cxloop.feedback.schemas import AspectRead


@dataclass
class _Span:
    start: int
    end: int
    sentiment: str
    topics: list[str] = field(default_factory=list)


def _find(text: str, needle: str, cursor: int) -> int:
    """Where ``needle`` starts, at or after ``cursor`` first, else anywhere; -1 if nowhere."""
    if not needle:
        return -1
    at = text.find(needle, cursor)
    return at if at >= 0 else text.find(needle)


def _locate(text: str, aspect: AspectRead, cursor: int) -> tuple[int, int] | None:
    at = _find(text, aspect.clause, cursor)
    if at >= 0:
        return at, at + len(aspect.clause)
    term = aspect.term.replace("*", "")
    if not term:
        return None
    # ignoring case in the text itself: an index into ``text.casefold()`` is off wherever
    # folding changes a length (ß → ss), and the mark would cut the wrong letters
    pattern = re.compile(re.escape(term), re.IGNORECASE)
    found = pattern.search(text, cursor) or pattern.search(text)
    return found.span() if found else None


def marks(text: str | None, aspects: Sequence[AspectRead]) -> list[Mark]:
    """``text`` as marks: plain stretches and aspect stretches (topics and sentiment); aspects
    of one clause share one mark; a span overlapping an earlier one is left unmarked."""
    if not text:
        return []
    spans: list[_Span] = []
    cursor = 0
    for aspect in aspects:
        found = _locate(text, aspect, cursor)
        if found is None:
            continue
        start, end = found
        same = next((s for s in spans if (s.start, s.end) == (start, end)), None)
        if same is not None:
            if aspect.topic not in same.topics:
                same.topics.append(aspect.topic)
            continue
        if any(s.start < end and start < s.end for s in spans):
            continue
        spans.append(_Span(start, end, aspect.sentiment, [aspect.topic]))
        cursor = end
    out: list[Mark] = []
    at = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start > at:
            out.append(Mark(text=text[at : span.start]))
        out.append(
            Mark(text=text[span.start : span.end], topics=span.topics, sentiment=span.sentiment)
        )
        at = span.end
    if at < len(text):
        out.append(Mark(text=text[at:]))
    return out
