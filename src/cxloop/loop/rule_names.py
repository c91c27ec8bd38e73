"""What an alert condition may read: the names a feedback offers, their kinds and allowed
spellings, and how a topic pattern is written.

Pure. Choices accept the zh words a Chinese team writes (``负面``, ``贬损者``, ``投诉``) and keep
the canonical value the store holds; topic paths compare without case or width.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

Kind = Literal["number", "choice", "text", "topics", "aspects", "flags", "any"]
ORDER = ("<", "<=", ">", ">=")


def _spellings(**canonical: tuple[str, ...]) -> dict[str, str]:
    return {s.casefold(): name for name, spelled in canonical.items() for s in (name, *spelled)}


SENTIMENTS = _spellings(
    positive=("正面", "积极", "pos"), neutral=("中性", "neu"), negative=("负面", "消极", "neg")
)
NPS_GROUPS = _spellings(detractor=("贬损者",), passive=("被动者", "中立者"), promoter=("推荐者",))
INTENTS = _spellings(
    complaint=("投诉", "抱怨"),
    praise=("表扬",),
    suggestion=("建议",),
    question=("咨询", "提问"),
    none=(),
)
FLAGS = _spellings(escalation=("升级",), churn_intent=("churn", "流失"), safety=("安全",))
LANGUAGES = _spellings(zh=(), en=(), other=(), none=())


@dataclass(frozen=True)
class Name:
    """A name a condition may read: its kind, range or allowed spellings, and a hint."""

    kind: Kind
    low: float | None = None
    high: float | None = None
    choices: Mapping[str, str] = field(default_factory=dict)
    hint: str = ""


NAMES: dict[str, Name] = {
    "nps": Name("number", 0, 10),
    "csat": Name("number", 1, 5),
    "ces": Name("number", 1, 7),
    "rating": Name("number", 0, 10),
    "sentiment_score": Name("number", -1, 1),
    "value_percentile": Name("number", 0, 100, hint="top 20 % by value: value_percentile >= 80"),
    "churn_risk": Name("number", 0, 1, hint="a probability: 0.7 means 70 %"),
    "nps_group": Name("choice", choices=NPS_GROUPS),
    "sentiment": Name("choice", choices=SENTIMENTS),
    "intent": Name("choice", choices=INTENTS),
    "language": Name("choice", choices=LANGUAGES),
    "flag": Name("flags", choices=FLAGS),
    "topic": Name("topics", hint="a topic path; service/* is service and every topic under it"),
    "aspect": Name("aspects", hint="topic:sentiment, e.g. delivery:negative"),
    **{
        text: Name("text")
        for text in (
            "channel",
            "touchpoint",
            "segment",
            "tier",
            "region",
            "role",
            "account_id",
            "customer_id",
        )
    },
}
"""Every name a condition may read, plus ``attributes.<key>`` for the customer's own fields."""
ATTRIBUTES = "attributes."

ALERT_KINDS = _spellings(
    spike=("突增", "激增"),
    drop=("下跌", "下降"),
    emerging_topic=("emerging", "新话题", "新兴话题"),
    off_target=("target", "未达标"),
)
"""The kinds ``metrics.monitoring`` stores, with the zh words a team writes for them."""
ALERT_NAMES: dict[str, Name] = {
    "kind": Name("choice", choices=ALERT_KINDS),
    "subject": Name("text", hint="a metric (nps, csat, ces, responses) or a topic path"),
    "slice": Name("text", hint="'all', or dimension=value pairs, e.g. region=华东"),
    "score": Name("number", hint="robust z (spike, drop, emerging_topic); gap to target"),
    "value": Name("number"),
    "expected": Name("number"),
}
"""What a ``metric_alerts`` condition may read: the stored alert's fields (no customer)."""


@dataclass(frozen=True)
class Pattern:
    """A topic pattern as written and as a regular expression over case-folded paths."""

    written: str
    regex: re.Pattern[str]
    sentiment: str | None = None

    def matches(self, topic: str, sentiment: str | None = None) -> bool:
        feeling = fold(sentiment or "")
        if self.sentiment is not None and SENTIMENTS.get(feeling, feeling) != self.sentiment:
            return False
        return self.regex.fullmatch(fold(topic)) is not None


def fold(text: str) -> str:
    """How names and paths compare: NFKC (full width → half), trimmed, case-folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def topic_pattern(text: str, sentiment: str | None = None) -> Pattern:
    """``service`` and ``service/*``: service and every topic under it; ``*/speed``: a
    ``speed`` under any first level (``*`` stands for one level)."""
    folded = fold(text).strip("/")
    if ":" in folded:
        raise ValueError("has a sentiment: use aspect == '…' for a topic with its sentiment")
    base = folded.removesuffix("/*") if folded != "*" else "*"
    if not base or any(not part.strip() for part in base.split("/")):
        raise ValueError("is not a topic path (e.g. service/attitude, 服务/态度, service/*)")
    body = re.escape(base).replace(r"\*", "[^/]*")
    return Pattern(text, re.compile(rf"{body}(?:/.*)?"), sentiment)


def aspect_pattern(text: str) -> Pattern:
    """``delivery:negative`` (or ``配送：负面``): a topic pattern with the clause's sentiment."""
    topic, _, feeling = fold(text).replace("：", ":").rpartition(":")
    sentiment = SENTIMENTS.get(feeling.strip())
    if not topic.strip() or sentiment is None:
        raise ValueError(
            "is not topic:sentiment, e.g. delivery:negative or 配送:负面"
            " (sentiment: positive, neutral, negative)"
        )
    return replace(topic_pattern(topic.strip(), sentiment), written=text)
