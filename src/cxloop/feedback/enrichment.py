"""Text features of stored feedback: analysed once, kept fresh, re-analysed only when needed.

A feedback row's features (``feedback_text``, one ``feedback_topic`` row per topic) are stale
when they are missing, when the engine changed (``model_version``), when the row's text changed
(``text_hash``), or when the taxonomy changed (``taxonomy_version``). The last is cheap to fix:
only a text containing a term that the change added, removed or moved can match differently, so
every other row just gets its version mark updated.

Runs page through ``feedback`` by primary key (bounded memory at any size) and hand each batch's
writes to the caller's ``checkpoint`` (an entry point commits there): a run killed midway keeps
the finished batches, and the next run picks up exactly what is still stale. Services flush only.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from itertools import chain
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import Table, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from cxloop.db.base import utcnow
from cxloop.db.bulk import update_rows
from cxloop.errors import Invalid, Problem
from cxloop.feedback.models import (
    TOPIC_L1_LENGTH,
    TOPIC_LENGTH,
    Feedback,
    FeedbackText,
    FeedbackTopic,
    TaxonomyVersion,
)
from cxloop.feedback.schemas import EnrichSummary, TaxonomyApplyResult
from cxloop.text.taxonomy import (
    Taxonomy,
    norm_term,
    parse_taxonomy,
    shipped_taxonomy,
    shipped_taxonomy_of,
    shipped_taxonomy_yaml,
)

if TYPE_CHECKING:
    from cxloop.text.schemas import TextAnalysis

Progress = Callable[[int], None]
Checkpoint = Callable[[], None]

FEEDBACK: Table = Feedback.__table__  # type: ignore[assignment]
FEATURES: Table = FeedbackText.__table__  # type: ignore[assignment]
TOPICS: Table = FeedbackTopic.__table__  # type: ignore[assignment]
_NOTHING = object()
BATCH_SIZE = 1000
"""Rows per page read and per batch written (and committed, where the caller checkpoints)."""
IDS_PER_QUERY = 1000
POOL_MIN_ROWS = 1000
"""Fewer rows than this (an import's small chunk, a test's file) are analysed in this process:
worker processes pay off over a few thousand texts, not a few hundred."""
ENGINE_LIBRARIES = ("jieba", "py3langid", "vaderSentiment", "scikit-learn", "numpy", "phonenumbers")
"""Distributions whose upgrade can change an analysis: their versions are part of the engine's."""


# ---------------------------------------------------------------- versions

NOT_ANALYSIS = frozenset({"topic_model.py", "discovery.py"})
"""``cxloop.text`` modules that ``analyze`` never runs: editing them leaves features fresh."""


@functools.lru_cache(maxsize=1)
def model_version() -> str:
    """Which engine computed stored features: a hash of the ``cxloop.text`` code (but for the
    modules analysis never runs, ``NOT_ANALYSIS``), its rules and lexicons
    (``data/``, the taxonomy excepted: it has its own version) and its models. An upgraded engine
    marks features stale; an edit to the topic classifier or discovery, which analysis does not
    use, does not. The versions of the libraries analysis relies on (``ENGINE_LIBRARIES``:
    segmentation, language detection, the sentiment lexicon, the model's maths, phone numbers)
    are folded in too, so upgrading one of them marks features stale as well."""
    root = resources.files("cxloop.text")
    files = [
        (entry.name, entry.read_bytes())
        for entry in root.iterdir()
        if entry.name.endswith(".py") and entry.name not in NOT_ANALYSIS
    ]
    for folder in ("data", "models"):
        files += [
            (f"{folder}/{entry.name}", entry.read_bytes())
            for entry in (root / folder).iterdir()
            if entry.is_file() and f"{folder}/{entry.name}" != "data/taxonomy.yaml"
        ]
    digest = hashlib.sha256()
    for name, data in sorted(files):
        digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
    for library in ENGINE_LIBRARIES:
        digest.update(f"{library}=={_library_version(library)}\0".encode())
    return digest.hexdigest()[:32]


def _library_version(name: str) -> str:
    """A distribution's installed version (``absent`` when it is not installed)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def text_hash(text: str | None) -> str:
    """Hash of the analysed text (no text hashes like the empty one: both read as ``none``)."""
    data = (text or "").encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# ---------------------------------------------------------------- the active taxonomy


@functools.lru_cache(maxsize=1)
@functools.lru_cache(maxsize=8)
def _parsed(yaml_text: str) -> Taxonomy:
    return parse_taxonomy(yaml.safe_load(yaml_text))


def _active_row(session: Session) -> TaxonomyVersion | None:
    return session.scalars(
        select(TaxonomyVersion).order_by(TaxonomyVersion.id.desc()).limit(1)
    ).first()


def active_taxonomy(*, session: Session) -> Taxonomy:
    """The taxonomy applied last, or the shipped one when none was."""
    row = _active_row(session)
    return _parsed(row.yaml) if row is not None else shipped_taxonomy()


def active_taxonomy_yaml(*, session: Session) -> str:
    """The active taxonomy as its file (comments kept), for a user to edit and apply again."""
    row = _active_row(session)
    if row is not None:
        return row.yaml
    return shipped_taxonomy_yaml()  # the default and the packs the settings enable


def _taxonomy_of(session: Session, version: str) -> Taxonomy | None:
    """A taxonomy features were computed with, if the store still knows it (the shipped one
    with any choice of packs counts: changing the packs re-analyses only the affected texts)."""
    shipped = shipped_taxonomy_of(version)
    if shipped is not None:
        return shipped
    row = session.scalars(
        select(TaxonomyVersion).where(TaxonomyVersion.version == version).limit(1)
    ).first()
    return _parsed(row.yaml) if row is not None else None


def check_fits(taxonomy: Taxonomy) -> None:
    """Raise ``Invalid`` naming every topic path too long for the store's columns."""
    limits = {p: TOPIC_LENGTH if "/" in p else TOPIC_L1_LENGTH for p in taxonomy.paths()}
    problems = [
        Problem("topic", path, f"is longer than {limit} characters (the store's limit)")
        for path, limit in limits.items()
        if len(path) > limit
    ]
    if problems:
        raise Invalid(problems)


def apply_taxonomy(
    *,
    session: Session,
    taxonomy: Taxonomy,
    source_yaml: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
) -> TaxonomyApplyResult:
    """Make ``taxonomy`` the active one and bring every feature row up to date with it.

    Only texts containing a changed term are re-analysed; the others keep their features and
    get the new version. The taxonomy is stored (and checkpointed) first, so a run killed
    midway is finished by the next ``apply`` or ``cxloop text reenrich``.
    """
    check_fits(taxonomy)
    row = _active_row(session)
    previous = _parsed(row.yaml) if row is not None else shipped_taxonomy()
    text = source_yaml if source_yaml is not None else taxonomy.to_yaml()
    changed = previous.version != taxonomy.version
    if changed or (row is not None and row.yaml != text):
        session.add(TaxonomyVersion(version=taxonomy.version, yaml=text, applied_at=utcnow()))
        session.flush()
        if checkpoint:
            checkpoint()
    summary = enrich_feedback(
        session=session, workers=workers, progress=progress, checkpoint=checkpoint
    )
    return TaxonomyApplyResult(
        version=taxonomy.version,
        previous_version=previous.version,
        changed=changed,
        changed_terms=len(previous.changed_terms(taxonomy)),
        enrichment=summary,
    )


# ---------------------------------------------------------------- enrichment


@dataclass(frozen=True, slots=True)
class _Candidate:
    feedback_id: str
    text: str | None
    row_hash: str
    known: bool
    text_hash: str | None
    model_version: str | None
    taxonomy_version: str | None


def _candidates_query(force: bool, model: str, taxonomy: str) -> Any:
    """Feedback joined to its features; unless ``force``, only rows whose features are missing,
    of another engine or taxonomy, or older than the row (``row_hash`` moved since)."""
    query = select(
        FEEDBACK.c.feedback_id,
        FEEDBACK.c.text,
        FEEDBACK.c.row_hash,
        FEATURES.c.feedback_id.is_not(None),
        FEATURES.c.text_hash,
        FEATURES.c.model_version,
        FEATURES.c.taxonomy_version,
    ).select_from(FEEDBACK.outerjoin(FEATURES, FEATURES.c.feedback_id == FEEDBACK.c.feedback_id))
    if force:
        return query
    return query.where(
        or_(
            FEATURES.c.feedback_id.is_(None),
            FEATURES.c.model_version != model,
            FEATURES.c.taxonomy_version != taxonomy,
            FEATURES.c.source_row_hash != FEEDBACK.c.row_hash,
        )
    )


def _pages(
    session: Session,
    feedback_ids: Sequence[str] | None,
    force: bool,
    model: str,
    taxonomy: str,
    batch_size: int,
) -> Iterator[list[_Candidate]]:
    """Stale rows (every row when ``force``) in key order, a page at a time."""
    query = _candidates_query(force, model, taxonomy).order_by(FEEDBACK.c.feedback_id)
    if feedback_ids is not None:
        ids = sorted(set(feedback_ids))
        for start in range(0, len(ids), IDS_PER_QUERY):
            part = query.where(FEEDBACK.c.feedback_id.in_(ids[start : start + IDS_PER_QUERY]))
            yield [_Candidate(*row) for row in session.execute(part)]
        return
    last: str | None = None
    while True:
        page = query if last is None else query.where(FEEDBACK.c.feedback_id > last)
        rows = [_Candidate(*row) for row in session.execute(page.limit(batch_size))]
        if not rows:
            return
        yield rows
        last = rows[-1].feedback_id


def count_stale(
    *, session: Session, feedback_ids: Sequence[str] | None = None, all_rows: bool = False
) -> int:
    """How many rows a run would look at (for a progress bar)."""
    if feedback_ids is not None:
        return len(set(feedback_ids))
    taxonomy = active_taxonomy(session=session)
    query = _candidates_query(all_rows, model_version(), taxonomy.version)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


class _TermCheck:
    """Whether a text kept since an older taxonomy contains a term changed since then."""

    def __init__(self, session: Session, active: Taxonomy) -> None:
        self._session, self._active = session, active
        self._patterns: dict[str, re.Pattern[str] | None] = {}  # None: unknown, re-analyse

    def affected(self, version: str, text: str | None) -> bool:
        if version not in self._patterns:
            old = _taxonomy_of(self._session, version)
            self._patterns[version] = None if old is None else _terms_pattern(old, self._active)
        pattern = self._patterns[version]
        return pattern is None or (bool(text) and pattern.search(norm_term(text or "")) is not None)


def _terms_pattern(old: Taxonomy, new: Taxonomy) -> re.Pattern[str]:
    """One regex of every changed term, compared like the taxonomy compares (``norm_term``).

    The check is a plain substring test in Python rather than SQL ``LIKE``: it lower-cases the
    same way on every engine (SQLite's ``lower`` folds ASCII only), a taxonomy edit can change
    hundreds of terms (one compiled pattern, not hundreds of ``OR LIKE`` scans), and it is a
    superset of what the matcher finds (word boundaries and ``*`` only narrow a match).
    """
    terms = sorted({norm_term(t) for t in old.changed_terms(new)} - {""}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, terms)) if terms else r"(?!)")


def enrich_feedback(
    *,
    session: Session,
    feedback_ids: Sequence[str] | None = None,
    workers: int | None = 1,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    force: bool = False,
    checkpoint: Checkpoint | None = None,
) -> EnrichSummary:
    """Analyse feedback whose features are missing or stale (all of ``feedback_ids`` if given,
    else the whole store; every row with ``force``) and write ``feedback_text``/``feedback_topic``.

    ``workers``: processes for the engine (``None``/0: one per core, 1: this process; fewer
    than ``POOL_MIN_ROWS`` ids: this process). The results do not depend on it.
    ``progress`` gets the number of rows finished; ``checkpoint`` is called after each written
    batch (an entry point passes ``session.commit``).
    """
    started = time.perf_counter()
    if feedback_ids is not None and len(set(feedback_ids)) < POOL_MIN_ROWS:
        workers = 1
    taxonomy = active_taxonomy(session=session)
    model = model_version()
    terms = _TermCheck(session, taxonomy)
    counts: Counter[str] = Counter()
    queue: deque[_Candidate] = deque()

    def texts() -> Iterator[str | None]:
        for page in _pages(session, feedback_ids, force, model, taxonomy.version, batch_size):
            keep = []
            for row in page:
                if _needs_analysis(row, force, model, taxonomy.version, terms):
                    queue.append(row)
                    yield row.text
                else:
                    keep.append(row)
            counts["candidates"] += len(page)
            if keep:
                _refresh(session, keep, taxonomy.version)
                counts["refreshed"] += len(keep)
                if progress:
                    progress(len(keep))
                if checkpoint:
                    checkpoint()

    batch: list[tuple[_Candidate, TextAnalysis]] = []
    analyses = _analyse(texts(), workers=workers, taxonomy=taxonomy, progress=progress)
    for analysis in chain(analyses, [None]):  # None: the end, write what is left
        if analysis is not None:
            batch.append((queue.popleft(), analysis))
        if batch and (analysis is None or len(batch) >= batch_size):
            counts["topics"] += _write(session, batch, model, taxonomy.version)
            counts["analysed"] += len(batch)
            batch = []
            if checkpoint:
                checkpoint()
    return EnrichSummary(**counts, seconds=round(time.perf_counter() - started, 3))


def reenrich(
    *,
    session: Session,
    all_rows: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
) -> EnrichSummary:
    """Bring the whole store up to date: rows whose text, engine or taxonomy changed (and rows
    never analysed); ``all_rows`` re-analyses every row."""
    return enrich_feedback(
        session=session, workers=workers, progress=progress, force=all_rows, checkpoint=checkpoint
    )


def _needs_analysis(
    row: _Candidate, force: bool, model: str, taxonomy: str, terms: _TermCheck
) -> bool:
    if force or not row.known or row.model_version != model:
        return True
    if row.text_hash != text_hash(row.text):
        return True
    return row.taxonomy_version != taxonomy and terms.affected(row.taxonomy_version or "", row.text)


def _analyse(
    texts: Iterator[str | None],
    *,
    workers: int | None,
    taxonomy: Taxonomy,
    progress: Progress | None,
) -> Iterator[TextAnalysis]:
    """The engine over ``texts``, in order. Imported only once there is a text: it loads
    scikit-learn (about a second), which runs with nothing to analyse should not pay for."""
    first = next(texts, _NOTHING)
    if first is _NOTHING:
        return
    from cxloop.text.pipeline import analyze_batch

    yield from analyze_batch(
        chain([first], texts), workers=workers, taxonomy=taxonomy, progress=progress
    )


def _refresh(session: Session, rows: list[_Candidate], taxonomy: str) -> None:
    update_rows(
        session.connection(),
        FEATURES,
        "feedback_id",
        ["feedback_id", "source_row_hash", "taxonomy_version"],
        [(row.feedback_id, row.row_hash, taxonomy) for row in rows],
    )


def _write(
    session: Session, batch: list[tuple[_Candidate, TextAnalysis]], model: str, taxonomy: str
) -> int:
    """Replace the batch's feature and topic rows; returns how many topic rows were written."""
    ids = [row.feedback_id for row, _ in batch]
    session.execute(delete(TOPICS).where(TOPICS.c.feedback_id.in_(ids)))
    session.execute(delete(FEATURES).where(FEATURES.c.feedback_id.in_(ids)))
    marks = {"model_version": model, "taxonomy_version": taxonomy, "enriched_at": utcnow()}
    session.execute(
        insert(FEATURES),
        [
            {**feature_row(row.feedback_id, analysis), **_hashes(row), **marks}
            for row, analysis in batch
        ],
    )
    topics = [t for row, analysis in batch for t in topic_rows(row.feedback_id, analysis)]
    if topics:
        session.execute(insert(TOPICS), topics)
    return len(topics)


def _hashes(row: _Candidate) -> dict[str, str]:
    return {"text_hash": text_hash(row.text), "source_row_hash": row.row_hash}


def feature_row(feedback_id: str, analysis: TextAnalysis) -> dict[str, Any]:
    """The features of one analysis as ``feedback_text`` columns (PII as spans only, clauses as
    offsets into the text)."""
    return {
        "feedback_id": feedback_id,
        "language": analysis.language,
        "mixed": analysis.mixed,
        "sentiment": analysis.sentiment,
        "sentiment_score": analysis.sentiment_score,
        "intent": analysis.intent,
        "flags": [f.model_dump() for f in analysis.flags],
        "emotions": [e.model_dump() for e in analysis.emotions],
        "keywords": list(analysis.keywords),
        "aspects": [a.model_dump(exclude={"clause"}) for a in analysis.aspects],
        "pii": [p.model_dump() for p in analysis.pii],
    }


def topic_rows(feedback_id: str, analysis: TextAnalysis) -> list[dict[str, Any]]:
    """One row per topic: the majority label of its mentions (a tie is neutral), mean score."""
    by_topic: dict[str, list[tuple[str, float]]] = {}
    for aspect in analysis.aspects:
        by_topic.setdefault(aspect.topic, []).append((aspect.sentiment, aspect.score))
    rows = []
    for topic, mentions in by_topic.items():
        votes = Counter(label for label, _ in mentions).most_common()
        tied = len(votes) > 1 and votes[0][1] == votes[1][1]
        rows.append(
            {
                "feedback_id": feedback_id,
                "topic": topic,
                "topic_l1": topic.split("/", 1)[0],
                "sentiment": "neutral" if tied else votes[0][0],
                "score": round(sum(score for _, score in mentions) / len(mentions), 4),
                "mentions": len(mentions),
            }
        )
    return rows
