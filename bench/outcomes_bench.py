"""Outcomes benchmark: the voice × behaviour analysis on DuckDB over Parquet at scale.

Synthetic data, fixed numpy seed, built vectorised (generation timed separately): customers
(segment, signup), feedback (``--feedback`` rows over a year, 30 % with an NPS answer),
feedback_topic (one topic per feedback among 8, a third negative), orders (Poisson per customer)
and subscriptions (a third of customers). Then, timed: ``frames.customer_voice_frame`` with three
topic exposures and one NPS comparison → ``with_customers`` → ``order_outcome`` (90 days) executed
on DuckDB ("frame"), and ``outcomes.outcome_effects`` on orders_after with segment and prior
orders as confounders ("effects", ``--boot`` bootstrap replicates). Peak RSS via psutil.

    .venv/bin/python bench/outcomes_bench.py            # 1,000,000 customers, 5,000,000 feedback
    .venv/bin/python bench/outcomes_bench.py --quick    # 100,000 / 500,000

Results go to ``bench/results/outcomes_latest.json`` (``outcomes_quick_latest.json`` for --quick).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from cxloop import engines
from cxloop.insights.frames import Exposure, customer_voice_frame, order_outcome, with_customers
from cxloop.insights.outcomes import outcome_effects

RESULTS = Path(__file__).resolve().parent / "results"
START = np.datetime64("2025-11-01T00:00:00", "us")
TOPICS = (
    "delivery/speed",
    "service/responsiveness",
    "price/level",
    "quality/product",
    "packaging",
    "returns",
    "payment/charges",
    "app/usability",
)


def _write(folder: Path, customers: int, feedback: int, seed: int) -> None:
    """The synthetic store as Parquet files, all columns built with numpy."""
    rng = np.random.default_rng(seed)
    seg = rng.choice(np.array(["vip", "regular", "new"]), customers, p=[0.12, 0.6, 0.28])
    ids = np.char.add("C", np.arange(customers).astype("U8"))
    signup = START - (rng.integers(30, 2000, customers) * 86_400_000_000).astype("timedelta64[us]")
    pd.DataFrame({"customer_id": ids, "segment": seg, "signed_up_at": signup}).to_parquet(
        folder / "customers.parquet"
    )
    who = rng.integers(0, customers, feedback)
    created = START + (rng.random(feedback) * 365 * 86_400e6).astype("timedelta64[us]")
    nps = np.where(rng.random(feedback) < 0.3, rng.integers(0, 11, feedback), -1)
    fid = np.char.add("F", np.arange(feedback).astype("U9"))
    pd.DataFrame(
        {
            "feedback_id": fid,
            "customer_id": ids[who],
            "created_at": created,
            "nps": pd.array(np.where(nps < 0, None, nps), dtype="Int64"),
        }
    ).to_parquet(folder / "feedback.parquet")
    topic = np.array(TOPICS)[rng.integers(0, len(TOPICS), feedback)]
    pd.DataFrame(
        {
            "feedback_id": fid,
            "topic": topic,
            "topic_l1": np.char.partition(topic, "/")[:, 0],
            "sentiment": np.where(rng.random(feedback) < 0.33, "negative", "positive"),
        }
    ).to_parquet(folder / "feedback_topic.parquet")
    rate = np.select([seg == "vip", seg == "regular"], [12.0, 5.0], 3.0)
    per = rng.poisson(rate)
    buyer = np.repeat(np.arange(customers), per)
    ordered = START + (rng.random(len(buyer)) * 365 * 86_400e6).astype("timedelta64[us]")
    pd.DataFrame(
        {
            "customer_id": ids[buyer],
            "ordered_at": ordered,
            "amount": rng.gamma(2.0, 100.0, len(buyer)),
            "status": "completed",
        }
    ).to_parquet(folder / "orders.parquet")


def _run(customers: int, feedback: int, boot: int, seed: int) -> dict[str, object]:
    process = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        _write(folder, customers, feedback, seed)
        generated = time.perf_counter() - began
        backend = engines.duckdb_backend(folder)
        until = dt.datetime(2026, 11, 1)
        exposures = [
            Exposure("support_slow", topic="service/responsiveness", sentiment="negative"),
            Exposure("delivery_slow", topic="delivery/speed", sentiment="negative"),
            Exposure("price", topic="price"),
            Exposure("detractor", nps_group="detractor", versus="promoter"),
        ]
        began = time.perf_counter()
        frame = customer_voice_frame(
            backend.table("feedback"),
            exposures=exposures,
            feedback_topic=backend.table("feedback_topic"),
            end=until,
        )
        frame = with_customers(frame, backend.table("customers"))
        rows = order_outcome(frame, backend.table("orders"), observed_until=until).execute()
        framed = time.perf_counter() - began
        began = time.perf_counter()
        result = outcome_effects(
            rows,
            outcome="orders_after",
            kind="count",
            confounders=["segment", "orders_before"],
            n_boot=boot,
        )
        estimated = time.perf_counter() - began
        backend.disconnect()
    return {
        "customers": customers,
        "feedback": feedback,
        "frame_rows": len(rows),
        "bootstrap": boot,
        "generate_seconds": round(generated, 2),
        "frame_seconds": round(framed, 2),
        "effects_seconds": round(estimated, 2),
        "peak_rss_mb": round(process.memory_info().rss / 2**20, 1),
        "max_abs_estimate": float(result.table["estimate"].abs().max()),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--customers", type=int)
    parser.add_argument("--feedback", type=int)
    parser.add_argument("--boot", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261123)
    args, _ = parser.parse_known_args(argv)
    customers = args.customers or (100_000 if args.quick else 1_000_000)
    feedback = args.feedback or 5 * customers
    report = _run(customers, feedback, args.boot, args.seed)
    width = max(len(k) for k in report)
    for key, value in report.items():
        sys.stdout.write(f"{key:<{width}}  {value}\n")
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "outcomes_quick_latest.json" if args.quick else "outcomes_latest.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
