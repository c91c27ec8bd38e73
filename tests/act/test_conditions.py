"""Target-list values are checked against what is stored: an unknown segment, region or topic
is refused with its closest stored values, topics resolve from a path, an id or a zh/en name,
and list names follow one documented rule."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from pydantic import ValidationError

from cxloop.act.conditions import TopicCatalog, check_query, suggest
from cxloop.act.schemas import TargetListCreate, TargetQuery, TopicMention
from cxloop.errors import Invalid
from cxloop.text.taxonomy import parse_taxonomy, shipped_taxonomy

PROFILES = pd.DataFrame(
    {
        "customer_id": ["a", "b", "c"],
        "segment": ["VIP", "regular", None],
        "region": ["north", "华东", "south"],
    }
)


def _catalog(stored: tuple[str, ...] = ("delivery/speed", "service/attitude")) -> TopicCatalog:
    return TopicCatalog(shipped_taxonomy(), stored)


def test_a_segment_in_the_wrong_case_is_refused_naming_the_stored_one() -> None:
    with pytest.raises(Invalid) as caught:
        check_query(TargetQuery(segments=["vip"]), PROFILES, _catalog())
    [problem] = caught.value.problems
    assert problem.field == "query.segments[0]" and problem.value == "vip"
    assert problem.reason == "is not a stored segment; close matches: VIP"


def test_every_unknown_value_is_reported_at_once() -> None:
    query = TargetQuery(
        segments=["VIP", "regluar"],
        regions=["west"],
        mentioned=[TopicMention(topic="delivry/sped")],
    )
    with pytest.raises(Invalid) as caught:
        check_query(query, PROFILES, _catalog())
    problems = {p.field: p for p in caught.value.problems}
    assert set(problems) == {"query.segments[1]", "query.regions[0]", "query.mentioned[0].topic"}
    assert "close matches: regular" in problems["query.segments[1]"].reason
    # nothing close: the stored values are listed instead
    assert (
        problems["query.regions[0]"].reason == "is not a stored region; stored: north, south, 华东"
    )
    assert "close matches: delivery/speed" in problems["query.mentioned[0].topic"].reason


def test_topics_resolve_from_path_id_and_chinese_or_english_name() -> None:
    catalog = _catalog()
    speed = catalog.resolve("delivery/speed")
    assert speed == "delivery/speed"
    zh, en = catalog.names["delivery/speed"]
    assert catalog.resolve(zh) == speed and catalog.resolve(en.upper()) == speed
    assert catalog.resolve(catalog.names["delivery"][0]) == "delivery"
    query, caveats = check_query(
        TargetQuery(mentioned=[TopicMention(topic=catalog.names["delivery"][1])]),
        PROFILES,
        catalog,
    )
    assert query.mentioned is not None and query.mentioned[0].topic == "delivery"
    assert any("read as delivery" in c for c in caveats)


def test_a_taxonomy_topic_nobody_mentioned_is_kept_with_a_caveat() -> None:
    catalog = _catalog(stored=("delivery/speed",))
    _, caveats = check_query(
        TargetQuery(mentioned=[TopicMention(topic="service")]), PROFILES, catalog
    )
    assert any(c.startswith("no stored feedback mentions service") for c in caveats)


def test_a_name_shared_by_two_topics_asks_for_the_path() -> None:
    node = {"id": "speed", "name": {"zh": "速度", "en": "Speed"}}
    taxonomy = parse_taxonomy(
        {
            "nodes": [
                {
                    "id": "a",
                    "name": {"zh": "甲", "en": "A"},
                    "children": [{**node, "terms": {"en": ["fast"]}}],
                },
                {
                    "id": "b",
                    "name": {"zh": "乙", "en": "B"},
                    "children": [{**node, "terms": {"en": ["quick"]}}],
                },
            ]
        }
    )
    with pytest.raises(ValueError, match="more than one topic: a/speed"):
        TopicCatalog(taxonomy, []).resolve("Speed")
    assert TopicCatalog(taxonomy, []).resolve("a/speed") == "a/speed"


def test_a_stored_topic_outside_the_taxonomy_is_still_accepted() -> None:
    assert _catalog(stored=("legacy/old_topic",)).resolve("legacy/old_topic") == "legacy/old_topic"


def test_suggestions_with_nothing_stored_say_so() -> None:
    assert (
        suggest("VIP", [], label="segment") == "is not a stored segment: no segment is stored yet"
    )


@pytest.mark.parametrize("name", ["at-risk", "高价值 客户", "q3.vip_list", "a" * 64])
def test_list_names_that_are_accepted(name: str) -> None:
    assert TargetListCreate(name=name, query=TargetQuery()).name == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("a" * 65, "65 characters long; at most 64"),
        ("a/b", "letters (Chinese too), digits, spaces, _ - and . only"),
        ("sheet:1", "letters (Chinese too)"),
        ("-lead", "start with a letter or digit"),
        ("trailing ", "not end with a space"),
    ],
)
def test_list_names_that_are_refused_say_why(name: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        TargetListCreate(name=name, query=TargetQuery())
