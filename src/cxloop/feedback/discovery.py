"""Candidate new topics among stored feedback that no taxonomy topic covers, PII masked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.feedback.enrichment import FEATURES, FEEDBACK, TOPICS
from cxloop.feedback.schemas import TopicCandidate
from cxloop.privacy.masking import mask_value


def discover(
    *, session: Session, limit: int = 5000, max_topics: int = 12, examples: int = 3
) -> list[TopicCandidate]:
    """Candidate topics among the newest ``limit`` analysed zh/en texts that no topic covers.

    Personal data is masked (by the spans the engine found) before the texts are clustered, so
    neither keywords nor examples can show it.
    """
    from cxloop.text.discovery import discover_topics  # loads scikit-learn: only when asked

    has_topic = select(TOPICS.c.feedback_id).where(TOPICS.c.feedback_id == FEEDBACK.c.feedback_id)
    query = (
        select(FEEDBACK.c.text, FEATURES.c.pii)
        .join(FEATURES, FEATURES.c.feedback_id == FEEDBACK.c.feedback_id)
        .where(
            FEEDBACK.c.text.is_not(None),
            FEATURES.c.language.in_(("zh", "en")),
            FEATURES.c.source_row_hash == FEEDBACK.c.row_hash,  # spans are of this text
            ~has_topic.exists(),
        )
        .order_by(FEEDBACK.c.created_at.desc(), FEEDBACK.c.feedback_id)
        .limit(limit)
    )
    texts = [mask_spans(text, pii or []) for text, pii in session.execute(query)]
    if not texts:
        return []
    found = discover_topics(texts, max_topics=max_topics, examples=examples, seed=0)
    return [
        TopicCandidate(
            size=c.size, keywords=list(c.keywords), examples=[e.text for e in c.examples]
        )
        for c in found
    ]


def mask_spans(text: str, spans: list[dict[str, Any]]) -> str:
    """``text`` with every PII span masked the way the store masks values for roles without
    PII (``l***@example.com``, ``138****8000``)."""
    for span in sorted(spans, key=lambda s: int(s["start"]), reverse=True):
        start, end = int(span["start"]), int(span["end"])
        text = text[:start] + str(mask_value("value", text[start:end])) + text[end:]
    return text
