"""Association rules: which topics are mentioned together, which products are bought together.

Frequent itemsets by FP-growth and rules from them, both mlxtend's; this module only turns a
long ``(basket, item)`` table into mlxtend's one-hot input (sparse, so thousands of products
fit) and its output into a stable table with counts, n and a Wilson interval on confidence.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd
import scipy.sparse

with warnings.catch_warnings():  # mlxtend's import turns every DeprecationWarning on for good
    from mlxtend.frequent_patterns import association_rules as mlxtend_rules
    from mlxtend.frequent_patterns import fpgrowth

from cxloop.errors import Invalid, Problem
from cxloop.insights.tables import as_frame
from cxloop.metrics.intervals import wilson_interval

COLUMNS = (
    "antecedents",
    "consequents",
    "support",
    "confidence",
    "confidence_ci_low",
    "confidence_ci_high",
    "lift",
    "n_baskets",
    "count",
    "antecedent_count",
)
MLXTEND_METRICS = ["antecedent support", "consequent support", "support", "confidence", "lift"]
MIN_RULE_COUNT = 10
"""A rule seen in fewer baskets than this is flagged as noisy in the caveats."""


@dataclass(frozen=True)
class RulesResult:
    """Rules ``antecedents → consequents`` (sorted tuples of items), strongest lift first.

    ``support`` = share of baskets holding every item of the rule (``count`` of ``n_baskets``),
    ``confidence`` = count / ``antecedent_count`` (with its Wilson interval at 95 %),
    ``lift`` = confidence / share of baskets holding the consequents.
    """

    table: pd.DataFrame
    n_baskets: int
    n_items: int
    min_support: float
    min_confidence: float
    min_lift: float
    max_len: int
    method: str
    caveats: tuple[str, ...]


def _check(
    frame: pd.DataFrame,
    basket_col: str,
    item_col: str,
    min_support: float,
    min_confidence: float,
    min_lift: float,
    max_len: int,
) -> None:
    problems = [
        Problem(name, column, "is not a column of the baskets table")
        for name, column in (("basket_col", basket_col), ("item_col", item_col))
        if column not in frame.columns
    ]
    if not 0 < min_support <= 1:
        problems.append(Problem("min_support", min_support, "is not in (0, 1]"))
    if not 0 <= min_confidence <= 1:
        problems.append(Problem("min_confidence", min_confidence, "is not in [0, 1]"))
    if not min_lift >= 0:
        problems.append(Problem("min_lift", min_lift, "is negative"))
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 2:
        problems.append(
            Problem("max_len", max_len, "is not a whole number ≥ 2 (a rule has two sides)")
        )
    if problems:
        raise Invalid(problems)


def _one_hot(
    pairs: pd.DataFrame, basket_col: str, item_col: str, min_support: float
) -> tuple[pd.DataFrame, list[Any]]:
    """Baskets × frequent items as a sparse boolean frame (the shape mlxtend's fpgrowth reads)
    and the item behind each column.

    Items below ``min_support`` can be in no frequent itemset, so their columns are left out
    here, before pandas builds one sparse column per item. Columns are named "0", "1", …:
    mlxtend refuses sparse frames with other integer names, and items may be integers.
    """
    baskets = pd.Categorical(pairs[basket_col])
    items = pd.Categorical(pairs[item_col])
    matrix = scipy.sparse.csc_matrix(
        (np.ones(len(pairs), dtype=bool), (baskets.codes, items.codes)),
        shape=(len(baskets.categories), len(items.categories)),
    )
    share = np.asarray(matrix.sum(axis=0)).ravel() / len(baskets.categories)
    keep = np.flatnonzero(share >= min_support)
    names = [str(position) for position in range(len(keep))]
    # pandas-stubs type the .sparse accessor of the class as Ellipsis
    frame = pd.DataFrame.sparse.from_spmatrix(  # type: ignore[attr-defined]
        matrix[:, keep], columns=names
    )
    return frame, list(items.categories[keep])


def _items(codes: frozenset[str], items: list[Any]) -> tuple[Any, ...]:
    """The items behind a set of one-hot column names, sorted (by their text) for stable rows."""
    return tuple(sorted((items[int(code)] for code in codes), key=str))


def association_rules(
    baskets: pd.DataFrame | ibis.Table,
    *,
    min_support: float = 0.01,
    min_confidence: float = 0.2,
    min_lift: float = 1.0,
    max_len: int = 3,
    basket_col: str = "basket_id",
    item_col: str = "item",
) -> RulesResult:
    """Rules among items that share baskets: support, confidence (with interval), lift, counts.

    ``baskets`` is long: one row per (basket, item); repeats count once, rows with a missing
    basket or item are ignored. ``n_baskets`` counts every distinct basket, so support is a
    share of all baskets. ``max_len`` caps the items in a rule (both sides together). No rule
    (no baskets, or nothing frequent enough) is an empty table with a caveat, not an error.

    Examples
    --------
    >>> import pandas as pd
    >>> pairs = pd.DataFrame({"basket_id": [1, 1, 2, 2, 3, 4],
    ...                       "item": ["tea", "cake", "tea", "cake", "tea", "milk"]})
    >>> rules = association_rules(pairs, min_support=0.25, min_confidence=0.5)
    >>> rules.table[["antecedents", "consequents", "count", "confidence", "lift"]]
      antecedents consequents  count  confidence      lift
    0     (cake,)      (tea,)      2    1.000000  1.333333
    1      (tea,)     (cake,)      2    0.666667  1.333333
    """
    frame = as_frame(baskets, "baskets")
    _check(frame, basket_col, item_col, min_support, min_confidence, min_lift, max_len)
    pairs = frame[[basket_col, item_col]].dropna().drop_duplicates()
    n_baskets = int(pairs[basket_col].nunique())
    n_items = int(pairs[item_col].nunique())
    method = (
        f"FP-growth frequent itemsets (mlxtend), support ≥ {min_support:g}, up to {max_len} "
        f"items; rules with confidence ≥ {min_confidence:g} and lift ≥ {min_lift:g}; "
        "Wilson 95 % interval on confidence"
    )
    caveats: list[str] = []
    dropped = len(frame) - len(frame[[basket_col, item_col]].dropna())
    if dropped:
        caveats.append(f"{dropped} rows with a missing basket or item ignored")

    def empty(reason: str) -> RulesResult:
        return RulesResult(
            table=pd.DataFrame({name: [] for name in COLUMNS}),
            n_baskets=n_baskets,
            n_items=n_items,
            min_support=min_support,
            min_confidence=min_confidence,
            min_lift=min_lift,
            max_len=max_len,
            method=method,
            caveats=(*caveats, reason),
        )

    if n_baskets == 0:
        return empty("no baskets: nothing to mine")
    one_hot, items = _one_hot(pairs, basket_col, item_col, min_support)
    if one_hot.shape[1] < 2:
        return empty(
            f"too sparse: {one_hot.shape[1]} of {n_items} items reach support {min_support:g} "
            f"in {n_baskets} baskets, no pair can; lower min_support"
        )
    with warnings.catch_warnings():
        # mlxtend warns that sparse input is slow; it is what makes thousands of items fit
        warnings.simplefilter("ignore", DeprecationWarning)
        itemsets = fpgrowth(one_hot, min_support=min_support, use_colnames=True, max_len=max_len)
    if not (itemsets["itemsets"].map(len) >= 2).any():
        return empty(
            f"too sparse: no two items share {min_support:g} of the {n_baskets} baskets; "
            "lower min_support"
        )
    rules = mlxtend_rules(
        itemsets,
        num_itemsets=n_baskets,
        metric="confidence",
        min_threshold=min_confidence,
        return_metrics=MLXTEND_METRICS,  # the others warn on items in every basket
    )
    rules = rules[rules["lift"] >= min_lift]
    if rules.empty:
        return empty(
            f"no rule reaches confidence {min_confidence:g} and lift {min_lift:g} "
            f"among {len(itemsets)} frequent itemsets"
        )
    count = np.rint(rules["support"].to_numpy() * n_baskets).astype(np.int64)
    antecedent_count = np.rint(rules["antecedent support"].to_numpy() * n_baskets).astype(np.int64)
    _, low, high = wilson_interval(count, antecedent_count)
    table = pd.DataFrame(
        {
            "antecedents": rules["antecedents"].map(lambda codes: _items(codes, items)).to_numpy(),
            "consequents": rules["consequents"].map(lambda codes: _items(codes, items)).to_numpy(),
            "support": rules["support"].to_numpy(),
            "confidence": rules["confidence"].to_numpy(),
            "confidence_ci_low": low,
            "confidence_ci_high": high,
            "lift": rules["lift"].to_numpy(),
            "n_baskets": n_baskets,
            "count": count,
            "antecedent_count": antecedent_count,
        }
    )
    table["_order"] = table["antecedents"].map(str) + " → " + table["consequents"].map(str)
    table = table.sort_values(
        ["lift", "confidence", "support", "_order"],
        ascending=[False, False, False, True],
        kind="stable",
    )
    table = table.drop(columns="_order").reset_index(drop=True)
    noisy = int((table["count"] < MIN_RULE_COUNT).sum())
    if noisy:
        caveats.append(
            f"{noisy} of {len(table)} rules rest on fewer than {MIN_RULE_COUNT} baskets: "
            "their confidence and lift are noisy (see the confidence interval)"
        )
    if n_baskets < 100:
        caveats.append(f"small n: {n_baskets} baskets")
    caveats.append(
        "rules show co-occurrence, not cause; lift is inflated for rare items, "
        "and many rules are tested at once, so expect some by chance"
    )
    return RulesResult(
        table=table[list(COLUMNS)],
        n_baskets=n_baskets,
        n_items=n_items,
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
        max_len=max_len,
        method=method,
        caveats=tuple(caveats),
    )


def topic_baskets(
    feedback_topics: pd.DataFrame | ibis.Table,
    *,
    feedback_col: str = "feedback_id",
    topic_col: str = "topic",
) -> pd.DataFrame:
    """Topics mentioned together: one basket per feedback, its topics as items.

    ``feedback_topics`` is the ``feedback_topic`` shape (one row per feedback and topic).

    >>> topic_baskets(pd.DataFrame({"feedback_id": ["f1", "f1"],
    ...                             "topic": ["delivery/speed", "food/taste"]}))
      basket_id            item
    0        f1  delivery/speed
    1        f1      food/taste
    """
    return _long(
        as_frame(feedback_topics, "feedback_topics"), feedback_col, topic_col, "feedback_topics"
    )


def order_baskets(
    orders: pd.DataFrame | ibis.Table,
    *,
    by: str = "customer_id",
    item_col: str = "product",
) -> pd.DataFrame:
    """Products bought together: one basket per ``by`` ("customer_id" or "order_id").

    >>> order_baskets(pd.DataFrame({"order_id": ["o1", "o2"], "customer_id": ["c1", "c1"],
    ...                             "product": ["tea", "cake"]}))
      basket_id  item
    0        c1   tea
    1        c1  cake
    """
    if by not in ("customer_id", "order_id"):
        raise Invalid(Problem("by", by, "is not 'customer_id' or 'order_id'"))
    return _long(as_frame(orders, "orders"), by, item_col, "orders")


def _long(frame: pd.DataFrame, basket_col: str, item_col: str, name: str) -> pd.DataFrame:
    problems = [
        Problem(name, column, "is not a column of the table")
        for column in (basket_col, item_col)
        if column not in frame.columns
    ]
    if problems:
        raise Invalid(problems)
    pairs = frame[[basket_col, item_col]].dropna().drop_duplicates()
    return pairs.set_axis(["basket_id", "item"], axis=1).reset_index(drop=True)
