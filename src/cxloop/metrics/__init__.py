"""Measure: CX metrics with intervals, as pure functions over Ibis tables (``scores``)."""

from cxloop.metrics.scores import ces, csat, nps, response_count

__all__ = ["ces", "csat", "nps", "response_count"]
