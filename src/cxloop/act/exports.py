"""How list members leave cxloop: CSV and Excel files, and a JSON POST to a webhook
(sent by ``notify.webhooks``, the one sender).

Only ids and non-personal facts leave (``EXPORT_COLUMNS``); list-valued columns (the feedback
ids and topics that qualified a member) are joined with ``;`` in CSV and Excel, and a text a
spreadsheet would run as a formula (a segment named ``=cmd|…``) starts with ``'``
(``csv_cells.safe_cell``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pandas as pd

from cxloop.csv_cells import safe_cell
from cxloop.notify import webhooks

EXPORT_COLUMNS = (
    "customer_id",
    "segment",
    "region",
    "value",
    "churn_risk",
    "last_nps",
    "churn_model",
    "churn_model_auc",
    "feedback_ids",
    "topics",
)
"""What an export or a push carries: ids and non-personal facts, never names or contacts;
``feedback_ids`` and ``topics`` are what qualified the member (topic conditions), and
``churn_model``/``churn_model_auc`` the model their churn risk comes from."""
LIST_COLUMNS = ("feedback_ids", "topics")
WEBHOOK_TIMEOUT_S = 10.0
WEBHOOK_RETRIES = 2
WEBHOOK_BACKOFF_S = 0.25
"""A scheduled refresh pushes again next time: a short backoff, not a long wait."""


def flat(frame: pd.DataFrame) -> pd.DataFrame:
    """List columns joined with ``;`` and text made safe from formula injection (for CSV and
    Excel cells)."""
    out = frame.copy()
    for column in LIST_COLUMNS:
        if column in out:
            out[column] = [";".join(map(str, v)) if isinstance(v, list) else v for v in out[column]]
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = [safe_cell(v) for v in out[column]]
    return out


def to_csv(frame: pd.DataFrame) -> str:
    out = io.StringIO()
    flat(frame).to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL)
    return out.getvalue()


def write_xlsx(
    frame: pd.DataFrame, path: Path, *, sheet: str, about: list[tuple[str, str]]
) -> None:
    """Members on one sheet (named after the list, 31 characters at most), ``about`` on
    another."""
    with pd.ExcelWriter(path) as writer:
        flat(frame).to_excel(writer, index=False, sheet_name=sheet[:31])
        about_rows = [(field, safe_cell(value)) for field, value in about]
        pd.DataFrame(about_rows, columns=["field", "value"]).to_excel(
            writer, index=False, sheet_name="about"
        )


def push(
    url: str,
    name: str,
    as_of: dt.datetime,
    records: list[dict[str, Any]],
    churn_models: list[dict[str, Any]],
) -> None:
    """POST the members as JSON, with the churn models their risks rest on, through the one
    webhook sender (``notify.webhooks``: retried on 5xx, 429 and connection errors, never
    redirected); a failure is an :class:`Invalid` naming the URL with its secrets hidden. Only
    ids and non-personal facts are sent (``EXPORT_COLUMNS``)."""
    payload = {
        "list": name,
        "as_of": as_of.isoformat(),
        "count": len(records),
        "churn_models": churn_models,
        "members": records,
    }
    webhooks.post(
        url, payload, timeout=WEBHOOK_TIMEOUT_S, retries=WEBHOOK_RETRIES, backoff=WEBHOOK_BACKOFF_S
    ).raise_for_failure("webhook_url")


def redact_url(url: str) -> str:
    """Scheme and host only: webhook paths and queries often carry a secret token."""
    return webhooks.redact_url(url)
