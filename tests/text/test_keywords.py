"""Keywords of one text and of a group of texts."""

from __future__ import annotations

from cxloop.text.keywords import group_keywords, keywords


def test_keywords_of_one_chinese_review_are_its_content_words() -> None:
    found = keywords("外卖小哥送餐很准时，包装也很用心", "zh")
    assert "外卖小哥" in found
    assert not {"很", "也"} & set(found)


def test_group_keywords_are_words_several_texts_share() -> None:
    texts = ["送货太慢了，等了两个小时", "送货慢，饭都凉了", "配送太慢", "味道不错"]
    found = dict(group_keywords(texts, top=3))
    assert found.get("送货") == 2
    assert "味道" not in found  # one text only


def test_group_keywords_in_english_count_texts_not_words() -> None:
    texts = ["Late late late delivery", "The delivery was late", "Great pizza"]
    assert dict(group_keywords(texts))["late"] == 2


def test_empty_group_has_no_keywords() -> None:
    assert group_keywords([]) == []
