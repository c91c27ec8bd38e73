"""``analyze`` and ``analyze_batch``: every feature of a text in one pass, in chunks, on all cores.

Chunks matter for speed: the sentiment model scores every text and clause of a chunk in one
sparse product instead of one call per clause.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from multiprocessing.context import BaseContext

import numpy as np

from cxloop.text.clauses import Clause, split_clauses
from cxloop.text.cues import detect_emotions, detect_flags, detect_intent
from cxloop.text.features import lexicon_score, load_lexicon
from cxloop.text.keywords import keywords
from cxloop.text.language import detect_language
from cxloop.text.pii import find_pii
from cxloop.text.schemas import Aspect, Lang, Language, PiiSpan, TextAnalysis
from cxloop.text.sentiment import label_for, shipped_model
from cxloop.text.taxonomy import Taxonomy, TopicHit, shipped_taxonomy

CHUNK_SIZE = 256
MAX_TEXT_CHARS = 20_000
"""Longer texts are read up to here: a feedback row past this is a document, not a review."""

_CONTRAST_WEIGHT = {"plain": 1.0, "concession": 0.4, "contrast": 2.0}


@dataclass
class _Prepared:
    text: str
    language: Language
    mixed: bool
    clauses: list[Clause] = field(default_factory=list)
    hits: list[list[TopicHit]] = field(default_factory=list)
    score: float = 0.0
    clause_scores: list[float] = field(default_factory=list)
    full: str = ""
    """The whole text when ``text`` was cut at ``MAX_TEXT_CHARS``: PII is sought in all of it."""


@dataclass(frozen=True)
class TextEngine:
    """The models and the taxonomy one analysis uses; build one per taxonomy."""

    taxonomy: Taxonomy

    def analyze_many(self, texts: list[object], lang: str | None = None) -> list[TextAnalysis]:
        prepared = [_prepare(text, lang) for text in texts]
        for item in prepared:
            item.hits = [_specific(self.taxonomy.match(c.text, c.lang)) for c in item.clauses]
        _score(prepared)
        return [_finish(p) for p in prepared]


def _specific(hits: list[TopicHit]) -> list[TopicHit]:
    """One hit per topic, and none for a topic whose subtopic the same clause names.

    "送货很快": 送货 names delivery, 很快 its speed; the clause is about delivery speed.
    """
    paths = {hit.path for hit in hits}
    kept: dict[str, TopicHit] = {}
    for hit in hits:
        if hit.path not in kept and not any(p.startswith(hit.path + "/") for p in paths):
            kept[hit.path] = hit
    return list(kept.values())


def _finish(item: _Prepared) -> TextAnalysis:
    if item.language == "other" or not item.text.strip():
        return TextAnalysis(
            language=item.language,
            sentiment="neutral",
            sentiment_score=0.0,
            pii=find_pii(item.full or item.text) if item.text else [],
        )
    if item.language == "none":
        # No words, but "👍👍" or "😡" still says something: the emoji lexicon reads it.
        positive, negative = lexicon_score(item.text, "zh", load_lexicon())
        score = round(math.tanh(positive - negative), 4)
        return TextAnalysis(
            language="none",
            sentiment=label_for(score),
            sentiment_score=score,
            intent=detect_intent(item.text, score) if score else "none",
            emotions=detect_emotions(item.text),
            pii=find_pii(item.full or item.text),
        )
    aspects = [
        Aspect(
            topic=hit.path,
            term=hit.term,
            start=clause.start,
            end=clause.end,
            clause=clause.text,
            sentiment=label_for(score),
            score=round(score, 4),
        )
        for clause, hits, score in zip(item.clauses, item.hits, item.clause_scores, strict=True)
        for hit in hits
    ]
    score = round(item.score, 4)
    pii = find_pii(item.full or item.text)
    return TextAnalysis(
        language=item.language,
        mixed=item.mixed,
        sentiment=label_for(score),
        sentiment_score=score,
        aspects=aspects,
        topics=list(dict.fromkeys(a.topic for a in aspects)),
        intent=detect_intent(item.text, score),
        flags=detect_flags(item.text),
        emotions=detect_emotions(item.text),
        keywords=keywords(_blank(item.text, pii), item.language),
        pii=pii,
    )


def _blank(text: str, spans: list[PiiSpan]) -> str:
    """``text`` with personal data replaced by spaces, so no keyword can repeat it."""
    for span in spans:
        if span.start < len(text):
            text = text[: span.start] + " " * (span.end - span.start) + text[span.end :]
    return text


def _prepare(text: object, lang: str | None) -> _Prepared:
    if not isinstance(text, str):
        return _Prepared("", "none", False)
    full = text if len(text) > MAX_TEXT_CHARS else ""
    text = text[:MAX_TEXT_CHARS]
    guess = detect_language(text)
    language: Language = guess.language
    mixed = guess.mixed
    if lang in ("zh", "en") and language != "none":
        language, mixed = lang, False  # type: ignore[assignment]
    if language in ("none", "other"):
        return _Prepared(text, language, False, full=full)
    clauses = split_clauses(text)
    if not mixed:
        clauses = [
            Clause(c.text, c.start, c.end, language, c.role)  # type: ignore[arg-type]
            for c in clauses
        ]
    return _Prepared(text, language, mixed, clauses, full=full)


def _score(items: list[_Prepared]) -> None:
    """Score texts, and the clauses that carry a topic, in one model call per language.

    A one-clause text's clause is the text: it is scored once. Mixed texts are scored from
    every clause, each in its own language, weighted by length and contrast role.
    """
    batches: dict[Lang, list[str]] = {"zh": [], "en": []}
    slots: dict[Lang, list[tuple[_Prepared, int]]] = {"zh": [], "en": []}
    for item in items:
        item.clause_scores = [0.0] * len(item.clauses)
        whole = item.language in ("zh", "en") and not item.mixed
        if whole:
            lang: Lang = item.language  # type: ignore[assignment]
            batches[lang].append(item.text)
            slots[lang].append((item, -1))
        for index, (clause, hits) in enumerate(zip(item.clauses, item.hits, strict=True)):
            if item.mixed or (hits and len(item.clauses) > 1):
                batches[clause.lang].append(clause.text)
                slots[clause.lang].append((item, index))
    for lang in ("zh", "en"):
        if not batches[lang]:
            continue
        scores = shipped_model(lang).score(batches[lang])
        for (item, index), value in zip(slots[lang], scores, strict=True):
            if index < 0:
                item.score = float(value)
            else:
                item.clause_scores[index] = float(value)
    for item in items:
        if item.mixed and item.clauses:
            weights = np.array([_CONTRAST_WEIGHT[c.role] * len(c.text) for c in item.clauses])
            item.score = float(np.dot(weights, item.clause_scores) / weights.sum())
        elif len(item.clauses) == 1:
            item.clause_scores = [item.score]


@lru_cache(maxsize=1)
def default_engine() -> TextEngine:
    """The engine with the shipped taxonomy, built once per process."""
    return TextEngine(shipped_taxonomy())


def analyze(
    text: object, lang: str | None = None, *, taxonomy: Taxonomy | None = None
) -> TextAnalysis:
    """Everything the engine reads from one text; never raises on odd input.

    >>> analyze("送货很快但是客服态度很差").aspects[1].sentiment
    'negative'
    """
    engine = TextEngine(taxonomy) if taxonomy is not None else default_engine()
    return engine.analyze_many([text], lang)[0]


_worker_engine: TextEngine | None = None
_WARM_UP: list[object] = ["送货很快 fast delivery"]
"""A text that loads every model and table analysis uses (jieba, idf, lexicons, models)."""
POOL_IDLE_SECONDS = 60.0
"""A pool unused this long is shut down: a server between imports holds no idle workers."""


def _init_worker(taxonomy: Taxonomy) -> None:
    """Load the models once per worker, and leave when the process that started the pool is
    gone: a ``kill -9`` of an import must not leave workers waiting for work forever (nor a
    fork server that waits for them)."""
    global _worker_engine
    _worker_engine = TextEngine(taxonomy)
    _worker_engine.analyze_many(_WARM_UP)  # instant when forked from a warm parent
    threading.Thread(target=_leave_with_parent, daemon=True).start()


def _leave_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()  # returns when the parent's end of the start-up pipe closes
        os._exit(1)


def _run_chunk(chunk: list[object], lang: str | None) -> list[TextAnalysis]:
    assert _worker_engine is not None
    return _worker_engine.analyze_many(chunk, lang)


def default_workers() -> int:
    """The CPUs this process may run on (a container's share, not the host's count)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def _context() -> BaseContext:
    """How workers start. Forked where this process runs a single thread on Linux: nothing to
    re-import, and a user's script needs no ``if __name__ == "__main__"`` guard. Forking a
    process that runs threads (the web server) can deadlock the child, so there workers come
    from a fork server that has the engine's modules imported (``spawn`` where there is none).
    """
    methods = multiprocessing.get_all_start_methods()
    if sys.platform == "linux" and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


class _SharedPool:
    """One process pool per process, kept between batches of the same size and taxonomy.

    An import analyses each chunk of rows in its own call (committed with the chunk); a fresh
    pool per call would load the models in every worker again (seconds per chunk). The pool is
    shut down after ``POOL_IDLE_SECONDS`` without use and at exit.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._key: tuple[int, str] | None = None
        self._users = 0
        self._timer: threading.Timer | None = None

    @contextmanager
    def lease(self, workers: int, taxonomy: Taxonomy) -> Iterator[ProcessPoolExecutor]:
        key = (workers, taxonomy.version)
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._key != key and self._users == 0:
                self._close_locked()
            shared = self._key == key or self._executor is None
            if shared and self._executor is None:
                self._executor, self._key = _new_pool(workers, taxonomy), key
            if shared:
                self._users += 1
        if not shared:  # another taxonomy is being analysed right now: a pool of its own
            with _new_pool(workers, taxonomy) as own:
                yield own
            return
        assert self._executor is not None
        try:
            yield self._executor
        except BrokenProcessPool:
            with self._lock:
                self._key = None  # a worker died (memory?): the next batch starts a new pool
            raise
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    if self._key is None:
                        self._close_locked()
                    else:
                        self._timer = threading.Timer(POOL_IDLE_SECONDS, self.close)
                        self._timer.daemon = True
                        self._timer.start()

    def close(self) -> None:
        with self._lock:
            if self._users == 0:
                self._close_locked()

    def _close_locked(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor, self._key = None, None


def _new_pool(workers: int, taxonomy: Taxonomy) -> ProcessPoolExecutor:
    context = _context()
    if context.get_start_method() == "fork":  # load the models once, here; workers share them
        TextEngine(taxonomy).analyze_many(_WARM_UP)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(taxonomy,),
    )


_POOL = _SharedPool()


def close_pool() -> None:
    """Stop the shared worker processes now (a server shutting down, a test that counts them);
    the next batch with ``workers > 1`` starts them again."""
    _POOL.close()


def analyze_batch(
    texts: Iterable[object],
    *,
    workers: int | None = None,
    taxonomy: Taxonomy | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
    lang: str | None = None,
) -> Iterator[TextAnalysis]:
    """Analyses in input order, streaming: at most a few chunks per worker are in memory.

    ``workers=None`` or ``0`` uses every core; ``workers=1`` stays in this process; more use a
    pool of worker processes that stays up between calls (see ``_SharedPool``). Results are the
    same either way: each chunk is analysed alone. ``progress`` is called with the number of
    texts finished after each chunk. ``lang`` (zh/en) forces the language of every text that
    has one.
    """
    taxonomy = taxonomy or shipped_taxonomy()
    workers = workers or default_workers()
    chunks = _chunked(texts, chunk_size)
    if workers == 1:
        engine = TextEngine(taxonomy)
        for chunk in chunks:
            results = engine.analyze_many(chunk, lang)
            if progress:
                progress(len(results))
            yield from results
        return
    with _POOL.lease(workers, taxonomy) as pool:
        pending: deque[Future[list[TextAnalysis]]] = deque()
        try:
            for chunk in chunks:
                pending.append(pool.submit(_run_chunk, chunk, lang))
                if len(pending) >= workers * 3:
                    yield from _drain(pending.popleft(), progress)
            while pending:
                yield from _drain(pending.popleft(), progress)
        finally:  # a consumer that stops early leaves no work queued in the shared pool
            for future in pending:
                future.cancel()


def _drain(
    future: Future[list[TextAnalysis]], progress: Callable[[int], None] | None
) -> list[TextAnalysis]:
    results = future.result()
    if progress:
        progress(len(results))
    return results


def _chunked(texts: Iterable[object], size: int) -> Iterator[list[object]]:
    iterator = iter(texts)
    while chunk := list(islice(iterator, size)):
        yield chunk
