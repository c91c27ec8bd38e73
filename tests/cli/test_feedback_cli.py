"""``cxloop feedback list|show`` and ``cxloop channels`` as a user runs them: a real process on
a store imported from generated exports; csv and json parse, the table shortens text, errors
are sentences with exit code 2, an empty result is a sentence with exit code 1."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from cxloop import api
from cxloop.feedback import service as feedback_service
from cxloop.feedback.schemas import FeedbackFilter
from tests.cli.support import run_cxloop
from tests.feedback.search_data import EN_ROWS, PHONE, build_store


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{build_store(tmp_path_factory.mktemp('feedback-cli'))}"


def cxloop(tmp_path: Path, url: str, *args: str) -> tuple[int, str, str]:
    done = run_cxloop(tmp_path, *args, env={"CXLOOP_DATABASE_URL": url})
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


def service_ids(url: str, **filters: object) -> list[str]:
    store = api.connect(url)
    with store.sessions() as session:
        page = feedback_service.list_feedback(
            session=session,
            filters=FeedbackFilter(**filters),  # type: ignore[arg-type]
            limit=1000,
        )
    store.close()
    return [i.feedback_id for i in page.items]


def test_csv_holds_every_match_with_full_text_and_aspects(tmp_path: Path, store_url: str) -> None:
    code, out, err = cxloop(
        tmp_path, store_url, "feedback", "list", "--topic", "物流", "--format", "csv", "--all"
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["feedback_id"] for r in rows] == service_ids(store_url, topic=("delivery",))
    for row in rows:
        aspects = row["aspects"].split(";")
        assert any(a.startswith("delivery") for a in aspects), row
        assert all(a.rsplit(":", 1)[1] in ("positive", "neutral", "negative") for a in aspects)
        assert row["language"] in ("zh", "en") and row["sentiment"]
    long = next(r for r in rows if r["feedback_id"] == "shop:R5")
    assert long["text"] == EN_ROWS[-1]["comment"]  # whole, not shortened


def test_json_parses_and_pages(tmp_path: Path, store_url: str) -> None:
    code, out, err = cxloop(
        tmp_path,
        store_url,
        "feedback",
        "list",
        "--aspect",
        "delivery:negative",
        "--format",
        "json",
        "--limit",
        "2",
        "--offset",
        "1",
    )
    assert code == 0, err
    page = json.loads(out)
    expected = service_ids(store_url, aspect=("delivery:negative",))
    assert page["total"] == len(expected) and page["offset"] == 1
    assert [i["feedback_id"] for i in page["items"]] == expected[1:3]
    assert all(i["features"]["topics"] for i in page["items"])


def test_table_shortens_text_and_where_and_window_narrow(tmp_path: Path, store_url: str) -> None:
    code, out, err = cxloop(
        tmp_path,
        store_url,
        "feedback",
        "list",
        "--where",
        "segment=new",
        "--since",
        "2026-03-12",
        "--until",
        "2026-03",
    )
    assert code == 0, err
    assert "shop:R5" in out and "shop:R2" in out and "crm:A6" not in out  # A6: new, 6 March
    assert "Second order this month" in out and "within minutes" not in out and "…" in out
    assert "of 2," in out


def test_show_reveals_to_the_local_admin_and_masks_on_request(
    tmp_path: Path, store_url: str
) -> None:
    code, out, _ = cxloop(tmp_path, store_url, "feedback", "show", "crm:A5", "--format", "json")
    assert code == 0 and PHONE in json.loads(out)["text"]
    code, out, _ = cxloop(tmp_path, store_url, "feedback", "show", "crm:A5", "--mask-pii")
    assert code == 0 and PHONE not in out and "138****8000" in out and "sentiment" in out
    code, _, err = cxloop(tmp_path, store_url, "feedback", "show", "crm:nope")
    assert code == 2 and "no feedback with id 'crm:nope'" in err


def test_channels_lists_stored_values_with_counts(tmp_path: Path, store_url: str) -> None:
    code, out, err = cxloop(tmp_path, store_url, "channels", "--format", "json")
    assert code == 0, err
    counts = {c["channel"]: c["n"] for c in json.loads(out)}
    assert counts["review"] == sum(1 for r in EN_ROWS if r["channel"] == "review")
    assert sum(counts.values()) == len(service_ids(store_url))
    code, out, _ = cxloop(tmp_path, store_url, "channels")
    assert code == 0 and "review" in out and "%" in out


def test_bad_filters_are_sentences_with_exit_2(tmp_path: Path, store_url: str) -> None:
    code, _, err = cxloop(tmp_path, store_url, "feedback", "list", "--topic", "delivry")
    assert code == 2
    assert "error: topic: 'delivry' is not a topic path" in err
    assert "close matches: delivery (物流配送 / Delivery)" in err
    code, _, err = cxloop(
        tmp_path, store_url, "feedback", "list", "--last", "30x", "--sentiment", "x"
    )
    assert code == 2 and "last" in err


def test_nothing_matching_is_a_sentence_with_exit_1(tmp_path: Path, store_url: str) -> None:
    code, out, err = cxloop(tmp_path, store_url, "feedback", "list", "--channel", "apps")
    assert code == 1 and out == ""
    assert "did you mean app?" in err and "no feedback matches" in err


def test_an_empty_store_and_a_missing_one_end_in_sentences(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    code, _, err = cxloop(tmp_path, missing, "feedback", "list")
    assert code == 2 and "no cxloop store" in err
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    assert cxloop(tmp_path, empty, "init")[0] == 0
    code, out, err = cxloop(
        tmp_path, empty, "feedback", "list", "--topic", "物流", "--format", "csv"
    )
    assert code == 1 and out.startswith("feedback_id,") and "no feedback" not in out
    code, _, err = cxloop(tmp_path, empty, "channels")
    assert code == 1 and "no feedback" in err
