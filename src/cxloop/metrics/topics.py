"""Topic incidence: the share of feedback mentioning a topic, and its net sentiment, by slice.

A pure function over one Ibis table with a row per (feedback with text, topic it mentions) and
a row with a NULL topic for feedback with text that mentions none, so the denominator, *every
enriched feedback with text in the slice*, and the numerators come from the same table
(``cxloop.metrics.service`` builds it from ``feedback``, ``feedback_text`` and
``feedback_topic``). Engines only count; shares and intervals are computed in numpy from the
counts, so SQLite, PostgreSQL and DuckDB give identical tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import pandas as pd

from cxloop.errors import Invalid, Problem
from cxloop.metrics import intervals
from cxloop.metrics.scores import _check, _result, count_by, slice_keys

LEVELS = ("topic", "topic_l1")
"""Topic columns incidence may be counted at: the taxonomy path or its first level."""
ID_COLUMN = "feedback_id"
SENTIMENT_COLUMN = "topic_sentiment"


def topic_incidence(
    table: ibis.Table,
    *,
    level: str = "topic_l1",
    by: Sequence[str] | str = (),
    period: str | None = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> pd.DataFrame:
    """Share (0…1) of enriched feedback with text mentioning each topic, per slice, with a
    Wilson interval; and the topic's net sentiment (−1…1) with an adjusted-Wald interval.

    ``n`` is the slice's feedback with text (the denominator); ``mentioned`` the feedback in
    it that mention the topic (counted once even when several sub-topics of a ``topic_l1``
    are mentioned). Every topic seen anywhere in the result gets a row in every slice, with 0
    where the slice never mentions it. A *mention* for net sentiment is one feedback's
    mention of one topic (a ``feedback_topic`` row) with that row's majority sentiment:
    ``net_sentiment = (positive − negative) / mentions``; its interval is Rocks' adjusted
    Wald for a difference of two shares of one trinomial (as for NPS), which at ``topic_l1``
    treats two sub-topics of one feedback as independent mentions (slightly too narrow).
    Columns: the ``by`` columns, ``period``, the ``level`` column, then ``n``, ``score``,
    ``ci_low``, ``ci_high``, ``small_n`` (``n < min_n``), ``mentioned``, ``mentions``,
    ``positive``, ``negative``, ``net_sentiment``, ``net_ci_low``, ``net_ci_high``.

    Examples
    --------
    >>> import ibis
    >>> rows = ibis.memtable({"feedback_id": ["a", "a", "b", "c", "d"],
    ...     "topic_l1": ["price", "delivery", "price", None, "price"],
    ...     "topic_sentiment": ["negative", "positive", "negative", None, "positive"]})
    >>> topic_incidence(rows, min_n=2)[["topic_l1", "n", "score", "mentioned", "net_sentiment"]]
      topic_l1  n  score  mentioned  net_sentiment
    0 delivery  4   0.25          1       1.000000
    1    price  4   0.75          3      -0.333333
    """
    by = _check(table, by, period, confidence, min_n, required=(ID_COLUMN, SENTIMENT_COLUMN))
    problems = []
    if level not in LEVELS:
        problems.append(Problem("level", level, f"is not one of: {', '.join(LEVELS)}"))
    elif level not in table.columns:
        problems.append(Problem(level, None, "is not a column of the table"))
    elif level in by:
        problems.append(Problem("by", level, "is the topic level itself: use level="))
    if problems:
        raise Invalid(problems)
    keys = slice_keys(table, by, period)
    names = list(keys)
    totals = count_by(table, keys, {"n": table[ID_COLUMN].nunique()})
    mentioned = table.filter(table[level].notnull())
    counts = count_by(
        mentioned,
        {**slice_keys(mentioned, by, period), level: mentioned[level]},
        {
            "mentioned": mentioned[ID_COLUMN].nunique(),
            "mentions": mentioned.count(),
            "positive": (mentioned[SENTIMENT_COLUMN] == "positive").ifelse(1, 0).sum(),
            "negative": (mentioned[SENTIMENT_COLUMN] == "negative").ifelse(1, 0).sum(),
        },
    )
    grid = _every_topic_in_every_slice(totals, counts, names, level)
    estimate = intervals.wilson_interval(grid["mentioned"], grid["n"], confidence=confidence)
    net, net_low, net_high = intervals.nps_interval(
        grid["positive"], grid["negative"], grid["mentions"], confidence=confidence
    )
    extras = {
        "mentioned": grid["mentioned"].to_numpy(dtype="int64"),
        "mentions": grid["mentions"].to_numpy(dtype="int64"),
        "positive": grid["positive"].to_numpy(dtype="int64"),
        "negative": grid["negative"].to_numpy(dtype="int64"),
        "net_sentiment": net / 100,
        "net_ci_low": net_low / 100,
        "net_ci_high": net_high / 100,
    }
    return _result(grid, [*names, level], estimate, min_n, extras)


def _every_topic_in_every_slice(
    totals: pd.DataFrame, counts: pd.DataFrame, keys: list[str], level: str
) -> pd.DataFrame:
    """Each slice × each topic seen, with its counts (0 where the slice never mentions it)."""
    measures = ["mentioned", "mentions", "positive", "negative"]
    topics = pd.DataFrame({level: sorted(counts[level].unique())}, dtype="object")
    grid = totals.merge(topics, how="cross")
    # pandas matches None with None in merge keys, as a slice's NULL value should
    grid = grid.merge(counts, how="left", on=[*keys, level])
    for name in measures:
        grid[name] = grid[name].fillna(0).astype("int64")
    grid = grid.sort_values([*keys, level], na_position="last", kind="stable")
    return grid.reset_index(drop=True)
