"""Clauses cut at punctuation and contrast words, with offsets into the original text."""

from __future__ import annotations

import pytest

from cxloop.text.clauses import split_clauses


def test_contrast_word_cuts_a_chinese_sentence_into_two_opinions() -> None:
    text = "送货很快但是客服态度很差"
    clauses = split_clauses(text)
    assert [c.text for c in clauses] == ["送货很快", "但是客服态度很差"]
    assert [c.role for c in clauses] == ["plain", "contrast"]
    assert all(text[c.start : c.end] == c.text for c in clauses)


def test_concession_then_contrast() -> None:
    clauses = split_clauses("虽然价格有点贵，但是质量很好！")
    assert [c.role for c in clauses] == ["concession", "contrast"]


def test_english_but_starts_a_contrast_clause() -> None:
    text = "Delivery was fast, but the support agent was rude."
    clauses = split_clauses(text)
    assert [c.text for c in clauses] == ["Delivery was fast", "but the support agent was rude"]
    assert clauses[1].role == "contrast"
    assert all(text[c.start : c.end] == c.text for c in clauses)


def test_each_clause_of_a_mixed_text_gets_its_own_script() -> None:
    clauses = split_clauses("外卖很好吃 but delivery was slow")
    assert [c.lang for c in clauses] == ["zh", "en"]


def test_empty_text_has_no_clauses() -> None:
    assert split_clauses("") == []
    assert split_clauses(" ，。") == []


def test_an_enumeration_stays_one_clause() -> None:
    assert [c.text for c in split_clauses("物流、包装、质量都很差")] == ["物流、包装、质量都很差"]


def test_decimals_and_emails_do_not_cut_clauses() -> None:
    assert [c.text for c in split_clauses("9.9元包邮，很划算")] == ["9.9元包邮", "很划算"]
    assert split_clauses("Write to a@b.com now")[0].text == "Write to a@b.com now"


@pytest.mark.parametrize("text", ["不但价格贵，而且难吃", "但愿下次好一点", "我只是想问一下"])
def test_but_inside_a_word_is_not_a_contrast(text: str) -> None:
    clauses = split_clauses(text)
    assert all(c.role != "contrast" for c in clauses)
    assert not any(c.text in {"不", "我"} for c in clauses)
