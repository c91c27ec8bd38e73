"""Feedback rows in customers' own voices: identity as the channel records it, language, text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cxloop.demo import texts
from cxloop.demo.draws import Row, at, fmt_email, fmt_phone, pick

_STAGE = {
    "delivery": "buy",
    "app": "use",
    "website": "buy",
    "store": "buy",
    "call_center": "service",
}


class Voices:
    """Collects feedback rows and speaks for customers: identity, language, topic, text."""

    def __init__(self, rng: np.random.Generator, cust: pd.DataFrame, origin: np.datetime64):
        self.rng, self.origin = rng, origin
        self.rows: list[Row] = []
        self.c = {k: cust[k].astype(object).where(cust[k].notna(), None).tolist() for k in cust}

    def author(self, i: int, prefer: Sequence[str]) -> Row:
        """An identity of customer ``i`` as the channel would record it, formats varied."""
        c, rng = self.c, self.rng
        for kind in prefer:
            if kind == "email" and c["_email"][i]:
                return {"author_email": fmt_email(rng, c["_email"][i])}
            if kind == "phone" and c["_phone"][i]:
                return {"author_phone": fmt_phone(rng, c["_phone"][i], (0, 1, 2, 3, 4, 5))}
            if kind == "member" and c["member_id"][i]:
                return {"author_member_id": c["member_id"][i]}
        return {"customer_id": c["customer_id"][i]}

    def lang(self, english: bool = False) -> str:
        return "en" if self.rng.random() < (0.7 if english else 0.22) else "zh"

    def polarity(self, cls: str, noise: float = 0.08) -> str:
        """Text sentiment agreeing with the score class most of the time."""
        if self.rng.random() < noise:
            return str(pick(self.rng, ("pos", "neg", "mixed"), 1)[0])
        return cls

    def text(self, lang: str, pol: str, pool: Sequence[str], slow: bool) -> tuple[str, str]:
        return texts.speak(self.rng, lang, pol, pool, slow)

    def add(self, day: int, channel: str, source: str, idp: str | None, **fields: Any) -> Row:
        row = {
            "created_at": at(self.rng, self.origin, [day])[0],
            "channel": channel,
            "source": source,
            "_id": idp,
            **fields,
        }
        self.rows.append(row)
        return row

    def customer(
        self,
        i: int,
        day: int,
        channel: str,
        source: str,
        idp: str | None,
        pool: Sequence[str],
        pol: str,
        prefer: Sequence[str],
        **fields: Any,
    ) -> Row:
        """A piece of feedback by customer ``i`` about a topic from ``pool``."""
        lang = self.lang(self.c["_english"][i])
        topic, body = self.text(lang, pol, pool, self.c["_slow"][i])
        touch = fields.pop("touchpoint", texts.TOPIC_TOUCHPOINT.get(topic, "app"))
        fields.setdefault("journey_stage", _STAGE[touch])
        if channel in ("ticket", "email", "forum"):
            fields["title"] = texts.title(lang, pol, topic)
        return self.add(
            day,
            channel,
            source,
            idp,
            text=body,
            language=lang,
            touchpoint=touch,
            **self.author(i, prefer),
            **fields,
        )


def score_class(score: int, low: int, high: int) -> str:
    return "neg" if score <= low else "pos" if score >= high else "mixed"
