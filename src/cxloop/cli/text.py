"""``cxloop text analyze|reenrich|train-topics|discover``: the text engine on files and the store.

The engine (``cxloop.text.pipeline``) loads scikit-learn, about a second: it is imported inside
the commands that analyse, so every other ``cxloop`` command starts without it.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cxloop.cli.context import console, open_store, unit_of_work
from cxloop.cli.lazy import lazy_module
from cxloop.config import TAXONOMY_PACKS, get_settings
from cxloop.csv_cells import safe_cell
from cxloop.errors import Invalid, UnreadableFile
from cxloop.feedback.schemas import EnrichSummary
from cxloop.text.taxonomy import Taxonomy, load_taxonomy, shipped_taxonomy

if TYPE_CHECKING:
    import pandas as pd

    from cxloop.feedback import discovery as discovery_service
    from cxloop.feedback import enrichment as enrichment_service
    from cxloop.ingest import readers
    from cxloop.ingest import service as ingest_service
    from cxloop.text.schemas import TextAnalysis
    from cxloop.text.topic_model import TopicClassifier
else:  # imported when a command runs: --help and option errors start without pandas
    discovery_service = lazy_module("cxloop.feedback.discovery")
    enrichment_service = lazy_module("cxloop.feedback.enrichment")
    readers = lazy_module("cxloop.ingest.readers")
    ingest_service = lazy_module("cxloop.ingest.service")

text_app = typer.Typer(
    help="Text analytics: language, sentiment, topics, intent, emotion, keywords (zh + en).",
    no_args_is_help=True,
)
OUTPUT_COLUMNS = (
    "language",
    "sentiment",
    "sentiment_score",
    "topics",
    "aspects",
    "intent",
    "flags",
    "emotions",
    "keywords",
)
CHUNK_ROWS = 2_000
"""Rows read, analysed and written at a time: a file of any size streams through."""
SHOWN_ROWS = 10
WORKERS_HELP = "Processes that analyse: 0 = one per core; 1 = this process only."


class Lang(StrEnum):
    zh = "zh"
    en = "en"


Pack = StrEnum("Pack", {name: name for name in TAXONOMY_PACKS})  # type: ignore[misc]
"""The opt-in taxonomy packs, as a choice typer checks and lists."""


def progress_bar(*, disable: bool = False) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=disable,
    )


@text_app.command("analyze")
def analyze_command(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, JSON Lines or Parquet file.")],
    text_column: Annotated[str, typer.Option(help="The column holding the text.")],
    output: Annotated[
        Path | None,
        typer.Option(help="Write every row with its analysis here (.csv or .jsonl)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=0, help=WORKERS_HELP)] = 0,
    lang: Annotated[
        Lang | None, typer.Option(help="Read every text as zh or en instead of detecting it.")
    ] = None,
    taxonomy: Annotated[
        Path | None, typer.Option(help="Taxonomy YAML for topics (default: the shipped one).")
    ] = None,
    pack: Annotated[
        list[Pack] | None,
        typer.Option(
            help="Add an opt-in topic pack to the shipped taxonomy (repeat for several; "
            "default: the packs CXLOOP_TAXONOMY_PACKS names)."
        ),
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="Override the detected encoding.")] = None,
    topic_model: Annotated[
        Path | None,
        typer.Option(
            help="A model from `cxloop text train-topics`: adds predicted_topic and "
            "predicted_topic_probability columns."
        ),
    ] = None,
) -> None:
    """Analyse the texts of a file: its columns plus language, sentiment, sentiment_score,
    topics, aspects (topic:sentiment), intent, flags, emotions and keywords (lists joined
    with ';')."""
    if output is not None and output.suffix.lower() not in (".csv", ".jsonl"):
        raise Invalid("must end in .csv or .jsonl", "--output", str(output))
    if taxonomy is not None and pack:
        raise Invalid("cannot be combined with --taxonomy (add the topics to that file)", "--pack")
    if taxonomy is not None:
        chosen = load_taxonomy(taxonomy)
    else:  # settings are checked here, before any output is written
        packs = [p.value for p in pack] if pack else get_settings().taxonomy_packs
        chosen = shipped_taxonomy(packs)
    classifier = _load_topic_model(topic_model) if topic_model else None
    info = readers.describe(file, encoding, fingerprint=False)
    frames = _frames(info, text_column)
    first = next(frames, None)  # an unknown column fails here, before any output is written
    if first is None:
        raise UnreadableFile(f"{file.name}: no rows to analyse")
    by_sentiment: Counter[str] = Counter()
    by_language: Counter[str] = Counter()
    shown: list[tuple[str, TextAnalysis]] = []
    with progress_bar() as bar, _writer(output) as write:
        task = bar.add_task("analyse", total=ingest_service.count_records(file))
        for frame, analyses in _analysed(
            chain([first], frames),
            text_column,
            workers,
            lang,
            chosen,
            lambda n: bar.advance(task, n),
        ):
            scored = _with_analysis(frame, analyses)
            if classifier is not None:
                scored = _with_predicted_topic(scored, frame[text_column].tolist(), classifier)
            write(scored)
            by_sentiment.update(a.sentiment for a in analyses)
            by_language.update(a.language for a in analyses)
            texts = frame[text_column].tolist()
            shown += list(zip(texts, analyses, strict=True))[: SHOWN_ROWS - len(shown)]
    if output is None:
        _print_rows(shown)
    _print_counts(by_sentiment, by_language, output)


def _frames(info: readers.SourceInfo, text_column: str) -> Iterator[pd.DataFrame]:
    """The file's rows a chunk at a time, checked for the text column before any output."""
    columns: list[str] | None = None
    broken = 0
    for chunk in readers.read_chunks(info, CHUNK_ROWS):
        broken += len(chunk.broken)
        frame = chunk.frame.drop(columns=[readers.ROW_COLUMN])
        if columns is None:
            if frame.empty and not len(frame.columns):
                continue
            columns = list(frame.columns)
            if text_column not in columns:
                raise Invalid(
                    f"is not a column of {info.path.name}; its columns are: {', '.join(columns)}",
                    "--text-column",
                    text_column,
                )
        if len(frame):
            yield frame.reindex(columns=columns, fill_value="")
    if columns is None:
        raise UnreadableFile(f"{info.path.name}: no rows to analyse")
    if broken:
        console.print(f"[yellow]{broken:,} records could not be read and were skipped[/]")


def _analysed(
    frames: Iterator[pd.DataFrame],
    column: str,
    workers: int | None,
    lang: Lang | None,
    taxonomy: Taxonomy | None,
    advance: Callable[[int], None],
) -> Iterator[tuple[pd.DataFrame, list[TextAnalysis]]]:
    """Each frame with its analyses, in order; only a few chunks are in flight at a time."""
    from cxloop.text.pipeline import analyze_batch

    pending: deque[pd.DataFrame] = deque()

    def texts() -> Iterator[object]:
        for frame in frames:
            pending.append(frame)
            yield from frame[column].tolist()

    results = analyze_batch(
        texts(),
        workers=workers,
        taxonomy=taxonomy,
        progress=advance,
        lang=lang.value if lang else None,
    )
    done: list[TextAnalysis] = []
    for analysis in results:
        done.append(analysis)
        if len(done) == len(pending[0]):
            yield pending.popleft(), done
            done = []


def _with_analysis(frame: pd.DataFrame, analyses: list[TextAnalysis]) -> pd.DataFrame:
    """The input columns (one named like an output column gets ``_input``) and the analysis."""
    frame = frame.rename(columns={c: f"{c}_input" for c in OUTPUT_COLUMNS if c in frame.columns})
    import pandas as pd

    extra = pd.DataFrame([analysis_columns(a) for a in analyses], index=frame.index)
    return pd.concat([frame, extra], axis=1)


def _load_topic_model(path: Path) -> TopicClassifier:
    from cxloop.text.topic_model import TopicClassifier

    return TopicClassifier.load(path)


def _with_predicted_topic(
    frame: pd.DataFrame, texts: list[object], classifier: TopicClassifier
) -> pd.DataFrame:
    """The user's own classifier's label per row; empty where there is no text to read."""
    readable = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
    labels = [""] * len(texts)
    probabilities: list[float | None] = [None] * len(texts)
    if readable:
        chosen = [str(texts[i]) for i in readable]
        best = classifier.predict_proba(chosen).max(axis=1)
        for i, label, p in zip(readable, classifier.predict(chosen), best, strict=True):
            labels[i], probabilities[i] = label, round(float(p), 4)
    import pandas as pd

    return frame.assign(
        predicted_topic=labels,
        predicted_topic_probability=pd.Series(probabilities, dtype="Float64").to_numpy(),
    )


def analysis_columns(analysis: TextAnalysis) -> dict[str, object]:
    """One analysis as flat output columns (lists joined with ';', flags and emotions by name)."""
    return {
        "language": analysis.language,
        "sentiment": analysis.sentiment,
        "sentiment_score": analysis.sentiment_score,
        "topics": ";".join(analysis.topics),
        "aspects": aspects_column(analysis),
        "intent": analysis.intent,
        "flags": ";".join(dict.fromkeys(f.name for f in analysis.flags)),
        "emotions": ";".join(dict.fromkeys(e.name for e in analysis.emotions)),
        "keywords": ";".join(analysis.keywords),
    }


def aspects_column(analysis: TextAnalysis) -> str:
    """Each topic with the sentiment of the clause that mentions it, ``topic:sentiment`` joined
    by ';' in text order; a topic mentioned with two sentiments appears once with each."""
    pairs = dict.fromkeys(f"{a.topic}:{a.sentiment}" for a in analysis.aspects)
    return ";".join(pairs)


@contextmanager
def _writer(path: Path | None) -> Iterator[Callable[[pd.DataFrame], None]]:
    """Appends frames to ``path`` (CSV with a BOM for Excel, or JSON Lines); no-op without one."""
    if path is None:
        yield lambda frame: None
        return
    csv = path.suffix.lower() == ".csv"
    encoding = "utf-8-sig" if csv else "utf-8"
    with path.open("w", encoding=encoding, errors="surrogateescape", newline="") as handle:
        header = True

        def write(frame: pd.DataFrame) -> None:
            nonlocal header
            if csv:
                frame.map(safe_cell).to_csv(handle, header=header, index=False)
            else:
                for record in frame.to_dict(orient="records"):
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            header = False

        yield write


def _print_rows(shown: list[tuple[str, TextAnalysis]]) -> None:
    table = Table(title=f"first {len(shown)} rows")
    table.add_column("text", max_width=40, no_wrap=True, overflow="ellipsis")
    for column in ("language", "sentiment", "score", "topics", "intent", "flags"):
        table.add_column(column, justify="right" if column == "score" else "left")
    for text, a in shown:
        table.add_row(
            " ".join(str(text).split())[:60],
            a.language,
            a.sentiment,
            f"{a.sentiment_score:+.2f}",
            ", ".join(a.topics),
            a.intent,
            ", ".join(dict.fromkeys(f.name for f in a.flags)),
        )
    console.print(table)


def _print_counts(sentiment: Counter[str], language: Counter[str], output: Path | None) -> None:
    total = sum(sentiment.values())
    table = Table(title=f"{total:,} texts" + (f" → {output}" if output else ""))
    table.add_column("by")
    table.add_column("value")
    table.add_column("texts", justify="right")
    table.add_column("share", justify="right")
    for name, counts in (("sentiment", sentiment), ("language", language)):
        for value, n in counts.most_common():
            table.add_row(name, value, f"{n:,}", f"{n / total:.0%}" if total else "")
    console.print(table)


@text_app.command("reenrich")
def reenrich_command(
    all_: Annotated[
        bool, typer.Option("--all", help="Re-analyse every row, not only stale ones.")
    ] = False,
    workers: Annotated[int, typer.Option(min=0, help=WORKERS_HELP)] = 0,
) -> None:
    """Analyse stored feedback whose features are missing or stale (text, engine or taxonomy
    changed); commits batch by batch, so an interrupted run is finished by the next one."""
    store = open_store()
    with unit_of_work(store) as session, progress_bar() as bar:
        total = enrichment_service.count_stale(session=session, all_rows=all_)
        task = bar.add_task("enrich feedback", total=total)
        summary = enrichment_service.reenrich(
            session=session,
            all_rows=all_,
            workers=workers,
            progress=lambda n: bar.advance(task, n),
            checkpoint=session.commit,
        )
    store.close()
    print_enrichment(summary)


def print_enrichment(summary: EnrichSummary, title: str = "feedback text features") -> None:
    table = Table(title=title)
    for column in ("stale", "analysed", "kept (versions updated)", "topic rows", "seconds"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{summary.candidates:,}",
        f"{summary.analysed:,}",
        f"{summary.refreshed:,}",
        f"{summary.topics:,}",
        f"{summary.seconds:.1f}",
    )
    console.print(table)


@text_app.command("train-topics")
def train_topics_command(
    file: Annotated[Path, typer.Argument(help="Labelled examples: CSV, XLSX, JSONL, Parquet.")],
    text_column: Annotated[str, typer.Option(help="The column holding the text.")],
    label_column: Annotated[str, typer.Option(help="The column holding the topic label.")],
    output: Annotated[
        Path, typer.Option(help="Model file (.npz), or a folder to write topic_model.npz in.")
    ] = Path("topic_model.npz"),
    test_size: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share held back to score the model.")
    ] = 0.2,
    encoding: Annotated[str | None, typer.Option(help="Override the detected encoding.")] = None,
) -> None:
    """Train a topic classifier on your labelled feedback: per-label precision, recall and F1
    on a held-back share, then a model trained on every example."""
    from cxloop.text.topic_model import train_topics

    texts, labels, skipped = _labelled(file, encoding, text_column, label_column)
    if skipped:
        console.print(f"[yellow]{skipped:,} rows without a text or a label were skipped[/]")
    model, report = train_topics(texts, labels, test_size=test_size, seed=0)
    table = Table(title=f"held-back score ({report.n_test:,} of {len(texts):,} examples)")
    for column in ("label", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for score in report.labels:
        table.add_row(
            score.label,
            f"{score.precision:.3f}",
            f"{score.recall:.3f}",
            f"{score.f1:.3f}",
            str(score.support),
        )
    console.print(table)
    console.print(f"accuracy {report.accuracy:.3f}   macro-F1 {report.macro_f1:.3f}")
    if output.is_dir() or not output.suffix:
        output.mkdir(parents=True, exist_ok=True)
        output = output / "topic_model.npz"
    console.print(f"model saved to {model.save(output)}")


def _labelled(
    file: Path, encoding: str | None, text_column: str, label_column: str
) -> tuple[list[str], list[str], int]:
    """Texts and labels of the rows that have both; and how many rows lacked one."""
    texts: list[str] = []
    labels: list[str] = []
    skipped = 0
    info = readers.describe(file, encoding, fingerprint=False)
    for frame in _frames(info, text_column):
        if label_column not in frame.columns:
            raise Invalid(
                f"is not a column of {file.name}; its columns are: {', '.join(frame.columns)}",
                "--label-column",
                label_column,
            )
        for text, label in zip(frame[text_column], frame[label_column], strict=True):
            if str(text).strip() and str(label).strip():
                texts.append(str(text))
                labels.append(str(label).strip())
            else:
                skipped += 1
    return texts, labels, skipped


@text_app.command("discover")
def discover_command(
    limit: Annotated[
        int, typer.Option(min=10, help="Newest stored texts without a topic to look at.")
    ] = 5000,
    max_topics: Annotated[int, typer.Option(min=1, help="At most this many candidates.")] = 12,
) -> None:
    """Candidate new topics in stored feedback no taxonomy topic covers (examples masked)."""
    store = open_store()
    with unit_of_work(store) as session, console.status("clustering texts without a topic…"):
        candidates = discovery_service.discover(session=session, limit=limit, max_topics=max_topics)
    store.close()
    if not candidates:
        console.print("no analysed feedback without a topic: nothing to discover")
        return
    table = Table(title="candidate topics (add their terms to the taxonomy to track them)")
    for column in ("#", "texts", "keywords", "examples"):
        table.add_column(column, justify="right" if column in ("#", "texts") else "left")
    for n, c in enumerate(candidates, start=1):
        examples = "\n".join(e if len(e) <= 80 else e[:79] + "…" for e in c.examples)
        table.add_row(str(n), f"{c.size:,}", ", ".join(c.keywords), examples)
    console.print(table)
