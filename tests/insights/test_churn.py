"""ChurnModel: column handling on any table, targets, reasons, calibration and accuracy against
plain logistic regression on a bank-shaped synthetic table and on the real Telco table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from cxloop.errors import Invalid
from cxloop.insights.churn import ChurnCVResult, ChurnModel

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
TELCO = DATA / "telco_customer_churn.csv"


def bank_like_table(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A table shaped like the public bank churn set, where risk peaks in late middle age and
    jumps for 3–4 products (effects a straight line cannot draw); also the true log-odds."""
    rng = np.random.default_rng(seed)
    age = np.clip(np.round(rng.lognormal(np.log(38), 0.25, n)), 18, 92).astype(int)
    products = rng.choice([1, 2, 3, 4], n, p=[0.5, 0.46, 0.035, 0.005])
    active = rng.integers(0, 2, n)
    geography = rng.choice(["France", "Germany", "Spain"], n, p=[0.5, 0.25, 0.25])
    gender = rng.choice(["Female", "Male"], n, p=[0.45, 0.55])
    balance = np.where(rng.random(n) < 0.36, 0.0, np.round(rng.normal(120_000, 30_000, n), 2))
    syllables = ["ka", "lo", "mi", "ne", "ro", "su", "ta", "vi", "zu", "pe", "do", "ha"]
    names = np.unique(["".join(rng.choice(syllables, 4)).title() for _ in range(n)])
    true_log_odds = (
        -2.2
        + 3.0 * np.exp(-(((age - 55) / 10) ** 2))
        + np.select([products == 1, products == 2, products >= 3], [0.6, -1.2, 3.5], 0)
        - 0.9 * active * (age > 45)
        + 0.8 * (geography == "Germany")
        + 0.4 * (gender == "Female")
    )
    exited = (rng.random(n) < 1 / (1 + np.exp(-true_log_odds))).astype(int)
    table = pd.DataFrame(
        {
            "RowNumber": np.arange(1, n + 1),
            "CustomerId": rng.choice(np.arange(15_500_000, 15_900_000), n, replace=False),
            "Surname": rng.choice(names[: max(n // 3, 2)], n),
            "CreditScore": np.clip(np.round(rng.normal(650, 95, n)), 350, 850).astype(int),
            "Geography": geography,
            "Gender": gender,
            "Age": age,
            "Tenure": rng.integers(0, 11, n),
            "Balance": balance,
            "NumOfProducts": products,
            "HasCrCard": rng.choice([0, 1], n, p=[0.3, 0.7]),
            "IsActiveMember": active,
            "EstimatedSalary": np.round(rng.uniform(10, 200_000, n), 2),
            "Exited": exited,
        }
    )
    return table, true_log_odds


def mixed_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """One column of every kind the model must read, churn driven by ``usage`` and ``plan``."""
    rng = np.random.default_rng(seed)
    usage = rng.gamma(2.0, 10.0, n)
    plan = rng.choice(["basic", "plus", "pro"], n)
    churned = rng.random(n) < np.where(plan == "basic", 0.45, 0.15) * np.where(usage < 10, 1.6, 1)
    charges = [" " if i % 50 == 0 else f"{v:.2f}" for i, v in enumerate(usage * 3)]
    return pd.DataFrame(
        {
            "customer_code": [f"C-{i:05d}" for i in rng.permutation(n)],
            "row": np.arange(n),
            "usage": np.where(rng.random(n) < 0.05, np.nan, usage),
            "plan": np.where(rng.random(n) < 0.05, None, plan),
            "paperless": rng.random(n) < 0.5,
            "has_app": rng.choice(["Yes", "No"], n),
            "charges": charges,
            "signup_date": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "region": "north",
            "churned": churned,
        }
    )


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return bank_like_table(4000, seed=0)[0]


@pytest.fixture(scope="module")
def bank_model(bank: pd.DataFrame) -> ChurnModel:
    return ChurnModel(random_state=0).fit(bank, target="Exited")


@pytest.fixture(scope="module")
def bank_cv(bank: pd.DataFrame) -> ChurnCVResult:
    return ChurnModel(random_state=0).cross_validate(bank, "Exited", folds=3, seeds=(0,))


def test_each_column_kind_is_read_and_unusable_columns_are_dropped_with_a_reason() -> None:
    model = ChurnModel().fit(mixed_table(), target="churned")
    assert model.columns_ == {
        "usage": "numeric",
        "plan": "categorical",
        "paperless": "boolean",
        "has_app": "yes/no",
        "charges": "text-coded numeric",
    }
    assert set(model.dropped_) == {"customer_code", "row", "signup_date", "region"}
    assert model.dropped_["customer_code"].startswith("identifier-like")
    assert "row number" in model.dropped_["row"]
    assert model.dropped_["signup_date"].startswith("date-like")
    assert model.dropped_["region"].startswith("constant")


def test_missing_and_unseen_values_still_get_a_probability() -> None:
    table = mixed_table()
    model = ChurnModel().fit(table, target="churned")
    odd = table.head(3).copy()
    odd["usage"] = np.nan
    odd["plan"] = ["enterprise", None, "basic"]
    odd["charges"] = [" ", "", "12.5"]
    probability = model.predict_proba(odd)
    assert probability.shape == (3,)
    assert np.all((probability > 0) & (probability < 1))


def test_ignore_drops_a_named_column() -> None:
    model = ChurnModel(ignore=("plan",)).fit(mixed_table(), target="churned")
    assert "plan" not in model.columns_
    assert model.dropped_["plan"] == "ignored on request"


@pytest.mark.parametrize(
    ("churned", "stayed"),
    [(True, False), (1, 0), ("Yes", "No"), ("true", "false"), ("churned", "active")],
)
def test_every_two_valued_target_spelling_gives_the_same_model(churned: object, stayed: object):
    table = mixed_table(300)
    reference = ChurnModel().fit(table, target="churned").predict_proba(table)
    spelled = table.assign(churned=np.where(table["churned"], churned, stayed).tolist())
    model = ChurnModel().fit(spelled, target="churned")
    assert model.base_rate_ == pytest.approx(table["churned"].mean())
    np.testing.assert_allclose(model.predict_proba(table), reference)


def test_a_target_with_three_values_is_refused_naming_column_values_and_reason() -> None:
    table = mixed_table(300).assign(status=["active", "churned", "paused"] * 100)
    with pytest.raises(Invalid) as error:
        ChurnModel().fit(table.drop(columns="churned"), target="status")
    problem = error.value.problems[0]
    assert problem.field == "status"
    assert problem.value == ["active", "churned", "paused"]
    assert "3 distinct values" in problem.reason


def test_a_target_whose_churn_value_cannot_be_told_asks_for_positive() -> None:
    table = mixed_table(300)
    table["churned"] = np.where(table["churned"], "red", "blue")
    with pytest.raises(Invalid) as error:
        ChurnModel().fit(table, target="churned")
    assert "positive=" in error.value.problems[0].reason
    model = ChurnModel().fit(table, target="churned", positive="red")
    assert model.positive_label_ == "red"


def test_a_target_with_missing_values_or_absent_column_is_refused() -> None:
    table = mixed_table(300).astype({"churned": object})
    table.loc[5, "churned"] = None
    with pytest.raises(Invalid, match="missing"):
        ChurnModel().fit(table, target="churned")
    with pytest.raises(Invalid, match="not a column"):
        ChurnModel().fit(table, target="left")


def test_predicting_a_table_without_a_trained_column_is_refused() -> None:
    table = mixed_table(300)
    model = ChurnModel().fit(table, target="churned")
    with pytest.raises(Invalid, match="usage"):
        model.predict_proba(table.drop(columns="usage"))


def test_probabilities_are_one_per_row_between_zero_and_one(
    bank: pd.DataFrame, bank_model: ChurnModel
) -> None:
    probability = bank_model.predict_proba(bank)
    assert probability.shape == (len(bank),)
    assert np.all((probability > 0) & (probability < 1))
    assert probability.mean() == pytest.approx(bank["Exited"].mean(), abs=0.02)


def test_same_seed_same_model_and_version(bank: pd.DataFrame, bank_model: ChurnModel) -> None:
    again = ChurnModel(random_state=0).fit(bank, target="Exited")
    np.testing.assert_array_equal(again.predict_proba(bank), bank_model.predict_proba(bank))
    assert again.model_version_ == bank_model.model_version_
    assert ChurnModel(random_state=1).fit(bank, "Exited").model_version_ != again.model_version_


def test_identifier_columns_of_the_bank_shape_are_dropped(bank_model: ChurnModel) -> None:
    assert set(bank_model.dropped_) == {"RowNumber", "CustomerId", "Surname"}
    assert "Age" in bank_model.columns_ and "Geography" in bank_model.columns_


def test_top_reason_of_a_typical_customer_with_four_products_is_products(
    bank: pd.DataFrame, bank_model: ChurnModel
) -> None:
    typical = {c: bank[c].median() for c in bank_model.columns_ if c not in {"Geography", "Gender"}}
    typical |= {c: bank[c].mode()[0] for c in ("Geography", "Gender")}
    row = pd.DataFrame([typical | {"NumOfProducts": 4}], index=["unusual"])
    reasons = bank_model.reasons(pd.concat([pd.DataFrame([typical], index=["plain"]), row]))
    assert reasons[reasons["row"] == "plain"].empty
    top = reasons[(reasons["row"] == "unusual") & (reasons["rank"] == 1)].iloc[0]
    assert top["feature"] == "NumOfProducts"
    assert top["value"] == 4
    assert top["contribution"] > 1


def test_importances_sum_to_one_and_rank_the_non_linear_drivers_first(
    bank_model: ChurnModel,
) -> None:
    importances = bank_model.feature_importances_
    assert importances.sum() == pytest.approx(1)
    assert set(importances.nlargest(2).index) == {"Age", "NumOfProducts"}


def test_non_linear_bank_shape_beats_plain_logistic_regression(
    bank: pd.DataFrame, bank_cv: ChurnCVResult
) -> None:
    """Measured: ROC-AUC 0.794 against 0.662 for plain logistic regression; the true log-odds
    themselves reach 0.808, so the model is near the ceiling."""
    _, true_log_odds = bank_like_table(4000, seed=0)
    ceiling = roc_auc_score(bank["Exited"], true_log_odds)
    auc = bank_cv.estimate("roc_auc")
    assert auc >= 0.78
    assert auc >= ceiling - 0.03
    assert auc >= bank_cv.estimate("roc_auc", model="plain_logistic") + 0.10
    assert bank_cv.n == 4000 and bank_cv.base_rate == pytest.approx(bank["Exited"].mean())


def test_cross_validated_probabilities_are_calibrated(bank_cv: ChurnCVResult) -> None:
    assert 0.8 <= bank_cv.estimate("calibration_slope") <= 1.2
    assert abs(bank_cv.estimate("calibration_intercept")) <= 0.15
    assert bank_cv.estimate("brier") < bank_cv.base_rate * (1 - bank_cv.base_rate)
    calibration = bank_cv.calibration
    assert list(calibration.columns) == ["bin", "n", "predicted", "observed", "ci_low", "ci_high"]
    assert calibration["n"].sum() == bank_cv.n
    inside = (calibration["ci_low"] - 0.03 <= calibration["predicted"]) & (
        calibration["predicted"] <= calibration["ci_high"] + 0.03
    )
    assert inside.all()
    assert "Nadeau" in bank_cv.caveats and "3-fold" in bank_cv.method


def read_telco() -> pd.DataFrame:
    if not TELCO.exists():
        pytest.skip(f"Telco churn data not found at {TELCO} (the shared data folder)")
    return pd.read_csv(TELCO)


def test_telco_columns_are_read_as_published() -> None:
    model = ChurnModel().fit(read_telco(), target="Churn")
    assert model.positive_label_ == "Yes"
    assert model.columns_["TotalCharges"] == "text-coded numeric"
    assert model.columns_["SeniorCitizen"] == "numeric"
    assert model.columns_["Partner"] == "yes/no"
    assert model.columns_["Contract"] == "categorical"
    assert list(model.dropped_) == ["customerID"]


@pytest.mark.slow
def test_telco_cross_validated_auc_beats_plain_logistic_regression() -> None:
    """Measured: ROC-AUC 0.8507 (plain logistic regression 0.8450), 5 folds × seeds 0, 1, 2."""
    result = ChurnModel().cross_validate(read_telco(), "Churn", folds=5, seeds=(0, 1, 2))
    assert result.estimate("roc_auc") >= 0.850
    assert result.estimate("roc_auc") > result.estimate("roc_auc", model="plain_logistic")
    assert result.base_rate == pytest.approx(1869 / 7043)
