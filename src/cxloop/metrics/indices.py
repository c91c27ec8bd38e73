"""Custom experience indices: a weighted sum of normalised NPS, CSAT and CES, defined in YAML.

::

    indices:
      cx_index:
        label: CX index
        components:
          - {metric: nps, weight: 0.5, normalise: [-100, 100]}
          - {metric: csat, weight: 0.3}            # share 0..1 already
          - {metric: ces, weight: 0.2, normalise: [1, 7]}

Per slice, each component's score is mapped to 0…1 by its ``normalise`` range (default: the
metric's own scale), the weights are divided by their sum, and the index is the weighted sum
shown ×100 (0…100). The interval is the delta method **with the covariances between the
components**, not assuming them independent: the components are usually answered in the same
response, and their positive correlation would make an independence interval too narrow (0.900
coverage instead of 0.953 in ``tests/metrics/test_indices.py``). The index is linear in the
component means, so the delta method needs only their covariance matrix, which the engine gets
as integer sums over the responses answering both questions (the same counts-only route as
``scores``, identical on every engine); a bootstrap over responses would need every row on the
client and random draws per slice. Components use plain Wald variances, so at small n or a
score near the end of its scale the interval is too narrow: ``small_n`` marks the first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import ibis
import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cxloop.errors import Invalid, Problem
from cxloop.metrics import intervals
from cxloop.metrics.scores import _check, _result, count_by, slice_keys

SCALES: dict[str, tuple[float, float]] = {"nps": (-100, 100), "csat": (0, 1), "ces": (1, 7)}
"""Each component metric's own scale, the default ``normalise`` range."""
FACTOR = {"nps": 100.0, "csat": 1.0, "ces": 1.0}
"""Score = FACTOR × the mean of the per-response value ``_values`` gives."""

DEFAULT_YAML = """\
indices:
  cx_index:
    label: CX index
    components:
      - {metric: nps, weight: 0.5, normalise: [-100, 100]}
      - {metric: csat, weight: 0.3}
      - {metric: ces, weight: 0.2, normalise: [1, 7]}
"""
"""The shipped example, used when no indices file is named."""


class Component(BaseModel):
    """One metric of an index, its weight and the range that maps its score to 0…1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Literal["nps", "csat", "ces"]
    weight: float = Field(gt=0, allow_inf_nan=False)
    normalise: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _range_rises(self) -> Component:
        low, high = self.bounds
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"normalise range must be finite and rising, got [{low}, {high}]")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """The normalise range, or the metric's own scale."""
        return self.normalise or SCALES[self.metric]


class IndexDefinition(BaseModel):
    """An index: a label and at least one component, each metric at most once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1)
    components: list[Component] = Field(min_length=1)

    @model_validator(mode="after")
    def _each_metric_once(self) -> IndexDefinition:
        metrics = [c.metric for c in self.components]
        repeated = sorted({m for m in metrics if metrics.count(m) > 1})
        if repeated:
            raise ValueError(f"metric named twice: {', '.join(repeated)}")
        return self


class IndexFile(BaseModel):
    """The YAML file: ``indices`` by name (lower case, digits, underscores)."""

    model_config = ConfigDict(extra="forbid")

    indices: dict[str, IndexDefinition] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_are_identifiers(self) -> IndexFile:
        bad = [n for n in self.indices if not n.isidentifier() or n != n.lower()]
        if bad:
            raise ValueError(f"index names must be lower-case identifiers: {', '.join(bad)}")
        return self


def parse_indices(text: str, *, source: str = "indices") -> dict[str, IndexDefinition]:
    """Index definitions from YAML text, or ``Invalid`` naming every problem by its path
    (``indices.cx_index.components.0.weight``), value and reason.

    >>> sorted(parse_indices(DEFAULT_YAML))
    ['cx_index']
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise Invalid(f"is not valid YAML: {error}", source, None) from None
    try:
        return IndexFile.model_validate(data).indices
    except ValidationError as error:
        raise Invalid(
            [
                Problem(".".join(str(p) for p in e["loc"]) or source, e.get("input"), e["msg"])
                for e in error.errors()
            ]
        ) from None


def load_indices(path: str | Path) -> dict[str, IndexDefinition]:
    """Index definitions from a YAML file (``parse_indices``)."""
    file = Path(path)
    if not file.is_file():
        raise Invalid("is not a file", "file", str(file))
    return parse_indices(file.read_text(encoding="utf-8"), source=str(file))


def default_indices() -> dict[str, IndexDefinition]:
    """The shipped example (``DEFAULT_YAML``): cx_index = 0.5 NPS + 0.3 CSAT + 0.2 CES."""
    return parse_indices(DEFAULT_YAML)


def _values(table: ibis.Table, metric: str) -> Any:
    """The per-response value whose mean (× ``FACTOR``) is the metric's score."""
    if metric == "nps":
        return (table.nps >= 9).ifelse(1, 0) - (table.nps <= 6).ifelse(1, 0)
    if metric == "csat":
        return (table.csat >= 4).ifelse(1, 0)
    return table.ces


def _aggregates(table: ibis.Table, metrics: list[str]) -> dict[str, Any]:
    """Integer sums per slice: n, and per component its count, sum and sum of squares; per
    pair the count, sums and cross-product over the responses answering both."""
    answered = {m: table[m].notnull() for m in metrics}
    value = {m: _values(table, m) for m in metrics}
    sums: dict[str, Any] = {"n": table.count()}
    for m in metrics:
        sums[f"n_{m}"] = table[m].count()
        sums[f"sum_{m}"] = value[m].sum()
        sums[f"sq_{m}"] = (value[m] * value[m]).sum()
    for i, a in enumerate(metrics):
        for b in metrics[i + 1 :]:
            both = answered[a] & answered[b]
            sums[f"n_{a}_{b}"] = both.ifelse(1, 0).sum()
            sums[f"sa_{a}_{b}"] = both.ifelse(value[a], 0).sum()
            sums[f"sb_{a}_{b}"] = both.ifelse(value[b], 0).sum()
            sums[f"cross_{a}_{b}"] = both.ifelse(value[a] * value[b], 0).sum()
    return sums


def index_from_sums(
    sums: pd.DataFrame, definition: IndexDefinition, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Index (0…100), its interval (clipped to 0…100) and each component's normalised score
    (×100) from the integer sums of ``_aggregates``; NaN where a component has no answer
    (the interval: where one has fewer than two)."""
    metrics = [c.metric for c in definition.components]
    total_weight = sum(c.weight for c in definition.components)
    coefficient = {}
    parts: dict[str, np.ndarray] = {}
    index = np.zeros(len(sums))
    with np.errstate(divide="ignore", invalid="ignore"):
        for c in definition.components:
            low, high = c.bounds
            n = sums[f"n_{c.metric}"].to_numpy(dtype="float64")
            score = FACTOR[c.metric] * sums[f"sum_{c.metric}"].to_numpy(dtype="float64") / n
            parts[c.metric] = 100 * (score - low) / (high - low)
            coefficient[c.metric] = 100 * c.weight / total_weight * FACTOR[c.metric] / (high - low)
            index = index + c.weight / total_weight * parts[c.metric]
        variance = np.zeros(len(sums))
        for i, a in enumerate(metrics):
            variance = variance + coefficient[a] ** 2 * _mean_variance(sums, a)
            for b in metrics[i + 1 :]:
                covariance = _mean_covariance(sums, a, b)
                variance = variance + 2 * coefficient[a] * coefficient[b] * covariance
        half = intervals._z(confidence) * np.sqrt(np.maximum(variance, 0))
    defined = np.isfinite(variance)
    low_end = np.where(defined, np.clip(index - half, 0, 100), np.nan)
    high_end = np.where(defined, np.clip(index + half, 0, 100), np.nan)
    return index, low_end, high_end, parts


def _mean_variance(sums: pd.DataFrame, metric: str) -> np.ndarray:
    """Variance of a component's mean: the sample variance over n, NaN below n = 2."""
    n, s1, s2 = (sums[f"{k}_{metric}"].to_numpy(dtype="float64") for k in ("n", "sum", "sq"))
    sample = np.maximum(n * s2 - s1**2, 0) / (n * (n - 1))
    return np.where(n > 1, sample / n, np.nan)


def _mean_covariance(sums: pd.DataFrame, a: str, b: str) -> np.ndarray:
    """Covariance of two components' means: m·cov(a, b)/(n_a·n_b) over the m responses
    answering both (0 when fewer than two do: nothing shared to estimate it from)."""
    m, sa, sb, cross = (
        sums[f"{k}_{a}_{b}"].to_numpy(dtype="float64") for k in ("n", "sa", "sb", "cross")
    )
    n_a, n_b = sums[f"n_{a}"].to_numpy(dtype="float64"), sums[f"n_{b}"].to_numpy(dtype="float64")
    sample = (m * cross - sa * sb) / (m * (m - 1))
    return np.where(m > 1, m * sample / (n_a * n_b), 0.0)


def experience_index(
    table: ibis.Table,
    definition: IndexDefinition,
    *,
    by: Sequence[str] | str = (),
    period: str | None = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> pd.DataFrame:
    """Index ``definition`` (0…100) per slice of the responses in ``table``, with its
    delta-method interval (see the module docstring).

    ``n`` is the responses answering at least one component; ``small_n`` is set when any
    component has fewer than ``min_n`` answers. Extra columns: per component, its answers
    (``n_<metric>``) and normalised score ×100 (``<metric>_score``).

    Examples
    --------
    >>> import ibis
    >>> answers = ibis.memtable({"nps": [10, 9, 7, 3], "csat": [5, 4, 4, 2], "ces": [7, 6, 4, 1]},
    ...                         schema={"nps": "int64", "csat": "int64", "ces": "int64"})
    >>> row = experience_index(answers, default_indices()["cx_index"], min_n=2).iloc[0]
    >>> int(row["n"]), round(float(row["score"]), 2)
    (4, 65.42)
    """
    metrics: list[str] = [c.metric for c in definition.components]
    by = _check(table, by, period, confidence, min_n)
    problems = [
        Problem(
            m,
            None if m not in table.columns else str(table.schema()[m]),
            "is not an integer column",
        )
        for m in metrics
        if m not in table.columns or not table.schema()[m].is_integer()
    ]
    if problems:
        raise Invalid(problems)
    answered = table.filter(ibis.or_(*(table[m].notnull() for m in metrics)))
    sums = count_by(answered, slice_keys(answered, by, period), _aggregates(answered, metrics))
    index, low, high, parts = index_from_sums(sums, definition, confidence=confidence)
    counts = np.column_stack([sums[f"n_{m}"].to_numpy() for m in metrics])
    keys = [*by, *(["period"] if period else [])]
    frame = _result(sums, keys, (index, low, high), min_n, _extras(sums, metrics, parts))
    if len(frame):
        frame["small_n"] = np.asarray((counts < min_n).any(axis=1), dtype=bool).tolist()
    return frame


def _extras(
    sums: pd.DataFrame, metrics: list[str], parts: Mapping[str, np.ndarray]
) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for m in metrics:
        extras[f"n_{m}"] = sums[f"n_{m}"].to_numpy(dtype="int64")
        extras[f"{m}_score"] = parts[m]
    return extras
