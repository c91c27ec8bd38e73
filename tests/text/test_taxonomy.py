"""The CX taxonomy: the shipped file, matching real review sentences, validation, versions."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import pytest
import yaml

from cxloop.config import TAXONOMY_PACKS
from cxloop.errors import Invalid, NotFound, UnreadableFile
from cxloop.text.taxonomy import (
    Lang,
    Taxonomy,
    TopicHit,
    load_taxonomy,
    parse_taxonomy,
    shipped_taxonomy,
)

REQUIRED = [
    "delivery/speed",
    "delivery/accuracy",
    "delivery/courier",
    "service/responsiveness",
    "service/attitude",
    "service/resolution",
    "price/level",
    "price/promotions",
    "quality/product",
    "quality/freshness",
    "taste/flavor",
    "taste/portion",
    "packaging",
    "returns",
    "payment/charges",
    "payment/invoice",
    "app/stability",
    "app/usability",
    "app/account",
    "stay/room",
    "stay/cleanliness",
    "stay/noise",
    "stay/front_desk",
    "stay/breakfast",
    "stay/location",
    "loyalty",
]


def node(
    node_id: str, zh: list[str] | None = None, en: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"id": node_id, "name": {"zh": node_id, "en": node_id}}
    out["terms"] = {"zh": zh or [], "en": en or []}
    out.update(extra)
    return out


def hits(tax: Taxonomy, text: str, lang: Lang) -> list[tuple[str, str]]:
    """(path, matched text) pairs, read back through the offsets."""
    return [(h.path, text[h.start : h.end]) for h in tax.match(text, lang)]


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    """The shipped default with every pack: these tests read hotel and takeaway reviews too."""
    return shipped_taxonomy(TAXONOMY_PACKS)


# ---------------------------------------------------------------- the shipped file


def test_shipped_taxonomy_loads_and_has_every_required_topic(tax: Taxonomy) -> None:
    assert set(REQUIRED) <= set(tax.paths())
    assert shipped_taxonomy(["food_delivery", "hotel"]) == tax


def test_every_leaf_has_many_terms_in_both_languages(tax: Taxonomy) -> None:
    paths = tax.paths()
    leaves = [p for p in paths if not any(q.startswith(p + "/") for q in paths)]
    for row in tax.describe():
        if row.path in leaves:
            assert row.terms >= 15, row
    for leaf in leaves:
        node = tax._nodes[leaf]
        assert len(node.terms.zh) >= 5 and len(node.terms.en) >= 5, leaf


def test_paths_list_parents_before_children_and_names_come_in_both_languages(
    tax: Taxonomy,
) -> None:
    paths = tax.paths()
    assert paths.index("delivery") < paths.index("delivery/speed")
    assert tax.name("delivery/courier", "zh") == "配送员"
    assert tax.name("stay/front_desk", "en") == "Front desk"
    with pytest.raises(NotFound):
        tax.name("delivery/teleport", "en")


def test_describe_gives_one_row_per_topic_with_term_counts(tax: Taxonomy) -> None:
    rows = {row.path: row for row in tax.describe()}
    assert list(rows) == tax.paths()
    speed = rows["delivery/speed"]
    assert (speed.zh, speed.en) == ("速度", "Speed")
    assert speed.terms == len(tax._nodes["delivery/speed"].terms.zh) + len(
        tax._nodes["delivery/speed"].terms.en
    )


# ---------------------------------------------------------------- matching


def test_chinese_review_finds_delivery_speed_and_service_attitude_at_their_offsets(
    tax: Taxonomy,
) -> None:
    text = "送货很快但是客服态度很差"
    found = tax.match(text, "zh")
    assert TopicHit("delivery", 0, 2, "送货") in found
    assert TopicHit("delivery/speed", 2, 4, "很快") in found
    assert TopicHit("service/attitude", 8, 10, "态度") in found
    assert [h.start for h in found] == sorted(h.start for h in found)


def test_english_review_finds_delivery_speed_and_attitude(tax: Taxonomy) -> None:
    text = "Delivery was quick but the support agent was rude"
    assert hits(tax, text, "en") == [
        ("delivery", "Delivery"),
        ("delivery/speed", "quick"),
        ("service", "support agent"),
        ("service/attitude", "rude"),
    ]


def test_hotel_reviews_are_split_into_stay_topics(tax: Taxonomy) -> None:
    zh = "房间很干净，但是隔音太差，前台态度一般，早餐不错，位置离地铁站很近"
    paths = [p for p, _ in hits(tax, zh, "zh")]
    for topic in ["room", "cleanliness", "noise", "front_desk", "breakfast", "location"]:
        assert f"stay/{topic}" in paths
    assert "service/attitude" not in paths  # 前台态度 is the front desk, not generic attitude
    en = "The room was spotless but the walls were paper-thin and the receptionist was rude"
    assert hits(tax, en, "en") == [
        ("stay/room", "room"),
        ("stay/cleanliness", "spotless"),
        ("stay/noise", "paper-thin"),
        ("stay/front_desk", "receptionist"),
        ("service/attitude", "rude"),
    ]


def test_wildcard_terms_match_word_continuations_only_from_a_word_start(tax: Taxonomy) -> None:
    text = "It was delivered late; two deliveries went to an undeliverable address"
    assert hits(tax, text, "en")[:3] == [
        ("delivery", "delivered"),
        ("delivery/speed", "late"),
        ("delivery", "deliveries"),
    ]
    assert ("delivery", "deliverable") not in hits(tax, text, "en")


def test_exact_term_beats_a_wildcard_covering_the_same_word(tax: Taxonomy) -> None:
    assert hits(tax, "The deliveryman left it in the rain", "en")[0] == (
        "delivery/courier",
        "deliveryman",
    )


def test_english_is_case_insensitive_and_offsets_point_at_the_original_text(
    tax: Taxonomy,
) -> None:
    text = "DELIVERY was LATE and Customer   Service never replied"
    assert hits(tax, text, "en") == [
        ("delivery", "DELIVERY"),
        ("delivery/speed", "LATE"),
        ("service", "Customer   Service"),
        ("service/responsiveness", "replied"),
    ]


def test_english_terms_match_whole_words_only() -> None:
    tax = parse_taxonomy({"nodes": [node("quality", en=["bad", "fee"])]})
    assert tax.match("My badge came with a feeling of doom", "en") == []
    assert hits(tax, "Bad product, bad fee.", "en") == [
        ("quality", "Bad"),
        ("quality", "bad"),
        ("quality", "fee"),
    ]


def test_carrier_name_ups_is_not_found_inside_upset(tax: Taxonomy) -> None:
    assert hits(tax, "I was upset that UPS lost it", "en") == [("delivery", "UPS")]


def test_latin_words_in_chinese_text_match_whole_words(tax: Taxonomy) -> None:
    assert hits(tax, "这个APP老是闪退", "zh") == [("app", "APP"), ("app/stability", "闪退")]
    assert tax.match("今天很happy", "zh") == []


def test_longest_term_wins_when_terms_share_a_start(tax: Taxonomy) -> None:
    assert hits(tax, "外卖小哥很热情", "zh")[0] == ("delivery/courier", "外卖小哥")
    assert hits(tax, "客服回复很快", "zh") == [
        ("service", "客服"),
        ("service/responsiveness", "回复很快"),
    ]


def test_overlapping_terms_resolve_longest_then_deepest() -> None:
    data = {
        "nodes": [
            node("a", zh=["甲乙"], children=[node("b", zh=["乙丙"]), node("c", zh=["丙丁戊"])]),
        ]
    }
    tax = parse_taxonomy(data)
    assert tax.match("甲乙丙", "zh") == [TopicHit("a/b", 1, 3, "乙丙")]
    assert tax.match("甲乙丙丁戊", "zh") == [
        TopicHit("a", 0, 2, "甲乙"),
        TopicHit("a/c", 2, 5, "丙丁戊"),
    ]


def test_a_term_is_found_everywhere_it_occurs(tax: Taxonomy) -> None:
    assert tax.match("很快，真的很快", "zh") == [
        TopicHit("delivery/speed", 0, 2, "很快"),
        TopicHit("delivery/speed", 5, 7, "很快"),
    ]


def test_text_without_topic_terms_gives_no_hits(tax: Taxonomy) -> None:
    assert tax.match("", "zh") == []
    assert tax.match("嗯嗯", "zh") == []
    assert tax.match("ok then", "en") == []


def test_text_whose_lowercase_changes_length_keeps_correct_offsets(tax: Taxonomy) -> None:
    text = "İstanbul hotel: DIRTY room"
    assert hits(tax, text, "en") == [
        ("stay", "hotel"),
        ("stay/cleanliness", "DIRTY"),
        ("stay/room", "room"),
    ]


# ---------------------------------------------------------------- validation


def problem_list(data: object) -> list[tuple[str, Any, str]]:
    with pytest.raises(Invalid) as caught:
        parse_taxonomy(data)
    return [(p.field, p.value, p.reason) for p in caught.value.problems]


def problems_of(data: object) -> dict[str, tuple[Any, str]]:
    return {field: (value, reason) for field, value, reason in problem_list(data)}


def test_invalid_taxonomy_reports_every_problem_with_field_value_and_reason() -> None:
    data = {
        "nodes": [
            node("delivery", zh=["快递"], children=[node("speed", zh=["很快"])]),
            node("delivery", zh=["送货"]),
            node("Bad Id!", zh=["快递"]),
            node(
                "deep",
                children=[node("l2", children=[node("l3", children=[node("l4", zh=["深"])])])],
            ),
            node("empty"),
            {"id": "nameless", "name": {"zh": "", "en": "Nameless"}, "terms": {"zh": ["无名"]}},
            {**node("typo", zh=["错字"]), "colour": "red"},
        ]
    }
    found = problems_of(data)
    assert found["nodes[1].id"][0] == "delivery"
    assert "duplicate id among siblings" in found["nodes[1].id"][1]
    assert found["nodes[2].id"][0] == "Bad Id!"
    assert "lower-case ascii" in found["nodes[2].id"][1]
    assert found["nodes[2].terms.zh[0]"] == (
        "快递",
        "zh term already used by topic delivery (nodes[0].terms.zh[0])",
    )
    assert found["nodes[3].children[0].children[0].children[0]"][0] == "l4"
    assert "deeper than 3 levels" in found["nodes[3].children[0].children[0].children[0]"][1]
    assert found["nodes[4]"] == ("empty", "has neither terms nor children")
    assert found["nodes[5].name.zh"] == ("", "must not be empty")
    assert found["nodes[6].colour"][0] == "red"
    assert "Extra inputs" in found["nodes[6].colour"][1]
    assert len(problem_list(data)) == len(found) == 7  # each once, nothing else


def test_wrong_types_and_missing_fields_are_reported_by_path() -> None:
    data = {"nodes": [{"id": 7, "terms": {"zh": "快递"}}], "version": 2}
    found = problems_of(data)
    assert found["nodes[0].id"][0] == 7
    assert "nodes[0].name" in found
    assert "nodes[0].terms.zh" in found
    assert found["version"][0] == 2


def test_a_term_repeated_in_one_topic_and_bad_wildcards_are_problems() -> None:
    found = problems_of({"nodes": [node("a", en=["Late", "late", "d*", "deli*very"])]})
    assert "already used by this topic" in found["nodes[0].terms.en[1]"][1]
    assert found["nodes[0].terms.en[2]"][0] == "d*"
    assert found["nodes[0].terms.en[3]"][0] == "deli*very"


def test_a_term_may_be_listed_under_zh_and_en_of_different_topics() -> None:
    tax = parse_taxonomy({"nodes": [node("a", zh=["app"]), node("b", en=["app"])]})
    assert tax.match("app", "zh")[0].path == "a"
    assert tax.match("app", "en")[0].path == "b"


def test_not_a_mapping_or_no_topics_is_invalid() -> None:
    assert problems_of(["nodes"])[""][0] == "list"
    assert problems_of({"nodes": []})["nodes"][1] == "must list at least one topic"


def test_load_reports_unreadable_files_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile):
        load_taxonomy(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("nodes: [\n  - id: a", encoding="utf-8")
    with pytest.raises(Invalid, match="not valid YAML"):
        load_taxonomy(broken)


# ---------------------------------------------------------------- versions and edits


def shipped_data() -> dict[str, Any]:
    path = Path(__file__).parents[2] / "src" / "cxloop" / "text" / "data" / "taxonomy.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_version_is_stable_and_survives_a_yaml_round_trip(tax: Taxonomy) -> None:
    again = parse_taxonomy(shipped_data())
    assert again.version == load_taxonomy().version == shipped_taxonomy(()).version
    assert len(tax.version) == 64
    assert parse_taxonomy(yaml.safe_load(tax.to_yaml())).version == tax.version


def test_version_changes_when_a_term_changes() -> None:
    data = shipped_data()
    edited = copy.deepcopy(data)
    edited["nodes"][0]["children"][0]["terms"]["zh"].append("慢悠悠")
    assert parse_taxonomy(edited).version != parse_taxonomy(data).version


def test_changed_terms_are_exactly_the_added_removed_and_moved_ones() -> None:
    before = parse_taxonomy(
        {"nodes": [node("a", zh=["快递", "物流"], en=["Courier"]), node("b", en=["late"])]}
    )
    after = parse_taxonomy(
        {
            "nodes": [
                node("a", zh=["快递"], en=["Driver*"]),
                node("b", zh=["物流"], en=["late"]),
            ]
        }
    )
    assert before.changed_terms(after) == {"物流", "courier", "driver"}
    assert after.changed_terms(before) == before.changed_terms(after)
    assert before.changed_terms(before) == set()


def test_renaming_a_topic_id_changes_all_of_its_terms() -> None:
    before = parse_taxonomy({"nodes": [node("a", zh=["快递"], children=[node("x", en=["late"])])]})
    after = parse_taxonomy({"nodes": [node("a", zh=["快递"], children=[node("y", en=["late"])])]})
    assert before.changed_terms(after) == {"late"}


def test_taxonomy_survives_pickling_for_worker_processes(tax: Taxonomy) -> None:
    copy_ = pickle.loads(pickle.dumps(tax))
    assert copy_ == tax
    assert copy_.match("送货很快", "zh") == tax.match("送货很快", "zh")
