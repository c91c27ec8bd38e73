"""Seeded drawing primitives shared by the demo generators: timestamps, picks, identities.

Every function takes its ``numpy.random.Generator`` explicitly, so the caller's order of calls
fixes every value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

_HOURS = np.array(
    [2, 1, 0.5, 0.3, 0.3, 0.5, 1.5, 3, 5, 6, 7, 7, 6, 6, 6, 6, 6, 6, 7, 9, 10, 10, 7, 4]
)
_HOUR_CDF = np.cumsum(_HOURS) / _HOURS.sum()
_PREFIXES = (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, *range(180, 190))

Row = dict[str, Any]
"""One table row under construction; columns starting with ``_`` are private."""


def at(rng: np.random.Generator, origin: np.datetime64, day: Any) -> np.ndarray:
    """Timestamps on the given day offsets, at plausible hours (evenings busiest)."""
    day = np.asarray(day, dtype=np.int64)
    hour = np.minimum(np.searchsorted(_HOUR_CDF, rng.random(day.shape), side="right"), 23)
    secs = hour * 3600 + rng.integers(0, 3600, size=day.shape)
    return origin + day.astype("timedelta64[D]") + secs.astype("timedelta64[s]")


def pick(
    rng: np.random.Generator, options: Sequence[Any], size: int, p: Sequence[float] | None = None
) -> np.ndarray:
    """``size`` draws from ``options`` with weights ``p`` (cheaper than Generator.choice)."""
    if p is None:
        return np.asarray(options, dtype=object)[rng.integers(len(options), size=size)]
    cum = np.cumsum(p) / np.sum(p)
    idx = np.minimum(np.searchsorted(cum, rng.random(size), side="right"), len(options) - 1)
    return np.asarray(options, dtype=object)[idx]


def iso(origin: np.datetime64, day: Any) -> str:
    return str((origin + np.timedelta64(int(day), "D")).astype("datetime64[D]"))


def unique(stem: str, seen: set[str], salt: int, tail: str = "") -> str:
    """``stem + tail``, with digits of ``salt`` inserted before ``tail`` until unseen."""
    while stem + tail in seen:
        stem, salt = f"{stem}{salt % 10}", salt // 10 + 1
    seen.add(stem + tail)
    return stem + tail


def phone_digits(rng: np.random.Generator, seen: set[str]) -> str:
    while True:
        value = f"{_PREFIXES[int(rng.integers(len(_PREFIXES)))]}{int(rng.integers(10**8)):08d}"
        if value not in seen:
            seen.add(value)
            return value


def fmt_phone(rng: np.random.Generator, d: str, styles: Sequence[int]) -> str:
    """The many ways people write one Chinese mobile number."""
    spaced = f"{d[:3]} {d[3:7]} {d[7:]}"
    forms = (d, spaced, f"+86 {d}", f"+86 {spaced}", f"{d[:3]}-{d[3:7]}-{d[7:]}", f"+86{d}")
    return forms[styles[int(rng.integers(len(styles)))]]


def fmt_email(rng: np.random.Generator, email: str) -> str:
    """An address as typed into a form: sometimes shouted, sometimes capitalised."""
    r = rng.random()
    return email.upper() if r < 0.15 else email[0].upper() + email[1:] if r < 0.3 else email


def at_opt(rng: np.random.Generator, origin: np.datetime64, days: Sequence[int | None]) -> Any:
    missing = np.array([d is None or d != d for d in days], dtype=bool)
    stamps = at(rng, origin, [0 if m else d for d, m in zip(days, missing, strict=True)])
    stamps[missing] = np.datetime64("NaT")
    return stamps
