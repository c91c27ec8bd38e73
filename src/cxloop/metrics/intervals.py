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
    """NPS (−100…100) and its adjusted-Wald interval (Rocks 2016), clipped to ±100.

    The interval adds 3/4 to promoters and detractors and 3/2 to passives (n + 3 answers) and
    puts a Wald interval on the trinomial variance of the adjusted proportions:
    p̃ = (promoters + 3/4) / (n + 3), d̃ = (detractors + 3/4) / (n + 3),
    interval = 100·(p̃ − d̃ ± z·sqrt((p̃ + d̃ − (p̃ − d̃)²) / (n + 3))). Unlike plain Wald it is
    not zero-width when every answer is a promoter (or a detractor) and keeps close to its
    nominal coverage at small n and extreme scores. ``score`` is the raw NPS; the interval is
    NaN below n = 2. Rocks, B. (2016), "Interval estimation for the 'net promoter score'",
    *The American Statistician* 70(4).

    >>> score, low, high = nps_interval([5], [2], [10])
    >>> float(score[0]), round(float(low[0]), 2), round(float(high[0]), 2)
    (30.0, -19.05, 65.2)
    """
    pro, det, count = _as_float(promoters, detractors, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (pro - det) * 100 / count
        adjusted = count + 3
        p_pro, p_det = (pro + 0.75) / adjusted, (det + 0.75) / adjusted
        centre = p_pro - p_det
        half = _z(confidence) * np.sqrt((p_pro + p_det - centre**2) / adjusted)
    defined = count >= 2
    low = np.where(defined, np.clip((centre - half) * 100, -100, 100), np.nan)
    high = np.where(defined, np.clip((centre + half) * 100, -100, 100), np.nan)
    return score, low, high


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
    # at k = 0 or k = n the exact bound is 0 or 1; the formula lands a rounding error inside
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0, 1))
    high = np.where(k == count, 1.0, np.clip(centre + half, 0, 1))
    return share, np.where(count > 0, low, np.nan), np.where(count > 0, high, np.nan)


def t_interval(
    total: Counts, sum_squares: Counts, n: Counts, *, confidence: float = 0.95
) -> tuple[Floats, Floats, Floats]:
    """A mean and its Student-t interval from the sum and sum of squares (NaN below n = 2).

    The variance is ``(n·s2 − s1²) / (n·(n − 1))``, computed from the integer sums so no
    cancellation error enters (``s2 − s1·mean`` loses digits when the mean is large).

    >>> mean, low, high = t_interval([30], [100], [10])
    >>> float(mean[0]), round(float(low[0]), 3), round(float(high[0]), 3)
    (3.0, 2.246, 3.754)
    """
    s1, s2, count = _as_float(total, sum_squares, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / count
        # exact for integer answers: n·s2 − s1² is an integer well inside float64's 2^53
        variance = np.maximum(count * s2 - s1**2, 0) / (count * (count - 1))
        dof = np.where(count > 1, count - 1, np.nan)
        half = stats.t.ppf(0.5 + confidence / 2, dof) * np.sqrt(variance / count)
    half = np.where(count > 1, half, np.nan)
    return mean, mean - half, mean + half
