"""Flags, emotions and intent from real-sounding reviews, with their evidence and negation."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml

from cxloop.text.cues import _Cues, detect_emotions, detect_flags, detect_intent, intent_cues


def flags(text: str) -> list[tuple[str, str]]:
    found = detect_flags(text)
    for flag in found:
        assert text[flag.start : flag.end] == flag.evidence
    return [(f.name, f.evidence) for f in found]


def emotions(text: str) -> list[tuple[str, str]]:
    found = detect_emotions(text)
    for emotion in found:
        assert text[emotion.start : emotion.end] == emotion.evidence
    return [(e.name, e.evidence) for e in found]


def shipped(name: str) -> dict[str, Any]:
    text = (resources.files("cxloop.text") / "data" / name).read_text("utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


# ---------------------------------------------------------------- flags


def test_escalation_threat_is_flagged_at_its_offsets() -> None:
    found = detect_flags("等了三天还没到，我要投诉")
    assert [(f.name, f.start, f.end, f.evidence) for f in found] == [("escalation", 10, 12, "投诉")]


@pytest.mark.parametrize(
    "text",
    [
        "不会投诉的，下次注意就好",
        "我不会去投诉",
        "没必要投诉",
        "I will not sue anyone",
        "no need to sue",
    ],
)
def test_negated_escalation_is_not_flagged(text: str) -> None:
    assert flags(text) == []


@pytest.mark.parametrize(
    ("text", "evidence"),
    [
        ("再不退款我就投诉", "投诉"),
        ("不退就打12315", "12315"),
        ("忍不住投诉了", "投诉"),
        ("If you don't refund me I will sue", "sue"),
        ("I'm filing a complaint with the BBB", "filing a complaint"),
    ],
)
def test_a_negator_belonging_to_a_condition_does_not_cancel_the_threat(
    text: str, evidence: str
) -> None:
    assert ("escalation", evidence) in flags(text)


def test_churn_intent_in_chinese_and_english() -> None:
    assert flags("再也不买了，已经卸载，换一家") == [
        ("churn_intent", "再也不买"),
        ("churn_intent", "卸载"),
        ("churn_intent", "换一家"),
    ]
    assert flags("I'm cancelling my subscription and switching to Hulu") == [
        ("churn_intent", "cancelling my subscription"),
        ("churn_intent", "switching to"),
    ]
    assert flags("Won't be back. Never again!") == [
        ("churn_intent", "Won't be back"),
        ("churn_intent", "Never again"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "I won't cancel my subscription, it's fine",
        "I won’t cancel my subscription",
        "I'm not going to cancel my account over this",
        "我不打算注销，就是提个意见",
    ],
)
def test_negated_churn_is_not_flagged(text: str) -> None:
    assert flags(text) == []


def test_safety_issues_in_food_and_product_reviews() -> None:
    assert flags("吃完全家拉肚子，饭里还有虫子") == [("safety", "拉肚子"), ("safety", "虫子")]
    assert flags("The charger caught fire and my son got burned") == [
        ("safety", "caught fire"),
        ("safety", "got burned"),
    ]
    assert flags("My daughter had an allergic reaction to the sauce") == [
        ("safety", "allergic reaction")
    ]


def test_one_text_can_raise_several_kinds_of_flag() -> None:
    names = [name for name, _ in flags("外卖里吃出玻璃渣，我要去消协投诉，以后再也不点了")]
    assert names == ["safety", "escalation", "escalation", "churn_intent"]


def test_ordinary_reviews_raise_no_flags() -> None:
    for text in ["送货很快，味道不错", "The room was clean and quiet", "", "Vollständig zufrieden"]:
        assert flags(text) == []


def test_words_containing_a_cue_do_not_raise_it() -> None:
    assert flags("The pursuer was issued a shockproof case") == []  # not "sue", not "shock"


# ---------------------------------------------------------------- emotions


def test_emotions_from_chinese_slang_and_emoji() -> None:
    assert emotions("气死我了😡") == [("anger", "气死我了"), ("anger", "😡")]
    assert emotions("yyds，绝绝子") == [("joy", "yyds"), ("joy", "绝绝子")]
    assert emotions("没想到这么好吃，惊喜") == [("surprise", "没想到"), ("surprise", "惊喜")]
    assert emotions("太失望了💔") == [("disappointment", "太失望"), ("disappointment", "💔")]
    assert emotions("有点担心质量😰") == [("worry", "担心"), ("worry", "😰")]


def test_emotions_from_english_words() -> None:
    assert emotions("I'm fed up and honestly furious") == [
        ("anger", "fed up"),
        ("anger", "furious"),
    ]
    assert emotions("Wow, I love it 😍") == [("surprise", "Wow"), ("joy", "love"), ("joy", "😍")]
    assert emotions("Really let down, worried it will break") == [
        ("disappointment", "let down"),
        ("worry", "worried"),
    ]


def test_negated_joy_becomes_disappointment_spanning_the_negator() -> None:
    found = detect_emotions("这次体验不开心")
    assert [(e.name, e.start, e.end, e.evidence) for e in found] == [
        ("disappointment", 4, 7, "不开心")
    ]
    assert emotions("我不是很开心") == [("disappointment", "不是很开心")]
    assert emotions("I am not happy with this") == [("disappointment", "not happy")]


def test_other_negated_emotions_are_dropped() -> None:
    assert emotions("不担心，质量很好") == []
    assert emotions("Not surprised at all, and not worried either") == []


def test_emoji_are_never_negated() -> None:
    assert emotions("不 😊") == [("joy", "😊")]


# ---------------------------------------------------------------- intent


@pytest.mark.parametrize(
    ("text", "score", "intent"),
    [
        ("太差了，建议改进一下", 0.0, "complaint"),  # complaint cue beats suggestion
        ("怎么这么慢？", 0.0, "complaint"),  # rhetorical question is a complaint
        ("How do I get a refund?", 0.0, "complaint"),  # refund is a complaint cue
        ("能不能加个发票功能？", 0.0, "suggestion"),  # suggestion beats question
        ("希望能增加夜间模式", 0.2, "suggestion"),
        ("Please add a dark mode, it would be nice", 0.1, "suggestion"),
        ("配送太慢了，希望改进", -0.5, "complaint"),
        ("怎么开发票？", 0.0, "question"),
        ("Is there a family room?", 0.0, "question"),
        ("好评，下次还来", 0.8, "praise"),
        ("Great service, would recommend", 0.9, "praise"),
        ("推荐是推荐，但这次真的很难吃", -0.6, "complaint"),  # praise cue outvoted by sentiment
        ("不推荐", 0.0, "complaint"),  # negated praise
        ("I would not recommend this hotel", 0.0, "complaint"),
        ("不建议购买", 0.0, "complaint"),
        ("not terrible", 0.0, "none"),  # negated complaint counts for nothing
        ("送到了", -0.3, "complaint"),  # no cues: sentiment decides
        ("送到了", 0.5, "praise"),
        ("送到了", 0.1, "none"),
        ("", 0.0, "none"),
    ],
)
def test_intent_precedence(text: str, score: float, intent: str) -> None:
    assert detect_intent(text, score) == intent


def test_score_thresholds_are_inclusive() -> None:
    assert detect_intent("ok", -0.2) == "complaint"
    assert detect_intent("ok", -0.19) == "none"
    assert detect_intent("ok", 0.2) == "praise"  # the positive label's band starts here too
    assert detect_intent("ok", 0.19) == "none"


def test_a_negator_inside_an_earlier_cue_negates_nothing() -> None:
    assert intent_cues("能不能加个发票功能？") == {"suggestion", "question"}


# ---------------------------------------------------------------- the data files


def test_shipped_cues_cover_every_flag_emotion_and_intent() -> None:
    data = shipped("cues.yaml")
    assert set(data["flags"]) == {"churn_intent", "escalation", "safety"}
    assert set(data["emotions"]) == {
        "anger",
        "disappointment",
        "worry",
        "joy",
        "surprise",
        "negated",
    }
    assert set(data["intent"]) == {"complaint", "suggestion", "question", "praise"}
    for section in ("flags", "emotions", "intent"):
        for name, lists in data[section].items():
            if name == "negated":
                continue
            for terms in lists.values():
                assert all(isinstance(t, str) and t.strip() for t in terms), (section, name)


def test_a_cue_listed_in_two_categories_is_refused() -> None:
    data = shipped("cues.yaml")
    data["flags"]["safety"]["zh"].append("投诉")
    with pytest.raises(ValueError, match="投诉"):
        _Cues(data)


def test_lexicon_file_has_every_section_with_clean_entries() -> None:
    data = shipped("lexicon.yaml")
    for polarity in ("positive", "negative"):
        assert len(data[polarity]["zh"]) >= 200 and len(data[polarity]["en"]) >= 200
    for section in ("positive", "negative", "negators"):
        for lang in ("zh", "en"):
            words = data[section][lang]
            assert all(isinstance(w, str) and w for w in words), (section, lang)
            assert len({w.lower() for w in words}) == len(words), (section, lang)
    for lang in ("zh", "en"):
        assert not {w.lower() for w in data["positive"][lang]} & set(data["negative"][lang])
        for section in ("intensifiers", "diminishers"):
            weights = data[section][lang]
            assert all(isinstance(w, str) for w in weights)
            assert all((v > 1) == (section == "intensifiers") for v in weights.values())
    assert "no" in data["negators"]["en"] and "不" in data["negators"]["zh"]
    for section in ("slang", "emoji"):
        assert all(isinstance(k, str) and -1 <= v <= 1 for k, v in data[section].items())
    assert data["slang"]["yyds"] == 1 and data["slang"]["拉胯"] == -1
    assert data["emoji"]["👍"] == 1 and data["emoji"]["👎"] == -1
