"""The CX topic taxonomy: a 2–3 level tree of topics, each with zh + en terms, and a fast matcher.

The shipped tree is ``data/taxonomy.yaml`` (its header explains the format). ``match`` runs on every
clause of every feedback row, so each language's terms are compiled once into one trie-shaped regex
(at every position the longest term is tried first) and looked up by a dict afterwards.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cxloop.errors import Invalid, NotFound, Problem, UnreadableFile
from cxloop.text.schemas import Lang

LANGS: tuple[Lang, Lang] = ("zh", "en")
MAX_DEPTH = 3
_ID = re.compile(r"[a-z][a-z0-9_-]*")
_ALNUM = "A-Za-z0-9"
_WILD_TERM = re.compile(rf"[^*]{{2,}}[{_ALNUM}]\*(?: [^*]+)?|[^*]+")
T = TypeVar("T")


# ---------------------------------------------------------------- term matching (shared with cues)


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


# ---------------------------------------------------------------- the file's shape


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TopicName(_Strict):
    zh: str
    en: str


class TopicTerms(_Strict):
    zh: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)


class TopicNode(_Strict):
    id: str
    name: TopicName
    terms: TopicTerms = Field(default_factory=TopicTerms)
    children: list[TopicNode] = Field(default_factory=list)


class TaxonomySpec(_Strict):
    nodes: list[TopicNode]


@dataclass(frozen=True, slots=True)
class TopicHit:
    """A taxonomy term found in a text: ``text[start:end]`` is the evidence."""

    path: str
    start: int
    end: int
    term: str


class TopicRow(NamedTuple):
    path: str
    zh: str
    en: str
    terms: int


# ---------------------------------------------------------------- validation


def _field(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _check_nodes(
    nodes: object,
    prefix: str,
    parent: str,
    depth: int,
    seen: dict[tuple[str, str], tuple[str, str]],
) -> list[Problem]:
    """Rules pydantic cannot express; tolerant of wrong shapes (pydantic reports those)."""
    problems: list[Problem] = []
    if not isinstance(nodes, list):
        return problems
    ids: dict[str, str] = {}
    for i, node in enumerate(nodes):
        at = f"{prefix}[{i}]"
        if not isinstance(node, dict):
            continue
        node_id = node.get("id")
        path = f"{parent}/{node_id}" if parent else str(node_id)
        if isinstance(node_id, str):
            if not _ID.fullmatch(node_id):
                reason = "must be lower-case ascii letters, digits, _ or -, starting with a letter"
                problems.append(Problem(f"{at}.id", node_id, reason))
            if node_id in ids:
                reason = f"duplicate id among siblings (also {ids[node_id]}.id)"
                problems.append(Problem(f"{at}.id", node_id, reason))
            ids.setdefault(node_id, at)
        if depth == MAX_DEPTH + 1:
            problems.append(Problem(at, node_id, f"nested deeper than {MAX_DEPTH} levels"))
        name = node.get("name")
        for lang in LANGS:
            value = name.get(lang) if isinstance(name, dict) else None
            if isinstance(value, str) and not value.strip():
                problems.append(Problem(f"{at}.name.{lang}", value, "must not be empty"))
        terms = node.get("terms")
        count = 0
        for lang in LANGS:
            listed = terms.get(lang) if isinstance(terms, dict) else None
            for j, term in enumerate(listed if isinstance(listed, list) else []):
                if not isinstance(term, str):
                    continue
                count += 1
                problems += _check_term(term, f"{at}.terms.{lang}[{j}]", lang, path, seen)
        children = node.get("children")
        if not count and not children:
            problems.append(Problem(at, node_id, "has neither terms nor children"))
        problems += _check_nodes(children, f"{at}.children", path, depth + 1, seen)
    return problems


def _check_term(
    term: str, at: str, lang: str, path: str, seen: dict[tuple[str, str], tuple[str, str]]
) -> list[Problem]:
    key = norm_term(term)
    if not key:
        return [Problem(at, term, "must not be empty")]
    if not _WILD_TERM.fullmatch(key):
        reason = "a * must end a word, after at least 3 characters ending in a letter or digit"
        return [Problem(at, term, reason)]
    owner, first = seen.setdefault((lang, key), (path, at))
    if first == at:
        return []
    where = "this topic" if owner == path else f"topic {owner}"
    return [Problem(at, term, f"{lang} term already used by {where} ({first})")]


def parse_taxonomy(data: object) -> Taxonomy:
    """Validate a loaded YAML document; raise ``Invalid`` listing every problem found."""
    if not isinstance(data, dict):
        raise Invalid([Problem("", type(data).__name__, "must be a mapping with a `nodes` list")])
    problems: list[Problem] = []
    spec: TaxonomySpec | None = None
    try:
        spec = TaxonomySpec.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(Problem(_field(err["loc"]), err.get("input"), err["msg"]))
    nodes = data.get("nodes")
    if isinstance(nodes, list) and not nodes:
        problems.append(Problem("nodes", nodes, "must list at least one topic"))
    problems += _check_nodes(nodes, "nodes", "", 1, {})
    if problems or spec is None:
        raise Invalid(problems)
    return Taxonomy(spec)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file; ``None`` reads the one shipped with cxloop."""
    try:
        if path is None:
            text = (resources.files("cxloop.text") / "data" / "taxonomy.yaml").read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"cannot read taxonomy {path or 'taxonomy.yaml'}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = str(path or "taxonomy.yaml")
        raise Invalid([Problem(where, None, f"not valid YAML: {exc}")]) from exc
    return parse_taxonomy(data)


@lru_cache(maxsize=1)
def shipped_taxonomy() -> Taxonomy:
    """The shipped taxonomy, loaded and compiled once per process."""
    return load_taxonomy()


# ---------------------------------------------------------------- the taxonomy


class Taxonomy:
    """A validated taxonomy with compiled matchers; build it with ``parse_taxonomy``."""

    def __init__(self, spec: TaxonomySpec) -> None:
        self.spec = spec
        self._nodes: dict[str, TopicNode] = {}
        self._walk(spec.nodes, "")
        entries: dict[Lang, list[tuple[str, str, int]]] = {"zh": [], "en": []}
        for path, node in self._nodes.items():
            depth = path.count("/") + 1
            for lang in LANGS:
                entries[lang] += [(term, path, depth) for term in getattr(node.terms, lang)]
        self._matchers = {lang: TermMatcher(entries[lang]) for lang in LANGS}
        canonical = json.dumps(
            spec.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )
        self.version = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        """sha256 of a canonical dump: equal taxonomies share it, any edit changes it."""

    def _walk(self, nodes: list[TopicNode], parent: str) -> None:
        for node in nodes:
            path = f"{parent}/{node.id}" if parent else node.id
            self._nodes[path] = node
            self._walk(node.children, path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Taxonomy) and other.version == self.version

    def __hash__(self) -> int:
        return hash(self.version)

    def paths(self) -> list[str]:
        """Every topic path, parents before their children, in file order."""
        return list(self._nodes)

    def name(self, path: str, lang: Lang) -> str:
        node = self._nodes.get(path)
        if node is None:
            raise NotFound(f"no topic {path!r} in the taxonomy")
        return str(getattr(node.name, lang))

    def match(self, text: str, lang: Lang) -> list[TopicHit]:
        """Every topic term in ``text``, in text order, offsets into ``text``.

        English: case-insensitive, whole words, ``deliver*`` matches delivery, delivered…;
        Chinese: substrings. Overlapping terms: the longer wins, then the deeper topic.
        """
        return [TopicHit(p, s, e, t) for s, e, t, p in self._matchers[lang].find(text)]

    def _term_owners(self) -> dict[tuple[str, str], str]:
        return {
            (lang, norm_term(term)): path
            for path, node in self._nodes.items()
            for lang in LANGS
            for term in getattr(node.terms, lang)
        }

    def changed_terms(self, other: Taxonomy) -> set[str]:
        """Terms (lower-cased, any ``*`` dropped) added, removed or moved to another topic.

        Only texts containing one of them can match differently, so only those need re-analysis.
        """
        mine, theirs = self._term_owners(), other._term_owners()
        changed = {key for key in mine.keys() | theirs.keys() if mine.get(key) != theirs.get(key)}
        return {term.replace("*", "") for _, term in changed}

    def describe(self) -> list[TopicRow]:
        """One row per topic for ``cxloop taxonomy show``: path, names, number of terms."""
        return [
            TopicRow(path, node.name.zh, node.name.en, len(node.terms.zh) + len(node.terms.en))
            for path, node in self._nodes.items()
        ]

    def to_yaml(self) -> str:
        """The taxonomy as YAML that ``parse_taxonomy`` reads back (comments are not kept)."""
        body = yaml.safe_dump(
            self.spec.model_dump(mode="json"), allow_unicode=True, sort_keys=False, width=100
        )
        head = f"# cxloop CX taxonomy {self.version[:12]}; format: see the shipped taxonomy.yaml"
        return f"{head}\n{body}"
