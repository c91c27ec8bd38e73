"""Insights: what drives experience, what voice does to behaviour, who will churn, what customers are worth."""
