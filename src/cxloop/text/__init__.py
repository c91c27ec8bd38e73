"""Understand text: language, words, sentiment, topics, intent, emotion and PII, offline, zh + en.

Pure: text in, features out; nothing here touches the store. The public calls load on first use
(the models and jieba's dictionary take a second)::

    from cxloop.text import analyze, analyze_batch
    analyze("送货很快但是客服态度很差").aspects   # delivery/speed +, service/attitude -
    for result in analyze_batch(texts, workers=None): ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["TextAnalysis", "analyze", "analyze_batch"]

if TYPE_CHECKING:
    from cxloop.text.pipeline import analyze, analyze_batch
    from cxloop.text.schemas import TextAnalysis


def __getattr__(name: str) -> Any:
    if name in ("analyze", "analyze_batch"):
        from cxloop.text import pipeline

        return getattr(pipeline, name)
    if name == "TextAnalysis":
        from cxloop.text.schemas import TextAnalysis

        return TextAnalysis
    raise AttributeError(f"module 'cxloop.text' has no attribute {name!r}")
