"""The CX topic taxonomy: a 2–3 level tree of topics, each with zh + en terms, matched fast.

The shipped default is ``data/taxonomy.yaml`` (retail, e-commerce, apps and service; its header
explains the format); opt-in packs (``data/packs/hotel.yaml``, ``food_delivery.yaml``) add the
topics of other trades when the settings name them. Matching is ``terms.TermMatcher``.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cxloop.config import TAXONOMY_PACKS
from cxloop.errors import Invalid, NotFound, Problem, UnreadableFile
from cxloop.text.schemas import Lang
from cxloop.text.terms import TermMatcher as TermMatcher  # re-exported for older imports
from cxloop.text.terms import norm_term as norm_term  # enrichment compares terms with it

LANGS: tuple[Lang, Lang] = ("zh", "en")
MAX_DEPTH = 3
_ID = re.compile(r"[a-z][a-z0-9_-]*")
_ALNUM = "A-Za-z0-9"
_WILD_TERM = re.compile(rf"[^*]{{2,}}[{_ALNUM}]\*(?: [^*]+)?|[^*]+")


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


def _read_yaml(path: Path | None, text: str | None = None) -> object:
    try:
        if text is None:
            text = _shipped_text("taxonomy.yaml") if path is None else path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"cannot read taxonomy {path or 'taxonomy.yaml'}: {exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = str(path or "taxonomy.yaml")
        raise Invalid([Problem(where, None, f"not valid YAML: {exc}")]) from exc


def _shipped_text(name: str) -> str:
    return (resources.files("cxloop.text") / "data" / name).read_text("utf-8")


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file; ``None`` reads the shipped default (no packs)."""
    return parse_taxonomy(_read_yaml(Path(path) if path is not None else None))


# ---------------------------------------------------------------- the shipped default and packs


def _pack_names(packs: Iterable[str] | None) -> tuple[str, ...]:
    """Known pack names in ``TAXONOMY_PACKS`` order; ``None``: the ones the settings enable."""
    if packs is None:
        from cxloop.config import get_settings  # the process's settings, as entry points read them

        packs = get_settings().taxonomy_packs
    chosen = {str(p).strip().lower() for p in packs} - {""}
    unknown = sorted(chosen - set(TAXONOMY_PACKS))
    if unknown:
        reason = f"is not a taxonomy pack; known packs: {', '.join(TAXONOMY_PACKS)}"
        raise Invalid([Problem("taxonomy_packs", name, reason) for name in unknown])
    return tuple(p for p in TAXONOMY_PACKS if p in chosen)


def shipped_taxonomy_yaml(packs: Iterable[str] | None = None) -> str:
    """The shipped default with the packs' topics appended, comments kept (for export).

    A term a pack lists is taken from the default topic that lists it too (the hotel pack reads
    噪音 as a stay's noise, the default as a product's): the pack is the company's own context.
    """
    names = _pack_names(packs)
    text = _shipped_text("taxonomy.yaml")
    if not names:
        return text
    data = _read_yaml(None, text)
    assert isinstance(data, dict)
    claimed: set[tuple[str, str]] = set()
    extra: list[Any] = []
    for name in names:
        nodes = _read_yaml(None, _shipped_text(f"packs/{name}.yaml"))
        assert isinstance(nodes, dict)
        extra += nodes["nodes"]
        claimed |= _terms_of(nodes["nodes"])
    data["nodes"] = [_without_terms(n, claimed) for n in data["nodes"]] + extra
    head = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return f"{head}# shipped default + packs: {', '.join(names)}\n\n{body}"


def _terms_of(nodes: list[Any]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for node in nodes:
        for lang in LANGS:
            out |= {(lang, norm_term(t)) for t in (node.get("terms") or {}).get(lang, [])}
        out |= _terms_of(node.get("children") or [])
    return out


def _without_terms(node: dict[str, Any], claimed: set[tuple[str, str]]) -> dict[str, Any]:
    node = dict(node)
    terms = node.get("terms") or {}
    node["terms"] = {
        lang: [t for t in terms.get(lang, []) if (lang, norm_term(t)) not in claimed]
        for lang in LANGS
    }
    node["children"] = [_without_terms(c, claimed) for c in node.get("children") or []]
    return node


def shipped_taxonomy(packs: Iterable[str] | None = None) -> Taxonomy:
    """The shipped default taxonomy (retail, e-commerce, apps, service) plus opt-in ``packs``
    (``hotel``, ``food_delivery``); ``None``: the packs ``CXLOOP_TAXONOMY_PACKS`` enables.
    Loaded and compiled once per process and pack choice."""
    return _shipped(_pack_names(packs))


def shipped_taxonomy_of(version: str) -> Taxonomy | None:
    """The shipped default with the choice of packs whose version this is, if any: features
    computed before the packs changed are then re-analysed only where a changed term occurs."""
    for n in range(len(TAXONOMY_PACKS) + 1):
        for packs in itertools.combinations(TAXONOMY_PACKS, n):
            if _shipped(packs).version == version:
                return _shipped(packs)
    return None


@lru_cache(maxsize=8)
def _shipped(packs: tuple[str, ...]) -> Taxonomy:
    if not packs:
        return load_taxonomy()
    return parse_taxonomy(_read_yaml(None, shipped_taxonomy_yaml(packs)))


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


# ---------------------------------------------------------------- topics by name


def _fold(text: str) -> str:
    return "".join(text.casefold().split()).strip("/")


def topic_spellings(taxonomy: Taxonomy) -> dict[str, list[str]]:
    """Every spelling a topic answers to (case and spaces ignored) → the paths it names: the
    path, the zh and en names, both names joined like a path (质量/正品, quality/authenticity),
    and a leaf id that only one topic has."""
    spellings: dict[str, list[str]] = {}
    ids: dict[str, list[str]] = {}
    for row in taxonomy.describe():
        parents = [taxonomy._nodes[p] for p in _ancestors(row.path)]
        keys = [row.path, row.zh, row.en]
        keys += ["/".join(n.name.zh for n in parents), "/".join(n.name.en for n in parents)]
        for key in keys:
            found = spellings.setdefault(_fold(key), [])
            if row.path not in found:
                found.append(row.path)
        ids.setdefault(_fold(row.path.rsplit("/", 1)[-1]), []).append(row.path)
    for key, paths in ids.items():
        if len(paths) == 1:
            spellings.setdefault(key, paths)
    return spellings


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def resolve_topic(name_or_id: str, taxonomy: Taxonomy | None = None) -> str:
    """The topic path a user means by a path (``quality/authenticity``), a zh or en name (正品,
    Authenticity), names joined like a path (质量/正品) or a leaf id used once; ``Invalid``
    (field ``topic``) when it names no topic, with close matches, or names several.

    Case and spaces are ignored. A name two topics share (口味 is the food pack's taste and
    its flavour) is ambiguous: the message lists both paths so the caller can pick one.
    """
    taxonomy = taxonomy or shipped_taxonomy()
    spellings = topic_spellings(taxonomy)
    paths = spellings.get(_fold(str(name_or_id)), [])
    if len(paths) == 1:
        return paths[0]
    labels = {row.path: f"{row.path} ({row.zh} / {row.en})" for row in taxonomy.describe()}
    if paths:
        listed = ", ".join(labels[p] for p in paths)
        raise Invalid(f"names more than one topic: {listed}; give the path", "topic", name_or_id)
    close = difflib.get_close_matches(_fold(str(name_or_id)), list(spellings), n=8, cutoff=0.6)
    shown = list(dict.fromkeys(p for key in close for p in spellings[key]))[:5]
    hint = f"; close matches: {', '.join(labels[p] for p in shown)}" if shown else ""
    reason = f"is not a topic path, zh or en name{hint} (`cxloop taxonomy show` lists them)"
    raise Invalid(reason, "topic", name_or_id)
