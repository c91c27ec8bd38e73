"""Pure: the headers that name the voice in real exports — the text, and scores of unknown scale.

In-house systems and survey tools name a comment 留言, 意见, 建议 or feedback, and a score 打分,
评分 or rating without saying its scale; this module knows those names and how to tell, from
a file's own values, which scale such a score is on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # callers hold frames already; `cxloop import --help` needs no pandas
    import pandas as pd

TEXT_HEADERS = (
    "内容",
    "评论内容",
    "评价内容",
    "反馈内容",
    "留言",
    "留言内容",
    "用户留言",
    "评价",
    "评论",
    "意见",
    "建议",
    "意见建议",
    "意见和建议",
    "意见或建议",
    "反馈",
    "用户反馈",
    "问题描述",
    "文本",
    "review",
    "review_text",
    "comment",
    "comments",
    "feedback",
    "body",
    "message",
    "content",
    "verbatim",
    "open_text",
)
"""Header names (compared normalised) of the free-text field of feedback."""

AMBIGUOUS_SCORE_HEADERS = frozenset(
    {"评分", "打分", "分数", "得分", "总分", "总体评分", "综合评分", "score", "overall_rating"}
)
"""Header names (normalised) of a score whose scale the header does not tell. A column named
exactly as a field (``rating``, ``nps``, ``csat``) means that field, as in API batches."""

SCORE_FIELDS = ("nps", "csat", "ces", "rating")
_LOOKS_LIKE_SCORE = re.compile(r"分|星|推荐|满意|score|rating|star|nps|csat|grade", re.IGNORECASE)
_LOOKS_LIKE_TEXT = re.compile(
    r"留言|意见|建议|评价|评论|反馈|内容|描述|原因|备注|comment|review|feedback|text|remark|note",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ScaleDecision:
    """Which field an ambiguous score column feeds, and the values that decided it."""

    field: str
    low: float | None
    high: float | None
    reason: str


def decide_scale(cells: pd.Series) -> ScaleDecision:
    """The rule the README states: whole numbers all within 1–5 → ``csat``; whole numbers
    within 0–10 otherwise → ``nps``; decimals (4.5 stars) or no usable value → ``rating``.

    Cells that are not numbers, or lie outside 0–10, don't vote (they are quarantined later
    by the field's own rule), so two typos cannot flip a whole file's scale.
    """
    import pandas as pd

    numbers = pd.to_numeric(cells, errors="coerce").dropna()
    numbers = numbers[(numbers >= 0) & (numbers <= 10)]
    if numbers.empty:
        return ScaleDecision("rating", None, None, "read as rating: no value between 0 and 10")
    low, high = float(numbers.min()), float(numbers.max())
    span = f"values run {low:g}–{high:g}"
    if not (numbers == numbers.round()).all():
        return ScaleDecision("rating", low, high, f"read as rating (0–10): {span} with decimals")
    if low >= 1 and high <= 5:
        return ScaleDecision("csat", low, high, f"read as CSAT (1–5): {span}")
    return ScaleDecision("nps", low, high, f"read as NPS (0–10): {span}")


_WORDY = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]{3,}\s")


def looks_like_score(header: str, cells: pd.Series) -> bool:
    """A column named like a score, or whose filled cells are mostly whole numbers 0–10."""
    if _LOOKS_LIKE_SCORE.search(header):
        return True
    import pandas as pd

    filled = pd.Series([c for c in cells.dropna().tolist() if str(c).strip()], dtype=object)
    if len(filled) < 5:
        return False
    numbers = pd.to_numeric(filled, errors="coerce")
    share = ((numbers >= 0) & (numbers <= 10) & (numbers == numbers.round())).mean()
    return bool(share >= 0.8)


def looks_like_text(header: str, cells: pd.Series) -> bool:
    """A column named like a comment, or whose filled cells are mostly sentences (≥ 8 chars
    with letters or Chinese, not numbers, codes or dates)."""
    if _LOOKS_LIKE_TEXT.search(header):
        return True
    # plain str, not pandas' Arrow strings: a lone surrogate must reach validation, not crash here
    filled = [t for c in cells.dropna().tolist() if (t := str(c).strip())]
    if len(filled) < 5:
        return False
    wordy = [len(t) >= 8 and bool(_WORDY.search(t)) for t in filled]
    return sum(wordy) >= 0.5 * len(wordy)
