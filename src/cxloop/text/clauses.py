"""Split a text into clauses, so topics get the sentiment of the clause they sit in.

Hand-written rather than a library's sentence splitter because the cut points a CX reader needs
are finer than sentences: "送货很快但是客服态度很差" is one sentence and two opinions.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Literal

from cxloop.text.schemas import Lang

Role = Literal["plain", "concession", "contrast"]
"""``concession``: the part a contrast overrides ("虽然…", "although…");
``contrast``: the part that carries the weight ("但是…", "but…")."""

_BREAK = re.compile(r"[，,。．!！?？;；:：~～…\n\r\t\u0085|/]+|\.(?![0-9A-Za-z_@-])\.*|\s{2,}")
"""Not ``、`` (物流、包装、质量都很差 is one opinion about three things) and not a ``.`` inside a
number, an email or a domain (9.9元, a@b.com)."""
_CONTRAST_ZH = ("但是", "可是", "不过", "然而", "但", "只是", "就是有点", "却")
_CONTRAST_EN = ("but", "however", "though", "yet", "except", "unfortunately")
_CONCESSION_ZH = ("虽然", "尽管", "虽说", "虽")
_CONCESSION_EN = ("although", "even though", "while", "despite", "though")
_CONTRAST_SPLIT = re.compile(
    r"(?=(?:但是|可是|不过|然而))|(?<=[^\s不])(?=但(?![是愿凡]))"
    r"|(?i:\b(?=(?:but|however|unfortunately|except|although)\b))"
)
"""A cut before a contrast word, never inside a word (不但, 但愿) nor before 只是 ("just") or a
trailing "though"; "even though" stays whole (no cut before "though" at all)."""
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
"""One Chinese character (CJK unified ideographs and compatibility ideographs)."""
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True, slots=True)
class Clause:
    text: str
    start: int
    end: int
    lang: Lang
    role: Role


def script_of(text: str) -> Lang:
    """Chinese when the clause has more CJK characters than Latin letters, else English."""
    cjk = len(CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if cjk and cjk * 3 >= latin else "en"


def _role(text: str, lang: str) -> Role:
    head = text.lstrip().lower()
    if lang == "zh":
        if head.startswith(_CONCESSION_ZH):
            return "concession"
        if head.startswith(_CONTRAST_ZH) and not head.startswith(("但愿", "但凡")):
            return "contrast"
        return "plain"
    if head.startswith(_CONCESSION_EN):
        return "concession"
    if head.startswith(_CONTRAST_EN):
        return "contrast"
    return "plain"


def split_clauses(text: str) -> list[Clause]:
    """Clauses with their offsets in ``text``; punctuation and contrast words cut them."""
    clauses: list[Clause] = []
    pos = 0
    pieces: list[tuple[int, int]] = []
    for match in _BREAK.finditer(text):
        pieces.append((pos, match.start()))
        pos = match.end()
    pieces.append((pos, len(text)))
    for start, end in pieces:
        chunk = text[start:end]
        cuts = [m.start() for m in _CONTRAST_SPLIT.finditer(chunk) if 0 < m.start() < len(chunk)]
        bounds = [0, *cuts, len(chunk)]
        for a, b in itertools.pairwise(bounds):
            raw = chunk[a:b]
            stripped = raw.strip()
            if not stripped:
                continue
            offset = start + a + (len(raw) - len(raw.lstrip()))
            lang = script_of(stripped)
            clauses.append(
                Clause(stripped, offset, offset + len(stripped), lang, _role(stripped, lang))
            )
    return clauses
