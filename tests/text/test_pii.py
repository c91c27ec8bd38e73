"""Personal data in feedback: what is found, where (``text[start:end]``), and what is left alone."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxloop.text.pii import find_pii

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def found(text: str) -> list[tuple[str, str]]:
    """(kind, value) for every span, the value cut from the text by the span's offsets."""
    return [(span.kind, text[span.start : span.end]) for span in find_pii(text)]


def with_id_check(first17: str) -> str:
    """A resident ID number: 17 digits and their ISO 7064 MOD 11-2 check character."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


def with_luhn_check(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if luhn_ok(prefix + d))


# --- emails -------------------------------------------------------------------------------------


def test_email_in_chinese_text_is_found_with_exact_offsets() -> None:
    text = "请联系我的邮箱zhang.san@example.com.cn，谢谢"
    assert found(text) == [("email", "zhang.san@example.com.cn")]


def test_email_in_english_sentence_stops_before_trailing_full_stop() -> None:
    text = "Reach me at jane.doe+orders@mail.example.co.uk."
    assert found(text) == [("email", "jane.doe+orders@mail.example.co.uk")]


def test_qq_email_of_digits_is_one_email_not_a_phone() -> None:
    text = "邮箱13812345678@qq.com 和 123456789@qq.com"
    assert found(text) == [("email", "13812345678@qq.com"), ("email", "123456789@qq.com")]


def test_at_sign_without_domain_is_not_an_email() -> None:
    assert find_pii("@客服 please help, foo@bar is not an address") == []


# --- phones -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "13812345678",
        "138-1234-5678",
        "138 1234 5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "0086 13812345678",
        "86 13812345678",
        "19912345678",
    ],
)
def test_chinese_mobile_with_or_without_country_code_and_separators(number: str) -> None:
    text = f"我的手机号是{number}，有事请打给我"
    assert found(text) == [("phone", number)]


def test_landlines_with_area_code_are_phones() -> None:
    text = "北京座机010-12345678，深圳0755-1234567，上海(021)87654321"
    assert found(text) == [
        ("phone", "010-12345678"),
        ("phone", "0755-1234567"),
        ("phone", "(021)87654321"),
    ]


def test_international_numbers_with_plus_country_code_are_phones() -> None:
    text = "Call me on +1 415-555-2671 or my UK mobile +44 7911 123456, office +44 20 7946 0958."
    assert found(text) == [
        ("phone", "+1 415-555-2671"),
        ("phone", "+44 7911 123456"),
        ("phone", "+44 20 7946 0958"),
    ]


def test_us_number_without_plus_is_not_read_as_a_chinese_number() -> None:
    assert find_pii("call (415) 555-2671 or 415.555.2671") == []


def test_mobile_inside_a_longer_digit_run_is_not_a_phone() -> None:
    assert find_pii("订单号 20240601138123456789") == []
    assert find_pii("SN: 913812345678") == []


def test_grouped_mobile_followed_by_another_group_is_not_a_phone() -> None:
    assert find_pii("编号 138 1234 5678 9") == []


def test_86_prefixed_mobile_that_passes_luhn_is_still_a_phone() -> None:
    # 13 digits that also pass Luhn, so they could read as a card
    number = next(n for n in (f"86138123456{i:02d}" for i in range(100)) if luhn_ok(n))
    assert found(f"电话{number}") == [("phone", number)]


def test_full_width_digits_typed_by_a_chinese_ime_are_found() -> None:
    text = "电话：１３８１２３４５６７８，身份证１１０１０５１９４９１２３１００２Ｘ"
    assert found(text) == [
        ("phone", "１３８１２３４５６７８"),
        ("cn_id", "１１０１０５１９４９１２３１００２Ｘ"),
    ]


# --- resident ID numbers ------------------------------------------------------------------------


def test_known_valid_id_number_and_mobile_in_one_chinese_sentence() -> None:
    text = "我的电话是13812345678，身份证11010519491231002X"
    spans = find_pii(text)
    assert [(s.kind, s.start, s.end) for s in spans] == [("phone", 5, 16), ("cn_id", 20, 38)]
    assert text[20:38] == "11010519491231002X"


def test_id_number_with_lower_case_x_is_found() -> None:
    assert found("ID 11010519491231002x ok") == [("cn_id", "11010519491231002x")]


def test_id_number_computed_from_the_checksum_algorithm_is_found() -> None:
    number = with_id_check("44030419900307123")
    assert found(f"身份证号：{number}。") == [("cn_id", number)]


def test_id_number_with_bad_checksum_is_not_pii() -> None:
    good = with_id_check("44030419900307123")
    bad = good[:17] + ("1" if good[17] != "1" else "2")
    assert all(kind != "cn_id" for kind, _ in found(f"身份证{bad}"))
    assert find_pii("身份证11010519491231002Y") == []


def test_id_number_with_impossible_or_future_birth_date_is_not_an_id() -> None:
    impossible = with_id_check("11010519491331002")  # month 13
    too_old = with_id_check("11010518991231002")
    tomorrow = (date.today() + timedelta(days=1)).strftime("%Y%m%d")
    future = with_id_check(f"110105{tomorrow}002")
    for number in (impossible, too_old, future):
        assert all(kind != "cn_id" for kind, _ in found(f"身份证{number}")), number


def test_id_number_is_reported_once_not_also_as_card_or_phone() -> None:
    number = next(
        n
        for n in (with_id_check(f"13010519880101{i:03d}") for i in range(1000))
        if n[-1] != "X" and luhn_ok(n)
    )  # a valid ID that also passes Luhn and starts like a mobile
    assert found(f"身份证 {number}") == [("cn_id", number)]


# --- bank cards ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "3782 822463 10005"],
)
def test_luhn_valid_card_numbers_are_bank_cards(number: str) -> None:
    text = f"I paid with card {number} yesterday"
    assert found(text) == [("bank_card", number)]


def test_nineteen_digit_unionpay_card_grouped_four_by_four() -> None:
    digits = with_luhn_check("622202123456789012")
    grouped = " ".join(digits[i : i + 4] for i in range(0, 19, 4))
    assert grouped.count(" ") == 4
    assert found(f"退款请打到卡号{grouped}，谢谢") == [("bank_card", grouped)]
    assert found(f"卡号：{digits}") == [("bank_card", digits)]


def test_card_number_with_bad_luhn_digit_is_not_pii() -> None:
    assert find_pii("card 4111 1111 1111 1112 was declined") == []
    assert find_pii("card 4111111111111112 was declined") == []


def test_grouped_card_followed_by_another_group_is_not_a_card() -> None:
    assert find_pii("4111 1111 1111 1111 2024") == []


def test_order_number_failing_luhn_is_not_a_card() -> None:
    order = "2024060112345678"
    assert not luhn_ok(order)
    assert find_pii(f"订单号{order}还没发货") == []


# --- things that are not personal data --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "价格¥1299，太贵了",
        "Paid ¥12,999.00 on 2024-06-01 at 12:30:45, refund pending",
        "订单号 20240601123456789012 一直没有发货",
        "2024年6月1日 14:05 下单，6月3日 09:30:00 才到",
        "会员号 A1234567，积分 88888",
        "C++14 and 5+ years, rated 4.5/5",
        "",
        "送货很快但是客服态度很差",
    ],
)
def test_prices_dates_times_and_order_numbers_are_not_pii(text: str) -> None:
    assert find_pii(text) == []


# --- several at once ----------------------------------------------------------------------------


def test_mixed_feedback_spans_are_sorted_and_cut_exactly() -> None:
    card = with_luhn_check("622202123456789012")
    text = (
        f"订单 20240601123456789012 的快递没到！我叫张三，手机+86 139-1234-5678，"
        f"身份证11010519491231002X，退款到{card}，或者发邮件到 zs@example.cn。"
        "My US number is +1 415-555-2671."
    )
    assert found(text) == [
        ("phone", "+86 139-1234-5678"),
        ("cn_id", "11010519491231002X"),
        ("bank_card", card),
        ("email", "zs@example.cn"),
        ("phone", "+1 415-555-2671"),
    ]


_ALPHABET = st.sampled_from([*"0123456789 -+@.()Xx价格电话号ab:，¥", "138", "0086", ".com"])


@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_spans_are_sorted_in_bounds_and_never_overlap(text: str) -> None:
    spans = find_pii(text)
    assert all(0 <= s.start < s.end <= len(text) for s in spans)
    assert all(a.end <= b.start for a, b in pairwise(spans))
