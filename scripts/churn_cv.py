"""Print the cross-validation table of cxloop's ChurnModel on a CSV (the figures in the churn note).

Reads any customer CSV with a two-valued churn column, for example
``../shared/data/telco_customer_churn.csv`` (the default). Prints the columns used and dropped,
the fitted blend weight and fit time on the whole table, then ROC-AUC, PR-AUC, Brier and the
calibration slope/intercept of ChurnModel and of plain logistic regression over stratified folds
× seeds, and the calibration table. Deterministic: single-threaded, fixed seeds.

    .venv/bin/python scripts/churn_cv.py
    .venv/bin/python scripts/churn_cv.py path/to/bank.csv --target Exited --folds 5 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from cxloop.insights.churn import ChurnModel

DEFAULT_CSV = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "telco_customer_churn.csv"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--target", default="Churn")
    parser.add_argument("--positive", default=None, help="the value meaning churned, if unclear")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()

    table = pd.read_csv(args.csv)
    model = ChurnModel().fit(table, target=args.target, positive=args.positive)
    print(
        f"{args.csv.name}: {len(table)} rows, churned = {model.positive_label_!r}, "
        f"base rate {model.base_rate_:.4f}"
    )
    print("used:", ", ".join(f"{c} ({k})" for c, k in model.columns_.items()))
    for column, reason in model.dropped_.items():
        print(f"dropped {column}: {reason}")
    print(
        f"blend weight of boosted trees {model.blend_weight_} (internal out-of-fold ROC-AUC "
        f"{model.oof_auc_[model.blend_weight_]:.4f}); fit {model.fit_seconds_:.2f} s; "
        f"version {model.model_version_}"
    )

    result = model.cross_validate(
        table, args.target, folds=args.folds, seeds=tuple(args.seeds), positive=args.positive
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(result.table.round(4).to_string(index=False))
        print(result.calibration.round(4).to_string(index=False))
    print(f"mean fit time per fold {result.fit_seconds:.2f} s")
    print("method:", result.method)
    print("caveats:", result.caveats)


if __name__ == "__main__":
    main()
