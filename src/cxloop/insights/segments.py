"""Who the customers are: RFM scores and named segments, and k-means clusters described in
words (lifecycle stages live in ``journeys``).

Pure functions: pandas DataFrames in (an Ibis table is executed with ``.to_pandas()``), frozen
result objects out. Nothing here touches the database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from cxloop.errors import Invalid, Problem
from cxloop.insights.tables import as_frame

RFM_SEGMENTS: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    # (segment, R score range, F score range), inclusive; the FIRST matching row wins.
    ("Champions", (5, 5), (4, 5)),
    ("Loyal", (3, 4), (4, 5)),
    ("Potential loyalist", (4, 5), (2, 3)),
    ("New", (5, 5), (1, 1)),
    ("Promising", (4, 4), (1, 1)),
    ("Need attention", (3, 3), (3, 3)),
    ("About to sleep", (3, 3), (1, 2)),
    ("At risk", (1, 2), (3, 4)),
    ("Can't lose them", (1, 2), (5, 5)),
    ("Lost", (1, 1), (1, 1)),
    ("Hibernating", (1, 2), (1, 2)),
)
"""The widely used R×F segment map (the regex map of the RFM literature and its many
notebooks) on 1–5 scores, with *Lost* split off Hibernating at R = F = 1. The rows cover every
one of the 25 (R, F) cells; only Lost/Hibernating overlap, and Lost is listed first. Monetary is
scored and reported but, as in that map, does not move a customer between segments."""

SEGMENT_ORDER = tuple(name for name, _, _ in RFM_SEGMENTS)


def missing_columns(present: Iterable[str], wanted: Iterable[str]) -> list[Problem]:
    """One problem per wanted column that is not present (a frame's or a table's columns)."""
    names = set(present)
    return [
        Problem(column, None, "is not a column of the table")
        for column in wanted
        if column not in names
    ]


def timestamps(values: pd.Series, column: str, problems: list[Problem]) -> pd.Series:
    """Parsed timestamps; the first unparseable or empty value becomes a problem."""
    textual = pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601" if textual else None)
    bad = parsed.isna()
    if bad.any():
        problems.append(Problem(column, values[bad].iloc[0], "is not a date or time"))
    return parsed


def as_of_stamp(as_of: Any, problems: list[Problem]) -> pd.Timestamp | None:
    """``as_of`` as a timestamp, or None with a problem added when it is not one."""
    try:
        stamp = pd.Timestamp(as_of)
    except (TypeError, ValueError):
        problems.append(Problem("as_of", as_of, "is not a date or time"))
        return None
    if pd.isna(stamp):
        problems.append(Problem("as_of", as_of, "is not a date or time"))
        return None
    return stamp


# --- RFM ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RfmResult:
    """Per-customer RFM values, scores, codes and segments, and a per-segment summary.

    ``customers`` columns: the customer column, ``recency_days``, ``frequency``, ``monetary``,
    ``r_score``, ``f_score``, ``m_score``, ``rfm_code`` ("545"), ``segment``.
    ``segments`` columns: ``segment``, ``n``, ``share``, ``monetary``, ``monetary_mean``,
    ``value_share``, ``recency_days_mean``, ``frequency_mean`` (every segment listed, n may be 0).
    """

    customers: pd.DataFrame
    segments: pd.DataFrame
    as_of: pd.Timestamp
    bins: int
    n: int
    method: str
    caveats: tuple[str, ...]


def score_by_rank(values: pd.Series, bins: int) -> pd.Series:
    """Scores 1…bins from a value's rank: ``ceil(bins · r / n)`` with ``r`` the lowest rank of
    its block of ties (pandas ``rank(method="min")``).

    Written here rather than with ``pd.qcut`` because qcut fails on repeated bin edges (most
    customers buy once) and ``rank(method="first")`` would split equal customers by row order;
    here equal values always share a score, the lowest their block reaches.

    >>> score_by_rank(pd.Series([10, 20, 20, 30, 40]), 5).tolist()
    [1, 2, 2, 4, 5]
    """
    ranks = values.rank(method="min").to_numpy(dtype=np.float64)
    scores = np.ceil(bins * ranks / len(values)).astype(np.int64)
    return pd.Series(np.clip(scores, 1, bins), index=values.index, dtype="int64")


def _segment_of(r_scores: pd.Series, f_scores: pd.Series) -> pd.Series:
    """Segment names from R and F scores by the first matching row of ``RFM_SEGMENTS``."""
    conditions = [
        r_scores.between(*r_range) & f_scores.between(*f_range)
        for _, r_range, f_range in RFM_SEGMENTS
    ]
    names = np.select(conditions, list(SEGMENT_ORDER), default="")
    return pd.Series(pd.Categorical(names, categories=SEGMENT_ORDER), index=r_scores.index)


def rfm(
    orders: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "ordered_at",
    amount_col: str = "amount",
    as_of: Any = None,
    bins: int = 5,
) -> RfmResult:
    """Recency, frequency and monetary value per customer, scored 1–5 and named by segment.

    Recency is whole days from the customer's last order to ``as_of`` (default: the latest
    order in the table, so the most recent buyer has 0); frequency is the number of orders
    (rows); monetary the sum of amounts. Orders after ``as_of`` are left out. A higher score
    is always better: recent, frequent, high-spending. Segments follow ``RFM_SEGMENTS`` and
    need ``bins=5``; with other bins only scores and codes are given.

    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "ordered_at": ["2024-01-01", "2024-03-01", "2024-02-01"], "amount": [10, 20, 5]})
    >>> result = rfm(orders, bins=2)
    >>> result.customers[["customer_id", "recency_days", "rfm_code"]].values.tolist()
    [['a', 0, '222'], ['b', 29, '111']]
    """
    frame = as_frame(orders, "orders")
    problems = missing_columns(frame.columns, (customer_col, date_col, amount_col))
    if not isinstance(bins, int) or isinstance(bins, bool) or not 2 <= bins <= 10:
        problems.append(Problem("bins", bins, "is not a whole number from 2 to 10"))
    if problems:
        raise Invalid(problems)
    if frame.empty:
        raise Invalid(Problem("orders", 0, "has no rows"))
    if frame[customer_col].isna().any():
        problems.append(Problem(customer_col, None, "is empty in some rows"))
    dates = timestamps(frame[date_col], date_col, problems)
    amounts = pd.to_numeric(frame[amount_col], errors="coerce")
    bad_amount = amounts.isna() | ~np.isfinite(amounts.to_numpy(dtype=np.float64, na_value=0))
    if bad_amount.any():
        problems.append(
            Problem(amount_col, frame[amount_col][bad_amount].iloc[0], "is not a number")
        )
    stamp = as_of_stamp(as_of, problems) if as_of is not None else None
    if problems:
        raise Invalid(problems)
    stamp = dates.max() if stamp is None else stamp
    clean = pd.DataFrame({"customer": frame[customer_col], "at": dates, "amount": amounts})
    later = int((clean["at"] > stamp).sum())
    clean = clean[clean["at"] <= stamp]
    if clean.empty:
        raise Invalid(Problem("as_of", str(stamp), "is before every order"))

    per_customer = clean.groupby("customer", sort=True).agg(
        last=("at", "max"), frequency=("at", "size"), monetary=("amount", "sum")
    )
    recency = (stamp - per_customer["last"]).dt.days.astype("int64")
    customers = pd.DataFrame(
        {
            customer_col: per_customer.index.to_numpy(),
            "recency_days": recency.to_numpy(),
            "frequency": per_customer["frequency"].to_numpy(dtype=np.int64),
            "monetary": per_customer["monetary"].to_numpy(dtype=np.float64),
        }
    )
    customers["r_score"] = score_by_rank(-customers["recency_days"], bins)
    customers["f_score"] = score_by_rank(customers["frequency"], bins)
    customers["m_score"] = score_by_rank(customers["monetary"], bins)
    customers["rfm_code"] = (
        customers["r_score"].astype(str)
        + customers["f_score"].astype(str)
        + customers["m_score"].astype(str)
    )
    caveats = [
        "scores are ranks within this table: they compare customers to each other, "
        "not to a fixed standard",
        "equal values share a score (the lowest their block of ties reaches), so a score "
        "may be skipped when many customers tie (typically F for one-time buyers)",
        "segments use R and F only; monetary is scored and reported but moves no one",
    ]
    if later:
        caveats.append(f"{later} orders after as_of were left out")
    if bins == 5:
        customers["segment"] = _segment_of(customers["r_score"], customers["f_score"])
        segments = _segment_summary(customers)
    else:
        customers["segment"] = pd.Categorical([None] * len(customers), categories=SEGMENT_ORDER)
        segments = pd.DataFrame(columns=_SEGMENT_COLUMNS)
        caveats.append("segments need bins=5; only scores and codes are given")
    return RfmResult(
        customers=customers,
        segments=segments,
        as_of=stamp,
        bins=bins,
        n=len(customers),
        method=(
            f"RFM on {len(clean)} orders as of {stamp:%Y-%m-%d %H:%M}: recency in whole days "
            f"since the last order, frequency = orders, monetary = sum of {amount_col}; "
            f"scores 1–{bins} by rank (ties take the lowest), segments by the R×F map"
        ),
        caveats=tuple(caveats),
    )


_SEGMENT_COLUMNS = [
    "segment",
    "n",
    "share",
    "monetary",
    "monetary_mean",
    "value_share",
    "recency_days_mean",
    "frequency_mean",
]


def _segment_summary(customers: pd.DataFrame) -> pd.DataFrame:
    """Counts and value per segment, every segment listed in map order."""
    grouped = customers.groupby("segment", observed=False)
    summary = pd.DataFrame(
        {
            "n": grouped.size(),
            "monetary": grouped["monetary"].sum(),
            "monetary_mean": grouped["monetary"].mean(),
            "recency_days_mean": grouped["recency_days"].mean(),
            "frequency_mean": grouped["frequency"].mean(),
        }
    ).reindex(list(SEGMENT_ORDER))
    summary["n"] = summary["n"].fillna(0).astype("int64")
    summary["monetary"] = summary["monetary"].fillna(0.0)
    summary["share"] = summary["n"] / len(customers)
    total = customers["monetary"].sum()
    summary["value_share"] = summary["monetary"] / total if total else np.nan
    summary = summary.rename_axis("segment").reset_index()
    return summary[_SEGMENT_COLUMNS]


# --- clusters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterResult:
    """K-means clusters of customers, the k chosen and why, and each cluster in words.

    ``assignments``: the id column and ``cluster`` (0 = largest). ``profiles``: ``cluster``,
    ``n``, ``share``, ``description``, then the mean of every feature (original units).
    ``k_scores``: ``k`` and ``silhouette`` for every k tried.
    """

    assignments: pd.DataFrame
    profiles: pd.DataFrame
    k_scores: pd.DataFrame
    k: int
    features: tuple[str, ...]
    log_scaled: tuple[str, ...]
    n: int
    method: str
    caveats: tuple[str, ...]

    @property
    def descriptions(self) -> dict[int, str]:
        """Cluster number → its description."""
        return dict(zip(self.profiles["cluster"], self.profiles["description"], strict=True))


SILHOUETTE_SAMPLE = 2000
"""Customers on which the silhouette is computed (a fixed-seed sample above this size)."""
DESCRIBE_Z = 0.5
"""A feature enters a cluster's description when its cluster mean is this many overall
standard deviations from the overall mean."""
DESCRIBE_TOP = 3


def _cluster_matrix(
    frame: pd.DataFrame, id_col: str
) -> tuple[pd.DataFrame, np.ndarray, list[str], list[str], list[str]]:
    """Numeric features, the scaled matrix, the feature names, flags and log-scaled names."""
    features = [column for column in frame.columns if column != id_col]
    problems = []
    if not features:
        problems.append(Problem("features", id_col, "has no feature column besides the id"))
    numeric = {}
    for column in features:
        column_values = frame[column]
        if pd.api.types.is_bool_dtype(column_values):
            column_values = column_values.astype("int64")
        if not pd.api.types.is_numeric_dtype(column_values):
            problems.append(
                Problem(column, str(column_values.dtype), "is not a numeric or 0/1 column")
            )
            continue
        if column_values.isna().any():
            problems.append(Problem(column, None, "has missing values"))
            continue
        numeric[column] = column_values.astype("float64")
    if frame[id_col].duplicated().any():
        duplicate = frame[id_col][frame[id_col].duplicated()].iloc[0]
        problems.append(Problem(id_col, duplicate, "appears more than once"))
    if problems:
        raise Invalid(problems)
    values = pd.DataFrame(numeric, index=frame.index)
    flags = [c for c in features if set(np.unique(values[c])) <= {0.0, 1.0}]
    logged = [c for c in features if c not in flags and (values[c] >= 0).all()]
    transformed = values.copy()
    transformed[logged] = np.log1p(transformed[logged])
    matrix = StandardScaler().fit_transform(transformed.to_numpy())
    return values, matrix, features, flags, logged


def _describe(
    cluster_means: pd.Series,
    overall_mean: pd.Series,
    overall_std: pd.Series,
    flags: Sequence[str],
) -> str:
    """The features that set a cluster apart most (largest |z| of its mean), in words."""
    z = ((cluster_means - overall_mean) / overall_std.replace(0, np.nan)).dropna()
    top = z[z.abs() >= DESCRIBE_Z].abs().sort_values(ascending=False, kind="stable")
    parts = []
    for name in top.index[:DESCRIBE_TOP]:
        label = name.replace("_", " ")
        if name in flags:
            parts.append(f"{label}: {cluster_means[name]:.0%} vs {overall_mean[name]:.0%} overall")
            continue
        level = "high" if z[name] > 0 else "low"
        if overall_mean[name] > 0 and cluster_means[name] >= 0:
            ratio = cluster_means[name] / overall_mean[name]
            parts.append(f"{level} {label} ({ratio:.1f}× average)")
        else:
            parts.append(f"{level} {label} ({z[name]:+.1f} SD)")
    return ", ".join(parts) if parts else "close to average on every feature"


def cluster_customers(
    features: Any,
    *,
    id_col: str = "customer_id",
    k_range: Iterable[int] = range(2, 9),
    random_state: int = 0,
) -> ClusterResult:
    """Group customers by k-means and say in words what sets each group apart.

    Every column besides ``id_col`` is a feature: numbers or 0/1 flags (booleans count as
    flags). Non-negative non-flag columns are ``log1p``-ed (spend and counts are skewed), then
    every column is standardised. k is the one with the highest mean silhouette (Euclidean,
    on at most 2,000 customers drawn with ``random_state``); equal silhouettes keep the smaller
    k. Clusters are numbered by size, largest first.

    >>> rng = np.random.default_rng(0)
    >>> spend = np.r_[rng.normal(20, 2, 50), rng.normal(200, 20, 50)]
    >>> frame = pd.DataFrame({"customer_id": range(100), "spend": spend})
    >>> result = cluster_customers(frame, k_range=range(2, 4))
    >>> result.k, sorted(result.descriptions.values())
    (2, ['high spend (1.8× average)', 'low spend (0.2× average)'])
    """
    frame = as_frame(features, "features")
    if id_col not in frame.columns:
        raise Invalid(Problem(id_col, None, "is not a column of the table"))
    ks = sorted(set(k_range))
    values, matrix, names, flags, logged = _cluster_matrix(frame, id_col)
    n = len(frame)
    bad_ks = [k for k in ks if not 2 <= k < n]
    if not ks or bad_ks:
        raise Invalid(
            Problem("k_range", bad_ks or ks, f"must hold whole numbers from 2 to {n - 1} (n - 1)")
        )
    sample = min(n, SILHOUETTE_SAMPLE)
    fits: dict[int, np.ndarray] = {}
    scores: dict[int, float] = {}
    for k in ks:
        labels = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(matrix)
        fits[k] = labels
        distinct = len(np.unique(labels))
        scores[k] = (
            float(silhouette_score(matrix, labels, sample_size=sample, random_state=random_state))
            if distinct > 1
            else float("nan")
        )
    valid = {k: s for k, s in scores.items() if not math.isnan(s)}
    if not valid:
        raise Invalid(Problem("features", n, "do not vary enough to form two clusters"))
    best = max(valid, key=lambda k: (valid[k], -k))
    raw_labels = fits[best]
    sizes = pd.Series(raw_labels).value_counts()
    order = sorted(sizes.index, key=lambda label: (-sizes[label], label))
    relabel = {old: new for new, old in enumerate(order)}
    labels = np.array([relabel[label] for label in raw_labels], dtype=np.int64)

    overall_mean, overall_std = values.mean(), values.std(ddof=0)
    means = values.groupby(labels).mean()
    profiles = pd.DataFrame(
        {
            "cluster": means.index.to_numpy(dtype=np.int64),
            "n": np.bincount(labels),
            "share": np.bincount(labels) / n,
            "description": [
                _describe(means.loc[c], overall_mean, overall_std, flags) for c in means.index
            ],
        }
    )
    profiles = pd.concat([profiles, means.reset_index(drop=True)], axis=1)
    caveats = [
        "k-means finds round groups of similar size on the scaled features; it always returns "
        "k groups, even where the data has no clear groups (see the silhouette)",
        "descriptions compare cluster means with the overall mean; a flag reads as the share "
        "of customers with it",
    ]
    if valid[best] < 0.25:
        caveats.append(f"the best silhouette is {valid[best]:.2f}: the clusters overlap a lot")
    return ClusterResult(
        assignments=pd.DataFrame({id_col: frame[id_col].to_numpy(), "cluster": labels}),
        profiles=profiles,
        k_scores=pd.DataFrame({"k": list(scores), "silhouette": list(scores.values())}),
        k=best,
        features=tuple(names),
        log_scaled=tuple(logged),
        n=n,
        method=(
            f"k-means (scikit-learn, n_init=10, random_state={random_state}) on {n} customers "
            f"and {len(names)} features (log1p for {len(logged)} skewed non-negative ones, "
            f"then standardised); k={best} of {ks} by the highest silhouette "
            f"({valid[best]:.3f}, on {sample} customers)"
        ),
        caveats=tuple(caveats),
    )
