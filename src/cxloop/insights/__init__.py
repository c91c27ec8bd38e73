"""Insights: what drives experience, what voice does to behaviour, who will churn, what
customers are worth.

The analyses are re-exported lazily (``cxloop.insights.fit_clv``, ``cxloop.insights.ChurnModel``
…) so that importing the package for its tables does not load scikit-learn or scipy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "ChurnModel": "cxloop.insights.churn",
    "fit_clv": "cxloop.insights.clv",
    "ClvResult": "cxloop.insights.clv",
    "key_drivers": "cxloop.insights.drivers",
    "ab_test": "cxloop.insights.abtest",
    "association_rules": "cxloop.insights.rules",
    "outcome_effects": "cxloop.insights.outcomes",
    "churner_topics": "cxloop.insights.outcomes",
    "rfm": "cxloop.insights.segments",
    "cluster_customers": "cxloop.insights.segments",
    "lifecycle": "cxloop.insights.journeys",
    "top_paths": "cxloop.insights.journeys",
    "cohort_retention": "cxloop.insights.journeys",
    "funnel": "cxloop.insights.funnels",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cxloop.insights' has no attribute {name!r}")
