"""Candidate new topics from feedback that matched no taxonomy topic, for an analyst to name.

Method: sublinear TF-IDF over the topic classifier's features (content words from
``segment.tokens`` plus character n-grams, so zh and en alike), reduced with TruncatedSVD (latent
semantic analysis: short texts rarely share exact words, the reduced space lets "courier" and
"parcel" texts meet), rows L2-normalised so Euclidean k-means clusters by cosine, then k-means
with k chosen by the silhouette score over 2..quota. Chinese and English texts are clustered
apart, each with a share of ``max_topics`` proportional to its size: they share no words, so a
joint run spends its LSA components on the larger language and its silhouette on splitting the
two. k-means was picked over density methods (HDBSCAN, DBSCAN) because it scales linearly to
tens of thousands of texts, is deterministic with a seed and always gives the analyst a bounded
list; the silhouette keeps it from inventing topics the data does not support. k is chosen on a
sample (at most ``_SAMPLE`` distinct texts) and the final clustering runs on all of them, which
keeps 50,000 texts within seconds. Identical texts (same features) are clustered once, weighted
by their count.

Keywords are class-based TF-IDF (c-TF-IDF, as in BERTopic): a word scores high when it is common
in the cluster and rare in the others, which names a cluster better than its centroid's largest
weights (those favour words that are merely frequent everywhere). Examples are the distinct texts
closest to the centroid.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from cxloop.errors import Invalid
from cxloop.text.clauses import script_of
from cxloop.text.topic_model import FeatureConfig, analyze

_SAMPLE = 4000
"""Distinct texts k-means sees while k is chosen; silhouette itself uses at most 2,000."""
_COMPONENTS = 50
_FEATURES = FeatureConfig()
"""The topic classifier's features: words plus CJK 1–3-grams and Latin 3–5-grams, which on our
labelled sets raised k-means' agreement with the true topics (adjusted Rand) three- to
eightfold over words alone (still low: these sets are hard), since short texts seldom share whole
words."""


class Example(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int = Field(ge=0)
    """Position in the input (the first, when the text occurs more than once)."""
    text: str


class CandidateTopic(BaseModel):
    """A group of texts that seem to be about the same thing, with evidence for naming it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    language: Literal["zh", "en"]
    size: int = Field(ge=1)
    """Texts in the group, duplicates included."""
    keywords: list[str]
    examples: list[Example]
    indices: list[int]
    """Every input position in the group, ascending."""
    cohesion: float = Field(ge=-1.0, le=1.0)
    """Mean cosine similarity of the texts to the group's centre: higher is a tighter theme."""


def discover_topics(
    texts: Sequence[str],
    *,
    max_topics: int = 12,
    examples: int = 3,
    keywords: int = 8,
    seed: int = 0,
) -> list[CandidateTopic]:
    """Cluster ``texts`` into at most ``max_topics`` candidates, largest first.

    Texts without content words (empty, punctuation, only stopwords) and, in inputs of 50 texts or
    more, texts that share no feature with any other text are left out: nothing ties them to a
    group. Returns ``[]`` when no text is left; a language with fewer than three distinct texts
    left becomes one candidate.
    """
    for name, value, least in (
        ("max_topics", max_topics, 1),
        ("examples", examples, 0),
        ("keywords", keywords, 0),
    ):
        if value < least:
            raise Invalid(f"must be at least {least}", field=name, value=value)
    row_of, docs = _distinct(texts)
    vectorizer = TfidfVectorizer(
        analyzer=_identity, min_df=2 if len(texts) >= 50 else 1, sublinear_tf=True
    )
    try:
        tfidf = sp.csr_matrix(vectorizer.fit_transform(docs))
    except ValueError:  # no text, or no feature occurs twice: nothing to group by
        return []
    keep = np.flatnonzero(tfidf.getnnz(axis=1))
    renumber = np.full(len(docs), -1, dtype=np.int64)
    renumber[keep] = np.arange(keep.size)
    row_of = np.where(row_of >= 0, renumber[np.maximum(row_of, 0)], -1)
    used = np.flatnonzero(row_of >= 0)
    if used.size == 0:
        return []
    docs, tfidf = [docs[i] for i in keep], tfidf[keep]
    weights = np.bincount(row_of[used], minlength=keep.size).astype(np.float64)
    first = np.full(keep.size, len(texts), dtype=np.int64)
    np.minimum.at(first, row_of[used], used)

    one = max_topics == 1  # then both languages share the single candidate
    scripts = np.asarray(["all" if one else script_of(texts[i]) for i in first.tolist()])
    groups = sorted(set(scripts.tolist()))
    quotas = _quotas([float(weights[scripts == g].sum()) for g in groups], max_topics)
    labels = np.zeros(keep.size, dtype=np.int64)
    sims = np.zeros(keep.size)
    k = 0
    for group, quota in zip(groups, quotas, strict=True):
        rows = np.flatnonzero(scripts == group)
        # One thread: the matrices are small, and on a busy 2-core machine OpenMP/BLAS threads
        # contending with other work took 50,000 texts from 6.5 s to 29 s. It also makes the
        # result independent of the core count.
        with threadpool_limits(limits=1):
            group_labels, group_sims = _cluster(tfidf[rows], weights[rows], quota, seed)
        labels[rows], sims[rows] = group_labels + k, group_sims
        k += int(group_labels.max()) + 1
    terms, scores = _ctfidf(docs, weights, labels, k)
    text_label = np.full(len(texts), -1, dtype=np.int64)
    text_label[used] = labels[row_of[used]]

    out = []
    for c in range(k):
        rows = np.flatnonzero(labels == c)
        if rows.size == 0:
            continue
        nearest = rows[np.argsort(-sims[rows], kind="stable")[:examples]]
        top = np.argsort(-scores[c], kind="stable")[:keywords]
        cjk = np.mean([script_of(texts[i]) == "zh" for i in first[rows].tolist()])
        out.append(
            CandidateTopic(
                language="zh" if cjk >= 0.5 else "en",
                size=int(weights[rows].sum()),
                keywords=[str(terms[j]) for j in top if scores[c, j] > 0],
                examples=[Example(index=int(first[i]), text=texts[first[i]]) for i in nearest],
                indices=np.flatnonzero(text_label == c).tolist(),
                cohesion=float(np.clip(np.average(sims[rows], weights=weights[rows]), -1, 1)),
            )
        )
    out.sort(key=lambda t: (-t.size, t.indices[0]))
    return out


def _identity(doc: list[str]) -> list[str]:
    return doc


def _words(doc: list[str]) -> list[str]:
    return [f for f in doc if f.startswith("w:")]


def _distinct(texts: Sequence[str]) -> tuple[np.ndarray, list[list[str]]]:
    """Each text's row among the distinct feature lists (-1: no content words), and the lists."""
    seen: dict[tuple[str, ...], int] = {}
    row_of = np.full(len(texts), -1, dtype=np.int64)
    docs: list[list[str]] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            continue
        feats = analyze(text, _FEATURES)
        if feats:
            row_of[i] = seen.setdefault(tuple(feats), len(seen))
            if row_of[i] == len(docs):
                docs.append(feats)
    return row_of, docs


def _quotas(sizes: list[float], total: int) -> list[int]:
    """``total`` split in proportion to ``sizes`` (largest remainder), at least 1 each."""
    raw = [total * s / sum(sizes) for s in sizes]
    quotas = [max(1, int(r)) for r in raw]
    while sum(quotas) < total:
        quotas[int(np.argmax([r - q for r, q in zip(raw, quotas, strict=True)]))] += 1
    return quotas


def _cluster(
    tfidf: sp.csr_matrix, weights: np.ndarray, max_k: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster labels 0..k-1 and each row's cosine similarity to its cluster's centre."""
    space = _reduce(tfidf, seed)
    k = _choose_k(space, weights, max_k, seed)
    if k == 1:
        labels = np.zeros(len(space), dtype=np.int64)
        centres = normalize(np.average(space, axis=0, weights=weights)[None, :])
    else:
        model = _kmeans(k, seed).fit(space, sample_weight=weights)
        labels = np.unique(np.asarray(model.labels_), return_inverse=True)[1]
        centres = normalize(model.cluster_centers_[np.unique(model.labels_)])
    return labels, np.einsum("ij,ij->i", space, centres[labels])


def _reduce(tfidf: sp.csr_matrix, seed: int) -> np.ndarray:
    """Unit rows: LSA components when the matrix is big enough to need them, else raw TF-IDF."""
    part = tfidf[:, np.flatnonzero(tfidf.getnnz(axis=0))]
    if min(part.shape) <= _COMPONENTS:
        dense = np.asarray(part.toarray(), dtype=np.float64)
    else:
        dense = TruncatedSVD(n_components=_COMPONENTS, random_state=seed).fit_transform(part)
    return np.asarray(normalize(dense), dtype=np.float64)


def _kmeans(k: int, seed: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=3, random_state=seed)


def _choose_k(space: np.ndarray, weights: np.ndarray, max_topics: int, seed: int) -> int:
    """The k in 2..max_topics with the best silhouette on a sample; 1 when there is no choice."""
    rng = np.random.default_rng(seed)
    rows = np.arange(len(space))
    if len(rows) > _SAMPLE:
        rows = np.sort(rng.choice(rows, _SAMPLE, replace=False))
    sample, sample_weights = space[rows], weights[rows]
    distinct = len(np.unique(sample.round(9), axis=0))
    best_k, best = 1, -np.inf
    for k in range(2, min(max_topics, distinct - 1) + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            labels = _kmeans(k, seed).fit_predict(sample, sample_weight=sample_weights)
        if len(np.unique(labels)) < 2:
            continue
        score = silhouette_score(
            sample, labels, sample_size=min(2000, len(sample)), random_state=seed
        )
        if score > best:
            best_k, best = k, float(score)
    return best_k


def _ctfidf(
    docs: list[list[str]], weights: np.ndarray, labels: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Vocabulary and a (k, words) c-TF-IDF matrix; words in one text of a bigger cluster get 0."""
    counts = CountVectorizer(analyzer=_words, binary=True)
    try:
        matrix = sp.csr_matrix(counts.fit_transform(docs)).multiply(weights[:, None])
    except ValueError:  # only character n-grams (e.g. "好"): no word to name a group by
        return np.asarray([], dtype=str), np.zeros((k, 0))
    onehot = sp.csr_matrix(
        (np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(labels))
    )
    per_cluster = np.asarray((onehot @ sp.csr_matrix(matrix)).todense())
    totals = per_cluster.sum(axis=1, keepdims=True)
    tf = per_cluster / np.maximum(totals, 1.0)
    idf = np.log1p(totals.mean() / np.maximum(per_cluster.sum(axis=0), 1.0))
    sizes = np.bincount(labels, weights=weights, minlength=k)[:, None]
    # Evidence: a keyword is in two texts of its group (unless the group has one) and, when
    # there are several groups, more common in its group than overall.
    supported = per_cluster >= np.minimum(sizes, 2)
    if k > 1:
        supported &= per_cluster / sizes > per_cluster.sum(axis=0) / sizes.sum()
    scores = np.where(supported, tf * idf, 0.0)
    return np.asarray([t[2:] for t in counts.get_feature_names_out()]), scores
