"""``cxloop text …`` and ``cxloop taxonomy …`` as a user runs them: real processes, real files."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.cli.support import run_cxloop as _cxloop
from tests.cli.support import run_cxloop_process

OUTPUT_COLUMNS = [
    "language",
    "sentiment",
    "sentiment_score",
    "topics",
    "aspects",
    "intent",
    "flags",
    "emotions",
    "keywords",
]


def _first_row(stdout: str, header: str) -> list[str]:
    """The cells of the first data row of the rich table whose header line holds ``header``."""
    lines = stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if header in line)
    return [cell.strip() for cell in lines[at + 2].strip().strip("│").split("│")]


def _by_id(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The columns of an ``analyze --output`` CSV, and its rows by their ``id``."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = {row["id"]: row for row in reader}
        return list(reader.fieldnames or []), rows


def _reviews(path: Path) -> Path:
    pd.DataFrame(
        {
            "id": ["r1", "r2", "r3", "r4", "r5"],
            "review": [
                "送货很快但是客服态度很差",
                "",
                "12345",
                "配達がとても遅かったです。",
                "Terrible support, I want a refund or I will cancel my account",
            ],
        }
    ).to_csv(path, index=False)
    return path


def test_analyze_writes_the_input_columns_and_the_analysis(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = _cxloop(
        tmp_path, "text", "analyze", str(_reviews(tmp_path / "r.csv")), "--text-column",
        "review", "--output", str(out), "--workers", "1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    columns, rows = _by_id(out)
    assert columns == ["id", "review", *OUTPUT_COLUMNS]
    # fast delivery *but* rude service: the clause after the contrast decides
    assert rows["r1"]["sentiment"] == "negative"
    assert float(rows["r1"]["sentiment_score"]) < 0
    assert set(rows["r1"]["topics"].split(";")) >= {"delivery/speed", "service/attitude"}
    for odd in ("r2", "r3", "r4"):  # empty, a number, Japanese: nothing to read
        assert rows[odd]["language"] in ("none", "other"), odd
        assert (rows[odd]["sentiment"], rows[odd]["topics"]) == ("neutral", ""), odd
        assert float(rows[odd]["sentiment_score"]) == 0.0
    assert rows["r2"]["language"] == "none"
    assert rows["r5"]["sentiment"] == "negative"
    assert "churn_intent" in rows["r5"]["flags"].split(";")
    assert "5 texts" in result.stdout


def test_analyze_output_has_each_topic_with_its_clause_sentiment(tmp_path: Path) -> None:
    source = tmp_path / "r.csv"
    source.write_text(
        "id,review\n"
        "a1,发货太慢，好在是正品\n"
        "a2,Delivery was quick but the support agent was rude.\n"
        "a3,房间很干净，但是隔音太差了\n"
        "a4,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    args = ["text", "analyze", str(source), "--text-column", "review", "--workers", "1"]
    result = _cxloop(tmp_path, *args, "--output", str(out))
    assert result.returncode == 0, result.stderr
    _, rows = _by_id(out)
    assert rows["a1"]["aspects"] == "delivery/speed:negative;quality/authenticity:positive"
    assert rows["a2"]["aspects"] == "delivery/speed:positive;service/attitude:negative"
    assert rows["a4"]["aspects"] == ""
    assert "stay" not in rows["a3"]["topics"]  # hotel topics are a pack, off by default

    with_pack = _cxloop(tmp_path, *args, "--output", str(out), "--pack", "hotel")
    assert with_pack.returncode == 0, with_pack.stderr
    assert (
        _by_id(out)[1]["a3"]["aspects"]
        == "stay/room:positive;stay/cleanliness:positive;stay/noise:negative"
    )
    from_settings = _cxloop(
        tmp_path, *args, "--output", str(out), env={"CXLOOP_TAXONOMY_PACKS": "hotel"}
    )
    assert from_settings.returncode == 0, from_settings.stderr
    assert (
        _by_id(out)[1]["a3"]["aspects"]
        == "stay/room:positive;stay/cleanliness:positive;stay/noise:negative"
    )


def test_analyze_refuses_an_unknown_pack_before_writing(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    args = ["text", "analyze", str(_reviews(tmp_path / "r.csv")), "--text-column", "review"]
    result = _cxloop(
        tmp_path, *args, "--output", str(out), env={"CXLOOP_TAXONOMY_PACKS": "hotel,spa"}
    )
    assert result.returncode == 2
    assert "taxonomy_packs" in result.stderr and "'spa'" in result.stderr
    assert "known packs: hotel, food_delivery" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
    wrong = _cxloop(tmp_path, *args, "--pack", "spa")
    assert wrong.returncode == 2 and "hotel" in wrong.stderr and "food_delivery" in wrong.stderr


def test_analyze_without_output_prints_rows_and_counts(tmp_path: Path) -> None:
    result = _cxloop(
        tmp_path, "text", "analyze", str(_reviews(tmp_path / "r.csv")), "--text-column", "review"
    )
    assert result.returncode == 0, result.stderr
    assert "first 5 rows" in result.stdout and "送货很快" in result.stdout
    assert "sentiment" in result.stdout and "language" in result.stdout


def test_analyze_with_lang_reads_every_text_as_that_language_on_every_core(
    tmp_path: Path,
) -> None:
    source = tmp_path / "r.csv"
    pd.DataFrame(
        {
            "id": ["zh+", "zh-", "en", "blank"],
            "review": [
                "质量非常好，物流也很快，非常满意！",
                "送货太慢了，客服也不理人",
                "Great product, fast delivery, I love it",
                "",
            ],
        }
    ).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    result = _cxloop(
        tmp_path, "text", "analyze", str(source), "--text-column", "review",
        "--output", str(out), "--lang", "zh", "--workers", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = _by_id(out)[1]
    assert {i: r["language"] for i, r in rows.items()} == {
        "zh+": "zh",
        "zh-": "zh",
        "en": "zh",
        "blank": "none",
    }
    assert rows["zh+"]["sentiment"] == "positive"
    assert float(rows["zh+"]["sentiment_score"]) > 0.5
    assert set(rows["zh+"]["topics"].split(";")) >= {"delivery/speed"}
    assert rows["zh-"]["sentiment"] == "negative"
    assert float(rows["zh-"]["sentiment_score"]) < -0.5
    assert set(rows["zh-"]["topics"].split(";")) >= {"delivery/speed"}
    # read as Chinese, the English text has none of the Chinese terms a topic needs
    assert rows["en"]["topics"] == ""


def test_analyze_names_the_columns_when_the_text_column_is_unknown(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = _cxloop(
        tmp_path, "text", "analyze", str(_reviews(tmp_path / "r.csv")), "--text-column",
        "comment", "--output", str(out),
    )  # fmt: skip
    assert result.returncode == 2
    assert "comment" in result.stderr and "id, review" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_train_topics_prints_per_label_scores_and_saves_the_model(tmp_path: Path) -> None:
    examples = {
        "delivery": ["快递太慢了", "物流三天才到", "送货速度很快", "包裹送错地址", "配送员很准时",
                     "The parcel arrived late", "Shipping took two weeks", "Courier lost my box"],
        "service": ["客服态度很差", "客服回复很慢", "售后不理人", "客服很耐心", "打客服电话没人接",
                    "Support never answered", "The agent was rude", "Customer service was great"],
        "price": ["价格太贵了", "性价比很高", "比别家便宜", "优惠券用不了", "价格很实惠",
                  "Too expensive for what it is", "Great value for money", "The discount was fake"],
    }  # fmt: skip
    rows = [(text, label) for label, texts in examples.items() for text in texts]
    path = tmp_path / "labelled.csv"
    pd.DataFrame([*rows, ("", "price")], columns=["text", "topic"]).to_csv(path, index=False)
    result = _cxloop(
        tmp_path, "text", "train-topics", str(path), "--text-column", "text",
        "--label-column", "topic", "--output", str(tmp_path / "model"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for label in examples:
        assert label in result.stdout
    assert "precision" in result.stdout and "macro-F1" in result.stdout
    assert "1 rows without a text or a label were skipped" in result.stdout
    assert (tmp_path / "model" / "topic_model.npz").stat().st_size > 0


def test_taxonomy_validate_lists_every_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        yaml.safe_dump(
            {
                "nodes": [
                    {"id": "Bad Id", "name": {"zh": "坏", "en": "Bad"}, "terms": {"zh": ["坏"]}},
                    {"id": "dup", "name": {"zh": "重复"}, "terms": {"zh": ["坏"]}},
                    {"id": "empty", "name": {"zh": "空", "en": "Empty"}},
                ]
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    result = _cxloop(tmp_path, "taxonomy", "validate", str(broken))
    assert result.returncode == 1
    assert "nodes[0].id" in result.stderr  # not a slug
    assert "nodes[1].name.en" in result.stderr  # missing
    assert "nodes[1].terms.zh[0]" in result.stderr  # term already used by topic bad id
    assert "nodes[2]" in result.stderr  # neither terms nor children
    assert "Traceback" not in result.stderr


def test_taxonomy_export_edit_apply_reenrich_and_discover(tmp_path: Path) -> None:
    feedback = tmp_path / "feedback.csv"
    feedback.write_text(
        "feedback_id,channel,created_at,text\n"
        "1,chat,2026-01-01,送货很快但是客服态度很差\n"
        "2,chat,2026-01-02,my zorblax broke\n"
        "3,chat,2026-01-03,价格便宜\n",
        encoding="utf-8",
    )
    assert _cxloop(tmp_path, "import", "feedback", str(feedback)).returncode == 0
    exported = tmp_path / "taxonomy.yaml"
    result = _cxloop(tmp_path, "taxonomy", "export", "--output", str(exported))
    assert result.returncode == 0, result.stderr
    assert exported.read_text(encoding="utf-8").startswith("# cxloop CX taxonomy")
    valid = _cxloop(tmp_path, "taxonomy", "validate", str(exported))
    assert valid.returncode == 0 and "valid" in valid.stdout

    data = yaml.safe_load(exported.read_text(encoding="utf-8"))
    data["nodes"][0]["terms"]["en"].append("zorblax")
    exported.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    applied = _cxloop(tmp_path, "taxonomy", "apply", str(exported), "--workers", "1")
    assert applied.returncode == 0, applied.stderr
    assert "1 terms added, removed or moved" in applied.stdout
    stale, analysed, kept = _first_row(applied.stdout, "analysed")[:3]
    assert (stale, analysed, kept) == ("3", "1", "2")  # only the text with the new term

    shown = _cxloop(tmp_path, "taxonomy", "show", "--lang", "en")
    assert shown.returncode == 0 and "Delivery" in shown.stdout
    again = _cxloop(tmp_path, "text", "reenrich", "--all", "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert _first_row(again.stdout, "analysed")[:2] == ["3", "3"]
    discover = _cxloop(tmp_path, "text", "discover")
    assert discover.returncode == 0, discover.stderr
    assert "nothing to discover" in discover.stdout  # every text now has a topic


DISCOVER_TEXTS = [
    # two themes no taxonomy topic covers, personal data in some of them
    "the crossword answers are wrong",
    "crossword clue has no answer",
    "crossword grid misprinted, call me on 13812345678",
    "knitting pattern typo",
    "the knitting pattern has a typo",
    "knitting pattern typo, email alice.wong@example.com",
    # covered by a topic: not a candidate
    "送货很快",
    "客服态度很差",
]


def test_discover_names_candidates_among_texts_without_a_topic_with_pii_masked(
    tmp_path: Path,
) -> None:
    feedback = tmp_path / "feedback.csv"
    pd.DataFrame(
        {
            "feedback_id": [str(i) for i in range(1, len(DISCOVER_TEXTS) + 1)],
            "channel": "chat",
            "created_at": "2026-01-01",
            "text": DISCOVER_TEXTS,
        }
    ).to_csv(feedback, index=False)
    imported = _cxloop(tmp_path, "import", "feedback", str(feedback))
    assert imported.returncode == 0, imported.stderr

    result = _cxloop(tmp_path, "text", "discover")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "candidate topics" in out
    assert "crossword" in out and "knitting" in out  # keywords and examples name the themes
    keywords = {
        cell.strip()
        for line in out.splitlines()
        if line.count("│") >= 5
        for cell in line.split("│")[3].split(",")
    }
    assert {"crossword", "knitting"} <= keywords, keywords
    assert "13812345678" not in out and "alice.wong@example.com" not in out
    assert "1234" not in out and "alice" not in out  # nor a keyword made of the pieces
    assert "138****5678" in out and "a***@example.com" in out  # masked, still readable
    assert "送货" not in out and "客服" not in out  # texts with a topic are left out


@pytest.mark.slow
def test_analyze_a_hundred_thousand_rows_shows_progress_and_finishes(tmp_path: Path) -> None:
    """100k short reviews (written from templates here) stream through in chunks, with a bar."""
    openings = [
        "送货很快",
        "味道一般",
        "客服态度很差",
        "包装完好",
        "The driver was late",
        "Great value",
    ]
    endings = ["，下次还会买", "，有点失望", "，但是价格太贵", "", " and the food was cold", "!"]
    source = tmp_path / "big.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "review"])
        for i in range(100_000):
            writer.writerow([i, openings[i % 6] + endings[(i // 6) % 6]])
    out = tmp_path / "scored.csv"
    # TTY_COMPATIBLE: rich draws its live bar as on a terminal (read when a process makes its
    # consoles, so this one runs as its own process).
    done = run_cxloop_process(
        tmp_path,
        *("text", "analyze", str(source), "--text-column", "review", "--output", str(out)),
        env={"TTY_COMPATIBLE": "1"},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    shown = {int(n) for n in re.findall(r"(\d+)/100000", done.stdout + done.stderr)}
    assert any(0 < n < 100_000 for n in shown), "no intermediate progress was drawn"
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 100_000
    assert {r["language"] for r in rows} == {"zh", "en"}


def test_analyze_applies_a_topic_model_trained_by_train_topics(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "data" / "topic_examples.csv"
    trained = _cxloop(
        tmp_path,
        *("text", "train-topics", str(examples), "--text-column", "text"),
        *("--label-column", "label", "--output", str(tmp_path / "model")),
    )
    assert trained.returncode == 0, trained.stderr
    source = tmp_path / "in.csv"
    source.write_text("id,review\n1,快递三天才到太慢了\n2,客服一直不回复\n3,\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    done = _cxloop(
        tmp_path,
        *("text", "analyze", str(source), "--text-column", "review", "--output", str(out)),
        *("--topic-model", str(tmp_path / "model" / "topic_model.npz")),
    )
    assert done.returncode == 0, done.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["predicted_topic"] for r in rows] == ["delivery", "service", ""]
    assert 0 < float(rows[0]["predicted_topic_probability"]) <= 1
    assert rows[2]["predicted_topic_probability"] == ""


def test_taxonomy_packs_lists_each_pack_its_topics_and_whether_it_is_enabled(
    tmp_path: Path,
) -> None:
    off = _cxloop(tmp_path, "taxonomy", "packs", "--lang", "en")
    assert off.returncode == 0, off.stderr
    hotel = next(line for line in off.stdout.splitlines() if "│ hotel" in line)
    assert "│ no " in hotel and "stay Stay" in hotel and "front_desk" in hotel
    on = _cxloop(tmp_path, "taxonomy", "packs", env={"CXLOOP_TAXONOMY_PACKS": "food_delivery"})
    food = next(line for line in on.stdout.splitlines() if "│ food_delivery" in line)
    assert "│ yes " in food and "taste 口味" in food


def test_enabling_a_pack_reanalyses_only_stored_texts_with_a_term_it_adds_or_takes(
    tmp_path: Path,
) -> None:
    feedback = tmp_path / "feedback.csv"
    feedback.write_text(
        "feedback_id,channel,created_at,text\n"
        "1,app,2026-01-01,物流很快，包装很好\n"
        "2,app,2026-01-02,噪音太大，晚上根本没法用\n"
        "3,app,2026-01-03,酒店房间很干净\n",
        encoding="utf-8",
    )
    assert _cxloop(tmp_path, "import", "feedback", str(feedback)).returncode == 0
    hotel = {"CXLOOP_TAXONOMY_PACKS": "hotel"}
    result = _cxloop(tmp_path, "text", "reenrich", "--workers", "1", env=hotel)
    assert result.returncode == 0, result.stderr
    # 噪音 moved to the pack's stay/noise, 酒店/房间/干净 are new: rows 2 and 3; row 1 is kept
    assert _first_row(result.stdout, "analysed")[:3] == ["3", "2", "1"]
    again = _cxloop(tmp_path, "text", "reenrich", "--workers", "1", env=hotel)
    assert _first_row(again.stdout, "analysed")[:3] == ["0", "0", "0"]
