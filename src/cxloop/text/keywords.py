"""Keywords of one text or of a group of texts: content words ranked by tf × idf.

The idf comes from jieba's shipped table for Chinese (built from a large general corpus) and,
for a group, from the group itself, so what is common to every text in it is not a keyword.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from cxloop.text.segment import tokens

_LONG_NUMBER = re.compile(r"\d{5,}|@")
"""Order numbers, phone fragments and the like are never keywords (and may be personal)."""


@lru_cache(maxsize=1)
def _zh_idf() -> tuple[dict[str, float], float]:
    # the file, not the module: importing jieba.analyse builds an unused TF-IDF table (~1 s)
    # and leaves its file open
    table = resources.files("jieba") / "analyse" / "idf.txt"
    idf: dict[str, float] = {}
    for line in table.read_text(encoding="utf-8").splitlines():
        word, _, value = line.partition(" ")
        if value:
            idf[word] = float(value)
    median = sorted(idf.values())[len(idf) // 2]
    return idf, median


def keywords(text: str, lang: str, *, top: int = 5) -> list[str]:
    """The ``top`` most telling words of one text, in order of weight."""
    words = [w for w in tokens(text, lang, hmm=False) if not _LONG_NUMBER.search(w)]
    if not words:
        return []
    counts = Counter(words)
    if lang == "zh":
        idf, default = _zh_idf()
        weight = {w: n * idf.get(w, default) for w, n in counts.items()}
    else:
        weight = {w: n * (1.0 + 0.1 * len(w)) for w, n in counts.items()}
    return [w for w, _ in sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]


def group_keywords(
    texts: Iterable[str], *, lang: str | None = None, top: int = 10
) -> list[tuple[str, int]]:
    """Words that many texts of the group use, weighted down when nearly all of them do.

    Returns (word, number of texts using it), best first.
    """
    document_frequency: Counter[str] = Counter()
    total = 0
    for text in texts:
        total += 1
        document_frequency.update(set(tokens(text, lang)))
    if not total:
        return []
    scored = {
        w: n * math.log(1.0 + total / n)
        for w, n in document_frequency.items()
        if n > 1 or total < 3
    }
    best = sorted(scored, key=lambda w: (-scored[w], w))[:top]
    return [(w, document_frequency[w]) for w in best]
