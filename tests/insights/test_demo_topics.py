"""The demo is a retailer: its key drivers and stored topics come from the retail default
taxonomy, never from the hotel or food-delivery packs it does not enable."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from cxloop.api import connect
from cxloop.config import Settings
from cxloop.feedback.models import FeedbackTopic
from cxloop.insights import analyses


def test_demo_drivers_list_no_hotel_or_food_topic(demo_store: Settings) -> None:
    result = analyses.drivers(settings=demo_store, n_boot=50)
    table = pd.DataFrame(result.rows, columns=result.columns)
    drivers = set(table["driver"])
    assert "negative quality" in drivers  # the purifier's noise complaints: product noise
    assert not {d for d in drivers if d.split()[-1] in ("stay", "taste")}


def test_demo_noise_complaints_are_stored_as_product_noise(demo_store: Settings) -> None:
    store = connect(settings=demo_store)
    try:
        with store.sessions() as session:
            topics = set(session.scalars(select(FeedbackTopic.topic).distinct()))
    finally:
        store.close()
    assert "quality/noise" in topics
    assert not {t for t in topics if t.split("/")[0] in ("stay", "taste")}
