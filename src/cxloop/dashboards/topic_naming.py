"""Discovery candidates, and naming one into the taxonomy: the active taxonomy with one new
topic, applied through ``feedback.enrichment.apply_taxonomy`` — the function ``cxloop taxonomy
apply`` calls — so it becomes a new taxonomy version and only the feedback containing one of
the new terms is re-analysed.

Every refusal is said in words before anything is written: an empty name, a name with a slash
(it separates the levels of a path), a name another topic already answers to, an unknown or
too deep parent, a term another topic already has.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from sqlalchemy.orm import Session

from cxloop.dashboards.schemas_topics import CandidatesResult, TopicNameRequest, TopicNameResult
from cxloop.errors import Invalid, Problem
from cxloop.feedback import discovery
from cxloop.feedback.enrichment import active_taxonomy, active_taxonomy_yaml, apply_taxonomy
from cxloop.text.taxonomy import (
    MAX_DEPTH,
    Taxonomy,
    TopicNode,
    norm_term,
    parse_taxonomy,
    topic_spellings,
)

CANDIDATES_METHOD = (
    "feedback.discovery over the newest 5,000 analysed zh/en texts of the whole store that no "
    "topic covers (personal data masked before clustering); a candidate's keywords become the "
    "new topic's terms."
)
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff]")


def _fold(text: str) -> str:
    return "".join(text.casefold().split())


def candidates(*, session: Session) -> CandidatesResult:
    """The discovery candidates and the topics that may take a child."""
    taxonomy = active_taxonomy(session=session)
    return CandidatesResult(
        candidates=discovery.discover(session=session),
        parents=[p for p in taxonomy.paths() if p.count("/") + 1 < MAX_DEPTH],
        method=CANDIDATES_METHOD,
    )


def _slug(name: str, taken: set[str]) -> str:
    """A node id from the English name (``Praise & thanks`` → ``praise-thanks``), else
    ``topic``; numbered when a sibling has it."""
    base = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")
    base = base if base and base[0].isalpha() else f"topic-{base}".strip("-")
    found, n = base, 2
    while found in taken:
        found, n = f"{base}-{n}", n + 1
    return found


def _check(taxonomy: Taxonomy, request: TopicNameRequest) -> tuple[str, str, list[str]]:
    """The names (each defaulting to the other) and cleaned terms; ``Invalid`` listing every
    problem of the request."""
    zh, en = request.name_zh.strip(), request.name_en.strip()
    zh, en = zh or en, en or zh
    problems: list[Problem] = []
    if not zh:
        problems.append(Problem("name", "", "must not be empty: give a zh or an en name"))
    spellings = topic_spellings(taxonomy)
    labels = {r.path: f"{r.path} ({r.zh} / {r.en})" for r in taxonomy.describe()}
    typed = [("name_zh", zh)] if request.name_zh.strip() else []
    typed += [("name_en", en)] if request.name_en.strip() and (not typed or en != zh) else []
    given = typed  # a name copied from the other is checked (and reported) once
    for field, name in given:
        if "/" in name:
            reason = "must not contain a slash: / separates the levels of a topic path"
            problems.append(Problem(field, name, reason + "; choose the parent instead"))
        elif name and _fold(name) in spellings:
            owner = ", ".join(labels.get(p, p) for p in spellings[_fold(name)])
            reason = f"is already the name of topic {owner}; choose another name"
            problems.append(Problem(field, name, reason + " or add the terms to that topic"))
    parent = (request.parent or "").strip().strip("/") or None
    if parent is not None and parent not in taxonomy.paths():
        reason = "is not a topic path of the active taxonomy (`cxloop taxonomy show` lists them)"
        problems.append(Problem("parent", parent, reason))
    elif parent is not None and parent.count("/") + 1 >= MAX_DEPTH:
        reason = f"is at level {MAX_DEPTH}: topics nest at most {MAX_DEPTH} levels"
        problems.append(Problem("parent", parent, reason))
    terms = list(dict.fromkeys(t.strip() for t in request.terms if t.strip()))
    if not terms:
        reason = "must list at least one word that means this topic (the candidate's keywords)"
        problems.append(Problem("terms", [], reason))
    owners = _term_owners(taxonomy.spec.nodes, "")
    for term in terms:
        taken = owners.get((_language(term), norm_term(term)))
        if taken is not None:
            problems.append(Problem("terms", term, f"already belongs to topic {labels[taken]}"))
    if problems:
        raise Invalid(problems)
    return zh, en, terms


def _term_owners(nodes: list[TopicNode], parent: str) -> dict[tuple[str, str], str]:
    """(language, normalised term) → the path of the topic that lists it."""
    owners: dict[tuple[str, str], str] = {}
    for node in nodes:
        path = f"{parent}/{node.id}" if parent else node.id
        for lang in ("zh", "en"):
            owners |= {(lang, norm_term(t)): path for t in getattr(node.terms, lang)}
        owners |= _term_owners(node.children, path)
    return owners


def _language(term: str) -> str:
    """Chinese terms are matched as substrings, the others as whole words."""
    return "zh" if _CJK.search(term) else "en"


def _insert(document: dict[str, Any], parent: str | None, node: dict[str, Any]) -> str:
    """Put ``node`` last among ``parent``'s children (the first level without one); its id."""
    siblings: list[dict[str, Any]] = document["nodes"]
    for part in parent.split("/") if parent else []:
        owner = next(n for n in siblings if n.get("id") == part)
        siblings = owner.setdefault("children", [])
    node_id = _slug(node["name"]["en"], {str(n.get("id")) for n in siblings})
    siblings.append({"id": node_id, **node})
    return node_id


def name_candidate(
    *, session: Session, request: TopicNameRequest, workers: int = 1
) -> TopicNameResult:
    """Add the named topic to the active taxonomy and apply it as a new version; feedback
    containing a new term is re-analysed now (the rest keep their features)."""
    taxonomy = active_taxonomy(session=session)
    zh, en, terms = _check(taxonomy, request)
    document = yaml.safe_load(active_taxonomy_yaml(session=session))
    node = {
        "name": {"zh": zh, "en": en},
        "terms": {lang: [t for t in terms if _language(t) == lang] for lang in ("zh", "en")},
    }
    parent = (request.parent or "").strip().strip("/") or None
    node_id = _insert(document, parent, node)
    updated = parse_taxonomy(document)
    path = f"{parent}/{node_id}" if parent else node_id
    applied = apply_taxonomy(
        session=session, taxonomy=updated, source_yaml=updated.to_yaml(), workers=workers
    )
    return TopicNameResult(path=path, applied=applied)
