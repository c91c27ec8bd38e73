"""Custom experience indices: YAML validation, the weighted sum, and the interval's coverage."""

from __future__ import annotations

import doctest

import ibis
import numpy as np
import pandas as pd
import pytest

from cxloop.errors import Invalid
from cxloop.metrics import indices
from cxloop.metrics.indices import experience_index, parse_indices

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")

Z95 = 1.959963984540054
SCHEMA = {"group": "string", "nps": "int64", "csat": "int64", "ces": "int64"}
CX = indices.default_indices()["cx_index"]


def test_the_shipped_example_is_half_nps_three_tenths_csat_one_fifth_ces() -> None:
    assert [(c.metric, c.weight, c.bounds) for c in CX.components] == [
        ("nps", 0.5, (-100, 100)),
        ("csat", 0.3, (0, 1)),
        ("ces", 0.2, (1, 7)),
    ]
    assert CX.label == "CX index"


def test_every_problem_in_a_file_is_named_by_path_value_and_reason() -> None:
    text = """
indices:
  loyalty:
    label: Loyalty
    components:
      - {metric: nps, weight: -1}
      - {metric: churn, weight: 0.5}
      - {metric: ces, weight: 0.2, normalise: [7, 1]}
"""
    with pytest.raises(Invalid) as caught:
        parse_indices(text)
    found = {(p.field, str(p.value)) for p in caught.value.problems}
    assert ("indices.loyalty.components.0.weight", "-1") in found
    assert ("indices.loyalty.components.1.metric", "churn") in found
    assert any(p.field == "indices.loyalty.components.2" for p in caught.value.problems)
    assert all(p.reason for p in caught.value.problems)
    assert len(caught.value.problems) == 3


def test_a_metric_named_twice_a_bad_name_or_broken_yaml_is_invalid() -> None:
    twice = (
        "indices:\n  a:\n    label: A\n"
        "    components: [{metric: nps, weight: 1}, {metric: nps, weight: 1}]"
    )
    with pytest.raises(Invalid, match="metric named twice: nps"):
        parse_indices(twice)
    with pytest.raises(Invalid, match="lower-case identifiers: CX-1"):
        parse_indices("indices:\n  CX-1:\n    label: A\n    components: [{metric: nps, weight: 1}]")
    with pytest.raises(Invalid) as caught:
        parse_indices("indices: [unclosed", source="my.yaml")
    [problem] = caught.value.problems
    assert problem.field == "my.yaml" and "not valid YAML" in problem.reason


def test_the_index_is_the_weighted_sum_of_normalised_scores_times_100() -> None:
    table = ibis.memtable(
        {"group": ["a"] * 4, "nps": [10, 9, 7, 3], "csat": [5, 4, 4, 2], "ces": [7, 6, 4, 1]},
        schema=SCHEMA,
    )
    row = experience_index(table, CX, by="group", min_n=2).iloc[0]
    nps, csat, ces = 25.0, 0.75, 4.5  # 2 promoters, 1 detractor of 4; 3 of 4 in 4–5; mean CES
    expected = 100 * (0.5 * (nps + 100) / 200 + 0.3 * csat + 0.2 * (ces - 1) / 6)
    assert row["score"] == pytest.approx(expected, rel=1e-12)
    assert (row["n"], row["n_nps"], row["nps_score"]) == (4, 4, pytest.approx(62.5))
    # delta method by hand: the covariance matrix of the three per-response values, over n
    values = np.array([[1, 1, 0, -1], [1, 1, 1, 0], [7, 6, 4, 1]], dtype=float)
    gradient = np.array([0.5 * 100 / 200, 0.3, 0.2 / 6]) * 100
    half = Z95 * np.sqrt(gradient @ np.cov(values) @ gradient / 4)
    assert expected + half > 100 and row["ci_high"] == 100.0  # clipped to the 0…100 scale
    assert row["ci_low"] == pytest.approx(expected - half, rel=1e-12)


def test_weights_are_relative_and_a_slice_missing_a_component_has_no_index() -> None:
    doubled = parse_indices(
        "indices:\n  x:\n    label: X\n    components:\n"
        "      - {metric: nps, weight: 1.0}\n      - {metric: csat, weight: 0.6}\n"
        "      - {metric: ces, weight: 0.4}\n"
    )["x"]
    table = ibis.memtable(
        {
            "group": ["a", "a", "a", "b", "b"],
            "nps": [10, 0, 8, 9, 9],
            "csat": [5, 3, 4, 4, 5],
            "ces": [7, 2, 5, None, None],
        },
        schema=SCHEMA,
    )
    same = experience_index(table, CX, by="group", min_n=2)
    other = experience_index(table, doubled, by="group", min_n=2)
    assert np.allclose(same["score"].iloc[:1], other["score"].iloc[:1])
    b = same.iloc[1]
    assert (b["group"], b["n_ces"]) == ("b", 0)
    assert np.isnan(b["score"]) and np.isnan(b["ci_low"]) and bool(b["small_n"])


def test_non_integer_components_are_invalid() -> None:
    table = ibis.memtable({"nps": ["9"], "csat": [4]}, schema={"nps": "string", "csat": "int64"})
    with pytest.raises(Invalid) as caught:
        experience_index(table, CX)
    assert [(p.field, p.value) for p in caught.value.problems] == [
        ("nps", "string"),
        ("ces", None),
    ]


def _population(rng: np.random.Generator, size: int) -> pd.DataFrame:
    """Respondents whose three answers share one latent satisfaction (correlation ~0.6) and
    who skip each question at their own rate, so components overlap only partly."""
    latent = rng.normal(size=size)

    def answer(centre: float, spread: float, low: int, high: int, answered: float) -> np.ndarray:
        values = np.clip(np.rint(centre + spread * (latent + rng.normal(size=size))), low, high)
        return np.where(rng.random(size) < answered, values, np.nan)

    return pd.DataFrame(
        {
            "nps": answer(7.0, 1.8, 0, 10, 0.9),
            "csat": answer(3.7, 0.8, 1, 5, 0.75),
            "ces": answer(4.8, 1.0, 1, 7, 0.6),
        }
    )


def _true_index(frame: pd.DataFrame) -> float:
    nps = frame.nps.dropna()
    nps_score = 100 * ((nps >= 9).mean() - (nps <= 6).mean())
    csat = (frame.csat.dropna() >= 4).mean()
    ces = frame.ces.dropna().mean()
    return float(100 * (0.5 * (nps_score + 100) / 200 + 0.3 * csat + 0.2 * (ces - 1) / 6))


def test_the_interval_covers_the_population_index_95_percent_of_2000_draws() -> None:
    """Samples of 300 from a fixed population of 100,000; every draw is one slice of one
    query (0.953 measured). The same draws with an independence interval cover clearly less
    (0.900: the reason the covariances are estimated)."""
    rng = np.random.default_rng(20261123)
    population = _population(rng, 100_000)
    truth = _true_index(population)
    draws, size = 2000, 300
    picks = rng.integers(0, len(population), size=(draws, size)).ravel()
    sample = population.iloc[picks].reset_index(drop=True)
    sample.insert(0, "draw", np.repeat(np.arange(draws), size))
    table = ibis.memtable(
        sample.astype({"nps": "Int64", "csat": "Int64", "ces": "Int64"}),
        schema={"draw": "int64", "nps": "int64", "csat": "int64", "ces": "int64"},
    )
    result = experience_index(table, CX, by="draw", min_n=30)
    assert len(result) == draws and not result.small_n.any()
    covered = ((result.ci_low <= truth) & (truth <= result.ci_high)).mean()
    assert 0.94 <= covered <= 0.96, covered
    # the independence interval from the same draws, computed here with pandas
    values = pd.DataFrame(
        {
            "draw": sample.draw,
            "nps": (sample.nps >= 9).astype(float) - (sample.nps <= 6).astype(float),
            "csat": (sample.csat >= 4).astype(float),
            "ces": sample.ces,
        }
    )
    values.loc[sample.nps.isna(), "nps"] = np.nan
    values.loc[sample.csat.isna(), "csat"] = np.nan
    grouped = values.groupby("draw")
    gradient = {"nps": 0.5 * 100 * 100 / 200, "csat": 0.3 * 100, "ces": 0.2 * 100 / 6}
    variance = sum(g**2 * grouped[m].var() / grouped[m].count() for m, g in gradient.items())
    half = Z95 * np.sqrt(variance.to_numpy())
    naive = ((result.score - half <= truth) & (truth <= result.score + half)).mean()
    assert naive < 0.93, naive


def test_docstring_examples_run() -> None:
    failed, attempted = doctest.testmod(indices, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0 and failed == 0
