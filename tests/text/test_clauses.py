"""Clauses cut at punctuation and contrast words, with offsets into the original text."""

from __future__ import annotations

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
