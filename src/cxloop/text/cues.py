"""Rule-based cues, zh + en: urgent flags, emotions and intent, with evidence spans.

The lexicons live in ``data/cues.yaml`` (its header explains the format and the negation rule).
Each detector is one compiled :class:`~cxloop.text.taxonomy.TermMatcher`, so one regex pass per
text; negation is checked only where a cue was found.

Intent precedence (first rule that applies wins):

1. an explicit complaint cue (投诉, 差评, terrible, refund…), or a negated praise or suggestion cue
   (不推荐, wouldn't recommend) → ``complaint``: "太差了，建议改进" is a complaint;
2. a suggestion cue (建议, 希望, 能不能, please add…) → ``suggestion``: "能不能加个发票功能？" is a
   suggestion, not a question;
3. a question cue (?, 吗, 怎么, how do I…) → ``question``;
4. a praise cue (好评, 推荐, great…) while the sentiment is above -0.2 → ``praise``;
5. sentiment <= -0.2 → ``complaint``; sentiment >= 0.3 → ``praise``; otherwise ``none``.

Negated cues: a negated complaint cue (不坑, not terrible) counts for nothing; a negated joy cue
(不开心, not happy) becomes ``disappointment`` with the negator in its evidence; other negated
emotions (不担心, not surprised) and negated flags (不会投诉, no need to sue) are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, cast, get_args

import yaml

from cxloop.text.clauses import CJK
from cxloop.text.schemas import Emotion, EmotionName, Flag, FlagName, Intent
from cxloop.text.terms import TermMatcher

COMPLAINT_SCORE = -0.2
"""Sentiment at or below this makes a text without cues a complaint."""
PRAISE_SCORE = 0.2  # the positive label's band (sentiment.NEUTRAL_BAND)
"""Sentiment at or above this makes a text without cues praise."""

_INTENTS = ("complaint", "suggestion", "question", "praise")


def _alternation(words: list[str], en: bool) -> str:
    alts = []
    for word in sorted(set(words), key=len, reverse=True):
        if en and word == "n't":
            alts.append(r"[a-z]*n['’]t")
        else:
            alts.append(r"\s+".join(re.escape(w) for w in word.split()))
    return "|".join(alts)


@dataclass(frozen=True)
class _Negation:
    """Finds the negator that governs a cue: shortly before it, only fillers in between."""

    zh: re.Pattern[str]
    en: re.Pattern[str]
    window: int

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> _Negation:
        zh, en = data["zh"], data["en"]
        zh_re = f"(?:{_alternation(zh['negators'], False)})(?:{_alternation(zh['fillers'], False)})"
        en_re = (
            rf"(?<![a-z'’])(?:{_alternation(en['negators'], True)})"
            rf"(?:\s+(?:{_alternation(en['fillers'], True)})){{0,3}}\s*$"
        )
        return cls(re.compile(zh_re + "{0,3}$"), re.compile(en_re, re.I), int(data["window"]))

    def negator_at(self, text: str, start: int, after: int = 0) -> int | None:
        """Where the negator of the cue at ``start`` begins, or None when it is not negated.

        ``after``: the end of the previous cue; a negator inside a cue (能不能) negates nothing.
        """
        pattern = self.zh if CJK.match(text, start) else self.en
        found = pattern.search(text, max(after, start - self.window), start)
        return found.start() if found else None


class _Cues:
    """The compiled lexicons of ``data/cues.yaml``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.negation = _Negation.from_data(data["negation"])
        flags = data["flags"]
        unknown = set(flags) - set(get_args(FlagName))
        emotions = {k: v for k, v in data["emotions"].items() if k != "negated"}
        unknown |= set(emotions) - set(get_args(EmotionName))
        unknown |= set(data["intent"]) - set(_INTENTS)
        if unknown:
            raise ValueError(f"cues.yaml: unknown categories {sorted(unknown)}")
        self.flags = _matcher("flags", {name: _terms(v) for name, v in flags.items()})
        emoji = {term for v in emotions.values() for term in v.get("emoji", [])}
        self.emoji = frozenset(emoji)
        self.emotions = _matcher("emotions", {name: _terms(v) for name, v in emotions.items()})
        self.negated_emotion: dict[str, str] = dict(data["emotions"].get("negated", {}))
        self.intents = _matcher("intent", {name: _terms(v) for name, v in data["intent"].items()})


def _terms(lists: dict[str, list[str]]) -> list[str]:
    return [str(term) for terms in lists.values() for term in terms]


def _matcher(section: str, categories: dict[str, list[str]]) -> TermMatcher[str]:
    owner: dict[str, str] = {}
    clashes = []
    for name, terms in categories.items():
        for term in terms:
            key = term.lower()
            if owner.setdefault(key, name) != name:
                clashes.append(f"{term!r} in {owner[key]} and {name}")
    if clashes:
        raise ValueError(f"cues.yaml {section}: a term belongs to one category: {clashes}")
    return TermMatcher((t, name, 0) for name, terms in categories.items() for t in terms)


@lru_cache(maxsize=1)
def _cues() -> _Cues:
    text = (resources.files("cxloop.text") / "data" / "cues.yaml").read_text("utf-8")
    return _Cues(yaml.safe_load(text))


def detect_flags(text: str) -> list[Flag]:
    """Churn intent, escalation threats and safety issues, each with the cue as evidence.

    A cue with a negator shortly before it ("不会投诉", "I won't cancel my subscription") does not
    count; "我要投诉" and "再不退款我就投诉" do.
    """
    if not text:
        return []
    cues = _cues()
    out = []
    after = 0
    for start, end, _, name in cues.flags.find(text):
        if cues.negation.negator_at(text, start, after) is None:
            evidence = text[start:end]
            out.append(Flag(name=cast(FlagName, name), start=start, end=end, evidence=evidence))
        after = end
    return out


def detect_emotions(text: str) -> list[Emotion]:
    """Anger, disappointment, worry, joy and surprise cues (words, slang, emoji) with evidence.

    Negated joy ("不开心", "not happy") is reported as disappointment spanning the negator;
    other negated emotions are dropped. Emoji are never negated.
    """
    if not text:
        return []
    cues = _cues()
    out = []
    after = 0
    for start, end, term, name in cues.emotions.find(text):
        previous_end, after = after, end
        if term not in cues.emoji:
            negator = cues.negation.negator_at(text, start, previous_end)
            if negator is not None:
                if name not in cues.negated_emotion:
                    continue
                name, start = cues.negated_emotion[name], negator
        evidence = text[start:end]
        out.append(Emotion(name=cast(EmotionName, name), start=start, end=end, evidence=evidence))
    return out


def intent_cues(text: str) -> set[str]:
    """The intent categories whose cues appear in ``text``, after negation (see module doc)."""
    cues = _cues()
    found = set()
    after = 0
    for start, end, _, name in cues.intents.find(text):
        previous_end, after = after, end
        negatable = name in ("complaint", "praise", "suggestion")
        if negatable and cues.negation.negator_at(text, start, previous_end) is not None:
            if name != "complaint":
                found.add("complaint")
            continue
        found.add(name)
    return found


def detect_intent(text: str, sentiment_score: float) -> Intent:
    """One primary intent, by the precedence in the module doc: complaint cues, then suggestion,
    question and praise cues, then the sentiment score."""
    found = intent_cues(text) if text else set()
    if "complaint" in found:
        return "complaint"
    if "suggestion" in found:
        return "suggestion"
    if "question" in found:
        return "question"
    if "praise" in found and sentiment_score > COMPLAINT_SCORE:
        return "praise"
    if sentiment_score <= COMPLAINT_SCORE:
        return "complaint"
    if sentiment_score >= PRAISE_SCORE:
        return "praise"
    return "none"
