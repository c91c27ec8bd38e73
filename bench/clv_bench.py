"""CLV benchmark: our BG/NBD + Gamma–Gamma fits against the archived ``lifetimes`` package.

Data: CDNOW from ``<repo>/../shared/data`` (development data, not shipped): the 1/10 sample of
the paper (2,357 customers) and the full master cohort (23,570). Calibration ends 1997-09-30,
weekly units, as in Fader, Hardie & Lee (2005).

Rows, each the best wall time of ``REPEATS`` calls after one untimed call:

* ``cxloop bgnbd`` / ``cxloop gamma_gamma`` — ``cxloop.insights.clv_models.fit_bgnbd`` /
  ``fit_gamma_gamma`` on the calibration summary (the fit *and* its Hessian intervals).
* ``lifetimes bgnbd`` / ``lifetimes gamma_gamma`` — ``BetaGeoFitter().fit`` /
  ``GammaGammaFitter().fit`` on the same summary, when ``import lifetimes`` works (extra
  ``compare``); otherwise a row saying it is not installed. Both packages run on one BLAS
  thread (ours always does; lifetimes under ``threadpool_limits(1)``), so machine load from
  thread contention does not decide the ratio.
* ``cxloop fit_clv`` — the whole analysis from raw transactions: parsing, same-day merge,
  summary, both fits, per-customer predictions over 52 weeks and the holdout check to 1998-06-30.

The ratio is lifetimes seconds / cxloop seconds (above 1: ours is faster). Parameter agreement is
the largest relative difference between the two packages' estimates, and ours against the paper.

    .venv/bin/python bench/clv_bench.py            # best of 5
    .venv/bin/python bench/clv_bench.py --quick    # best of 2

Results go to ``bench/results/clv_<UTC timestamp>.json`` and ``clv_latest.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

NAME = "clv"
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"
REPEATS = 5
QUICK_REPEATS = 2
CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"
PUBLISHED = {
    "r": 0.243,
    "alpha": 4.414,
    "a": 0.793,
    "b": 2.426,
    "p": 6.25,
    "q": 3.74,
    "v": 15.44,
}


def load(name: str) -> Any:
    """A CDNOW file as ``customer, date, dollars`` (dates as YYYYMMDD text)."""
    import pandas as pd

    if name == "sample":
        frame = pd.read_csv(
            DATA / "cdnow_sample.txt",
            sep=r"\s+",
            header=None,
            names=["master_id", "customer", "date", "cds", "dollars"],
            dtype={"master_id": str, "date": str},
        )
        return frame[["customer", "date", "dollars"]]
    frame = pd.read_csv(
        DATA / "cdnow_master.txt.gz", sep=r"\s+", dtype={"customer_id": str, "date": str}
    )
    return frame.rename(columns={"customer_id": "customer", "dollar_value": "dollars"})


def best_of(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Best wall time of ``repeats`` calls after one untimed call."""
    result = call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return min(times), result


def run_dataset(name: str, repeats: int) -> dict[str, Any]:
    """Time every contender on one CDNOW data set and compare their parameters."""
    import pandas as pd
    from threadpoolctl import threadpool_limits

    from cxloop.insights import clv, clv_models

    transactions = load(name)
    days = clv.purchase_days(transactions, "customer", "date", "dollars")
    summary = clv.calibration_summary(days, pd.Timestamp(CALIBRATION_END), clv.PERIOD_DAYS["W"])
    spenders = summary[summary["n_spend"] > 0]
    rfm = (summary["frequency"], summary["recency"], summary["T"])
    rows: list[dict[str, Any]] = []
    params: dict[str, dict[str, float]] = {}

    seconds, fit = best_of(lambda: clv_models.fit_bgnbd(*rfm), repeats)
    rows.append(_row("cxloop", "bgnbd", seconds, len(summary)))
    params["cxloop"] = dict(fit.params)
    seconds, fit = best_of(
        lambda: clv_models.fit_gamma_gamma(spenders["n_spend"], spenders["monetary"]), repeats
    )
    rows.append(_row("cxloop", "gamma_gamma", seconds, len(spenders)))
    params["cxloop"].update(fit.params)

    try:
        import lifetimes
    except ImportError:
        rows.append(
            {"package": "lifetimes", "model": "not installed (pip install -e '.[compare]')"}
        )
    else:
        # Single-threaded like ours: BLAS threads only add contention on 4-parameter fits.
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            seconds, fitter = best_of(lambda: lifetimes.BetaGeoFitter().fit(*rfm), repeats)
            rows.append(_row("lifetimes", "bgnbd", seconds, len(summary)))
            params["lifetimes"] = {k: float(v) for k, v in fitter.params_.items()}
            seconds, fitter = best_of(
                lambda: lifetimes.GammaGammaFitter().fit(spenders["n_spend"], spenders["monetary"]),
                repeats,
            )
            rows.append(_row("lifetimes", "gamma_gamma", seconds, len(spenders)))
            params["lifetimes"].update({k: float(v) for k, v in fitter.params_.items()})
        for model in ("bgnbd", "gamma_gamma"):
            ours = _seconds(rows, "cxloop", model)
            theirs = _seconds(rows, "lifetimes", model)
            rows[[r.get("model") for r in rows].index(model)]["lifetimes_over_this"] = round(
                theirs / ours, 2
            )

    def whole() -> Any:
        return clv.fit_clv(
            transactions,
            customer_col="customer",
            date_col="date",
            amount_col="dollars",
            calibration_end=CALIBRATION_END,
            observation_end=OBSERVATION_END,
        )

    seconds, result = best_of(whole, repeats)
    rows.append(_row("cxloop", "fit_clv (end to end)", seconds, result.n))
    report: dict[str, Any] = {
        "dataset": name,
        "transactions": len(transactions),
        "customers": result.n,
        "repeaters": result.n_repeat,
        "rows": rows,
        "params": params,
        "holdout": {
            "actual_total": result.holdout.actual_total if result.holdout else None,
            "expected_total": result.holdout.expected_total if result.holdout else None,
            "mean_absolute_error": result.holdout.mean_absolute_error if result.holdout else None,
        },
        "caveats": list(result.caveats),
    }
    if "lifetimes" in params:
        report["max_relative_difference_vs_lifetimes"] = {
            k: abs(params["cxloop"][k] / params["lifetimes"][k] - 1) for k in PUBLISHED
        }
    if name == "sample":
        report["relative_error_vs_published"] = {
            k: params["cxloop"][k] / PUBLISHED[k] - 1 for k in PUBLISHED
        }
    return report


def _row(package: str, model: str, seconds: float, n: int) -> dict[str, Any]:
    return {"package": package, "model": model, "n": n, "seconds": round(seconds, 4)}


def _seconds(rows: list[dict[str, Any]], package: str, model: str) -> float:
    return float(next(r["seconds"] for r in rows if (r["package"], r["model"]) == (package, model)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help=f"best of {QUICK_REPEATS}")
    parser.add_argument("--repeats", type=int, default=None)
    args, _ = parser.parse_known_args(argv)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    report: dict[str, Any] = {
        "benchmark": NAME,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "repeats": repeats,
        "quick": args.quick,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    missing = [f for f in ("cdnow_sample.txt", "cdnow_master.txt.gz") if not (DATA / f).exists()]
    if missing:
        report["skipped"] = f"CDNOW data not found in {DATA.resolve()}: {', '.join(missing)}"
        print(report["skipped"])
        return 0
    import numpy as np
    import pandas as pd
    import scipy

    report["versions"] = {
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
    }
    try:
        import lifetimes

        report["versions"]["lifetimes"] = lifetimes.__version__
    except ImportError:
        report["versions"]["lifetimes"] = None
    report["datasets"] = [run_dataset(name, repeats) for name in ("sample", "master")]
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    _print(report)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2) + "\n"
    for path in (RESULTS / f"{NAME}_{stamp}.json", RESULTS / f"{NAME}_latest.json"):
        path.write_text(text, encoding="utf-8")
    return 0


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for data in report["datasets"]:
        table = Table(title=f"CDNOW {data['dataset']}: fit time (best of {report['repeats']})")
        for column in ("package", "model", "n", "seconds", "lifetimes ÷ this"):
            table.add_column(column, justify="right")
        for row in data["rows"]:
            ratio = row.get("lifetimes_over_this")
            table.add_row(
                row["package"],
                row["model"],
                f"{row['n']:,}" if "n" in row else "",
                f"{row['seconds']:.4f}" if "seconds" in row else "",
                "" if ratio is None else f"{ratio:.2f}×",
            )
        console.print(table)
        params = Table(title=f"CDNOW {data['dataset']}: parameters")
        params.add_column("parameter")
        packages = list(data["params"])
        for package in packages:
            params.add_column(package, justify="right")
        params.add_column("published", justify="right")
        for name, published in PUBLISHED.items():
            shown = "" if data["dataset"] != "sample" else f"{published:g}"
            params.add_row(name, *(f"{data['params'][p][name]:.4f}" for p in packages), shown)
        console.print(params)
        holdout = data["holdout"]
        console.print(
            f"holdout to {OBSERVATION_END}: actual {holdout['actual_total']:,.0f} repeat purchases,"
            f" expected {holdout['expected_total']:,.1f}; MAE per customer"
            f" {holdout['mean_absolute_error']:.3f}"
        )
        if "max_relative_difference_vs_lifetimes" in data:
            worst = max(data["max_relative_difference_vs_lifetimes"].values())
            console.print(f"largest relative difference from lifetimes: {worst:.2e}")
    console.print(
        f"load average {report['load_average_before'][0]} → {report['load_average_after'][0]}"
        f" on {report['cpus']} CPUs"
    )


if __name__ == "__main__":
    sys.exit(main())
