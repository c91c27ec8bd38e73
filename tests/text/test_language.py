"""Language per text: zh, en, other, none; mixed Chinese/English recognised."""

from __future__ import annotations

import pytest

from cxloop.text.language import detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("外卖送得很快，味道也不错", "zh"),
        ("iPhone很好用，就是电池不太行", "zh"),
        ("The driver was late and the food was cold", "en"),
        ("ok", "en"),
        ("Le service était horrible et la livraison en retard", "other"),
        ("El envío fue rápido y el producto es excelente", "other"),
        ("配達が遅かったです", "other"),
        ("배송이 빨라요", "other"),
    ],
)
def test_language_of_common_feedback(text: str, language: str) -> None:
    assert detect_language(text).language == language


@pytest.mark.parametrize("value", ["", "   \n", None, 12, 3.5, "1234", "!!!"])
def test_nothing_to_read_is_language_none(value: object) -> None:
    assert detect_language(value).language == "none"


def test_mixed_chinese_and_english_is_flagged() -> None:
    guess = detect_language("外卖很好吃, but the driver was late and rude")
    assert guess.mixed
    assert guess.language in {"zh", "en"}


def test_a_brand_name_does_not_make_a_chinese_text_mixed() -> None:
    assert not detect_language("iPhone很好用，就是电池不太行").mixed


@pytest.mark.parametrize("text", ["Le service était horrible", "Das war gut"])
def test_short_latin_texts_in_other_languages_are_other(text: str) -> None:
    assert detect_language(text).language == "other"


@pytest.mark.parametrize("text", ["Terrible app 😡😡", "ok 👌", "“Great” service", "OMG 😍😍"])
def test_emoji_and_curly_quotes_do_not_make_english_foreign(text: str) -> None:
    assert detect_language(text).language == "en"


@pytest.mark.parametrize("text", ["Kein Kommentar", "Muy bien"])
def test_an_unsure_guess_without_an_english_word_stays_other(text: str) -> None:
    assert detect_language(text).language == "other"


def test_one_stray_kana_does_not_make_chinese_japanese() -> None:
    assert detect_language("好吃の").language == "zh"
