"""Scores and confidence intervals from counts and sums, vectorised over slices (numpy only).

Engines only count and sum (integers, identical everywhere); every score and interval is
computed here from those integers, so every engine gives the same numbers to the last bit.
Written here rather than taken from statsmodels because it works on aggregated counts of many
slices at once and the formulas are three lines each.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats

Floats = npt.NDArray[np.float64]
Counts = npt.ArrayLike


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _as_float(*values: Counts) -> list[Floats]:
    return [np.asarray(v, dtype=np.float64) for v in values]


def nps_interval(
    promoters: Counts, detractors: Counts, n: Counts, *, confidence: float = 0.95
) -> tuple[Floats, Floats, Floats]:
    """NPS (−100…100) and its Wald interval on the trinomial variance, clipped to ±100.

    var = (p_pro + p_det − (p_pro − p_det)²) / n; interval = score ± z·sqrt(var)·100.

    >>> score, low, high = nps_interval([5], [2], [10])
    >>> float(score[0]), round(float(low[0]), 2), round(float(high[0]), 2)
    (30.0, -18.41, 78.41)
    """
    pro, det, count = _as_float(promoters, detractors, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_pro, p_det = pro / count, det / count
        diff = p_pro - p_det
        score = (pro - det) * 100 / count
        half = _z(confidence) * np.sqrt((p_pro + p_det - diff**2) / count) * 100
    return score, np.clip(score - half, -100, 100), np.clip(score + half, -100, 100)


def wilson_interval(
    successes: Counts, n: Counts, *, confidence: float = 0.95
) -> tuple[Floats, Floats, Floats]:
    """A share (0…1) and its Wilson score interval.

    >>> share, low, high = wilson_interval([8], [10])
    >>> float(share[0]), round(float(low[0]), 4), round(float(high[0]), 4)
    (0.8, 0.4902, 0.9433)
    """
    k, count = _as_float(successes, n)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = k / count
        denominator = 1 + z**2 / count
        centre = (share + z**2 / (2 * count)) / denominator
        half = z * np.sqrt(share * (1 - share) / count + z**2 / (4 * count**2)) / denominator
    return share, np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def t_interval(
    total: Counts, sum_squares: Counts, n: Counts, *, confidence: float = 0.95
) -> tuple[Floats, Floats, Floats]:
    """A mean and its Student-t interval from the sum and sum of squares (NaN below n = 2).

    >>> mean, low, high = t_interval([30], [100], [10])
    >>> float(mean[0]), round(float(low[0]), 3), round(float(high[0]), 3)
    (3.0, 2.246, 3.754)
    """
    s1, s2, count = _as_float(total, sum_squares, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / count
        variance = np.maximum(s2 - s1 * mean, 0) / (count - 1)
        dof = np.where(count > 1, count - 1, np.nan)
        half = stats.t.ppf(0.5 + confidence / 2, dof) * np.sqrt(variance / count)
    half = np.where(count > 1, half, np.nan)
    return mean, mean - half, mean + half
