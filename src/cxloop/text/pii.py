"""Find personal data in feedback text, by character offset, so it can be masked before use."""

from __future__ import annotations

import re
from datetime import date
from operator import mul

import phonenumbers
from phonenumbers import Leniency

from cxloop.text.schemas import PiiKind, PiiSpan

# Chinese IMEs in full-width mode type "１３８…", "＋86", "Ｘ": those are mapped one-to-one to
# ASCII (offsets unchanged) and every pattern below reads ASCII digits only (re.ASCII).
_FULLWIDTH = re.compile("[\uff0b\uff0d\uff10-\uff19\uff38\uff58]")
_TO_ASCII = str.maketrans(
    {chr(0xFF10 + i): str(i) for i in range(10)} | {"＋": "+", "－": "-", "Ｘ": "X", "ｘ": "x"}
)
_SEP = r"[ \-\u00a0\u3000]"
"""Separators inside a number: space, dash, no-break space, ideographic space."""
_NOT_DIGIT = re.compile(r"\D")
_SEVEN_DIGITS = re.compile(r"(?:\d\D*+){7}")

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9_%+\-])[A-Za-z0-9_%+\-][A-Za-z0-9._%+\-]{0,63}"
    r"@(?:[A-Za-z0-9\-]{1,63}\.)+[A-Za-z]{2,63}(?![A-Za-z0-9\-])"
)
_NUMBER_RUN = re.compile(rf"\d(?:(?:[()]|{_SEP}){{0,2}}\d){{9,}}", re.ASCII)
"""10+ digits with at most two separators or brackets between each (the shortest number below,
010-1234567, has 10): the only places the number patterns below need to look."""
_NOT_AFTER_NUMBER = rf"(?<!\d)(?<!\d{_SEP})"
_NOT_BEFORE_NUMBER = rf"(?!\d)(?!{_SEP}\d)"
"""A grouped number must not continue into more groups: "4111 1111 1111 1111 2024" is one
longer number, not a card; "138 1234 5678 9" is not a mobile."""
_CN_ID = re.compile(r"(?<!\d)[1-9]\d{16}[\dXx](?![\dXx])", re.ASCII)
_BANK_CARD = re.compile(
    # contiguous 13-19 digits; groups of four with one kind of separator (4-4-4-4, 4-4-4-4-3,
    # 4-4-4-3); Amex / Diners 4-6-5 / 4-6-4
    r"(?<!\d)\d{13,19}(?!\d)"
    rf"|{_NOT_AFTER_NUMBER}\d{{4}}(?P<s>{_SEP})\d{{4}}(?:(?P=s)\d{{4}}){{1,2}}"
    rf"(?:(?P=s)\d{{1,3}})?{_NOT_BEFORE_NUMBER}"
    rf"|{_NOT_AFTER_NUMBER}\d{{4}}(?P<a>{_SEP})\d{{6}}(?P=a)\d{{4,5}}{_NOT_BEFORE_NUMBER}",
    re.ASCII,
)
_CN_MOBILE = re.compile(
    rf"{_NOT_AFTER_NUMBER}(?:(?:\+|00)?86{_SEP}?)?"
    rf"1[3-9]\d{_SEP}?\d{{4}}{_SEP}?\d{{4}}{_NOT_BEFORE_NUMBER}",
    re.ASCII,
)
# Area code 010, 02x or 0[3-9]xx (optionally in brackets), then a 7-8 digit local number. Not
# phonenumbers: it rejects 7-digit numbers in 8-digit cities, such as 0755-1234567.
_CN_LANDLINE = re.compile(
    rf"{_NOT_AFTER_NUMBER}(?:\(0(?:10|2\d|[3-9]\d\d)\)|0(?:10|2\d|[3-9]\d\d))"
    rf"{_SEP}?[1-9]\d{{6,7}}{_NOT_BEFORE_NUMBER}",
    re.ASCII,
)
_MOBILE_86 = re.compile(r"861[3-9]\d{9}", re.ASCII)
"""A 13-digit run that reads as 86 + a mobile is a phone, not a card (no card starts with 86)."""
_PLUS = re.compile(r"\+(?=[ (]?\d)", re.ASCII)
_PLUS_WINDOW = 40
"""Characters handed to phonenumbers from each ``+``: ample for 15 digits and their separators."""

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
"""A digit doubled, its two digits summed."""
_PRIORITY: dict[PiiKind, int] = {"email": 0, "cn_id": 1, "bank_card": 2, "phone": 3}


def find_pii(text: str) -> list[PiiSpan]:
    """Every email, phone number, Chinese ID number and bank card number in ``text``.

    Spans are sorted by start, never overlap, and ``text[span.start:span.end]`` is the value
    (offsets are ``str`` indices, so Chinese text around a value is fine). Where two readings
    overlap, the higher kind wins: email > cn_id > bank_card > phone. A number glued to other
    digits (an 11-digit mobile inside a 20-digit order number) is not matched.

    - ``email``: ASCII ``local@domain.tld``.
    - ``cn_id``: 18-character resident ID whose ISO 7064 MOD 11-2 check character is right and
      whose birth date (characters 7-14) is a real date from 1900 to today.
    - ``bank_card``: 13-19 digits, contiguous or grouped (``6222 0212 3456 7890 123``), passing
      Luhn; a leading 0 is refused (no card issuer uses it), and ``86`` + a mobile is a phone.
    - ``phone``: Chinese mobiles (``1[3-9]`` + 9 digits, optional ``+86``/``0086``/``86``, spaces
      or dashes) and landlines (``010-12345678``, ``0755-1234567``) by regex; numbers written with
      ``+`` and a country code by ``phonenumbers`` at ``Leniency.VALID``, so only numbers valid
      for their country count. phonenumbers runs only on a short window after each ``+``: it is
      far slower than the regexes, and it reads dates and prices as CN numbers. A ``+`` number
      followed by a space and more digits ("+1 415 555 2671 2024") is one longer number: none.

    Full-width digits, ``＋`` and ``Ｘ`` (Chinese IME full-width mode) count as their ASCII forms.
    Returns ``[]`` at once when the text has no ``@`` and fewer than 7 digits.
    """
    has_at = "@" in text
    has_digits = _SEVEN_DIGITS.search(text) is not None
    if not has_at and not has_digits:
        return []
    if _FULLWIDTH.search(text):
        text = text.translate(_TO_ASCII)
    found: list[tuple[int, int, PiiKind]] = []
    if has_at:
        found.extend((m.start(), m.end(), "email") for m in _EMAIL.finditer(text))
    if has_digits:
        for run in _NUMBER_RUN.finditer(text):
            found.extend(_numbers_near(text, max(run.start() - 1, 0), run.end() + 2))
        if "+" in text:
            found.extend((start, end, "phone") for start, end in _plus_numbers(text))
    return _resolve(found)


def _numbers_near(text: str, pos: int, endpos: int) -> list[tuple[int, int, PiiKind]]:
    """IDs, cards and CN phones in ``text[pos:endpos]``, one number run and the characters around
    it (the patterns' lookbehinds still see the whole text, their lookaheads stop at endpos)."""
    found: list[tuple[int, int, PiiKind]] = [
        (m.start(), m.end(), "cn_id")
        for m in _CN_ID.finditer(text, pos, endpos)
        if _valid_id(m.group())
    ]
    found.extend(
        (m.start(), m.end(), "bank_card")
        for m in _BANK_CARD.finditer(text, pos, endpos)
        if _is_card(_digits(m.group()))
    )
    for pattern in (_CN_MOBILE, _CN_LANDLINE):
        found.extend((m.start(), m.end(), "phone") for m in pattern.finditer(text, pos, endpos))
    return found


def _digits(value: str) -> str:
    return _NOT_DIGIT.sub("", value)


def _valid_id(value: str) -> bool:
    """ISO 7064 MOD 11-2 check character and a birth date between 1900-01-01 and today."""
    total = sum(map(mul, map(int, value[:17]), _ID_WEIGHTS))
    if _ID_CHECK[total % 11] != value[17].upper():
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return born.year >= 1900 and born <= date.today()


def _is_card(digits: str) -> bool:
    if not 13 <= len(digits) <= 19 or digits[0] == "0":
        return False
    if len(digits) == 13 and _MOBILE_86.fullmatch(digits):
        return False
    return _luhn(digits)


def _luhn(digits: str) -> bool:
    kept = sum(map(int, digits[-1::-2]))
    doubled = sum(_LUHN_DOUBLED[int(ch)] for ch in digits[-2::-2])
    return (kept + doubled) % 10 == 0


def _plus_numbers(text: str) -> list[tuple[int, int]]:
    """Valid international numbers that start at a ``+`` (and are not glued to other digits)."""
    spans = []
    for plus in _PLUS.finditer(text):
        start = plus.start()
        if start and text[start - 1].isdigit():
            continue
        window = text[start : start + _PLUS_WINDOW]
        for m in phonenumbers.PhoneNumberMatcher(window, "CN", leniency=Leniency.VALID):
            end = start + m.end
            if m.start == 0 and not (end < len(text) and text[end].isdigit()):
                spans.append((start, end))
            break
    return spans


def _resolve(found: list[tuple[int, int, PiiKind]]) -> list[PiiSpan]:
    """Keep the highest-priority (then earliest, then longest) of overlapping spans."""
    found.sort(key=lambda s: (_PRIORITY[s[2]], s[0], s[0] - s[1]))
    kept: list[tuple[int, int, PiiKind]] = []
    for start, end, kind in found:
        if all(end <= k_start or start >= k_end for k_start, k_end, _ in kept):
            kept.append((start, end, kind))
    kept.sort()
    return [PiiSpan(start=start, end=end, kind=kind) for start, end, kind in kept]
