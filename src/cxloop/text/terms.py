"""Finding a list of terms in text, fast: the matcher behind taxonomy topics and cue lexicons.

Each language's terms are compiled once into one trie-shaped regex (at every position the longest
term is tried first) and looked up by a dict afterwards: it runs on every clause of every text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property
from typing import Any, Generic, TypeVar

_ALNUM = "A-Za-z0-9"
T = TypeVar("T")


def norm_term(term: str) -> str:
    """How terms and matched text are compared: lower-cased, one space between words, ' for ’."""
    return " ".join(term.replace("’", "'").lower().split())


def _edge(ch: str) -> str:
    if ch == " ":
        return r"\s+"
    if ch == "*":
        return f"[{_ALNUM}]*"
    if ch == "'":
        return "['’]"
    return re.escape(ch)


def _is_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _render(node: dict[str, Any], prev: str | None) -> str:
    """Regex for a trie node: children first (``*`` last), then the end of a term.

    ASCII words get word boundaries on the sides where the term has a letter or digit, so ``bad``
    misses ``badge`` while Chinese terms stay plain substrings (also next to Latin letters).
    """
    alts = []
    for ch in sorted(node, key=lambda c: (c == "*", c)):
        if ch == "":
            continue
        head = _edge(ch)
        if prev is None and _is_alnum(ch):
            head += f"(?<![{_ALNUM}].)"
        alts.append(head + _render(node[ch], ch))
    if "" in node:
        end = f"(?![{_ALNUM}])" if prev is not None and _is_alnum(prev) else ""
        if not alts:
            return end
        if not end:
            return f"(?:{'|'.join(alts)})?"
        alts.append(end)
    return alts[0] if len(alts) == 1 else f"(?:{'|'.join(alts)})"


class TermMatcher(Generic[T]):
    """Finds terms in text: leftmost-longest, case-insensitive, ``word*`` matches continuations.

    Each term carries a payload (a topic path, a cue category) and a rank. When two hits overlap,
    the longer wins, then the higher rank (deeper topic), then the earlier one.
    """

    def __init__(self, entries: Iterable[tuple[str, T, int]]) -> None:
        # term, payload, rank, and whether a longer term could start inside it (then look)
        self._exact: dict[str, tuple[str, T, int, bool]] = {}
        self._wild: list[tuple[re.Pattern[str], str, T, int]] = []
        for term, payload, rank in entries:
            key = norm_term(term)
            if not key.strip("*"):
                raise ValueError(f"cannot match the empty term {term!r}")
            if "*" in key:
                regex = "".join(_edge(c) for c in key)
                self._wild.append((re.compile(regex, re.I), term, payload, rank))
            else:
                self._exact[key] = (term, payload, rank, False)
        self._wild.sort(key=lambda w: -len(w[1]))
        keys = [*self._exact, *(norm_term(w[1]) for w in self._wild)]
        prefixes = {key[:i] for key in keys for i in range(1, len(key))}
        for key, (term, payload, rank, _) in self._exact.items():
            overlaps = any(key[i:] in prefixes for i in range(1, len(key)))
            self._exact[key] = (term, payload, rank, overlaps)
        trie: dict[str, Any] = {}
        for key in keys:
            node = trie
            for ch in key:
                node = node.setdefault(ch, {})
            node[""] = {}
        self._regex = _render(trie, None) if trie else r"(?!x)x"
        # Matched against the lower-cased text: no IGNORECASE keeps sre's first-character scan.
        self.pattern = re.compile(self._regex)

    @cached_property
    def _pattern_i(self) -> re.Pattern[str]:
        """For the rare text whose lower-casing changes its length (offsets would shift)."""
        return re.compile(self._regex, re.I)

    def _lookup(self, surface: str) -> tuple[str, T, int, bool] | None:
        found = self._exact.get(surface) or self._exact.get(norm_term(surface))
        if found is None:
            for regex, term, payload, rank in self._wild:
                if regex.fullmatch(surface):
                    return term, payload, rank, True
        return found

    def find(self, text: str) -> list[tuple[int, int, str, T]]:
        """Non-overlapping hits ``(start, end, term, payload)`` in text order."""
        subject, pattern = text.lower(), self.pattern
        if len(subject) != len(text):
            subject, pattern = text, self._pattern_i
        hits: list[tuple[int, int, str, T, int]] = []
        extra = False
        for m in pattern.finditer(subject):
            start, end = m.span()
            entry = self._lookup(m.group())
            if entry is None:
                continue
            hits.append((start, end, entry[0], entry[1], entry[2]))
            if not entry[3]:
                continue
            for i in range(start + 1, end):  # a longer term starting inside this one?
                inner = pattern.match(subject, i)
                if inner is not None and inner.end() > end:
                    found = self._lookup(inner.group())
                    if found is not None:
                        hits.append((i, inner.end(), found[0], found[1], found[2]))
                        extra = True
        if extra:
            hits.sort(key=lambda h: (h[0] - h[1], -h[4], h[0]))
            kept: list[tuple[int, int, str, T, int]] = []
            for hit in hits:
                if all(hit[1] <= k[0] or hit[0] >= k[1] for k in kept):
                    kept.append(hit)
            hits = sorted(kept, key=lambda h: h[0])
        return [(s, e, term, payload) for s, e, term, payload, _ in hits]
