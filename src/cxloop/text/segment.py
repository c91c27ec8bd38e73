"""Words of a text: jieba for Chinese (with a CX user dictionary), a regex tokenizer for English."""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from importlib import resources

import jieba
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from cxloop.text.clauses import script_of

jieba.setLogLevel(logging.WARNING)

_DATA = resources.files("cxloop.text") / "data"
_EN_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ZH_KEEP = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
_LOCK = threading.Lock()
ZH_STOPWORDS = frozenset((_DATA / "stopwords_zh.txt").read_text(encoding="utf-8").split())


@lru_cache(maxsize=1)
def zh_tokenizer() -> jieba.Tokenizer:
    """One jieba tokenizer per process, with our CX terms; its cache goes to a temp file."""
    with _LOCK:
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        with (_DATA / "cx_userdict.txt").open("rb") as handle:  # closed here, not left to jieba
            tokenizer.load_userdict(handle)
        return tokenizer


def words(text: str, lang: str | None = None, *, hmm: bool = True) -> list[str]:
    """Every word in order (Chinese words, English lower-cased), punctuation dropped.

    ``hmm=False`` skips jieba's guessing of unknown words: twice as fast, for per-text keywords.
    """
    lang = lang or script_of(text)
    if lang == "zh":
        return [w for w in zh_tokenizer().lcut(text, HMM=hmm) if _ZH_KEEP.search(w)]
    return _EN_WORD.findall(text.lower())


def tokens(text: str, lang: str | None = None, *, hmm: bool = True) -> list[str]:
    """Content words for keywords, clustering and topic models: stopwords and 1-letter words go."""
    lang = lang or script_of(text)
    out = []
    for word in words(text, lang, hmm=hmm):
        if word.isdigit():
            continue
        if re.fullmatch(r"[a-z0-9']+", word):
            if len(word) > 1 and word not in ENGLISH_STOP_WORDS:
                out.append(word)
        elif word not in ZH_STOPWORDS and len(word) > 1:
            out.append(word)
    return out
