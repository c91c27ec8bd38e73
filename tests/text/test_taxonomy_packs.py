"""The shipped default (retail, e-commerce, apps, service), the opt-in packs, topics by name."""

from __future__ import annotations

import itertools
from importlib import resources

import pytest
import yaml
from pydantic import ValidationError

from cxloop.config import TAXONOMY_PACKS, Settings, get_settings
from cxloop.errors import Invalid
from cxloop.text.pipeline import analyze
from cxloop.text.taxonomy import (
    Taxonomy,
    load_taxonomy,
    parse_taxonomy,
    resolve_topic,
    shipped_taxonomy,
    shipped_taxonomy_of,
    shipped_taxonomy_yaml,
)

DEFAULT_TOPICS = [
    "quality/authenticity",
    "quality/noise",
    "quality/size",
    "quality/as_described",
    "service/repair",
    "availability",
    "assortment",
    "store",
    "privacy",
    "implementation",
]


@pytest.fixture(scope="module")
def default() -> Taxonomy:
    return shipped_taxonomy(())


def _paths(tax: Taxonomy, text: str, lang: str) -> list[str]:
    return [hit.path for hit in tax.match(text, lang)]  # type: ignore[arg-type]


def test_the_default_covers_a_retailer_and_leaves_hotel_and_food_out(default: Taxonomy) -> None:
    assert set(DEFAULT_TOPICS) <= set(default.paths())
    assert not [p for p in default.paths() if p.split("/")[0] in ("stay", "taste")]
    assert default == load_taxonomy()  # the shipped file alone is the default


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("买到假货了，客服还不承认", "zh"),
        ("专柜验货，保证正品", "zh"),
        ("这个是水货吧，没有保修", "zh"),
        ("仿冒品太多了", "zh"),
        ("高仿的，做工很差", "zh"),
        ("This is a counterfeit, not the real brand", "en"),
        ("Definitely a fake", "en"),
        ("Genuine leather and the real deal", "en"),
        ("Looks like a cheap knockoff", "en"),
    ],
)
def test_authenticity_phrases_map_to_the_authenticity_topic(
    default: Taxonomy, text: str, lang: str
) -> None:
    assert "quality/authenticity" in _paths(default, text, lang)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("噪音太大，晚上根本没法用", "zh"),
        ("风扇声音大", "zh"),
        ("It is far too noisy at night", "en"),
        ("The fan is really loud", "en"),
    ],
)
def test_product_noise_is_a_quality_topic_by_default(
    default: Taxonomy, text: str, lang: str
) -> None:
    assert _paths(default, text, lang) == ["quality/noise"]


def test_hotel_and_food_reviews_find_no_hotel_or_food_topic_by_default(default: Taxonomy) -> None:
    texts = [
        ("酒店前台办理入住很慢，早餐一般", "zh"),
        ("菜品口味偏咸，分量太少", "zh"),
        ("The receptionist was lovely and breakfast was great", "en"),
        ("The burger was bland and the portion tiny", "en"),
    ]
    for text, lang in texts:
        assert not [p for p in _paths(default, text, lang) if p.startswith(("stay", "taste"))]


def test_each_pack_adds_its_topics_and_takes_the_terms_it_shares_with_the_default() -> None:
    hotel = shipped_taxonomy(["hotel"])
    food = shipped_taxonomy(["food_delivery"])
    assert "stay/front_desk" in hotel.paths() and "taste" not in hotel.paths()
    assert "taste/flavor" in food.paths() and "stay" not in food.paths()
    assert "stay/front_desk" in _paths(hotel, "前台办理入住很慢", "zh")
    assert "taste/portion" in _paths(food, "The portion was tiny", "en")
    # the hotel pack reads noise as a stay's, the default as a product's
    assert _paths(hotel, "房间隔音差，噪音很大", "zh") == ["stay/room", "stay/noise", "stay/noise"]
    assert _paths(hotel, "It was noisy", "en") == ["stay/noise"]
    assert "quality/noise" in hotel.paths()  # what the pack did not take stays
    assert _paths(hotel, "风扇声音大", "zh") == ["quality/noise"]


def test_every_combination_of_packs_is_a_valid_taxonomy_whose_export_reads_back() -> None:
    folder = resources.files("cxloop.text") / "data" / "packs"
    assert sorted(f.name for f in folder.iterdir() if f.name.endswith(".yaml")) == sorted(
        f"{name}.yaml" for name in TAXONOMY_PACKS
    )
    versions = set()
    for n in range(len(TAXONOMY_PACKS) + 1):
        for packs in itertools.combinations(TAXONOMY_PACKS, n):
            tax = shipped_taxonomy(packs)
            text = shipped_taxonomy_yaml(packs)
            assert text.startswith("# cxloop CX taxonomy")
            assert parse_taxonomy(yaml.safe_load(text)).version == tax.version
            versions.add(tax.version)
    assert len(versions) == 2 ** len(TAXONOMY_PACKS)
    assert shipped_taxonomy(["food_delivery", "hotel"]) == shipped_taxonomy(
        ["hotel", "food_delivery"]
    )


def test_an_unknown_pack_is_refused_naming_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(Invalid) as caught:
        shipped_taxonomy(["hotel", "spa"])
    problem = caught.value.problems[0]
    assert (problem.field, problem.value) == ("taxonomy_packs", "spa")
    assert "hotel, food_delivery" in problem.reason
    with pytest.raises(ValidationError, match=r"unknown taxonomy pack.*'spa'.*known packs: hotel"):
        Settings(taxonomy_packs="hotel,spa")
    monkeypatch.setenv("CXLOOP_TAXONOMY_PACKS", "spa")
    with pytest.raises(ValidationError, match="known packs"):
        Settings()


def test_the_settings_choose_the_packs_of_the_shipped_taxonomy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CXLOOP_TAXONOMY_PACKS", " Hotel , food_delivery,")
    get_settings.cache_clear()
    try:
        assert get_settings().taxonomy_packs == ("hotel", "food_delivery")
        assert shipped_taxonomy() == shipped_taxonomy(TAXONOMY_PACKS)
        monkeypatch.delenv("CXLOOP_TAXONOMY_PACKS")
        get_settings.cache_clear()
        assert get_settings().taxonomy_packs == ()
        assert shipped_taxonomy() == shipped_taxonomy(())
    finally:
        get_settings.cache_clear()


def test_analysis_gives_authenticity_its_own_sentiment() -> None:
    aspects = {a.topic: a.sentiment for a in analyze("发货太慢，好在是正品").aspects}
    assert aspects == {"delivery/speed": "negative", "quality/authenticity": "positive"}
    assert {a.topic: a.sentiment for a in analyze("This is a fake").aspects} == {
        "quality/authenticity": "negative"
    }


# ---------------------------------------------------------------- topics by name


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("quality/authenticity", "quality/authenticity"),
        ("正品/假货", "quality/authenticity"),
        ("Authenticity", "quality/authenticity"),
        ("  authenticity ", "quality/authenticity"),
        ("质量/正品/假货", "quality/authenticity"),
        ("Quality / Authenticity", "quality/authenticity"),
        ("物流配送", "delivery"),
        ("delivery", "delivery"),
        ("Delivery/Speed", "delivery/speed"),
        ("配送员", "delivery/courier"),
        ("courier", "delivery/courier"),
        ("Size & fit", "quality/size"),
        ("隐私与骚扰", "privacy"),
    ],
)
def test_a_topic_resolves_by_path_zh_or_en_name(default: Taxonomy, name: str, path: str) -> None:
    assert resolve_topic(name, default) == path


def test_an_unknown_topic_is_refused_with_close_matches(default: Taxonomy) -> None:
    with pytest.raises(Invalid) as caught:
        resolve_topic("authentisity", default)
    problem = caught.value.problems[0]
    assert (problem.field, problem.value) == ("topic", "authentisity")
    assert "close matches: quality/authenticity (正品/假货 / Authenticity)" in problem.reason
    with pytest.raises(Invalid, match="stay"):  # a pack's topic is no topic without the pack
        resolve_topic("stay/room", default)
    assert resolve_topic("stay/room", shipped_taxonomy(["hotel"])) == "stay/room"


def test_a_name_two_topics_share_is_refused_listing_both() -> None:
    food = shipped_taxonomy(["food_delivery"])
    with pytest.raises(Invalid) as caught:
        resolve_topic("口味", food)
    reason = caught.value.problems[0].reason
    assert "taste (口味" in reason and "taste/flavor (口味" in reason
    assert resolve_topic("taste/flavor", food) == "taste/flavor"


def test_a_shipped_version_is_found_whatever_the_packs() -> None:
    hotel = shipped_taxonomy(["hotel"])
    assert shipped_taxonomy_of(hotel.version) == hotel
    assert shipped_taxonomy_of(shipped_taxonomy(()).version) == shipped_taxonomy(())
    assert shipped_taxonomy_of("0" * 64) is None
