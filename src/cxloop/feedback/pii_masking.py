"""Personal data inside free text, masked for roles without ``read_pii``: the feedback text, and
every text kept in ``attributes`` (a survey's ``answer.<question>`` copies, an import's extra
columns) — the same answer must not show an e-mail in one field that another field masks.

Column names mark whole values as personal (``privacy.masking``); this module finds the e-mail
addresses, phone, ID and card numbers *inside* texts with the text engine, which ``privacy``
may not import.
"""

from __future__ import annotations

from typing import Any

from cxloop.privacy.masking import looks_personal, mask_value


def mask_spans(text: str, spans: list[Any]) -> str:
    """``text`` with every span masked the way the store masks values for roles without PII
    (``l***@example.com``, ``138****8000``)."""
    for span in sorted(spans, key=lambda s: int(s["start"]), reverse=True):
        start, end = int(span["start"]), int(span["end"])
        text = text[:start] + str(mask_value("value", text[start:end])) + text[end:]
    return text


def find_spans(text: str | None) -> list[dict[str, Any]]:
    """Spans of personal data in a text the engine has not read as it is now (new or edited,
    or an attribute, which enrichment never reads)."""
    if not text:
        return []
    from cxloop.text.pii import find_pii

    return [{"start": s.start, "end": s.end} for s in find_pii(text)]


def mask_text(text: str) -> str:
    """``text`` with the personal data the engine finds in it masked."""
    return mask_spans(text, find_spans(text))


def mask_free_text(value: Any) -> Any:
    """Every text in ``value`` (a string, or lists and objects of them) with personal data in
    it masked; numbers and other values unchanged."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_free_text(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_free_text(v) for k, v in value.items()}
    return value


def mask_attributes(attributes: Any) -> Any:
    """Attributes as a role without PII sees them: those whose name marks them personal
    masked whole (``privacy.masking``), every other text with the personal data inside it
    masked (``answer.q5``: "mail me: h***@example.de")."""
    if not isinstance(attributes, dict):
        return attributes
    return {
        k: mask_value(k, v) if looks_personal(k) else mask_free_text(v)
        for k, v in attributes.items()
    }
