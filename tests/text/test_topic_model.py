"""Topic classifiers trained from labelled examples: quality on real and hand-written data,
saving without pickles, and errors that say which rows and labels are wrong."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from cxloop.errors import Invalid, UnreadableFile
from cxloop.text.topic_model import (
    FeatureConfig,
    TopicClassifier,
    TopicReport,
    analyze,
    split,
    train_topics,
)

DATA = Path(__file__).resolve().parents[1] / "data"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CX_TOPICS = ["app", "delivery", "packaging", "payment", "price", "quality", "returns", "service"]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def examples() -> tuple[list[str], list[str]]:
    """352 hand-written zh/en feedback sentences, 22 per CX topic per language."""
    rows = read_csv(DATA / "topic_examples.csv")
    return [r["text"] for r in rows], [r["label"] for r in rows]


@pytest.fixture(scope="module")
def uci() -> tuple[list[str], list[str]]:
    """UCI Sentiment Labelled Sentences; the label here is the source site (amazon/yelp/imdb)."""
    path = SHARED / "en_uci_sentences.csv"
    if not path.exists():
        pytest.skip(f"{path} not present (shared data set, not shipped with the repo)")
    rows = read_csv(path)
    return [r["text"] for r in rows], [r["domain"] for r in rows]


@pytest.fixture(scope="module")
def trained(examples: tuple[list[str], list[str]]) -> TopicClassifier:
    return TopicClassifier().fit(*examples)


def test_examples_file_is_balanced(examples: tuple[list[str], list[str]]) -> None:
    rows = read_csv(DATA / "topic_examples.csv")
    assert {(r["label"], r["lang"]) for r in rows} == {
        (t, lang) for t in CX_TOPICS for lang in ("en", "zh")
    }
    assert len(rows) == 352 and len(set(examples[0])) == 352


def test_uci_domains_reach_measured_macro_f1(uci: tuple[list[str], list[str]]) -> None:
    """Measured: macro-F1 0.835, accuracy 0.835 on the 600 held-back sentences (seed 0);
    over 20 random splits the mean is 0.843. The floor sits a few points below."""
    model, report = train_topics(*uci)
    assert [s.label for s in report.labels] == ["amazon", "imdb", "yelp"]
    assert [s.support for s in report.labels] == [200, 200, 200]
    assert (report.n_train, report.n_test) == (2400, 600)
    assert all(s.precision > 0.7 and s.recall > 0.7 and s.f1 > 0.7 for s in report.labels)
    assert report.macro_f1 >= 0.80
    assert report.accuracy >= 0.80
    assert model.predict(
        ["The battery on this headset lasts forever.", "The sushi was fresh."]
    ) == [
        "amazon",
        "yelp",
    ]


def test_own_examples_reach_measured_macro_f1(examples: tuple[list[str], list[str]]) -> None:
    """Measured: macro-F1 0.637 on 72 held-back sentences (9 per topic, seed 0); over 20 random
    splits the mean is 0.670. Eight topics, two languages and ~35 training sentences per topic
    make this a hard set; the floor sits a few points below."""
    model, report = train_topics(*examples)
    assert [s.label for s in report.labels] == CX_TOPICS
    assert {s.support for s in report.labels} == {9}
    assert report.macro_f1 >= 0.59
    assert model.classes_ == CX_TOPICS
    assert model.predict(["退款一直没到账", "The courier left my parcel at the wrong door"]) == [
        "returns",
        "delivery",
    ]


def test_report_is_frozen_and_deterministic(examples: tuple[list[str], list[str]]) -> None:
    first_model, first = train_topics(*examples, seed=3)
    second_model, second = train_topics(*examples, seed=3)
    assert isinstance(first, TopicReport)
    assert first == second
    assert np.array_equal(first_model.coef_, second_model.coef_)
    with pytest.raises(ValueError):
        first.macro_f1 = 1.0  # type: ignore[misc]


def test_split_is_stratified_and_holds_every_label_back() -> None:
    labels = ["a"] * 10 + ["b"] * 5 + ["c"] * 2
    train, test = split(labels, 0.2, seed=0)
    assert sorted(train + test) == list(range(len(labels)))
    assert sorted(labels[i] for i in test) == ["a", "a", "b", "c"]


def test_features_cover_chinese_and_english() -> None:
    zh = analyze("快递太慢了", FeatureConfig())
    en = analyze("Refunds are slow", FeatureConfig())
    assert "w:快递" in zh and "c:快递" in zh and "c:太慢了" in zh
    assert "w:refunds" in en and "l:<ref" in en and "l:fund" in en


def test_probabilities_match_scikit_learn(examples: tuple[list[str], list[str]]) -> None:
    """Scores are computed from the saved arrays, not by scikit-learn; they must agree with it."""
    texts, labels = examples
    for subset in (CX_TOPICS, ["price", "service"]):
        rows = [i for i, label in enumerate(labels) if label in subset]
        x, y = [texts[i] for i in rows], [labels[i] for i in rows]
        model = TopicClassifier().fit(x, y)
        reference = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
        with threadpool_limits(limits=1):  # as fit does; OpenMP threads crawl on a busy machine
            reference.fit(model.transform(x), y)
        ours = model.predict_proba(x[:40])
        assert ours.shape == (40, len(subset))
        np.testing.assert_allclose(
            ours, reference.predict_proba(model.transform(x[:40])), atol=1e-6
        )
        assert model.predict(x[:40]) == list(reference.predict(model.transform(x[:40])))


def test_save_load_round_trip_is_exact_and_pickle_free(
    trained: TopicClassifier, examples: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    texts = [*examples[0], "", "completely unrelated words", "全新的句子"]
    path = trained.save(tmp_path / "topics.npz")
    assert path == tmp_path / "topics.npz" and sorted(p.name for p in tmp_path.iterdir()) == [
        "topics.npz"
    ]
    loaded = TopicClassifier.load(path)
    assert loaded.classes_ == trained.classes_
    assert loaded.config == trained.config
    assert loaded.predict(texts) == trained.predict(texts)
    assert np.array_equal(loaded.predict_proba(texts), trained.predict_proba(texts))
    assert np.array_equal(loaded.decision_function(texts), trained.decision_function(texts))

    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        assert names == ["coef.npy", "header.npy", "idf.npy", "intercept.npy"]
        for name in names:
            with archive.open(name) as member:
                array = np.lib.format.read_array(member, allow_pickle=False)
                assert not array.dtype.hasobject, name
    with np.load(path, allow_pickle=False) as data:  # would raise on any pickled array
        header = bytes(data["header"]).decode("utf-8")
    assert '"format": "cxloop.topic_model"' in header and '"version": 1' in header
    assert "快递" in header  # the vocabulary is plain JSON text


def test_load_rejects_other_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "pickled.npz", header=np.array([{"a": 1}], dtype=object))
    np.savez(tmp_path / "other.npz", header=np.frombuffer(b'{"format": "x"}', np.uint8))
    (tmp_path / "text.npz").write_text("not a zip", encoding="utf-8")
    for name in ("pickled.npz", "other.npz", "text.npz", "missing.npz"):
        with pytest.raises(UnreadableFile):
            TopicClassifier.load(tmp_path / name)


def test_fit_returns_self_and_handles_odd_input_at_predict(trained: TopicClassifier) -> None:
    model = TopicClassifier()
    assert model.fit(["the app crashes", "refund is late"], ["app", "returns"]) is model
    assert trained.predict([]) == []
    assert trained.predict_proba([]).shape == (0, len(CX_TOPICS))
    assert len(trained.predict(["", "!!!", "🙂", None])) == 4  # type: ignore[list-item]


def test_errors_name_rows_and_labels() -> None:
    with pytest.raises(Invalid, match="labels for 3 texts"):
        TopicClassifier().fit(["a b", "c d", "e f"], ["x", "y"])
    with pytest.raises(Invalid) as empty:
        TopicClassifier().fit(["good app", "", "   ", "nice"], ["app", "app", "price", None])  # type: ignore[list-item]
    problems = {p.field: p for p in empty.value.problems}
    assert problems["text"].value == [1, 2] and "2 row(s)" in problems["text"].reason
    assert problems["label"].value == [3]
    with pytest.raises(Invalid, match="at least 2 different"):
        TopicClassifier().fit(["app crashes", "app freezes"], ["app", "app"])
    with pytest.raises(Invalid, match="no words"):
        TopicClassifier().fit(["!!!", "???"], ["a", "b"])


def test_train_topics_names_labels_with_too_few_examples() -> None:
    texts = [f"feedback number {i} about things" for i in range(16)]
    labels = ["delivery"] * 10 + ["payment"] * 4 + ["app"] * 2
    with pytest.raises(Invalid) as caught:
        train_topics(texts, labels)
    assert {(p.value, p.reason) for p in caught.value.problems} == {
        ("app", "has 2 examples; needs at least 5 to hold some back"),
        ("payment", "has 4 examples; needs at least 5 to hold some back"),
    }
    assert "'payment' has 4 examples" in str(caught.value)
    model, report = train_topics(texts, labels, min_examples=2)
    assert report.n_test == 4 and model.classes_ == ["app", "delivery", "payment"]
    with pytest.raises(Invalid, match="test_size"):
        train_topics(texts, labels, test_size=1.0, min_examples=2)
